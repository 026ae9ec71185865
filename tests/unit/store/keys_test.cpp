// keys_test.cpp: record keys and long-handle envelopes (src/store/keys.hpp).
#include "store/keys.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "idra/ids.hpp"

namespace idra::store::keys {
namespace {

std::string hex(std::string_view bytes) {
  static const char digits[] = "0123456789abcdef";
  std::string out;
  for (unsigned char c : bytes) {
    out.push_back(digits[c >> 4]);
    out.push_back(digits[c & 15]);
  }
  return out;
}

int sign(int c) { return (c > 0) - (c < 0); }

TEST(store_keys, LimitsFitDebiansLmdb) {
  static_assert(kLongKeyBytes == 433);
  static_assert(kLongKeyBytes <= 511);  // mdb_env_get_maxkeysize in Debian's build
  static_assert(kInlineHandleBytes < ids::kMaxHandleBytes);
}

TEST(store_keys, ShortHandlesAreTheirOwnKey) {
  for (std::size_t n : {1u, 7u, 399u, 400u}) {
    const std::string handle = "88.100/" + std::string(n > 7 ? n - 7 : 0, 'x');
    const std::string h = handle.substr(0, n);
    EXPECT_EQ(record_key(h), h);
    EXPECT_TRUE(is_short_key(h));
    EXPECT_FALSE(is_long_key(h));
  }
}

TEST(store_keys, LongKeyIsHeadMarkerAndSha256) {
  const std::string handle(401, 'a');
  const std::string key = record_key(handle);
  ASSERT_EQ(key.size(), kLongKeyBytes);
  EXPECT_EQ(key.substr(0, 400), std::string(400, 'a'));
  EXPECT_EQ(key[400], '\0');
  // sha256("a" * 401), computed independently (Python hashlib).
  EXPECT_EQ(hex(key.substr(401)),
            "15284784611353b6efe63673dceed62633e84e51cfcd65b0c0bcff9794d9c09f");
  EXPECT_TRUE(is_long_key(key));
  EXPECT_FALSE(is_short_key(key));

  EXPECT_EQ(record_key(std::string(ids::kMaxHandleBytes, 'z')).size(), kLongKeyBytes);
  EXPECT_NE(record_key(std::string(400, 'a') + "b"), record_key(std::string(400, 'a') + "c"));
  EXPECT_NE(record_key(std::string(401, 'a')), record_key(std::string(402, 'a')));

  std::string not_long = key;
  not_long[400] = 'x';
  EXPECT_FALSE(is_long_key(not_long));
  EXPECT_FALSE(is_long_key(key.substr(0, 432)));
  EXPECT_FALSE(is_short_key(std::string(401, 'a')));  // the keys of an older build
}

// Key order is handle order except between two long handles with the same
// first 400 bytes. Checked over every handle made of 'a'/'b' tails of 0..4
// bytes on heads of 397..401 bytes, which crosses the threshold both ways.
TEST(store_keys, KeyOrderIsHandleOrderAcrossTheThreshold) {
  std::vector<std::string> handles;
  for (std::size_t head : {397u, 398u, 399u, 400u, 401u}) {
    for (int len = 0; len <= 4; ++len) {
      for (int bits = 0; bits < (1 << len); ++bits) {
        std::string h(head, 'm');
        for (int i = 0; i < len; ++i) h.push_back((bits >> i) & 1 ? 'b' : 'a');
        handles.push_back(h);
      }
    }
  }
  handles.push_back(std::string(399, 'm') + "\x01");  // below the marker byte's neighbours
  handles.push_back(std::string(400, 'm') + "\x01");
  int compared = 0;
  for (const std::string& x : handles) {
    for (const std::string& y : handles) {
      const bool same_long_head = x.size() > kInlineHandleBytes && y.size() > kInlineHandleBytes &&
                                  x.compare(0, 400, y, 0, 400) == 0;
      if (same_long_head) continue;
      ASSERT_EQ(sign(record_key(x).compare(record_key(y))), sign(x.compare(y)))
          << x.size() << " vs " << y.size();
      ++compared;
    }
  }
  EXPECT_GT(compared, 10000);
}

TEST(store_keys, EnvelopeRoundTrip) {
  const std::string handle = "88.100/" + std::string(600, 'q');
  const std::string record("\x01\x00\x00\x00\x00", 5);
  const std::string value = wrap_long(handle, record);
  ASSERT_EQ(value.size(), 4 + handle.size() + record.size());
  EXPECT_EQ(value.substr(0, 4), std::string("\x00\x00\x02\x5f", 4));  // 607, big-endian
  auto got = unwrap_long(value);
  ASSERT_TRUE(got.has_value());
  EXPECT_EQ(got->handle, handle);
  EXPECT_EQ(got->record_bytes, record);

  auto empty_record = unwrap_long(wrap_long(handle, ""));
  ASSERT_TRUE(empty_record.has_value());
  EXPECT_EQ(empty_record->record_bytes, "");
  EXPECT_TRUE(unwrap_long(wrap_long(std::string(ids::kMaxHandleBytes, 'm'), record)).has_value());
}

TEST(store_keys, MalformedEnvelopesAreRejected) {
  const std::string handle(500, 'h');
  const std::string value = wrap_long(handle, "rec");
  EXPECT_FALSE(unwrap_long("").has_value());
  EXPECT_FALSE(unwrap_long(std::string("\x00\x00\x01", 3)).has_value());
  EXPECT_FALSE(unwrap_long(value.substr(0, 4 + 499)).has_value());  // handle cut short
  EXPECT_TRUE(
      unwrap_long(value.substr(0, 4 + 500)).has_value());  // no record bytes: the decoder's call
  EXPECT_FALSE(unwrap_long(wrap_long(std::string(400, 'h'), "rec")).has_value());  // not long
  EXPECT_FALSE(
      unwrap_long(std::string("\x00\x00\x08\x01", 4) + std::string(2049, 'h')).has_value());
  EXPECT_FALSE(unwrap_long(std::string("\xff\xff\xff\xff", 4) + "x").has_value());
}

}  // namespace
}  // namespace idra::store::keys

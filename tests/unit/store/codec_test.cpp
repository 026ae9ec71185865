// codec_test.cpp: the record encoding (src/store/codec.cpp).
#include "store/codec.hpp"

#include <gtest/gtest.h>

#include <climits>
#include <cstdint>
#include <stdexcept>
#include <string>

#include "idra/store.hpp"

namespace idra::store {
namespace {

// Bytes builds inputs by hand, field by field, in the documented format.
class Bytes {
 public:
  Bytes& u8(std::uint8_t v) {
    s_.push_back(static_cast<char>(v));
    return *this;
  }
  Bytes& u32(std::uint32_t v) {
    for (int shift = 24; shift >= 0; shift -= 8) u8(static_cast<std::uint8_t>(v >> shift));
    return *this;
  }
  Bytes& u64(std::uint64_t v) {
    for (int shift = 56; shift >= 0; shift -= 8) u8(static_cast<std::uint8_t>(v >> shift));
    return *this;
  }
  Bytes& bytes(std::string_view b) {
    u32(static_cast<std::uint32_t>(b.size()));
    s_.append(b);
    return *this;
  }
  Bytes& raw(std::string_view b) {
    s_.append(b);
    return *this;
  }
  // value appends a plain value: no references, the given permission byte.
  Bytes& value(std::uint32_t index, std::uint8_t ttl_type = 0, std::uint8_t perms = 0x0E) {
    return u32(index).bytes("URL").bytes("x").u8(ttl_type).u32(86400).u64(0).u32(0).u8(perms);
  }
  const std::string& str() const { return s_; }

 private:
  std::string s_;
};

HandleValue make_value(std::uint32_t index, std::string type, std::string data) {
  HandleValue v;
  v.index = index;
  v.type = std::move(type);
  v.data = std::move(data);
  return v;
}

void expect_round_trip(const Record& record) {
  const std::string bytes = encode_record(record);
  auto decoded = decode_record(bytes);
  ASSERT_TRUE(decoded.ok()) << decoded.error().message;
  EXPECT_EQ(*decoded, record);
  EXPECT_EQ(encode_record(*decoded), bytes);
}

void expect_rejected(const std::string& bytes, std::string_view why) {
  auto decoded = decode_record(bytes);
  ASSERT_FALSE(decoded.ok()) << "accepted input that should fail with: " << why;
  EXPECT_NE(decoded.error().message.find(why), std::string::npos) << decoded.error().message;
}

TEST(store_codec, RoundTripEmptyRecord) { expect_round_trip(Record{}); }

TEST(store_codec, RoundTripEmptyTypeAndData) {
  Record r;
  r.values.push_back(make_value(1, "", ""));
  expect_round_trip(r);
}

TEST(store_codec, RoundTripLargeData) {
  std::string data(std::size_t{1} << 20, '\0');
  for (std::size_t i = 0; i < data.size(); ++i) data[i] = static_cast<char>(i * 131 + 7);
  Record r;
  r.values.push_back(make_value(1, "HS_BLOB", data));
  r.values.push_back(make_value(2, "URL", "https://example.org/"));
  expect_round_trip(r);
}

TEST(store_codec, RoundTripUnicodeTypes) {
  Record r;
  r.values.push_back(make_value(1, "URL", "https://example.org/"));
  r.values.push_back(make_value(2, "\xE6\x97\xA5\xE6\x9C\xAC\xE8\xAA\x9E", "nihongo"));  // 日本語
  r.values.push_back(make_value(3, "\xF0\x9F\x94\x97 link", "emoji"));                   // 🔗
  r.values.push_back(make_value(4, "Gr\u00FC\u00DFe", std::string("\0\xFF\x01", 3)));
  expect_round_trip(r);
}

TEST(store_codec, RoundTripReferencesAndAllFields) {
  Record r;
  HandleValue v = make_value(100, "HS_VLIST", "");
  v.references = {{"0.NA/88.100", 200}, {"88.100/target", 1}, {"", 0}};
  v.ttl_type = TtlType::absolute;
  v.ttl = INT32_MIN;
  v.timestamp = INT64_MIN;
  r.values.push_back(v);
  HandleValue w = make_value(UINT32_MAX, "HS_ADMIN", "admin");
  w.ttl = INT32_MAX;
  w.timestamp = INT64_MAX;
  r.values.push_back(w);
  expect_round_trip(r);
}

TEST(store_codec, RoundTripEveryPermissionCombination) {
  Record r;
  for (std::uint32_t bits = 0; bits < 16; ++bits) {
    HandleValue v = make_value(bits + 1, "T", "");
    v.permissions = {(bits & 8) != 0, (bits & 4) != 0, (bits & 2) != 0, (bits & 1) != 0};
    r.values.push_back(v);
  }
  expect_round_trip(r);
}

// The format is part of the database: pin it byte by byte so a change to the
// encoder cannot slip through as "still round-trips".
TEST(store_codec, EncodingIsExactlyTheDocumentedFormat) {
  Record r;
  HandleValue v = make_value(1, "URL", "ab");
  v.ttl_type = TtlType::absolute;
  v.ttl = 0x01020304;
  v.timestamp = -2;
  v.references = {{"X/y", 7}};
  v.permissions = {true, false, true, true};
  r.values.push_back(v);
  const std::string expected = Bytes()
                                   .u8(1)
                                   .u32(1)
                                   .u32(1)
                                   .bytes("URL")
                                   .bytes("ab")
                                   .u8(1)
                                   .u32(0x01020304)
                                   .u64(0xFFFFFFFFFFFFFFFEull)
                                   .u32(1)
                                   .bytes("X/y")
                                   .u32(7)
                                   .u8(0x08 | 0x02 | 0x01)
                                   .str();
  EXPECT_EQ(encode_record(r), expected);
  EXPECT_EQ(encode_record(Record{}), Bytes().u8(1).u32(0).str());
}

TEST(store_codec, RejectsEmptyInput) { expect_rejected("", "empty"); }

TEST(store_codec, RejectsUnknownVersions) {
  for (std::uint8_t version : {0, 2, 0x7F, 0xFF}) {
    expect_rejected(Bytes().u8(version).u32(0).str(), "unknown version");
  }
}

TEST(store_codec, RejectsEveryTruncation) {
  Record r;
  HandleValue v = make_value(3, "URL", "https://example.org/");
  v.references = {{"88.100/ref", 2}};
  r.values.push_back(v);
  r.values.push_back(make_value(9, "EMAIL", "a@example.org"));
  const std::string full = encode_record(r);
  for (std::size_t n = 0; n < full.size(); ++n) {
    EXPECT_FALSE(decode_record(std::string_view(full).substr(0, n)).ok()) << "prefix of " << n;
  }
  EXPECT_TRUE(decode_record(full).ok());
}

TEST(store_codec, RejectsTrailingBytes) {
  Record r;
  r.values.push_back(make_value(1, "URL", "x"));
  expect_rejected(encode_record(r) + '\0', "trailing bytes");
  expect_rejected(Bytes().u8(1).u32(0).u8(0).str(), "trailing bytes");
}

TEST(store_codec, RejectsZeroIndex) {
  expect_rejected(Bytes().u8(1).u32(1).value(0).str(), "index 0");
}

TEST(store_codec, RejectsDuplicateIndex) {
  expect_rejected(Bytes().u8(1).u32(2).value(5).value(5).str(), "duplicate value index");
}

TEST(store_codec, RejectsUnsortedIndexes) {
  expect_rejected(Bytes().u8(1).u32(2).value(6).value(5).str(), "out of order");
}

TEST(store_codec, RejectsBadTtlType) {
  expect_rejected(Bytes().u8(1).u32(1).value(1, 2).str(), "bad ttl_type");
  expect_rejected(Bytes().u8(1).u32(1).value(1, 0xFF).str(), "bad ttl_type");
}

TEST(store_codec, RejectsUnknownPermissionBits) {
  expect_rejected(Bytes().u8(1).u32(1).value(1, 0, 0x10).str(), "permission bits");
  expect_rejected(Bytes().u8(1).u32(1).value(1, 0, 0x80).str(), "permission bits");
}

TEST(store_codec, RejectsLengthsBeyondTheInput) {
  // type length one past what remains
  expect_rejected(Bytes().u8(1).u32(1).u32(1).u32(200).raw(std::string(40, 'x')).str(),
                  "truncated type");
  // data length of 4 GiB - 1
  expect_rejected(
      Bytes().u8(1).u32(1).u32(1).bytes("URL").u32(0xFFFFFFFF).raw(std::string(40, 'x')).str(),
      "truncated data");
  // reference handle length past the end
  expect_rejected(Bytes()
                      .u8(1)
                      .u32(1)
                      .u32(1)
                      .bytes("URL")
                      .bytes("x")
                      .u8(0)
                      .u32(1)
                      .u64(0)
                      .u32(1)
                      .u32(1000)
                      .raw("abcdefgh")
                      .str(),
                  "truncated reference handle");
}

TEST(store_codec, RejectsCountsBeyondTheInput) {
  // A value needs at least 30 bytes; claiming 2^32-1 values must fail
  // before anything is allocated.
  expect_rejected(Bytes().u8(1).u32(0xFFFFFFFF).value(1).str(), "value count exceeds");
  expect_rejected(Bytes().u8(1).u32(2).value(1).str(), "value count exceeds");
  expect_rejected(Bytes()
                      .u8(1)
                      .u32(1)
                      .u32(1)
                      .bytes("URL")
                      .bytes("x")
                      .u8(0)
                      .u32(1)
                      .u64(0)
                      .u32(0xFFFFFFFF)
                      .u8(0)
                      .str(),
                  "reference count exceeds");
}

TEST(store_codec, EncodeForStoreSortsByIndex) {
  Record r;
  r.values.push_back(make_value(7, "B", "b"));
  r.values.push_back(make_value(2, "A", "a"));
  r.values.push_back(make_value(100, "C", "c"));
  auto decoded = decode_record(encode_for_store(r));
  ASSERT_TRUE(decoded.ok()) << decoded.error().message;
  ASSERT_EQ(decoded->values.size(), 3u);
  EXPECT_EQ(decoded->values[0].index, 2u);
  EXPECT_EQ(decoded->values[1].index, 7u);
  EXPECT_EQ(decoded->values[2].index, 100u);
}

TEST(store_codec, EncodeForStoreRejectsWhatDecodeWouldRefuse) {
  Record zero;
  zero.values.push_back(make_value(0, "A", ""));
  EXPECT_THROW((void)encode_for_store(zero), std::invalid_argument);

  Record duplicate;
  duplicate.values.push_back(make_value(4, "A", ""));
  duplicate.values.push_back(make_value(1, "B", ""));
  duplicate.values.push_back(make_value(4, "C", ""));
  EXPECT_THROW((void)encode_for_store(duplicate), std::invalid_argument);

  Record bad_ttl;
  bad_ttl.values.push_back(make_value(1, "A", ""));
  bad_ttl.values[0].ttl_type = static_cast<TtlType>(9);
  EXPECT_THROW((void)encode_for_store(bad_ttl), std::invalid_argument);
}

}  // namespace
}  // namespace idra::store

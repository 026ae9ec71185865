// codec.cpp: the stored form of a Record.
//
// Format, version 1. Integers are big-endian, signed ones two's complement;
// "bytes" is a u32 length followed by that many bytes.
//
//   record     = version:u8 (0x01)  value_count:u32  value{value_count}
//   value      = index:u32  type:bytes  data:bytes  ttl_type:u8  ttl:i32
//                timestamp:i64  reference_count:u32  reference{reference_count}
//                permissions:u8
//   reference  = handle:bytes  index:u32
//   ttl_type   = 0 relative | 1 absolute
//   permissions: 0x08 admin_read, 0x04 admin_write, 0x02 public_read,
//                0x01 public_write (the RFC 3651 bit layout); bits 0xF0 are 0
//
// A value is at least 30 bytes and a reference at least 8, which bounds the
// counts by the input length before anything is allocated.
//
// The encoding is canonical: decode_record accepts exactly the strings that
// encode_record produces for a valid Record (value indexes non-zero and
// strictly increasing, ttl_type 0 or 1), so a successful decode re-encodes to
// the same bytes (checked by fuzz/store_record.cpp). Type, data and reference
// handles are opaque bytes here; UTF-8 is the caller's to check.
//
// A new version gets a new first byte and its own decoder; version 1 bytes
// stay readable for as long as a store written by them may exist.
#include "store/codec.hpp"

#include <algorithm>
#include <cstdint>
#include <limits>
#include <stdexcept>
#include <string>

#include "idra/store.hpp"

namespace idra::store {
namespace {

constexpr std::uint8_t kVersion1 = 1;
constexpr std::size_t kMinValueBytes = 4 + 4 + 4 + 1 + 4 + 8 + 4 + 1;
constexpr std::size_t kMinReferenceBytes = 4 + 4;

constexpr std::uint8_t kAdminRead = 0x08;
constexpr std::uint8_t kAdminWrite = 0x04;
constexpr std::uint8_t kPublicRead = 0x02;
constexpr std::uint8_t kPublicWrite = 0x01;

void put_u8(std::string& out, std::uint8_t v) { out.push_back(static_cast<char>(v)); }

void put_u32(std::string& out, std::uint32_t v) {
  for (int shift = 24; shift >= 0; shift -= 8) put_u8(out, static_cast<std::uint8_t>(v >> shift));
}

void put_u64(std::string& out, std::uint64_t v) {
  for (int shift = 56; shift >= 0; shift -= 8) put_u8(out, static_cast<std::uint8_t>(v >> shift));
}

std::uint32_t checked_u32(std::size_t n) {
  // A field of 4 GiB cannot arrive: request bodies are limited long before.
  if (n > std::numeric_limits<std::uint32_t>::max()) {
    throw std::length_error("record field longer than 4 GiB");
  }
  return static_cast<std::uint32_t>(n);
}

void put_bytes(std::string& out, std::string_view bytes) {
  put_u32(out, checked_u32(bytes.size()));
  out.append(bytes);
}

std::uint8_t permission_bits(const Permissions& p) {
  return static_cast<std::uint8_t>(
      (p.admin_read ? kAdminRead : 0) | (p.admin_write ? kAdminWrite : 0) |
      (p.public_read ? kPublicRead : 0) | (p.public_write ? kPublicWrite : 0));
}

std::size_t encoded_size(const Record& record) {
  std::size_t n = 1 + 4;
  for (const HandleValue& v : record.values) {
    n += kMinValueBytes + v.type.size() + v.data.size();
    for (const Reference& r : v.references) n += kMinReferenceBytes + r.handle.size();
  }
  return n;
}

// Reader consumes |in| front to back; every read checks the remaining length
// first, so no input can make it read out of bounds.
class Reader {
 public:
  explicit Reader(std::string_view in) : in_(in) {}

  std::size_t offset() const { return pos_; }
  std::size_t remaining() const { return in_.size() - pos_; }

  bool u8(std::uint8_t& out) {
    if (remaining() < 1) return false;
    out = static_cast<std::uint8_t>(in_[pos_++]);
    return true;
  }
  bool u32(std::uint32_t& out) {
    if (remaining() < 4) return false;
    out = 0;
    for (int i = 0; i < 4; ++i) out = (out << 8) | static_cast<std::uint8_t>(in_[pos_++]);
    return true;
  }
  bool u64(std::uint64_t& out) {
    if (remaining() < 8) return false;
    out = 0;
    for (int i = 0; i < 8; ++i) out = (out << 8) | static_cast<std::uint8_t>(in_[pos_++]);
    return true;
  }
  // bytes reads a length-prefixed field; false if the length runs past the
  // input (the length is compared before any allocation).
  bool bytes(std::string& out) {
    std::uint32_t n = 0;
    if (!u32(n) || n > remaining()) return false;
    out.assign(in_.substr(pos_, n));
    pos_ += n;
    return true;
  }

 private:
  std::string_view in_;
  std::size_t pos_ = 0;
};

Error bad(const Reader& r, std::string_view what) {
  return make_error("stored record is malformed at byte " + std::to_string(r.offset()) + ": " +
                    std::string(what));
}

void check_value(const HandleValue& v) {
  if (v.index == 0) throw std::invalid_argument("record value index 0 is reserved");
  if (v.ttl_type != TtlType::relative && v.ttl_type != TtlType::absolute) {
    throw std::invalid_argument("record value has an unknown ttl_type");
  }
}

bool by_index(const HandleValue& a, const HandleValue& b) { return a.index < b.index; }

}  // namespace

std::string encode_record(const Record& record) {
  std::string out;
  out.reserve(encoded_size(record));
  put_u8(out, kVersion1);
  put_u32(out, checked_u32(record.values.size()));
  for (const HandleValue& v : record.values) {
    put_u32(out, v.index);
    put_bytes(out, v.type);
    put_bytes(out, v.data);
    put_u8(out, static_cast<std::uint8_t>(v.ttl_type));
    put_u32(out, static_cast<std::uint32_t>(v.ttl));
    put_u64(out, static_cast<std::uint64_t>(v.timestamp));
    put_u32(out, checked_u32(v.references.size()));
    for (const Reference& ref : v.references) {
      put_bytes(out, ref.handle);
      put_u32(out, ref.index);
    }
    put_u8(out, permission_bits(v.permissions));
  }
  return out;
}

Result<Record> decode_record(std::string_view bytes) {
  Reader r(bytes);
  std::uint8_t version = 0;
  if (!r.u8(version)) return bad(r, "empty");
  if (version != kVersion1) return bad(r, "unknown version " + std::to_string(version));

  std::uint32_t count = 0;
  if (!r.u32(count)) return bad(r, "truncated value count");
  if (count > r.remaining() / kMinValueBytes) return bad(r, "value count exceeds the input");

  Record record;
  record.values.reserve(count);
  for (std::uint32_t i = 0; i < count; ++i) {
    HandleValue& v = record.values.emplace_back();
    if (!r.u32(v.index)) return bad(r, "truncated index");
    if (v.index == 0) return bad(r, "value index 0");
    if (i > 0 && v.index <= record.values[i - 1].index) {
      return bad(r, v.index == record.values[i - 1].index ? "duplicate value index"
                                                          : "value indexes out of order");
    }
    if (!r.bytes(v.type)) return bad(r, "truncated type");
    if (!r.bytes(v.data)) return bad(r, "truncated data");

    std::uint8_t ttl_type = 0;
    if (!r.u8(ttl_type)) return bad(r, "truncated ttl_type");
    if (ttl_type > static_cast<std::uint8_t>(TtlType::absolute)) return bad(r, "bad ttl_type");
    v.ttl_type = static_cast<TtlType>(ttl_type);

    std::uint32_t ttl = 0;
    if (!r.u32(ttl)) return bad(r, "truncated ttl");
    v.ttl = static_cast<std::int32_t>(ttl);
    std::uint64_t timestamp = 0;
    if (!r.u64(timestamp)) return bad(r, "truncated timestamp");
    v.timestamp = static_cast<std::int64_t>(timestamp);

    std::uint32_t ref_count = 0;
    if (!r.u32(ref_count)) return bad(r, "truncated reference count");
    if (ref_count > r.remaining() / kMinReferenceBytes) {
      return bad(r, "reference count exceeds the input");
    }
    v.references.reserve(ref_count);
    for (std::uint32_t j = 0; j < ref_count; ++j) {
      Reference& ref = v.references.emplace_back();
      if (!r.bytes(ref.handle)) return bad(r, "truncated reference handle");
      if (!r.u32(ref.index)) return bad(r, "truncated reference index");
    }

    std::uint8_t perms = 0;
    if (!r.u8(perms)) return bad(r, "truncated permissions");
    if ((perms & 0xF0) != 0) return bad(r, "unknown permission bits");
    v.permissions.admin_read = (perms & kAdminRead) != 0;
    v.permissions.admin_write = (perms & kAdminWrite) != 0;
    v.permissions.public_read = (perms & kPublicRead) != 0;
    v.permissions.public_write = (perms & kPublicWrite) != 0;
  }
  if (r.remaining() != 0) return bad(r, "trailing bytes");
  return record;
}

std::string encode_for_store(const Record& record) {
  for (const HandleValue& v : record.values) check_value(v);
  auto unique_sorted = [](const std::vector<HandleValue>& values) {
    for (std::size_t i = 1; i < values.size(); ++i) {
      if (values[i - 1].index == values[i].index) {
        throw std::invalid_argument("record has duplicate value index " +
                                    std::to_string(values[i].index));
      }
    }
  };
  if (std::is_sorted(record.values.begin(), record.values.end(), by_index)) {
    unique_sorted(record.values);
    return encode_record(record);
  }
  Record sorted = record;
  std::sort(sorted.values.begin(), sorted.values.end(), by_index);
  unique_sorted(sorted.values);
  return encode_record(sorted);
}

}  // namespace idra::store

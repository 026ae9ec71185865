// api_value_json: PUT bodies through values_from_body, and raw bytes through
// the HS_* decoders. Every value accepted must come back unchanged from
// value_to_json -> text -> value_from_json; every typed datum accepted must
// re-encode to the same bytes and survive data_to_json -> data_from_json
// (BoringSSL fuzz/cert.cc style round trips). A mismatch aborts.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "api/hs_data.hpp"
#include "api/value_json.hpp"

namespace {

constexpr std::int64_t kNow = 1795600553;

[[noreturn]] void fail(const char* what, std::string_view detail) {
  std::fprintf(stderr, "api_value_json: %s: %.*s\n", what, static_cast<int>(detail.size()),
               detail.data());
  std::abort();
}

void check_data_round_trip(std::string_view type, std::string_view bytes) {
  const auto j = idra::api::data_to_json(type, bytes);
  const std::string text = j.dump();
  auto back = idra::api::data_from_json(nlohmann::json::parse(text));
  if (!back || *back != bytes) fail("data_to_json does not read back", text);
}

void check_values(std::string_view body) {
  auto values = idra::api::values_from_body(body, kNow);
  if (!values) {
    if (values.error().code != idra::api::kInvalidValueCode)
      fail("wrong error code", values.error().message);
    return;
  }
  for (const auto& v : *values) {
    const std::string text = idra::api::value_to_json(v).dump();
    std::string fast;
    idra::api::append_value_json(fast, v);
    if (fast != text) fail("append_value_json differs from value_to_json", fast + " vs " + text);
    // Another clock: a timestamp that was written must be the one read back.
    auto back = idra::api::value_from_json(nlohmann::json::parse(text), kNow + 12345);
    if (!back) fail("value_to_json output rejected", back.error().message + " in " + text);
    if (!(*back == v)) fail("value changed in a round trip", text);
  }
}

void check_binary(std::string_view bytes) {
  using namespace idra::api;
  bool legacy = false;
  if (auto a = decode_admin(bytes, &legacy); a && encode_admin(*a, legacy) != bytes)
    fail("HS_ADMIN re-encode", "");
  if (auto v = decode_vlist(bytes); v && encode_vlist(*v) != bytes) fail("HS_VLIST re-encode", "");
  if (auto s = decode_site(bytes); s && encode_site(*s) != bytes) fail("HS_SITE re-encode", "");
  if (auto k = decode_public_key(bytes); k && encode_public_key(*k) != bytes)
    fail("HS_PUBKEY re-encode", "");
  for (const char* type : {"HS_ADMIN", "HS_VLIST", "HS_SITE", "HS_PUBKEY", "URL"})
    check_data_round_trip(type, bytes);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  check_values(input);
  check_binary(input);
  return 0;
}

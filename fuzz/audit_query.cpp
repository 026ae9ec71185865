// audit_query: parse_query and parse_time on arbitrary bytes. An accepted
// query must satisfy the Filter's invariants and survive a round trip
// through a fully percent-encoded query string; any mismatch aborts.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "idra/audit.hpp"

namespace {

namespace audit = idra::audit;

[[noreturn]] void fail(const char* what, std::string_view input) {
  std::fprintf(stderr, "audit_query: %s\n  input: %.*s\n", what, static_cast<int>(input.size()),
               input.data());
  std::abort();
}

std::string encode(std::string_view value) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (char c : value) {
    const auto u = static_cast<unsigned char>(c);
    out += '%';
    out += kHex[u >> 4];
    out += kHex[u & 0xF];
  }
  return out;
}

std::string to_query(const audit::Filter& f) {
  std::string out;
  auto add = [&](std::string_view key, const std::string& value) {
    if (!out.empty()) out += '&';
    out += std::string(key) + "=" + encode(value);
  };
  if (f.principal) add("principal", *f.principal);
  if (f.identifier) add("identifier", *f.identifier);
  if (f.action) add("action", *f.action);
  if (f.decision) add("decision", std::string(audit::decision_name(*f.decision)));
  if (f.from_ms) add("from", std::to_string(*f.from_ms));
  if (f.to_ms) add("to", std::to_string(*f.to_ms));
  add("cursor", std::to_string(f.cursor));
  add("limit", std::to_string(f.limit));
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  (void)audit::parse_time(input);
  auto filter = audit::parse_query(input);
  if (!filter.ok()) {
    if (filter.error().message.empty()) fail("error without a message", input);
    return 0;
  }
  if (filter->limit == 0 || filter->limit > audit::kMaxQueryLimit)
    fail("limit out of range", input);
  if (filter->from_ms && filter->to_ms && *filter->from_ms > *filter->to_ms) {
    fail("from after to", input);
  }
  const bool negative_time =
      (filter->from_ms && *filter->from_ms < 0) || (filter->to_ms && *filter->to_ms < 0);
  if (!negative_time) {  // unix milliseconds in a query are digits only
    auto again = audit::parse_query(to_query(*filter));
    if (!again.ok() || !(*again == *filter)) fail("query does not round-trip", input);
  }
  return 0;
}

// ids_identify: identify() on arbitrary bytes, with every scheme and with
// auto-detection, checking the round trips that make a handle canonical:
//   identify(id.handle)                    -> ok, same handle
//   identify(id.canonical, only=id.scheme) -> ok, same handle
//   identifier_from_handle(id.handle)      -> ok, same handle
// Any mismatch aborts, so the fuzzer reports it as a crash.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <string>
#include <string_view>

#include "idra/gs1.hpp"
#include "idra/ids.hpp"

namespace {

using idra::ids::Identifier;
using idra::ids::MappingConfig;
using idra::ids::Scheme;

[[noreturn]] void fail(const char* what, std::string_view input, const Identifier& id,
                       const std::string& detail) {
  std::fprintf(stderr,
               "ids_identify: %s\n  input:     %.*s\n  scheme:    %.*s\n"
               "  canonical: %s\n  handle:    %s\n  then:      %s\n",
               what, static_cast<int>(input.size()), input.data(),
               static_cast<int>(idra::ids::scheme_name(id.scheme).size()),
               idra::ids::scheme_name(id.scheme).data(), id.canonical.c_str(), id.handle.c_str(),
               detail.c_str());
  std::abort();
}

std::string describe(const idra::Result<Identifier>& r) {
  if (!r.ok()) return "error: " + r.error().message;
  return r->handle;
}

void check_round_trips(std::string_view input, const Identifier& id, const MappingConfig& config) {
  const idra::Result<Identifier> by_handle = idra::ids::identify(id.handle, config);
  if (!by_handle.ok() || by_handle->handle != id.handle || by_handle->scheme == Scheme::epc) {
    fail("identify(handle) differs", input, id, describe(by_handle));
  }
  const idra::Result<Identifier> by_canonical =
      idra::ids::identify(id.canonical, config, id.scheme);
  if (!by_canonical.ok() || by_canonical->handle != id.handle ||
      by_canonical->canonical != id.canonical) {
    fail("identify(canonical, only=scheme) differs", input, id, describe(by_canonical));
  }
  const idra::Result<Identifier> reverse = idra::ids::identifier_from_handle(id.handle, config);
  if (!reverse.ok() || reverse->handle != id.handle) {
    fail("identifier_from_handle(handle) differs", input, id, describe(reverse));
  }
  if (id.handle.size() > idra::ids::kMaxHandleBytes) fail("handle too long", input, id, "");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  static const MappingConfig config{"IDRA"};
  const std::optional<Scheme> schemes[] = {std::nullopt, Scheme::handle, Scheme::gs1,
                                           Scheme::epc,  Scheme::oid,    Scheme::iec61406};
  for (const std::optional<Scheme>& only : schemes) {
    const idra::Result<Identifier> id = idra::ids::identify(input, config, only);
    if (!id.ok()) {
      if (id.error().message.empty()) std::abort();  // every error says what is wrong
      continue;
    }
    if (only && *only != Scheme::handle && id->scheme != *only) {
      fail("identify(only) returned another scheme", input, *id, "");
    }
    check_round_trips(input, *id, config);
  }
  // The parsers behind identify, directly.
  (void)idra::ids::gs1::parse_digital_link(input);
  (void)idra::ids::gs1::parse_element_string(input);
  (void)idra::ids::gs1::has_digital_link_shape(input);
  (void)idra::ids::canonical_prefix(input);
  return 0;
}

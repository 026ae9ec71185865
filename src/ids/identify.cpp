// identify.cpp: scheme detection and the mapping of every scheme onto one
// canonical handle (and back).
#include <string>

#include "idra/gs1.hpp"
#include "idra/ids.hpp"
#include "idra/text.hpp"
#include "url.hpp"

namespace idra::ids {
namespace {

constexpr std::string_view kGs1Namespace = "gs1";
constexpr std::string_view kOidNamespace = "oid";
constexpr std::string_view kIecNamespace = "iec61406";

bool is_dotted_digits(std::string_view s) {
  if (s.find('.') == std::string_view::npos) return false;
  for (char c : s) {
    if (!(text::is_digit(c) || c == '.')) return false;
  }
  return true;
}

// is_bare_gtin: 8, 12, 13 or 14 digits alone, a GTIN key as printed under a barcode.
bool is_bare_gtin(std::string_view s) {
  return text::all_digits(s) && (s.size() == 8 || s.size() == 12 || s.size() == 13 || s.size() == 14);
}

// detect implements the auto-detection rules documented in ids.hpp.
Scheme detect(std::string_view text) {
  if (is_bare_gtin(text)) return Scheme::gs1;
  if (text::istarts_with(text, "urn:epc:")) return Scheme::epc;
  if (text::istarts_with(text, "urn:oid:")) return Scheme::oid;
  if (!text.empty() && (text.front() == '(' || text.front() == '/')) return Scheme::gs1;
  if (std::optional<url::Parts> parts = url::split(text);
      parts && url::is_http_scheme(parts->scheme)) {
    return gs1::has_digital_link_shape(text) ? Scheme::gs1 : Scheme::iec61406;
  }
  if (is_dotted_digits(text)) return Scheme::oid;
  return Scheme::handle;
}

Result<std::string> mapping_prefix(const MappingConfig& config) {
  Result<std::string> p = canonical_prefix(config.prefix);
  if (!p) return make_error("the configured mapping prefix is invalid: " + p.error().message);
  return p;
}

Result<Identifier> finish(Scheme scheme, std::string canonical, std::string handle) {
  if (handle.size() > kMaxHandleBytes) {
    return make_error("the canonical handle of this " + std::string(scheme_name(scheme)) +
                      " identifier would be " + std::to_string(handle.size()) +
                      " bytes; the limit is " + std::to_string(kMaxHandleBytes));
  }
  return Identifier{scheme, std::move(canonical), std::move(handle)};
}

std::string gs1_handle(const std::string& prefix, const gs1::DigitalLink& dl) {
  return prefix + "/" + std::string(kGs1Namespace) + dl.canonical_path();
}

Result<Identifier> identify_gs1(std::string_view text, const std::string& prefix) {
  Result<gs1::DigitalLink> dl = make_error("");
  if (is_bare_gtin(text)) {
    // A bare GTIN-8/12/13/14 is normalized to 14 digits (so GTIN-13 and its
    // zero-padded GTIN-14 name one record).
    Result<std::string> gtin = gs1::normalize_gtin(text);
    if (!gtin) return gtin.error();
    dl = gs1::digital_link_from_ai_values({gs1::AiValue{"01", std::move(gtin).value()}});
  } else if (!text.empty() && text.front() == '(') {
    Result<std::vector<gs1::AiValue>> values = gs1::parse_element_string(text);
    if (!values) return values.error();
    dl = gs1::digital_link_from_ai_values(*values);
  } else if (!text.empty() && text.front() == '/') {
    dl = gs1::parse_digital_link_path(text, true);
  } else if (url::split(text)) {
    dl = gs1::parse_digital_link(text);
  } else {
    return make_error(
        "not a GS1 identifier: expected a Digital Link URI (https://host/01/...), a Digital "
        "Link path (/01/...) or an element string ((01)...)");
  }
  if (!dl) return dl.error();
  return finish(Scheme::gs1, dl->canonical_path(), gs1_handle(prefix, *dl));
}

Result<Identifier> identify_epc(std::string_view text, const std::string& prefix) {
  Result<gs1::EpcUrn> epc = gs1::parse_epc_urn(text);
  if (!epc) return epc.error();
  return finish(Scheme::epc, epc->canonical, gs1_handle(prefix, epc->key));
}

Result<Identifier> identify_oid(std::string_view text, const std::string& prefix) {
  Result<std::string> oid = canonical_oid(text);
  if (!oid) return oid.error();
  std::string handle = prefix + "/" + std::string(kOidNamespace) + "/" + *oid;
  return finish(Scheme::oid, std::move(oid).value(), std::move(handle));
}

Result<Identifier> identify_iec(std::string_view text, const std::string& prefix) {
  Result<IdentificationLink> link = parse_identification_link(text);
  if (!link) return link.error();
  std::string canonical = link->url();
  // The canonical URL without "https://" (RFC 3986 characters only).
  std::string handle = prefix + "/" + std::string(kIecNamespace) + "/" + canonical.substr(8);
  return finish(Scheme::iec61406, std::move(canonical), std::move(handle));
}

// from_mapped_suffix parses the suffix of a handle under the mapping prefix
// back into the foreign identifier it names. |only| restricts the scheme
// (handle allows any).
Result<Identifier> from_mapped_suffix(std::string_view suffix, const std::string& prefix,
                                      std::optional<Scheme> only) {
  const std::size_t slash = suffix.find('/');
  const std::string_view ns = suffix.substr(0, slash);
  const std::string_view rest =
      slash == std::string_view::npos ? std::string_view() : suffix.substr(slash);
  const auto context = [&](const Error& e) {
    return make_error("handle " + prefix + "/" + text::printable(suffix, 128) + ": " + e.message);
  };
  Scheme scheme;
  if (text::iequals(ns, kGs1Namespace)) {
    scheme = Scheme::gs1;
  } else if (text::iequals(ns, kOidNamespace)) {
    scheme = Scheme::oid;
  } else if (text::iequals(ns, kIecNamespace)) {
    scheme = Scheme::iec61406;
  } else {
    return make_error("handles under the mapping prefix " + prefix + " are " + prefix +
                      "/gs1/..., " + prefix + "/oid/... or " + prefix + "/iec61406/...; got " +
                      text::quoted(ns) + " at byte " + std::to_string(prefix.size() + 1));
  }
  if (only && *only != Scheme::handle && *only != scheme) {
    return make_error("handle " + prefix + "/" + text::printable(suffix, 128) +
                      " names an identifier of scheme " + std::string(scheme_name(scheme)) +
                      ", not " + std::string(scheme_name(*only)));
  }
  if (rest.size() < 2) {
    return context(make_error("nothing follows " + std::string(ns)));
  }
  switch (scheme) {
    case Scheme::gs1: {
      Result<gs1::DigitalLink> dl = gs1::parse_digital_link_path(rest, false);
      if (!dl) return context(dl.error());
      return finish(Scheme::gs1, dl->canonical_path(), gs1_handle(prefix, *dl));
    }
    case Scheme::oid: {
      const std::string_view oid = rest.substr(1);
      if (!oid.empty() && !text::is_digit(oid.front())) {
        return context(make_error("expected a dotted OID such as 1.2.840.113549"));
      }
      Result<Identifier> id = identify_oid(oid, prefix);
      if (!id) return context(id.error());
      return id;
    }
    default: {
      Result<Identifier> id = identify_iec("https://" + std::string(rest.substr(1)), prefix);
      if (!id) return context(id.error());
      return id;
    }
  }
}

Result<Identifier> identify_handle(std::string_view text, const std::string& prefix,
                                   std::optional<Scheme> only) {
  Result<Handle> h = parse_handle(text);
  if (!h) return h.error();
  if (h->prefix == prefix) return from_mapped_suffix(h->suffix, prefix, only);
  std::string str = h->str();
  if (const Scheme seen = detect(str); seen != Scheme::handle) {
    return make_error("handle " + text::quoted(str) + " would be read as an identifier of scheme " +
                      std::string(scheme_name(seen)) + "; it cannot be used as a handle");
  }
  return finish(Scheme::handle, str, str);
}

}  // namespace

Result<Identifier> identify(std::string_view text, const MappingConfig& config,
                            std::optional<Scheme> only) {
  Result<std::string> prefix = mapping_prefix(config);
  if (!prefix) return prefix.error();
  const Scheme scheme = only ? *only : detect(text);
  if (scheme != Scheme::handle && scheme != Scheme::epc && detect(text) == Scheme::handle) {
    // A foreign identifier spelled as its handle, with |only| naming its scheme.
    Result<Handle> h = parse_handle(text);
    if (h && h->prefix == *prefix) return from_mapped_suffix(h->suffix, *prefix, scheme);
  }
  switch (scheme) {
    case Scheme::handle:
      return identify_handle(text, *prefix, only);
    case Scheme::gs1:
      return identify_gs1(text, *prefix);
    case Scheme::epc:
      return identify_epc(text, *prefix);
    case Scheme::oid:
      return identify_oid(text, *prefix);
    case Scheme::iec61406:
      return identify_iec(text, *prefix);
  }
  return make_error("unknown scheme");
}

Result<Identifier> identifier_from_handle(std::string_view handle, const MappingConfig& config) {
  Result<std::string> prefix = mapping_prefix(config);
  if (!prefix) return prefix.error();
  return identify_handle(handle, *prefix, Scheme::handle);
}

}  // namespace idra::ids

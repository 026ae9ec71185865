// epc.cpp: EPC pure-identity URNs (GS1 EPC Tag Data Standard, section 6)
// mapped onto the GS1 keys they name.
#include <string>
#include <vector>

#include "idra/gs1.hpp"
#include "idra/text.hpp"

namespace idra::ids::gs1 {
namespace {

constexpr std::string_view kUrnPrefix = "urn:epc:id:";
constexpr std::size_t kMinCompanyPrefix = 6;  // TDS partition tables: 6 to 12 digits
constexpr std::size_t kMaxCompanyPrefix = 12;

// The characters of CSET 82 that an EPC URN must escape (TDS Table A-1).
bool must_escape(char c) {
  switch (c) {
    case '"':
    case '%':
    case '&':
    case '/':
    case '<':
    case '>':
    case '?':
      return true;
    default:
      return false;
  }
}

// A raw (unescaped) GS3A3 character: digits, letters and ! ' ( ) * + , - . : ; = _
bool is_gs3a3_raw(char c) {
  if (text::is_alnum(c)) return true;
  switch (c) {
    case '!':
    case '\'':
    case '(':
    case ')':
    case '*':
    case '+':
    case ',':
    case '-':
    case '.':
    case ':':
    case ';':
    case '=':
    case '_':
      return true;
    default:
      return false;
  }
}

bool in_cset82(char c) { return is_gs3a3_raw(c) || must_escape(c); }

struct UrnPart {
  std::string_view text;
  std::size_t offset;
};

class EpcParser {
 public:
  explicit EpcParser(std::string scheme) : scheme_(std::move(scheme)) {}

  Error error(const std::string& what) const {
    return make_error("EPC " + scheme_ + " URN: " + what);
  }

  // digits checks a numeric component (TDS PaddedNumericComponent).
  Result<std::string> digits(const UrnPart& c, const char* name) const {
    if (!text::all_digits(c.text)) {
      return error(std::string(name) + " " + text::quoted(c.text) + " at byte " +
                   std::to_string(c.offset) + " must be digits");
    }
    return std::string(c.text);
  }

  // gs3a3 decodes an alphanumeric component (TDS GS3A3Component).
  Result<std::string> gs3a3(const UrnPart& c, const char* name) const {
    if (c.text.empty()) return error(std::string(name) + " is empty");
    std::string out;
    for (std::size_t i = 0; i < c.text.size(); ++i) {
      const char ch = c.text[i];
      if (ch == '%') {
        const int hi = i + 1 < c.text.size() ? text::hex_value(c.text[i + 1]) : -1;
        const int lo = i + 2 < c.text.size() ? text::hex_value(c.text[i + 2]) : -1;
        if (hi < 0 || lo < 0) {
          return error("invalid escape in " + std::string(name) + " at byte " +
                       std::to_string(c.offset + i) + ": '%' must be followed by two hex digits");
        }
        const char decoded = static_cast<char>(hi * 16 + lo);
        if (!in_cset82(decoded)) {
          return error("escape " + std::string(c.text.substr(i, 3)) + " in " + name + " at byte " +
                       std::to_string(c.offset + i) + " is not a GS1 character set 82 character");
        }
        out.push_back(decoded);
        i += 2;
      } else if (is_gs3a3_raw(ch)) {
        out.push_back(ch);
      } else {
        return error("character " + text::describe_char(ch) + " in " + name + " at byte " +
                     std::to_string(c.offset + i) + " must be escaped or is not allowed");
      }
    }
    return out;
  }

  // company_and_ref checks a company prefix and a reference that together
  // hold |total| digits.
  Result<void> company_and_ref(const UrnPart& cp, const UrnPart& ref, std::size_t total,
                               const char* ref_name) const {
    if (Result<std::string> r = digits(cp, "company prefix"); !r) return r.error();
    if (Result<std::string> r = digits(ref, ref_name); !r) return r.error();
    if (cp.text.size() < kMinCompanyPrefix || cp.text.size() > kMaxCompanyPrefix) {
      return error("company prefix " + text::quoted(cp.text) + " has " +
                   std::to_string(cp.text.size()) + " digits; it must have 6 to 12");
    }
    if (cp.text.size() + ref.text.size() != total) {
      return error("company prefix and " + std::string(ref_name) + " have " +
                   std::to_string(cp.text.size() + ref.text.size()) + " digits together; " +
                   std::to_string(total) + " are required");
    }
    return {};
  }

  Result<void> company_prefix_only(const UrnPart& cp) const {
    if (Result<std::string> r = digits(cp, "company prefix"); !r) return r.error();
    if (cp.text.size() < kMinCompanyPrefix || cp.text.size() > kMaxCompanyPrefix) {
      return error("company prefix " + text::quoted(cp.text) + " has " +
                   std::to_string(cp.text.size()) + " digits; it must have 6 to 12");
    }
    return {};
  }

  const std::string& scheme() const { return scheme_; }

 private:
  std::string scheme_;
};

std::string with_check_digit(std::string digits) {
  digits.push_back(check_digit(digits).value_or('0'));
  return digits;
}

std::string escape_gs3a3(std::string_view value) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (char c : value) {
    if (must_escape(c)) {
      const auto u = static_cast<unsigned char>(c);
      out.push_back('%');
      out.push_back(kHex[u >> 4]);
      out.push_back(kHex[u & 0x0F]);
    } else {
      out.push_back(c);
    }
  }
  return out;
}

// split_components cuts |body| at '.' into exactly |count| components; the
// last one keeps any further dots (alphanumeric serials may contain '.').
std::optional<std::vector<UrnPart>> split_components(std::string_view body, std::size_t offset,
                                                     std::size_t count) {
  std::vector<UrnPart> out;
  std::size_t pos = 0;
  for (std::size_t i = 0; i + 1 < count; ++i) {
    const std::size_t dot = body.find('.', pos);
    if (dot == std::string_view::npos) return std::nullopt;
    out.push_back({body.substr(pos, dot - pos), offset + pos});
    pos = dot + 1;
  }
  out.push_back({body.substr(pos), offset + pos});
  return out;
}

struct EpcScheme {
  std::string_view name;
  std::size_t components;
  const char* syntax;
};

constexpr EpcScheme kSchemes[] = {
    {"sgtin", 3, "CompanyPrefix.ItemRefAndIndicator.SerialNumber"},
    {"sscc", 2, "CompanyPrefix.SerialReference"},
    {"sgln", 3, "CompanyPrefix.LocationReference.Extension"},
    {"grai", 3, "CompanyPrefix.AssetType.SerialNumber"},
    {"giai", 2, "CompanyPrefix.IndividualAssetReference"},
    {"gsrn", 2, "CompanyPrefix.ServiceReference"},
    {"gsrnp", 2, "CompanyPrefix.ServiceReference"},
    {"gdti", 3, "CompanyPrefix.DocumentType.SerialNumber"},
    {"sgcn", 3, "CompanyPrefix.CouponReference.SerialComponent"},
    {"ginc", 2, "CompanyPrefix.ConsignmentReference"},
    {"gsin", 2, "CompanyPrefix.ShipperReference"},
    {"pgln", 2, "CompanyPrefix.PartyReference"},
    {"itip", 5, "CompanyPrefix.ItemRefAndIndicator.PieceNumber.TotalCount.SerialNumber"},
    {"upui", 3, "CompanyPrefix.ItemRefAndIndicator.TPX"},
};

// gtin_from builds a GTIN-14 from company prefix and indicator+item reference.
std::string gtin_from(std::string_view cp, std::string_view item_ref_and_indicator) {
  std::string g(1, item_ref_and_indicator.front());
  g += cp;
  g += item_ref_and_indicator.substr(1);
  return with_check_digit(std::move(g));
}

}  // namespace

Result<EpcUrn> parse_epc_urn(std::string_view input) {
  if (!text::istarts_with(input, kUrnPrefix)) {
    if (text::istarts_with(input, "urn:epc:")) {
      return make_error("only EPC pure-identity URNs (urn:epc:id:...) name an object; got " +
                        text::quoted(input.substr(0, 24)));
    }
    return make_error("an EPC pure-identity URN starts with urn:epc:id:");
  }
  const std::string_view rest = input.substr(kUrnPrefix.size());
  const std::size_t colon = rest.find(':');
  if (colon == std::string_view::npos) {
    return make_error("EPC URN has no ':' after the scheme name (urn:epc:id:sgtin:...)");
  }
  const std::string scheme_name = text::lower_ascii(rest.substr(0, colon));
  const EpcScheme* scheme = nullptr;
  for (const EpcScheme& s : kSchemes) {
    if (s.name == scheme_name) scheme = &s;
  }
  if (scheme == nullptr) {
    return make_error("EPC scheme " + text::quoted(rest.substr(0, colon)) +
                      " is not supported (sgtin, sscc, sgln, grai, giai, gsrn, gsrnp, gdti, "
                      "sgcn, ginc, gsin, pgln, itip, upui)");
  }
  const std::size_t body_offset = kUrnPrefix.size() + colon + 1;
  const std::string_view body = input.substr(body_offset);
  EpcParser p(scheme_name);
  const std::optional<std::vector<UrnPart>> parts =
      split_components(body, body_offset, scheme->components);
  if (!parts) return p.error(std::string("expected ") + scheme->syntax);
  const std::vector<UrnPart>& c = *parts;

  std::vector<AiValue> values;
  std::vector<std::string> canonical_parts;
  for (const UrnPart& part : c) canonical_parts.emplace_back(part.text);

  if (scheme_name == "sgtin" || scheme_name == "upui") {
    if (Result<void> r = p.company_and_ref(c[0], c[1], 13, "item reference"); !r) return r.error();
    Result<std::string> serial = p.gs3a3(c[2], scheme_name == "sgtin" ? "serial" : "TPX");
    if (!serial) return serial.error();
    values.push_back({"01", gtin_from(c[0].text, c[1].text)});
    values.push_back({scheme_name == "sgtin" ? "21" : "235", *serial});
    canonical_parts[2] = escape_gs3a3(*serial);
  } else if (scheme_name == "itip") {
    if (Result<void> r = p.company_and_ref(c[0], c[1], 13, "item reference"); !r) return r.error();
    for (std::size_t i : {2u, 3u}) {
      if (Result<std::string> r = p.digits(c[i], i == 2 ? "piece number" : "total count"); !r) {
        return r.error();
      }
      if (c[i].text.size() != 2) {
        return p.error(std::string(i == 2 ? "piece number" : "total count") +
                       " must have 2 digits");
      }
    }
    Result<std::string> serial = p.gs3a3(c[4], "serial");
    if (!serial) return serial.error();
    values.push_back({"8006", gtin_from(c[0].text, c[1].text) + std::string(c[2].text) +
                                  std::string(c[3].text)});
    values.push_back({"21", *serial});
    canonical_parts[4] = escape_gs3a3(*serial);
  } else if (scheme_name == "sscc") {
    if (Result<void> r = p.company_and_ref(c[0], c[1], 17, "serial reference"); !r)
      return r.error();
    std::string s(1, c[1].text.front());
    s += c[0].text;
    s += c[1].text.substr(1);
    values.push_back({"00", with_check_digit(std::move(s))});
  } else if (scheme_name == "sgln") {
    if (Result<void> r = p.company_and_ref(c[0], c[1], 12, "location reference"); !r) {
      return r.error();
    }
    Result<std::string> ext = p.gs3a3(c[2], "extension");
    if (!ext) return ext.error();
    values.push_back({"414", with_check_digit(std::string(c[0].text) + std::string(c[1].text))});
    // TDS: the extension "0" stands for "no extension".
    if (*ext != "0") values.push_back({"254", *ext});
    canonical_parts[2] = escape_gs3a3(*ext);
  } else if (scheme_name == "grai" || scheme_name == "gdti" || scheme_name == "sgcn") {
    const char* ref_name = scheme_name == "grai"   ? "asset type"
                           : scheme_name == "gdti" ? "document type"
                                                   : "coupon reference";
    if (Result<void> r = p.company_and_ref(c[0], c[1], 12, ref_name); !r) return r.error();
    std::string serial;
    if (scheme_name == "sgcn") {
      Result<std::string> s = p.digits(c[2], "serial");
      if (!s) return s.error();
      serial = *s;
    } else {
      Result<std::string> s = p.gs3a3(c[2], "serial");
      if (!s) return s.error();
      serial = *s;
      canonical_parts[2] = escape_gs3a3(serial);
    }
    const std::string key = with_check_digit(std::string(c[0].text) + std::string(c[1].text));
    if (scheme_name == "grai") values.push_back({"8003", "0" + key + serial});
    if (scheme_name == "gdti") values.push_back({"253", key + serial});
    if (scheme_name == "sgcn") values.push_back({"255", key + serial});
  } else if (scheme_name == "giai" || scheme_name == "ginc") {
    if (Result<void> r = p.company_prefix_only(c[0]); !r) return r.error();
    Result<std::string> ref =
        p.gs3a3(c[1], scheme_name == "giai" ? "asset reference" : "consignment reference");
    if (!ref) return ref.error();
    values.push_back({scheme_name == "giai" ? "8004" : "401", std::string(c[0].text) + *ref});
    canonical_parts[1] = escape_gs3a3(*ref);
  } else {  // gsrn, gsrnp, gsin, pgln: company prefix + reference + check digit
    const std::size_t total = scheme_name == "gsin" ? 16 : scheme_name == "pgln" ? 12 : 17;
    if (Result<void> r = p.company_and_ref(c[0], c[1], total, "reference"); !r) return r.error();
    const char* ai = scheme_name == "gsrn"    ? "8018"
                     : scheme_name == "gsrnp" ? "8017"
                     : scheme_name == "gsin"  ? "402"
                                              : "417";
    values.push_back({ai, with_check_digit(std::string(c[0].text) + std::string(c[1].text))});
  }

  Result<DigitalLink> dl = digital_link_from_ai_values(values);
  if (!dl) return p.error(dl.error().message);
  EpcUrn out;
  out.scheme = scheme_name;
  out.canonical = std::string(kUrnPrefix) + scheme_name + ":";
  for (std::size_t i = 0; i < canonical_parts.size(); ++i) {
    if (i > 0) out.canonical.push_back('.');
    out.canonical += canonical_parts[i];
  }
  out.key = std::move(dl).value();
  return out;
}

}  // namespace idra::ids::gs1

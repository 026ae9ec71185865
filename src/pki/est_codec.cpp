// est_codec.cpp: the encodings of EST (RFC 7030, as corrected by RFC 8951):
// base64 bodies, certs-only CMS and CSR attributes.
#include <openssl/err.h>
#include <openssl/pkcs7.h>

#include <algorithm>
#include <climits>
#include <cstdint>
#include <initializer_list>
#include <stdexcept>

#include "idra/pki.hpp"
#include "pki/internal.hpp"

namespace idra::pki {

namespace {

using Pkcs7Ptr = std::unique_ptr<PKCS7, detail::Free<&PKCS7_free>>;

constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

int base64_value(char c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '+') return 62;
  if (c == '/') return 63;
  return -1;
}

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

// A minimal DER writer for the few fixed structures of csr_attributes.
using Bytes = std::vector<unsigned char>;

Bytes tlv(unsigned char tag, const Bytes& content) {
  Bytes out{tag};
  const std::size_t n = content.size();
  if (n < 0x80) {
    out.push_back(static_cast<unsigned char>(n));
  } else {
    Bytes len;
    for (std::size_t v = n; v > 0; v >>= 8) len.insert(len.begin(), static_cast<unsigned char>(v));
    out.push_back(static_cast<unsigned char>(0x80 | len.size()));
    out.insert(out.end(), len.begin(), len.end());
  }
  out.insert(out.end(), content.begin(), content.end());
  return out;
}

Bytes concat(std::initializer_list<Bytes> parts) {
  Bytes out;
  for (const Bytes& p : parts) out.insert(out.end(), p.begin(), p.end());
  return out;
}

// oid encodes an OBJECT IDENTIFIER from its arcs (at least two).
Bytes oid(std::initializer_list<std::uint32_t> arcs) {
  auto it = arcs.begin();
  const std::uint32_t first = *it++;
  const std::uint32_t second = *it++;
  Bytes content;
  auto base128 = [&](std::uint32_t v) {
    Bytes digits{static_cast<unsigned char>(v & 0x7f)};
    for (v >>= 7; v > 0; v >>= 7) {
      digits.insert(digits.begin(), static_cast<unsigned char>(0x80 | (v & 0x7f)));
    }
    content.insert(content.end(), digits.begin(), digits.end());
  };
  base128(first * 40 + second);
  for (; it != arcs.end(); ++it) base128(*it);
  return tlv(0x06, content);
}

Bytes integer(std::uint32_t v) {
  Bytes content;
  for (; v > 0; v >>= 8) content.insert(content.begin(), static_cast<unsigned char>(v));
  if (content.empty() || (content.front() & 0x80) != 0) content.insert(content.begin(), 0);
  return tlv(0x02, content);
}

Bytes sequence(const Bytes& content) { return tlv(0x30, content); }
Bytes set(const Bytes& content) { return tlv(0x31, content); }

// attribute is an Attribute { type, SET OF value } with one value.
Bytes attribute(const Bytes& type, const Bytes& value) {
  return sequence(concat({type, set(value)}));
}

}  // namespace

Result<std::vector<unsigned char>> decode_base64_body(std::string_view body,
                                                      std::size_t max_decoded) {
  // Count the significant characters first, so the size limit holds before
  // anything is allocated for a large body.
  std::size_t significant = 0;
  for (char c : body) {
    if (!is_space(c)) ++significant;
  }
  if (significant == 0) return make_error("the body is empty");
  if (significant % 4 != 0) {
    return make_error("the base64 body's length is not a multiple of 4 (missing padding?)");
  }
  const std::size_t upper_bound = significant / 4 * 3;
  if (upper_bound > max_decoded + 2) {
    return make_error("the body decodes to more than " + std::to_string(max_decoded) + " bytes");
  }
  std::vector<unsigned char> out;
  out.reserve(upper_bound);
  std::uint32_t group = 0;
  int in_group = 0;
  int padding = 0;
  std::size_t seen = 0;
  for (char c : body) {
    if (is_space(c)) continue;
    ++seen;
    int v = 0;
    if (c == '=') {
      // Padding only as the last one or two characters (the length is a
      // multiple of 4, so that is inside the last group).
      if (seen + 2 <= significant) {
        return make_error("base64 padding '=' in the middle of the body");
      }
      ++padding;
    } else {
      if (padding > 0) return make_error("base64 data after the padding");
      v = base64_value(c);
      if (v < 0) return make_error("invalid character in the base64 body");
    }
    group = (group << 6) | static_cast<std::uint32_t>(v);
    if (++in_group == 4) {
      out.push_back(static_cast<unsigned char>(group >> 16));
      if (padding < 2) out.push_back(static_cast<unsigned char>(group >> 8));
      if (padding < 1) out.push_back(static_cast<unsigned char>(group));
      // Canonical form: the bits the padding hides must be zero.
      if ((padding == 1 && (group & 0xff) != 0) || (padding == 2 && (group & 0xffff) != 0)) {
        return make_error("non-canonical base64 padding bits");
      }
      group = 0;
      in_group = 0;
    }
  }
  if (padding > 2) return make_error("too much base64 padding");
  if (out.empty()) return make_error("the body is empty");
  if (out.size() > max_decoded) {
    return make_error("the body decodes to more than " + std::to_string(max_decoded) + " bytes");
  }
  return out;
}

std::string encode_base64_body(std::span<const unsigned char> der) {
  std::string out;
  out.reserve((der.size() + 2) / 3 * 4 * 66 / 64 + 2);
  std::size_t column = 0;
  auto put = [&](char c) {
    out += c;
    if (++column == 64) {
      out += "\r\n";
      column = 0;
    }
  };
  for (std::size_t i = 0; i < der.size(); i += 3) {
    const std::size_t n = std::min<std::size_t>(3, der.size() - i);
    std::uint32_t group = static_cast<std::uint32_t>(der[i]) << 16;
    if (n > 1) group |= static_cast<std::uint32_t>(der[i + 1]) << 8;
    if (n > 2) group |= der[i + 2];
    put(kAlphabet[(group >> 18) & 63]);
    put(kAlphabet[(group >> 12) & 63]);
    put(n > 1 ? kAlphabet[(group >> 6) & 63] : '=');
    put(n > 2 ? kAlphabet[group & 63] : '=');
  }
  if (column != 0) out += "\r\n";
  return out;
}

std::vector<unsigned char> certs_only(std::span<const X509* const> certificates) {
  // Only an allocation failure can make any of this fail.
  auto fail = [](const char* what) {
    return std::runtime_error(internal::openssl_error(what).message);
  };
  Pkcs7Ptr p7(PKCS7_new());
  if (!p7 || PKCS7_set_type(p7.get(), NID_pkcs7_signed) != 1 ||
      PKCS7_content_new(p7.get(), NID_pkcs7_data) != 1) {
    throw fail("cannot build the certs-only structure");
  }
  // RFC 5652 5.2: a degenerate SignedData has no eContent, only its type.
  PKCS7_set_detached(p7.get(), 1);
  for (const X509* cert : certificates) {
    // PKCS7_add_certificate takes its own reference.
    if (PKCS7_add_certificate(p7.get(), const_cast<X509*>(cert)) != 1) {
      throw fail("PKCS7_add_certificate");
    }
  }
  const int len = i2d_PKCS7(p7.get(), nullptr);
  if (len <= 0) throw fail("i2d_PKCS7");
  std::vector<unsigned char> out(static_cast<std::size_t>(len));
  unsigned char* p = out.data();
  if (i2d_PKCS7(p7.get(), &p) != len) throw fail("i2d_PKCS7");
  return out;
}

Result<std::vector<X509Ptr>> certificates_from_certs_only(std::span<const unsigned char> der) {
  if (der.empty() || der.size() > static_cast<std::size_t>(LONG_MAX)) {
    return make_error("not a certs-only structure: empty or too large");
  }
  const unsigned char* p = der.data();
  Pkcs7Ptr p7(d2i_PKCS7(nullptr, &p, static_cast<long>(der.size())));
  if (!p7) return internal::openssl_error("not a DER PKCS#7/CMS structure");
  if (p != der.data() + der.size()) return make_error("trailing bytes after the PKCS#7 structure");
  if (!PKCS7_type_is_signed(p7.get()) || p7->d.sign == nullptr) {
    return make_error("the PKCS#7 structure is not SignedData");
  }
  const STACK_OF(X509)* certs = p7->d.sign->cert;
  if (certs == nullptr || sk_X509_num(certs) == 0) {
    return make_error("the PKCS#7 structure holds no certificates");
  }
  std::vector<X509Ptr> out;
  for (int i = 0; i < sk_X509_num(certs); ++i) out.push_back(up_ref(*sk_X509_value(certs, i)));
  return out;
}

std::vector<unsigned char> csr_attributes(const Profile& profile, bool want_challenge_password) {
  const Bytes challenge_password = oid({1, 2, 840, 113549, 1, 9, 7});
  const Bytes ec_public_key = oid({1, 2, 840, 10045, 2, 1});
  Bytes items;
  if (want_challenge_password) items = concat({items, challenge_password});
  if (!profile.key_algorithms.empty()) {
    switch (profile.key_algorithms.front()) {
      case KeyAlgorithm::kEcP256:
        items = concat({items, oid({1, 2, 840, 10045, 4, 3, 2}),  // ecdsa-with-SHA256
                        attribute(ec_public_key, oid({1, 2, 840, 10045, 3, 1, 7}))});  // P-256
        break;
      case KeyAlgorithm::kEcP384:
        items = concat({items, oid({1, 2, 840, 10045, 4, 3, 3}),              // ecdsa-with-SHA384
                        attribute(ec_public_key, oid({1, 3, 132, 0, 34}))});  // P-384
        break;
      case KeyAlgorithm::kEd25519:
        items = concat({items, oid({1, 3, 101, 112})});  // id-Ed25519
        break;
      case KeyAlgorithm::kRsa:
        // sha256WithRSAEncryption, and rsaEncryption with the smallest
        // modulus size accepted (the form RFC 9908 describes).
        items = concat({items, oid({1, 2, 840, 113549, 1, 1, 11}),
                        attribute(oid({1, 2, 840, 113549, 1, 1, 1}),
                                  integer(static_cast<std::uint32_t>(
                                      std::max(profile.min_rsa_bits, kMinRsaBits))))});
        break;
    }
  }
  return sequence(items);
}

}  // namespace idra::pki

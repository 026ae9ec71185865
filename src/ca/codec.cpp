// codec.cpp: JSON encodings of the CA's table entries (see codec.hpp).
#include "ca/codec.hpp"

#include <sodium.h>

#include <nlohmann/json.hpp>
#include <stdexcept>

namespace idra::ca::codec {

using nlohmann::json;

std::string base64(std::string_view bytes) {
  std::string out(sodium_base64_encoded_len(bytes.size(), sodium_base64_VARIANT_ORIGINAL), '\0');
  sodium_bin2base64(out.data(), out.size(), reinterpret_cast<const unsigned char*>(bytes.data()),
                    bytes.size(), sodium_base64_VARIANT_ORIGINAL);
  out.resize(out.size() - 1);  // the terminating NUL
  return out;
}

std::optional<std::string> unbase64(std::string_view text) {
  std::string out(text.size(), '\0');
  std::size_t len = 0;
  if (sodium_base642bin(reinterpret_cast<unsigned char*>(out.data()), out.size(), text.data(),
                        text.size(), nullptr, &len, nullptr, sodium_base64_VARIANT_ORIGINAL) != 0) {
    return std::nullopt;
  }
  out.resize(len);
  return out;
}

std::string encode(const CertEntry& e) {
  json j = {{"serial", e.serial},       {"identifier", e.identifier}, {"profile", e.profile},
            {"fingerprint", e.fingerprint}, {"subject", e.subject},   {"via", e.via},
            {"issued_at", e.issued_at}, {"not_before", e.not_before}, {"not_after", e.not_after},
            {"revoked", e.revoked},     {"revoked_at", e.revoked_at}, {"reason", e.reason},
            {"der", base64(e.der)}};
  return j.dump();
}

CertEntry decode_cert(std::string_view bytes) {
  try {
    const json j = json::parse(bytes);
    CertEntry e;
    e.serial = j.at("serial").get<std::string>();
    e.identifier = j.at("identifier").get<std::string>();
    e.profile = j.at("profile").get<std::string>();
    e.fingerprint = j.at("fingerprint").get<std::string>();
    e.subject = j.at("subject").get<std::string>();
    e.via = j.at("via").get<std::string>();
    e.issued_at = j.at("issued_at").get<std::int64_t>();
    e.not_before = j.at("not_before").get<std::int64_t>();
    e.not_after = j.at("not_after").get<std::int64_t>();
    e.revoked = j.at("revoked").get<bool>();
    e.revoked_at = j.at("revoked_at").get<std::int64_t>();
    e.reason = j.at("reason").get<int>();
    auto der = unbase64(j.at("der").get<std::string>());
    if (!der) throw std::runtime_error("bad base64 DER");
    e.der = std::move(*der);
    return e;
  } catch (const std::exception& ex) {
    throw std::runtime_error(std::string("ca: a stored certificate entry is corrupt: ") + ex.what());
  }
}

std::string encode(const TokenEntry& t) {
  json j = {{"identifier", t.identifier}, {"profile", t.profile},     {"hash", t.hash},
            {"created_at", t.created_at}, {"expires_at", t.expires_at}, {"used_at", t.used_at},
            {"used_by_serial", t.used_by_serial}};
  return j.dump();
}

TokenEntry decode_token(std::string_view bytes) {
  try {
    const json j = json::parse(bytes);
    TokenEntry t;
    t.identifier = j.at("identifier").get<std::string>();
    t.profile = j.at("profile").get<std::string>();
    t.hash = j.at("hash").get<std::string>();
    t.created_at = j.at("created_at").get<std::int64_t>();
    t.expires_at = j.at("expires_at").get<std::int64_t>();
    t.used_at = j.at("used_at").get<std::int64_t>();
    t.used_by_serial = j.at("used_by_serial").get<std::string>();
    return t;
  } catch (const std::exception& ex) {
    throw std::runtime_error(std::string("ca: a stored token entry is corrupt: ") + ex.what());
  }
}

std::string identifier_key(std::string_view identifier, std::string_view serial) {
  std::string k = identifier_key_prefix(identifier);
  k += serial;
  return k;
}

std::string identifier_key_prefix(std::string_view identifier) {
  std::string k("id");
  k.push_back('\0');
  if (identifier.size() <= 400) {
    k += identifier;
  } else {
    // LMDB keys stop at 511 bytes: long identifiers are indexed by their hash.
    unsigned char digest[32];
    crypto_generichash(digest, sizeof digest, reinterpret_cast<const unsigned char*>(identifier.data()),
                       identifier.size(), nullptr, 0);
    char hex[65];
    sodium_bin2hex(hex, sizeof hex, digest, sizeof digest);
    k += '#';
    k += hex;
  }
  k.push_back('\0');
  return k;
}

std::string fingerprint_key(std::string_view fingerprint) {
  std::string k("fp");
  k.push_back('\0');
  k += fingerprint;
  return k;
}

}  // namespace idra::ca::codec

// encoding.cpp: PEM and DER conversions, fingerprints, handle references.
#include <openssl/err.h>
#include <openssl/pem.h>

#include <climits>
#include <stdexcept>

#include "idra/pki.hpp"
#include "pki/internal.hpp"

namespace idra::pki {

X509Ptr up_ref(const X509& x) {
  X509* p = const_cast<X509*>(&x);  // reference counting does not change the certificate
  if (X509_up_ref(p) != 1) throw std::runtime_error("X509_up_ref failed");
  return X509Ptr(p);
}

EvpPkeyPtr up_ref(const EVP_PKEY& key) {
  EVP_PKEY* p = const_cast<EVP_PKEY*>(&key);
  if (EVP_PKEY_up_ref(p) != 1) throw std::runtime_error("EVP_PKEY_up_ref failed");
  return EvpPkeyPtr(p);
}

std::string to_pem(const X509& certificate) {
  BioPtr bio(BIO_new(BIO_s_mem()));
  if (!bio || PEM_write_bio_X509(bio.get(), &certificate) != 1) {
    // Only an allocation failure gets here.
    throw std::runtime_error(internal::openssl_error("PEM_write_bio_X509").message);
  }
  char* data = nullptr;
  long len = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<std::size_t>(len));
}

std::vector<unsigned char> to_der(const X509& certificate) {
  int len = i2d_X509(&certificate, nullptr);
  if (len <= 0) throw std::runtime_error(internal::openssl_error("i2d_X509").message);
  std::vector<unsigned char> out(static_cast<std::size_t>(len));
  unsigned char* p = out.data();
  if (i2d_X509(&certificate, &p) != len) {
    throw std::runtime_error(internal::openssl_error("i2d_X509").message);
  }
  return out;
}

Result<X509Ptr> certificate_from_der(std::span<const unsigned char> der) {
  if (der.size() > static_cast<std::size_t>(LONG_MAX)) return make_error("certificate too large");
  const unsigned char* p = der.data();
  X509Ptr x(d2i_X509(nullptr, &p, static_cast<long>(der.size())));
  if (!x) return internal::openssl_error("not a DER certificate");
  if (p != der.data() + der.size()) return make_error("trailing bytes after the DER certificate");
  return x;
}

Result<std::vector<X509Ptr>> certificates_from_pem(std::string_view pem) {
  if (pem.size() > static_cast<std::size_t>(INT_MAX)) return make_error("PEM text too large");
  BioPtr bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  if (!bio) return internal::openssl_error("BIO_new_mem_buf");
  std::vector<X509Ptr> out;
  for (;;) {
    X509Ptr x(PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr));
    if (!x) {
      unsigned long err = ERR_peek_last_error();
      if (ERR_GET_LIB(err) == ERR_LIB_PEM && ERR_GET_REASON(err) == PEM_R_NO_START_LINE &&
          !out.empty()) {
        internal::clear_openssl_errors();  // the normal end of the text
        break;
      }
      return internal::openssl_error(out.empty() ? "no certificate in PEM text"
                                                 : "damaged certificate in PEM text");
    }
    out.push_back(std::move(x));
  }
  return out;
}

Result<std::vector<X509Ptr>> load_certificates(const std::filesystem::path& path) {
  auto text =
      internal::read_file(path, std::size_t{1} << 20, internal::Access::kAny, "certificate file");
  if (!text) return text.error();
  auto certs = certificates_from_pem(*text);
  if (!certs) return make_error(path.string() + ": " + certs.error().message);
  return certs;
}

std::string sha256_fingerprint_hex(const X509& certificate) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int n = 0;
  if (X509_digest(&certificate, EVP_sha256(), md, &n) != 1) {
    throw std::runtime_error(internal::openssl_error("X509_digest").message);
  }
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(n * 2);
  for (unsigned int i = 0; i < n; ++i) {
    out.push_back(kHex[md[i] >> 4]);
    out.push_back(kHex[md[i] & 0xf]);
  }
  return out;
}

std::string serial_hex(const X509& certificate) {
  BignumPtr bn(ASN1_INTEGER_to_BN(X509_get0_serialNumber(&certificate), nullptr));
  if (!bn) throw std::runtime_error(internal::openssl_error("ASN1_INTEGER_to_BN").message);
  char* hex = BN_bn2hex(bn.get());
  if (hex == nullptr) throw std::runtime_error(internal::openssl_error("BN_bn2hex").message);
  std::string out(hex);
  OPENSSL_free(hex);
  return out;
}

}  // namespace idra::pki

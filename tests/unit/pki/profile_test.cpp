// Certificate profiles, the hdl: URI form, and profile-driven issuance
// (checked in-process and with the openssl CLI).
#include <gtest/gtest.h>

#include <set>
#include <string>

#include "idra/pki.hpp"
#include "unit/pki/test_util.hpp"

namespace idra::pki {
namespace {

using namespace test;  // the helpers of test_util.hpp
using std::chrono::hours;

struct TestCa {
  CertificateAuthority root;
  CertificateAuthority inter;
};

TestCa make_ca() {
  CertificateAuthority root = make_root("Profile Test Root");
  CertificateAuthority inter =
      make_intermediate(root, "Profile Test Issuing CA", KeyAlgorithm::kEcP256, 5 * kYear);
  return TestCa{std::move(root), std::move(inter)};
}

const TestCa& ca() {
  static const TestCa instance = make_ca();
  return instance;
}

Profile builtin(std::string_view name) {
  for (auto& p : builtin_profiles()) {
    if (p.name == name) return p;
  }
  throw std::runtime_error("no built-in profile " + std::string(name));
}

const IssueUrls kUrls{"http://127.0.0.1:8080/crl/intermediate.crl", "http://127.0.0.1:8080/ocsp"};

const std::string kMinimal = R"({"role": "device", "validity": "30d", "key_types": ["EC-P256"]})";

std::string with(const std::string& extra) {
  return R"({"role": "device", "validity": "30d", "key_types": ["EC-P256"], )" + extra + "}";
}

void expect_error(const Result<Profile>& r, const std::string& needle) {
  ASSERT_FALSE(r) << "accepted, wanted an error about " << needle;
  EXPECT_NE(r.error().message.find(needle), std::string::npos) << r.error().message;
}

// ---------------------------------------------------------------------------
// Parsing.

TEST(PkiProfile, EveryBuiltinProfileParses) {
  auto profiles = builtin_profiles();
  std::set<std::string> names;
  for (const auto& p : profiles) names.insert(p.name);
  EXPECT_EQ(names,
            (std::set<std::string>{"admin", "auditor", "device", "ocsp", "partner", "server"}));
  for (const auto& p : profiles) {
    EXPECT_EQ(p.role, p.name);
    EXPECT_FALSE(p.key_algorithms.empty()) << p.name;
    EXPECT_FALSE(p.extended_key_usage.empty()) << p.name;
  }
  // The source files parse too (they are what got compiled in).
  for (const auto& p : profiles) {
    const auto file = std::filesystem::path(IDRA_TEST_VECTORS).parent_path().parent_path() / "pki" /
                      "profiles" / (p.name + ".json");
    auto parsed = parse_profile(test::read_text(file), p.name);
    ASSERT_TRUE(parsed) << file << ": " << parsed.error().message;
    EXPECT_EQ(*parsed, p);
  }
}

TEST(PkiProfile, BuiltinValuesAreTheDocumentedOnes) {
  const Profile device = builtin("device");
  EXPECT_EQ(device.validity, hours{24 * 365});
  EXPECT_EQ(device.key_algorithms.size(), 4u);
  EXPECT_TRUE(device.identifier_uri);
  EXPECT_EQ(device.identifier, SanRule::kRequired);
  EXPECT_TRUE(device.enrollable);
  EXPECT_EQ(device.extended_key_usage, std::vector<std::string>{"clientAuth"});
  const Profile server = builtin("server");
  EXPECT_EQ(server.validity, hours{24 * 397});
  EXPECT_EQ(server.dns, SanRule::kOptional);
  EXPECT_EQ(server.ip, SanRule::kOptional);
  EXPECT_EQ(server.extended_key_usage, (std::vector<std::string>{"serverAuth", "clientAuth"}));
  const Profile ocsp = builtin("ocsp");
  EXPECT_EQ(ocsp.validity, hours{24 * 90});
  EXPECT_TRUE(ocsp.ocsp_no_check);
  EXPECT_FALSE(ocsp.crl_distribution_point);
  EXPECT_FALSE(ocsp.ocsp_url);
  EXPECT_FALSE(ocsp.enrollable);
  EXPECT_EQ(ocsp.key_algorithms,
            (std::vector<KeyAlgorithm>{KeyAlgorithm::kEcP256, KeyAlgorithm::kEcP384}));
  EXPECT_FALSE(builtin("auditor").enrollable);
  EXPECT_FALSE(builtin("admin").enrollable);
  EXPECT_TRUE(builtin("partner").enrollable);
  EXPECT_EQ(builtin("auditor").validity, hours{24 * 90});
}

TEST(PkiProfile, MinimalProfileTakesTheDefaults) {
  auto p = parse_profile(kMinimal, "mini");
  ASSERT_TRUE(p) << p.error().message;
  EXPECT_EQ(p->name, "mini");
  EXPECT_EQ(p->validity, hours{24 * 30});
  EXPECT_EQ(p->min_rsa_bits, kMinRsaBits);
  EXPECT_EQ(p->identifier, SanRule::kOptional);
  EXPECT_EQ(p->dns, SanRule::kForbidden);
  EXPECT_TRUE(p->crl_distribution_point);
  EXPECT_FALSE(p->enrollable);
  auto hourly = parse_profile(
      R"({"role": "device", "validity": "24h", "key_types": ["Ed25519", "RSA"], "min_rsa_bits": 3072})",
      "x");
  ASSERT_TRUE(hourly) << hourly.error().message;
  EXPECT_EQ(hourly->validity, hours{24});
  EXPECT_EQ(hourly->min_rsa_bits, 3072);
}

TEST(PkiProfile, BadProfilesAreRejectedNamingTheField) {
  expect_error(parse_profile("{not json", "p"), "not valid JSON");
  expect_error(parse_profile("[]", "p"), "must be an object");
  expect_error(parse_profile(with(R"("colour": "red")"), "p"), "colour: unknown key");
  expect_error(parse_profile(R"({"role": "device", "validity": "30d", "key_types": ["DSA"]})", "p"),
               "key_types: unknown value \"DSA\"");
  expect_error(parse_profile(R"({"role": "device", "validity": "30d", "key_types": []})", "p"),
               "key_types: must list at least one");
  expect_error(parse_profile(R"({"role": "device", "validity": "30d"})", "p"),
               "key_types: is required");
  expect_error(parse_profile(R"({"validity": "30d", "key_types": ["RSA"]})", "p"),
               "role: is required");
  expect_error(
      parse_profile(R"({"role": "device", "validity": "30 days", "key_types": ["RSA"]})", "p"),
      "validity: must be a string like");
  expect_error(parse_profile(R"({"role": "device", "validity": "30m", "key_types": ["RSA"]})", "p"),
               "validity");
  expect_error(
      parse_profile(R"({"role": "device", "validity": "1000000d", "key_types": ["RSA"]})", "p"),
      "validity");
  expect_error(
      parse_profile(R"({"role": "device", "validity": "7306d", "key_types": ["RSA"]})", "p"),
      "validity: must lie between 1 hour and 20 years");
  expect_error(parse_profile(R"({"role": "device", "validity": 30, "key_types": ["RSA"]})", "p"),
               "validity");
  expect_error(parse_profile(with(R"("min_rsa_bits": 1024)"), "p"), "min_rsa_bits");
  expect_error(parse_profile(with(R"("min_rsa_bits": "2048")"), "p"), "min_rsa_bits");
  expect_error(parse_profile(with(R"("key_usage": ["keyCertSign"])"), "p"),
               "key_usage: unknown value \"keyCertSign\"");
  expect_error(parse_profile(with(R"("extended_key_usage": ["anyExtendedKeyUsage"])"), "p"),
               "extended_key_usage: unknown value");
  expect_error(parse_profile(with(R"("extended_key_usage": ["clientAuth", "clientAuth"])"), "p"),
               "listed twice");
  expect_error(parse_profile(with(R"("san": {"uri": "optional"})"), "p"), "san.uri: unknown key");
  expect_error(parse_profile(with(R"("san": {"dns": "maybe"})"), "p"), "san.dns: must be");
  expect_error(parse_profile(with(R"("enrollable": "yes")"), "p"),
               "enrollable: must be true or false");
  expect_error(
      parse_profile(with(R"("identifier_uri": true, "san": {"identifier": "forbidden"})"), "p"),
      "identifier_uri");
  expect_error(
      parse_profile(R"({"role": "Dev ice", "validity": "30d", "key_types": ["RSA"]})", "p"),
      "role");
  // The profile's name is in every message.
  expect_error(parse_profile(with(R"("colour": "red")"), "custom"), "profile \"custom\"");
}

TEST(PkiProfile, LoadProfilesOverridesAndAdds) {
  TempDir dir;
  auto builtins = load_profiles(dir / "absent");
  ASSERT_TRUE(builtins) << builtins.error().message;
  EXPECT_EQ(builtins->size(), 6u);

  write_text(dir / "device.json",
             R"({"role": "device", "validity": "7d", "key_types": ["Ed25519"]})");
  write_text(dir / "sensor.json",
             R"({"role": "device", "validity": "2d", "key_types": ["EC-P384"]})");
  write_text(dir / "notes.txt", "not a profile");
  auto loaded = load_profiles(dir.path());
  ASSERT_TRUE(loaded) << loaded.error().message;
  ASSERT_EQ(loaded->size(), 7u);
  const Profile* device = nullptr;
  const Profile* sensor = nullptr;
  for (const auto& p : *loaded) {
    if (p.name == "device") device = &p;
    if (p.name == "sensor") sensor = &p;
  }
  ASSERT_TRUE(device && sensor);
  EXPECT_EQ(device->validity, hours{24 * 7});
  EXPECT_EQ(sensor->key_algorithms, std::vector<KeyAlgorithm>{KeyAlgorithm::kEcP384});

  write_text(dir / "broken.json", R"({"role": "device"})");
  auto bad = load_profiles(dir.path());
  ASSERT_FALSE(bad);
  EXPECT_NE(bad.error().message.find("broken.json"), std::string::npos) << bad.error().message;
  EXPECT_NE(bad.error().message.find("validity"), std::string::npos) << bad.error().message;
}

TEST(PkiProfile, AcceptsKeyChecksTypeAndRsaSize) {
  const Profile ocsp = builtin("ocsp");
  EXPECT_TRUE(accepts_key(ocsp, *make_key(KeyAlgorithm::kEcP384)));
  auto ed = accepts_key(ocsp, *make_key(KeyAlgorithm::kEd25519));
  ASSERT_FALSE(ed);
  EXPECT_NE(ed.error().message.find("Ed25519"), std::string::npos) << ed.error().message;
  EXPECT_NE(ed.error().message.find("EC-P256, EC-P384"), std::string::npos) << ed.error().message;

  Profile big_rsa = builtin("device");
  big_rsa.min_rsa_bits = 3072;
  auto small = accepts_key(big_rsa, *make_key(KeyAlgorithm::kRsa, 2048));
  ASSERT_FALSE(small);
  EXPECT_NE(small.error().message.find("3072"), std::string::npos) << small.error().message;
}

// ---------------------------------------------------------------------------
// The hdl: URI form.

TEST(PkiProfile, IdentifierUriRoundTrips) {
  EXPECT_EQ(identifier_uri("20.500.12345/abc-1"), "hdl:20.500.12345/abc-1");
  EXPECT_EQ(identifier_uri("10.1/a b%c#d?e[f]\"<>\\^`{|}"),
            "hdl:10.1/a%20b%25c%23d%3Fe%5Bf%5D%22%3C%3E%5C%5E%60%7B%7C%7D");
  EXPECT_EQ(identifier_uri("10.1/x!$&'()*+,;=:@~._-"), "hdl:10.1/x!$&'()*+,;=:@~._-");
  EXPECT_EQ(identifier_uri("10.1/\xc3\xa9"), "hdl:10.1/%C3%A9");
  for (const std::string& handle :
       std::vector<std::string>{"20.500.1/x", "10.1/a b%c#d?e", "10.1/\xc3\xa9t\xc3\xa9",
                                "0.NA/10.1", std::string("10.1/\x01\x7f\xff", 8)}) {
    const std::string uri = identifier_uri(handle);
    auto back = identifier_from_uri(uri);
    ASSERT_TRUE(back) << uri;
    EXPECT_EQ(*back, handle);
  }
  // Every byte value survives.
  std::string all;
  for (int c = 1; c < 256; ++c) all += static_cast<char>(c);
  EXPECT_EQ(identifier_from_uri(identifier_uri(all)), all);
}

TEST(PkiProfile, IdentifierFromUriReadsOnlyTheCanonicalForm) {
  EXPECT_FALSE(identifier_from_uri("urn:idra:device:42"));
  EXPECT_FALSE(identifier_from_uri("https://example.com/"));
  EXPECT_FALSE(identifier_from_uri("hdl:"));
  EXPECT_FALSE(identifier_from_uri("HDL:10.1/x"));
  EXPECT_FALSE(identifier_from_uri("hdl:10.1/a b"));     // raw space
  EXPECT_FALSE(identifier_from_uri("hdl:10.1/%2"));      // truncated escape
  EXPECT_FALSE(identifier_from_uri("hdl:10.1/%zz"));     // not hex
  EXPECT_FALSE(identifier_from_uri("hdl:10.1/%c3%a9"));  // lower-case hex
  EXPECT_FALSE(identifier_from_uri("hdl:10.1/%41"));     // 'A' needs no escape
  EXPECT_EQ(identifier_from_uri("hdl:10.1/%C3%A9"), "10.1/\xc3\xa9");
}

// ---------------------------------------------------------------------------
// Issuance.

const X509_EXTENSION* extension(const X509& x, int nid) {
  int i = X509_get_ext_by_NID(&x, nid, -1);
  return i < 0 ? nullptr : X509_get_ext(&x, i);
}

test::CommandResult openssl_verify(const TempDir& dir, const X509& leaf, const std::string& extra) {
  write_text(dir / "root.pem", to_pem(ca().root.certificate()));
  write_text(dir / "intermediate.pem", to_pem(ca().inter.certificate()));
  write_text(dir / "leaf.pem", to_pem(leaf));
  return run(std::string(kOpenssl) + " verify -x509_strict " + extra + " -CAfile " +
             quote(dir / "root.pem") + " -untrusted " + quote(dir / "intermediate.pem") + " " +
             quote(dir / "leaf.pem"));
}

TEST(PkiIssue, DeviceCertificateCarriesTheProfile) {
  const Profile device = builtin("device");
  Identity id;
  id.identifier = "20.500.12345/sensor 7";
  auto key = make_key(KeyAlgorithm::kEcP256);
  auto cert = issue_certificate(ca().inter, *key, device, id, kUrls);
  ASSERT_TRUE(cert) << cert.error().message;
  const X509& x = **cert;

  SubjectAltNames names = subject_alt_names(x);
  EXPECT_EQ(names.uris, std::vector<std::string>{"hdl:20.500.12345/sensor%207"});
  EXPECT_EQ(identifier_from_uri(names.uris.at(0)), id.identifier);
  // CN defaults to the identifier.
  char cn[128] = {};
  X509_NAME_get_text_by_NID(X509_get_subject_name(&x), NID_commonName, cn, sizeof cn);
  EXPECT_STREQ(cn, "20.500.12345/sensor 7");

  X509* mx = const_cast<X509*>(&x);
  EXPECT_EQ(X509_get_key_usage(mx), static_cast<uint32_t>(KU_DIGITAL_SIGNATURE));
  ASSERT_NE(extension(x, NID_key_usage), nullptr);
  EXPECT_EQ(X509_EXTENSION_get_critical(extension(x, NID_key_usage)), 1);
  EXPECT_EQ(X509_get_extended_key_usage(mx), static_cast<uint32_t>(XKU_SSL_CLIENT));
  EXPECT_EQ(X509_check_ca(mx), 0);
  EXPECT_EQ(X509_EXTENSION_get_critical(extension(x, NID_subject_alt_name)), 0);
  EXPECT_EQ(extension(x, NID_id_pkix_OCSP_noCheck), nullptr);

  // CRL distribution point and AIA OCSP.
  std::unique_ptr<CRL_DIST_POINTS, detail::Free<&CRL_DIST_POINTS_free>> cdp(
      static_cast<CRL_DIST_POINTS*>(
          X509_get_ext_d2i(&x, NID_crl_distribution_points, nullptr, nullptr)));
  ASSERT_TRUE(cdp);
  ASSERT_EQ(sk_DIST_POINT_num(cdp.get()), 1);
  const DIST_POINT* dp = sk_DIST_POINT_value(cdp.get(), 0);
  ASSERT_EQ(dp->distpoint->type, 0);
  const GENERAL_NAME* gen = sk_GENERAL_NAME_value(dp->distpoint->name.fullname, 0);
  ASSERT_EQ(gen->type, GEN_URI);
  EXPECT_EQ(std::string(reinterpret_cast<const char*>(
                ASN1_STRING_get0_data(gen->d.uniformResourceIdentifier))),
            kUrls.crl);
  std::unique_ptr<AUTHORITY_INFO_ACCESS, detail::Free<&AUTHORITY_INFO_ACCESS_free>> aia(
      static_cast<AUTHORITY_INFO_ACCESS*>(X509_get_ext_d2i(&x, NID_info_access, nullptr, nullptr)));
  ASSERT_TRUE(aia);
  ASSERT_EQ(sk_ACCESS_DESCRIPTION_num(aia.get()), 1);
  const ACCESS_DESCRIPTION* ad = sk_ACCESS_DESCRIPTION_value(aia.get(), 0);
  EXPECT_EQ(OBJ_obj2nid(ad->method), NID_ad_OCSP);
  EXPECT_EQ(std::string(reinterpret_cast<const char*>(
                ASN1_STRING_get0_data(ad->location->d.uniformResourceIdentifier))),
            kUrls.ocsp);

  // Validity: the profile's year.
  EXPECT_GT(seconds_until_expiry(x).count(), 364LL * 86400);
  EXPECT_LE(seconds_until_expiry(x).count(), 365LL * 86400);

  const X509* chain[] = {&ca().inter.certificate()};
  auto verified = verify_chain(ca().root.certificate(), chain, x);
  EXPECT_TRUE(verified) << verified.error().message;
  TempDir dir;
  auto r = openssl_verify(dir, x, "-purpose sslclient");
  EXPECT_EQ(r.exit_code, 0) << r.output;
  auto text = run(std::string(kOpenssl) + " x509 -noout -text -in " + quote(dir / "leaf.pem"));
  EXPECT_NE(text.output.find("URI:http://127.0.0.1:8080/crl/intermediate.crl"), std::string::npos)
      << text.output;
  EXPECT_NE(text.output.find("OCSP - URI:http://127.0.0.1:8080/ocsp"), std::string::npos)
      << text.output;
}

TEST(PkiIssue, ServerAndOcspProfiles) {
  Identity server_id;
  server_id.subject = {"node1.example.com", "idra tests", ""};
  server_id.names.dns_names = {"node1.example.com"};
  server_id.names.ip_addresses = {"127.0.0.1"};
  auto server = issue_certificate(ca().inter, *make_key(KeyAlgorithm::kRsa, 2048),
                                  builtin("server"), server_id, kUrls);
  ASSERT_TRUE(server) << server.error().message;
  TempDir dir;
  auto r = openssl_verify(dir, **server, "-purpose sslserver -verify_hostname node1.example.com");
  EXPECT_EQ(r.exit_code, 0) << r.output;
  EXPECT_EQ(X509_get_extended_key_usage(server->get()),
            static_cast<uint32_t>(XKU_SSL_SERVER | XKU_SSL_CLIENT));

  Identity ocsp_id;
  ocsp_id.subject = {"idra OCSP responder", "", ""};
  auto ocsp = issue_certificate(ca().inter, *make_key(KeyAlgorithm::kEcP256), builtin("ocsp"),
                                ocsp_id, kUrls);
  ASSERT_TRUE(ocsp) << ocsp.error().message;
  EXPECT_NE(extension(**ocsp, NID_id_pkix_OCSP_noCheck), nullptr);
  EXPECT_EQ(extension(**ocsp, NID_crl_distribution_points), nullptr);
  EXPECT_EQ(extension(**ocsp, NID_info_access), nullptr);
  EXPECT_EQ(extension(**ocsp, NID_subject_alt_name), nullptr);
  EXPECT_EQ(X509_get_extended_key_usage(ocsp->get()), static_cast<uint32_t>(XKU_OCSP_SIGN));
  const X509* chain[] = {&ca().inter.certificate()};
  EXPECT_TRUE(verify_chain(ca().root.certificate(), chain, **ocsp));
  auto v = openssl_verify(dir, **ocsp, "-purpose ocsphelper");
  EXPECT_EQ(v.exit_code, 0) << v.output;
}

TEST(PkiIssue, ProfileRulesAreEnforced) {
  Identity device_id;
  device_id.identifier = "20.500.1/d";
  // A key type the profile does not accept.
  auto ed = issue_certificate(ca().inter, *make_key(KeyAlgorithm::kEd25519), builtin("ocsp"),
                              Identity{"", {"x", "", ""}, {}}, kUrls);
  ASSERT_FALSE(ed);
  EXPECT_NE(ed.error().message.find("does not accept Ed25519"), std::string::npos)
      << ed.error().message;

  auto key = make_key(KeyAlgorithm::kEcP256);
  // Required identifier missing.
  auto none = issue_certificate(ca().inter, *key, builtin("device"),
                                Identity{"", {"x", "", ""}, {}}, kUrls);
  ASSERT_FALSE(none);
  EXPECT_NE(none.error().message.find("san.identifier is required"), std::string::npos)
      << none.error().message;
  // Forbidden DNS name present.
  Identity with_dns = device_id;
  with_dns.names.dns_names = {"a.example.com"};
  auto dns = issue_certificate(ca().inter, *key, builtin("device"), with_dns, kUrls);
  ASSERT_FALSE(dns);
  EXPECT_NE(dns.error().message.find("san.dns is forbidden"), std::string::npos)
      << dns.error().message;
  // URIs never come from the request.
  Identity with_uri = device_id;
  with_uri.names.uris = {"hdl:20.500.1/other"};
  EXPECT_FALSE(issue_certificate(ca().inter, *key, builtin("device"), with_uri, kUrls));
  // A malformed name.
  Identity bad_email;
  bad_email.subject.common_name = "partner";
  bad_email.names.emails = {"no-at-sign"};
  auto email = issue_certificate(ca().inter, *key, builtin("partner"), bad_email, kUrls);
  ASSERT_FALSE(email);
  EXPECT_NE(email.error().message.find("no-at-sign"), std::string::npos);
  // Nothing names the subject.
  Profile anonymous = builtin("partner");
  anonymous.identifier = SanRule::kOptional;
  auto nobody = issue_certificate(ca().inter, *key, anonymous, Identity{}, kUrls);
  ASSERT_FALSE(nobody);
  EXPECT_NE(nobody.error().message.find("name nobody"), std::string::npos);
  // A profile built in code with an unknown usage.
  Profile odd = builtin("device");
  odd.key_usage = {"keyCertSign"};
  EXPECT_FALSE(issue_certificate(ca().inter, *key, odd, device_id, kUrls));
}

TEST(PkiIssue, EmptySubjectMakesTheSanCritical) {
  Identity id;
  id.identifier = std::string("20.500.1/") + std::string(80, 'x');  // too long for a CN
  auto cert =
      issue_certificate(ca().inter, *make_key(KeyAlgorithm::kEcP256), builtin("device"), id, kUrls);
  ASSERT_TRUE(cert) << cert.error().message;
  EXPECT_EQ(X509_NAME_entry_count(X509_get_subject_name(cert->get())), 0);
  EXPECT_EQ(X509_EXTENSION_get_critical(extension(**cert, NID_subject_alt_name)), 1);
  TempDir dir;
  auto r = openssl_verify(dir, **cert, "-purpose sslclient");
  EXPECT_EQ(r.exit_code, 0) << r.output;
}

TEST(PkiIssue, AdminWithOnlyACommonNameAndNoUrls) {
  Identity id;
  id.subject = {"alice", "idra", "ops"};
  auto cert = issue_certificate(ca().inter, *make_key(KeyAlgorithm::kEd25519), builtin("admin"), id,
                                IssueUrls{});
  ASSERT_TRUE(cert) << cert.error().message;
  EXPECT_EQ(extension(**cert, NID_subject_alt_name), nullptr);
  EXPECT_EQ(extension(**cert, NID_crl_distribution_points), nullptr);
  EXPECT_EQ(extension(**cert, NID_info_access), nullptr);
  EXPECT_EQ(seconds_until_expiry(**cert) <= hours{24 * 365}, true);
  const X509* chain[] = {&ca().inter.certificate()};
  EXPECT_TRUE(verify_chain(ca().root.certificate(), chain, **cert));
}

}  // namespace
}  // namespace idra::pki

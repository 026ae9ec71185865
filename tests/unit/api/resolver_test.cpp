// The web resolver through Service::handle: GS1 Digital Link resolution,
// POST /api/gs1/links, IEC 61406 identification links, AAS discovery.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <filesystem>

#include "idra/api.hpp"
#include "idra/auth.hpp"
#include "idra/gs1.hpp"
#include "idra/store.hpp"

namespace idra::api {
namespace {

constexpr char kAdminAuth[] = "Basic MzAwJTNBMC5OQSUyRklEUkE6YWRtaW4tc2VjcmV0";  // 300%3A0.NA%2FIDRA:admin-secret
constexpr char kGtin[] = "09506000134352";

class ResolverTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/idra-resolver-test-XXXXXX";
    dir_ = ::mkdtemp(tmpl);
    store::Options options;
    options.durable = false;
    store_ = std::move(store::Store::open(dir_ / "db", options).value());
    ASSERT_TRUE(store_->home_prefix("IDRA").ok());
    const auto hash = auth::hash_secret("admin-secret").value();
    ASSERT_TRUE(store_->put("0.NA/IDRA", admin_record("0.NA/IDRA", 300, hash, 1000)).ok());
    auth_ = std::make_unique<auth::Authenticator>(*store_);
    Config config;
    config.node_admins = {"300:0.NA/IDRA"};
    config.resolver.root = "https://id.example.com";
    config.resolver.delegations = {{"0614141", "https://id.other.example"}};
    config.resolver.identification_link_hosts = {"nameplate.example.com"};
    service_ = std::make_unique<Service>(config, *store_, *auth_);
  }
  void TearDown() override {
    service_.reset();
    auth_.reset();
    store_.reset();
    std::filesystem::remove_all(dir_);
  }

  Response call(std::string method, std::string target, std::vector<Header> headers = {}, std::string body = {},
                bool as_admin = false) {
    Request r;
    r.method = std::move(method);
    r.target = std::move(target);
    r.body = std::move(body);
    r.client_address = "127.0.0.1";
    r.now_unix = 1800000000;
    r.headers = std::move(headers);
    r.headers.emplace_back("host", "id.example.com");
    if (!r.body.empty()) r.headers.emplace_back("content-type", "application/json");
    if (as_admin) r.headers.emplace_back("authorization", kAdminAuth);
    return service_->handle(r);
  }

  Response register_links(const nlohmann::json& body) {
    return call("POST", "/api/gs1/links", {}, body.dump(), true);
  }

  static std::string header(const Response& r, std::string_view name) {
    for (const auto& [k, v] : r.headers) {
      if (k == name) return v;
    }
    return "";
  }

  // The product with a default link, an English and a German leaflet, and a
  // restricted (non-public) recall notice; its serial A1 with its own page.
  void register_product() {
    auto r = register_links({{"identifier", std::string("(01)") + kGtin},
                             {"itemDescription", "Dal Giardino Risotto Rice"},
                             {"links",
                              {{{"linkType", "gs1:pip"}, {"href", "https://brand.example/rice"}, {"title", "Rice"},
                                {"hreflang", {"en"}}, {"type", "text/html"}, {"default", true}},
                               {{"linkType", "gs1:epil"}, {"href", "https://brand.example/leaflet-en"}, {"title", "Leaflet"},
                                {"hreflang", {"en"}}, {"type", "text/html"}},
                               {{"linkType", "gs1:epil"}, {"href", "https://brand.example/leaflet-de"}, {"title", "Beipackzettel"},
                                {"hreflang", {"de"}}, {"type", "text/html"}},
                               {{"linkType", "gs1:recallStatus"}, {"href", "https://brand.example/recall"},
                                {"title", "Recall"}, {"public", false}}}}});
    ASSERT_EQ(r.status, 201u) << r.body;
    r = register_links({{"identifier", std::string("https://id.example.com/01/") + kGtin + "/21/A1"},
                        {"links",
                         {{{"linkType", "gs1:traceability"}, {"href", "https://brand.example/trace/A1"},
                           {"title", "Trace"}, {"default", true}}}}});
    ASSERT_EQ(r.status, 201u) << r.body;
  }

  std::filesystem::path dir_;
  std::unique_ptr<store::Store> store_;
  std::unique_ptr<auth::Authenticator> auth_;
  std::unique_ptr<Service> service_;
};

TEST_F(ResolverTest, DefaultLinkWithQueryPassedOn) {
  register_product();
  auto r = call("GET", std::string("/01/") + kGtin + "?linkType=gs1:pip&utm=qr");
  EXPECT_EQ(r.status, 307u);
  EXPECT_EQ(header(r, "location"), "https://brand.example/rice?utm=qr");
  r = call("GET", std::string("/01/") + kGtin + "?utm=qr");
  ASSERT_EQ(r.status, 307u) << r.body;
  EXPECT_EQ(header(r, "location"), "https://brand.example/rice?utm=qr");
  EXPECT_EQ(header(r, "access-control-allow-origin"), "*");
  EXPECT_EQ(header(r, "vary"), "Accept, Accept-Language");
  const auto link = header(r, "link");
  EXPECT_NE(link.find("<https://brand.example/leaflet-de>; rel=\"https://gs1.org/voc/epil\""), std::string::npos) << link;
  EXPECT_NE(link.find("<https://id.example.com/01/09506000134352?linkType=linkset>; rel=\"linkset\""), std::string::npos);
  EXPECT_EQ(link.find("recall"), std::string::npos) << "a restricted link leaked into the Link header";
  // Path stems and GTIN aliases resolve the same item; a trailing slash is tolerated.
  EXPECT_EQ(header(call("GET", std::string("/some/stem/gtin/") + kGtin + "/"), "location"), "https://brand.example/rice");
}

TEST_F(ResolverTest, LinkTypeLanguageAndMultipleChoices) {
  register_product();
  const std::string path = std::string("/01/") + kGtin;
  auto r = call("GET", path + "?linkType=gs1:epil", {{"accept-language", "de-DE, en;q=0.5"}});
  EXPECT_EQ(r.status, 307u);
  EXPECT_EQ(header(r, "location"), "https://brand.example/leaflet-de");
  r = call("GET", path + "?linkType=https://gs1.org/voc/epil", {{"accept-language", "en"}});
  EXPECT_EQ(header(r, "location"), "https://brand.example/leaflet-en");
  r = call("GET", path + "?linkType=gs1:epil");  // two leaflets, nothing to choose by
  ASSERT_EQ(r.status, 300u);
  auto j = nlohmann::json::parse(r.body);
  EXPECT_EQ(j["linkset"][0]["https://gs1.org/voc/epil"].size(), 2u);
  EXPECT_NE(j["message"].get<std::string>().find("choose"), std::string::npos);
  r = call("GET", path + "?linkType=gs1:certificationInfo");
  EXPECT_EQ(r.status, 404u);
  EXPECT_NE(nlohmann::json::parse(r.body)["message"].get<std::string>().find("gs1:certificationInfo"), std::string::npos);
  r = call("GET", path + "?linkType=nonsense");
  EXPECT_EQ(r.status, 400u);
}

TEST_F(ResolverTest, LinksetByQueryAndByAccept) {
  register_product();
  const std::string path = std::string("/01/") + kGtin;
  for (auto r : {call("GET", path + "?linkType=linkset"), call("GET", path, {{"accept", "application/linkset+json"}}),
                 call("GET", path, {{"accept", "application/json"}})}) {
    ASSERT_EQ(r.status, 200u) << r.body;
    EXPECT_EQ(header(r, "content-type"), "application/linkset+json");
    auto j = nlohmann::json::parse(r.body);
    const auto& entry = j["linkset"][0];
    EXPECT_EQ(entry["anchor"], std::string("https://id.example.com/01/") + kGtin);
    EXPECT_EQ(entry["itemDescription"], "Dal Giardino Risotto Rice");
    EXPECT_EQ(entry["https://gs1.org/voc/defaultLink"][0]["href"], "https://brand.example/rice");
    EXPECT_FALSE(entry.contains("https://gs1.org/voc/recallStatus"));
  }
  // The administrator sees the restricted link.
  auto r = call("GET", path + "?linkType=linkset", {{"authorization", kAdminAuth}});
  EXPECT_TRUE(nlohmann::json::parse(r.body)["linkset"][0].contains("https://gs1.org/voc/recallStatus"));
  EXPECT_EQ(header(r, "cache-control"), "private, no-store");
  EXPECT_EQ(call("GET", path + "?linkType=gs1:recallStatus").status, 404u);
  EXPECT_EQ(header(call("GET", path + "?linkType=gs1:recallStatus", {{"authorization", kAdminAuth}}), "location"),
            "https://brand.example/recall");
}

TEST_F(ResolverTest, QualifierFallbackSerialLotProduct) {
  register_product();
  // The serial has its own default link...
  EXPECT_EQ(header(call("GET", std::string("/01/") + kGtin + "/21/A1"), "location"), "https://brand.example/trace/A1");
  // ...and falls back to the product for link types it lacks.
  EXPECT_EQ(header(call("GET", std::string("/01/") + kGtin + "/21/A1?linkType=gs1:pip"), "location"),
            "https://brand.example/rice");
  // An unregistered serial under a lot: lot, then product.
  EXPECT_EQ(header(call("GET", std::string("/01/") + kGtin + "/10/L7/21/B2"), "location"), "https://brand.example/rice");
  // Unknown product: 404.
  auto r = call("GET", "/01/09506000134376");
  EXPECT_EQ(r.status, 404u);
  EXPECT_TRUE(nlohmann::json::parse(r.body).contains("message"));
}

TEST_F(ResolverTest, SyntaxErrorsAre400WithAMessage) {
  for (const char* bad : {"/01/09506000134353", "/01/0950600013435", "/01/09506000134352/21/A1/10/L1",
                          "/01/09506000134352/21/A1?21=B2", "/01/09506000134352?17=131313"}) {
    auto r = call("GET", bad);
    EXPECT_EQ(r.status, 400u) << bad << " " << r.body;
    EXPECT_FALSE(nlohmann::json::parse(r.body)["message"].get<std::string>().empty());
  }
  EXPECT_EQ(call("GET", "/nothing/here").status, 404u);
}

TEST_F(ResolverTest, OptionsHeadAndMethods) {
  register_product();
  auto r = call("OPTIONS", std::string("/01/") + kGtin, {{"origin", "https://app.example"}, {"access-control-request-method", "GET"}});
  EXPECT_EQ(r.status, 204u);
  EXPECT_EQ(header(r, "access-control-allow-methods"), "GET, HEAD, OPTIONS");
  EXPECT_EQ(header(r, "access-control-allow-origin"), "*");
  EXPECT_EQ(call("HEAD", std::string("/01/") + kGtin).status, 307u);
  r = call("DELETE", std::string("/01/") + kGtin);
  EXPECT_EQ(r.status, 405u);
  EXPECT_EQ(header(r, "allow"), "GET, HEAD, OPTIONS");
}

TEST_F(ResolverTest, ExactlyOneDefaultLinkIsEnforcedOnEveryWritePath) {
  auto r = register_links({{"identifier", kGtin},
                           {"links", {{{"linkType", "gs1:pip"}, {"href", "https://e.com"}, {"title", "x"}}}}});
  EXPECT_EQ(r.status, 400u) << r.body;
  EXPECT_FALSE(store_->get(std::string("IDRA/gs1/01/") + kGtin).has_value());
  // Through the Handle API: two defaults refused, nothing written.
  const std::string two = R"([{"index":1,"type":"GS1_LINK","data":"{\"linkType\":\"gs1:pip\",\"href\":\"https://e.com/a\",\"title\":\"a\",\"default\":true}"},
                              {"index":2,"type":"GS1_LINK","data":"{\"linkType\":\"gs1:epil\",\"href\":\"https://e.com/b\",\"title\":\"b\",\"default\":true}"}])";
  r = call("PUT", std::string("/api/handles/IDRA/gs1/01/") + kGtin, {}, two, true);
  EXPECT_EQ(r.status, 400u) << r.body;
  EXPECT_EQ(nlohmann::json::parse(r.body)["responseCode"], 202);
  EXPECT_FALSE(store_->get(std::string("IDRA/gs1/01/") + kGtin).has_value());
  // One default through the Handle API, spelled as a Digital Link URI, resolves.
  const std::string one = R"([{"index":1,"type":"GS1_LINK","data":"{\"linkType\":\"gs1:pip\",\"href\":\"https://e.com/a\",\"title\":\"a\",\"default\":true}"}])";
  r = call("PUT", std::string("/api/handles/https%3A%2F%2Fid.example.com%2F01%2F") + kGtin, {}, one, true);
  EXPECT_EQ(r.status, 201u) << r.body;
  EXPECT_EQ(header(call("GET", std::string("/01/") + kGtin), "location"), "https://e.com/a");
  // Adding a second default with ?index= is refused too.
  r = call("PUT", std::string("/api/handles/IDRA/gs1/01/") + kGtin + "?index=3&overwrite=false", {},
           R"([{"index":3,"type":"GS1_LINK","data":"{\"linkType\":\"gs1:epil\",\"href\":\"https://e.com/b\",\"title\":\"b\",\"default\":true}"}])",
           true);
  EXPECT_EQ(r.status, 400u) << r.body;
  // Anonymous callers may not register.
  r = call("POST", "/api/gs1/links", {}, R"({"identifier":"09506000134376","links":[]})");
  EXPECT_EQ(r.status, 401u);
}

TEST_F(ResolverTest, RegistrationReplacesLinksAndKeepsOtherValues) {
  register_product();
  const std::string handle = std::string("IDRA/gs1/01/") + kGtin;
  ASSERT_EQ(call("PUT", "/api/handles/" + handle + "?index=900&overwrite=false", {},
                 R"([{"index":900,"type":"URL","data":"https://other"}])", true).status, 200u);
  auto r = register_links({{"identifier", std::string("https://x.example/gtin/") + kGtin},
                           {"links", {{{"linkType", "gs1:pip"}, {"href", "https://new.example"}, {"title", "New"},
                                       {"default", true}}}}});
  ASSERT_EQ(r.status, 200u) << r.body;
  EXPECT_EQ(nlohmann::json::parse(r.body)["links"], 1);
  const auto record = store_->get(handle).value();
  std::size_t links = 0, urls = 0;
  for (const auto& v : record.values) {
    links += v.type == "GS1_LINK";
    urls += v.type == "URL";
  }
  EXPECT_EQ(links, 1u);
  EXPECT_EQ(urls, 1u);
  EXPECT_EQ(header(call("GET", std::string("/01/") + kGtin), "location"), "https://new.example");
  for (const char* bad : {R"({"identifier":"(01)09506000134353","links":[]})", R"({"identifier":5})",
                          R"({"identifier":"(01)09506000134352","links":[{"linkType":"gs1:pip"}]})",
                          R"({"identifier":"(01)09506000134352","links":[],"extra":1})", "not json"}) {
    r = call("POST", "/api/gs1/links", {}, bad, true);
    EXPECT_EQ(r.status, 400u) << bad << " " << r.body;
    EXPECT_TRUE(nlohmann::json::parse(r.body).contains("message"));
  }
}

TEST_F(ResolverTest, DelegationByCompanyPrefix) {
  // GTIN 00614141123452: company prefix 0614141 at position 1.
  auto r = call("GET", "/01/00614141123452/21/X?linkType=gs1:pip");
  ASSERT_EQ(r.status, 307u) << r.body;
  EXPECT_EQ(header(r, "location"), "https://id.other.example/01/00614141123452/21/X?linkType=gs1:pip");
  EXPECT_NE(header(r, "link").find("rel=\"https://gs1.org/voc/handledBy\""), std::string::npos);
  // GLN (414) has its company prefix at position 0.
  EXPECT_EQ(header(call("GET", "/414/0614141000005"), "location"), "https://id.other.example/414/0614141000005");
}

TEST_F(ResolverTest, CompressedDigitalLinkResolvesWithSameAs) {
  register_product();
  ids::gs1::DigitalLink dl = ids::gs1::parse_digital_link(std::string("https://id.example.com/01/") + kGtin + "/21/A1").value();
  dl.stem = "https://id.example.com";
  const std::string compressed = ids::gs1::compress_digital_link(dl).value();
  const std::string path = compressed.substr(std::string("https://id.example.com").size());
  auto r = call("GET", path);
  ASSERT_EQ(r.status, 307u) << path << " " << r.body;
  EXPECT_EQ(header(r, "location"), "https://brand.example/trace/A1");
  EXPECT_NE(header(r, "link").find(std::string("<https://id.example.com/01/") + kGtin + "/21/A1>; rel=\"owl:sameAs\""),
            std::string::npos);
}

TEST_F(ResolverTest, IdentificationLinkOfAConfiguredHost) {
  // The device's record under its identification link, registered through the Handle API.
  const std::string one = R"([{"index":1,"type":"GS1_LINK","data":"{\"linkType\":\"gs1:pip\",\"href\":\"https://maker.example/d/42\",\"title\":\"Device\",\"default\":true}"},
                              {"index":2,"type":"AAS_ID","data":"https://maker.example/aas/42"},
                              {"index":3,"type":"AAS_ID","data":"urn:aas:42:2"}])";
  auto r = call("PUT", "/api/handles/https%3A%2F%2Fnameplate.example.com%2Fd%2F42", {}, one, true);
  ASSERT_EQ(r.status, 201u) << r.body;
  Request q;
  q.method = "GET";
  q.target = "/d/42";
  q.headers = {{"host", "nameplate.example.com"}};
  q.now_unix = 1800000000;
  r = service_->handle(q);
  EXPECT_EQ(r.status, 307u) << r.body;
  EXPECT_EQ(header(r, "location"), "https://maker.example/d/42");
  q.headers.emplace_back("accept", "application/json");
  r = service_->handle(q);
  ASSERT_EQ(r.status, 200u);
  EXPECT_EQ(nlohmann::json::parse(r.body)["handle"], "IDRA/iec61406/nameplate.example.com/d/42");
  // A host not configured: not answered as an identification link.
  q.headers = {{"host", "elsewhere.example.com"}};
  EXPECT_EQ(service_->handle(q).status, 404u);

  // AAS discovery by the identification link (the recommended globalAssetId).
  const std::string asset = R"({"name":"globalAssetId","value":"https://nameplate.example.com/d/42"})";
  auto b64 = [](std::string s, bool pad) {
    static constexpr char t[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    std::string out;
    std::size_t i = 0;
    for (; i + 2 < s.size(); i += 3) {
      unsigned v = (unsigned char)s[i] << 16 | (unsigned char)s[i + 1] << 8 | (unsigned char)s[i + 2];
      out += {t[v >> 18], t[(v >> 12) & 63], t[(v >> 6) & 63], t[v & 63]};
    }
    if (s.size() - i == 1) {
      unsigned v = (unsigned char)s[i] << 16;
      out += {t[v >> 18], t[(v >> 12) & 63]};
      if (pad) out += "==";
    } else if (s.size() - i == 2) {
      unsigned v = (unsigned char)s[i] << 16 | (unsigned char)s[i + 1] << 8;
      out += {t[v >> 18], t[(v >> 12) & 63], t[(v >> 6) & 63]};
      if (pad) out += "=";
    }
    return out;
  };
  for (bool pad : {false, true}) {
    std::string enc = b64(asset, pad);
    std::string escaped;
    for (char c : enc) escaped += c == '=' ? std::string("%3D") : std::string(1, c);
    r = call("GET", "/lookup/shells?assetIds=" + escaped);
    ASSERT_EQ(r.status, 200u) << r.body;
    auto j = nlohmann::json::parse(r.body);
    EXPECT_EQ(j["result"], nlohmann::json::array({"https://maker.example/aas/42", "urn:aas:42:2"}));
  }
  r = call("GET", "/lookup/shells?assetIds=" + b64(asset, false) + "&limit=1");
  auto j = nlohmann::json::parse(r.body);
  ASSERT_EQ(j["result"].size(), 1u);
  ASSERT_TRUE(j["paging_metadata"].contains("cursor"));
  r = call("GET", "/lookup/shells?assetIds=" + b64(asset, false) + "&limit=1&cursor=" +
                      j["paging_metadata"]["cursor"].get<std::string>());
  EXPECT_EQ(nlohmann::json::parse(r.body)["result"], nlohmann::json::array({"urn:aas:42:2"}));
  r = call("POST", "/lookup/shellsByAssetLink", {}, "[" + asset + "]");
  ASSERT_EQ(r.status, 200u) << r.body;
  EXPECT_EQ(nlohmann::json::parse(r.body)["result"].size(), 2u);
  r = call("POST", "/lookup/shellsByAssetLink", {}, R"([{"name":"globalAssetId","value":"https://nameplate.example.com/d/43"}])");
  EXPECT_EQ(nlohmann::json::parse(r.body)["result"].size(), 0u);
  for (const char* bad : {"{}", "[]", R"([{"name":"x"}])", "nope"}) {
    r = call("POST", "/lookup/shellsByAssetLink", {}, bad);
    EXPECT_EQ(r.status, 400u) << bad;
    EXPECT_TRUE(nlohmann::json::parse(r.body).contains("message"));
  }
  EXPECT_EQ(call("GET", "/lookup/shells?assetIds=%%%").status, 400u);
  EXPECT_EQ(call("GET", "/lookup/shells?assetIds=!!!!").status, 400u);
}

TEST_F(ResolverTest, DescriptionFile) {
  auto r = call("GET", "/.well-known/gs1resolver");
  ASSERT_EQ(r.status, 200u);
  auto j = nlohmann::json::parse(r.body);
  EXPECT_EQ(j["resolverRoot"], "https://id.example.com");
  EXPECT_EQ(j["supportedPrimaryKeys"][0], "all");
  EXPECT_EQ(j["supportedLinkType"][0]["prefix"], "gs1:");
}

}  // namespace
}  // namespace idra::api

// Service::handle as a pure function: requests in, responses out, over a
// real store in a temporary directory.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <filesystem>

#include "api/access.hpp"
#include "api/hs_data.hpp"
#include "api/request_util.hpp"
#include "idra/api.hpp"
#include "idra/auth.hpp"
#include "idra/store.hpp"

namespace idra::api {
namespace {

std::string basic(std::string_view user_pass) {
  static constexpr char kTable[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  std::size_t i = 0;
  for (; i + 2 < user_pass.size(); i += 3) {
    unsigned v = (static_cast<unsigned char>(user_pass[i]) << 16) | (static_cast<unsigned char>(user_pass[i + 1]) << 8) |
                 static_cast<unsigned char>(user_pass[i + 2]);
    out += {kTable[v >> 18], kTable[(v >> 12) & 63], kTable[(v >> 6) & 63], kTable[v & 63]};
  }
  if (i + 1 == user_pass.size()) {
    unsigned v = static_cast<unsigned char>(user_pass[i]) << 16;
    out += {kTable[v >> 18], kTable[(v >> 12) & 63], '=', '='};
  } else if (i + 2 == user_pass.size()) {
    unsigned v = (static_cast<unsigned char>(user_pass[i]) << 16) | (static_cast<unsigned char>(user_pass[i + 1]) << 8);
    out += {kTable[v >> 18], kTable[(v >> 12) & 63], kTable[(v >> 6) & 63], '='};
  }
  return "Basic " + out;
}

class ServiceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/idra-api-test-XXXXXX";
    dir_ = ::mkdtemp(tmpl);
    store::Options options;
    options.durable = false;
    store_ = std::move(store::Store::open(dir_ / "db", options).value());
    ASSERT_TRUE(store_->home_prefix("88.100").ok());
    ASSERT_TRUE(store_->home_prefix("IDRA").ok());
    const auto hash = auth::hash_secret("admin-secret").value();
    ASSERT_TRUE(store_->put("0.NA/IDRA", admin_record("0.NA/IDRA", 300, hash, 1000)).ok());
    auth_ = std::make_unique<auth::Authenticator>(*store_);
    Config config;
    config.node_admins = {"300:0.NA/IDRA"};
    service_ = std::make_unique<Service>(config, *store_, *auth_);
  }
  void TearDown() override {
    service_.reset();
    auth_.reset();
    store_.reset();
    std::filesystem::remove_all(dir_);
  }

  Response call(std::string method, std::string target, std::string body = {}, bool as_admin = false,
                std::vector<Header> headers = {}) {
    Request r;
    r.method = std::move(method);
    r.target = std::move(target);
    r.body = std::move(body);
    r.client_address = "127.0.0.1";
    r.now_unix = 1800000000;
    r.headers = std::move(headers);
    if (!r.body.empty()) r.headers.emplace_back("content-type", "application/json");
    if (as_admin) r.headers.emplace_back("authorization", basic("300%3A0.NA%2FIDRA:admin-secret"));
    return service_->handle(r);
  }

  static nlohmann::json json_of(const Response& r) { return nlohmann::json::parse(r.body); }

  std::filesystem::path dir_;
  std::unique_ptr<store::Store> store_;
  std::unique_ptr<auth::Authenticator> auth_;
  std::unique_ptr<Service> service_;
};

// may_block: writes and first-time credentials go to the HTTP layer's
// blocking pool; reads, and reads with credentials verified before, do not.
TEST_F(ServiceTest, MayBlockWritesAndFirstCredentialsOnly) {
  auto request = [](std::string method, std::vector<Header> headers) {
    Request r;
    r.method = std::move(method);
    r.target = "/api/handles/88.100/X";
    r.headers = std::move(headers);
    return r;
  };
  const Header admin{"authorization", basic("300%3A0.NA%2FIDRA:admin-secret")};
  EXPECT_FALSE(service_->may_block(request("GET", {})));
  EXPECT_FALSE(service_->may_block(request("HEAD", {})));
  EXPECT_TRUE(service_->may_block(request("PUT", {})));
  EXPECT_TRUE(service_->may_block(request("POST", {})));
  EXPECT_TRUE(service_->may_block(request("DELETE", {admin})));
  EXPECT_TRUE(service_->may_block(request("GET", {admin})));  // Argon2id not run yet
  // Refused without any hashing: another scheme, malformed Basic.
  EXPECT_FALSE(service_->may_block(request("GET", {{"authorization", "Handle clientCert=\"true\""}})));
  EXPECT_FALSE(service_->may_block(request("GET", {{"authorization", "Basic !!!"}})));
  ASSERT_EQ(call("GET", "/api/handles/0.NA/IDRA", "", true).status, 200);
  EXPECT_FALSE(service_->may_block(request("GET", {admin})));
  EXPECT_TRUE(service_->may_block(request("GET", {{"authorization", basic("300%3A0.NA%2FIDRA:wrong")}})));
}

TEST_F(ServiceTest, CreateResolveReplace) {
  auto r = call("PUT", "/api/handles/88.100/a", R"([{"index":1,"type":"URL","data":"https://a"}])", true);
  ASSERT_EQ(r.status, 201u) << r.body;
  r = call("GET", "/api/handles/88.100/a");
  ASSERT_EQ(r.status, 200u);
  auto j = json_of(r);
  EXPECT_EQ(j["responseCode"], 1);
  EXPECT_EQ(j["handle"], "88.100/a");
  ASSERT_EQ(j["values"].size(), 2u);  // URL + the creator's HS_ADMIN
  EXPECT_EQ(j["values"][1]["type"], "HS_ADMIN");
  EXPECT_EQ(j["values"][1]["data"]["value"]["permissions"], "011111110011");  // Handle.Net's default
  EXPECT_EQ(j["values"][1]["data"]["value"]["handle"], "0.NA/IDRA");
  r = call("PUT", "/api/handles/88.100/a", R"({"index":5,"type":"URL","data":"https://b"})", true);
  EXPECT_EQ(r.status, 200u);
  j = json_of(call("GET", "/api/handles/88.100/a"));
  ASSERT_EQ(j["values"].size(), 1u);
  EXPECT_EQ(j["values"][0]["index"], 5);
}

TEST_F(ServiceTest, FailedPutLeavesRecordByteIdentical) {
  ASSERT_EQ(call("PUT", "/api/handles/88.100/k", R"([{"index":1,"type":"URL","data":"x"}])", true).status, 201u);
  const auto before = store_->get("88.100/k");
  for (const char* bad : {R"([{"index":1,"type":"URL","data":)", R"([{"index":0,"type":"URL","data":"x"}])",
                          R"([{"index":1,"type":"URL","data":"x"},{"index":1,"type":"URL","data":"y"}])"}) {
    EXPECT_EQ(call("PUT", "/api/handles/88.100/k", bad, true).status, 400u) << bad;
  }
  EXPECT_EQ(call("PUT", "/api/handles/88.100/k?index=2", R"([{"index":3,"type":"URL","data":"x"}])", true).status, 400u);
  EXPECT_EQ(store_->get("88.100/k"), before);
}

TEST_F(ServiceTest, AnonymousWriteNeedsAuthentication) {
  auto r = call("PUT", "/api/handles/88.100/anon", R"([{"index":1,"type":"URL","data":"x"}])");
  EXPECT_EQ(r.status, 401u);
  EXPECT_EQ(json_of(r)["responseCode"], 402);
  bool challenge = false;
  for (const auto& [k, v] : r.headers) challenge = challenge || (k == "www-authenticate" && v == "Basic realm=\"handle\"");
  EXPECT_TRUE(challenge);
  EXPECT_FALSE(store_->get("88.100/anon").has_value());
}

TEST_F(ServiceTest, NotHomedPrefix) {
  auto r = call("GET", "/api/handles/20.5001/x");
  EXPECT_EQ(r.status, 400u);
  EXPECT_EQ(json_of(r)["responseCode"], 301);
  ASSERT_TRUE(store_->home_prefix("20.500").ok());
  // 20.5001 is not below 20.500: the hierarchy is by dotted segment.
  EXPECT_EQ(json_of(call("GET", "/api/handles/20.5001/x"))["responseCode"], 301);
  EXPECT_EQ(json_of(call("GET", "/api/handles/20.500.7/x"))["responseCode"], 100);
}

TEST_F(ServiceTest, PrefixAdminCanCreateUnderItsPrefix) {
  // 0.NA/88.100 names 300:88.100/ops as its administrator; ops may create
  // handles under 88.100 but not under IDRA.
  const auto ops_hash = auth::hash_secret("ops-secret").value();
  ASSERT_TRUE(store_->put("88.100/ops", admin_record("88.100/ops", 300, ops_hash, 1000)).ok());
  store::Record prefix_record;
  store::HandleValue admin;
  admin.index = 100;
  admin.type = "HS_ADMIN";
  admin.data = encode_admin(AdminRef{"88.100/ops", 300, kAllPermissions});
  prefix_record.values = {admin};
  ASSERT_TRUE(store_->home_prefix("0.NA").ok());
  ASSERT_TRUE(store_->put("0.NA/88.100", prefix_record).ok());
  Request r;
  r.method = "PUT";
  r.target = "/api/handles/88.100/by-ops";
  r.body = R"([{"index":1,"type":"URL","data":"x"}])";
  r.client_address = "127.0.0.1";
  r.headers = {{"content-type", "application/json"}, {"authorization", basic("300:88.100/ops:ops-secret")}};
  EXPECT_EQ(service_->handle(r).status, 201u);
  r.target = "/api/handles/IDRA/oid/1.2.3";
  auto denied = service_->handle(r);
  EXPECT_EQ(denied.status, 403u);
  EXPECT_EQ(json_of(denied)["responseCode"], 401);
}

TEST_F(ServiceTest, EtagAndNotModified) {
  ASSERT_EQ(call("PUT", "/api/handles/88.100/e", R"([{"index":1,"type":"URL","data":"x","ttl":120}])", true).status, 201u);
  auto r = call("GET", "/api/handles/88.100/e?index=1");
  std::string etag, cache;
  for (const auto& [k, v] : r.headers) {
    if (k == "etag") etag = v;
    if (k == "cache-control") cache = v;
  }
  EXPECT_EQ(cache, "max-age=120");
  ASSERT_FALSE(etag.empty());
  auto r2 = call("GET", "/api/handles/88.100/e?index=1", {}, false, {{"if-none-match", "W/" + etag}});
  EXPECT_EQ(r2.status, 304u);
  EXPECT_TRUE(r2.body.empty());
}

TEST_F(ServiceTest, AbsoluteTtlCachesUntilExpiry) {
  ASSERT_EQ(call("PUT", "/api/handles/88.100/abs",
                 R"([{"index":1,"type":"URL","data":"x","ttl":"2027-01-15T08:00:30Z"}])", true).status, 201u)
      << "a string ttl is an absolute expiry time (Handle.Net)";
  auto r = call("GET", "/api/handles/88.100/abs?index=1");
  std::string cache;
  for (const auto& [k, v] : r.headers) if (k == "cache-control") cache = v;
  EXPECT_EQ(cache, "max-age=30");
}

TEST_F(ServiceTest, BadQueryAndPathAreClearErrors) {
  auto r = call("GET", "/api/handles/88.100/x?index=abc");
  EXPECT_EQ(r.status, 400u);
  EXPECT_NE(json_of(r)["message"].get<std::string>().find("index"), std::string::npos);
  r = call("GET", "/api/handles/88.100/%zz");
  EXPECT_EQ(r.status, 400u);
  EXPECT_TRUE(json_of(r).contains("message"));
  r = call("GET", "/api/handles/88.100/x?publicOnly=maybe");
  EXPECT_EQ(r.status, 400u);
}

TEST_F(ServiceTest, RecordWithoutValuesResolvesEmpty) {
  ASSERT_TRUE(store_->put("88.100/empty", store::Record{}).ok());
  auto r = call("GET", "/api/handles/88.100/empty");
  EXPECT_EQ(r.status, 200u);
  EXPECT_EQ(json_of(r)["responseCode"], 200);
  EXPECT_TRUE(json_of(r)["values"].empty());
}

TEST_F(ServiceTest, ReadOnlyRefusesChangesButResolves) {
  ASSERT_EQ(call("PUT", "/api/handles/88.100/ro", R"([{"index":1,"type":"URL","data":"x"}])", true).status, 201u);
  Config config;
  config.node_admins = {"300:0.NA/IDRA"};
  config.read_only = true;
  Service read_only(config, *store_, *auth_);
  Request r;
  r.method = "DELETE";
  r.target = "/api/handles/88.100/ro";
  r.client_address = "127.0.0.1";
  r.headers = {{"authorization", basic("300%3A0.NA%2FIDRA:admin-secret")}};
  auto refused = read_only.handle(r);
  EXPECT_EQ(refused.status, 503u);
  EXPECT_EQ(json_of(refused)["responseCode"], 7);
  EXPECT_TRUE(store_->get("88.100/ro").has_value());
  r.method = "GET";
  EXPECT_EQ(read_only.handle(r).status, 200u);
}

TEST_F(ServiceTest, BusyAnswerCarriesRetryAfter) {
  auto r = service_->busy(std::chrono::seconds(2));
  EXPECT_EQ(r.status, 503u);
  EXPECT_EQ(json_of(r)["responseCode"], 3);
  bool retry = false;
  for (const auto& [k, v] : r.headers) retry = retry || (k == "retry-after" && v == "2");
  EXPECT_TRUE(retry);
}

TEST(StatusMapping, EveryRowOfTheHandleTable) {
  EXPECT_EQ(status_for_response_code(1), 200u);
  EXPECT_EQ(status_for_response_code(1, true), 201u);
  EXPECT_EQ(status_for_response_code(200, false, true), 200u);
  EXPECT_EQ(status_for_response_code(200), 400u);
  EXPECT_EQ(status_for_response_code(100), 404u);
  for (int rc : {101, 201}) EXPECT_EQ(status_for_response_code(rc), 409u) << rc;
  for (int rc : {4, 102, 202, 301}) EXPECT_EQ(status_for_response_code(rc), 400u) << rc;
  EXPECT_EQ(status_for_response_code(402), 401u);
  for (int rc : {400, 401, 403, 404}) EXPECT_EQ(status_for_response_code(rc), 403u) << rc;
  EXPECT_EQ(status_for_response_code(5), 501u);
  for (int rc : {3, 7}) EXPECT_EQ(status_for_response_code(rc), 503u) << rc;
  for (int rc : {2, 6, 300, 302, 500, 999}) EXPECT_EQ(status_for_response_code(rc), 500u) << rc;
}

TEST(ParseTarget, DecodesPathAndQuery) {
  auto t = parse_target("/api/handles/88.100/a%2Fb?type=URL.&index=1&index=2&x=a+b");
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(t->path, "/api/handles/88.100/a/b");
  EXPECT_EQ(t->all("index").size(), 2u);
  EXPECT_EQ(*t->first("x"), "a b");
  EXPECT_FALSE(parse_target("api").ok());
  EXPECT_FALSE(parse_target("/a%00b").ok());
  EXPECT_FALSE(parse_target("/a%C0%AF").ok());  // overlong UTF-8
  EXPECT_FALSE(parse_target("/a?b=%4").ok());
}

TEST(ContentType, JsonOnly) {
  EXPECT_TRUE(is_json_content_type("application/json"));
  EXPECT_TRUE(is_json_content_type("Application/JSON; charset=utf-8"));
  EXPECT_TRUE(is_json_content_type("application/merge-patch+json"));
  EXPECT_FALSE(is_json_content_type("text/plain"));
  EXPECT_FALSE(is_json_content_type(std::nullopt));
}

}  // namespace
}  // namespace idra::api

// The audit records Service::handle writes: a change's record commits in the
// change's own transaction (it is in the log when handle returns, before
// any group commit), other records go through the ReadBatcher, and requests
// outside the audited set leave none.
#include <gtest/gtest.h>

#include <filesystem>

#include "api/audit_trail.hpp"
#include "idra/api.hpp"
#include "idra/audit.hpp"
#include "idra/auth.hpp"
#include "idra/store.hpp"

namespace idra::api {
namespace {

TEST(HandleCodeOf, ReadsTheFirstMemberOfHandleBodies) {
  EXPECT_EQ(handle_code_of(R"({"responseCode":1,"handle":"x"})"), 1u);
  EXPECT_EQ(handle_code_of("{\n  \"responseCode\": 100,\n  \"handle\": \"x\"}"), 100u);
  EXPECT_EQ(handle_code_of(R"({"message":"no","responseCode":1})"), 0u);
  EXPECT_EQ(handle_code_of(R"({"responseCode":"1"})"), 0u);
  EXPECT_EQ(handle_code_of(""), 0u);
  EXPECT_EQ(handle_code_of("MIIB..."), 0u);
}

TEST(RouteAction, NamesEndpointsThenFailures) {
  EXPECT_EQ(route_action("/.well-known/est/cacerts", 200), "estCaCerts");
  EXPECT_EQ(route_action("/.well-known/est/device/csrattrs", 200), "estCsrAttrs");
  EXPECT_EQ(route_action("/api/audit/checkpoint", 200), "readCheckpoint");
  EXPECT_EQ(route_action("/api/handles/x", 400), "badRequest");
  EXPECT_EQ(route_action("/api/nothing", 404), "notFound");
  EXPECT_EQ(route_action("/api/handles/x", 403), "authenticationFailed");
}

class AuditTrailTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/idra-audit-trail-XXXXXX";
    dir_ = ::mkdtemp(tmpl);
    store::Options options;
    options.durable = false;
    store_ = std::move(store::Store::open(dir_ / "db", options).value());
    ASSERT_TRUE(store_->home_prefix("88.100").ok());
    const auto hash = auth::hash_secret("admin-secret").value();
    ASSERT_TRUE(store_->put("0.NA/IDRA", admin_record("0.NA/IDRA", 300, hash, 1000)).ok());
    auth_ = std::make_unique<auth::Authenticator>(*store_);
    // Reads wait for a flush: nothing commits them on its own in a test's time.
    audit::BatcherConfig batching;
    batching.max_delay = std::chrono::milliseconds(60'000);
    batcher_ = std::make_unique<audit::ReadBatcher>(*store_, batching);
    Config config;
    config.node_admins = {"300:0.NA/IDRA"};
    AuditSinks sinks;
    sinks.reads = batcher_.get();
    service_ = std::make_unique<Service>(config, *store_, *auth_, nullptr, nullptr, sinks);
  }
  void TearDown() override {
    service_.reset();
    batcher_.reset();
    auth_.reset();
    store_.reset();
    std::filesystem::remove_all(dir_);
  }

  Response call(std::string method, std::string target, std::string body = {}, bool as_admin = false,
                bool secure = true) {
    Request r;
    r.method = std::move(method);
    r.target = std::move(target);
    r.body = std::move(body);
    r.client_address = "192.0.2.7";
    r.now_unix = 1800000000;
    r.now_unix_ms = 1800000000123;
    r.request_id = "req-" + std::to_string(++requests_);
    r.secure = secure;
    if (!r.body.empty()) r.headers.emplace_back("content-type", "application/json");
    // "300%3A0.NA%2FIDRA:admin-secret"
    if (as_admin) r.headers.emplace_back("authorization", "Basic MzAwJTNBMC5OQSUyRklEUkE6YWRtaW4tc2VjcmV0");
    return service_->handle(r);
  }

  std::vector<audit::AuditRecord> log() const {
    std::vector<audit::AuditRecord> out;
    store_->view([&](const store::ReadView& v) {
      for (std::uint64_t i = 0; i < audit::tree_size(v); ++i) out.push_back(audit::decode_leaf(*audit::leaf_at(v, i)).value());
    });
    return out;
  }

  std::filesystem::path dir_;
  std::unique_ptr<store::Store> store_;
  std::unique_ptr<auth::Authenticator> auth_;
  std::unique_ptr<audit::ReadBatcher> batcher_;
  std::unique_ptr<Service> service_;
  int requests_ = 0;
};

TEST_F(AuditTrailTest, AChangeCommitsItsRecordWithIt) {
  auto r = call("PUT", "/api/handles/88.100/a", R"([{"index":1,"type":"URL","data":"https://a"}])", true);
  ASSERT_EQ(r.status, 201u) << r.body;
  // No flush: the record is in the log because it committed with the record.
  const auto records = log();
  ASSERT_EQ(records.size(), 1u);
  const auto& rec = records[0];
  EXPECT_EQ(rec.request_id, "req-1");
  EXPECT_EQ(rec.time_ms, 1800000000123);
  EXPECT_EQ(rec.action, "register");
  EXPECT_EQ(rec.principal.kind, audit::PrincipalKind::handle);
  EXPECT_EQ(rec.principal.id, "300:0.NA/IDRA");
  EXPECT_EQ(rec.client, "192.0.2.7");
  EXPECT_EQ(rec.resources, std::vector<std::string>{"88.100/a"});
  EXPECT_EQ(rec.decision, audit::Decision::allow);
  EXPECT_FALSE(rec.policies.empty());
  EXPECT_EQ(rec.http_status, 201u);
  EXPECT_EQ(rec.handle_code, 1u);
}

TEST_F(AuditTrailTest, ReadsAndFailedChangesGoThroughTheBatcher) {
  ASSERT_EQ(call("PUT", "/api/handles/88.100/b", R"([{"index":1,"type":"URL","data":"x"}])", true).status, 201u);
  ASSERT_EQ(call("GET", "/api/handles/88.100/b").status, 200u);
  ASSERT_EQ(call("PUT", "/api/handles/88.100/b", R"([{"index":1,"type":)", true).status, 400u);
  ASSERT_EQ(call("DELETE", "/api/handles/88.100/none", {}, true).status, 404u);
  EXPECT_EQ(log().size(), 1u);  // only the change's
  batcher_->flush();
  const auto records = log();
  ASSERT_EQ(records.size(), 4u);
  EXPECT_EQ(records[1].action, "resolve");
  EXPECT_EQ(records[1].principal.kind, audit::PrincipalKind::anonymous);
  EXPECT_EQ(records[1].value_indexes, (std::vector<std::uint32_t>{1, 100}));
  EXPECT_EQ(records[2].http_status, 400u);
  EXPECT_EQ(records[2].handle_code, 4u);
  EXPECT_EQ(records[2].action, "badRequest");
  EXPECT_EQ(records[2].decision, audit::Decision::deny);
  EXPECT_EQ(records[3].http_status, 404u);
  EXPECT_EQ(records[3].handle_code, 100u);
}

TEST_F(AuditTrailTest, APolicyReloadCommitsBeforeItsAnswer) {
  // This Service has no policy engine, so the reload is refused (409); its
  // record still commits before the answer.
  ASSERT_EQ(call("POST", "/api/policy/reload", {}, true).status, 409u);
  const auto records = log();
  ASSERT_EQ(records.size(), 1u);
  EXPECT_EQ(records[0].action, "reloadPolicy");
}

TEST_F(AuditTrailTest, HealthAndPlainHttpAreNotAudited) {
  ASSERT_EQ(call("GET", "/healthz").status, 200u);
  ASSERT_EQ(call("GET", "/readyz").status, 200u);
  call("GET", "/crl/intermediate.crl", {}, false, false);
  call("GET", "/api/handles/88.100/x", {}, false, false);
  batcher_->flush();
  EXPECT_TRUE(log().empty());
}

TEST_F(AuditTrailTest, AuditorApiNeedsReadAudit) {
  auto r = call("GET", "/api/audit/entries");
  EXPECT_EQ(r.status, 401u);
  r = call("GET", "/api/audit/entries?limit=5", {}, true);
  EXPECT_EQ(r.status, 200u) << r.body;
  r = call("GET", "/api/audit/entries?limit=0", {}, true);
  EXPECT_EQ(r.status, 400u);
  r = call("GET", "/api/audit/checkpoint");
  EXPECT_EQ(r.status, 404u);  // this Service signs no checkpoints
  batcher_->flush();
  const auto records = log();
  ASSERT_EQ(records.size(), 4u);
  EXPECT_EQ(records[0].action, "readAudit");
  EXPECT_EQ(records[0].decision, audit::Decision::deny);
  EXPECT_EQ(records[1].action, "readAudit");
  EXPECT_EQ(records[1].decision, audit::Decision::allow);
}

TEST_F(AuditTrailTest, AnswersTheHttpLayerGaveAreAuditedToo) {
  // What the HTTP layer knows of a request it answered without running it:
  // a busy node (503), and a request it could not read (431 without a
  // method or target, 413 with them).
  Request busy;
  busy.method = "PUT";
  busy.target = "/api/handles/88.100/z";
  busy.client_address = "192.0.2.8";
  busy.now_unix_ms = 1800000000456;
  busy.now_unix = 1800000000;
  busy.request_id = "req-busy";
  service_->audit_unrun(busy, service_->busy(std::chrono::seconds(1)));
  Request unread;
  unread.client_address = "192.0.2.9";
  unread.now_unix_ms = 1800000000789;
  unread.request_id = "req-431";
  Response too_large;
  too_large.status = 431;
  service_->audit_unrun(unread, too_large);
  Request plain = unread;
  plain.secure = false;  // the plain-HTTP listener is not audited
  plain.request_id = "req-plain";
  service_->audit_unrun(plain, too_large);
  EXPECT_TRUE(log().empty());  // group-committed, like a read
  batcher_->flush();
  const auto records = log();
  ASSERT_EQ(records.size(), 2u);
  EXPECT_EQ(records[0].request_id, "req-busy");
  EXPECT_EQ(records[0].http_status, 503u);
  EXPECT_EQ(records[0].handle_code, 3u);
  EXPECT_EQ(records[0].action, "unavailable");
  EXPECT_EQ(records[0].decision, audit::Decision::deny);
  EXPECT_EQ(records[0].client, "192.0.2.8");
  EXPECT_EQ(records[0].time_ms, 1800000000456);
  EXPECT_EQ(records[0].principal.kind, audit::PrincipalKind::anonymous);
  EXPECT_EQ(records[1].request_id, "req-431");
  EXPECT_EQ(records[1].http_status, 431u);
  EXPECT_EQ(records[1].action, "badRequest");
  EXPECT_EQ(records[1].decision, audit::Decision::deny);
  EXPECT_EQ(records[1].client, "192.0.2.9");
  EXPECT_EQ(records[1].time_ms, 1800000000789);
}

TEST_F(AuditTrailTest, EntriesFindRecordsBeforeAndAfterIndexing) {
  ASSERT_EQ(call("PUT", "/api/handles/88.100/q1", R"([{"index":1,"type":"URL","data":"x"}])", true).status, 201u);
  ASSERT_EQ(call("GET", "/api/handles/88.100/q1").status, 200u);
  batcher_->flush();
  auto find = [&] {
    auto r = call("GET", "/api/audit/entries?identifier=88.100%2Fq1", {}, true);
    EXPECT_EQ(r.status, 200u) << r.body;
    return r.body;
  };
  // Not indexed yet (the batcher indexes in its own time): found anyway.
  std::string body = find();
  EXPECT_NE(body.find("\"request_id\":\"req-1\""), std::string::npos) << body;
  EXPECT_NE(body.find("\"request_id\":\"req-2\""), std::string::npos) << body;
  batcher_->flush_index();
  store_->view([&](const store::ReadView& v) { EXPECT_EQ(audit::indexed_size(v), audit::tree_size(v)); });
  body = find();
  EXPECT_NE(body.find("\"request_id\":\"req-1\""), std::string::npos) << body;
  EXPECT_NE(body.find("\"request_id\":\"req-2\""), std::string::npos) << body;
}

}  // namespace
}  // namespace idra::api

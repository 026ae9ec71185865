// The real Server on 127.0.0.1 port 0, over a real api::Service and store:
// the TLS listener, the plain-HTTP listener, client certificates, the access
// log, the shared connection limit and the drain on stop.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <thread>

#include "idra/api.hpp"
#include "idra/auth.hpp"
#include "idra/http.hpp"
#include "idra/store.hpp"
#include "unit/http/test_pki.hpp"

namespace idra::http {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = beast::http;
using tcp = asio::ip::tcp;
using test::shared_pki;
using test::TempDir;

struct Reply {
  unsigned status = 0;
  std::string body;
  std::string error;  // set when the exchange failed
};

bhttp::request<bhttp::string_body> make_request(std::string_view method, std::string_view target,
                                                bool keep_alive) {
  bhttp::request<bhttp::string_body> req{bhttp::string_to_verb(method), target, 11};
  req.set(bhttp::field::host, "127.0.0.1");
  req.keep_alive(keep_alive);
  req.prepare_payload();
  return req;
}

template <class Stream>
Reply exchange(Stream& stream, beast::flat_buffer& buffer, std::string_view method,
               std::string_view target, bool keep_alive) {
  Reply reply;
  beast::error_code ec;
  auto req = make_request(method, target, keep_alive);
  bhttp::write(stream, req, ec);
  if (ec) {
    reply.error = "write: " + ec.message();
    return reply;
  }
  bhttp::response<bhttp::string_body> res;
  if (method == "HEAD") {
    bhttp::response_parser<bhttp::string_body> parser;
    parser.skip(true);
    bhttp::read(stream, buffer, parser, ec);
    res = parser.release();
  } else {
    bhttp::read(stream, buffer, res, ec);
  }
  if (ec) {
    reply.error = "read: " + ec.message();
    return reply;
  }
  reply.status = res.result_int();
  reply.body = res.body();
  return reply;
}

// PlainClient is one plain-HTTP connection.
struct PlainClient {
  asio::io_context ioc;
  beast::tcp_stream stream{ioc};
  beast::flat_buffer buffer;

  explicit PlainClient(unsigned short port) {
    stream.expires_after(std::chrono::seconds(10));
    stream.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port));
  }
  Reply request(std::string_view method, std::string_view target, bool keep_alive = false) {
    stream.expires_after(std::chrono::seconds(10));
    return exchange(stream, buffer, method, target, keep_alive);
  }
};

// TlsClient is one TLS connection; |ctx| decides whether it presents a
// client certificate.
struct TlsClient {
  asio::io_context ioc;
  asio::ssl::context ctx;
  beast::ssl_stream<beast::tcp_stream> stream;
  beast::flat_buffer buffer;
  beast::error_code handshake_error;

  TlsClient(unsigned short port, pki::SslCtxPtr client_ctx)
      : ctx(client_ctx.release()), stream(ioc, ctx) {
    beast::get_lowest_layer(stream).expires_after(std::chrono::seconds(10));
    beast::get_lowest_layer(stream).connect(
        tcp::endpoint(asio::ip::make_address("127.0.0.1"), port));
    SSL_set_tlsext_host_name(stream.native_handle(), "localhost");
    stream.handshake(asio::ssl::stream_base::client, handshake_error);
  }
  Reply request(std::string_view method, std::string_view target, bool keep_alive = false) {
    if (handshake_error) return Reply{0, {}, "handshake: " + handshake_error.message()};
    beast::get_lowest_layer(stream).expires_after(std::chrono::seconds(10));
    return exchange(stream, buffer, method, target, keep_alive);
  }
};

// StderrCapture sends fd 2 (where the access log goes) to a file until
// finish() returns what was written.
class StderrCapture {
 public:
  explicit StderrCapture(std::filesystem::path file) : file_(std::move(file)) {
    std::fflush(stderr);
    saved_ = ::dup(STDERR_FILENO);
    const int fd = ::open(file_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    if (saved_ < 0 || fd < 0) throw std::runtime_error("cannot redirect stderr");
    ::dup2(fd, STDERR_FILENO);
    ::close(fd);
  }
  ~StderrCapture() { restore(); }
  std::string finish() {
    restore();
    std::ifstream in(file_);
    std::ostringstream s;
    s << in.rdbuf();
    return s.str();
  }

 private:
  void restore() {
    if (saved_ < 0) return;
    std::fflush(stderr);
    ::dup2(saved_, STDERR_FILENO);
    ::close(saved_);
    saved_ = -1;
  }
  std::filesystem::path file_;
  int saved_ = -1;
};

class ServerTest : public testing::Test {
 protected:
  static void SetUpTestSuite() {
    (void)shared_pki();  // made once, before any server runs
    dir_ = new TempDir("idra-http-store-XXXXXX");
    store::Options options;
    options.durable = false;
    options.prefault_max_bytes = 0;
    store_ = test::value_or_throw(store::Store::open(dir_->path() / "db", options), "Store::open")
                 .release();
    auth_ = new auth::Authenticator(*store_);
    service_ = new api::Service(api::Config{}, *store_, *auth_);
  }
  static void TearDownTestSuite() {
    delete service_;
    delete auth_;
    delete store_;
    delete dir_;
  }

  static ServerConfig config() {
    ServerConfig c;
    c.address = "127.0.0.1";
    c.port = 0;
    c.threads = 2;
    c.blocking_threads = 1;
    c.access_log = true;
    c.plain_enabled = true;
    c.plain_address = "127.0.0.1";
    c.plain_port = 0;
    c.limits.shutdown_grace = std::chrono::seconds(5);
    return c;
  }

  // start runs a server on its own thread; its access log goes to a file.
  void start(ServerConfig c, bool verify_clients = false) {
    log_dir_ = std::make_unique<TempDir>("idra-http-log-XXXXXX");
    tls_ = std::make_unique<asio::ssl::context>(shared_pki().server_ctx(verify_clients).release());
    auto created = Server::create(std::move(c), *tls_, *service_);
    ASSERT_TRUE(created) << created.error().message;
    server_ = std::move(*created);
    capture_ = std::make_unique<StderrCapture>(log_dir_->path() / "stderr");
    thread_ = std::thread([this] { server_->run(); });
  }

  // stop stops the server and returns the access log lines, each checked to
  // be one valid JSON object.
  std::vector<nlohmann::json> stop() {
    server_->stop();
    if (thread_.joinable()) thread_.join();
    const std::string text = capture_->finish();
    std::vector<nlohmann::json> lines;
    std::istringstream in(text);
    for (std::string line; std::getline(in, line);) {
      auto j = nlohmann::json::parse(line, nullptr, false);
      EXPECT_FALSE(j.is_discarded()) << "not JSON: " << line;
      if (!j.is_discarded()) lines.push_back(std::move(j));
    }
    return lines;
  }

  void TearDown() override {
    if (thread_.joinable()) {
      server_->stop();
      thread_.join();
    }
    capture_.reset();
    server_.reset();
  }

  static TempDir* dir_;
  static store::Store* store_;
  static auth::Authenticator* auth_;
  static api::Service* service_;

  std::unique_ptr<TempDir> log_dir_;
  std::unique_ptr<asio::ssl::context> tls_;
  std::unique_ptr<Server> server_;
  std::unique_ptr<StderrCapture> capture_;
  std::thread thread_;
};

TempDir* ServerTest::dir_ = nullptr;
store::Store* ServerTest::store_ = nullptr;
auth::Authenticator* ServerTest::auth_ = nullptr;
api::Service* ServerTest::service_ = nullptr;

TEST_F(ServerTest, PlainListenerIsOffByDefault) {
  auto c = config();
  c.plain_enabled = false;
  start(c);
  EXPECT_NE(server_->port(), 0);
  EXPECT_EQ(server_->plain_port(), 0);
  stop();
}

TEST_F(ServerTest, BadPlainAddressIsAnError) {
  auto c = config();
  c.plain_address = "not-an-address";
  asio::ssl::context tls(shared_pki().server_ctx(false).release());
  auto created = Server::create(c, tls, *service_);
  ASSERT_FALSE(created);
  EXPECT_NE(created.error().message.find("not-an-address"), std::string::npos);
}

TEST_F(ServerTest, PlainAndTlsListenersBothAnswer) {
  start(config());
  ASSERT_NE(server_->plain_port(), 0);
  ASSERT_NE(server_->port(), 0);
  EXPECT_NE(server_->plain_port(), server_->port());

  {  // clients close before stop(), which then need not wait for them
    PlainClient plain(server_->plain_port());
    auto r = plain.request("GET", "/healthz", true);
    ASSERT_TRUE(r.error.empty()) << r.error;
    EXPECT_EQ(r.status, 200u);
    EXPECT_EQ(nlohmann::json::parse(r.body)["status"], "ok");
    // Keep-alive, and a request that goes through the blocking pool.
    r = plain.request("POST", "/healthz", true);
    ASSERT_TRUE(r.error.empty()) << r.error;
    EXPECT_EQ(r.status, 405u);
    r = plain.request("HEAD", "/healthz");
    ASSERT_TRUE(r.error.empty()) << r.error;
    EXPECT_EQ(r.status, 200u);

    TlsClient tls(server_->port(), shared_pki().client_ctx(false));
    r = tls.request("GET", "/healthz");
    ASSERT_TRUE(r.error.empty()) << r.error;
    EXPECT_EQ(r.status, 200u);

    // A TLS client on the plain port does not get a response.
    TlsClient confused(server_->plain_port(), shared_pki().client_ctx(false));
    EXPECT_TRUE(confused.handshake_error);
  }

  const auto lines = stop();
  ASSERT_GE(lines.size(), 4u);
  for (const auto& line : lines) {
    if (line.contains("path")) {
      EXPECT_FALSE(line.contains("cert")) << line.dump();
    }
  }
}

// Responses larger than a TLS record (and than Beast's coalescing limit)
// arrive whole, on both listeners, twice on one connection.
TEST_F(ServerTest, LargeResponsesArriveWhole) {
  ASSERT_TRUE(store_->home_prefix("88.100").ok());
  store::HandleValue v;
  v.index = 1;
  v.type = "DESC";
  v.data = std::string(200000, 'x');
  v.permissions.public_read = true;
  store::Record rec;
  rec.values = {v};
  ASSERT_TRUE(store_->put("88.100/BIG", rec).ok());
  start(config());
  {
    TlsClient tls(server_->port(), shared_pki().client_ctx(false));
    PlainClient plain(server_->plain_port());
    for (int i = 0; i < 2; ++i) {
      auto r = tls.request("GET", "/api/handles/88.100/BIG", true);
      ASSERT_TRUE(r.error.empty()) << r.error;
      EXPECT_EQ(r.status, 200u);
      EXPECT_GT(r.body.size(), 200000u);
      EXPECT_NE(r.body.find(std::string(1000, 'x')), std::string::npos);
    }
    // The plain listener answers only revocation paths: a 404, but whole.
    auto r = plain.request("GET", "/api/handles/88.100/BIG", true);
    ASSERT_TRUE(r.error.empty()) << r.error;
    EXPECT_EQ(r.status, 404u);
  }
  stop();
}

TEST_F(ServerTest, ClientCertificateReachesTheAccessLog) {
  start(config(), /*verify_clients=*/true);
  const std::string fingerprint = pki::sha256_fingerprint_hex(*shared_pki().client);

  {  // clients close before stop(), which then need not wait for them
    TlsClient with_cert(server_->port(), shared_pki().client_ctx(true));
    ASSERT_FALSE(with_cert.handshake_error) << with_cert.handshake_error.message();
    auto r = with_cert.request("GET", "/healthz?with-cert", true);
    ASSERT_TRUE(r.error.empty()) << r.error;
    EXPECT_EQ(r.status, 200u);
    r = with_cert.request("POST", "/healthz?with-cert");  // the blocking pool path
    ASSERT_TRUE(r.error.empty()) << r.error;
    EXPECT_EQ(r.status, 405u);

    TlsClient without(server_->port(), shared_pki().client_ctx(false));
    r = without.request("GET", "/healthz?anonymous");
    ASSERT_TRUE(r.error.empty()) << r.error;
    EXPECT_EQ(r.status, 200u);
  }

  const auto lines = stop();
  int with_cert_lines = 0;
  int anonymous_lines = 0;
  for (const auto& line : lines) {
    if (!line.contains("path")) continue;
    if (line["path"] == "/healthz?with-cert") {
      ++with_cert_lines;
      ASSERT_TRUE(line.contains("cert")) << line.dump();
      EXPECT_EQ(line["cert"], fingerprint.substr(0, 16));
    } else if (line["path"] == "/healthz?anonymous") {
      ++anonymous_lines;
      EXPECT_FALSE(line.contains("cert")) << line.dump();
    }
  }
  EXPECT_EQ(with_cert_lines, 2);
  EXPECT_EQ(anonymous_lines, 1);
}

// With one io_context for every thread, sessions of both listeners run on
// strands of it.
TEST_F(ServerTest, SharedIoModelServesBothListeners) {
  auto c = config();
  c.io_model = IoModel::shared;
  start(c);
  {
    PlainClient plain(server_->plain_port());
    auto r = plain.request("GET", "/healthz");
    ASSERT_TRUE(r.error.empty()) << r.error;
    EXPECT_EQ(r.status, 200u);
    TlsClient tls(server_->port(), shared_pki().client_ctx(false));
    r = tls.request("GET", "/healthz");
    ASSERT_TRUE(r.error.empty()) << r.error;
    EXPECT_EQ(r.status, 200u);
  }
  EXPECT_EQ(stop().size(), 2u);
}

// The connection limit counts both listeners together.
TEST_F(ServerTest, ConnectionLimitIsShared) {
  auto c = config();
  c.limits.max_connections = 1;
  start(c);
  TlsClient tls(server_->port(), shared_pki().client_ctx(false));
  auto r = tls.request("GET", "/healthz", true);  // the connection is counted once this answers
  ASSERT_TRUE(r.error.empty()) << r.error;

  PlainClient plain(server_->plain_port());
  r = plain.request("GET", "/healthz");
  EXPECT_FALSE(r.error.empty()) << "a second connection was served over the limit";
  EXPECT_EQ(r.status, 0u);
  stop();
}

// An idle keep-alive connection on the plain listener is closed at stop,
// without waiting for the grace period.
TEST_F(ServerTest, StopClosesIdlePlainConnections) {
  start(config());
  PlainClient plain(server_->plain_port());
  auto r = plain.request("GET", "/healthz", true);
  ASSERT_TRUE(r.error.empty()) << r.error;
  const auto t0 = std::chrono::steady_clock::now();
  stop();
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(3));
  char byte = 0;
  beast::error_code ec;
  plain.stream.expires_after(std::chrono::seconds(5));
  plain.stream.read_some(asio::buffer(&byte, 1), ec);
  EXPECT_TRUE(ec == asio::error::eof || ec == asio::error::connection_reset) << ec.message();
}

}  // namespace
}  // namespace idra::http

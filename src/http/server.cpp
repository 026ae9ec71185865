// server.cpp: listener -> session -> api::Service, after Beast's advanced
// server. Each async step is a do_x()/on_x() pair; every read has a size
// limit and a timeout.
#include <boost/asio/dispatch.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/socket_base.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>

#include <array>
#include <atomic>
#include <charconv>
#include <ctime>
#include <list>
#include <mutex>
#include <thread>
#include <type_traits>

#include "access_log.hpp"
#include "response_head.hpp"
#include "idra/auth.hpp"
#include "idra/http.hpp"
#include "peer.hpp"

namespace idra::http {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = beast::http;
namespace ssl = asio::ssl;
using tcp = asio::ip::tcp;
using Clock = std::chrono::steady_clock;

class SessionBase;

// Shared is what every session of one server reads.
struct Shared {
  ServerConfig config;
  ssl::context& tls;
  const api::Service& service;
  AccessLog log;
  asio::thread_pool blocking;
  // connections counts both listeners' sessions against max_connections.
  std::atomic<std::size_t> connections{0};
  std::atomic<std::size_t> pending_blocking{0};
  std::atomic<bool> stopping{false};
  std::mutex sessions_mu;
  std::list<std::weak_ptr<SessionBase>> sessions;

  Shared(ServerConfig c, ssl::context& t, const api::Service& s)
      : config(std::move(c)), tls(t), service(s), blocking(std::max(1u, config.blocking_threads)) {}
};

// SessionBase is what the server needs of a session of either listener at
// shutdown. Its one virtual call is made per connection at drain time, never
// on the request path.
class SessionBase {
 public:
  explicit SessionBase(Shared& shared) : sh_(shared) {}
  virtual ~SessionBase() { sh_.connections.fetch_sub(1, std::memory_order_relaxed); }
  SessionBase(const SessionBase&) = delete;
  SessionBase& operator=(const SessionBase&) = delete;

  // close_if_idle is called at shutdown: a connection waiting for its next
  // request is closed now; one inside a request finishes it first.
  virtual void close_if_idle() = 0;

 protected:
  Shared& sh_;
};

namespace {

// append_iso_time_now appends the access log's clock,
// "2026-11-25T09:55:53.123Z". The part up to the seconds is formatted once
// per second per thread.
void append_iso_time_now(std::string& out) {
  const auto now = std::chrono::system_clock::now();
  const auto ms_total = std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count();
  const std::time_t t = static_cast<std::time_t>(ms_total / 1000);
  const int ms = static_cast<int>(ms_total % 1000);
  thread_local std::time_t cached_second = -1;
  thread_local char cached[32];
  if (t != cached_second) {
    std::tm tm{};
    gmtime_r(&t, &tm);
    std::strftime(cached, sizeof cached, "%Y-%m-%dT%H:%M:%S", &tm);
    cached_second = t;
  }
  out.append(cached);
  out.push_back('.');
  out.push_back(static_cast<char>('0' + ms / 100));
  out.push_back(static_cast<char>('0' + ms / 10 % 10));
  out.push_back(static_cast<char>('0' + ms % 10));
  out.push_back('Z');
}

// append_number appends |n| in decimal without a temporary string.
template <class Int>
void append_number(std::string& out, Int n) {
  char digits[24];
  const auto end = std::to_chars(digits, digits + sizeof digits, n).ptr;
  out.append(digits, static_cast<std::size_t>(end - digits));
}

std::string error_body(std::string_view message) {
  std::string body = "{\"message\":\"";
  json_escape(body, message);
  body += "\"}";
  return body;
}

}  // namespace

// Session serves one connection of either listener. |Stream| is
// beast::ssl_stream<beast::tcp_stream> (TLS) or beast::tcp_stream (plain
// HTTP); the differences (handshake, peer certificate, close) are resolved at
// compile time, so the TLS path is the same code as before plain HTTP existed.
template <class Stream>
class Session final : public SessionBase, public std::enable_shared_from_this<Session<Stream>> {
  static constexpr bool kTls = !std::is_same_v<Stream, beast::tcp_stream>;
  using std::enable_shared_from_this<Session<Stream>>::shared_from_this;
  using std::enable_shared_from_this<Session<Stream>>::weak_from_this;

 public:
  Session(tcp::socket&& socket, Shared& shared)
      : SessionBase(shared), stream_(make_stream(std::move(socket), shared)) {
    beast::error_code ec;
    const auto ep = beast::get_lowest_layer(stream_).socket().remote_endpoint(ec);
    if (!ec) client_ = ep.address().to_string();
    beast::get_lowest_layer(stream_).socket().set_option(tcp::no_delay(true), ec);
  }
  void run() {
    {
      std::lock_guard lock(sh_.sessions_mu);
      sh_.sessions.push_back(weak_from_this());
      registry_pos_ = std::prev(sh_.sessions.end());
    }
    if constexpr (kTls) {
      asio::dispatch(stream_.get_executor(),
                     beast::bind_front_handler(&Session::do_handshake, shared_from_this()));
    } else {
      asio::dispatch(stream_.get_executor(),
                     beast::bind_front_handler(&Session::do_read, shared_from_this(), true));
    }
  }

  void close_if_idle() override {
    asio::post(stream_.get_executor(), [self = shared_from_this()] {
      if (self->idle_) beast::get_lowest_layer(self->stream_).cancel();
    });
  }

 private:
  static Stream make_stream(tcp::socket&& socket, Shared& shared) {
    if constexpr (kTls) {
      return Stream(std::move(socket), shared.tls);
    } else {
      return Stream(std::move(socket));
    }
  }

  void do_handshake() {
    beast::get_lowest_layer(stream_).expires_after(sh_.config.limits.handshake_timeout);
    stream_.async_handshake(ssl::stream_base::server,
                            beast::bind_front_handler(&Session::on_handshake, shared_from_this()));
  }

  void on_handshake(beast::error_code ec) {
    if (ec) return close_socket();
    // Once per connection: every request of it shares this (null when the
    // client sent no certificate).
    peer_ = peer_certificate(stream_.native_handle());
    do_read(true);
  }

  void do_read(bool first) {
    if (sh_.stopping.load(std::memory_order_relaxed)) return do_close();
    parser_.emplace();
    parser_->header_limit(static_cast<std::uint32_t>(sh_.config.limits.max_header_bytes));
    parser_->body_limit(sh_.config.limits.max_body_bytes);
    idle_ = buffer_.size() == 0;
    beast::get_lowest_layer(stream_).expires_after(first ? sh_.config.limits.header_timeout
                                                         : sh_.config.limits.idle_timeout);
    bhttp::async_read_header(stream_, buffer_, *parser_,
                             beast::bind_front_handler(&Session::on_read_header, shared_from_this()));
  }

  void on_read_header(beast::error_code ec, std::size_t) {
    idle_ = false;
    start_ = Clock::now();
    // One id per request: in the X-Request-Id header, the access log line
    // and the audit record, so that the three can be matched.
    request_id_ = auth::unique_hex();
    if (ec == bhttp::error::end_of_stream || ec == asio::error::operation_aborted ||
        ec == beast::error::timeout || ec == ssl::error::stream_truncated) {
      return do_close();
    }
    if (ec == bhttp::error::header_limit) {
      return send_error(431, "request header is larger than " +
                                 std::to_string(sh_.config.limits.max_header_bytes) + " bytes");
    }
    if (ec == bhttp::error::body_limit) {  // Content-Length already says too much
      return send_error(413, "request body is larger than " + std::to_string(sh_.config.limits.max_body_bytes) + " bytes");
    }
    if (ec) {
      if (buffer_.size() == 0 && parser_->got_some() == false) return do_close();
      return send_error(400, "malformed HTTP request: " + ec.message());
    }
    auto& req = parser_->get();
    if (const auto len = parser_->content_length(); len && *len > sh_.config.limits.max_body_bytes) {
      return send_error(413, "request body is larger than " + std::to_string(sh_.config.limits.max_body_bytes) + " bytes");
    }
    if (parser_->is_done()) return handle();
    if (beast::iequals(req[bhttp::field::expect], "100-continue")) {
      auto cont = std::make_shared<bhttp::response<bhttp::empty_body>>(bhttp::status::continue_, 11);
      beast::get_lowest_layer(stream_).expires_after(sh_.config.limits.write_timeout);
      bhttp::async_write(stream_, *cont, [self = shared_from_this(), cont](beast::error_code ec2, std::size_t) {
        if (ec2) return self->close_socket();
        self->do_read_body();
      });
      return;
    }
    do_read_body();
  }

  void do_read_body() {
    beast::get_lowest_layer(stream_).expires_after(sh_.config.limits.body_timeout);
    bhttp::async_read(stream_, buffer_, *parser_, beast::bind_front_handler(&Session::on_read_body, shared_from_this()));
  }

  void on_read_body(beast::error_code ec, std::size_t) {
    if (ec == bhttp::error::body_limit) {
      return send_error(413, "request body is larger than " + std::to_string(sh_.config.limits.max_body_bytes) + " bytes");
    }
    if (ec == beast::error::timeout) return send_error(408, "request body did not arrive in time");
    if (ec) return do_close();
    handle();
  }

  void handle() {
    auto req = parser_->release();
    ++requests_;
    head_ = req.method() == bhttp::verb::head;
    keep_alive_ = req.keep_alive();
    api::Request areq;
    areq.method = std::string(req.method_string());
    areq.target = std::string(req.target());
    log_method_ = areq.method;
    log_target_.assign(areq.target, 0, 512);
    areq.client_address = client_;
    const auto wall_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                             std::chrono::system_clock::now().time_since_epoch())
                             .count();
    areq.now_unix_ms = static_cast<std::int64_t>(wall_ms);
    areq.now_unix = areq.now_unix_ms / 1000;
    areq.received = start_;
    areq.request_id = request_id_;
    areq.headers.reserve(8);
    for (const auto& field : req) {
      std::string name(field.name_string());
      for (auto& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      areq.headers.emplace_back(std::move(name), std::string(field.value()));
    }
    areq.body = std::move(req.body());
    areq.secure = kTls;
    if constexpr (kTls) {
      if (peer_) areq.peer = peer_;  // one atomic increment, only for mTLS clients
    }
    // Requests that may block (a write that fsyncs, a first Argon2id check,
    // an issuance for a certificate-authenticated client) run on the blocking
    // pool; reads run here (Service::may_block), with or without a client
    // certificate or credentials verified before. Every other method goes to
    // the pool, so a certificate-authenticated write or issuance never runs here.
    if (!sh_.service.may_block(areq)) return send(sh_.service.handle(areq));
    if (sh_.pending_blocking.fetch_add(1) >= sh_.config.limits.max_pending_blocking) {
      sh_.pending_blocking.fetch_sub(1);
      // Backpressure, not an unbounded queue; the request is not run, but
      // it is audited like every other.
      api::Response busy = sh_.service.busy(std::chrono::seconds(1));
      sh_.service.audit_unrun(areq, busy);
      return send(std::move(busy));
    }
    asio::post(sh_.blocking, [self = shared_from_this(), areq = std::move(areq)]() mutable {
      api::Response res = self->sh_.service.handle(areq);
      self->sh_.pending_blocking.fetch_sub(1);
      asio::post(self->stream_.get_executor(), [self, res = std::move(res)]() mutable { self->send(std::move(res)); });
    });
  }

  void send_error(unsigned status, std::string message) {
    // The request could not be read whole: answer and close the connection.
    keep_alive_ = false;
    head_ = false;
    if (log_method_.empty()) log_method_ = "-";
    api::Response r;
    r.status = status;
    r.body = error_body(message);
    r.headers.emplace_back("content-type", "application/json");
    sh_.service.audit_unrun(unread_request(), r);
    send(std::move(r));
  }

  // unread_request is what is known of a request that could not be read
  // whole, for its audit record: who sent it, when, its id, and its method
  // and target if the header arrived complete.
  api::Request unread_request() const {
    api::Request areq;
    areq.client_address = client_;
    areq.now_unix_ms =
        static_cast<std::int64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                      std::chrono::system_clock::now().time_since_epoch())
                                      .count());
    areq.now_unix = areq.now_unix_ms / 1000;
    areq.received = start_;
    areq.request_id = request_id_;
    areq.secure = kTls;
    if constexpr (kTls) areq.peer = peer_;
    if (parser_ && parser_->is_header_done()) {
      const auto& req = parser_->get();
      areq.method = std::string(req.method_string());
      areq.target = std::string(req.target().substr(0, 2048));
    }
    return areq;
  }

  // send writes |r|: the head serialized into head_buf_ (whose capacity
  // stays with the session, so a response costs no allocation for it; see
  // write_head) and the body after it, in one write of one buffer.
  void send(api::Response r) {
    const bool close = !keep_alive_ || sh_.stopping.load(std::memory_order_relaxed) ||
                       requests_ >= sh_.config.limits.max_requests_per_connection;
    const std::size_t body_bytes = r.body.size();
    write_head(head_buf_, r, request_id_, head_, close);
    if (!head_) head_buf_.append(r.body);
    if (sh_.config.access_log) log(r.status, head_ ? 0 : body_bytes, r);
    beast::get_lowest_layer(stream_).expires_after(sh_.config.limits.write_timeout);
    asio::async_write(stream_, asio::buffer(head_buf_),
                      beast::bind_front_handler(&Session::on_write, shared_from_this(), close));
  }

  // log writes the request's line. |r|'s body has been moved out already;
  // its principal and policy decision are what the line needs.
  void log(unsigned status, std::size_t bytes, const api::Response& r) {
    const std::string& principal = r.principal;
    const auto us = std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - start_).count();
    // The line is built in a buffer this thread keeps (AccessLog::append
    // copies it), so a request's line costs no allocation.
    thread_local std::string line;
    line.clear();
    line += "{\"time\":\"";
    append_iso_time_now(line);
    line += "\",\"method\":\"";
    json_escape(line, log_method_);
    line += "\",\"path\":\"";
    json_escape(line, log_target_);
    line += "\",\"request_id\":\"";
    line += request_id_;  // hex: needs no escaping
    line += "\",\"status\":";
    append_number(line, status);
    line += ",\"bytes\":";
    append_number(line, bytes);
    line += ",\"us\":";
    append_number(line, us);
    line += ",\"client\":\"";
    json_escape(line, client_);
    line += "\",\"principal\":\"";
    json_escape(line, principal);
    if (peer_) {
      // Only a prefix of the fingerprint (hex, needs no escaping): enough to
      // find the certificate, nothing else from it goes into the log.
      line += "\",\"cert\":\"";
      line.append(peer_->fingerprint, 0, 16);
    }
    if (!r.decision.empty()) {
      // The policy decision and why: the determining policies and any that
      // errored (their ids and messages; never request contents).
      line += "\",\"action\":\"";
      json_escape(line, r.action);
      line += "\",\"decision\":\"";
      line += r.decision;
      line += "\",\"policies\":[";
      for (std::size_t i = 0; i < r.determining.size(); ++i) {
        line += i ? ",\"" : "\"";
        json_escape(line, r.determining[i]);
        line += "\"";
      }
      line += "]";
      if (!r.policy_errors.empty()) {
        line += ",\"policy_errors\":[";
        for (std::size_t i = 0; i < r.policy_errors.size(); ++i) {
          line += i ? ",\"" : "\"";
          json_escape(line, r.policy_errors[i]);
          line += "\"";
        }
        line += "]";
      }
      line += "}";
    } else {
      line += "\"}";
    }
    sh_.log.append(line);
    if (line.capacity() > (std::size_t{1} << 16)) std::string().swap(line);  // one huge line is not kept
    log_method_.clear();
    log_target_.clear();
  }

  void on_write(bool close, beast::error_code ec, std::size_t) {
    if (ec) return close_socket();
    if (close) return do_close();
    do_read(false);
  }

  void do_close() {
    if (closing_) return;
    closing_ = true;
    if constexpr (kTls) {
      beast::get_lowest_layer(stream_).expires_after(std::chrono::seconds(2));
      stream_.async_shutdown([self = shared_from_this()](beast::error_code) { self->close_socket(); });
    } else {
      close_socket();
    }
  }

  void close_socket() {
    beast::error_code ec;
    beast::get_lowest_layer(stream_).socket().shutdown(tcp::socket::shutdown_both, ec);
    beast::get_lowest_layer(stream_).close();
    std::lock_guard lock(sh_.sessions_mu);
    if (registered_) {
      sh_.sessions.erase(registry_pos_);
      registered_ = false;
    }
  }

  Stream stream_;
  beast::flat_buffer buffer_;
  // peer_ is the client certificate (TLS only); null when there is none.
  std::shared_ptr<const api::PeerCertificate> peer_;
  std::optional<bhttp::request_parser<bhttp::string_body>> parser_;
  std::string head_buf_;  // the response being written, head and body (see send)
  std::string client_ = "-";
  std::string log_method_;
  std::string request_id_;
  std::string log_target_;
  Clock::time_point start_ = Clock::now();
  std::size_t requests_ = 0;
  bool idle_ = false;
  bool head_ = false;
  bool keep_alive_ = true;
  bool closing_ = false;
  bool registered_ = true;
  std::list<std::weak_ptr<SessionBase>>::iterator registry_pos_;
};

using TlsSession = Session<beast::ssl_stream<beast::tcp_stream>>;
using PlainSession = Session<beast::tcp_stream>;

// Listener accepts connections for the TLS listener (|tls|) or the plain one.
class Listener : public std::enable_shared_from_this<Listener> {
 public:
  Listener(asio::io_context& ioc, tcp::acceptor acceptor, Shared& shared, bool strand, bool tls)
      : ioc_(ioc), acceptor_(std::move(acceptor)), sh_(shared), strand_(strand), tls_(tls) {}

  void start() { do_accept(); }
  void stop() {
    asio::post(acceptor_.get_executor(), [self = shared_from_this()] {
      beast::error_code ec;
      self->acceptor_.close(ec);
    });
  }

 private:
  void do_accept() {
    if (strand_) {
      acceptor_.async_accept(asio::make_strand(ioc_), beast::bind_front_handler(&Listener::on_accept, shared_from_this()));
    } else {
      acceptor_.async_accept(ioc_, beast::bind_front_handler(&Listener::on_accept, shared_from_this()));
    }
  }

  void on_accept(beast::error_code ec, tcp::socket socket) {
    if (ec == asio::error::operation_aborted || !acceptor_.is_open()) return;
    if (!ec) {
      beast::error_code ignored;
      if (sh_.stopping.load()) {
        socket.close(ignored);
      } else if (sh_.connections.fetch_add(1, std::memory_order_relaxed) >= sh_.config.limits.max_connections) {
        sh_.connections.fetch_sub(1, std::memory_order_relaxed);  // over the limit: refuse at once
        socket.close(ignored);
      } else {
        // Its destructor gives the slot back.
        if (tls_) {
          std::make_shared<TlsSession>(std::move(socket), sh_)->run();
        } else {
          std::make_shared<PlainSession>(std::move(socket), sh_)->run();
        }
      }
    }
    do_accept();
  }

  asio::io_context& ioc_;
  tcp::acceptor acceptor_;
  Shared& sh_;
  bool strand_;
  bool tls_;
};

struct Server::Impl {
  Shared shared;
  std::vector<std::unique_ptr<asio::io_context>> contexts;
  std::vector<std::shared_ptr<Listener>> listeners;
  std::unique_ptr<asio::signal_set> signals;
  unsigned short port = 0;
  unsigned short plain_port = 0;  // 0 when the plain listener is off
  unsigned threads = 1;
  std::atomic<bool> stop_requested{false};
  std::mutex stop_mu;
  std::condition_variable stop_cv;

  Impl(ServerConfig c, ssl::context& t, const api::Service& s) : shared(std::move(c), t, s) {}
};

Server::Server(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Server::~Server() {
  stop();
  impl_->shared.blocking.join();
}

unsigned short Server::port() const { return impl_->port; }
unsigned short Server::plain_port() const { return impl_->plain_port; }

Result<std::unique_ptr<Server>> Server::create(ServerConfig config, ssl::context& tls, const api::Service& service) {
  auto impl = std::make_unique<Impl>(std::move(config), tls, service);
  auto& cfg = impl->shared.config;
  impl->threads = cfg.threads != 0 ? cfg.threads : std::max(1u, std::thread::hardware_concurrency());
  beast::error_code ec;
  const auto address = asio::ip::make_address(cfg.address, ec);
  if (ec) return make_error("listen address \"" + cfg.address + "\" is not an IP address");
  const std::size_t n_contexts = cfg.io_model == IoModel::per_thread ? impl->threads : 1;
  for (std::size_t i = 0; i < n_contexts; ++i) {
    impl->contexts.push_back(std::make_unique<asio::io_context>(cfg.io_model == IoModel::per_thread ? 1 : static_cast<int>(impl->threads)));
  }
  unsigned short port = cfg.port;
  for (std::size_t i = 0; i < n_contexts; ++i) {
    tcp::acceptor acc(*impl->contexts[i]);
    const tcp::endpoint ep(address, port);
    acc.open(ep.protocol(), ec);
    if (!ec) acc.set_option(asio::socket_base::reuse_address(true), ec);
    if (!ec && n_contexts > 1) {
      const int one = 1;
      if (::setsockopt(acc.native_handle(), SOL_SOCKET, SO_REUSEPORT, &one, sizeof one) != 0) {
        return make_error("cannot set SO_REUSEPORT on the listening socket");
      }
    }
    if (!ec) acc.bind(ep, ec);
    if (!ec) acc.listen(asio::socket_base::max_listen_connections, ec);
    if (ec) {
      return make_error("cannot listen on " + cfg.address + ":" + std::to_string(port) + ": " + ec.message());
    }
    port = acc.local_endpoint().port();
    impl->listeners.push_back(std::make_shared<Listener>(*impl->contexts[i], std::move(acc), impl->shared,
                                                         cfg.io_model == IoModel::shared, true));
  }
  impl->port = port;
  if (cfg.plain_enabled) {
    // One plain acceptor, on the first io_context: it serves CRL and OCSP
    // fetches, little traffic, so it needs no SO_REUSEPORT fan-out. In the
    // per-thread model its sessions all run on that context's thread.
    const auto plain_address = asio::ip::make_address(cfg.plain_address, ec);
    if (ec) {
      return make_error("plain listen address \"" + cfg.plain_address + "\" is not an IP address");
    }
    const tcp::endpoint ep(plain_address, cfg.plain_port);
    tcp::acceptor acc(*impl->contexts[0]);
    acc.open(ep.protocol(), ec);
    if (!ec) acc.set_option(asio::socket_base::reuse_address(true), ec);
    if (!ec) acc.bind(ep, ec);
    if (!ec) acc.listen(asio::socket_base::max_listen_connections, ec);
    if (ec) {
      return make_error("cannot listen (plain HTTP) on " + cfg.plain_address + ":" +
                        std::to_string(cfg.plain_port) + ": " + ec.message());
    }
    impl->plain_port = acc.local_endpoint().port();
    impl->listeners.push_back(std::make_shared<Listener>(*impl->contexts[0], std::move(acc), impl->shared,
                                                         cfg.io_model == IoModel::shared, false));
  }
  return std::unique_ptr<Server>(new Server(std::move(impl)));
}

void Server::run() {
  auto& im = *impl_;
  if (im.shared.config.access_log) im.shared.log.start();
  im.signals = std::make_unique<asio::signal_set>(*im.contexts[0], SIGINT, SIGTERM);
  im.signals->async_wait([this](beast::error_code ec, int) {
    if (!ec) stop();
  });
  for (auto& l : im.listeners) l->start();

  // While draining, a context whose only session waits on the blocking pool
  // has no pending operation of its own; without a guard its run() would
  // return and the finished request would never be written.
  std::vector<asio::executor_work_guard<asio::io_context::executor_type>> guards;
  for (auto& ctx : im.contexts) guards.push_back(asio::make_work_guard(*ctx));

  std::vector<std::thread> threads;
  for (unsigned i = 0; i < im.threads; ++i) {
    auto& ctx = *im.contexts[im.contexts.size() == 1 ? 0 : i];
    threads.emplace_back([&ctx] { ctx.run(); });
  }

  // Wait for a stop, then drain: stop accepting, close idle connections, let
  // requests in flight finish until the grace period ends.
  {
    std::unique_lock lock(im.stop_mu);
    im.stop_cv.wait(lock, [&] { return im.stop_requested.load(); });
  }
  im.shared.stopping.store(true);
  for (auto& l : im.listeners) l->stop();
  asio::post(*im.contexts[0], [&] {
    beast::error_code ignored;
    im.signals->cancel(ignored);
  });
  const auto deadline = Clock::now() + im.shared.config.limits.shutdown_grace;
  while (Clock::now() < deadline) {
    {
      std::lock_guard lock(im.shared.sessions_mu);
      for (auto& w : im.shared.sessions) {
        if (auto s = w.lock()) s->close_if_idle();
      }
    }
    if (im.shared.connections.load() == 0) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  im.shared.blocking.join();
  guards.clear();
  for (auto& ctx : im.contexts) ctx->stop();
  for (auto& t : threads) t.join();
  im.shared.log.stop();
}

void Server::stop() {
  auto& im = *impl_;
  {
    std::lock_guard lock(im.stop_mu);
    im.stop_requested.store(true);
  }
  im.stop_cv.notify_all();
}

}  // namespace idra::http

// http.hpp: the HTTPS listener. Bytes in, api::Request out; api::Response in,
// bytes out. Owns sockets, TLS sessions, timeouts and limits; knows nothing
// of handles or records.
#pragma once

#include <chrono>
#include <cstddef>
#include <memory>
#include <string>

#include <boost/asio/ssl/context.hpp>

#include "idra/api.hpp"
#include "idra/result.hpp"

namespace idra::http {

struct Limits {
  std::size_t max_body_bytes = std::size_t{1} << 20;     // 413 beyond
  std::size_t max_header_bytes = std::size_t{16} << 10;  // 431 beyond
  // handshake_timeout bounds the TLS handshake of a new connection.
  std::chrono::milliseconds handshake_timeout{10'000};
  // header_timeout bounds the arrival of a whole request header once a
  // connection is new; body_timeout the arrival of its body (slow-client
  // defence: a client cannot hold a connection by trickling bytes).
  std::chrono::milliseconds header_timeout{10'000};
  std::chrono::milliseconds body_timeout{30'000};
  // idle_timeout is how long a keep-alive connection may wait for its next request.
  std::chrono::milliseconds idle_timeout{60'000};
  std::chrono::milliseconds write_timeout{30'000};
  std::size_t max_connections = 10'000;  // further connections are closed at once
  std::size_t max_requests_per_connection = 100'000;
  std::chrono::milliseconds shutdown_grace{10'000};  // in-flight requests get this long
  // max_pending_blocking bounds the requests waiting for the blocking pool
  // (writes, first Argon2id checks); beyond it they get 503, responseCode 3.
  std::size_t max_pending_blocking = 1024;
};

enum class IoModel {
  per_thread,  // one io_context and one SO_REUSEPORT acceptor per thread (nginx's model)
  shared,      // one io_context run by every thread, a strand per connection
};

struct ServerConfig {
  std::string address = "127.0.0.1";
  unsigned short port = 8443;  // 0 picks a free port; see Server::port()
  unsigned threads = 0;        // 0 means the number of cores
  IoModel io_model = IoModel::per_thread;
  Limits limits;
  bool access_log = true;  // one JSON line per request on stderr
  // blocking_threads run requests that may block (writes that fsync, first
  // Argon2id checks) so that they never stall the network threads.
  unsigned blocking_threads = 2;
  // plain_port: a second listener without TLS on plain_address (0 = none),
  // for CRL and OCSP fetchers, which do not speak TLS. Requests arriving on
  // it carry api::Request::secure == false; the api decides what it serves
  // in clear. Same limits and threads as the TLS listener.
  std::string plain_address = "127.0.0.1";
  unsigned short plain_port = 0;
  bool plain_enabled = false;  // plain_port 0 with plain_enabled picks a free port
};

class Server {
 public:
  // create binds the listening sockets. Errors: address in use, permission,
  // bad address. |tls| and |service| must outlive the server.
  static Result<std::unique_ptr<Server>> create(ServerConfig config, boost::asio::ssl::context& tls,
                                                const api::Service& service);
  ~Server();

  unsigned short port() const;
  // plain_port is the plain-HTTP listener's port, 0 when there is none.
  unsigned short plain_port() const;

  // run serves until stop() is called or SIGINT/SIGTERM arrives, then stops
  // accepting, lets in-flight requests finish (up to shutdown_grace), closes
  // every connection and returns.
  void run();
  // stop is safe from any thread, once or many times.
  void stop();

  struct Impl;

 private:
  explicit Server(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace idra::http

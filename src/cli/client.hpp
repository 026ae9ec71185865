// client.hpp: the HTTPS client behind `idra resolve`.
#pragma once

#include <optional>
#include <string>
#include <utility>
#include <string_view>
#include <vector>

#include "idra/result.hpp"

namespace idra::cli {

struct ResolveArgs {
  std::string identifier;
  std::string server = "https://127.0.0.1:8443";
  std::string cacert;  // empty: ./idra-data/tls/ca.pem if present, else the system store
  std::vector<std::string> types;
  std::vector<std::string> indexes;
  std::string auth_id;
  std::string secret_file;
};

// resolve prints the record (pretty JSON) on stdout and returns 0, or prints
// the reason on stderr and returns 1 (not found, TLS failure, bad answer).
int resolve(const ResolveArgs& args);

// CallArgs is one HTTPS request of a client command.
struct CallArgs {
  std::string server = "https://127.0.0.1:8443";
  std::string cacert;  // as ResolveArgs::cacert
  std::string method = "GET";
  std::string target;  // path and query, appended to the server URL's path
  std::string authorization;
  std::string content_type = "application/json";
  std::string body;
  // A client certificate for mutual TLS: a PEM chain (leaf first) and its
  // PEM private key, plain or encrypted under |client_key_password|.
  std::string client_certificate;
  std::string client_key;
  std::string client_key_password;
};

struct Reply {
  unsigned status = 0;
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;  // names lower-cased
  // header returns the first header named |lower_name|, or "".
  std::string header(std::string_view lower_name) const;
};

// https_call sends one request over a verified TLS connection (host name or
// IP address checked) and returns the reply; Error for a bad URL, a TLS or
// network failure.
Result<Reply> https_call(const CallArgs& call);
// reply_message is the "message" of a JSON error body, or the body's start.
std::string reply_message(const Reply& reply);
// basic_authorization returns "Basic ..." for |id| (percent-encoded) and |secret|.
std::string basic_authorization(std::string_view id, std::string_view secret);
// read_text_file returns the bytes of |path|, nullopt when it cannot be read.
std::optional<std::string> read_text_file(const std::string& path);
// basic_from_file reads credentials for Basic authentication from |file|:
// DATA/admin.json's form {"id": "300:0.NA/IDRA", "secret": "..."}, or the
// secret alone (trailing line breaks dropped). |id|, when not empty, is used
// instead of the file's. Returns the Authorization header value; Error when
// the file cannot be read or no id is known. The secret's copies are zeroed.
Result<std::string> basic_from_file(const std::string& file, std::string id);
// url_component percent-encodes everything but RFC 3986 unreserved characters.
std::string url_component(std::string_view s);

}  // namespace idra::cli

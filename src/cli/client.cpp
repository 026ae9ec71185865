#include "client.hpp"

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <nlohmann/json.hpp>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>

namespace idra::cli {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = beast::http;
namespace ssl = asio::ssl;
using tcp = asio::ip::tcp;

std::string encode_component(std::string_view s, bool keep_slash) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (char ch : s) {
    const auto c = static_cast<unsigned char>(ch);
    if (std::isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~' || (keep_slash && c == '/')) {
      out.push_back(ch);
    } else {
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 15]);
    }
  }
  return out;
}

std::string base64(std::string_view in) {
  static constexpr char kTable[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  std::size_t i = 0;
  for (; i + 2 < in.size(); i += 3) {
    const unsigned v = (static_cast<unsigned char>(in[i]) << 16) | (static_cast<unsigned char>(in[i + 1]) << 8) |
                       static_cast<unsigned char>(in[i + 2]);
    out += {kTable[v >> 18], kTable[(v >> 12) & 63], kTable[(v >> 6) & 63], kTable[v & 63]};
  }
  if (i + 1 == in.size()) {
    const unsigned v = static_cast<unsigned char>(in[i]) << 16;
    out += {kTable[v >> 18], kTable[(v >> 12) & 63], '=', '='};
  } else if (i + 2 == in.size()) {
    const unsigned v = (static_cast<unsigned char>(in[i]) << 16) | (static_cast<unsigned char>(in[i + 1]) << 8);
    out += {kTable[v >> 18], kTable[(v >> 12) & 63], kTable[(v >> 6) & 63], '='};
  }
  return out;
}

struct Url {
  std::string host;
  std::string port = "443";
  std::string base_path;
};

bool parse_url(std::string_view s, Url& out) {
  if (!s.starts_with("https://")) return false;
  s.remove_prefix(8);
  const auto slash = s.find('/');
  std::string_view authority = s.substr(0, slash);
  out.base_path = slash == std::string_view::npos ? "" : std::string(s.substr(slash));
  while (!out.base_path.empty() && out.base_path.back() == '/') out.base_path.pop_back();
  if (authority.starts_with("[")) {
    const auto close = authority.find(']');
    if (close == std::string_view::npos) return false;
    out.host = std::string(authority.substr(1, close - 1));
    if (close + 1 < authority.size() && authority[close + 1] == ':') out.port = std::string(authority.substr(close + 2));
  } else {
    const auto colon = authority.rfind(':');
    out.host = std::string(authority.substr(0, colon));
    if (colon != std::string_view::npos) out.port = std::string(authority.substr(colon + 1));
  }
  return !out.host.empty() && !out.port.empty();
}

}  // namespace

Result<Reply> https_call(const CallArgs& call) {
  Url url;
  if (!parse_url(call.server, url)) return make_error("--server must be an https URL, for example https://127.0.0.1:8443");
  try {
    asio::io_context ioc;
    ssl::context ctx(ssl::context::tls_client);
    ctx.set_verify_mode(ssl::verify_peer);
    std::string cacert = call.cacert;
    if (cacert.empty() && std::filesystem::exists("idra-data/tls/ca.pem")) cacert = "idra-data/tls/ca.pem";
    if (!cacert.empty()) {
      ctx.load_verify_file(cacert);
    } else {
      ctx.set_default_verify_paths();
    }
    if (!call.client_certificate.empty()) {
      if (!call.client_key_password.empty()) {
        ctx.set_password_callback([pw = call.client_key_password](std::size_t, ssl::context::password_purpose) { return pw; });
      }
      ctx.use_certificate_chain_file(call.client_certificate);
      ctx.use_private_key_file(call.client_key.empty() ? call.client_certificate : call.client_key, ssl::context::pem);
    }
    beast::ssl_stream<beast::tcp_stream> stream(ioc, ctx);
    // Verify the certificate against the host name or IP address we dial.
    boost::system::error_code ec;
    (void)asio::ip::make_address(url.host, ec);  // only asks: is the host an IP literal?
    if (ec) {
      SSL_set_tlsext_host_name(stream.native_handle(), url.host.c_str());
      SSL_set1_host(stream.native_handle(), url.host.c_str());
    } else {
      X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(stream.native_handle()), url.host.c_str());
    }
    tcp::resolver resolver(ioc);
    beast::get_lowest_layer(stream).expires_after(std::chrono::seconds(30));
    beast::get_lowest_layer(stream).connect(resolver.resolve(url.host, url.port));
    stream.handshake(ssl::stream_base::client);

    bhttp::request<bhttp::string_body> req{bhttp::string_to_verb(call.method), url.base_path + call.target, 11};
    req.set(bhttp::field::host, url.host);
    req.set(bhttp::field::user_agent, "idra-cli/0.1");
    req.set(bhttp::field::accept, "application/json");
    if (!call.authorization.empty()) req.set(bhttp::field::authorization, call.authorization);
    if (!call.body.empty() || call.method == "POST" || call.method == "PUT") {
      req.set(bhttp::field::content_type, call.content_type);
      req.body() = call.body;
      req.prepare_payload();
    }
    bhttp::write(stream, req);
    beast::flat_buffer buffer;
    bhttp::response_parser<bhttp::string_body> parser;
    parser.body_limit(64u << 20);
    bhttp::read(stream, buffer, parser);
    auto res = parser.release();
    stream.shutdown(ec);  // the server may close first; nothing to do about it
    Reply reply{res.result_int(), std::move(res.body()), {}};
    for (const auto& field : res) {
      std::string name(field.name_string());
      for (auto& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      reply.headers.emplace_back(std::move(name), std::string(field.value()));
    }
    return reply;
  } catch (const std::exception& e) {
    return make_error(e.what());
  }
}

std::string Reply::header(std::string_view lower_name) const {
  for (const auto& [k, v] : headers) {
    if (k == lower_name) return v;
  }
  return {};
}

std::string reply_message(const Reply& reply) {
  auto j = nlohmann::json::parse(reply.body, nullptr, false);
  if (!j.is_discarded() && j.is_object() && j.contains("message") && j["message"].is_string()) {
    return j["message"].get<std::string>();
  }
  return reply.body.substr(0, 500);
}

std::string basic_authorization(std::string_view id, std::string_view secret) {
  return "Basic " + base64(encode_component(id, false) + ":" + std::string(secret));
}

std::string url_component(std::string_view s) { return encode_component(s, false); }

std::optional<std::string> read_text_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return std::nullopt;
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

Result<std::string> basic_from_file(const std::string& file, std::string id) {
  auto text = read_text_file(file);
  if (!text) return make_error("cannot read " + file + " (the credentials)");
  std::string secret = *text;
  auto j = nlohmann::json::parse(*text, nullptr, false);
  std::fill(text->begin(), text->end(), '\0');
  if (!j.is_discarded() && j.is_object()) {
    if (j.contains("secret") && j["secret"].is_string()) {
      std::fill(secret.begin(), secret.end(), '\0');
      secret = j["secret"].get<std::string>();
    }
    if (id.empty() && j.contains("id") && j["id"].is_string()) id = j["id"].get<std::string>();
  }
  while (!secret.empty() && (secret.back() == '\n' || secret.back() == '\r')) secret.pop_back();
  if (id.empty()) {
    std::fill(secret.begin(), secret.end(), '\0');
    return make_error("no credentials id: give --auth INDEX:HANDLE");
  }
  std::string header = basic_authorization(id, secret);
  std::fill(secret.begin(), secret.end(), '\0');
  return header;
}

int resolve(const ResolveArgs& args) {
  std::string authorization;
  if (!args.auth_id.empty()) {
    if (args.secret_file.empty()) {
      std::fprintf(stderr, "idra resolve: --auth needs a readable --secret-file\n");
      return 1;
    }
    auto header = basic_from_file(args.secret_file, args.auth_id);
    if (!header) {
      std::fprintf(stderr, "idra resolve: %s\n", header.error().message.c_str());
      return 1;
    }
    authorization = std::move(*header);
  }
  CallArgs call;
  call.server = args.server;
  call.cacert = args.cacert;
  call.target = "/api/handles/" + encode_component(args.identifier, true) + "?pretty=true";
  for (const auto& t : args.types) call.target += "&type=" + encode_component(t, false);
  for (const auto& i : args.indexes) call.target += "&index=" + encode_component(i, false);
  call.authorization = std::move(authorization);
  auto reply = https_call(call);
  if (!reply) {
    std::fprintf(stderr, "idra resolve: %s\n", reply.error().message.c_str());
    return 1;
  }
  if (reply->status != 200) {
    std::fprintf(stderr, "idra resolve: HTTP %u: %s\n", reply->status, reply_message(*reply).c_str());
    return 1;
  }
  std::fwrite(reply->body.data(), 1, reply->body.size(), stdout);
  return 0;
}

}  // namespace idra::cli

#include "response_head.hpp"

#include <boost/beast/http/status.hpp>

namespace idra::http {
namespace {

void append_clean(std::string& out, std::string_view s) {
  for (char c : s) out.push_back(c == '\r' || c == '\n' || c == '\0' ? ' ' : c);
}

void append_field(std::string& out, std::string_view name, std::string_view value) {
  append_clean(out, name);
  out.append(": ");
  append_clean(out, value);
  out.append("\r\n");
}

}  // namespace

void write_head(std::string& out, const api::Response& response, std::string_view request_id, bool head,
                bool close) {
  namespace bhttp = boost::beast::http;
  const unsigned status = response.status >= 100 && response.status <= 999 ? response.status : 500;
  out.clear();
  out.append("HTTP/1.1 ");
  out.push_back(static_cast<char>('0' + status / 100));
  out.push_back(static_cast<char>('0' + status / 10 % 10));
  out.push_back(static_cast<char>('0' + status % 10));
  out.push_back(' ');
  out.append(bhttp::obsolete_reason(bhttp::int_to_status(status)));
  out.append("\r\nServer: idra\r\n");
  if (!request_id.empty()) append_field(out, "x-request-id", request_id);
  for (const auto& [name, value] : response.headers) append_field(out, name, value);
  if (close) out.append("Connection: close\r\n");
  if (head || (status >= 200 && status != 204 && status != 304)) {
    out.append("Content-Length: ").append(std::to_string(response.body.size())).append("\r\n");
  }
  out.append("\r\n");
}

}  // namespace idra::http

#include "response_head.hpp"

#include <boost/beast/http/status.hpp>

namespace idra::http {
namespace {

// append_clean appends |s| with CR, LF and NUL replaced by spaces: the runs
// between them in one append each (most values have none).
void append_clean(std::string& out, std::string_view s) {
  std::size_t from = 0;
  for (std::size_t i = 0; i < s.size(); ++i) {
    const char c = s[i];
    // One compare for nearly every byte: the three are all below 0x0E.
    if (static_cast<unsigned char>(c) > '\r' || (c != '\r' && c != '\n' && c != '\0')) continue;
    out.append(s.data() + from, i - from);
    out.push_back(' ');
    from = i + 1;
  }
  out.append(s.data() + from, s.size() - from);
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

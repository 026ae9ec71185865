// response_head.hpp: the HTTP/1.1 response head a session writes (internal
// to src/http).
#pragma once

#include <string>
#include <string_view>

#include "idra/api.hpp"

namespace idra::http {

// write_head replaces |out| with the head of |response|: the status line
// (a status outside 100-999 is written as 500), "Server: idra", the request
// id when not empty, the response's headers in order, "Connection: close"
// when |close|, and Content-Length: the body's size, also for a HEAD request
// (|head|), none for 1xx, 204 and 304. A CR, LF or NUL in a header name or
// value (which no handler should produce) is written as a space, so no
// header can be split or injected. |out|'s capacity is reused.
void write_head(std::string& out, const api::Response& response, std::string_view request_id, bool head,
                bool close);

}  // namespace idra::http

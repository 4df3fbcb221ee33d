// A request head, parsed: what the server needs from a head the front door
// has already checked (http_head.h: line ends, sizes, no NUL or bare CR), so
// that ssews can answer a WebSocket upgrade itself. The path and the query
// are decoded the way libwebsockets 4.1 decodes them for the requests it
// parses (percent-decoding, '+' as a space, the query split at every
// unencoded '&' and ';', "//", "/./" and "/../" folded), so a request reads
// the same whichever of the two answers it. Pure: no I/O.
#pragma once
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace sw {

struct HttpRequest {
  std::string method, target, version;                       // as on the request line
  std::string path;                                          // decoded, from the target
  std::vector<std::string> query;                            // decoded "k=v" fragments
  std::vector<std::pair<std::string, std::string>> headers;  // names lower-case, values trimmed

  // The first value of a header (name in lower case), or nullptr.
  const std::string *header(std::string_view name) const;
  // True when a comma-separated header (any of its lines) lists token,
  // compared case-insensitively (Connection: keep-alive, Upgrade).
  bool header_has_token(std::string_view name, std::string_view token) const;
};

// Parses a complete head (from the request line through the empty line).
// False, with err naming the problem, when the target cannot be decoded.
bool parse_http_request(std::string_view head, HttpRequest &out, std::string &err);

// The standard reason phrase of a status ("Error" for one not listed).
const char *http_reason(unsigned status);

// A complete short answer: status line, extra_headers (each ending CRLF),
// Content-Type: text/plain, Content-Length, Connection: close, and message
// as a one-line body.
std::string http_text_response(unsigned status, std::string_view message,
                               std::string_view extra_headers = {});

}  // namespace sw

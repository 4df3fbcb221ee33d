// The server's side of the WebSocket opening handshake (RFC 6455 4.2), for
// the connections ssews frames itself: the checks of the request, the choice
// of subprotocol, and the bytes of the answer. Pure: no I/O.
#pragma once
#include <string>
#include <string_view>
#include <vector>

#include "http_request.h"

namespace sw {

struct WsUpgradeVerdict {
  unsigned status = 0;               // 0: acceptable; else the HTTP status to refuse with
  std::string why;                   // the problem, one line
  std::vector<std::string> offered;  // the subprotocols offered, in order
  std::string protocol;              // the one chosen by default ("" for none)
};

// Checks an upgrade request (method, HTTP version, Host, Upgrade,
// Connection, Sec-WebSocket-Version and -Key) and chooses a subprotocol: the
// first offered that is "ssews.v1", "ssews" or one of `accepted`; none when
// none is (never a refusal: RFC 6455 4.2.2 lets the server answer without one).
WsUpgradeVerdict ws_check_upgrade(const HttpRequest &req, const std::vector<std::string> &accepted = {});

// Sec-WebSocket-Accept for a request's key: base64(SHA-1(key + GUID)).
std::string ws_accept_key(std::string_view key);

// The 101 answer. extra_headers: lines each ending CRLF (the ssews.v1
// confirmation, see v1_confirm.h).
std::string ws_switching_response(std::string_view key, const std::string &protocol,
                                  std::string_view extra_headers = {});

// A refusal: a 426 names the version ssews speaks (RFC 6455 4.4).
// extra_headers: lines each ending CRLF (WWW-Authenticate, CORS).
std::string ws_refusal(unsigned status, std::string_view why, std::string_view extra_headers = {});

}  // namespace sw

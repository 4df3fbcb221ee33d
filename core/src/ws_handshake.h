// The server's side of the WebSocket opening handshake (RFC 6455 4.2), for
// the connections ssews frames itself: the checks of the request, the choice
// of subprotocol, and the bytes of the answer. Pure: no I/O.
#pragma once
#include <string>
#include <string_view>

#include "http_request.h"

namespace sw {

struct WsUpgradeVerdict {
  unsigned status = 0;   // 0: acceptable; else the HTTP status to refuse with
  std::string why;       // the problem, one line
  std::string protocol;  // the subprotocol chosen ("" for none)
};

// Checks an upgrade request (method, HTTP version, Host, Upgrade,
// Connection, Sec-WebSocket-Version and -Key) and chooses a subprotocol: the
// first offered that ssews serves ("ssews.v1" or "ssews"); an offer of only
// others is refused (400), as before.
WsUpgradeVerdict ws_check_upgrade(const HttpRequest &req);

// Sec-WebSocket-Accept for a request's key: base64(SHA-1(key + GUID)).
std::string ws_accept_key(std::string_view key);

// The 101 answer. extra_headers: lines each ending CRLF (the ssews.v1
// confirmation, see v1_confirm.h).
std::string ws_switching_response(std::string_view key, const std::string &protocol,
                                  std::string_view extra_headers = {});

// A refusal: a 426 names the version ssews speaks (RFC 6455 4.4).
std::string ws_refusal(unsigned status, std::string_view why);

}  // namespace sw

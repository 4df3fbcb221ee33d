// RFC 6455 rules that libwebsockets 4.1.6 does not enforce itself: handshake
// fields and close frame payloads. Pure functions, so each rule is unit-tested.
#pragma once
#include <string>
#include <string_view>

namespace sw {

// A close code a peer may put on the wire (1000-1003, 1007-1014, 3000-4999).
bool ws_close_code_valid(int code);
// A close code the application may send (1000, 3000-4999).
bool ws_close_code_sendable(int code);

// Checks a received close frame payload: empty, or a valid code plus UTF-8
// reason. On a violation returns the close code to fail with (1002 or 1007)
// and sets why; returns 0 when valid.
int ws_check_close_payload(std::string_view payload, std::string &why);

// Checks a WebSocket upgrade request. Returns the HTTP status to refuse with
// (400 Bad Request, 405 Method Not Allowed, 426 Upgrade Required) and sets
// why, or 0 when the request is acceptable.
int ws_check_handshake(std::string_view method, std::string_view version, std::string_view key,
                       std::string &why);

// True when an Upgrade header value asks for WebSocket. RFC 6455 4.2.1: the
// value "websocket" is matched ASCII case-insensitively ("WebSocket" is what
// several clients send).
bool ws_upgrade_is_websocket(std::string_view upgrade);

}  // namespace sw

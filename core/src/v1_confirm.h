// Whether a WebSocket really speaks ssews.v1.
//
// Offering ssews.v1 and seeing it in Sec-WebSocket-Protocol is not enough: a
// generic server that accepts the first offered subprotocol (Node's `ws` does
// by default) selects it and then sends plain messages, which the v1 decoder
// would reject. So an ssews server confirms v1 with a response header on the
// 101 that no generic server sends, and the client uses v1 only when both the
// selected subprotocol and that header say so. Pure: no libwebsockets.
#pragma once
#include <string>

namespace sw {

constexpr const char kV1Protocol[] = "ssews.v1";
// The confirmation header, as lws wants names: lower case, with the colon.
constexpr const char kV1ConfirmHeader[] = "x-ssews:";
constexpr const char kV1ConfirmValue[] = "v1";

// Client side: selected is the server's Sec-WebSocket-Protocol ("" if none),
// confirm the value of its X-Ssews header ("" if none).
bool v1_confirmed(const std::string &selected, const std::string &confirm);

// Client side, SSE: an ssews server's 200 for an event stream carries the
// same header, so the client knows its `event: binary` is base64 of bytes
// (sse_binary.h). confirm is the X-Ssews value ("" if none).
bool sse_v1_confirmed(const std::string &confirm);

}  // namespace sw

// Binary payloads over SSE. SSE is text, so an ssews server sends a binary
// message as base64 in `data:`, with `event: binary` unless the message is
// named (message.cpp). An ssews client turns such an event back into the
// original bytes only when the stream is from an ssews server: the server
// says so with `X-Ssews: v1` on the 200 (v1_confirm.h), no generic server
// sends it, so a generic server's `event: binary` stays text. And an ssews
// server never sends a text message named `binary` (send and publish refuse
// one), so on a confirmed stream the name is unambiguous. Pure.
#pragma once
#include <string>
#include <string_view>

#include "sse_parser.h"

namespace sw {

constexpr const char kSseBinaryEvent[] = "binary";

// Client: when confirmed (the stream is from an ssews server) and e is a
// `binary` event whose data is base64, puts the decoded bytes in out and
// returns true. False: e is a text event as it stands.
bool sse_binary_decode(bool confirmed, const SseEvent &e, std::string &out);

// Server: true when a message may not be sent as it is: text named `binary`,
// which an ssews SSE client would take for base64 of a binary message.
bool sse_name_reserved(bool binary, std::string_view event);

}  // namespace sw

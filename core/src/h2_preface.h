// The server's HTTP/2 connection preface (RFC 9113 3.4: a SETTINGS frame,
// first of all it sends), with SETTINGS_ENABLE_CONNECT_PROTOCOL (RFC 8441)
// set to 0.
//
// Why: libwebsockets 4.1.6 advertises 1 whatever the vhost asks (its
// per-vhost copy of the settings stops before that one), and a browser with
// an HTTP/2 connection to the server then carries a page's WebSocket on it
// as an extended CONNECT stream, which lws frames (its limits,
// docs/conformance.md) and which ssews cannot take over. Advertising 0 sends
// every WebSocket to a connection of its own, with ALPN http/1.1, where
// ssews does the TLS and the framing (docs/design-own-tls.md). The TLS relay
// (tls_relay.h) runs lws' first bytes on an HTTP/2 connection through this.
//
// Pure: no I/O.
#pragma once
#include <cstddef>
#include <string>

namespace sw {

// The largest frame every HTTP/2 peer takes (SETTINGS_MAX_FRAME_SIZE is at
// least this, RFC 9113 4.2), and what ssews' lws vhosts advertise: what
// ssews and lws write must fit it (lws 4.1.6 neither splits frames to the
// peer's size nor minds its window).
constexpr size_t kH2MaxFrame = 16384;

enum class H2Preface {
  NeedMore,  // the first frame is not whole yet: hold the bytes
  Done,      // rewritten in place (or not a SETTINGS frame: left as it is); pass everything on
};

// Looks at the first bytes lws wrote on an HTTP/2 connection. Once the first
// frame is whole: if it is a SETTINGS frame, any ENABLE_CONNECT_PROTOCOL
// (0x8) parameter in it gets the value 0. Bytes beyond the frame are left
// untouched. A first frame that is not SETTINGS, or whose length is not a
// multiple of 6, is left as it is (Done): the peer judges it.
H2Preface h2_refuse_connect_protocol(std::string &bytes);

}  // namespace sw

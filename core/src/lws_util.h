// Small helpers over libwebsockets used by the server and client roles.
#pragma once
#include <libwebsockets.h>

#include <string>
#include <utility>
#include <vector>

namespace sw {

// A request or response header lws knows by token, or "" when absent.
inline std::string lws_header(lws *wsi, enum lws_token_indexes t) {
  int n = lws_hdr_total_length(wsi, t);
  if (n <= 0) return {};
  std::string s(static_cast<size_t>(n) + 1, '\0');
  int got = lws_hdr_copy(wsi, &s[0], n + 1, t);
  if (got < 0) return {};
  s.resize(static_cast<size_t>(got));
  return s;
}

// Room the headers take in a response head (names, values, ": ", CRLF).
inline size_t headers_size(const std::vector<std::pair<std::string, std::string>> &h) {
  size_t n = 0;
  for (const auto &kv : h) n += kv.first.size() + kv.second.size() + 4;
  return n;
}

// Adds each header to a response head being built; false when it does not fit.
inline bool add_headers(lws *wsi, const std::vector<std::pair<std::string, std::string>> &h, uint8_t **p,
                        uint8_t *end) {
  for (const auto &kv : h) {
    std::string name;
    for (char c : kv.first) name += static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
    name += ':';
    if (lws_add_http_header_by_name(wsi, reinterpret_cast<const unsigned char *>(name.c_str()),
                                    reinterpret_cast<const unsigned char *>(kv.second.data()),
                                    static_cast<int>(kv.second.size()), p, end))
      return false;
  }
  return true;
}

// The header names (and methods) lws 4.1 knows by token, lower case with the
// ':' or ' ' that ends each, as the front door's head checker wants them
// (http_head.h: a name that is a proper prefix of one of these hangs lws).
inline std::vector<std::string> lws_known_header_names() {
  std::vector<std::string> out;
  for (int t = 0; t < WSI_TOKEN_COUNT; t++) {
    const unsigned char *s = lws_token_to_string(static_cast<enum lws_token_indexes>(t));
    if (!s || !*s || *s == ':') continue;  // h2 pseudo-headers are no HTTP/1 names
    std::string n(reinterpret_cast<const char *>(s));
    if (n.back() == ':' || n.back() == ' ') out.push_back(std::move(n));
  }
  return out;
}

// A request header lws does not tokenise, by name (any case), read while the
// request is live (its head still held); false when absent (connections.cpp).
bool custom_header(lws *wsi, const char *name, std::string &out);
// True for an HTTP/2 stream: its wsi is one stream of a connection, not the
// socket (reads, hang-ups and flow control belong to the connection's wsi).
inline bool lws_is_h2_stream(lws *wsi) {
  return lws_get_network_wsi(wsi) != wsi;
}

// The request's method as an LWSHUMETH_ value, -1 if none. For HTTP/2 lws
// says only LWSHUMETH_COLON_PATH: the method is the :method pseudo-header.
inline int lws_request_method(lws *wsi) {
  char *uri = nullptr;
  int uri_len = 0;
  int m = lws_http_get_uri_and_method(wsi, &uri, &uri_len);
  if (m != LWSHUMETH_COLON_PATH) return m;
  static const char *const names[] = {"GET", "POST", "OPTIONS", "PUT", "PATCH", "DELETE", "CONNECT", "HEAD"};
  std::string name = lws_header(wsi, WSI_TOKEN_HTTP_COLON_METHOD);
  for (int i = 0; i < static_cast<int>(sizeof names / sizeof names[0]); i++)
    if (name == names[i]) return i;  // the enum's order (lws-http.h)
  return -1;
}

// The request path, without the query, for HTTP/1 and HTTP/2 alike.
inline std::string lws_request_path(lws *wsi) {
  for (auto t : {WSI_TOKEN_GET_URI, WSI_TOKEN_POST_URI, WSI_TOKEN_HTTP_COLON_PATH}) {
    std::string p = lws_header(wsi, t);
    if (!p.empty()) return p;
  }
  return {};
}

// The protocols every vhost of an endpoint serves, bound to the engine's
// callback (engine.cpp).
const lws_protocols *ssews_protocols();
// Those and, after them, each of names (a server's subprotocols option), so
// that lws, which answers a WebSocket handshake with the first offered name
// it serves and fails one offering only names it does not, serves them too.
// The table points into names, which must outlive the vhost; ends with a
// null entry. h2: for a vhost that speaks HTTP/2, whose writes lws must keep
// to one DATA frame of the size every peer takes (16384): lws 4.1.6 writes a
// file in chunks of tx_packet_size as single frames, and a peer fails a
// larger one (FRAME_SIZE_ERROR).
std::vector<lws_protocols> ssews_protocols_with(const std::vector<std::string> &names, bool h2 = false);

// The URL query as lws hands it over: percent-decoded, one "k=v" per
// fragment. Each fragment is read at its own length, so an argument of any
// size the request head may hold (max_header_size) is read whole and none
// after it is lost (a fixed buffer once dropped every later argument).
inline std::vector<std::string> lws_query_fragments(lws *wsi) {
  std::vector<std::string> out;
  for (int i = 0;; i++) {
    // lws_hdr_fragment_length says 0 both for an empty fragment and for one
    // past the end; the copy tells them apart.
    int len = lws_hdr_fragment_length(wsi, WSI_TOKEN_HTTP_URI_ARGS, i);
    std::string s(static_cast<size_t>(len > 0 ? len : 0) + 1, '\0');
    int n = lws_hdr_copy_fragment(wsi, &s[0], static_cast<int>(s.size()), WSI_TOKEN_HTTP_URI_ARGS, i);
    if (n < 0) break;
    s.resize(static_cast<size_t>(n));
    out.push_back(std::move(s));
  }
  return out;
}

// Why lws' parse of the request head cannot be trusted, or "" when it can.
// - A NUL in a header lws knows by name: lws 4.1.6 keeps the byte but leaves
//   it out of the length, so its copy ends with a NUL where the value went on
//   (the only trace its public API gives; a bare CR ends the value there and
//   the rest of the line is dropped without one).
// - No HTTP version: lws ends the request line at a CR or LF even when it
//   came percent-encoded (%0D, %0A), which cuts the URL there.
inline std::string lws_head_problem(lws *wsi) {
  for (int t = 0; t < WSI_TOKEN_COUNT; t++) {
    if (lws_header(wsi, static_cast<enum lws_token_indexes>(t)).find('\0') != std::string::npos)
      return "a request header holds a NUL byte";
  }
  // (An HTTP/2 request has no version token: its framing is checked by lws.)
  if (!lws_is_h2_stream(wsi) && lws_hdr_total_length(wsi, WSI_TOKEN_HTTP) <= 0)
    return "the URL holds CR or LF (%0D, %0A), or no HTTP version";
  return {};
}

}  // namespace sw

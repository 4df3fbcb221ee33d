#include "ws_handshake.h"

#include <openssl/sha.h>

#include "base64.h"
#include "channel_pattern.h"
#include "ws_rules.h"

namespace sw {

namespace {

// The subprotocols offered, in order, over every Sec-WebSocket-Protocol line.
std::vector<std::string> offered_protocols(const HttpRequest &req) {
  std::vector<std::string> out;
  for (const auto &h : req.headers)
    if (h.first == "sec-websocket-protocol")
      for (auto &p : split_list(h.second)) out.push_back(std::move(p));
  return out;
}

}  // namespace

WsUpgradeVerdict ws_check_upgrade(const HttpRequest &req, const std::vector<std::string> &accepted) {
  WsUpgradeVerdict v;
  const std::string *upgrade = req.header("upgrade");
  if (!upgrade || !req.header_has_token("upgrade", "websocket")) {
    v.status = 400;
    v.why = "Upgrade header does not ask for websocket";
    return v;
  }
  const std::string *version = req.header("sec-websocket-version");
  const std::string *key = req.header("sec-websocket-key");
  v.status =
      static_cast<unsigned>(ws_check_handshake(req.method, version ? *version : "", key ? *key : "", v.why));
  if (v.status) return v;
  if (req.version != "HTTP/1.1") {
    v.status = 400;
    v.why = "WebSocket upgrade needs HTTP/1.1, not " + req.version;
  } else if (!req.header("host")) {
    v.status = 400;
    v.why = "missing Host header";
  } else if (!req.header_has_token("connection", "upgrade")) {
    v.status = 400;
    v.why = "Connection header does not list upgrade";
  }
  if (v.status) return v;
  v.offered = offered_protocols(req);
  for (const auto &p : v.offered) {
    bool ok = p == "ssews.v1" || p == "ssews";
    for (const auto &a : accepted) ok = ok || p == a;
    if (ok) {
      v.protocol = p;
      break;
    }
  }
  return v;
}

std::string ws_accept_key(std::string_view key) {
  static const char kGuid[] = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";
  std::string in(key);
  in += kGuid;
  unsigned char digest[SHA_DIGEST_LENGTH];
  SHA1(reinterpret_cast<const unsigned char *>(in.data()), in.size(), digest);
  std::string out;
  base64_encode(out, std::string_view(reinterpret_cast<const char *>(digest), sizeof digest));
  return out;
}

std::string ws_switching_response(std::string_view key, const std::string &protocol,
                                  std::string_view extra_headers) {
  std::string r =
      "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
      "Sec-WebSocket-Accept: " +
      ws_accept_key(key) + "\r\n";
  if (!protocol.empty()) r += "Sec-WebSocket-Protocol: " + protocol + "\r\n";
  r += extra_headers;
  r += "\r\n";
  return r;
}

std::string ws_refusal(unsigned status, std::string_view why, std::string_view extra_headers) {
  std::string extra(extra_headers);
  if (status == 426) extra += "Sec-WebSocket-Version: 13\r\n";
  return http_text_response(status, why, extra);
}

}  // namespace sw

#include "ws_rules.h"

#include "ascii.h"
#include "base64.h"
#include "utf8.h"

namespace sw {

bool ws_close_code_valid(int code) {
  return (code >= 1000 && code <= 1003) || (code >= 1007 && code <= 1014) || (code >= 3000 && code <= 4999);
}

bool ws_close_code_sendable(int code) {
  return code == 1000 || (code >= 3000 && code <= 4999);
}

int ws_check_close_payload(std::string_view payload, std::string &why) {
  if (payload.empty()) return 0;
  if (payload.size() == 1) {
    why = "close frame with a 1-byte payload";
    return 1002;
  }
  int code = (static_cast<unsigned char>(payload[0]) << 8) | static_cast<unsigned char>(payload[1]);
  if (!ws_close_code_valid(code)) {
    why = "invalid close code " + std::to_string(code);
    return 1002;
  }
  if (!utf8_valid(payload.substr(2))) {
    why = "close reason is not valid UTF-8";
    return 1007;
  }
  return 0;
}

int ws_check_handshake(std::string_view method, std::string_view version, std::string_view key,
                       std::string &why) {
  if (method != "GET") {
    why = "WebSocket upgrade must use GET, not " + std::string(method);
    return 405;
  }
  if (version != "13") {
    why = version.empty() ? "missing Sec-WebSocket-Version"
                          : "unsupported Sec-WebSocket-Version " + std::string(version);
    return 426;
  }
  std::string raw;
  if (key.empty()) {
    why = "missing Sec-WebSocket-Key";
    return 400;
  }
  if (!base64_decode(key, raw) || raw.size() != 16) {
    why = "Sec-WebSocket-Key is not 16 base64-encoded bytes";
    return 400;
  }
  return 0;
}

bool ws_upgrade_is_websocket(std::string_view upgrade) {
  return upgrade.size() == 9 && starts_with_nocase(upgrade, "websocket");
}

}  // namespace sw

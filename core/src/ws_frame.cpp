#include "ws_frame.h"

namespace sw {

size_t ws_frame_header(uint8_t *out, bool binary, uint64_t len, bool compressed) {
  out[0] = static_cast<uint8_t>(0x80 | (compressed ? 0x40 : 0) | (binary ? 0x2 : 0x1));
  if (len < 126) {
    out[1] = static_cast<uint8_t>(len);
    return 2;
  }
  if (len <= 0xffff) {
    out[1] = 126;
    out[2] = static_cast<uint8_t>(len >> 8);
    out[3] = static_cast<uint8_t>(len);
    return 4;
  }
  out[1] = 127;
  for (int i = 0; i < 8; i++) out[2 + i] = static_cast<uint8_t>(len >> (8 * (7 - i)));
  return 10;
}

std::string ws_control_frame(uint8_t opcode, std::string_view payload) {
  payload = payload.substr(0, 125);
  std::string f;
  f.reserve(2 + payload.size());
  f += static_cast<char>(0x80 | opcode);
  f += static_cast<char>(payload.size());
  f.append(payload.data(), payload.size());
  return f;
}

std::string ws_close_frame(int code, std::string_view reason) {
  if (code == 0 || code == 1005) return ws_control_frame(kWsOpClose, {});
  std::string p;
  p += static_cast<char>(code >> 8);
  p += static_cast<char>(code & 0xff);
  p.append(reason.substr(0, 123));
  return ws_control_frame(kWsOpClose, p);
}

}  // namespace sw

// The server's HTTP/2 preface with extended CONNECT turned off. See h2_preface.h.
#include "h2_preface.h"

#include <cstddef>
#include <cstdint>

namespace sw {

namespace {
constexpr size_t kFrameHeader = 9;
constexpr uint8_t kSettings = 0x4;
constexpr uint16_t kEnableConnectProtocol = 0x8;
}  // namespace

H2Preface h2_refuse_connect_protocol(std::string &bytes) {
  if (bytes.size() < kFrameHeader) return H2Preface::NeedMore;
  auto u8 = [&](size_t i) { return static_cast<uint8_t>(bytes[i]); };
  size_t len = static_cast<size_t>(u8(0)) << 16 | static_cast<size_t>(u8(1)) << 8 | u8(2);
  if (u8(3) != kSettings || len % 6) return H2Preface::Done;
  if (bytes.size() < kFrameHeader + len) return H2Preface::NeedMore;
  for (size_t p = kFrameHeader; p < kFrameHeader + len; p += 6) {
    uint16_t id = static_cast<uint16_t>(u8(p) << 8 | u8(p + 1));
    if (id == kEnableConnectProtocol)
      for (size_t i = 2; i < 6; i++) bytes[p + i] = 0;
  }
  return H2Preface::Done;
}

}  // namespace sw

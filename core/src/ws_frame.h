// WebSocket frame headers a server writes (RFC 6455 section 5.2: FIN set, no
// mask), so several queued messages can leave in one write. Pure, no I/O.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace sw {

constexpr size_t kWsMaxHeader = 10;

// Writes the header of a final, unmasked text or binary frame carrying len
// payload bytes into out (kWsMaxHeader bytes of room); returns its length.
// compressed sets RSV1 (a permessage-deflate message, RFC 7692 6).
size_t ws_frame_header(uint8_t *out, bool binary, uint64_t len, bool compressed = false);

// Control frame opcodes (RFC 6455 5.5).
constexpr uint8_t kWsOpClose = 0x8, kWsOpPing = 0x9, kWsOpPong = 0xA;

// A whole final, unmasked control frame: opcode and payload (at most 125
// bytes, RFC 6455 5.5; more is cut).
std::string ws_control_frame(uint8_t opcode, std::string_view payload);

// A close frame: the code (no payload when 0 or 1005, which is never sent)
// and a reason cut to 123 bytes.
std::string ws_close_frame(int code, std::string_view reason);

}  // namespace sw

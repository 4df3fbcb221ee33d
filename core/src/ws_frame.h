// WebSocket frame headers a server writes (RFC 6455 section 5.2: FIN set, no
// mask), so several queued messages can leave in one write. Pure, no I/O.
#pragma once
#include <cstddef>
#include <cstdint>

namespace sw {

constexpr size_t kWsMaxHeader = 10;

// Writes the header of a final, unmasked text or binary frame carrying len
// payload bytes into out (kWsMaxHeader bytes of room); returns its length.
// compressed sets RSV1 (a permessage-deflate message, RFC 7692 6).
size_t ws_frame_header(uint8_t *out, bool binary, uint64_t len, bool compressed = false);

}  // namespace sw

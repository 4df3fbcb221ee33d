// A published or sent message: payload copied once from the application into a
// buffer with headroom, then shared by reference by every connection queue.
#pragma once
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string_view>
#include <memory>
#include <string>
#include <vector>

#include "permessage_deflate.h"

namespace sw {

// Bytes reserved in front of every wire buffer for the WebSocket frame header
// that libwebsockets writes in place (LWS_PRE); checked against LWS_PRE in engine.cpp.
constexpr size_t kHeadroom = 16;

// A byte buffer with kHeadroom spare bytes in front of its contents.
class WireBuf {
 public:
  WireBuf() : buf_(kHeadroom) {}
  explicit WireBuf(const void *p, size_t n) : buf_(kHeadroom + n) {
    if (n) std::memcpy(buf_.data() + kHeadroom, p, n);
  }
  uint8_t *data() { return buf_.data() + kHeadroom; }
  const uint8_t *data() const { return buf_.data() + kHeadroom; }
  size_t size() const { return buf_.size() - kHeadroom; }
  void append(const void *p, size_t n) {
    const auto *b = static_cast<const uint8_t *>(p);
    buf_.insert(buf_.end(), b, b + n);
  }
  void append(const std::string &s) { append(s.data(), s.size()); }
  std::string_view view() const { return {reinterpret_cast<const char *>(data()), size()}; }

 private:
  std::vector<uint8_t> buf_;
};

// What a Message is rendered as, per receiving protocol.
enum class Encoding : uint8_t { WsPlain, WsV1, Sse };

struct Message {
  std::string channel;  // empty for a direct send
  std::string event;    // SSE event type / ssews.v1 event name; may be empty
  std::string id;       // message id; may be empty for a direct send
  uint64_t seq = 0;     // endpoint-wide publish order (0 for a direct send)
  bool binary = false;
  bool control = false;  // an ssews control message (e.g. a gap notice), not application data
  WireBuf payload;       // the bytes as published; also the plain WebSocket encoding

  // Encodings other than WsPlain, made once on first use. Touched only by the
  // service thread, so no locking.
  mutable std::unique_ptr<WireBuf> v1_enc;
  mutable std::unique_ptr<WireBuf> sse_enc;

  // permessage-deflate payloads of the WebSocket encodings, by window bits
  // (9-15), made once on first use: one compression per broadcast.
  struct Deflated {
    std::unique_ptr<WireBuf> by[2][7];
    bool tried[2][7] = {};
  };
  mutable std::unique_ptr<Deflated> deflated;

  // The bytes to put on the wire for a receiver of the given encoding.
  const WireBuf &encoded(Encoding e) const;
  // The compressed payload for a WebSocket receiver that negotiated
  // permessage-deflate with z's window, or nullptr when it is not worth it
  // (smaller than min_size, or compression does not shrink it).
  const WireBuf *deflated_for(Encoding e, PmdCompressor &z, size_t min_size) const;
  size_t wire_size(Encoding e) const { return encoded(e).size(); }
};

using MessagePtr = std::shared_ptr<const Message>;

}  // namespace sw

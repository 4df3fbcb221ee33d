#include "message.h"

#include "base64.h"
#include "sse_binary.h"
#include "sse_encoder.h"
#include "v1_codec.h"

namespace sw {

const WireBuf &Message::encoded(Encoding e) const {
  if (e == Encoding::WsPlain) return payload;
  std::string s;
  if (e == Encoding::WsV1) {
    if (!v1_enc) {
      if (binary)
        v1_encode_binary(s, channel, event, id, payload.view());
      else
        v1_encode_text(s, channel, event, id, payload.view());
      v1_enc = std::make_unique<WireBuf>(s.data(), s.size());
    }
    return *v1_enc;
  }
  if (!sse_enc) {
    if (binary) {
      // SSE is text: binary payloads travel as base64, typed "binary" unless named (sse_binary.h).
      std::string b64;
      base64_encode(b64, payload.view());
      sse_encode(s, b64, event.empty() ? kSseBinaryEvent : event, id);
    } else {
      sse_encode(s, payload.view(), event, id);
    }
    sse_enc = std::make_unique<WireBuf>(s.data(), s.size());
  }
  return *sse_enc;
}

const WireBuf *Message::deflated_for(Encoding e, PmdCompressor &z, size_t min_size) const {
  const WireBuf &plain = encoded(e);
  int bits = z.window_bits();
  if (plain.size() < min_size || e == Encoding::Sse || bits < 9 || bits > 15) return nullptr;
  if (!deflated) deflated = std::make_unique<Deflated>();
  int k = e == Encoding::WsV1 ? 1 : 0, w = bits - 9;
  if (!deflated->tried[k][w]) {
    deflated->tried[k][w] = true;
    std::string out;
    if (z.compress(plain.view(), out) && out.size() < plain.size())
      deflated->by[k][w] = std::make_unique<WireBuf>(out.data(), out.size());
  }
  return deflated->by[k][w].get();
}

}  // namespace sw

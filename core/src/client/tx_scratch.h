// A per-connection buffer that a client writes its frames from.
//
// lws_write masks a client's payload in place (RFC 6455 5.3). Written straight
// from a queued message, a failed write would leave that message masked in the
// queue, and the retry after a reconnect would send it masked twice: garbage
// (a 1007 for text). So each frame is copied here, behind LWS_PRE bytes of
// headroom for the frame header, and only the copy is masked.
#pragma once
#include <libwebsockets.h>

#include <cstdint>
#include <cstring>
#include <vector>

namespace sw {

class TxScratch {
 public:
  // A copy of p[0..n) with LWS_PRE writable bytes in front; valid until the
  // next stage() call.
  uint8_t *stage(const uint8_t *p, size_t n) {
    buf_.resize(LWS_PRE + n);
    if (n) memcpy(buf_.data() + LWS_PRE, p, n);
    return buf_.data() + LWS_PRE;
  }
  // Gives a large buffer back once the queue is empty, so one big message
  // does not pin its size for the connection's life.
  void trim() {
    if (buf_.capacity() > kKeep) std::vector<uint8_t>().swap(buf_);
  }

 private:
  static constexpr size_t kKeep = 64 * 1024;
  std::vector<uint8_t> buf_;
};

}  // namespace sw

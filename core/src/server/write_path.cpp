// The server's write path: messages queued per connection (references to
// shared frames, bounded by the slow-consumer policy), then written once per
// service pass, coalesced, straight to the socket.
#include <libwebsockets.h>

#include "engine.h"
#include "server/server_role.h"
#include "ws_frame.h"

#include <cstring>

namespace sw {

namespace {
// Queued messages coalesced into one write, per protocol (a larger message
// goes alone): one syscall carries everything a slow-ish peer has pending.
constexpr size_t kWriteChunk = 64 * 1024;
// Subscribers queued to before a fan-out starts writing (see fan_out).
constexpr size_t kFanOutBatch = 128;
}  // namespace

void ServerRole::queue_to(Conn *c, const MessagePtr &m) {
  if (c->closing) return;
  if (m->control && c->enc == Encoding::WsPlain) return;  // plain peers get only published bytes
  if (c->resuming && hold_for_resume(c, m)) return;
  const uint64_t dropped_before = c->q.dropped();
  switch (c->q.push(m, c->enc)) {
    case OutQueue::Push::Ok:
      c->overflow_reported = false;
      break;
    case OutQueue::Push::Dropped:
      m_.add(kMSlowDrops, static_cast<double>(c->q.dropped() - dropped_before));
      if (!c->overflow_reported) {  // once per episode: the app learns, the log does not flood
        c->overflow_reported = true;
        report_error(c, SSEWS_ESLOW,
                     "slow consumer: dropped its oldest queued messages (max_queue_bytes " +
                         std::to_string(opts().max_queue_bytes) + ")");
      }
      break;
    case OutQueue::Push::Overflow:
      m_.add(kMSlowCloses);
      fail_conn(c, 1008, SSEWS_ESLOW,
                "slow consumer: outbound queue over max_queue_bytes (" +
                    std::to_string(opts().max_queue_bytes) + "), connection closed");
      return;
  }
  check_high(c);
  if (c->established) mark_dirty(c);
}

size_t ServerRole::fan_out(const MessagePtr &msg) {
  // Copy: queue_to may close a connection, which edits the subscriber list.
  std::vector<ConnId> subs = hub_.subscribers(msg->channel);
  m_.add(kMPublished);
  size_t n = 0;
  for (ConnId id : subs) {
    if (Conn *c = find(id)) queue_to(c, msg);
    // Writing starts while the rest is still being queued: the first of
    // 10,000 subscribers need not wait for the last to be queued. Only own
    // sockets (lws' are written after the pass, outside its callbacks).
    if (++n % kFanOutBatch == 0) flush_dirty(true);
  }
  return subs.size();
}

void ServerRole::queue_raw(Conn *c, std::string bytes) {
  auto m = std::make_shared<Message>();
  m->control = true;
  m->payload = WireBuf(bytes.data(), bytes.size());
  // Pre-rendered SSE bytes: the encoding is the payload itself.
  m->sse_enc = std::make_unique<WireBuf>(bytes.data(), bytes.size());
  queue_to(c, m);
}

void ServerRole::mark_dirty(Conn *c) {
  if (c->dirty) return;
  c->dirty = true;
  dirty_.push_back(c->id);
}

// Runs after each service pass, outside every lws callback: a connection
// with nothing in flight is written at once, with everything the pass queued
// for it in one write, so a delivery costs one send() rather than an epoll
// round trip per frame. A connection still flushing an earlier write is left
// to its writeable callback.
void ServerRole::flush_dirty(bool own_only) {
  if (dirty_.empty()) return;
  std::vector<ConnId> list;
  list.swap(dirty_);
  int64_t now = lws_now_usecs();
  for (ConnId id : list) {
    Conn *c = find(id);
    if (!c) continue;
    if (own_only && c->wsi) {
      dirty_.push_back(id);  // still dirty: written after the pass
      continue;
    }
    c->dirty = false;
    if (!c->established || c->close_sent) continue;
    if (c->q.empty() && !c->ping_due && !has_ctl(c)) {
      if (c->closing) want_write(c);
      continue;
    }
    // A peer whose frames lws read in this pass may have sent a ping whose
    // pong lws has pending: lws sends that before the writeable callback, so
    // replies keep their order (pong, then the echo of what followed the ping).
    // ssews' own frames queue their pongs in order themselves (ctl_out).
    // An HTTP/2 stream writes only in its writeable callback, where lws has
    // the connection ready and the stream's window is known (conn_io.cpp).
    if (c->h2 || out_pending(c) ||
        (c->proto == Proto::Ws && !c->own_ws &&
         (c->rx_pass == e_.pass() || lws_get_close_length(c->wsi) >= 2))) {
      want_write(c);  // the writeable callback deals with it, in order
      continue;
    }
    int r = write_queued(c);
    if (r < 0) {  // the socket failed: it is closed, and the close reports
      close_within(c, 0);
      continue;
    }
    c->last_write_us = now;
    // More queued, a close to send, or bytes lws holds (a due ping went out above).
    if (!c->q.empty() || c->closing || out_pending(c)) want_write(c);
  }
  if (dirty_.empty()) {
    list.clear();
    dirty_.swap(list);  // keep the capacity for the next pass
  }
}

// What a writeable callback does for either protocol: write what is queued
// (and a due ping), and ask again while more waits or lws still holds bytes.
ServerRole::Drain ServerRole::drain(Conn *c) {
  if (c->h2 && out_pending(c)) {  // what an earlier write left goes first
    if (h2_write(c) < 0) return Drain::Failed;
    if (out_pending(c)) {
      want_write(c);
      return Drain::Busy;
    }
  }
  if (!c->q.empty() || c->ping_due || has_ctl(c)) {
    if (write_queued(c) < 0) return Drain::Failed;
    c->last_write_us = lws_now_usecs();
    if (c->q.empty() && !c->closing && !out_pending(c)) return Drain::Idle;
    want_write(c);  // more to write, or a close once what is held is out
    return Drain::Busy;
  }
  if (out_pending(c)) {
    want_write(c);
    return Drain::Busy;
  }
  return c->closing ? Drain::Close : Drain::Idle;
}

// Writes the front of c's queue: one message in place (lws puts a WebSocket
// frame header in the shared buffer's headroom; only this thread writes, one
// frame at a time), or several gathered into one buffer and one write:
// WebSocket frames framed here (with a due ping first), SSE messages as they
// are. What the socket does not take at once lws keeps and sends before
// anything else.
int ServerRole::write_queued(Conn *c) {
  const bool ws = c->proto == Proto::Ws;
  if (!c->ping_due && !has_ctl(c) && !c->q.empty()) {
    const Message &first = *c->q.front();
    const WireBuf *z = deflated(c, first, c->q.front_encoding());
    const WireBuf &fb = z ? *z : first.encoded(c->q.front_encoding());
    if (c->q.size() == 1 || fb.size() >= kWriteChunk) {
      uint8_t *start = const_cast<uint8_t *>(fb.data());
      size_t len = fb.size();
      auto kind = !ws ? LWS_WRITE_HTTP : first.binary ? LWS_WRITE_BINARY : LWS_WRITE_TEXT;
      if (c->own_ws) {  // the frame header goes in the headroom (this thread alone writes it)
        uint8_t hdr[kWsMaxHeader];
        size_t h = ws_frame_header(hdr, first.binary, len, z != nullptr);
        start -= h;
        len += h;
        memcpy(start, hdr, h);
        kind = LWS_WRITE_RAW;
      }
      int n = conn_write(c, start, len, kind);
      delivered(c, first);
      c->q.pop();
      check_low(c);
      return n;
    }
  }
  scratch_.resize(LWS_PRE);
  if (has_ctl(c)) {  // the 101, pongs owed: before anything queued after them
    std::string &ctl = c->more_->ctl_out;
    scratch_.insert(scratch_.end(), ctl.begin(), ctl.end());
    std::string().swap(ctl);
    c->trim_more();
  }
  if (c->ping_due) {
    // The ping goes first (RFC 6455 5.5.2). Not empty: lws 4.1 hands only a
    // pong with a payload to the RECEIVE_PONG callback.
    static const std::string ping = ws_control_frame(kWsOpPing, "ssews");
    scratch_.insert(scratch_.end(), ping.begin(), ping.end());
    c->ping_due = false;
  }
  const size_t header_room = ws ? kWsMaxHeader : 0;
  while (!c->q.empty()) {
    const Message &m = *c->q.front();
    const WireBuf *z = deflated(c, m, c->q.front_encoding());
    const WireBuf &b = z ? *z : m.encoded(c->q.front_encoding());
    size_t used = scratch_.size() - LWS_PRE;
    if (used && used + header_room + b.size() > kWriteChunk) break;
    if (ws) {
      uint8_t hdr[kWsMaxHeader];
      size_t h = ws_frame_header(hdr, m.binary, b.size(), z != nullptr);
      scratch_.insert(scratch_.end(), hdr, hdr + h);
    }
    scratch_.insert(scratch_.end(), b.data(), b.data() + b.size());
    delivered(c, m);
    c->q.pop();
  }
  // Complete frames or SSE text: lws passes LWS_WRITE_RAW (= LWS_WRITE_HTTP) through as is.
  int n = conn_write(c, scratch_.data() + LWS_PRE, scratch_.size() - LWS_PRE, LWS_WRITE_RAW);
  check_low(c);
  return n;
}

// The compressed payload of m for c, when c negotiated permessage-deflate
// and compressing m pays (made once per message and window, shared).
const WireBuf *ServerRole::deflated(const Conn *c, const Message &m, Encoding e) {
  if (!c->deflate_bits) return nullptr;
  return m.deflated_for(e, compressor(c->deflate_bits), opts().compression_min_size);
}

PmdCompressor &ServerRole::compressor(int bits) {
  auto &z = compressors_[bits - 9];
  if (!z) z.reset(new PmdCompressor(bits, static_cast<int>(opts().compression_level)));
  return *z;
}

}  // namespace sw

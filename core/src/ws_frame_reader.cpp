#include "ws_frame_reader.h"

#include <cstring>

#include "ws_rules.h"

namespace sw {

namespace {

enum : uint8_t { kCont = 0, kText = 1, kBinary = 2, kClose = 8, kPing = 9, kPong = 10 };

// XORs n bytes with the 4-byte mask, starting at phase (bytes of the frame's
// payload already unmasked): eight bytes at a time where it can.
void unmask(uint8_t *p, size_t n, const uint8_t mask[4], uint64_t phase) {
  uint8_t m[8];
  for (int k = 0; k < 8; k++) m[k] = mask[(phase + static_cast<uint64_t>(k)) & 3];
  uint64_t m64;
  memcpy(&m64, m, 8);
  size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    uint64_t w;
    memcpy(&w, p + i, 8);
    w ^= m64;
    memcpy(p + i, &w, 8);
  }
  for (; i < n; i++) p[i] ^= m[i & 7];
}

size_t header_size(const uint8_t *h) {
  size_t len7 = h[1] & 0x7f;
  return 2 + (len7 == 126 ? 2 : len7 == 127 ? 8 : 0) + ((h[1] & 0x80) ? 4 : 0);
}

}  // namespace

WsFrameReader::~WsFrameReader() {
  give_back();
}

void WsFrameReader::give_back() {
  if (inflater_) pool_->give(inflater_);
  inflater_ = nullptr;
}

void WsFrameReader::fail_with(Sink &sink, int code, const std::string &why) {
  state_ = State::Done;
  give_back();
  sink.on_fail(code, why);
}

// A piece of the current message as it arrived: inflated first when the
// message is compressed, then checked (UTF-8 of text) and handed on.
bool WsFrameReader::deliver(Sink &sink, bool last, std::string_view v) {
  // In the order of the message's bytes, so that the failure is the same
  // whatever pieces they came in: bad UTF-8 before the size limit, then the limit.
  auto res = PmdInflater::Result::Ok;
  if (inflater_) {
    inflated_.clear();
    res = inflater_->inflate(v, last, inflated_, max_message_);
    v = inflated_;
  }
  if (!binary_ && !utf8_.feed(v)) {
    fail_with(sink, 1007, "text message is not valid UTF-8");
    return false;
  }
  if (res == PmdInflater::Result::Corrupt) {
    fail_with(sink, 1007, "compressed message does not inflate (permessage-deflate)");
    return false;
  }
  if (res == PmdInflater::Result::TooBig) {
    fail_with(sink, 1009,
              "message exceeds max_message_size (" + std::to_string(max_message_) + " bytes) once inflated");
    return false;
  }
  if (!binary_ && last && !utf8_.complete()) {
    fail_with(sink, 1007, "text message is not valid UTF-8");
    return false;
  }
  if (inflater_ && last) give_back();
  bool first = first_piece_;
  first_piece_ = false;
  return sink.on_data(binary_, first, last, v);
}

size_t WsFrameReader::feed(uint8_t *p, size_t n, Sink &sink) {
  size_t i = 0;
  while (i < n && state_ != State::Done) {
    if (state_ == State::Header) {
      // The first two bytes say how long the header is.
      size_t want = hdr_have_ < 2 ? 2 : header_size(hdr_);
      size_t take = want - hdr_have_ < n - i ? want - hdr_have_ : n - i;
      memcpy(hdr_ + hdr_have_, p + i, take);
      hdr_have_ += take;
      i += take;
      if (hdr_have_ < 2 || hdr_have_ < header_size(hdr_)) continue;
      if (!header_complete(sink)) return i;
      continue;
    }
    // Payload.
    size_t take = left_ < n - i ? static_cast<size_t>(left_) : n - i;
    uint8_t *piece = p + i;
    if (masked_) unmask(piece, take, mask_, offset_);
    offset_ += take;
    left_ -= take;
    i += take;
    if (opcode_ >= kClose) {
      control_.append(reinterpret_cast<const char *>(piece), take);
      if (left_ == 0) {
        state_ = State::Header;
        if (!control_frame(sink)) return i;
      }
      continue;
    }
    bool last = fin_ && left_ == 0;
    if (left_ == 0) {
      state_ = State::Header;
      if (last) in_message_ = false;
    }
    if (!deliver(sink, last, std::string_view(reinterpret_cast<const char *>(piece), take))) return i;
  }
  return i;
}

// A whole frame header has been read: check it and get ready for its payload.
bool WsFrameReader::header_complete(Sink &sink) {
  const uint8_t b0 = hdr_[0], b1 = hdr_[1];
  hdr_have_ = 0;
  fin_ = (b0 & 0x80) != 0;
  opcode_ = b0 & 0x0f;
  masked_ = (b1 & 0x80) != 0;
  // RSV1 marks a compressed message, on its first frame only, when
  // permessage-deflate was negotiated; any other reserved bit is an error.
  const bool rsv1 = (b0 & 0x40) != 0;
  if ((b0 & 0x30) || (rsv1 && (!pool_ || (b0 & 0x0f) == kCont || (b0 & 0x0f) >= kClose))) {
    fail_with(sink, 1002,
              pool_ ? "reserved bits set in a frame (RSV1 is for a compressed message's first frame)"
                    : "reserved bits set in a frame (no extension was negotiated)");
    return false;
  }
  if (masked_ != expect_masked_) {
    fail_with(sink, 1002, expect_masked_ ? "unmasked frame from a client" : "masked frame from a server");
    return false;
  }
  uint64_t len = b1 & 0x7f;
  const uint8_t *q = hdr_ + 2;
  if (len == 126) {
    len = (static_cast<uint64_t>(q[0]) << 8) | q[1];
    q += 2;
  } else if (len == 127) {
    len = 0;
    for (int k = 0; k < 8; k++) len = (len << 8) | q[k];
    q += 8;
    if (len >> 63) {
      fail_with(sink, 1002, "frame length has its most significant bit set");
      return false;
    }
  }
  if (masked_) memcpy(mask_, q, 4);
  left_ = len;
  offset_ = 0;

  if (opcode_ >= kClose) {
    if (opcode_ != kClose && opcode_ != kPing && opcode_ != kPong) {
      fail_with(sink, 1002, "reserved control opcode " + std::to_string(opcode_));
      return false;
    }
    if (!fin_) {
      fail_with(sink, 1002, "fragmented control frame");
      return false;
    }
    if (len > 125) {
      fail_with(sink, 1002, "control frame payload over 125 bytes");
      return false;
    }
    control_.clear();
    if (len == 0) return control_frame(sink);
    state_ = State::Payload;
    return true;
  }

  if (opcode_ != kCont && opcode_ != kText && opcode_ != kBinary) {
    fail_with(sink, 1002, "reserved data opcode " + std::to_string(opcode_));
    return false;
  }
  if (opcode_ == kCont && !in_message_) {
    fail_with(sink, 1002, "continuation frame with no message in progress");
    return false;
  }
  if (opcode_ != kCont) {
    if (in_message_) {
      fail_with(sink, 1002, "new data frame while a fragmented message is in progress");
      return false;
    }
    in_message_ = true;
    binary_ = opcode_ == kBinary;
    first_piece_ = true;
    message_bytes_ = 0;
    utf8_.reset();
    if (rsv1) {
      inflater_ = pool_->take();
      if (!inflater_) {
        fail_with(sink, 1013,
                  "too many compressed messages arriving at once (max_partial_bytes); try again later");
        return false;
      }
    }
  }
  message_bytes_ += len;
  if (max_message_ && message_bytes_ > max_message_) {
    fail_with(sink, 1009, "message exceeds max_message_size (" + std::to_string(max_message_) + " bytes)");
    return false;
  }
  if (len > 0) {
    state_ = State::Payload;
    return true;
  }
  // An empty frame: only an empty final frame carries news (the message's end).
  if (!fin_) return true;
  in_message_ = false;
  return deliver(sink, true, std::string_view());
}

bool WsFrameReader::control_frame(Sink &sink) {
  switch (opcode_) {
    case kPing:
      return sink.on_ping(control_);
    case kPong:
      return sink.on_pong(control_);
    default: {  // close
      std::string why;
      int bad = ws_check_close_payload(control_, why);
      state_ = State::Done;
      if (bad) {
        sink.on_fail(bad, why);
        return false;
      }
      int code = 1005;
      std::string_view reason;
      if (control_.size() >= 2) {
        code = (static_cast<unsigned char>(control_[0]) << 8) | static_cast<unsigned char>(control_[1]);
        reason = std::string_view(control_).substr(2);
      }
      sink.on_close(code, reason);
      return false;
    }
  }
}

}  // namespace sw

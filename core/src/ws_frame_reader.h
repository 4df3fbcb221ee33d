// RFC 6455 frames in: the bytes a WebSocket peer sends, turned into message
// pieces, pings, pongs and a close, or the close code the connection must be
// failed with. Pure: no I/O, unit-tested and fuzzed alone.
//
// Why ssews reads frames itself (server connections over plain TCP or ssews' TLS): libwebsockets
// 4.1.6 keeps one pending pong (a second ping before it is sent is dropped,
// so ten pings get one pong), does not refuse unmasked client frames or
// oversized control frames, and after failing a connection holds the TCP
// connection for seconds awaiting a close acknowledgement.
//
// What it checks: reserved bits (no extension is negotiated), opcodes, the
// mask bit (a client's frames must be masked, a server's must not), 64-bit
// lengths with the top bit set, control frames (at most 125 bytes, never
// fragmented), fragmentation order, UTF-8 of text messages across fragments
// (failing in the piece that holds the bad byte), close payloads (ws_rules),
// and the size of a message (max_message) before its payload is read.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "permessage_deflate.h"
#include "utf8.h"

namespace sw {

class WsFrameReader {
 public:
  // What the reader finds, in order. Each call but on_fail may return false
  // to stop the reader where it is (feed() then returns early).
  struct Sink {
    virtual ~Sink() = default;
    // A piece of a data message, unmasked. first: the message's first piece
    // (binary says its type); last: its final piece. Text pieces hold valid
    // UTF-8 so far. A message may come as one piece or many.
    virtual bool on_data(bool binary, bool first, bool last, std::string_view piece) = 0;
    virtual bool on_ping(std::string_view payload) = 0;
    virtual bool on_pong(std::string_view payload) = 0;
    // A valid close frame: its code (1005 when it had none) and reason.
    // Nothing after it is read.
    virtual void on_close(int code, std::string_view reason) = 0;
    // The peer broke the protocol: fail the connection with this close code
    // (1002, 1007, 1009); why names the problem. Nothing more is read.
    virtual void on_fail(int code, const std::string &why) = 0;
  };

  // expect_masked: true on the server (client frames must be masked).
  // max_message: the largest message in bytes (0: no limit).
  WsFrameReader(bool expect_masked, uint64_t max_message)
      : expect_masked_(expect_masked), max_message_(max_message) {}
  ~WsFrameReader();
  WsFrameReader(const WsFrameReader &) = delete;
  WsFrameReader &operator=(const WsFrameReader &) = delete;

  // permessage-deflate was negotiated: a data message whose first frame has
  // RSV1 set is compressed; it is inflated with an inflater borrowed from
  // pool for that message (none: 1013), and its pieces reach on_data
  // inflated. max_message then bounds the inflated size (a decompression
  // bomb fails with 1009 as soon as it passes it).
  void enable_deflate(InflaterPool *pool) { pool_ = pool; }

  // Reads bytes (unmasking them in place). Returns how many were consumed:
  // all of them unless a sink call stopped the reader, or a close or a
  // failure ended it (done()).
  size_t feed(uint8_t *p, size_t n, Sink &sink);

  // A close or a failure was read: the stream is over.
  bool done() const { return state_ == State::Done; }
  // A fragmented message is in progress.
  bool in_message() const { return in_message_; }

 private:
  enum class State : uint8_t { Header, Payload, Done };
  bool header_complete(Sink &sink);
  bool control_frame(Sink &sink);
  void fail_with(Sink &sink, int code, const std::string &why);
  bool deliver(Sink &sink, bool last, std::string_view v);
  void give_back();

  const bool expect_masked_;
  const uint64_t max_message_;
  State state_ = State::Header;
  uint8_t hdr_[14];             // the header being read
  size_t hdr_have_ = 0;         // bytes of it so far
  uint8_t opcode_ = 0;          // of the current frame
  bool fin_ = false;            // of the current frame
  bool masked_ = false;         // of the current frame
  uint8_t mask_[4] = {};        // of the current frame
  uint64_t left_ = 0;           // payload bytes of the current frame still to read
  uint64_t offset_ = 0;         // payload bytes of the current frame read (the mask's phase)
  bool in_message_ = false;     // a data message has started and not ended
  bool binary_ = false;         // its type
  bool first_piece_ = false;    // the next piece delivered is the message's first
  uint64_t message_bytes_ = 0;  // its payload so far, with the current frame's whole length
  Utf8Stream utf8_;
  std::string control_;              // a control frame's payload (at most 125 bytes)
  InflaterPool *pool_ = nullptr;     // set when permessage-deflate was negotiated
  PmdInflater *inflater_ = nullptr;  // borrowed while a compressed message arrives
  std::string inflated_;             // a compressed piece, inflated
};

}  // namespace sw

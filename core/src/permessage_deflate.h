// permessage-deflate (RFC 7692) for the WebSocket connections ssews frames
// itself: the negotiation, a compressor shared by every connection, and the
// inflaters received messages borrow. Pure: zlib, no I/O.
//
// The server always answers with server_no_context_takeover and
// client_no_context_takeover (RFC 7692 7.1.1.1 lets it add both):
// - no server context takeover makes a compressed message independent of the
//   connection, so a broadcast is compressed once and the same bytes go to
//   every peer that negotiated the same window (Message::deflated);
// - no client context takeover makes every received message independent too,
//   so no connection keeps inflate state between messages: an inflater is
//   borrowed from a pool while a compressed message arrives.
// So a connection that negotiated compression carries no zlib state of its
// own. server_max_window_bits=8 is declined (zlib's raw deflate cannot
// produce an 8-bit window); any other malformed or unknown parameter declines
// that offer, and the next offer is considered (RFC 7692 5, 7).
#pragma once
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace sw {

struct PmdAgreement {
  bool on = false;
  int server_window_bits = 15;  // what our compressor may use (the peer's inflater window)
  std::string response;         // the Sec-WebSocket-Extensions value to answer with
};

// Chooses the first acceptable permessage-deflate offer among the values of
// every Sec-WebSocket-Extensions header (each a comma-separated list).
// max_window_bits (9-15): the largest window ssews compresses with.
PmdAgreement pmd_negotiate(const std::vector<std::string_view> &offers, int max_window_bits);

// Raw deflate of whole messages, no context kept between them.
class PmdCompressor {
 public:
  PmdCompressor(int window_bits, int level);
  ~PmdCompressor();
  PmdCompressor(const PmdCompressor &) = delete;
  PmdCompressor &operator=(const PmdCompressor &) = delete;
  // The message compressed as a permessage-deflate payload (RFC 7692 7.2.1:
  // the final empty block's 00 00 ff ff removed). False on a zlib failure.
  bool compress(std::string_view in, std::string &out);
  int window_bits() const { return bits_; }

 private:
  struct Z;
  std::unique_ptr<Z> z_;
  int bits_;
};

// Inflates one message at a time (reset between messages).
class PmdInflater {
 public:
  PmdInflater();
  ~PmdInflater();
  PmdInflater(const PmdInflater &) = delete;
  PmdInflater &operator=(const PmdInflater &) = delete;
  enum class Result { Ok, Corrupt, TooBig };
  // Inflates a piece of a message's payload, appending to out. `last`: the
  // message's final piece (the removed 00 00 ff ff tail is put back).
  // TooBig once the message's inflated size passes limit (0: none): a
  // decompression bomb stops there, whatever its compressed size; out then
  // ends at the limit, so what came before it can still be checked first
  // (the same failure whatever pieces the message arrived in).
  Result inflate(std::string_view piece, bool last, std::string &out, uint64_t limit);
  void reset();  // for the next message

 private:
  struct Z;
  std::unique_ptr<Z> z_;
  uint64_t total_ = 0;
};

// Where a reader borrows an inflater for one compressed message.
struct InflaterPool {
  virtual ~InflaterPool() = default;
  virtual PmdInflater *take() = 0;
  virtual void give(PmdInflater *z) = 0;
};

// A simple pool (the service thread's): keeps a few of what is given back
// for reuse, and lends at most `cap` at once (take() then says nullptr), so
// connections that each start a compressed message and stall cannot pile up
// inflate state (about 44 KiB each).
class SimpleInflaterPool final : public InflaterPool {
 public:
  static constexpr size_t kCost = 48 * 1024;
  explicit SimpleInflaterPool(size_t cap = 1024) : cap_(cap) {}
  void set_cap(size_t cap) { cap_ = cap; }
  PmdInflater *take() override;
  void give(PmdInflater *z) override;
  size_t in_use() const { return in_use_; }

 private:
  std::vector<std::unique_ptr<PmdInflater>> free_;
  size_t in_use_ = 0;
  size_t cap_;
};

}  // namespace sw

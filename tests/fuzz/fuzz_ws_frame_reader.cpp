// libFuzzer target for sw::WsFrameReader (the frames a WebSocket client
// sends to an ssews server over plain TCP).
//
// Input: the first byte picks where the rest is cut in two, the second bit of
// it whether the reader is a server's (masked frames) or a client's; the rest
// is what the peer sends. max_message is 300 bytes, so the limit is hit.
//
// Invariants (abort() on violation): feeding in two pieces finds what feeding
// whole finds; a text message is valid UTF-8; a control payload is at most
// 125 bytes; a message is at most max_message bytes; a failure is 1002, 1007
// or 1009 and ends the stream; nothing is found after a close or a failure.
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "fuzz_util.h"
#include "utf8.h"
#include "ws_frame_reader.h"

namespace {

constexpr uint64_t kMax = 300;

struct Log final : sw::WsFrameReader::Sink {
  std::vector<std::string> found;
  std::string msg;
  bool binary = false, ended = false;
  bool on_data(bool bin, bool first, bool last, std::string_view piece) override {
    fuzz::check(!ended);
    if (first) msg.clear(), binary = bin;
    msg.append(piece.data(), piece.size());
    fuzz::check(msg.size() <= kMax);
    if (last) {
      fuzz::check(binary || sw::utf8_valid(msg));
      found.push_back((binary ? "b:" : "t:") + msg);
    }
    return true;
  }
  bool on_ping(std::string_view p) override {
    fuzz::check(!ended && p.size() <= 125);
    found.push_back("ping:" + std::string(p));
    return true;
  }
  bool on_pong(std::string_view p) override {
    fuzz::check(!ended && p.size() <= 125);
    found.push_back("pong:" + std::string(p));
    return true;
  }
  void on_close(int code, std::string_view reason) override {
    fuzz::check(!ended && reason.size() <= 123 && sw::utf8_valid(reason));
    ended = true;
    found.push_back("close:" + std::to_string(code) + std::string(reason));
  }
  void on_fail(int code, const std::string &why) override {
    fuzz::check(!ended && (code == 1002 || code == 1007 || code == 1009) && !why.empty());
    ended = true;
    found.push_back("fail:" + std::to_string(code));
  }
};

std::vector<std::string> run(std::string in, size_t cut, bool server) {
  sw::WsFrameReader r(server, kMax);
  Log log;
  auto *p = reinterpret_cast<uint8_t *>(&in[0]);
  size_t used = r.feed(p, cut, log);
  fuzz::check(used == cut || r.done());
  if (!r.done()) fuzz::check(r.feed(p + cut, in.size() - cut, log) == in.size() - cut || r.done());
  fuzz::check(r.done() == log.ended);
  return log.found;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size == 0) return 0;
  std::string in(reinterpret_cast<const char *>(data) + 1, size - 1);
  bool server = (data[0] & 0x80) == 0;
  size_t cut = (data[0] & 0x7f) % (in.size() + 1);
  fuzz::check(run(in, in.size(), server) == run(in, cut, server));
  return 0;
}

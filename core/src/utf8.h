// UTF-8 validation (RFC 3629: no overlongs, no surrogates, nothing above U+10FFFF).
#pragma once
#include <cstddef>
#include <string_view>

namespace sw {
bool utf8_valid(std::string_view s);
}

namespace sw {

// UTF-8 checked as it arrives in pieces (a WebSocket text message in
// fragments): a piece may end inside a character, and an invalid byte is
// found in the piece that holds it, so a bad message fails at once rather
// than when it ends (RFC 6455 8.1; Autobahn 6.4 checks it).
class Utf8Stream {
 public:
  // False once the bytes so far cannot start valid UTF-8.
  bool feed(std::string_view piece);
  // True when no character is left unfinished (call at the message's end).
  bool complete() const { return need_ == 0; }
  void reset() { need_ = 0; }

 private:
  unsigned char need_ = 0;               // continuation bytes still due
  unsigned char lo_ = 0x80, hi_ = 0xBF;  // bounds of the next one (only the first after a lead is narrowed)
};

}  // namespace sw

#include "utf8.h"

#include <cstdint>
#include <cstring>

namespace sw {

bool utf8_valid(std::string_view s) {
  const auto *p = reinterpret_cast<const unsigned char *>(s.data());
  size_t n = s.size(), i = 0;
  while (i < n) {
    // Most text is ASCII: skip it eight bytes at a time.
    while (i + 8 <= n) {
      uint64_t w;
      memcpy(&w, p + i, 8);
      if (w & 0x8080808080808080ull) break;
      i += 8;
    }
    if (i >= n) break;
    unsigned char c = p[i];
    if (c < 0x80) {
      i++;
      continue;
    }
    size_t len;
    unsigned char lo = 0x80, hi = 0xBF;  // bounds for the second byte
    if (c >= 0xC2 && c <= 0xDF) {
      len = 2;
    } else if (c >= 0xE0 && c <= 0xEF) {
      len = 3;
      if (c == 0xE0) lo = 0xA0;  // no overlongs
      if (c == 0xED) hi = 0x9F;  // no surrogates
    } else if (c >= 0xF0 && c <= 0xF4) {
      len = 4;
      if (c == 0xF0) lo = 0x90;  // no overlongs
      if (c == 0xF4) hi = 0x8F;  // nothing above U+10FFFF
    } else {
      return false;
    }
    if (i + len > n) return false;
    if (p[i + 1] < lo || p[i + 1] > hi) return false;
    for (size_t k = 2; k < len; k++)
      if ((p[i + k] & 0xC0) != 0x80) return false;
    i += len;
  }
  return true;
}

}  // namespace sw

namespace sw {

bool Utf8Stream::feed(std::string_view piece) {
  const auto *p = reinterpret_cast<const unsigned char *>(piece.data());
  size_t n = piece.size(), i = 0;
  // Finish a character the last piece left open, byte by byte.
  while (need_ && i < n) {
    unsigned char c = p[i++];
    if (c < lo_ || c > hi_) return false;
    lo_ = 0x80, hi_ = 0xBF;
    need_--;
  }
  if (i == n) return true;
  // Whole characters: the fast check, up to the last character start.
  size_t tail = n;  // where an unfinished character begins, if any
  for (size_t k = n; k > i && n - k < 4;) {
    k--;
    unsigned char c = p[k];
    if ((c & 0xC0) != 0x80) {  // a character starts here
      size_t len = c < 0x80 ? 1 : c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : 2;
      if (c >= 0x80 && k + len > n) tail = k;
      break;
    }
  }
  if (!utf8_valid(piece.substr(i, tail - i))) return false;
  // The unfinished character: check its lead and what came of it.
  for (size_t k = tail; k < n; k++) {
    unsigned char c = p[k];
    if (k == tail) {
      lo_ = 0x80, hi_ = 0xBF;
      if (c >= 0xC2 && c <= 0xDF) {
        need_ = 1;
      } else if (c >= 0xE0 && c <= 0xEF) {
        need_ = 2;
        if (c == 0xE0) lo_ = 0xA0;
        if (c == 0xED) hi_ = 0x9F;
      } else if (c >= 0xF0 && c <= 0xF4) {
        need_ = 3;
        if (c == 0xF0) lo_ = 0x90;
        if (c == 0xF4) hi_ = 0x8F;
      } else {
        return false;
      }
      continue;
    }
    if (c < lo_ || c > hi_) return false;
    lo_ = 0x80, hi_ = 0xBF;
    need_--;
  }
  return true;
}

}  // namespace sw

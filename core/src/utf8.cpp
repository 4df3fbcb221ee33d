#include "utf8.h"

#include <cstdint>
#include <cstring>

namespace sw {

namespace {
// A lead byte's sequence length and the bounds of the byte after it (which
// rule out overlongs, surrogates and code points above U+10FFFF); 0 when c
// cannot start a sequence of two or more bytes.
size_t lead(unsigned char c, unsigned char &lo, unsigned char &hi) {
  lo = 0x80, hi = 0xBF;
  if (c >= 0xC2 && c <= 0xDF) return 2;
  if (c >= 0xE0 && c <= 0xEF) {
    if (c == 0xE0) lo = 0xA0;  // no overlongs
    if (c == 0xED) hi = 0x9F;  // no surrogates
    return 3;
  }
  if (c >= 0xF0 && c <= 0xF4) {
    if (c == 0xF0) lo = 0x90;  // no overlongs
    if (c == 0xF4) hi = 0x8F;  // nothing above U+10FFFF
    return 4;
  }
  return 0;
}
}  // namespace

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
    unsigned char lo, hi;  // bounds for the second byte
    size_t len = lead(c, lo, hi);
    if (!len) return false;
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
      size_t len = lead(c, lo_, hi_);
      if (!len) return false;
      need_ = static_cast<unsigned char>(len - 1);
      continue;
    }
    if (c < lo_ || c > hi_) return false;
    lo_ = 0x80, hi_ = 0xBF;
    need_--;
  }
  return true;
}

}  // namespace sw

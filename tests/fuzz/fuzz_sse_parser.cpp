// libFuzzer target for sw::SseParser.
//
// Input: byte 0 picks max_line_bytes (high bit set: a small bound, 0..127, so
// the failure path is reached; else the default), byte 1 seeds the split
// pattern, the rest is the event stream.
//
// Invariants (abort() on violation):
//  - Fed whole, one byte at a time, or in pieces derived from the data (with
//    empty feeds between), the parser reports the same events, retry values,
//    failure and last event ID; also for a second stream fed after
//    end_of_stream() (reset, last event ID carried over).
//  - Reported strings are valid UTF-8, event types are never empty, ids hold
//    no CR, LF or NUL, and data holds no CR.
//  - Without a bound hit, the result equals a plain, non-incremental
//    transcription of the spec's parsing rules (reference() below).
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "sse_parser.h"

namespace {

// One run's observable behaviour, flattened: "E" type NUL data NUL id NUL,
// "R" value NUL, "F" error NUL, "L" last id NUL.
using Transcript = std::string;

void check(bool ok) {
  if (!ok) abort();
}

// Strict UTF-8 well-formedness (Unicode Table 3-7).
bool valid_utf8(std::string_view s) {
  const auto *p = reinterpret_cast<const unsigned char *>(s.data());
  const auto *end = p + s.size();
  while (p < end) {
    const unsigned c = *p++;
    if (c < 0x80) continue;
    int n;
    unsigned lo = 0x80, hi = 0xBF;
    if (c >= 0xC2 && c <= 0xDF) {
      n = 1;
    } else if (c >= 0xE0 && c <= 0xEF) {
      n = 2;
      if (c == 0xE0) lo = 0xA0;
      if (c == 0xED) hi = 0x9F;
    } else if (c >= 0xF0 && c <= 0xF4) {
      n = 3;
      if (c == 0xF0) lo = 0x90;
      if (c == 0xF4) hi = 0x8F;
    } else {
      return false;
    }
    for (int i = 0; i < n; ++i, lo = 0x80, hi = 0xBF) {
      if (p == end || *p < lo || *p > hi) return false;
      ++p;
    }
  }
  return true;
}

struct Run {
  sw::SseParser p;
  Transcript t;
  explicit Run(size_t max) : p(max) {
    p.on_event = [this](const sw::SseEvent &e) {
      check(valid_utf8(e.type) && valid_utf8(e.data) && valid_utf8(e.last_id));
      check(!e.type.empty());
      check(e.type.find_first_of("\r\n") == std::string::npos);
      check(e.last_id.find_first_of(std::string_view("\r\n\0", 3)) == std::string::npos);
      check(e.data.find('\r') == std::string::npos);
      t += 'E';
      t.append(e.type).push_back('\0');
      t.append(e.data).push_back('\0');
      t.append(e.last_id).push_back('\0');
    };
    p.on_retry = [this](uint64_t ms) { t += 'R' + std::to_string(ms) + '\0'; };
  }
  // Records the state a stream left behind, then ends the stream.
  void finish(bool ok) {
    check(ok == p.error().empty());
    if (!ok) t += 'F' + p.error() + '\0';
    t += 'L' + p.last_event_id() + '\0';
    p.end_of_stream();
    check(p.error().empty());
  }
};

// Feeds s cut into pieces whose lengths come from `next` (0 = an empty feed).
// Returns false if any feed did; once one fails, later ones must too.
template <typename Next>
bool feed_pieces(sw::SseParser &p, std::string_view s, Next next) {
  bool ok = true;
  size_t pos = 0;
  while (pos < s.size()) {
    const size_t n = std::min(next(), s.size() - pos);
    const bool r = p.feed(s.data() + pos, n);
    check(ok || !r);
    ok = ok && r;
    pos += n;
  }
  return ok;
}

// ---------------------------------------------------------------------------
// Reference: the spec's rules applied to the whole stream at once, written
// independently of SseParser (no state machine, no incremental buffers).

// UTF-8 decode with U+FFFD for each maximal subpart of an ill-formed sequence.
std::string decode_utf8(std::string_view s) {
  std::string out;
  size_t i = 0;
  while (i < s.size()) {
    const auto c = static_cast<unsigned char>(s[i]);
    size_t len = 0;
    unsigned lo = 0x80, hi = 0xBF;
    if (c < 0x80) {
      len = 1;
    } else if (c >= 0xC2 && c <= 0xDF) {
      len = 2;
    } else if (c >= 0xE0 && c <= 0xEF) {
      len = 3;
      lo = c == 0xE0 ? 0xA0 : 0x80;
      hi = c == 0xED ? 0x9F : 0xBF;
    } else if (c >= 0xF0 && c <= 0xF4) {
      len = 4;
      lo = c == 0xF0 ? 0x90 : 0x80;
      hi = c == 0xF4 ? 0x8F : 0xBF;
    }
    if (len == 0) {  // not a lead byte
      out += "\xEF\xBF\xBD";
      ++i;
      continue;
    }
    // Count the continuation bytes that fit; only the second has a special range.
    size_t ok = 1;
    while (ok < len && i + ok < s.size()) {
      const auto d = static_cast<unsigned char>(s[i + ok]);
      const unsigned l = ok == 1 ? lo : 0x80, h = ok == 1 ? hi : 0xBF;
      if (d < l || d > h) break;
      ++ok;
    }
    if (ok == len) {
      out.append(s.substr(i, len));
    } else {
      out += "\xEF\xBF\xBD";
    }
    i += ok;
  }
  return out;
}

Transcript reference(std::string_view in) {
  if (in.substr(0, 3) == "\xEF\xBB\xBF") in.remove_prefix(3);
  const std::string text = decode_utf8(in);
  Transcript t;
  std::string data, type, id_buf, last_id;
  size_t pos = 0;
  for (;;) {
    const size_t eol = text.find_first_of("\r\n", pos);
    if (eol == std::string::npos) break;  // an unterminated last line is dropped
    const std::string_view line = std::string_view(text).substr(pos, eol - pos);
    pos = eol + (text.compare(eol, 2, "\r\n") == 0 ? 2 : 1);
    if (line.empty()) {
      last_id = id_buf;
      if (!data.empty()) {
        data.pop_back();
        t += 'E';
        t.append(type.empty() ? "message" : type).push_back('\0');
        t.append(data).push_back('\0');
        t.append(last_id).push_back('\0');
      }
      data.clear();
      type.clear();
      continue;
    }
    if (line[0] == ':') continue;
    const size_t colon = line.find(':');
    const std::string_view name = line.substr(0, colon);
    std::string_view value = colon == std::string_view::npos ? "" : line.substr(colon + 1);
    if (value.substr(0, 1) == " ") value.remove_prefix(1);
    if (name == "event") {
      type = value;
    } else if (name == "data") {
      data.append(value) += '\n';
    } else if (name == "id") {
      if (value.find('\0') == std::string_view::npos) id_buf = value;
    } else if (name == "retry") {
      if (!value.empty() && value.find_first_not_of("0123456789") == std::string_view::npos) {
        // Saturating base-ten value, as SseParser reports it.
        const std::string_view digits = value.substr(std::min(value.find_first_not_of('0'), value.size()));
        uint64_t ms = 0;
        if (digits.size() > 20 || (digits.size() == 20 && digits > "18446744073709551615")) {
          ms = UINT64_MAX;
        } else {
          for (const char c : digits) ms = ms * 10 + static_cast<uint64_t>(c - '0');
        }
        t += 'R' + std::to_string(ms) + '\0';
      }
    }
  }
  t += 'L' + last_id + '\0';
  return t;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size < 2) return 0;
  const size_t max = (data[0] & 0x80) ? (data[0] & 0x7F) : (16u << 20);
  const uint8_t seed = data[1];
  const std::string_view s(reinterpret_cast<const char *>(data) + 2, size - 2);

  // Each mode feeds the stream twice: the second time as a new stream after
  // end_of_stream(), with the last event ID the first left behind.
  Run whole(max);
  for (int i = 0; i < 2; ++i) whole.finish(whole.p.feed(s));

  Run bytes(max);
  for (int i = 0; i < 2; ++i) bytes.finish(feed_pieces(bytes.p, s, [] { return size_t{1}; }));

  // Pieces of 0..31 bytes from a generator seeded by byte 1 and stirred by
  // the stream's own bytes, so the fuzzer can steer the cut points.
  Run pieces(max);
  for (int i = 0; i < 2; ++i) {
    uint32_t x = 0x9E3779B9u ^ seed;
    size_t k = 0;
    bool was_empty = false;
    pieces.finish(feed_pieces(pieces.p, s, [&] {
      x = x * 1103515245u + 12345u + static_cast<unsigned char>(s[k++ % s.size()]);
      size_t n = (x >> 16) % 32;
      if (n == 0 && was_empty) n = 1;  // never two empty feeds in a row: always progress
      was_empty = n == 0;
      return n;
    }));
  }

  check(whole.t == bytes.t);
  check(whole.t == pieces.t);

  // Against the reference, when the bound was not hit. The parser's second
  // stream starts from the first's last event ID, which the reference does
  // not model, so only the first stream is compared.
  // Decoding can triple the size (each invalid byte becomes U+FFFD).
  if (max == (16u << 20) && s.size() < max / 3) {
    Run once(max);
    once.finish(once.p.feed(s));
    check(once.t == reference(s));
  }
  return 0;
}

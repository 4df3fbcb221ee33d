#include "sse_parser.h"

#include <limits>
#include <utility>

namespace sw {

namespace {

const unsigned char kBom[3] = {0xEF, 0xBB, 0xBF};
const char kReplacement[3] = {'\xEF', '\xBF', '\xBD'};  // U+FFFD in UTF-8

bool is_ascii_digit(char c) {
  return c >= '0' && c <= '9';
}

}  // namespace

SseParser::SseParser(size_t max_line_bytes) : max_(max_line_bytes) {}

void SseParser::set_last_event_id(std::string id) {
  id_buf_ = id;
  last_id_ = std::move(id);
}

void SseParser::end_of_stream() {
  // Spec: "If the file ends in the middle of an event, before the final empty
  // line, the incomplete event is not dispatched." So drop every buffer but
  // the last event ID, which survives reconnection as browsers do.
  line_.clear();
  data_.clear();
  type_.clear();
  id_buf_ = last_id_;
  after_cr_ = false;
  bom_checked_ = false;
  bom_held_ = 0;
  reset_decoder();
  failed_ = false;
  error_.clear();
}

void SseParser::reset_decoder() {
  seq_len_ = 0;
  seq_need_ = 0;
  lower_ = 0x80;
  upper_ = 0xBF;
}

void SseParser::set_failed(const char *why) {
  failed_ = true;
  error_ = why;
  // Give the memory back now: a failed stream is only waiting to be closed.
  std::string().swap(line_);
  std::string().swap(data_);
}

bool SseParser::feed(const char *p, size_t n) {
  if (failed_) return false;
  const auto *b = reinterpret_cast<const unsigned char *>(p);
  const auto *const end = b + n;
  while (b < end) {
    if (!bom_checked_) {
      // "UTF-8 decode" drops EF BB BF at the very start of the stream. The
      // three bytes may arrive in separate feeds, so hold the prefix back.
      if (*b == kBom[bom_held_]) {
        ++b;
        if (++bom_held_ == 3) bom_checked_ = true;
        continue;
      }
      // Not a BOM after all: decode the held-back bytes as ordinary input,
      // then the current byte on the next turn of the loop.
      bom_checked_ = true;
      for (uint8_t i = 0; i < bom_held_; ++i) {
        if (!decode(kBom[i])) return false;
      }
      continue;
    }
    if (seq_len_ == 0) {
      // Fast path: a run of ASCII that ends no line needs no decoding.
      const unsigned char *q = b;
      while (q < end && *q < 0x80 && *q != '\r' && *q != '\n') ++q;
      if (q != b) {
        if (!put_text(reinterpret_cast<const char *>(b), static_cast<size_t>(q - b))) {
          return false;
        }
        b = q;
        continue;
      }
    }
    if (!decode(*b++)) return false;
  }
  return true;
}

// One byte through the WHATWG Encoding "UTF-8 decoder": valid sequences pass
// through unchanged, each maximal invalid subpart becomes one U+FFFD.
bool SseParser::decode(unsigned char c) {
  if (seq_len_ == 0) {
    if (c < 0x80) return put_char(c);
    if (c >= 0xC2 && c <= 0xDF) {
      seq_need_ = 2;
    } else if (c >= 0xE0 && c <= 0xEF) {
      if (c == 0xE0) lower_ = 0xA0;  // overlong
      if (c == 0xED) upper_ = 0x9F;  // surrogates
      seq_need_ = 3;
    } else if (c >= 0xF0 && c <= 0xF4) {
      if (c == 0xF0) lower_ = 0x90;  // overlong
      if (c == 0xF4) upper_ = 0x8F;  // beyond U+10FFFF
      seq_need_ = 4;
    } else {
      return put_text(kReplacement, sizeof kReplacement);
    }
    seq_[seq_len_++] = static_cast<char>(c);
    return true;
  }
  if (c < lower_ || c > upper_) {
    // The sequence so far is the invalid part; c starts afresh (the spec's
    // "restore byte to ioQueue"). No sequence is pending after the reset, so
    // this recursion goes one level deep at most.
    reset_decoder();
    if (!put_text(kReplacement, sizeof kReplacement)) return false;
    return decode(c);
  }
  lower_ = 0x80;
  upper_ = 0xBF;
  seq_[seq_len_++] = static_cast<char>(c);
  if (seq_len_ < seq_need_) return true;
  const size_t len = seq_len_;
  reset_decoder();
  return put_text(seq_, len);
}

// One decoded ASCII character.
bool SseParser::put_char(unsigned char c) {
  if (c == '\n' && after_cr_) {
    after_cr_ = false;  // the LF of a CRLF pair: the line already ended at the CR
    return true;
  }
  if (c == '\r' || c == '\n') {
    // End the line at the CR at once rather than waiting for a possible LF:
    // a stream ending lines with CR only must not be delayed by one line.
    after_cr_ = c == '\r';
    return end_line();
  }
  const char ch = static_cast<char>(c);
  return put_text(&ch, 1);
}

// Decoded characters other than CR and LF, appended to the current line.
bool SseParser::put_text(const char *p, size_t n) {
  after_cr_ = false;
  if (n > max_ - line_.size()) {  // line_.size() <= max_ always holds here
    set_failed("SSE line longer than max_line_bytes");
    return false;
  }
  line_.append(p, n);
  return true;
}

bool SseParser::end_line() {
  const std::string_view line(line_);
  if (line.empty()) {
    dispatch();
  } else if (line[0] != ':') {  // a line starting with ':' is a comment
    // Field name up to the first colon; without a colon the whole line is the
    // name and the value is empty. One space after the colon is removed.
    const size_t colon = line.find(':');
    std::string_view value;
    if (colon != std::string_view::npos) {
      value = line.substr(colon + 1);
      if (!value.empty() && value[0] == ' ') value.remove_prefix(1);
    }
    process_field(line.substr(0, colon), value);
  }
  if (failed_) return false;
  line_.clear();
  return true;
}

void SseParser::process_field(std::string_view name, std::string_view value) {
  if (name == "event") {
    type_.assign(value);
  } else if (name == "data") {
    if (value.size() >= max_ - data_.size()) {  // the appended LF would exceed max_
      set_failed("SSE data buffer longer than max_line_bytes");
      return;
    }
    data_.append(value).push_back('\n');
  } else if (name == "id") {
    // An id with NUL is ignored: it could not be sent back as Last-Event-ID.
    if (value.find('\0') == std::string_view::npos) id_buf_.assign(value);
  } else if (name == "retry") {
    if (value.empty()) return;  // "only ASCII digits" needs at least one
    uint64_t ms = 0;
    for (const char c : value) {
      if (!is_ascii_digit(c)) return;
      const uint64_t digit = static_cast<uint64_t>(c - '0');
      constexpr uint64_t kMax = std::numeric_limits<uint64_t>::max();
      // Saturate: a value too big to hold still means "wait very long".
      ms = ms > (kMax - digit) / 10 ? kMax : ms * 10 + digit;
    }
    if (on_retry) on_retry(ms);
  }
  // Any other field name is ignored.
}

void SseParser::dispatch() {
  // The last event ID string changes even when nothing is dispatched.
  last_id_ = id_buf_;
  if (data_.empty()) {
    type_.clear();
    return;
  }
  data_.pop_back();  // the LF appended after the last data line
  SseEvent ev;
  ev.type = type_.empty() ? std::string("message") : std::move(type_);
  ev.data = std::move(data_);
  ev.last_id = last_id_;
  data_.clear();  // moved-from strings are valid but unspecified
  type_.clear();
  if (on_event) on_event(ev);
}

}  // namespace sw

// sse_parser.h — incremental parser for text/event-stream, exactly per the WHATWG HTML
// "Server-sent events" parsing rules (section 9.2.6 "Interpreting an event stream").
// Pure: no I/O. Not thread-safe; one parser per stream (or per reconnecting client).
#ifndef SSEWS_SSE_PARSER_H
#define SSEWS_SSE_PARSER_H

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

namespace sw {

struct SseEvent {
  std::string type;     // event type; "message" when no event field was given
  std::string data;     // data buffer with the final LF removed
  std::string last_id;  // the last event ID at dispatch time
};

class SseParser {
 public:
  // Called for each dispatched event. Callbacks must not call feed() or
  // end_of_stream() on the same parser.
  std::function<void(const SseEvent &)> on_event;
  // Called when a valid `retry:` field (ASCII digits only, at least one) is
  // seen, with the value in ms; values beyond uint64_t saturate.
  std::function<void(uint64_t)> on_retry;

  // max_line_bytes bounds the memory one stream can make the parser hold:
  // a single line and the data buffer (both counted in UTF-8 bytes after
  // decoding, the data buffer with the LF ending each data line).
  explicit SseParser(size_t max_line_bytes = 16u << 20);

  // Feed the next bytes of the stream, split anywhere (even inside a CRLF pair
  // or a UTF-8 sequence). Decodes UTF-8 as the WHATWG Encoding "UTF-8 decode"
  // does (one leading BOM stripped, each maximal invalid subpart becomes
  // U+FFFD), splits lines on CRLF, LF or CR, and processes each line per spec.
  // Events and retry values are reported through the callbacks as their lines
  // end. Returns false once a line or the data buffer exceeds max_line_bytes:
  // the parser is then failed (error() says why) and ignores further input
  // until end_of_stream(). Never throws except std::bad_alloc.
  bool feed(const char *p, size_t n);
  bool feed(std::string_view s) { return feed(s.data(), s.size()); }

  // The stream ended (connection closed). An incomplete event is discarded
  // (no dispatch), per spec. Resets line, decoder and BOM state and any
  // failure, so the next feed() starts a new stream. Keeps last_event_id(),
  // which a reconnecting client sends as Last-Event-ID and which the events
  // of the next stream carry until it sets another id.
  void end_of_stream();

  // The last event ID string: the id buffer as of the last dispatch (an `id`
  // field takes effect when its event is dispatched, even one without data).
  const std::string &last_event_id() const { return last_id_; }
  // Sets the last event ID (e.g. restored from storage before connecting).
  void set_last_event_id(std::string id);

  // Why the parser failed; empty while it has not.
  const std::string &error() const { return error_; }

 private:
  bool decode(unsigned char c);
  bool put_char(unsigned char c);
  bool put_text(const char *p, size_t n);
  bool end_line();
  void process_field(std::string_view name, std::string_view value);
  void dispatch();
  void set_failed(const char *why);
  void reset_decoder();

  size_t max_;
  std::string line_;     // current line, decoded (valid UTF-8), without its end
  std::string data_;     // data buffer
  std::string type_;     // event type buffer
  std::string id_buf_;   // last event ID buffer
  std::string last_id_;  // last event ID string (set from id_buf_ on dispatch)
  std::string error_;
  bool failed_ = false;
  bool after_cr_ = false;  // last character was CR: a following LF is not a new line end
  bool bom_checked_ = false;
  uint8_t bom_held_ = 0;  // bytes of a possible leading BOM held back so far
  // WHATWG "UTF-8 decoder" state for a sequence split across bytes (and feeds).
  char seq_[4] = {};
  uint8_t seq_len_ = 0;                  // bytes of the current sequence seen (0: none pending)
  uint8_t seq_need_ = 0;                 // total length of the current sequence
  uint8_t lower_ = 0x80, upper_ = 0xBF;  // allowed range of the next continuation byte
};

}  // namespace sw

#endif

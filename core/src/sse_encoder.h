// sse_encoder.h — writing text/event-stream messages (WHATWG HTML "Server-sent events").
// Pure functions: no I/O, no allocation beyond appending to the caller's string.
#ifndef SSEWS_SSE_ENCODER_H
#define SSEWS_SSE_ENCODER_H

#include <cstdint>
#include <string>
#include <string_view>

namespace sw {

// True when s can be an SSE `id:` or `event:` value: no CR, LF or NUL.
// (CR/LF would end the field line early and let the value inject fields; a
// browser ignores an `id` containing NUL.)
bool sse_field_ok(std::string_view s);

// Appends one SSE message to out:
//   "id: <id>\n"       if id is non-empty,
//   "event: <event>\n" if event is non-empty,
//   "data: <line>\n"   once per line of data, data split on CRLF, CR or LF,
//   "\n"               which makes the receiver dispatch the event.
// A WHATWG EventSource gets back data with every line end turned into LF.
// Empty data is one "data: \n" line, which dispatches an event with empty data.
// Bytes are not validated: the receiver decodes them as UTF-8.
// Preconditions: sse_field_ok(id) && sse_field_ok(event) (callers check).
void sse_encode(std::string &out, std::string_view data, std::string_view event, std::string_view id);

// Appends the comment ": <text>\n\n" (heartbeats, the opening comment).
// Precondition: text has no CR or LF.
void sse_comment(std::string &out, std::string_view text);

// Appends "retry: <ms>\n\n": the receiver's reconnection delay.
void sse_retry(std::string &out, uint32_t ms);

}  // namespace sw

#endif

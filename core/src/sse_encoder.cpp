#include "sse_encoder.h"

#include <cassert>

namespace sw {

bool sse_field_ok(std::string_view s) {
  // Three characters: the literal's NUL must be part of the set.
  return s.find_first_of(std::string_view("\r\n\0", 3)) == std::string_view::npos;
}

void sse_encode(std::string &out, std::string_view data, std::string_view event, std::string_view id) {
  assert(sse_field_ok(id) && sse_field_ok(event));
  // No out.reserve(): reserving exactly would defeat the string's geometric
  // growth when many messages are appended to the same buffer.
  if (!id.empty()) {
    out.append("id: ").append(id).push_back('\n');
  }
  if (!event.empty()) {
    out.append("event: ").append(event).push_back('\n');
  }
  // Each line of data gets its own field. Splitting on a lone CR too matters:
  // the receiver ends lines there, so an unsplit CR would let data inject fields.
  // The space after the colon is always written, so a line that itself starts
  // with a space keeps it (the receiver removes exactly one).
  size_t pos = 0;
  for (;;) {
    const size_t eol = data.find_first_of("\r\n", pos);
    out.append("data: ").append(data.substr(pos, eol - pos)).push_back('\n');
    if (eol == std::string_view::npos) break;
    const bool crlf = data[eol] == '\r' && eol + 1 < data.size() && data[eol + 1] == '\n';
    pos = eol + (crlf ? 2 : 1);
  }
  out.push_back('\n');
}

void sse_comment(std::string &out, std::string_view text) {
  assert(text.find_first_of("\r\n") == std::string_view::npos);
  out.append(": ").append(text).append("\n\n");
}

void sse_retry(std::string &out, uint32_t ms) {
  out.append("retry: ").append(std::to_string(ms)).append("\n\n");
}

}  // namespace sw

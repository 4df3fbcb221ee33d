#include "sse_binary.h"

#include "base64.h"

namespace sw {

bool sse_binary_decode(bool confirmed, const SseEvent &e, std::string &out) {
  if (!confirmed || e.type != kSseBinaryEvent) return false;
  out.clear();
  return base64_decode(e.data, out);
}

bool sse_name_reserved(bool binary, std::string_view event) {
  return !binary && event == kSseBinaryEvent;
}

}  // namespace sw

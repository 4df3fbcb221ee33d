// libFuzzer target for sw::check_publish_request (the HTTP publish endpoint).
//
// Input: the Content-Length value, a newline, then the query fragments
// separated by '&'. The body limit is 1000 bytes.
//
// Invariants (abort() on violation): a refusal is 400, 411 or 413 with a
// message; an acceptance has a channel of 1..1024 bytes, event and id of at
// most 1024, all UTF-8 without CR, LF or NUL, and a Content-Length within the
// limit that is exactly the decimal value given.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "fuzz_util.h"
#include "publish_request.h"
#include "utf8.h"

namespace {
bool field_ok(const std::string &s) {
  return s.size() <= sw::kMaxPublishField && s.find_first_of(std::string_view("\r\n\0", 3)) == std::string::npos &&
         sw::utf8_valid(s);
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  std::string_view in(reinterpret_cast<const char *>(data), size);
  size_t nl = in.find('\n');
  std::string length(in.substr(0, nl));
  std::string_view query = nl == std::string_view::npos ? std::string_view() : in.substr(nl + 1);
  sw::PublishRequest req;
  sw::PublishVerdict v = sw::check_publish_request(fuzz::split(query, '&'), length, 1000, req);
  if (v.status) {
    fuzz::check(v.status == 400 || v.status == 411 || v.status == 413);
    fuzz::check(!v.error.empty());
    return 0;
  }
  fuzz::check(!req.channel.empty() && field_ok(req.channel) && field_ok(req.event) && field_ok(req.id));
  fuzz::check(req.content_length <= 1000);
  size_t digits = length.find_first_not_of('0');  // leading zeros are allowed
  fuzz::check(digits == std::string::npos ? req.content_length == 0
                                          : length.substr(digits) == std::to_string(req.content_length));
  return 0;
}

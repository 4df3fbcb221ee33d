// libFuzzer target for sw::HeadChecker (the server's front door, http_head).
//
// Input: the first byte picks where the rest is cut in two; the rest is what
// a peer sends. The head limit is 512 bytes and 8 headers, so limits are hit.
//
// Invariants (abort() on violation): feeding in two pieces gives the verdict
// feeding whole gives; a refusal is 400, 431 or 505 with a one-line message;
// an accepted head fits the limit, and what lws is given ends with an empty
// line, has one kind of line end, no NUL, no stray CR, no %00 in its target;
// parsed (http_request), its path starts at the root with no empty segment.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "fuzz_util.h"
#include "http_head.h"
#include "http_request.h"

namespace {
const std::vector<std::string> kFragile = {"get ", "host:", "x-auth-token:", "accept:", "accept-encoding:"};
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size == 0) return 0;
  std::string_view in(reinterpret_cast<const char *>(data) + 1, size - 1);
  size_t cut = data[0] % (in.size() + 1);
  sw::HeadChecker whole(512, 8, &kFragile), split(512, 8, &kFragile);
  sw::HeadVerdict v = whole.feed(in);
  split.feed(in.substr(0, cut));
  const sw::HeadVerdict &w = split.feed(in.substr(cut));
  fuzz::check(v.kind == w.kind && v.status == w.status && v.head_len == w.head_len && v.start == w.start &&
              v.message == w.message);
  if (v.kind == sw::HeadVerdict::kRefuse) {
    fuzz::check(v.status == 400 || v.status == 431 || v.status == 505);
    fuzz::check(!v.message.empty() && v.message.find_first_of("\r\n") == std::string::npos);
    std::string a = sw::head_refusal(v);
    fuzz::check(a.find("\r\n\r\n" + v.message + "\n") != std::string::npos);
    return 0;
  }
  if (v.kind == sw::HeadVerdict::kNeedMore) return 0;
  fuzz::check(v.head_len <= 512 && v.head_len <= in.size() && v.start < v.head_len);
  // What lws will read: the head without the empty lines before it, ending
  // in an empty line, all CRLF or all LF, no NUL, no CR outside CRLF.
  std::string_view h = in.substr(v.start, v.head_len - v.start);
  bool crlf = h.size() >= 4 && h.substr(h.size() - 4) == "\r\n\r\n";
  fuzz::check(crlf || (h.size() >= 2 && h.substr(h.size() - 2) == "\n\n"));
  fuzz::check(h.find('\0') == std::string_view::npos && h[0] != '\r' && h[0] != '\n');
  for (size_t i = 0; i < h.size(); i++) {
    if (h[i] == '\r') fuzz::check(crlf && i + 1 < h.size() && h[i + 1] == '\n');
    if (h[i] == '\n') fuzz::check(crlf == (i > 0 && h[i - 1] == '\r'));
  }
  std::string_view line = h.substr(0, h.find_first_of("\r\n"));
  size_t sp1 = line.find(' '), sp2 = line.rfind(' ');
  fuzz::check(sp1 != std::string_view::npos && sp2 > sp1 + 1);
  fuzz::check(line.substr(sp1 + 1, sp2 - sp1 - 1).find("%00") == std::string_view::npos);
  // What the server parses itself (a WebSocket upgrade): a path from the root.
  sw::HttpRequest req;
  std::string err;
  if (sw::parse_http_request(h, req, err))
    fuzz::check(!req.path.empty() && req.path[0] == '/' && req.path.find("//") == std::string::npos);
  else
    fuzz::check(!err.empty());
  return 0;
}

// libFuzzer target for sw::query_params (query arguments as lws hands them).
//
// Input: the fragments, separated by '&' (lws splits there; a fragment may
// hold any other byte, since lws has decoded %XX).
//
// Invariants (abort() on violation):
//  - A failure names the problem; a success yields at most one pair per
//    fragment, each key and value UTF-8 without control characters, each
//    re-joined "key=value" equal to its fragment (nothing cut or dropped).
//  - query_value agrees with a plain count of the keys.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "fuzz_util.h"
#include "http_query.h"
#include "utf8.h"

namespace {
bool clean(const std::string &s) {
  for (unsigned char c : s)
    if (c < 0x20 || c == 0x7f) return false;
  return sw::utf8_valid(s);
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  std::vector<std::string> frags = fuzz::split(std::string_view(reinterpret_cast<const char *>(data), size), '&');
  std::vector<sw::QueryParam> params;
  std::string err;
  if (!sw::query_params(frags, params, err)) {
    fuzz::check(!err.empty());
    return 0;
  }
  size_t k = 0;
  for (const auto &f : frags) {
    if (f.empty()) continue;
    fuzz::check(k < params.size());
    const sw::QueryParam &p = params[k++];
    fuzz::check(clean(p.key) && clean(p.value));
    fuzz::check(f == p.key + (f.find('=') != std::string::npos ? "=" + p.value : std::string()));
  }
  fuzz::check(k == params.size());
  if (params.empty()) return 0;
  int count = 0;
  for (const auto &p : params) count += p.key == params[0].key;
  std::string v;
  fuzz::check(sw::query_value(params, params[0].key, v) == (count > 1 ? 2 : 1));
  return 0;
}

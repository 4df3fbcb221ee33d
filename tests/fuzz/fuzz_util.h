// Small helpers shared by the libFuzzer targets.
#pragma once
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

namespace fuzz {

// A broken invariant is a crash libFuzzer reports with the input.
inline void check(bool ok) {
  if (!ok) abort();
}

// Splits s at every sep (empty pieces kept).
inline std::vector<std::string> split(std::string_view s, char sep) {
  std::vector<std::string> out;
  size_t start = 0;
  for (;;) {
    size_t end = s.find(sep, start);
    if (end == std::string_view::npos) {
      out.emplace_back(s.substr(start));
      return out;
    }
    out.emplace_back(s.substr(start, end - start));
    start = end + 1;
  }
}

}  // namespace fuzz

// libFuzzer target for sw::parse_options (string key/value endpoint options).
//
// Input: NUL-separated strings, taken as key, value, key, value, ... (an odd
// count leaves a key without a value, which must be reported).
//
// Invariants (abort() on violation): a failure says why; a success leaves
// every bound in range (the values the engine relies on).
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "fuzz_util.h"
#include "options.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  std::vector<std::string> parts = fuzz::split(std::string_view(reinterpret_cast<const char *>(data), size), '\0');
  std::vector<const char *> kv;
  for (const auto &p : parts) kv.push_back(p.c_str());
  kv.push_back(nullptr);
  sw::Options o;
  std::string err;
  if (!sw::parse_options(kv.data(), o, err)) {
    fuzz::check(!err.empty());
    return 0;
  }
  fuzz::check(parts.size() % 2 == 0);
  fuzz::check(o.port >= 0 && o.port <= 65535);
  fuzz::check(o.max_header_size >= 256 && o.max_header_size <= 65535);
  fuzz::check(o.pong_timeout >= 1);
  return 0;
}

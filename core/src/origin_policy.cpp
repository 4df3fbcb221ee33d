#include "origin_policy.h"

#include "ascii.h"
#include "channel_pattern.h"

namespace sw {

namespace {

std::string normalise(std::string_view o) {
  std::string s = ascii_lower(std::string(o));
  if (!s.empty() && s.back() == '/') s.pop_back();
  return s;
}

}  // namespace

bool OriginPolicy::parse(std::string_view list, std::string &why) {
  any_ = false;
  origins_.clear();
  for (const auto &item : split_list(list)) {
    if (item == "*") {
      any_ = true;
      continue;
    }
    std::string o = normalise(item);
    size_t scheme_end = o.find("://");
    if (scheme_end == std::string::npos || scheme_end == 0 || o.size() == scheme_end + 3 ||
        o.find_first_of("/?#", scheme_end + 3) != std::string::npos ||
        o.find_first_of(" \t\r\n") != std::string::npos) {
      why = "has '" + item + "', which is not an origin (scheme://host[:port], or *)";
      return false;
    }
    origins_.push_back(o);
  }
  if (!configured()) {
    why = "lists no origin";
    return false;
  }
  return true;
}

bool OriginPolicy::allows(std::string_view origin) const {
  if (any_) return true;
  std::string o = normalise(origin);
  for (const auto &a : origins_)
    if (a == o) return true;
  return false;
}

}  // namespace sw

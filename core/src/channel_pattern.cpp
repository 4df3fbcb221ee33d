#include "channel_pattern.h"

namespace sw {

bool channel_pattern_matches(std::string_view pattern, std::string_view channel) {
  if (pattern == "*") return true;
  if (pattern.size() >= 2 && pattern.substr(pattern.size() - 2) == ".*") {
    std::string_view prefix = pattern.substr(0, pattern.size() - 1);  // keeps the dot
    return channel.size() > prefix.size() && channel.substr(0, prefix.size()) == prefix;
  }
  return pattern == channel;
}

bool any_pattern_matches(const std::vector<std::string> &patterns, std::string_view channel) {
  for (const auto &p : patterns)
    if (channel_pattern_matches(p, channel)) return true;
  return false;
}

std::vector<std::string> split_list(std::string_view list) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start <= list.size()) {
    size_t comma = list.find(',', start);
    if (comma == std::string_view::npos) comma = list.size();
    std::string_view item = list.substr(start, comma - start);
    size_t b = item.find_first_not_of(" \t"), e = item.find_last_not_of(" \t");
    if (b != std::string_view::npos) out.emplace_back(item.substr(b, e - b + 1));
    start = comma + 1;
  }
  return out;
}

}  // namespace sw

// Channel patterns of access rules (the `ssews` claim's `subscribe` and
// `publish` lists, the anonymous_subscribe option): "*" is any channel,
// "prices.*" any channel starting with "prices." (not "prices" itself),
// anything else exactly that channel. Pure.
#pragma once
#include <string>
#include <string_view>
#include <vector>

namespace sw {

bool channel_pattern_matches(std::string_view pattern, std::string_view channel);
bool any_pattern_matches(const std::vector<std::string> &patterns, std::string_view channel);
// A comma-separated list, each item trimmed of spaces and tabs, empty items skipped.
std::vector<std::string> split_list(std::string_view list);

}  // namespace sw

// `ssews serve --config FILE`: endpoint options as `key = value` lines (blank
// lines and `#` comments ignored), read at start and again on SIGHUP, when
// those that may change while running (the tokens) are applied.
#pragma once
#include <string>
#include <utility>
#include <vector>

using ConfigPairs = std::vector<std::pair<std::string, std::string>>;

// False with err naming the file and line on failure.
bool read_config(const std::string &path, ConfigPairs &out, std::string &err);

// ASCII case folding for HTTP tokens that RFC 9110 makes case-insensitive
// (media types, authentication schemes, the Upgrade value), independent of
// the C locale.
#pragma once
#include <string>
#include <string_view>

namespace sw {

inline char ascii_lower(char c) {
  return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c;
}

inline std::string ascii_lower(std::string_view s) {
  std::string out(s);
  for (auto &c : out) c = ascii_lower(c);
  return out;
}

// True when s starts with lower_prefix, ignoring the case of s.
inline bool starts_with_nocase(std::string_view s, std::string_view lower_prefix) {
  if (s.size() < lower_prefix.size()) return false;
  for (size_t i = 0; i < lower_prefix.size(); i++)
    if (ascii_lower(s[i]) != lower_prefix[i]) return false;
  return true;
}

}  // namespace sw

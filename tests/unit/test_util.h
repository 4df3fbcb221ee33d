// Helpers shared by the unit tests.
#pragma once
#include <cstdio>
#include <string>
#include <string_view>

namespace test_util {

// Bytes made readable for failure messages: \n, \r, \\ and \xNN escapes.
inline std::string escape(std::string_view s) {
  std::string out;
  for (const unsigned char c : s) {
    if (c == '\n') {
      out += "\\n";
    } else if (c == '\r') {
      out += "\\r";
    } else if (c == '\\') {
      out += "\\\\";
    } else if (c < 0x20 || c >= 0x7F) {
      char buf[8];
      snprintf(buf, sizeof buf, "\\x%02X", c);
      out += buf;
    } else {
      out += static_cast<char>(c);
    }
  }
  return out;
}

}  // namespace test_util

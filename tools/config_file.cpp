#include "config_file.h"

#include <errno.h>
#include <string.h>

#include <fstream>

namespace {
std::string trim(const std::string &s) {
  size_t b = s.find_first_not_of(" \t\r"), e = s.find_last_not_of(" \t\r");
  return b == std::string::npos ? std::string() : s.substr(b, e - b + 1);
}
}  // namespace

bool read_config(const std::string &path, ConfigPairs &out, std::string &err) {
  std::ifstream f(path);
  if (!f) {
    err = "cannot read config '" + path + "': " + strerror(errno);
    return false;
  }
  out.clear();
  std::string line;
  for (int n = 1; std::getline(f, line); n++) {
    std::string t = trim(line);
    if (t.empty() || t[0] == '#') continue;
    size_t eq = t.find('=');
    if (eq == std::string::npos || trim(t.substr(0, eq)).empty()) {
      err = path + ":" + std::to_string(n) + ": expected 'key = value'";
      return false;
    }
    out.emplace_back(trim(t.substr(0, eq)), trim(t.substr(eq + 1)));
  }
  return true;
}

#include "http_query.h"

#include "utf8.h"

namespace sw {

namespace {

// Names the first problem of s as part "part" of a parameter, or "" when none.
std::string problem(std::string_view s) {
  for (unsigned char c : s) {
    if (c == '\0') return "holds a NUL byte (%00)";
    if (c == '\r' || c == '\n') return "holds CR or LF (%0D, %0A)";
    if (c < 0x20 || c == 0x7f) return "holds a control character";
  }
  if (!utf8_valid(s)) return "is not valid UTF-8";
  return {};
}

// The key, printable in an error message whatever it holds.
std::string printable(std::string_view key) {
  std::string out;
  for (unsigned char c : key.substr(0, 64)) out += c < 0x20 || c >= 0x7f ? '?' : static_cast<char>(c);
  if (key.size() > 64) out += "...";
  return out;
}

}  // namespace

bool query_params(const std::vector<std::string> &fragments, std::vector<QueryParam> &out, std::string &err) {
  out.clear();
  for (const std::string &f : fragments) {
    if (f.empty()) continue;
    size_t eq = f.find('=');
    QueryParam p;
    p.key = f.substr(0, eq);
    if (eq != std::string::npos) p.value = f.substr(eq + 1);
    std::string why = problem(p.key);
    if (!why.empty()) {
      err = "a query parameter name " + why;
      return false;
    }
    why = problem(p.value);
    if (!why.empty()) {
      err = "query parameter '" + printable(p.key) + "' " + why;
      return false;
    }
    out.push_back(std::move(p));
  }
  return true;
}

int query_value(const std::vector<QueryParam> &params, std::string_view key, std::string &value) {
  int found = 0;
  for (const QueryParam &p : params) {
    if (p.key != key) continue;
    if (found) return 2;
    value = p.value;
    found = 1;
  }
  return found;
}

}  // namespace sw

#include "v1_confirm.h"

namespace sw {

namespace {
// Header values may carry optional whitespace around them (RFC 9110 5.5).
std::string trimmed(const std::string &v) {
  size_t b = v.find_first_not_of(" \t"), e = v.find_last_not_of(" \t");
  return b == std::string::npos ? std::string() : v.substr(b, e - b + 1);
}
}  // namespace

bool v1_confirmed(const std::string &selected, const std::string &confirm) {
  return trimmed(selected) == kV1Protocol && sse_v1_confirmed(confirm);
}

bool sse_v1_confirmed(const std::string &confirm) {
  return trimmed(confirm) == kV1ConfirmValue;
}

}  // namespace sw

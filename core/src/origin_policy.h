// The allowed_origins rule: which web origins may open a WebSocket or an SSE
// stream, or publish, and the CORS headers that answer them. Requests with no
// Origin header (programs, not browsers) are not judged here. Pure.
#pragma once
#include <string>
#include <string_view>
#include <vector>

namespace sw {

class OriginPolicy {
 public:
  // A comma-separated list of origins ("https://app.example", with a port if
  // not the default) or "*". False with why on a malformed entry.
  bool parse(std::string_view list, std::string &why);
  bool configured() const { return any_ || !origins_.empty(); }
  // True when origin (the header's value) is allowed; compared as RFC 6454
  // serialisations, case-insensitively.
  bool allows(std::string_view origin) const;

 private:
  bool any_ = false;
  std::vector<std::string> origins_;  // lower case, no trailing slash
};

}  // namespace sw

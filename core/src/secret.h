// Bearer tokens compared without an early exit, so the time taken does not
// leak how much of a guess was right.
#pragma once
#include <string>

#include "ascii.h"

namespace sw {

inline bool same_secret(const std::string &a, const std::string &b) {
  if (a.size() != b.size()) return false;
  unsigned char diff = 0;
  for (size_t i = 0; i < a.size(); i++) diff |= static_cast<unsigned char>(a[i] ^ b[i]);
  return diff == 0;
}

// True when an Authorization header value carries `Bearer <token>` (the
// scheme name is case-insensitive, RFC 9110 11.1; the token is not).
inline bool bearer_matches(const std::string &authorization, const std::string &token) {
  return starts_with_nocase(authorization, "bearer ") && same_secret(authorization.substr(7), token);
}

}  // namespace sw

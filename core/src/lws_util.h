// Small helpers over libwebsockets used by the server and client roles.
#pragma once
#include <libwebsockets.h>

#include <string>

namespace sw {

// A request or response header lws knows by token, or "" when absent.
inline std::string lws_header(lws *wsi, enum lws_token_indexes t) {
  int n = lws_hdr_total_length(wsi, t);
  if (n <= 0) return {};
  std::string s(static_cast<size_t>(n) + 1, '\0');
  int got = lws_hdr_copy(wsi, &s[0], n + 1, t);
  if (got < 0) return {};
  s.resize(static_cast<size_t>(got));
  return s;
}

// The protocols every vhost of an endpoint serves, bound to the engine's
// callback (engine.cpp).
const lws_protocols *ssews_protocols();

}  // namespace sw

// URLs a client endpoint accepts: ws://, wss://, http://, https://.
#pragma once
#include <string>
#include <string_view>

namespace sw {

struct Url {
  std::string scheme;  // lower-case
  std::string host;    // without brackets for IPv6
  int port = 0;
  std::string path;  // path plus query, starting with '/'
  bool tls = false;
  bool websocket = false;  // ws/wss (else SSE over http/https)
  // "host" or "[v6]" with ":port" when not the scheme's default: the Host header.
  std::string host_header() const;
};

// Parses url; on failure returns false with err saying what is wrong.
bool parse_url(std::string_view url, Url &out, std::string &err);

}  // namespace sw

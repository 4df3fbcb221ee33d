// libFuzzer target for sw::parse_url (the URLs a client endpoint accepts).
//
// Invariants (abort() on violation):
//  - A failure says why; a success has a known scheme, a host, a port in
//    1..65535 and a path starting with '/'.
//  - Rebuilt from its parts (scheme://host_header path), the URL parses to
//    the same parts.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "fuzz_util.h"
#include "url.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  std::string_view in(reinterpret_cast<const char *>(data), size);
  sw::Url u;
  std::string err;
  if (!sw::parse_url(in, u, err)) {
    fuzz::check(!err.empty());
    return 0;
  }
  fuzz::check(u.scheme == "ws" || u.scheme == "wss" || u.scheme == "http" || u.scheme == "https");
  fuzz::check(u.websocket == (u.scheme[0] == 'w'));
  fuzz::check(u.tls == (u.scheme == "wss" || u.scheme == "https"));
  fuzz::check(!u.host.empty());
  fuzz::check(u.port >= 1 && u.port <= 65535);
  fuzz::check(!u.path.empty() && u.path[0] == '/');
  sw::Url v;
  std::string rebuilt = u.scheme + "://" + u.host_header() + u.path;
  fuzz::check(sw::parse_url(rebuilt, v, err));
  fuzz::check(v.scheme == u.scheme && v.host == u.host && v.port == u.port && v.path == u.path);
  return 0;
}

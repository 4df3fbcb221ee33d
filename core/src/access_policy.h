// Who may do what: the one decision for every request that opens a stream or
// publishes, whatever transport carried it. The transports (the lws
// handshake code, any other) only gather a RequestView, call decide_access
// and apply the Verdict. Pure: no I/O, no lws, the time is given.
//
// In order: the Origin (allowed_origins; no Origin = not a browser = not
// judged), then the token (Authorization: Bearer, else the `authorization`
// query parameter, else the jwt_cookie cookie when cookies are accepted),
// then the rights the token's `ssews` claim gives on the channels asked for.
#pragma once
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "jwt_verifier.h"
#include "origin_policy.h"

namespace sw {

using HeaderList = std::vector<std::pair<std::string, std::string>>;

struct AccessPolicy {
  JwtVerifier jwt;                               // enabled() when a key is configured
  OriginPolicy origins;                          // configured() when allowed_origins is set
  std::vector<std::string> anonymous_subscribe;  // patterns anyone may read
  std::string publish_token;                     // the static publish-endpoint token ("" = none)
  std::string cookie;                            // cookie holding the token; "" = cookies not accepted
};

enum class AccessKind {
  Subscribe,  // a WebSocket handshake or an SSE request: read `channels`
  Publish,    // the HTTP publish endpoint: write `channels` (one)
  Preflight,  // a CORS preflight (OPTIONS)
};

struct RequestView {
  AccessKind kind = AccessKind::Subscribe;
  bool websocket = false;
  // A request header by lower-case name, "" when absent.
  std::function<std::string(const char *name)> header;
  const std::vector<std::string> *query = nullptr;  // decoded "k=v" arguments (may be null)
  std::vector<std::string> channels;                // asked for (Subscribe) or published to (Publish)
};

struct Verdict {
  int status = 0;          // 0: go ahead; else the HTTP status to answer with
  HeaderList headers;      // to add to the answer, whatever it is
  std::string reason;      // why it was refused (a body for the peer), or "" when allowed
  GrantPtr grant;          // the verified token; null when anonymous or no key is configured
  bool by_origin = false;  // refused for its Origin (else for its token): the metrics tell them apart
  bool allowed() const { return status == 0; }
};

Verdict decide_access(const AccessPolicy &p, const RequestView &r, int64_t now);

// May a connection holding `grant` publish into `channel`? True when no key is
// configured (verifier_enabled false).
bool may_publish(bool verifier_enabled, const Grant *grant, std::string_view channel);

// The token a request carries, by the order above; "" when none.
std::string find_token(const AccessPolicy &p, const RequestView &r);

}  // namespace sw

// Verifies JSON Web Tokens (RFC 7519) with libjwt, and reads the claims ssews
// uses: exp and nbf (enforced, with a leeway), iss and aud (when configured),
// sub (the identity), and the private claim `ssews` with its `subscribe` and
// `publish` lists of channel patterns. One key is configured: an HMAC secret
// (HS256/384/512) or a PEM public key (RSA: RS256/384/512, PS256/384/512; EC:
// ES256/384/512). libjwt 1.10 lacks PS*: OpenSSL's EVP verifies those.
// A token whose alg does not fit that key, `alg: none` included, is refused
// before its signature counts (no key-confusion). Pure: no I/O, no clock (the
// caller gives the time).
#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace sw {

// What a verified token says.
struct Grant {
  std::string sub;                              // "" when the token has none
  int64_t exp = 0;                              // seconds since the epoch; 0 when the token has none
  std::vector<std::string> subscribe, publish;  // channel patterns
  std::vector<std::pair<std::string, std::string>> claims;  // every claim: name, JSON text
  std::string claims_json;                                  // all of them, one JSON object
};
using GrantPtr = std::shared_ptr<const Grant>;

struct JwtConfig {
  std::string secret;            // HMAC key bytes; or
  std::string public_key_pem;    // an RSA or EC public key, PEM text
  std::string audience, issuer;  // "" = not checked
  unsigned leeway = 30;          // seconds of clock skew allowed on exp and nbf
};

class JwtVerifier {
 public:
  // Checks the key (a PEM that is no RSA or EC public key is refused). False
  // with why naming the problem.
  bool init(const JwtConfig &cfg, std::string &why);
  bool enabled() const { return kind_ != Kind::None; }
  unsigned leeway() const { return cfg_.leeway; }

  // Verifies token at `now` (seconds since the epoch). True with out filled;
  // false with why naming the reason in a few words ("token expired",
  // "signature does not verify", "alg none is not accepted", ...), fit for
  // an error_description.
  bool verify(std::string_view token, int64_t now, Grant &out, std::string &why) const;

 private:
  enum class Kind { None, Hmac, Rsa, Ec };
  bool alg_fits(const std::string &alg) const;
  const char *algs() const;
  Kind kind_ = Kind::None;
  int ec_bits_ = 0;  // EC: the curve's size, which fixes the alg
  JwtConfig cfg_;
};

}  // namespace sw

// libFuzzer target for the token path: sw::JwtVerifier::verify (header peek,
// libjwt's decode and signature check, the claims) and sw::decide_access with
// the input as the token of each source (Authorization header, the
// `authorization` query parameter, a cookie).
//
// Input: the token bytes. The key is the HMAC secret of the seed corpus
// (tests/fixtures/jwt/*.jwt, made by PyJWT, copied into the corpus); a second
// verifier holds an RSA key, so the RS and PS (OpenSSL EVP) paths run too
// (no token verifies against it: the key is none of the corpus's).
//
// Invariants (abort() on violation): a refusal names its reason; an accepted
// token has not expired; a verdict is 0, 401 or 403, a 401 carries a Bearer
// challenge, and no header value holds CR, LF or NUL (no header injection
// through a token's alg or claims).
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "access_policy.h"
#include "fuzz_util.h"
#include "jwt_verifier.h"

namespace {

const char kSecret[] = "ssews-test-secret-0123456789abcdef-0123456789abcdef-0123456789ab";
const int64_t kNow = 1900000000;
const char kRsaPem[] =
    "-----BEGIN PUBLIC KEY-----\n"
    "MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEAsAkiA8H5Y/XJakGnOMed\n"
    "2pTnmB907GBo1WlNrNn9OUoFvyKh4p8p6bC6DZIzjfPetL/uymPPcs7lKNLq7hPE\n"
    "gCLABixT1qsYjJH6i5ZGPjWZgJELJACqPgtHSfbNp+I0JT6cRIMQC22O7AYY3Qp+\n"
    "9U271bH/gOopdc3KpGDFD6M2CjJ7ATQYsqeOAwj10h8etn9m1egBdri3+z+9eiO0\n"
    "NbOvPpL985V1F7xfXQ0TM13QQggM+xH42vRiqM6jlooOxodX+OeDGtntmcNRnUz8\n"
    "A1ty27Rv2RY4LUaMgeijD6+CIIvMGNgZu4tKMcYi2hKgiDmKP7YUJIJxW2AQ7X8b\n"
    "6QIDAQAB\n"
    "-----END PUBLIC KEY-----\n";

sw::JwtVerifier make_rsa() {
  sw::JwtVerifier v;
  sw::JwtConfig c;
  c.public_key_pem = kRsaPem;
  std::string why;
  fuzz::check(v.init(c, why));
  return v;
}

sw::AccessPolicy make_policy() {
  sw::AccessPolicy p;
  sw::JwtConfig c;
  c.secret = kSecret;
  c.audience = "ssews-tests";
  c.issuer = "https://issuer.test";
  std::string why;
  fuzz::check(p.jwt.init(c, why));
  fuzz::check(p.origins.parse("https://app.test", why));
  p.cookie = "ssewsAuthorization";
  p.anonymous_subscribe = {"news"};
  return p;
}

void check_verdict(const sw::Verdict &v) {
  fuzz::check(v.status == 0 || v.status == 401 || v.status == 403);
  bool challenge = false;
  for (const auto &h : v.headers) {
    fuzz::check(h.second.find_first_of(std::string_view("\r\n\0", 3)) == std::string::npos);
    challenge =
        challenge || (h.first == "WWW-Authenticate" && h.second.rfind("Bearer realm=\"ssews\"", 0) == 0);
  }
  fuzz::check(v.status != 401 || challenge);
  fuzz::check(v.status == 0 || !v.reason.empty());
  fuzz::check(v.status != 0 || v.grant);  // "chat" is no anonymous channel: a token let it in
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static const sw::AccessPolicy policy = make_policy();
  static const sw::JwtVerifier rsa = make_rsa();
  std::string token(reinterpret_cast<const char *>(data), size);

  sw::Grant rg;
  std::string rwhy;
  fuzz::check(!rsa.verify(token, kNow, rg, rwhy) && !rwhy.empty());

  sw::Grant g;
  std::string why;
  if (policy.jwt.verify(token, kNow, g, why)) {
    fuzz::check(g.exp == 0 || kNow < g.exp + static_cast<int64_t>(policy.jwt.leeway()));
    fuzz::check(!g.claims_json.empty() && g.claims_json[0] == '{');
  } else {
    fuzz::check(!why.empty());
  }

  // Each source. Header values cannot hold CR, LF or NUL (the head parser
  // refuses them), so the token is used as it comes only where it could.
  std::vector<std::string> query;
  std::string header_token = token;
  for (auto &c : header_token)
    if (c == '\r' || c == '\n' || c == '\0') c = ' ';
  for (int source = 0; source < 3; source++) {
    query.clear();
    std::string auth, cookie;
    if (source == 0) auth = "Bearer " + header_token;
    if (source == 1) query.push_back("authorization=" + token);
    if (source == 2) cookie = "a=b; ssewsAuthorization=" + header_token;
    sw::RequestView r;
    r.kind = sw::AccessKind::Subscribe;
    r.query = &query;
    r.channels = {"chat"};
    r.header = [&](const char *name) -> std::string {
      std::string n = name;
      if (n == "authorization") return auth;
      if (n == "cookie") return cookie;
      if (n == "origin") return "https://app.test";
      return {};
    };
    check_verdict(sw::decide_access(policy, r, kNow));
    r.kind = sw::AccessKind::Publish;
    sw::Verdict pv = sw::decide_access(policy, r, kNow);
    check_verdict(pv);
  }
  return 0;
}

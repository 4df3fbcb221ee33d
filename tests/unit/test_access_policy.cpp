// Access control, pure: channel patterns, the Origin rule, JWT verification
// (tokens made by PyJWT: tests/fixtures/jwt/make.py) and the one access
// decision every transport applies.
#include <cstdarg>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <fstream>  // before cmocka.h, whose fail() macro clashes with iostreams
#include <map>
#include <sstream>
#include <string>

#include "access_policy.h"
#include "channel_pattern.h"
#include "jwt_verifier.h"
#include "origin_policy.h"

#include <setjmp.h>
// cmocka 1.1.5's header has no extern "C" guard of its own.
extern "C" {
#include <cmocka.h>
}

namespace {

const int64_t kNow = 1900000000;  // 2030: between the fixtures' PAST and FAR
const int64_t kFar = 4102444800;  // the fixtures' exp

std::string fixture(const std::string &name) {
  std::ifstream f(std::string(SSEWS_SOURCE_DIR) + "/tests/fixtures/jwt/" + name);
  if (!f) fail_msg("missing fixture %s", name.c_str());
  std::ostringstream ss;
  ss << f.rdbuf();
  std::string s = ss.str();
  if (!s.empty() && s.back() == '\n') s.pop_back();
  return s;
}

void expect_has(const std::string &hay, const std::string &needle) {
  if (hay.find(needle) == std::string::npos) fail_msg("'%s' lacks '%s'", hay.c_str(), needle.c_str());
}

sw::JwtConfig hmac_config() {
  sw::JwtConfig c;
  c.secret = fixture("secret.txt");
  c.audience = "ssews-tests";
  c.issuer = "https://issuer.test";
  return c;
}

sw::JwtVerifier verifier(const sw::JwtConfig &c) {
  sw::JwtVerifier v;
  std::string why;
  if (!v.init(c, why)) fail_msg("init: %s", why.c_str());
  return v;
}

// Verifies a fixture token; returns "" when it verifies, else the reason.
std::string verdict_of(const sw::JwtVerifier &v, const std::string &token_file, int64_t now = kNow) {
  sw::Grant g;
  std::string why;
  if (v.verify(fixture(token_file), now, g, why)) return "";
  return why.empty() ? "(no reason)" : why;
}

void test_channel_patterns(void **) {
  using sw::channel_pattern_matches;
  assert_true(channel_pattern_matches("*", "anything"));
  assert_true(channel_pattern_matches("*", "a.b"));
  assert_true(channel_pattern_matches("prices.*", "prices.eur"));
  assert_true(channel_pattern_matches("prices.*", "prices.eur.spot"));
  assert_false(channel_pattern_matches("prices.*", "prices"));
  assert_false(channel_pattern_matches("prices.*", "prices."));
  assert_false(channel_pattern_matches("prices.*", "pricesx"));
  assert_false(channel_pattern_matches("prices.*", "other.prices.eur"));
  assert_true(channel_pattern_matches("chat", "chat"));
  assert_false(channel_pattern_matches("chat", "chat2"));
  assert_false(channel_pattern_matches("chat*", "chatty"));  // only ".*" and "*" are wildcards
  assert_true(channel_pattern_matches("chat*", "chat*"));
  assert_false(channel_pattern_matches("", "x"));
  std::vector<std::string> l = sw::split_list(" news ,prices.* ,, \t");
  assert_int_equal(l.size(), 2);
  assert_string_equal(l[0].c_str(), "news");
  assert_string_equal(l[1].c_str(), "prices.*");
  assert_true(sw::any_pattern_matches(l, "prices.x"));
  assert_false(sw::any_pattern_matches(l, "prices"));
}

void test_origin_policy(void **) {
  sw::OriginPolicy p;
  std::string why;
  assert_false(p.configured());
  assert_true(p.parse("https://App.example, http://localhost:8080/", why));
  assert_true(p.allows("https://app.example"));
  assert_true(p.allows("HTTPS://APP.EXAMPLE"));
  assert_true(p.allows("http://localhost:8080"));
  assert_false(p.allows("http://localhost:8081"));
  assert_false(p.allows("https://app.example.evil.test"));
  assert_false(p.allows("null"));
  assert_false(p.allows(""));
  assert_true(p.parse("*", why));
  assert_true(p.allows("https://anything.test"));
  for (const char *bad : {"app.example", "https://a.example/path", "https://", ",", "https://a b"}) {
    sw::OriginPolicy q;
    why.clear();
    if (q.parse(bad, why)) fail_msg("'%s' parsed", bad);
    assert_false(why.empty());
  }
}

void test_hmac_tokens(void **) {
  sw::JwtVerifier v = verifier(hmac_config());
  for (const char *ok : {"hs256_valid.jwt", "hs384_valid.jwt", "hs512_valid.jwt", "hs256_aud_list.jwt"})
    if (!verdict_of(v, ok).empty()) fail_msg("%s: %s", ok, verdict_of(v, ok).c_str());
  sw::Grant g;
  std::string why;
  assert_true(v.verify(fixture("hs256_valid.jwt"), kNow, g, why));
  assert_string_equal(g.sub.c_str(), "alice");
  assert_int_equal(g.exp, kFar);
  assert_int_equal(g.subscribe.size(), 2);
  assert_string_equal(g.subscribe[0].c_str(), "prices.*");
  assert_int_equal(g.publish.size(), 1);
  assert_string_equal(g.publish[0].c_str(), "chat");
  std::map<std::string, std::string> claims(g.claims.begin(), g.claims.end());
  assert_string_equal(claims["role"].c_str(), "\"admin\"");
  assert_string_equal(claims["exp"].c_str(), "4102444800");
  expect_has(g.claims_json, "\"sub\":\"alice\"");

  expect_has(verdict_of(v, "hs256_expired.jwt"), "token expired");
  expect_has(verdict_of(v, "hs256_not_yet.jwt"), "not valid yet");
  expect_has(verdict_of(v, "hs256_wrong_key.jwt"), "signature does not verify");
  expect_has(verdict_of(v, "hs256_wrong_aud.jwt"), "wrong audience");
  expect_has(verdict_of(v, "hs256_wrong_iss.jwt"), "wrong issuer");
  expect_has(verdict_of(v, "hs256_bad_rights.jwt"), "lists of channel patterns");
  expect_has(verdict_of(v, "alg_none.jwt"), "alg none is not accepted");
  expect_has(verdict_of(v, "hs256_typ_at_jwt.jwt"), "typ is not JWT");
  // Tokens for another kind of key are refused before any signature check.
  expect_has(verdict_of(v, "rs256_valid.jwt"), "alg RS256 does not match the configured key (HS256");
  expect_has(verdict_of(v, "es256_valid.jwt"), "alg ES256 does not match");
  // No rights claim: a valid token that allows nothing.
  assert_true(v.verify(fixture("hs256_no_rights.jwt"), kNow, g, why));
  assert_true(g.subscribe.empty() && g.publish.empty());
}

void test_leeway(void **) {
  sw::JwtConfig c = hmac_config();
  c.leeway = 30;
  sw::JwtVerifier v = verifier(c);
  assert_string_equal(verdict_of(v, "hs256_valid.jwt", kFar + 29).c_str(), "");    // within the leeway
  expect_has(verdict_of(v, "hs256_valid.jwt", kFar + 30), "token expired");        // exp + leeway: over
  assert_string_equal(verdict_of(v, "hs256_not_yet.jwt", kFar - 31).c_str(), "");  // nbf - leeway
  expect_has(verdict_of(v, "hs256_not_yet.jwt", kFar - 32), "not valid yet");
  c.leeway = 0;
  sw::JwtVerifier strict = verifier(c);
  expect_has(verdict_of(strict, "hs256_valid.jwt", kFar), "token expired");
}

void test_public_keys(void **) {
  sw::JwtConfig rc;
  rc.public_key_pem = fixture("rsa.pub.pem");
  sw::JwtVerifier rsa = verifier(rc);
  assert_string_equal(verdict_of(rsa, "rs256_valid.jwt").c_str(), "");
  expect_has(verdict_of(rsa, "hs256_valid.jwt"), "alg HS256 does not match the configured key (RS256");
  // PS*: libjwt 1.10 lacks them; OpenSSL's EVP verifies them.
  assert_string_equal(verdict_of(rsa, "ps256_valid.jwt").c_str(), "");
  assert_string_equal(verdict_of(rsa, "ps512_valid.jwt").c_str(), "");
  expect_has(verdict_of(rsa, "ps256_wrong_key.jwt"), "signature does not verify");
  expect_has(verdict_of(rsa, "ps256_expired.jwt"), "token expired");
  {
    sw::Grant g;
    std::string why;
    assert_true(rsa.verify(fixture("ps256_valid.jwt"), kNow, g, why));
    assert_string_equal(g.sub.c_str(), "alice");
    assert_int_equal(g.publish.size(), 1);
    // A valid signature over other bytes: the payload swapped for another token's.
    std::string ps = fixture("ps256_valid.jwt"), other = fixture("ps256_expired.jwt");
    size_t a = ps.find('.'), b = ps.rfind('.'), oa = other.find('.'), ob = other.rfind('.');
    std::string forged = ps.substr(0, a) + other.substr(oa, ob - oa) + ps.substr(b);
    assert_false(rsa.verify(forged, kNow, g, why));
    expect_has(why, "signature does not verify");
  }
  expect_has(verdict_of(rsa, "es256_valid.jwt"), "does not match");
  expect_has(verdict_of(rsa, "alg_none.jwt"), "alg none");

  sw::JwtConfig ecc;
  ecc.public_key_pem = fixture("ec.pub.pem");
  sw::JwtVerifier ecv = verifier(ecc);
  assert_string_equal(verdict_of(ecv, "es256_valid.jwt").c_str(), "");
  expect_has(verdict_of(ecv, "rs256_valid.jwt"), "does not match the configured key (ES256)");
  expect_has(verdict_of(ecv, "hs256_valid.jwt"), "does not match");

  sw::JwtVerifier bad;
  std::string why;
  sw::JwtConfig nc;
  nc.public_key_pem = "-----BEGIN PUBLIC KEY-----\nnope\n-----END PUBLIC KEY-----\n";
  assert_false(bad.init(nc, why));
  expect_has(why, "PEM public key");
  nc.secret = "s";
  assert_false(bad.init(nc, why));
}

void test_malformed_tokens(void **) {
  sw::JwtVerifier v = verifier(hmac_config());
  std::string valid = fixture("hs256_valid.jwt");
  for (const std::string &t :
       {std::string(), std::string("."), std::string(".."), std::string("a.b"), std::string("a.b.c.d"),
        std::string("!!!.b.c"), valid.substr(0, valid.rfind('.') + 1), valid + "x", "x" + valid,
        std::string(9000, 'a'), valid.substr(valid.find('.'))}) {
    sw::Grant g;
    std::string why;
    if (v.verify(t, kNow, g, why)) fail_msg("verified: '%s'", t.c_str());
    assert_false(why.empty());
  }
}

// A RequestView over a plain header map.
struct Req {
  std::map<std::string, std::string> headers;
  std::vector<std::string> query;
  sw::RequestView view(sw::AccessKind kind, std::vector<std::string> channels, bool ws = false) {
    sw::RequestView r;
    r.kind = kind;
    r.websocket = ws;
    r.query = &query;
    r.channels = std::move(channels);
    r.header = [this](const char *n) {
      auto it = headers.find(n);
      return it == headers.end() ? std::string() : it->second;
    };
    return r;
  }
};

std::string header_of(const sw::Verdict &v, const std::string &name) {
  for (const auto &h : v.headers)
    if (h.first == name) return h.second;
  return "(none)";
}

sw::AccessPolicy policy() {
  sw::AccessPolicy p;
  p.jwt = verifier(hmac_config());
  p.anonymous_subscribe = {"news", "public.*"};
  return p;
}

void test_decide_tokens(void **) {
  sw::AccessPolicy p = policy();
  using K = sw::AccessKind;
  Req r;
  sw::Verdict v = sw::decide_access(p, r.view(K::Subscribe, {"chat"}, true), kNow);
  assert_int_equal(v.status, 401);
  assert_string_equal(header_of(v, "WWW-Authenticate").c_str(), "Bearer realm=\"ssews\"");
  // Anonymous channels need no token, all of them or none.
  assert_int_equal(sw::decide_access(p, r.view(K::Subscribe, {"news", "public.x"}), kNow).status, 0);
  assert_int_equal(sw::decide_access(p, r.view(K::Subscribe, {"news", "chat"}), kNow).status, 401);
  assert_int_equal(sw::decide_access(p, r.view(K::Subscribe, {}), kNow).status, 401);

  // Each source, in order: header, query, cookie (only when accepted).
  r.headers["authorization"] = "Bearer " + fixture("hs256_valid.jwt");
  v = sw::decide_access(p, r.view(K::Subscribe, {"chat", "prices.eur"}), kNow);
  assert_int_equal(v.status, 0);
  assert_non_null(v.grant.get());
  assert_string_equal(v.grant->sub.c_str(), "alice");
  r.headers["authorization"] = "bearer " + fixture("hs256_valid.jwt");
  assert_int_equal(sw::decide_access(p, r.view(K::Subscribe, {"chat"}), kNow).status, 0);
  r.headers.clear();
  r.query = {"channel=chat", "authorization=" + fixture("hs256_valid.jwt")};
  assert_int_equal(sw::decide_access(p, r.view(K::Subscribe, {"chat"}), kNow).status, 0);
  r.query.clear();
  r.headers["cookie"] = "a=b; ssewsAuthorization=" + fixture("hs256_valid.jwt") + "; c=d";
  assert_int_equal(sw::decide_access(p, r.view(K::Subscribe, {"chat"}), kNow).status, 401);  // not accepted
  p.cookie = "ssewsAuthorization";
  assert_int_equal(sw::decide_access(p, r.view(K::Subscribe, {"chat"}), kNow).status, 0);
  // The header wins over the others.
  r.headers["authorization"] = "Bearer " + fixture("hs256_expired.jwt");
  v = sw::decide_access(p, r.view(K::Subscribe, {"chat"}), kNow);
  assert_int_equal(v.status, 401);
  assert_string_equal(header_of(v, "WWW-Authenticate").c_str(),
                      "Bearer realm=\"ssews\", error=\"invalid_token\", error_description=\"token expired\"");
  expect_has(v.reason, "token expired");

  // Rights: a channel the token does not allow is named in the 403.
  r.headers["authorization"] = "Bearer " + fixture("hs256_valid.jwt");
  v = sw::decide_access(p, r.view(K::Subscribe, {"chat", "prices"}), kNow);
  assert_int_equal(v.status, 403);
  expect_has(v.reason, "channel 'prices'");
  expect_has(header_of(v, "WWW-Authenticate"), "insufficient_scope");
  // An anonymous channel is readable with any valid token too.
  assert_int_equal(sw::decide_access(p, r.view(K::Subscribe, {"chat", "news"}), kNow).status, 0);
  r.headers["authorization"] = "Bearer " + fixture("hs256_no_rights.jwt");
  assert_int_equal(sw::decide_access(p, r.view(K::Subscribe, {"chat"}), kNow).status, 403);
  for (const char *bad : {"alg_none.jwt", "hs256_wrong_key.jwt", "hs256_wrong_aud.jwt", "rs256_valid.jwt"}) {
    r.headers["authorization"] = std::string("Bearer ") + fixture(bad);
    assert_int_equal(sw::decide_access(p, r.view(K::Subscribe, {"chat"}), kNow).status, 401);
  }
}

void test_decide_publish(void **) {
  sw::AccessPolicy p = policy();
  p.publish_token = "static-token";
  using K = sw::AccessKind;
  Req r;
  assert_int_equal(sw::decide_access(p, r.view(K::Publish, {"chat"}), kNow).status, 401);
  r.headers["authorization"] = "Bearer static-token";
  sw::Verdict v = sw::decide_access(p, r.view(K::Publish, {"anything"}), kNow);
  assert_int_equal(v.status, 0);
  assert_null(v.grant.get());
  r.headers["authorization"] = "Bearer " + fixture("hs256_valid.jwt");
  assert_int_equal(sw::decide_access(p, r.view(K::Publish, {"chat"}), kNow).status, 0);
  v = sw::decide_access(p, r.view(K::Publish, {"prices.eur"}), kNow);  // may read, not write
  assert_int_equal(v.status, 403);
  expect_has(v.reason, "publishing to channel 'prices.eur'");
  // Anonymous reading gives no right to publish.
  r.headers.clear();
  assert_int_equal(sw::decide_access(p, r.view(K::Publish, {"news"}), kNow).status, 401);
  // Without a key only the static token publishes.
  sw::AccessPolicy s;
  s.publish_token = "static-token";
  r.headers["authorization"] = "Bearer " + fixture("hs256_valid.jwt");
  assert_int_equal(sw::decide_access(s, r.view(K::Publish, {"chat"}), kNow).status, 401);
  // may_publish, for WebSocket messages.
  sw::Grant g;
  g.publish = {"chat", "rooms.*"};
  assert_true(sw::may_publish(true, &g, "rooms.1"));
  assert_false(sw::may_publish(true, &g, "rooms"));
  assert_false(sw::may_publish(true, nullptr, "chat"));
  assert_true(sw::may_publish(false, nullptr, "chat"));
}

void test_decide_origins(void **) {
  sw::AccessPolicy p = policy();
  std::string why;
  assert_true(p.origins.parse("https://app.example", why));
  using K = sw::AccessKind;
  Req r;
  r.headers["authorization"] = "Bearer " + fixture("hs256_valid.jwt");
  // No Origin: not a browser, not judged.
  assert_int_equal(sw::decide_access(p, r.view(K::Subscribe, {"chat"}, true), kNow).status, 0);
  r.headers["origin"] = "https://evil.example";
  sw::Verdict v = sw::decide_access(p, r.view(K::Subscribe, {"chat"}, true), kNow);
  assert_int_equal(v.status, 403);
  expect_has(v.reason, "origin 'https://evil.example' is not allowed");
  // Even a valid token does not let a page from another origin in, nor anonymous reading.
  assert_int_equal(sw::decide_access(p, r.view(K::Subscribe, {"news"}), kNow).status, 403);
  assert_int_equal(sw::decide_access(p, r.view(K::Preflight, {}), kNow).status, 403);
  r.headers["origin"] = "https://app.example";
  v = sw::decide_access(p, r.view(K::Subscribe, {"chat"}), kNow);
  assert_int_equal(v.status, 0);
  assert_string_equal(header_of(v, "Access-Control-Allow-Origin").c_str(), "https://app.example");
  assert_string_equal(header_of(v, "Vary").c_str(), "Origin");
  assert_string_equal(header_of(v, "Access-Control-Allow-Credentials").c_str(), "(none)");  // no cookies
  p.cookie = "ssewsAuthorization";
  v = sw::decide_access(p, r.view(K::Subscribe, {"chat"}), kNow);
  assert_string_equal(header_of(v, "Access-Control-Allow-Credentials").c_str(), "true");
  // Refusals of an allowed origin carry CORS headers, so the page can read why.
  r.headers.erase("authorization");
  v = sw::decide_access(p, r.view(K::Subscribe, {"chat"}), kNow);
  assert_int_equal(v.status, 401);
  assert_string_equal(header_of(v, "Access-Control-Allow-Origin").c_str(), "https://app.example");
  // WebSocket handshakes get no CORS headers (browsers do not use them there).
  r.headers["authorization"] = "Bearer " + fixture("hs256_valid.jwt");
  v = sw::decide_access(p, r.view(K::Subscribe, {"chat"}, true), kNow);
  assert_string_equal(header_of(v, "Access-Control-Allow-Origin").c_str(), "(none)");
  v = sw::decide_access(p, r.view(K::Preflight, {}), kNow);
  assert_int_equal(v.status, 204);
  expect_has(header_of(v, "Access-Control-Allow-Headers"), "Authorization, Last-Event-ID, Content-Type");
  expect_has(header_of(v, "Access-Control-Allow-Methods"), "GET");
  expect_has(header_of(v, "Access-Control-Allow-Methods"), "POST");
}

}  // namespace

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_channel_patterns), cmocka_unit_test(test_origin_policy),
      cmocka_unit_test(test_hmac_tokens),      cmocka_unit_test(test_leeway),
      cmocka_unit_test(test_public_keys),      cmocka_unit_test(test_malformed_tokens),
      cmocka_unit_test(test_decide_tokens),    cmocka_unit_test(test_decide_publish),
      cmocka_unit_test(test_decide_origins),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}

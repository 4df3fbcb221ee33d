#include "access_policy.h"

#include "ascii.h"
#include "channel_pattern.h"

namespace sw {

namespace {

// Compares without an early exit, so the time taken does not leak the token.
bool same_secret(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  unsigned char diff = 0;
  for (size_t i = 0; i < a.size(); i++) diff |= static_cast<unsigned char>(a[i] ^ b[i]);
  return diff == 0;
}

std::string trim(std::string_view s) {
  size_t b = s.find_first_not_of(" \t"), e = s.find_last_not_of(" \t");
  return b == std::string_view::npos ? std::string() : std::string(s.substr(b, e - b + 1));
}

// The credentials of `Authorization: Bearer <token>` (the scheme is
// case-insensitive, RFC 9110 11.1), or "".
std::string bearer(const RequestView &r) {
  std::string auth = r.header("authorization");
  return starts_with_nocase(auth, "bearer ") ? trim(std::string_view(auth).substr(7)) : std::string();
}

std::string cookie_value(const std::string &cookies, const std::string &name) {
  size_t start = 0;
  while (start < cookies.size()) {
    size_t semi = cookies.find(';', start);
    if (semi == std::string::npos) semi = cookies.size();
    std::string pair = trim(std::string_view(cookies).substr(start, semi - start));
    size_t eq = pair.find('=');
    if (eq != std::string::npos && trim(std::string_view(pair).substr(0, eq)) == name) {
      std::string v = trim(std::string_view(pair).substr(eq + 1));
      if (v.size() >= 2 && v.front() == '"' && v.back() == '"') v = v.substr(1, v.size() - 2);
      return v;
    }
    start = semi + 1;
  }
  return {};
}

// Text safe inside a quoted-string of a WWW-Authenticate parameter.
std::string quotable(std::string_view s) {
  std::string out;
  for (char c : s) out += (c >= 0x20 && c < 0x7f && c != '"' && c != '\\') ? c : '?';
  return out;
}

Verdict refuse(int status, std::string reason) {
  Verdict v;
  v.status = status;
  v.reason = std::move(reason);
  return v;
}

Verdict unauthorized(const char *error, const std::string &why) {
  Verdict v = refuse(401, error ? "invalid token: " + why : why);
  std::string challenge = "Bearer realm=\"ssews\"";
  if (error)
    challenge += std::string(", error=\"") + error + "\", error_description=\"" + quotable(why) + "\"";
  v.headers.emplace_back("WWW-Authenticate", challenge);
  return v;
}

Verdict forbidden_channel(const char *verb, const std::string &channel) {
  Verdict v = refuse(403, std::string("the token does not allow ") + verb + " channel '" + channel + "'");
  v.headers.emplace_back("WWW-Authenticate", "Bearer realm=\"ssews\", error=\"insufficient_scope\"");
  return v;
}

}  // namespace

std::string find_token(const AccessPolicy &p, const RequestView &r) {
  std::string t = bearer(r);
  if (!t.empty()) return t;
  if (r.query) {
    for (const auto &a : *r.query)
      if (a.compare(0, 14, "authorization=") == 0 && a.size() > 14) return a.substr(14);
  }
  if (!p.cookie.empty()) return cookie_value(r.header("cookie"), p.cookie);
  return {};
}

bool may_publish(bool verifier_enabled, const Grant *grant, std::string_view channel) {
  if (!verifier_enabled) return true;
  return grant && any_pattern_matches(grant->publish, channel);
}

Verdict decide_access(const AccessPolicy &p, const RequestView &r, int64_t now) {
  // CORS answers go with every answer to an allowed origin, refusals too, so
  // a page can read why it was refused.
  std::vector<std::pair<std::string, std::string>> cors;
  std::string origin = r.header("origin");
  if (p.origins.configured() && !origin.empty()) {
    if (!p.origins.allows(origin)) {
      Verdict v = refuse(403, "origin '" + quotable(origin) + "' is not allowed");
      v.by_origin = true;
      return v;
    }
    if (!r.websocket) {
      cors.emplace_back("Access-Control-Allow-Origin", origin);
      cors.emplace_back("Vary", "Origin");
      if (!p.cookie.empty()) cors.emplace_back("Access-Control-Allow-Credentials", "true");
    }
  }
  auto with_cors = [&cors](Verdict v) {
    v.headers.insert(v.headers.begin(), cors.begin(), cors.end());
    return v;
  };

  if (r.kind == AccessKind::Preflight) {
    Verdict v;
    v.status = 204;
    v.headers = cors;
    v.headers.emplace_back("Access-Control-Allow-Methods", "GET, POST, OPTIONS");
    v.headers.emplace_back("Access-Control-Allow-Headers", "Authorization, Last-Event-ID, Content-Type");
    v.headers.emplace_back("Access-Control-Max-Age", "600");
    return v;
  }

  if (r.kind == AccessKind::Publish) {
    if (!p.publish_token.empty()) {
      std::string b = bearer(r);
      if (!b.empty() && same_secret(b, p.publish_token)) return with_cors(Verdict());
    }
    if (!p.jwt.enabled()) return with_cors(unauthorized(nullptr, "missing or wrong bearer token"));
  } else if (!p.jwt.enabled()) {
    return with_cors(Verdict());
  }

  std::string token = find_token(p, r);
  if (token.empty()) {
    bool anonymous = r.kind == AccessKind::Subscribe && !r.channels.empty();
    for (const auto &ch : r.channels) anonymous = anonymous && any_pattern_matches(p.anonymous_subscribe, ch);
    if (anonymous) return with_cors(Verdict());
    return with_cors(unauthorized(nullptr,
                                  "a token is needed (Authorization: Bearer, or the authorization "
                                  "query parameter)"));
  }
  auto grant = std::make_shared<Grant>();
  std::string why;
  if (!p.jwt.verify(token, now, *grant, why)) return with_cors(unauthorized("invalid_token", why));
  for (const auto &ch : r.channels) {
    if (r.kind == AccessKind::Publish) {
      if (!any_pattern_matches(grant->publish, ch)) return with_cors(forbidden_channel("publishing to", ch));
    } else if (!any_pattern_matches(grant->subscribe, ch) &&
               !any_pattern_matches(p.anonymous_subscribe, ch)) {
      return with_cors(forbidden_channel("subscribing to", ch));
    }
  }
  Verdict v = with_cors(Verdict());
  v.grant = std::move(grant);
  return v;
}

}  // namespace sw

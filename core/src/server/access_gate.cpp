// The server's side of access control: builds the AccessPolicy from the
// options at start (reading key files), gathers a request's RequestView from
// lws for decide_access (access_policy.h, where every decision is made).
// Service thread, except setup_access (opening thread). Connections whose
// token expires are ended by liveness.cpp.
#include <libwebsockets.h>

#include <cerrno>
#include <cstring>
#include <ctime>
#include <fstream>
#include <sstream>

#include "engine.h"
#include "lws_util.h"
#include "server/server_role.h"

namespace sw {

namespace {

constexpr size_t kMaxKeyFile = 64 * 1024;

bool read_small_file(const std::string &path, std::string &out, std::string &why) {
  std::ifstream f(path, std::ios::binary);
  if (!f) {
    why = "cannot read file '" + path + "': " + strerror(errno);
    return false;
  }
  std::ostringstream ss;
  ss << f.rdbuf();
  out = ss.str();
  if (out.size() > kMaxKeyFile) {
    why = "file '" + path + "' is larger than 64 KiB";
    return false;
  }
  return true;
}

}  // namespace

Status ServerRole::setup_access() {
  return build_access(access_);
}

Status ServerRole::options_changed() {
  AccessPolicy fresh;
  Status st = build_access(fresh);
  if (!st.failed()) access_ = std::move(fresh);  // connections keep the grants they came with
  return st;
}

Status ServerRole::build_access(AccessPolicy &out) const {
  const Options &o = opts();
  JwtConfig jc;
  std::string why;
  if (!o.jwt_secret.empty()) {
    jc.secret = o.jwt_secret;
    if (jc.secret[0] == '@') {
      if (!read_small_file(o.jwt_secret.substr(1), jc.secret, why))
        return fail(SSEWS_EOPTION, "option 'jwt_secret': " + why);
      if (!jc.secret.empty() && jc.secret.back() == '\n') jc.secret.pop_back();
      if (!jc.secret.empty() && jc.secret.back() == '\r') jc.secret.pop_back();
    }
    if (jc.secret.empty()) return fail(SSEWS_EOPTION, "option 'jwt_secret': the secret is empty");
  }
  if (!o.jwt_public_key.empty() && !read_small_file(o.jwt_public_key, jc.public_key_pem, why))
    return fail(SSEWS_EOPTION, "option 'jwt_public_key': " + why);
  jc.audience = o.jwt_audience;
  jc.issuer = o.jwt_issuer;
  jc.leeway = o.jwt_leeway;
  if (!out.jwt.init(jc, why))
    return fail(SSEWS_EOPTION, std::string("option '") +
                                   (o.jwt_secret.empty() ? "jwt_public_key" : "jwt_secret") + "': " + why);
  if (!o.allowed_origins.empty() && !out.origins.parse(o.allowed_origins, why))
    return fail(SSEWS_EOPTION, "option 'allowed_origins': " + why);
  out.anonymous_subscribe = o.anonymous_subscribe;
  out.publish_token = o.publish_token;
  // Cookies only behind an Origin check (parse_options refuses jwt_cookie without one).
  if (out.jwt.enabled() && out.origins.configured()) out.cookie = o.jwt_cookie;
  return Status::ok();
}

Verdict ServerRole::judge(const HttpRequest &req, AccessKind kind, bool websocket,
                          std::vector<std::string> channels) {
  if (kind == AccessKind::Subscribe && !access_.jwt.enabled() && !access_.origins.configured())
    return Verdict();
  RequestView r;
  r.kind = kind;
  r.websocket = websocket;
  r.query = &req.query;
  r.channels = std::move(channels);
  r.header = [&req](const char *name) -> std::string {
    const std::string *v = req.header(name);
    return v ? *v : std::string();
  };
  return counted(decide_access(access_, r, static_cast<int64_t>(time(nullptr))));
}

Verdict ServerRole::judge(lws *wsi, AccessKind kind, bool websocket, std::vector<std::string> channels) {
  // Nothing to check (no key, no origins): no request view to gather, so
  // handshakes cost what they did before access control.
  if (kind == AccessKind::Subscribe && !access_.jwt.enabled() && !access_.origins.configured())
    return Verdict();
  std::vector<std::string> query = lws_query_fragments(wsi);
  RequestView r;
  r.kind = kind;
  r.websocket = websocket;
  r.query = &query;
  r.channels = std::move(channels);
  r.header = [wsi](const char *name) -> std::string {
    if (!strcmp(name, "authorization")) return lws_header(wsi, WSI_TOKEN_HTTP_AUTHORIZATION);
    if (!strcmp(name, "origin")) return lws_header(wsi, WSI_TOKEN_ORIGIN);
    if (!strcmp(name, "cookie")) return lws_header(wsi, WSI_TOKEN_HTTP_COOKIE);
    std::string v;
    custom_header(wsi, name, v);
    return v;
  };
  return counted(decide_access(access_, r, static_cast<int64_t>(time(nullptr))));
}

// Every refusal decide_access makes counts once, here, whoever asked
// (WebSocket, SSE, publish); a preflight's 204 is an answer, not a refusal.
Verdict ServerRole::counted(Verdict v) {
  if (v.status >= 400) m_.add(v.by_origin ? kMRefuseOrigin : kMRefuseAuth);
  return v;
}

}  // namespace sw

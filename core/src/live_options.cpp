// Options that may change while an endpoint runs (ssews_set_option): the
// bearer tokens, the token keys and claims checked, the allowed origins, the
// anonymous channels and the log level, so a hub can rotate secrets and
// change its policy without dropping a connection (`ssews serve` does it on
// SIGHUP). The new value is checked as ssews_open checks it, then set on the
// service thread, the only one that reads these options; set_option waits
// for it, so a key file that cannot be read is the caller's error, and the
// option stays as it was.
#include <cstring>

#include "engine.h"
#include "log.h"
#include "sync_call.h"

namespace sw {

namespace {
// The keys that may change, and how each is taken from checked options.
struct LiveKey {
  const char *key;
  void (*take)(Options &to, const Options &from);
};
template <typename T, T Options::*field>
void take(Options &to, const Options &from) {
  to.*field = from.*field;
}
using S = std::string;
const LiveKey kLiveKeys[] = {
    {"publish_token", take<S, &Options::publish_token>},
    {"metrics_token", take<S, &Options::metrics_token>},
    {"jwt_secret", take<S, &Options::jwt_secret>},
    {"jwt_public_key", take<S, &Options::jwt_public_key>},
    {"jwt_audience", take<S, &Options::jwt_audience>},
    {"jwt_issuer", take<S, &Options::jwt_issuer>},
    {"jwt_leeway", take<unsigned, &Options::jwt_leeway>},
    {"allowed_origins", take<S, &Options::allowed_origins>},
    {"anonymous_subscribe", take<std::vector<S>, &Options::anonymous_subscribe>},
    {"log_level", take<S, &Options::log_level>},
};
}  // namespace

Status Engine::set_option(const char *key, const char *value) {
  if (!key || !value) return fail(SSEWS_EINVAL, "key or value is NULL");
  const LiveKey *live = nullptr;
  for (const LiveKey &k : kLiveKeys)
    if (!strcmp(k.key, key)) live = &k;
  Options checked;
  std::string err;
  const char *kv[] = {opts_.url.empty() ? key : "url", opts_.url.empty() ? value : opts_.url.c_str(),
                      opts_.url.empty() ? nullptr : key, value, nullptr};
  if (!parse_options(kv, checked, err)) return fail(SSEWS_EOPTION, err);
  if (!live) {
    std::string keys;
    for (const LiveKey &k : kLiveKeys) keys += std::string(keys.empty() ? "" : ", ") + k.key;
    return fail(SSEWS_ENOTSUP, std::string("option '") + key +
                                   "' cannot change while the endpoint runs (only " + keys +
                                   " can; restart for the others)");
  }
  Status result;
  Status st = sync_call(*this, [this, live, &checked, &result] {
    Options before = opts_;
    live->take(opts_, checked);
    result = role_->options_changed();  // what the role keeps from the options follows
    if (result.failed()) {
      opts_ = before;
      return;
    }
    int level = log_level_named(opts_.log_level);
    if (level != log_level_.load()) {
      log_level_.store(level);
      log_register(this, level);
    }
  });
  return st.failed() ? st : result;
}

}  // namespace sw

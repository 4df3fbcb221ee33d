// Options that may change while an endpoint runs (ssews_set_option): the
// bearer tokens, so a hub can rotate them without dropping a connection.
// The new value is checked as ssews_open checks it, then set on the service
// thread, the only one that reads these options.
#include <cstring>

#include "engine.h"

namespace sw {

namespace {
// The keys that may change, and where each lives.
struct LiveKey {
  const char *key;
  std::string Options::*field;
};
const LiveKey kLiveKeys[] = {
    {"publish_token", &Options::publish_token},
    {"metrics_token", &Options::metrics_token},
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
  if (!live)
    return fail(SSEWS_ENOTSUP, std::string("option '") + key +
                                   "' cannot change while the endpoint runs (only publish_token and "
                                   "metrics_token can; restart for the others)");
  std::string v = checked.*(live->field);
  std::string Options::*field = live->field;
  return enqueue(0, [this, field, v] {
    opts_.*field = v;
    role_->options_changed();  // what the role keeps from the options follows
  });
}

}  // namespace sw

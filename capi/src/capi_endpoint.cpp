// Endpoint lifecycle and operations of the C ABI.
#include "capi_util.h"

using sw::fail_rc;
using sw::status_to_rc;

namespace {
#define CHECK_EP(ep) \
  if (!(ep) || !(ep)->engine) return fail_rc(SSEWS_EINVAL, "endpoint is NULL")
}  // namespace

extern "C" {

SSEWS_API int ssews_open(ssews **out, const char *const *options, ssews_event_cb cb, void *user) {
  SSEWS_GUARD_BEGIN
  if (!out) return fail_rc(SSEWS_EINVAL, "out is NULL");
  *out = nullptr;
  auto *h = new ssews();
  sw::Status st;
  h->engine = sw::Engine::open(h, options, cb, user, st);
  if (!h->engine) {
    delete h;
    return status_to_rc(st);
  }
  *out = h;
  sw::clear_last_error();
  return SSEWS_OK;
  SSEWS_GUARD_END
}

SSEWS_API int ssews_on_event(ssews *ep, ssews_event_cb cb, void *user) {
  SSEWS_GUARD_BEGIN
  CHECK_EP(ep);
  return status_to_rc(ep->engine->set_callback(cb, user));
  SSEWS_GUARD_END
}

SSEWS_API int ssews_close(ssews **ep) {
  SSEWS_GUARD_BEGIN
  if (!ep || !*ep) return SSEWS_OK;
  ssews *h = *ep;
  *ep = nullptr;
  if (h->engine->close()) {  // joined: we free; from a callback the service thread frees
    delete h->engine;
    delete h;
  }
  sw::clear_last_error();
  return SSEWS_OK;
  SSEWS_GUARD_END
}

SSEWS_API int ssews_port(ssews *ep, int *port) {
  SSEWS_GUARD_BEGIN
  CHECK_EP(ep);
  if (!port) return fail_rc(SSEWS_EINVAL, "port is NULL");
  return status_to_rc(ep->engine->port(*port));
  SSEWS_GUARD_END
}

SSEWS_API int ssews_send(ssews *ep, ssews_conn conn, const void *data, size_t len, int flags,
                         const char *event, const char *id) {
  SSEWS_GUARD_BEGIN
  CHECK_EP(ep);
  if (flags != SSEWS_TEXT && flags != SSEWS_BINARY)
    return fail_rc(SSEWS_EINVAL, "flags must be SSEWS_TEXT or SSEWS_BINARY");
  return status_to_rc(ep->engine->send(conn, data, len, flags == SSEWS_BINARY, event, id));
  SSEWS_GUARD_END
}

SSEWS_API int ssews_publish(ssews *ep, const char *channel, const void *data, size_t len, int flags,
                            const char *event, const char *id) {
  SSEWS_GUARD_BEGIN
  CHECK_EP(ep);
  if (flags != SSEWS_TEXT && flags != SSEWS_BINARY)
    return fail_rc(SSEWS_EINVAL, "flags must be SSEWS_TEXT or SSEWS_BINARY");
  return status_to_rc(ep->engine->publish(channel, data, len, flags == SSEWS_BINARY, event, id));
  SSEWS_GUARD_END
}

SSEWS_API int ssews_subscribe(ssews *ep, ssews_conn conn, const char *channel) {
  SSEWS_GUARD_BEGIN
  CHECK_EP(ep);
  return status_to_rc(ep->engine->subscribe(conn, channel, true));
  SSEWS_GUARD_END
}

SSEWS_API int ssews_unsubscribe(ssews *ep, ssews_conn conn, const char *channel) {
  SSEWS_GUARD_BEGIN
  CHECK_EP(ep);
  return status_to_rc(ep->engine->subscribe(conn, channel, false));
  SSEWS_GUARD_END
}

SSEWS_API int ssews_reject(ssews *ep, ssews_conn conn, int http_status) {
  SSEWS_GUARD_BEGIN
  CHECK_EP(ep);
  return status_to_rc(ep->engine->reject(conn, http_status));
  SSEWS_GUARD_END
}

SSEWS_API int ssews_conn_close(ssews *ep, ssews_conn conn, int code, const char *reason) {
  SSEWS_GUARD_BEGIN
  CHECK_EP(ep);
  return status_to_rc(ep->engine->conn_close(conn, code, reason));
  SSEWS_GUARD_END
}

}  // extern "C"

// Endpoint lifecycle and operations of the C ABI.
#include "capi_handles.h"
#include "capi_util.h"
#include "log.h"

using sw::fail_rc;
using sw::status_to_rc;

static_assert(sw::kEvOpen == SSEWS_EV_OPEN && sw::kEvMessage == SSEWS_EV_MESSAGE &&
                  sw::kEvClose == SSEWS_EV_CLOSE && sw::kEvError == SSEWS_EV_ERROR &&
                  sw::kEvReconnecting == SSEWS_EV_RECONNECTING && sw::kEvDone == SSEWS_EV_DONE &&
                  sw::kEvDrain == SSEWS_EV_DRAIN && sw::kEvJoin == SSEWS_EV_JOIN &&
                  sw::kEvLeave == SSEWS_EV_LEAVE && sw::kEvRequest == SSEWS_EV_REQUEST,
              "core event kinds are the ABI's");
static_assert(sw::kLogError == SSEWS_LOG_ERROR && sw::kLogInfo == SSEWS_LOG_INFO,
              "core log levels are the ABI's");
static_assert(static_cast<int>(sw::Proto::Ws) == SSEWS_PROTO_WS &&
                  static_cast<int>(sw::Proto::Sse) == SSEWS_PROTO_SSE,
              "core protocols are the ABI's");

namespace {

// Calls the application's callback with the ABI's types (the core keeps it
// type-erased).
void invoke(sw::GenericFn fn, void *owner, const sw::Event *ev, void *user) {
  reinterpret_cast<ssews_event_cb>(fn)(static_cast<ssews *>(owner), sw::to_c(ev), user);
}

void invoke_log(sw::GenericFn fn, void *owner, int level, const char *msg, void *user) {
  reinterpret_cast<ssews_log_cb>(fn)(static_cast<ssews *>(owner), level, msg, user);
}

template <typename Fn>
sw::GenericFn erase(Fn cb) {
  return reinterpret_cast<sw::GenericFn>(cb);
}

}  // namespace

extern "C" {

SSEWS_API int ssews_open(ssews **out, const char *const *options, ssews_event_cb cb, void *user) {
  SSEWS_GUARD_BEGIN
  if (!out) return fail_rc(SSEWS_EINVAL, "out is NULL");
  *out = nullptr;
  ssews *h = sw::handle_reserve();
  sw::Status st;
  std::shared_ptr<sw::Engine> e = sw::Engine::open(options, h, invoke, erase(cb), user, st);
  if (!e) return status_to_rc(st);
  // Registered before the service thread starts: its first callback may
  // already call ssews functions with h.
  sw::handle_register(h, e);
  e->run_thread();
  *out = h;
  sw::clear_last_error();
  return SSEWS_OK;
  SSEWS_GUARD_END
}

SSEWS_API int ssews_on_event(ssews *ep, ssews_event_cb cb, void *user) {
  SSEWS_GUARD_BEGIN
  GET_ENGINE(e, ep);
  return status_to_rc(e->set_callback(erase(cb), user));
  SSEWS_GUARD_END
}

SSEWS_API int ssews_on_log(ssews *ep, ssews_log_cb cb, void *user) {
  SSEWS_GUARD_BEGIN
  GET_ENGINE(e, ep);
  return status_to_rc(e->set_log(invoke_log, erase(cb), user));
  SSEWS_GUARD_END
}

SSEWS_API const char *ssews_log_level_name(int level) {
  return sw::log_level_name(level);
}

SSEWS_API int ssews_close(ssews **ep) {
  SSEWS_GUARD_BEGIN
  if (!ep || !*ep) return SSEWS_OK;
  ssews *h = *ep;
  *ep = nullptr;
  std::shared_ptr<sw::Engine> e = sw::handle_remove(h);
  if (e) e->close();  // joins the service thread, unless called on it
  sw::clear_last_error();
  return SSEWS_OK;
  SSEWS_GUARD_END
}

SSEWS_API int ssews_port(ssews *ep, int *port) {
  SSEWS_GUARD_BEGIN
  GET_ENGINE(e, ep);
  if (!port) return fail_rc(SSEWS_EINVAL, "port is NULL");
  return status_to_rc(e->role().port(*port));
  SSEWS_GUARD_END
}

SSEWS_API int ssews_send(ssews *ep, ssews_conn conn, const void *data, size_t len, int flags,
                         const char *event, const char *id) {
  SSEWS_GUARD_BEGIN
  GET_ENGINE(e, ep);
  if (flags != SSEWS_TEXT && flags != SSEWS_BINARY)
    return fail_rc(SSEWS_EINVAL, "flags must be SSEWS_TEXT or SSEWS_BINARY");
  return status_to_rc(e->role().send(conn, data, len, flags == SSEWS_BINARY, event, id));
  SSEWS_GUARD_END
}

SSEWS_API int ssews_publish(ssews *ep, const char *channel, const void *data, size_t len, int flags,
                            const char *event, const char *id) {
  SSEWS_GUARD_BEGIN
  GET_ENGINE(e, ep);
  if (flags != SSEWS_TEXT && flags != SSEWS_BINARY)
    return fail_rc(SSEWS_EINVAL, "flags must be SSEWS_TEXT or SSEWS_BINARY");
  return status_to_rc(e->role().publish(channel, data, len, flags == SSEWS_BINARY, event, id));
  SSEWS_GUARD_END
}

SSEWS_API int ssews_set_headers(ssews *ep, const char *const *headers) {
  SSEWS_GUARD_BEGIN
  GET_ENGINE(e, ep);
  std::vector<std::string> lines;
  for (size_t i = 0; headers && headers[i]; i++) lines.emplace_back(headers[i]);
  return status_to_rc(e->role().set_headers(std::move(lines)));
  SSEWS_GUARD_END
}

SSEWS_API int ssews_may_publish(ssews *ep, ssews_conn conn, const char *channel) {
  SSEWS_GUARD_BEGIN
  GET_ENGINE(e, ep);
  return status_to_rc(e->role().may_publish(conn, channel));
  SSEWS_GUARD_END
}

SSEWS_API int ssews_publish_as(ssews *ep, ssews_conn conn, const char *channel, const void *data, size_t len,
                               int flags, const char *event, const char *id) {
  SSEWS_GUARD_BEGIN
  GET_ENGINE(e, ep);
  if (flags != SSEWS_TEXT && flags != SSEWS_BINARY)
    return fail_rc(SSEWS_EINVAL, "flags must be SSEWS_TEXT or SSEWS_BINARY");
  return status_to_rc(e->role().publish_as(conn, channel, data, len, flags == SSEWS_BINARY, event, id));
  SSEWS_GUARD_END
}

SSEWS_API int ssews_subscribe(ssews *ep, ssews_conn conn, const char *channel) {
  SSEWS_GUARD_BEGIN
  GET_ENGINE(e, ep);
  return status_to_rc(e->role().subscribe(conn, channel, true));
  SSEWS_GUARD_END
}

SSEWS_API int ssews_unsubscribe(ssews *ep, ssews_conn conn, const char *channel) {
  SSEWS_GUARD_BEGIN
  GET_ENGINE(e, ep);
  return status_to_rc(e->role().subscribe(conn, channel, false));
  SSEWS_GUARD_END
}

SSEWS_API int ssews_reject(ssews *ep, ssews_conn conn, int http_status) {
  SSEWS_GUARD_BEGIN
  GET_ENGINE(e, ep);
  return status_to_rc(e->role().reject(conn, http_status));
  SSEWS_GUARD_END
}

SSEWS_API int ssews_accept_subprotocol(ssews *ep, ssews_conn conn, const char *name) {
  SSEWS_GUARD_BEGIN
  GET_ENGINE(e, ep);
  return status_to_rc(e->role().accept_subprotocol(conn, name));
  SSEWS_GUARD_END
}

SSEWS_API int ssews_conn_close(ssews *ep, ssews_conn conn, int code, const char *reason) {
  SSEWS_GUARD_BEGIN
  GET_ENGINE(e, ep);
  return status_to_rc(e->role().conn_close(conn, code, reason));
  SSEWS_GUARD_END
}

SSEWS_API int ssews_event_fd(ssews *ep, int *fd) {
  SSEWS_GUARD_BEGIN
  GET_ENGINE(e, ep);
  if (!fd) return fail_rc(SSEWS_EINVAL, "fd is NULL");
  *fd = e->event_fd();
  return SSEWS_OK;
  SSEWS_GUARD_END
}

SSEWS_API int ssews_next_event(ssews *ep, const ssews_event **ev) {
  SSEWS_GUARD_BEGIN
  GET_ENGINE(e, ep);
  if (!ev) return fail_rc(SSEWS_EINVAL, "ev is NULL");
  const sw::Event *core_ev = nullptr;
  int rc = status_to_rc(e->next_event(&core_ev));
  *ev = sw::to_c(core_ev);
  return rc;
  SSEWS_GUARD_END
}

}  // extern "C"

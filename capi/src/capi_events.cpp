// The event accessors of the C ABI: the core's Event read through the
// opaque ssews_event.
#include <string.h>
#include <strings.h>

#include <string>

#include "capi_util.h"

using sw::fail_rc;
using sw::status_to_rc;

extern "C" {

SSEWS_API const char *ssews_event_kind_name(int kind) {
  switch (kind) {
    case SSEWS_EV_OPEN:
      return "open";
    case SSEWS_EV_MESSAGE:
      return "message";
    case SSEWS_EV_CLOSE:
      return "close";
    case SSEWS_EV_ERROR:
      return "error";
    case SSEWS_EV_RECONNECTING:
      return "reconnecting";
    case SSEWS_EV_DONE:
      return "done";
    case SSEWS_EV_DRAIN:
      return "drain";
    case SSEWS_EV_JOIN:
      return "join";
    case SSEWS_EV_LEAVE:
      return "leave";
    case SSEWS_EV_REQUEST:
      return "request";
    default:
      return "unknown";
  }
}

SSEWS_API int ssews_event_kind(const ssews_event *ev) {
  return ev ? sw::from_c(ev)->kind : 0;
}
SSEWS_API ssews_conn ssews_event_conn(const ssews_event *ev) {
  return ev ? sw::from_c(ev)->conn : 0;
}
SSEWS_API int ssews_event_protocol(const ssews_event *ev) {
  return ev ? sw::from_c(ev)->protocol : 0;
}

SSEWS_API const void *ssews_event_data(const ssews_event *ev, size_t *len) {
  if (len) *len = ev ? sw::from_c(ev)->data.size() : 0;
  return ev ? sw::from_c(ev)->data.data() : nullptr;
}

SSEWS_API int ssews_event_is_binary(const ssews_event *ev) {
  return ev && sw::from_c(ev)->binary ? 1 : 0;
}
SSEWS_API const char *ssews_event_name(const ssews_event *ev) {
  return ev && sw::from_c(ev)->has_name ? sw::from_c(ev)->name.c_str() : nullptr;
}
SSEWS_API const char *ssews_event_id(const ssews_event *ev) {
  return ev && sw::from_c(ev)->has_id ? sw::from_c(ev)->id.c_str() : nullptr;
}
SSEWS_API const char *ssews_event_channel(const ssews_event *ev) {
  return ev && sw::from_c(ev)->has_channel ? sw::from_c(ev)->channel.c_str() : nullptr;
}
SSEWS_API const char *ssews_event_path(const ssews_event *ev) {
  return ev ? sw::from_c(ev)->path.c_str() : nullptr;
}
SSEWS_API const char *ssews_event_query(const ssews_event *ev) {
  return ev ? sw::from_c(ev)->query.c_str() : nullptr;
}
SSEWS_API const char *ssews_event_peer(const ssews_event *ev) {
  return ev ? sw::from_c(ev)->peer.c_str() : nullptr;
}

SSEWS_API const char *ssews_event_header(const ssews_event *ev, const char *name) {
  if (!ev || !name) return nullptr;
  for (const auto &h : sw::from_c(ev)->headers)
    if (!strcasecmp(h.first.c_str(), name)) return h.second.c_str();
  if (!sw::from_c(ev)->live_request) return nullptr;
  // A header lws does not know by name: read it from the live request and keep
  // it with the event, so the pointer stays valid as long as the event.
  std::string v;
  try {
    if (!sw::from_c(ev)->live_request->header(name, v)) return nullptr;
    auto *mut = const_cast<sw::Event *>(sw::from_c(ev));
    std::string n = name;
    for (auto &ch : n) ch = static_cast<char>(tolower(static_cast<unsigned char>(ch)));
    mut->extra_headers.emplace_back(std::move(n), std::move(v));
    return mut->extra_headers.back().second.c_str();
  } catch (...) {
    return nullptr;
  }
}

SSEWS_API size_t ssews_event_header_count(const ssews_event *ev) {
  return ev ? sw::from_c(ev)->headers.size() : 0;
}

SSEWS_API int ssews_event_header_at(const ssews_event *ev, size_t i, const char **name, const char **value) {
  if (!ev || i >= sw::from_c(ev)->headers.size()) return fail_rc(SSEWS_EINVAL, "header index out of range");
  if (name) *name = sw::from_c(ev)->headers[i].first.c_str();
  if (value) *value = sw::from_c(ev)->headers[i].second.c_str();
  return SSEWS_OK;
}

SSEWS_API size_t ssews_event_channel_count(const ssews_event *ev) {
  return ev ? sw::from_c(ev)->channels.size() : 0;
}

SSEWS_API const char *ssews_event_channel_at(const ssews_event *ev, size_t i) {
  return ev && i < sw::from_c(ev)->channels.size() ? sw::from_c(ev)->channels[i].c_str() : nullptr;
}

SSEWS_API int ssews_event_code(const ssews_event *ev) {
  return ev ? sw::from_c(ev)->code : 0;
}
SSEWS_API const char *ssews_event_reason(const ssews_event *ev) {
  return ev ? sw::from_c(ev)->reason.c_str() : nullptr;
}
SSEWS_API int64_t ssews_event_delay_ms(const ssews_event *ev) {
  return ev ? sw::from_c(ev)->delay_ms : 0;
}
SSEWS_API const char *ssews_event_subprotocol(const ssews_event *ev) {
  return ev ? sw::from_c(ev)->subprotocol.c_str() : nullptr;
}

SSEWS_API const char *ssews_event_identity(const ssews_event *ev) {
  if (!ev || !sw::from_c(ev)->grant) return nullptr;
  return sw::from_c(ev)->grant->sub.c_str();
}

SSEWS_API const char *ssews_event_claim(const ssews_event *ev, const char *name) {
  if (!ev || !sw::from_c(ev)->grant) return nullptr;
  const sw::Grant &g = *sw::from_c(ev)->grant;
  if (!name) return g.claims_json.c_str();
  for (const auto &c : g.claims)
    if (c.first == name) return c.second.c_str();
  return nullptr;
}

SSEWS_API int ssews_event_stat(const ssews_event *ev, const char *name, double *value) {
  SSEWS_GUARD_BEGIN
  if (!ev || !name || !value) return fail_rc(SSEWS_EINVAL, "ev, name or value is NULL");
  const sw::Event::ConnFigures *f = sw::from_c(ev)->figures.get();
  if (f) {
    const struct {
      const char *name;
      double v;
    } rows[] = {{"duration_ms", f->duration_ms},
                {"bytes_in", f->bytes_in},
                {"bytes_out", f->bytes_out},
                {"messages_in", f->messages_in},
                {"messages_out", f->messages_out}};
    // A request has no messages: its figures are the first three.
    size_t n = sw::from_c(ev)->kind == sw::kEvRequest ? 3 : sizeof rows / sizeof rows[0];
    for (size_t i = 0; i < n; i++) {
      const auto &r = rows[i];
      if (!strcmp(r.name, name)) {
        *value = r.v;
        sw::clear_last_error();
        return SSEWS_OK;
      }
    }
  }
  return fail_rc(SSEWS_EINVAL, std::string("this event has no figure '") + name + "'");
  SSEWS_GUARD_END
}

}  // extern "C"

// The server's operational queries of the C ABI: figures by name,
// per-connection backpressure, channel presence and lag.
#include <algorithm>

#include "capi_handles.h"
#include "capi_util.h"
#include "server/metrics.h"

using sw::fail_rc;
using sw::status_to_rc;

extern "C" {

SSEWS_API int ssews_stats(ssews *ep, const char **names, double *values, size_t cap, size_t *count) {
  SSEWS_GUARD_BEGIN
  GET_ENGINE(e, ep);
  if (!count) return fail_rc(SSEWS_EINVAL, "count is NULL");
  if (cap && (!names || !values)) return fail_rc(SSEWS_EINVAL, "names or values is NULL but cap is not 0");
  sw::Metrics m;
  sw::Status st = e->role().stats(m);
  if (st.failed()) return status_to_rc(st);
  size_t n = std::min(cap, static_cast<size_t>(sw::kMetricCount));
  for (size_t i = 0; i < n; i++) {
    names[i] = sw::kMetricTable[i].name;
    values[i] = m.v[i];
  }
  *count = sw::kMetricCount;
  return status_to_rc(st);
  SSEWS_GUARD_END
}

SSEWS_API int ssews_set_option(ssews *ep, const char *key, const char *value) {
  SSEWS_GUARD_BEGIN
  GET_ENGINE(e, ep);
  return status_to_rc(e->set_option(key, value));
  SSEWS_GUARD_END
}

SSEWS_API int ssews_buffered_amount(ssews *ep, ssews_conn conn, size_t *bytes) {
  SSEWS_GUARD_BEGIN
  GET_ENGINE(e, ep);
  if (!bytes) return fail_rc(SSEWS_EINVAL, "bytes is NULL");
  return status_to_rc(e->role().buffered(conn, *bytes));
  SSEWS_GUARD_END
}

SSEWS_API int ssews_channel_stats(ssews *ep, const char *channel, size_t *subscribers,
                                  size_t *max_queued_bytes, size_t *max_queued_messages) {
  SSEWS_GUARD_BEGIN
  GET_ENGINE(e, ep);
  sw::ChannelInfo info;
  sw::Status st = e->role().channel_info(channel, false, info);
  if (st.failed()) return status_to_rc(st);
  if (subscribers) *subscribers = info.subscribers;
  if (max_queued_bytes) *max_queued_bytes = info.max_queued_bytes;
  if (max_queued_messages) *max_queued_messages = info.max_queued_messages;
  return status_to_rc(st);
  SSEWS_GUARD_END
}

SSEWS_API int ssews_channel_conns(ssews *ep, const char *channel, ssews_conn *out, size_t cap,
                                  size_t *count) {
  SSEWS_GUARD_BEGIN
  GET_ENGINE(e, ep);
  if (!count) return fail_rc(SSEWS_EINVAL, "count is NULL");
  if (cap && !out) return fail_rc(SSEWS_EINVAL, "out is NULL but cap is not 0");
  sw::ChannelInfo info;
  sw::Status st = e->role().channel_info(channel, true, info);
  if (st.failed()) return status_to_rc(st);
  size_t n = std::min(cap, info.conns.size());
  std::copy(info.conns.begin(), info.conns.begin() + static_cast<std::ptrdiff_t>(n), out);
  *count = info.conns.size();
  return status_to_rc(st);
  SSEWS_GUARD_END
}

}  // extern "C"

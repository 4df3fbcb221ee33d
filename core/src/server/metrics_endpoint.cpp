// The server's figures: ssews_stats (any thread, answered on the service
// thread) and `GET <metrics_path>` in Prometheus' text format, on the
// server's own port, optionally behind a bearer token (metrics_token).
// Counters are counted where things happen (small hooks elsewhere); gauges
// are measured here when asked, so idle connections cost nothing.
#include <libwebsockets.h>
#include <time.h>

#include <algorithm>

#include "engine.h"
#include "lws_util.h"
#include "secret.h"
#include "server/server_role.h"
#include "sync_call.h"

namespace sw {

void ServerRole::snapshot(Metrics &out) {
  out = m_;
  size_t ws = 0, sse = 0, total = 0, largest = 0;
  for (const auto &kv : conns_) {
    const Conn &c = kv.second;
    if (!c.open_reported || !c.established) continue;  // handshakes still in progress are not open yet
    (c.proto == Proto::Ws ? ws : sse)++;
    size_t b = buffered_bytes(&c);
    total += b;
    largest = std::max(largest, b);
  }
  out.v[kMConnWs] = static_cast<double>(ws);
  out.v[kMConnSse] = static_cast<double>(sse);
  out.v[kMQueuedBytes] = static_cast<double>(total);
  out.v[kMQueueMaxBytes] = static_cast<double>(largest);
  out.v[kMHistory] = static_cast<double>(hub_.history_size());
  out.v[kMChannels] = static_cast<double>(hub_.channel_count());
  // The service thread's CPU time: what the loop spent working, not waiting.
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  out.v[kMLoopBusy] = static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) / 1e9;
  if (broker_) {
    RedisBroker::Figures f = broker_->figures();
    out.v[kMBrokerUp] = f.up ? 1 : 0;
    out.v[kMBrokerPendingBytes] = static_cast<double>(f.pending_bytes);
    out.v[kMBrokerLag] = f.lag_seconds;
    out.v[kMBrokerReceived] = static_cast<double>(f.received);
    out.v[kMBrokerDisconnects] = static_cast<double>(f.disconnects);
  }
}

void ServerRole::refused(unsigned status) {
  m_.add(refusal_reason(status, e_.closing()));
}

Status ServerRole::stats(Metrics &out) {
  return sync_call(e_, [this, &out] { snapshot(out); });
}

bool ServerRole::is_metrics_request(int method, const char *path) const {
  return (method == LWSHUMETH_GET || method == LWSHUMETH_HEAD) && !opts().metrics_path.empty() && path &&
         opts().metrics_path == path;
}

int ServerRole::metrics_answer(lws *wsi) {
  if (!opts().metrics_token.empty() &&
      !bearer_matches(lws_header(wsi, WSI_TOKEN_HTTP_AUTHORIZATION), opts().metrics_token))
    return http_body(wsi, HTTP_STATUS_UNAUTHORIZED, "text/plain", "missing or wrong bearer token\n");
  Metrics m;
  snapshot(m);
  return http_body(wsi, HTTP_STATUS_OK, "text/plain; version=0.0.4; charset=utf-8", render_prometheus(m));
}

}  // namespace sw

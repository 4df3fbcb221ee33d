// The server's counters and gauges, by name: one table (kMetricTable) gives
// each figure its flat name (what ssews_stats and the bindings report), its
// Prometheus family and label, its type and help text. The figures live in a
// plain array touched only on the service thread; gauges are filled in when
// a snapshot is taken. render_prometheus is pure: a snapshot in, the text
// exposition format (version 0.0.4) out, every family with its # HELP and
// # TYPE lines whether or not anything happened yet.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>

namespace sw {

enum MetricId : int {
  kMConnWs,
  kMConnSse,
  kMAcceptWs,
  kMAcceptSse,
  kMRefuseAuth,
  kMRefuseOrigin,
  kMRefuseLimit,
  kMRefuseBadRequest,
  kMRefuseApp,
  kMRefuseClosing,
  kMPublished,
  kMDeliverWs,
  kMDeliverSse,
  kMSlowDrops,
  kMSlowCloses,
  kMQueuedBytes,
  kMQueueMaxBytes,
  kMResumeComplete,
  kMResumeGap,
  kMHistory,
  kMChannels,
  kMPingsSent,
  kMPongTimeouts,
  kMDrainEvents,
  kMLoopBusy,
  kMBrokerUp,
  kMBrokerPendingBytes,
  kMBrokerLag,
  kMBrokerReceived,
  kMBrokerDisconnects,
  kMetricCount
};

struct MetricInfo {
  const char *name;    // flat name: "connections_websocket"
  const char *family;  // Prometheus family: "ssews_connections"
  const char *label;   // label name, or nullptr
  const char *label_value;
  bool counter;  // else a gauge
  const char *help;
};

extern const MetricInfo kMetricTable[kMetricCount];

// The figures, indexed by MetricId. Counters only grow; gauges are set when
// a snapshot is taken (ServerRole::snapshot).
struct Metrics {
  double v[kMetricCount] = {};
  void add(MetricId id, double n = 1) { v[id] += n; }
};

// The handshake-refusal reason a refused request counts under: "limit" for a
// 503 (max_connections, too many heads) or a 429 (per-address limits),
// "closing" while the server closes, otherwise "bad_request". Refusals by
// access control count as "auth" or "origin" (ServerRole::counted).
MetricId refusal_reason(unsigned status, bool closing);

// The Prometheus text exposition of a snapshot.
std::string render_prometheus(const Metrics &m);

}  // namespace sw

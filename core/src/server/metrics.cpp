// The metric table and the Prometheus text renderer (pure).
#include "server/metrics.h"

#include <cmath>
#include <cstdio>

namespace sw {

// clang-format off
const MetricInfo kMetricTable[kMetricCount] = {
    {"connections_websocket", "ssews_connections", "protocol", "websocket", false, "Open connections by protocol."},
    {"connections_sse", "ssews_connections", "protocol", "sse", false, "Open connections by protocol."},
    {"handshakes_accepted_websocket", "ssews_handshakes_accepted_total", "protocol", "websocket", true,
     "Handshakes accepted (WebSocket upgrades, SSE streams) by protocol."},
    {"handshakes_accepted_sse", "ssews_handshakes_accepted_total", "protocol", "sse", true,
     "Handshakes accepted (WebSocket upgrades, SSE streams) by protocol."},
    {"handshakes_refused_auth", "ssews_handshakes_refused_total", "reason", "auth", true,
     "Requests and handshakes refused, by reason."},
    {"handshakes_refused_origin", "ssews_handshakes_refused_total", "reason", "origin", true,
     "Requests and handshakes refused, by reason."},
    {"handshakes_refused_limit", "ssews_handshakes_refused_total", "reason", "limit", true,
     "Requests and handshakes refused, by reason."},
    {"handshakes_refused_bad_request", "ssews_handshakes_refused_total", "reason", "bad_request", true,
     "Requests and handshakes refused, by reason."},
    {"handshakes_refused_app", "ssews_handshakes_refused_total", "reason", "app", true,
     "Requests and handshakes refused, by reason."},
    {"handshakes_refused_closing", "ssews_handshakes_refused_total", "reason", "closing", true,
     "Requests and handshakes refused, by reason."},
    {"messages_published", "ssews_messages_published_total", nullptr, nullptr, true, "Messages published to channels."},
    {"deliveries_websocket", "ssews_deliveries_total", "protocol", "websocket", true,
     "Messages written to peers, by protocol."},
    {"deliveries_sse", "ssews_deliveries_total", "protocol", "sse", true, "Messages written to peers, by protocol."},
    {"slow_consumer_drops", "ssews_slow_consumer_drops_total", nullptr, nullptr, true,
     "Queued messages dropped by the drop_oldest slow-consumer policy."},
    {"slow_consumer_closes", "ssews_slow_consumer_closes_total", nullptr, nullptr, true,
     "Connections closed by the close slow-consumer policy."},
    {"queued_bytes", "ssews_queued_bytes", nullptr, nullptr, false,
     "Bytes queued for peers and not yet written, all connections together."},
    {"queue_max_bytes", "ssews_queue_max_bytes", nullptr, nullptr, false,
     "Bytes queued for the connection with the largest queue."},
    {"resumes_complete", "ssews_resumes_total", "result", "complete", true,
     "Resumes served (Last-Event-ID), complete or with a gap."},
    {"resumes_gap", "ssews_resumes_total", "result", "gap", true,
     "Resumes served (Last-Event-ID), complete or with a gap."},
    {"history_messages", "ssews_history_messages", nullptr, nullptr, false, "Messages held in channel history."},
    {"channels", "ssews_channels", nullptr, nullptr, false, "Channels with subscribers or history."},
    {"pings_sent", "ssews_pings_sent_total", nullptr, nullptr, true, "WebSocket pings sent to silent peers."},
    {"pong_timeouts", "ssews_pong_timeouts_total", nullptr, nullptr, true,
     "WebSocket peers dropped for a missing pong."},
    {"drain_events", "ssews_drain_events_total", nullptr, nullptr, true,
     "Connections whose queue fell below send_low_water after passing send_high_water."},
    {"loop_busy_seconds", "ssews_loop_busy_seconds_total", nullptr, nullptr, true,
     "CPU time of the service thread, in seconds."},
    {"broker_up", "ssews_broker_up", nullptr, nullptr, false,
     "1 while the Redis broker (option broker) is reachable, else 0 (0 without a broker)."},
    {"broker_pending_bytes", "ssews_broker_pending_bytes", nullptr, nullptr, false,
     "Publishes queued for Redis and not yet answered, in bytes."},
    {"broker_lag_seconds", "ssews_broker_lag_seconds", nullptr, nullptr, false,
     "The last message from Redis: from Redis' clock when it was published to its arrival here."},
    {"broker_messages_received", "ssews_broker_messages_received_total", nullptr, nullptr, true,
     "Messages received from Redis pub/sub for this node's subscribers."},
    {"broker_disconnects", "ssews_broker_disconnects_total", nullptr, nullptr, true,
     "Times the link to Redis was lost or could not be made."},
};
// clang-format on

MetricId refusal_reason(unsigned status, bool closing) {
  if (closing) return kMRefuseClosing;
  return status == 503 || status == 429 ? kMRefuseLimit : kMRefuseBadRequest;
}

namespace {
void append_value(std::string &out, double v) {
  char buf[64];
  if (std::floor(v) == v && std::fabs(v) < 1e15)
    snprintf(buf, sizeof buf, "%.0f", v);
  else
    snprintf(buf, sizeof buf, "%.9g", v);
  out += buf;
}
}  // namespace

std::string render_prometheus(const Metrics &m) {
  std::string out;
  out.reserve(4096);
  const char *family = nullptr;
  for (int i = 0; i < kMetricCount; i++) {
    const MetricInfo &r = kMetricTable[i];
    // Rows of one family are adjacent in the table: one HELP/TYPE header each.
    if (!family || std::string(family) != r.family) {
      family = r.family;
      out += "# HELP ";
      out += r.family;
      out += ' ';
      out += r.help;
      out += "\n# TYPE ";
      out += r.family;
      out += r.counter ? " counter\n" : " gauge\n";
    }
    out += r.family;
    if (r.label) {
      out += '{';
      out += r.label;
      out += "=\"";
      out += r.label_value;  // table values: no quote or backslash to escape
      out += "\"}";
    }
    out += ' ';
    append_value(out, m.v[i]);
    out += '\n';
  }
  return out;
}

}  // namespace sw

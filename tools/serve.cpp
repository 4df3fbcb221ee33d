// `ssews serve`: a hub on the library (chat-room semantics, or --echo).
// It uses only the public C API, as any application would.
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <mutex>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

#include "access_log.h"
#include "cli.h"
#include "config_file.h"
#include "ssews.h"

namespace {

const char kServeUsage[] =
    "usage: ssews serve [--host H] [--port P] [--static DIR] [--history N] [--heartbeat S]\n"
    "                   [--tls-cert F --tls-key F] [--echo] [--publish-token T] [--broker URL]\n"
    "                   [--max-connections-per-ip N] [--handshake-rate-per-ip N]\n"
    "                   [--jwt-secret-file F | --jwt-public-key F] [--allowed-origin O]...\n"
    "                   [--anonymous-subscribe PATTERNS]\n"
    "                   [--metrics [PATH]] [--metrics-token T] [--drain-timeout S]\n"
    "                   [--access-log FILE|-] [--config FILE]\n"
    "                   [--option key=value]...\n"
    "\n"
    "  Serves WebSocket and Server-Sent Events on one port (default 127.0.0.1:8080).\n"
    "  Text and binary messages a WebSocket client sends are published to the channels it\n"
    "  is subscribed to (the `channel` query parameters, else its path): a chat room.\n"
    "  --echo sends each WebSocket message back to its sender instead, unchanged.\n"
    "  --publish-token T lets `POST /publish?channel=C[&event=E][&id=I]` with\n"
    "  `Authorization: Bearer T` publish its body (any program can feed the hub).\n"
    "  --max-connections-per-ip N (default 256) and --handshake-rate-per-ip N (new connections a\n"
    "  second, default 100) bound each client address: beyond them 429 with Retry-After. Behind a\n"
    "  reverse proxy every client has the proxy's address: 0 turns them off.\n"
    "  --broker URL shares channels and history with other nodes through Redis\n"
    "  (redis://[user:password@]host[:port][/db] or unix:path; see docs/scaling.md).\n"
    "  --jwt-secret-file F (HS256/384/512 secret in a file) or --jwt-public-key F (PEM: RS*, PS*, ES*):\n"
    "  every connection needs a token (Authorization: Bearer, ?authorization=, or a cookie when\n"
    "  --allowed-origin is given) whose `ssews` claim lists the channels it may subscribe to and\n"
    "  publish into; a WebSocket message into a channel it may not publish to closes it (1008).\n"
    "  --allowed-origin O (repeatable, or *) lets pages from O connect; others get 403.\n"
    "  --anonymous-subscribe P: channel patterns (comma-separated) anyone may read.\n"
    "  See docs/security.md.\n"
    "  --metrics [PATH] serves Prometheus metrics at PATH (default /metrics) on the same port;\n"
    "  --metrics-token T asks scrapers for `Authorization: Bearer T`.\n"
    "  --drain-timeout S: on SIGTERM/SIGINT stop listening, then spread the goodbyes (WebSocket\n"
    "  close 1012, SSE `retry:` and end of stream) over S seconds, and exit 0.\n"
    "  --access-log FILE (- for stdout) appends one JSON object a line per finished connection or\n"
    "  HTTP request (time, peer, protocol, method, path without its query, status or close_code,\n"
    "  duration_ms, bytes and messages each way).\n"
    "  --config FILE: options as `key = value` lines. SIGHUP reads it again and applies what may\n"
    "  change while running (the tokens, jwt_* keys and claims, allowed_origins,\n"
    "  anonymous_subscribe, log_level), opens the access log again (after a rotation), and says\n"
    "  what it reloaded.\n"
    "  --option passes any endpoint option (see docs/options.md), e.g. max_queue_bytes=65536.\n";

struct Hub {
  bool echo = false;
  // Channels each connection subscribes to; only the service thread touches
  // it. Lists are interned: thousands of subscribers of the same channels
  // share one list instead of holding a copy each.
  std::set<std::vector<std::string>> lists;
  std::unordered_map<ssews_conn, const std::vector<std::string> *> channels;
  AccessLog log;  // --access-log
};

void on_event(ssews *ep, const ssews_event *ev, void *user) {
  Hub *hub = static_cast<Hub *>(user);
  ssews_conn conn = ssews_event_conn(ev);
  switch (ssews_event_kind(ev)) {
    case SSEWS_EV_OPEN: {
      std::vector<std::string> chans;
      for (size_t i = 0; i < ssews_event_channel_count(ev); i++)
        chans.push_back(ssews_event_channel_at(ev, i));
      hub->channels[conn] = &*hub->lists.insert(std::move(chans)).first;
      if (hub->log.on()) hub->log.opened(ev);
      break;
    }
    case SSEWS_EV_MESSAGE: {
      size_t len;
      const void *data = ssews_event_data(ev, &len);
      int flags = ssews_event_is_binary(ev) ? SSEWS_BINARY : SSEWS_TEXT;
      int rc = SSEWS_OK;
      if (hub->echo) {
        rc = ssews_send(ep, conn, data, len, flags, NULL, NULL);
      } else {
        auto it = hub->channels.find(conn);
        if (it != hub->channels.end()) {
          // All of its channels or none: a token that may not publish into
          // one of them gets the connection closed (1008) and nothing sent.
          const std::string *denied = nullptr;
          for (const auto &ch : *it->second)
            if (!denied && ssews_may_publish(ep, conn, ch.c_str()) == SSEWS_EACCES) denied = &ch;
          if (denied) {
            rc = ssews_publish_as(ep, conn, denied->c_str(), data, len, flags, NULL, NULL);
          } else {
            for (const auto &ch : *it->second) {
              rc = ssews_publish(ep, ch.c_str(), data, len, flags, NULL, NULL);
              if (rc != SSEWS_OK) break;
            }
          }
        }
      }
      if (rc != SSEWS_OK)
        fprintf(stderr, "ssews: conn %llu: %s\n", (unsigned long long)conn, ssews_last_error());
      break;
    }
    case SSEWS_EV_CLOSE:
      hub->channels.erase(conn);
      if (hub->log.on()) hub->log.closed(ev);
      break;
    case SSEWS_EV_REQUEST:
      if (hub->log.on()) hub->log.request(ev);
      break;
    case SSEWS_EV_ERROR:
      if (conn == 0)  // about the endpoint (the broker), not a connection
        fprintf(stderr, "ssews: %s\n", ssews_event_reason(ev));
      else
        fprintf(stderr, "ssews: conn %llu: %s\n", (unsigned long long)conn, ssews_event_reason(ev));
      break;
    default:
      break;
  }
}

// SIGHUP: what can change without dropping a connection, said on stdout.
void reload(ssews *ep, Hub &hub, const std::string &config, ConfigPairs &applied) {
  std::string err;
  if (hub.log.on()) {
    if (hub.log.reopen(err))
      printf("ssews serve: SIGHUP: reopened the access log\n");
    else
      printf("ssews serve: SIGHUP: %s\n", err.c_str());
  }
  ConfigPairs now;
  if (config.empty()) {
    if (!hub.log.on()) printf("ssews serve: SIGHUP: nothing to reload (no --config, no --access-log file)\n");
  } else if (!read_config(config, now, err)) {
    printf("ssews serve: SIGHUP: %s (nothing changed)\n", err.c_str());
  } else {
    std::vector<std::string> done;
    for (const auto &p : now) {
      bool same = false;
      for (auto &a : applied)
        if (a.first == p.first) same = a.second == p.second;
      if (same) continue;
      if (ssews_set_option(ep, p.first.c_str(), p.second.c_str()) != SSEWS_OK) {
        printf("ssews serve: SIGHUP: %s\n", ssews_last_error());
        continue;
      }
      done.push_back(p.first);
      bool found = false;
      for (auto &a : applied)
        if (a.first == p.first) a.second = p.second, found = true;
      if (!found) applied.push_back(p);
    }
    // Commands run in order: once a later query is answered, the changes are in effect.
    size_t n = 0;
    ssews_stats(ep, nullptr, nullptr, 0, &n);
    for (const auto &k : done) printf("ssews serve: SIGHUP: reloaded %s\n", k.c_str());
  }
  fflush(stdout);
}

}  // namespace

int run_serve(int argc, char **argv) {
  std::vector<std::string> kv;  // key, value, ...
  auto set = [&kv](const std::string &k, const std::string &v) {
    kv.push_back(k);
    kv.push_back(v);
  };
  std::string host = "127.0.0.1", port = "8080";
  bool tls = false;
  std::string origins, anonymous;  // repeatable flags, joined into one list option
  Hub hub;
  std::string config;   // --config FILE
  ConfigPairs applied;  // its options as last applied
  for (int i = 0; i < argc; i++) {
    std::string a = argv[i];
    auto value = [&](const char *name) -> std::string {
      if (i + 1 >= argc) {
        fprintf(stderr, "ssews serve: %s needs a value\n%s", name, kServeUsage);
        exit(2);
      }
      return argv[++i];
    };
    if (a == "--host")
      host = value("--host");
    else if (a == "--port")
      port = value("--port");
    else if (a == "--static")
      set("static_dir", value("--static"));
    else if (a == "--history")
      set("history", value("--history"));
    else if (a == "--heartbeat")
      set("heartbeat", value("--heartbeat"));
    else if (a == "--tls-cert")
      set("tls_cert", value("--tls-cert")), tls = true;
    else if (a == "--tls-key")
      set("tls_key", value("--tls-key"));
    else if (a == "--echo")
      hub.echo = true;
    else if (a == "--broker")
      set("broker", value("--broker"));
    else if (a == "--publish-token")
      set("publish_token", value("--publish-token"));
    else if (a == "--max-connections-per-ip")
      set("max_connections_per_ip", value("--max-connections-per-ip"));
    else if (a == "--handshake-rate-per-ip")
      set("handshake_rate_per_ip", value("--handshake-rate-per-ip"));
    else if (a == "--jwt-secret-file")
      set("jwt_secret", "@" + value("--jwt-secret-file"));
    else if (a == "--jwt-public-key")
      set("jwt_public_key", value("--jwt-public-key"));
    else if (a == "--allowed-origin")
      origins += (origins.empty() ? "" : ",") + value("--allowed-origin");
    else if (a == "--anonymous-subscribe")
      anonymous += (anonymous.empty() ? "" : ",") + value("--anonymous-subscribe");
    else if (a == "--metrics")
      // PATH is optional: the next argument when it is a path.
      set("metrics_path", i + 1 < argc && argv[i + 1][0] == '/' ? argv[++i] : "/metrics");
    else if (a == "--metrics-token")
      set("metrics_token", value("--metrics-token"));
    else if (a == "--access-log") {
      std::string err;
      if (!hub.log.open(value("--access-log"), err)) {
        fprintf(stderr, "ssews serve: %s\n", err.c_str());
        return 1;
      }
    } else if (a == "--config") {
      config = value("--config");
      std::string err;
      if (!read_config(config, applied, err)) {
        fprintf(stderr, "ssews serve: %s\n", err.c_str());
        return 1;
      }
      for (const auto &p : applied) set(p.first, p.second);
    } else if (a == "--drain-timeout")
      set("drain_timeout", value("--drain-timeout"));
    else if (a == "--option") {
      std::string o = value("--option");
      size_t eq = o.find('=');
      if (eq == std::string::npos || eq == 0) {
        fprintf(stderr, "ssews serve: --option needs key=value, got '%s'\n", o.c_str());
        return 2;
      }
      set(o.substr(0, eq), o.substr(eq + 1));
    } else if (a == "-h" || a == "--help") {
      fputs(kServeUsage, stdout);
      return 0;
    } else {
      fprintf(stderr, "ssews serve: unknown argument '%s'\n%s", a.c_str(), kServeUsage);
      return 2;
    }
  }
  // The access log has a line per request as well as per connection.
  if (hub.log.on()) set("request_events", "true");
  if (!origins.empty()) set("allowed_origins", origins);
  if (!anonymous.empty()) set("anonymous_subscribe", anonymous);
  set("host", host);
  set("port", port);
  std::vector<const char *> opts = option_array(kv);

  sigset_t sigs = block_exit_signals();
  // SIGHUP reloads what can change without a restart (block it before the
  // service thread starts, like the exit signals).
  sigaddset(&sigs, SIGHUP);
  pthread_sigmask(SIG_BLOCK, &sigs, nullptr);

  ssews *ep = nullptr;
  if (ssews_open(&ep, opts.data(), on_event, &hub) != SSEWS_OK) {
    fprintf(stderr, "ssews serve: %s\n", ssews_last_error());
    return 1;
  }
  int bound = 0;
  ssews_port(ep, &bound);
  std::string shown = host.find(':') != std::string::npos ? "[" + host + "]" : host;
  printf("ssews serving on %s://%s:%d/ (WebSocket %s://%s:%d/)\n", tls ? "https" : "http", shown.c_str(),
         bound, tls ? "wss" : "ws", shown.c_str(), bound);
  fflush(stdout);

  int sig = 0;
  while (sigwait(&sigs, &sig) == 0 && sig == SIGHUP) reload(ep, hub, config, applied);
  fprintf(stderr, "ssews serve: %s, closing\n", sig == SIGINT ? "SIGINT" : "SIGTERM");
  ssews_close(&ep);
  return 0;
}

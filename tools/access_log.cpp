#include "access_log.h"

#include <errno.h>
#include <string.h>
#include <time.h>

#include "v1_codec.h"

AccessLog::~AccessLog() {
  if (f_ && f_ != stdout) fclose(f_);
}

bool AccessLog::open(const std::string &where, std::string &err) {
  where_ = where;
  return reopen(err);
}

bool AccessLog::reopen(std::string &err) {
  std::lock_guard<std::mutex> lk(mu_);
  if (where_ == "-") {
    f_ = stdout;
    return true;
  }
  FILE *f = fopen(where_.c_str(), "a");
  if (!f) {
    err = "cannot open access log '" + where_ + "': " + strerror(errno);
    return false;
  }
  if (f_) fclose(f_);
  f_ = f;
  return true;
}

void AccessLog::opened(const ssews_event *ev) {
  const char *peer = ssews_event_peer(ev), *path = ssews_event_path(ev);
  conns_[ssews_event_conn(ev)] = Entry{peer ? peer : "", path ? path : ""};
}

void AccessLog::closed(const ssews_event *ev) {
  auto it = conns_.find(ssews_event_conn(ev));
  if (it == conns_.end()) return;
  Entry e = std::move(it->second);
  conns_.erase(it);
  bool ws = ssews_event_protocol(ev) == SSEWS_PROTO_WS;
  // An SSE stream was answered 200; a WebSocket ends with a close code.
  write(e.peer, ws ? "websocket" : "sse", nullptr, e.path, ws ? "close_code" : "status",
        ws ? ssews_event_code(ev) : 200, ev, true);
}

void AccessLog::request(const ssews_event *ev) {
  const char *peer = ssews_event_peer(ev), *path = ssews_event_path(ev), *method = ssews_event_name(ev);
  // ssews_event_query is never read: it may carry a token.
  write(peer ? peer : "", "http", method ? method : "", path ? path : "", "status", ssews_event_code(ev), ev,
        false);
}

void AccessLog::write(const std::string &peer, const char *protocol, const char *method,
                      const std::string &path, const char *code_name, int code, const ssews_event *ev,
                      bool messages) {
  timespec ts{};
  clock_gettime(CLOCK_REALTIME, &ts);
  tm utc{};
  gmtime_r(&ts.tv_sec, &utc);
  char when[40];
  size_t n = strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%S", &utc);
  snprintf(when + n, sizeof when - n, ".%03ldZ", ts.tv_nsec / 1000000);
  std::string line = "{\"time\":\"" + std::string(when) + "\",\"peer\":";
  sw::json_quote(line, peer);
  line += ",\"protocol\":\"" + std::string(protocol) + "\"";
  if (method) {
    line += ",\"method\":";
    sw::json_quote(line, method);
  }
  line += ",\"path\":";
  sw::json_quote(line, path);
  line += ",\"" + std::string(code_name) + "\":" + std::to_string(code);
  static const char *const figs[] = {"duration_ms", "bytes_in", "bytes_out", "messages_in", "messages_out"};
  for (const char *name : figs) {
    double v = 0;
    if (!messages && !strncmp(name, "messages", 8)) break;
    ssews_event_stat(ev, name, &v);
    char num[48];
    snprintf(num, sizeof num, v == static_cast<double>(static_cast<long long>(v)) ? "%.0f" : "%.3f", v);
    line += ",\"" + std::string(name) + "\":" + num;
  }
  line += "}\n";
  std::lock_guard<std::mutex> lk(mu_);
  if (!f_) return;
  fputs(line.c_str(), f_);
  fflush(f_);
}

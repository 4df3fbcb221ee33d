#include "log.h"

#include <libwebsockets.h>

#include <cstring>
#include <mutex>
#include <unordered_map>

#include "engine.h"

namespace sw {

namespace {

std::mutex g_mu;
// Leaked on purpose: endpoints closed during static destruction still unregister.
auto &g_levels = *new std::unordered_map<Engine *, int>();
thread_local Engine *t_engine = nullptr;
int g_union = kLogError;  // what lws is set to; with no endpoint, lws' own default

int lws_mask(int level) {
  static const int masks[] = {0, LLL_ERR, LLL_ERR | LLL_WARN, LLL_ERR | LLL_WARN | LLL_NOTICE,
                              LLL_ERR | LLL_WARN | LLL_NOTICE | LLL_INFO};
  return masks[level < 0 ? 0 : level > kLogInfo ? kLogInfo : level];
}

int level_of_lws(int lll) {
  if (lll & LLL_ERR) return kLogError;
  if (lll & LLL_WARN) return kLogWarn;
  if (lll & LLL_NOTICE) return kLogNotice;
  return kLogInfo;
}

// The callback gets the message without lws' timestamp (if a build adds one),
// on one line. lws 4.1 formats every line into one static buffer for the
// whole process, so a line being emitted can be overwritten by another
// thread's: copy it at once (the window shrinks; it cannot close from
// outside lws), and never hand on a line break from a mixed-up line.
std::string one_line(const char *line) {
  char copy[512];
  size_t n = strnlen(line, sizeof copy - 1);
  memcpy(copy, line, n);
  copy[n] = '\0';
  const char *p = copy;
  if (*p == '[') {
    const char *close = strchr(p, ']');
    if (close && close[1] == ' ' && close[2] && close[3] == ':' && close[4] == ' ') p = close + 5;
  }
  std::string msg(p);
  while (!msg.empty() && (msg.back() == '\n' || msg.back() == '\r')) msg.pop_back();
  for (char &c : msg)
    if (c == '\n' || c == '\r') c = ' ';
  return msg;
}

void emit(int lll, const char *line) {
  int level = level_of_lws(lll);
  if (Engine *e = t_engine) {
    e->log_line(level, one_line(line), lll, line);
    return;
  }
  lwsl_emit_stderr(lll, line);  // a thread no endpoint claims: the union's level applies
}

void apply_union() {
  int u = kLogNone;
  for (auto &kv : g_levels) u = kv.second > u ? kv.second : u;
  if (g_levels.empty()) u = kLogError;
  g_union = u;
  lws_set_log_level(lws_mask(u), emit);
}

}  // namespace

int log_level_named(const std::string &name) {
  if (name == "none") return kLogNone;
  if (name == "warn") return kLogWarn;
  if (name == "notice") return kLogNotice;
  if (name == "info") return kLogInfo;
  return kLogError;
}

const char *log_level_name(int level) {
  switch (level) {
    case kLogNone:
      return "none";
    case kLogError:
      return "error";
    case kLogWarn:
      return "warn";
    case kLogNotice:
      return "notice";
    case kLogInfo:
      return "info";
    default:
      return "unknown";
  }
}

void log_register(Engine *e, int level) {
  std::lock_guard<std::mutex> lk(g_mu);
  g_levels[e] = level;
  apply_union();
}

void log_unregister(Engine *e) {
  std::lock_guard<std::mutex> lk(g_mu);
  if (g_levels.erase(e)) apply_union();
}

LogScope::LogScope(Engine *e) : prev_(t_engine) {
  t_engine = e;
}

LogScope::~LogScope() {
  t_engine = prev_;
}

}  // namespace sw

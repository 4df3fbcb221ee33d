// Logging per endpoint. libwebsockets 4.1 has one log level and one emitter
// for the whole process, so without care the last endpoint opened would set
// the level for all. Here every endpoint registers its own level; lws gets the
// union, and each line lws emits goes to the endpoint whose thread emitted it
// (its service thread, or the thread opening it), filtered by that
// endpoint's level, once: to its log callback, or to stderr without one.
#pragma once
#include <string>

namespace sw {

class Engine;

// Levels as the ABI numbers them (SSEWS_LOG_*); 0 = none.
enum LogLevel : int { kLogNone = 0, kLogError = 1, kLogWarn = 2, kLogNotice = 3, kLogInfo = 4 };
int log_level_named(const std::string &name);  // the log_level option's value
const char *log_level_name(int level);         // and back: "error"...; "unknown"

void log_register(Engine *e, int level);
void log_unregister(Engine *e);

// Marks the current thread as working for e while it lives: lws lines it
// emits are e's.
class LogScope {
 public:
  explicit LogScope(Engine *e);
  ~LogScope();
  LogScope(const LogScope &) = delete;
  LogScope &operator=(const LogScope &) = delete;

 private:
  Engine *prev_;
};

}  // namespace sw

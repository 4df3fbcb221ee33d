// `ssews serve --access-log FILE|-`: one JSON object a line per finished
// connection or request, written when it finishes (time, peer, protocol,
// path, status or close_code, duration, bytes and messages each way), from
// the open and close events, and the request events (request_events option)
// for requests that did not become a stream (protocol "http", with the
// method). Never a token: the path is logged without its query.
#pragma once
#include <stdio.h>

#include <mutex>
#include <string>
#include <unordered_map>

#include "ssews.h"

class AccessLog {
 public:
  ~AccessLog();
  // "-" is stdout; a file is appended to. False with err on failure.
  bool open(const std::string &where, std::string &err);
  // Opens the file again (after logrotate moved it): SIGHUP. False with err.
  bool reopen(std::string &err);
  bool on() const { return f_ != nullptr; }
  void opened(const ssews_event *ev);  // the service thread
  void closed(const ssews_event *ev);
  void request(const ssews_event *ev);  // SSEWS_EV_REQUEST

 private:
  void write(const std::string &peer, const char *protocol, const char *method, const std::string &path,
             const char *code_name, int code, const ssews_event *ev, bool messages);
  struct Entry {
    std::string peer, path;
  };
  std::mutex mu_;  // reopen() comes from the signal-waiting thread
  FILE *f_ = nullptr;
  std::string where_;
  std::unordered_map<ssews_conn, Entry> conns_;
};

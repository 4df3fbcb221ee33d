// `ssews connect URL`: a client that prints what it receives (plain, or one
// JSON object a line with --json) and sends the lines it reads on stdin.
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <condition_variable>
#include <iostream>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "base64.h"
#include "cli.h"
#include "ssews.h"
#include "v1_codec.h"

namespace {

const char kConnectUsage[] =
    "usage: ssews connect URL [--header 'K: V']... [--json] [--no-reconnect] [--insecure]\n"
    "                         [--ca-file F] [--method M] [--data BODY] [--option key=value]...\n"
    "\n"
    "  URL is ws:// or wss:// (WebSocket) or http:// or https:// (Server-Sent Events).\n"
    "  --method and --data start an SSE stream with another method and a body (--data alone\n"
    "  means POST), e.g. --data '{\"q\":1}' --header 'Content-Type: application/json'; a\n"
    "  --header replaces a default of the same name. A POST stream is not repeated on a\n"
    "  reconnect unless --option reconnect_non_idempotent=true.\n"
    "  Prints each message's data on its own line (binary as base64); with --json one\n"
    "  object a line per event: open, message, reconnecting, error, close. Lines read on\n"
    "  stdin are sent as text messages (WebSocket). Exits 0 on a normal end, 1 on a failure\n"
    "  it will not retry, 2 on bad usage.\n";

struct State {
  bool json = false;
  std::mutex mu;
  std::condition_variable cv;
  bool done = false;
  int exit_code = 0;
};

// One line to stdout at a time; flushed so pipes see each event at once.
void emit_line(const std::string &line) {
  fwrite(line.data(), 1, line.size(), stdout);
  fputc('\n', stdout);
  fflush(stdout);
}

void finish(State *st, int code) {
  std::lock_guard<std::mutex> lk(st->mu);
  if (!st->done) {
    st->done = true;
    st->exit_code = code;
  }
  st->cv.notify_all();
}

void on_event(ssews *, const ssews_event *ev, void *user) {
  State *st = static_cast<State *>(user);
  std::string out;
  switch (ssews_event_kind(ev)) {
    case SSEWS_EV_OPEN:
      if (st->json) emit_line("{\"type\":\"open\"}");
      break;
    case SSEWS_EV_MESSAGE: {
      size_t len;
      const char *data = static_cast<const char *>(ssews_event_data(ev, &len));
      std::string_view body(data, len);
      bool binary = ssews_event_is_binary(ev);
      if (!st->json) {
        if (binary)
          sw::base64_encode(out, body);
        else
          out.assign(body);
        emit_line(out);
        break;
      }
      const char *name = ssews_event_name(ev);
      const char *id = ssews_event_id(ev);
      out = "{\"type\":\"message\",\"event\":";
      sw::json_quote(out, name ? name : "message");
      if (binary) {
        std::string b64;
        sw::base64_encode(b64, body);
        out += ",\"data_base64\":";
        sw::json_quote(out, b64);
      } else {
        out += ",\"data\":";
        sw::json_quote(out, body);
      }
      out += ",\"id\":";
      sw::json_quote(out, id ? id : "");
      out += '}';
      emit_line(out);
      break;
    }
    case SSEWS_EV_RECONNECTING:
      if (st->json)
        emit_line("{\"type\":\"reconnecting\",\"attempt\":" + std::to_string(ssews_event_code(ev)) +
                  ",\"delay_ms\":" + std::to_string(ssews_event_delay_ms(ev)) + "}");
      else
        fprintf(stderr, "ssews connect: reconnecting in %lld ms (attempt %d)\n",
                (long long)ssews_event_delay_ms(ev), ssews_event_code(ev));
      break;
    case SSEWS_EV_ERROR:
      if (st->json) {
        out = "{\"type\":\"error\",\"message\":";
        sw::json_quote(out, ssews_event_reason(ev));
        out += '}';
        emit_line(out);
      } else {
        fprintf(stderr, "ssews connect: %s\n", ssews_event_reason(ev));
      }
      break;
    case SSEWS_EV_CLOSE: {
      int code = ssews_event_code(ev);
      if (st->json) {
        out = "{\"type\":\"close\",\"code\":" + std::to_string(code) + ",\"reason\":";
        sw::json_quote(out, ssews_event_reason(ev));
        out += '}';
        emit_line(out);
      } else if (code != 1000) {
        fprintf(stderr, "ssews connect: closed (%d) %s\n", code, ssews_event_reason(ev));
      }
      finish(st, code == 1000 ? 0 : 1);
      break;
    }
    default:
      break;
  }
}

}  // namespace

int run_connect(int argc, char **argv) {
  std::vector<std::string> kv;
  auto set = [&kv](const std::string &k, const std::string &v) {
    kv.push_back(k);
    kv.push_back(v);
  };
  State st;
  std::string url, method;
  bool has_body = false;
  for (int i = 0; i < argc; i++) {
    std::string a = argv[i];
    auto value = [&](const char *name) -> std::string {
      if (i + 1 >= argc) {
        fprintf(stderr, "ssews connect: %s needs a value\n%s", name, kConnectUsage);
        exit(2);
      }
      return argv[++i];
    };
    if (a == "--header" || a == "-H")
      set("header", value("--header"));
    else if (a == "--method" || a == "-X")
      method = value("--method");
    else if (a == "--data" || a == "-d") {
      set("body", value("--data"));
      has_body = true;
    } else if (a == "--json")
      st.json = true;
    else if (a == "--no-reconnect")
      set("reconnect", "false");
    else if (a == "--insecure" || a == "-k")
      set("insecure", "true");
    else if (a == "--ca-file")
      set("ca_file", value("--ca-file"));
    else if (a == "--option") {
      std::string o = value("--option");
      size_t eq = o.find('=');
      if (eq == std::string::npos || eq == 0) {
        fprintf(stderr, "ssews connect: --option needs key=value, got '%s'\n", o.c_str());
        return 2;
      }
      set(o.substr(0, eq), o.substr(eq + 1));
    } else if (a == "-h" || a == "--help") {
      fputs(kConnectUsage, stdout);
      return 0;
    } else if (!a.empty() && a[0] == '-') {
      fprintf(stderr, "ssews connect: unknown option '%s'\n%s", a.c_str(), kConnectUsage);
      return 2;
    } else if (url.empty()) {
      url = a;
    } else {
      fprintf(stderr, "ssews connect: more than one URL ('%s')\n%s", a.c_str(), kConnectUsage);
      return 2;
    }
  }
  if (url.empty()) {
    fprintf(stderr, "ssews connect: no URL\n%s", kConnectUsage);
    return 2;
  }
  set("url", url);
  if (!method.empty() || has_body) set("method", method.empty() ? "POST" : method);  // as curl does
  std::vector<const char *> opts = option_array(kv);

  sigset_t sigs = block_exit_signals();

  ssews *ep = nullptr;
  if (ssews_open(&ep, opts.data(), on_event, &st) != SSEWS_OK) {
    fprintf(stderr, "ssews connect: %s\n", ssews_last_error());
    return 1;
  }
  // Signals end the run gracefully.
  std::thread([&st, sigs]() mutable {
    int sig;
    sigwait(&sigs, &sig);
    finish(&st, 0);
  }).detach();
  // Lines on stdin become text messages (WebSocket); EOF just stops reading.
  bool websocket = url.rfind("ws", 0) == 0 || url.rfind("WS", 0) == 0;
  if (websocket) {
    std::thread([ep, &st]() {
      std::string line;
      while (std::getline(std::cin, line)) {
        if (!line.empty() && line.back() == '\r') line.pop_back();
        int rc = ssews_send(ep, 0, line.data(), line.size(), SSEWS_TEXT, nullptr, nullptr);
        if (rc != SSEWS_OK && rc != SSEWS_ECLOSED) {
          fprintf(stderr, "ssews connect: send: %s\n", ssews_last_error());
          if (rc == SSEWS_EINVAL) continue;
        }
        if (rc == SSEWS_ECLOSED) break;
      }
      (void)st;
    }).detach();
  }
  int code;
  {
    std::unique_lock<std::mutex> lk(st.mu);
    st.cv.wait(lk, [&st] { return st.done; });
    code = st.exit_code;
  }
  ssews_close(&ep);
  fflush(stdout);
  // The stdin reader may still block in read(): leave without joining it.
  _exit(code);
}

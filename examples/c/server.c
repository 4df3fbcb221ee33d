/* A small ssews server: chat over WebSocket, a ticker over SSE.
 *
 *   example_server [--port P] [--seconds N]
 *
 * Browsers and clients connect to ws://127.0.0.1:P/?channel=chat (what one
 * sends, every chat member gets) and http://127.0.0.1:P/?channel=ticks (an
 * SSE stream with one `tick` event a second). Stops on SIGINT/SIGTERM or
 * after N seconds. */
#define _POSIX_C_SOURCE 200809L
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <ssews.h>

static volatile sig_atomic_t stop;
static void on_signal(int sig) {
  (void)sig;
  stop = 1;
}

/* Runs on the service thread: must not block; may call any ssews function. */
static void on_event(ssews *ep, const ssews_event *ev, void *user) {
  (void)user;
  ssews_conn conn = ssews_event_conn(ev);
  switch (ssews_event_kind(ev)) {
    case SSEWS_EV_OPEN:
      printf("open   %llu %s %s?%s\n", (unsigned long long)conn,
             ssews_event_protocol(ev) == SSEWS_PROTO_WS ? "ws " : "sse", ssews_event_path(ev),
             ssews_event_query(ev));
      break;
    case SSEWS_EV_MESSAGE: { /* chat: what a member says goes to the whole channel */
      size_t len;
      const void *data = ssews_event_data(ev, &len);
      if (ssews_publish(ep, "chat", data, len, ssews_event_is_binary(ev) ? SSEWS_BINARY : SSEWS_TEXT, NULL,
                        NULL))
        fprintf(stderr, "publish: %s\n", ssews_last_error());
      break;
    }
    case SSEWS_EV_CLOSE:
      printf("close  %llu code %d\n", (unsigned long long)conn, ssews_event_code(ev));
      break;
    case SSEWS_EV_ERROR:
      fprintf(stderr, "error  %llu %s\n", (unsigned long long)conn, ssews_event_reason(ev));
      break;
  }
  fflush(stdout);
}

int main(int argc, char **argv) {
  const char *port = "8090";
  int seconds = -1;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (!strcmp(argv[i], "--port"))
      port = argv[i + 1];
    else if (!strcmp(argv[i], "--seconds"))
      seconds = atoi(argv[i + 1]);
  }
  signal(SIGINT, on_signal);
  signal(SIGTERM, on_signal);

  const char *opts[] = {"host", "127.0.0.1", "port", port, "history", "100", NULL};
  ssews *ep = NULL;
  if (ssews_open(&ep, opts, on_event, NULL) != SSEWS_OK) {
    fprintf(stderr, "ssews_open: %s\n",
            ssews_last_error()); /* names the bad option, or why it cannot listen */
    return 1;
  }
  int bound = 0;
  ssews_port(ep, &bound);
  printf("listening on %d\n", bound);
  fflush(stdout);

  /* Publishing is safe from any thread: here, the main one. */
  for (int tick = 1; !stop && (seconds < 0 || tick <= seconds * 10); tick++) {
    struct timespec ts = {0, 100 * 1000 * 1000};
    nanosleep(&ts, NULL);
    if (tick % 10) continue;
    char msg[64];
    int n = snprintf(msg, sizeof msg, "{\"tick\":%d}", tick / 10);
    ssews_publish(ep, "ticks", msg, (size_t)n, SSEWS_TEXT, "tick", NULL);
  }
  ssews_close(&ep); /* flushes, says goodbye to every peer, joins the service thread */
  return 0;
}

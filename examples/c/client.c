/* A small ssews client: prints what arrives, in pull mode (poll on the event fd).
 *
 *   example_client URL [--say TEXT] [--count N]
 *
 * URL is ws:// or wss:// (WebSocket) or http:// or https:// (SSE). With
 * --say it sends TEXT once connected (WebSocket). Exits after N messages. */
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ssews.h>

int main(int argc, char **argv) {
  if (argc < 2) {
    fprintf(stderr, "usage: example_client URL [--say TEXT] [--count N]\n");
    return 2;
  }
  const char *say = NULL;
  int count = -1;
  for (int i = 2; i + 1 < argc; i += 2) {
    if (!strcmp(argv[i], "--say"))
      say = argv[i + 1];
    else if (!strcmp(argv[i], "--count"))
      count = atoi(argv[i + 1]);
  }
  const char *opts[] = {"url", argv[1], NULL};
  ssews *ep = NULL;
  if (ssews_open(&ep, opts, NULL, NULL) != SSEWS_OK) { /* NULL callback: pull mode */
    fprintf(stderr, "ssews_open: %s\n", ssews_last_error());
    return 1;
  }
  int fd;
  ssews_event_fd(ep, &fd);
  int got = 0, rc = 0;
  while (count < 0 || got < count) {
    struct pollfd p = {.fd = fd, .events = POLLIN};
    if (poll(&p, 1, 10000) <= 0) {
      fprintf(stderr, "timed out\n");
      rc = 1;
      break;
    }
    const ssews_event *ev;
    while (ssews_next_event(ep, &ev) == SSEWS_OK) { /* valid until the next call */
      int kind = ssews_event_kind(ev);
      if (kind == SSEWS_EV_OPEN) {
        printf("connected\n");
        if (say && ssews_send(ep, 0, say, strlen(say), SSEWS_TEXT, NULL, NULL) != SSEWS_OK)
          fprintf(stderr, "send: %s\n", ssews_last_error());
      } else if (kind == SSEWS_EV_MESSAGE) {
        size_t len;
        const char *data = ssews_event_data(ev, &len);
        const char *name = ssews_event_name(ev);
        printf("%s: %.*s\n", name ? name : "message", (int)len, data);
        got++;
      } else if (kind == SSEWS_EV_RECONNECTING) {
        printf("reconnecting in %lld ms\n", (long long)ssews_event_delay_ms(ev));
      } else if (kind == SSEWS_EV_ERROR) {
        fprintf(stderr, "error: %s\n", ssews_event_reason(ev));
      } else if (kind == SSEWS_EV_CLOSE) {
        printf("closed (%d)\n", ssews_event_code(ev));
        count = got; /* done */
      }
    }
    fflush(stdout);
  }
  ssews_close(&ep);
  return rc;
}

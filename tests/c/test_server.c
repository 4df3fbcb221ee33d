/* Server: both protocols on one port, SSE framing, static files, open-event
 * decisions, publish to mixed subscribers, resume with Last-Event-ID. */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>
#include <poll.h>

#include "harness.h"
#include "peer.h"

static void expect_ws_text(peer *p, const char *want) {
  unsigned char *msg = NULL;
  size_t len = 0;
  int op = peer_ws_read_message(p, &msg, &len, WAIT_MS);
  assert_int_equal(op, 1);
  assert_int_equal(len, strlen(want));
  assert_memory_equal(msg, want, len);
  free(msg);
}

/* ------------------------------------------------------------------------ */

static void test_open_close_both_protocols(void **state) {
  (void)state;
  recorder r;
  rec_init(&r);
  r.probe_header = "X-Token";
  int port;
  ssews *ep = start_server(&r, NULL, &port);
  size_t cur = 0;

  const char *const wsh[] = {"X-Token: secret-1", "Authorization: Bearer abc", NULL};
  peer *ws = ws_connect(port, "/chat?channel=a&x=1", wsh, 0);
  const rec_event *o = rec_wait(&r, SSEWS_EV_OPEN, &cur, WAIT_MS);
  assert_non_null(o);
  assert_int_equal(o->protocol, SSEWS_PROTO_WS);
  assert_string_equal(o->path, "/chat");
  assert_non_null(strstr(o->query, "channel=a"));
  assert_non_null(o->header_probe);
  assert_string_equal(o->header_probe, "secret-1");
  assert_true(o->header_count >= 2);
  assert_int_equal(o->channel_count, 1);
  ssews_conn wsconn = o->conn;
  assert_true(wsconn != 0);

  const char *const sseh[] = {"Accept: text/event-stream", "X-Token: secret-2", NULL};
  peer *sse = sse_open(port, "/news", sseh);
  o = rec_wait(&r, SSEWS_EV_OPEN, &cur, WAIT_MS);
  assert_non_null(o);
  assert_int_equal(o->protocol, SSEWS_PROTO_SSE);
  assert_string_equal(o->path, "/news");
  assert_string_equal(o->header_probe, "secret-2");
  ssews_conn sseconn = o->conn;
  assert_true(sseconn != wsconn);

  /* The peer closes: exactly one close event each, with the right code. */
  assert_int_equal(peer_ws_send_close(ws, 1000, "bye"), 0);
  unsigned char *m = NULL;
  size_t len;
  assert_int_equal(peer_ws_read_message(ws, &m, &len, WAIT_MS), 8);
  assert_int_equal(peer_close_code(m, len), 1000);
  free(m);
  size_t c2 = 0;
  const rec_event *cl = rec_wait_conn(&r, SSEWS_EV_CLOSE, wsconn, &c2, WAIT_MS);
  assert_non_null(cl);
  assert_int_equal(cl->code, 1000);
  assert_string_equal(cl->reason, "bye");

  peer_free(sse); /* vanishes without a word */
  c2 = 0;
  cl = rec_wait_conn(&r, SSEWS_EV_CLOSE, sseconn, &c2, WAIT_MS);
  assert_non_null(cl);
  assert_int_equal(cl->protocol, SSEWS_PROTO_SSE);
  peer_free(ws);

  ssews_close(&ep);
  assert_null(ep);
  assert_int_equal(rec_count(&r, SSEWS_EV_CLOSE, wsconn), 1);
  assert_int_equal(rec_count(&r, SSEWS_EV_CLOSE, sseconn), 1);
  rec_free(&r);
}

static void test_sse_framing(void **state) {
  (void)state;
  recorder r;
  rec_init(&r);
  int port;
  ssews *ep = start_server(&r, NULL, &port);
  size_t cur = 0;
  peer *p = sse_open(port, "/feed", NULL);
  const rec_event *o = rec_wait(&r, SSEWS_EV_OPEN, &cur, WAIT_MS);
  assert_non_null(o);

  const char *data = "line one\nline two\r\nline three\rend";
  assert_int_equal(ssews_send(ep, o->conn, data, strlen(data), SSEWS_TEXT, "update", "42"), SSEWS_OK);
  char *got = sse_read_until(p, "\n\n");
  assert_non_null(got);
  assert_string_equal(
      got, "id: 42\nevent: update\ndata: line one\ndata: line two\ndata: line three\ndata: end\n\n");
  free(got);

  /* Empty data still dispatches; no event/id lines when not given. */
  assert_int_equal(ssews_send(ep, o->conn, "", 0, SSEWS_TEXT, NULL, NULL), SSEWS_OK);
  got = sse_read_until(p, "\n\n");
  assert_string_equal(got, "data: \n\n");
  free(got);

  /* CR or LF in an id or event name would inject fields: refused. */
  assert_int_equal(ssews_send(ep, o->conn, "x", 1, SSEWS_TEXT, NULL, "4\n2"), SSEWS_EINVAL);
  assert_non_null(strstr(ssews_last_error(), "id"));
  assert_int_equal(ssews_send(ep, o->conn, "x", 1, SSEWS_TEXT, "a\rb", NULL), SSEWS_EINVAL);
  assert_non_null(strstr(ssews_last_error(), "event"));
  /* SSE is text. */
  assert_int_equal(ssews_send(ep, o->conn, "\x01", 1, SSEWS_BINARY, NULL, NULL), SSEWS_EINVAL);
  /* Invalid UTF-8 text is refused. */
  assert_int_equal(ssews_send(ep, o->conn, "\xff\xfe", 2, SSEWS_TEXT, NULL, NULL), SSEWS_EINVAL);

  /* Published binary reaches SSE as base64. */
  assert_int_equal(ssews_subscribe(ep, o->conn, "bin"), SSEWS_OK);
  /* The subscribe is queued; a publish after it is ordered after it. */
  assert_int_equal(ssews_publish(ep, "bin", "\x00\x01\x02", 3, SSEWS_BINARY, NULL, "b1"), SSEWS_OK);
  got = sse_read_until(p, "\n\n");
  assert_string_equal(got, "id: b1\nevent: binary\ndata: AAEC\n\n");
  free(got);

  peer_free(p);
  ssews_close(&ep);
  rec_free(&r);
}

static void test_sse_heartbeat(void **state) {
  (void)state;
  const char *const opts[] = {"heartbeat", "1", NULL};
  int port;
  ssews *ep = start_server(NULL, opts, &port);
  peer *p = sse_open(port, "/hb", NULL);
  char *got = sse_read_until(p, "\n\n"); /* a comment arrives with no traffic */
  assert_non_null(got);
  assert_int_equal(got[0], ':');
  free(got);
  peer_free(p);
  ssews_close(&ep);
}

static void write_file(const char *path, const char *text) {
  FILE *f = fopen(path, "w");
  assert_non_null(f);
  fputs(text, f);
  fclose(f);
}

static void test_static_files(void **state) {
  (void)state;
  char dir[] = "/tmp/ssews-static-XXXXXX";
  assert_non_null(mkdtemp(dir));
  char path[256], outside[256];
  snprintf(path, sizeof path, "%s/www", dir);
  mkdir(path, 0755);
  snprintf(path, sizeof path, "%s/www/index.html", dir);
  write_file(path, "<p>home</p>");
  snprintf(path, sizeof path, "%s/www/app.js", dir);
  write_file(path, "console.log(1)");
  snprintf(outside, sizeof outside, "%s/secret.txt", dir);
  write_file(outside, "TOP SECRET");
  snprintf(path, sizeof path, "%s/www/link.txt", dir);
  assert_int_equal(symlink(outside, path), 0);

  char www[256];
  snprintf(www, sizeof www, "%s/www", dir);
  const char *const opts[] = {"static_dir", www, NULL};
  int port;
  ssews *ep = start_server(NULL, opts, &port);

  struct {
    const char *path;
    int status;
    const char *type;
    const char *body;
  } cases[] = {
      {"/", 200, "text/html; charset=utf-8", "<p>home</p>"},
      {"/app.js", 200, "text/javascript; charset=utf-8", "console.log(1)"},
      {"/missing.html", 404, NULL, NULL},
      {"/../secret.txt", 404, NULL, NULL},
      {"/%2e%2e/secret.txt", 404, NULL, NULL},
      {"/link.txt", 404, NULL, NULL}, /* a symlink out of the root */
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    peer *p = peer_connect("127.0.0.1", port, 0, WAIT_MS);
    assert_non_null(p);
    peer_http resp;
    memset(&resp, 0, sizeof resp);
    int st = peer_http_get(p, cases[i].path, NULL, &resp, WAIT_MS);
    if (st != cases[i].status) fprintf(stderr, "path %s: status %d\n", cases[i].path, st);
    assert_int_equal(st, cases[i].status);
    char *body = NULL;
    size_t blen = 0;
    assert_int_equal(peer_http_body(p, &resp, &body, &blen, WAIT_MS), 0);
    if (cases[i].type) {
      char buf[128];
      assert_string_equal(peer_http_header(&resp, "content-type", buf, sizeof buf), cases[i].type);
      assert_string_equal(body, cases[i].body);
    } else {
      assert_null(strstr(body, "SECRET"));
    }
    free(body);
    peer_http_free(&resp);
    peer_free(p);
  }
  ssews_close(&ep);
  unlink(path);
  unlink(outside);
  snprintf(path, sizeof path, "%s/www/index.html", dir);
  unlink(path);
  snprintf(path, sizeof path, "%s/www/app.js", dir);
  unlink(path);
  rmdir(www);
  rmdir(dir);
}

static void test_no_static_dir_is_404(void **state) {
  (void)state;
  int port;
  ssews *ep = start_server(NULL, NULL, &port);
  peer *p = peer_connect("127.0.0.1", port, 0, WAIT_MS);
  peer_http resp;
  memset(&resp, 0, sizeof resp);
  assert_int_equal(peer_http_get(p, "/index.html", NULL, &resp, WAIT_MS), 404);
  peer_http_free(&resp);
  peer_free(p);
  ssews_close(&ep);
}

static void test_reject_from_open(void **state) {
  (void)state;
  recorder r;
  rec_init(&r);
  r.reject_status = 403;
  int port;
  ssews *ep = start_server(&r, NULL, &port);

  peer *p = peer_connect("127.0.0.1", port, 0, WAIT_MS);
  peer_http resp;
  memset(&resp, 0, sizeof resp);
  assert_int_equal(peer_ws_handshake(p, "/private", NULL, &resp, WAIT_MS), 403);
  peer_http_free(&resp);
  peer_free(p);

  p = peer_connect("127.0.0.1", port, 0, WAIT_MS);
  memset(&resp, 0, sizeof resp);
  assert_int_equal(peer_http_get(p, "/private", sse_accept, &resp, WAIT_MS), 403);
  peer_http_free(&resp);
  peer_free(p);

  size_t cur = 0;
  assert_non_null(rec_wait(&r, SSEWS_EV_OPEN, &cur, WAIT_MS));
  assert_non_null(rec_wait(&r, SSEWS_EV_OPEN, &cur, WAIT_MS));
  ssews_close(&ep);
  /* A refused handshake never opened, so it never closes. */
  assert_int_equal(rec_count(&r, SSEWS_EV_CLOSE, 0), 0);
  rec_free(&r);
}

static void test_publish_mixed_subscribers_in_order(void **state) {
  (void)state;
  recorder r;
  rec_init(&r);
  int port;
  ssews *ep = start_server(&r, NULL, &port);
  size_t cur = 0;
  peer *ws1 = ws_connect(port, "/prices", NULL, 0);
  peer *ws2 = ws_connect(port, "/?channel=prices&channel=other", NULL, 0);
  peer *sse = sse_open(port, "/prices", NULL);
  peer *elsewhere = ws_connect(port, "/other-only", NULL, 0);
  for (int i = 0; i < 4; i++) assert_non_null(rec_wait(&r, SSEWS_EV_OPEN, &cur, WAIT_MS));

  enum { N = 200 };
  char buf[64];
  for (int i = 0; i < N; i++) {
    snprintf(buf, sizeof buf, "tick %d", i);
    assert_int_equal(ssews_publish(ep, "prices", buf, strlen(buf), SSEWS_TEXT, "tick", NULL), SSEWS_OK);
  }
  for (int i = 0; i < N; i++) {
    snprintf(buf, sizeof buf, "tick %d", i);
    expect_ws_text(ws1, buf);
    expect_ws_text(ws2, buf);
    char *got = sse_read_until(sse, "\n\n");
    assert_non_null(got);
    char want[96];
    snprintf(want, sizeof want, "event: tick\ndata: %s\n\n", buf);
    assert_non_null(strstr(got, want));
    assert_non_null(strstr(got, "id: "));
    free(got);
  }
  /* Nothing reached the connection subscribed elsewhere. */
  unsigned char *m = NULL;
  size_t len;
  assert_true(peer_ws_read_message(elsewhere, &m, &len, 200) < 0);
  free(m);
  peer_free(ws1);
  peer_free(ws2);
  peer_free(sse);
  peer_free(elsewhere);
  ssews_close(&ep);
  rec_free(&r);
}

/* A burst of publishes to peers that are not reading: what each gets is
 * written coalesced, several frames or SSE messages per write, so every frame
 * must still be exact (unfragmented, unmasked, FIN set, the right opcode and
 * length form at the 125/126/65535/65536 boundaries) and in order, including
 * messages too large to share a write. */
static void test_publish_burst_frames_exact(void **state) {
  (void)state;
  recorder r;
  rec_init(&r);
  int port;
  ssews *ep = start_server(&r, NULL, &port);
  size_t cur = 0;
  peer *ws = ws_connect(port, "/burst", NULL, 0);
  peer *sse = sse_open(port, "/burst", NULL);
  for (int i = 0; i < 2; i++) assert_non_null(rec_wait(&r, SSEWS_EV_OPEN, &cur, WAIT_MS));

  static const size_t sizes[] = {0, 1, 125, 126, 127, 200, 65535, 65536, 70000, 3, 5, 131072, 7, 64, 64, 64};
  enum { N = sizeof sizes / sizeof sizes[0], ROUNDS = 3 };
  char *bufs[N];
  for (size_t i = 0; i < N; i++) {
    bufs[i] = malloc(sizes[i] + 1);
    assert_non_null(bufs[i]);
    for (size_t k = 0; k < sizes[i]; k++) bufs[i][k] = (char)('a' + (i + k) % 26);
    bufs[i][sizes[i]] = 0;
  }
  for (int round = 0; round < ROUNDS; round++)
    for (size_t i = 0; i < N; i++)
      assert_int_equal(ssews_publish(ep, "burst", bufs[i], sizes[i], SSEWS_TEXT, NULL, NULL), SSEWS_OK);

  for (int round = 0; round < ROUNDS; round++) {
    for (size_t i = 0; i < N; i++) {
      peer_frame f;
      assert_int_equal(peer_ws_read_frame(ws, &f, WAIT_MS), 0);
      assert_int_equal(f.fin, 1);
      assert_int_equal(f.rsv, 0);
      assert_int_equal(f.masked, 0);
      assert_int_equal(f.opcode, 1);
      assert_int_equal(f.len, sizes[i]);
      if (sizes[i]) assert_memory_equal(f.payload, bufs[i], sizes[i]);
      peer_frame_free(&f);
    }
  }
  for (int round = 0; round < ROUNDS; round++) {
    for (size_t i = 0; i < N; i++) {
      char *got = sse_read_until(sse, "\n\n");
      assert_non_null(got);
      char *data = strstr(got, "data:");
      assert_non_null(data);
      data += 5;
      if (*data == ' ') data++;
      size_t n = strcspn(data, "\n");
      assert_int_equal(n, sizes[i]);
      if (sizes[i]) assert_memory_equal(data, bufs[i], sizes[i]);
      free(got);
    }
  }
  for (size_t i = 0; i < N; i++) free(bufs[i]);
  peer_free(ws);
  peer_free(sse);
  ssews_close(&ep);
  rec_free(&r);
}

static void test_subscribe_in_open_overrides_default(void **state) {
  (void)state;
  recorder r;
  rec_init(&r);
  r.subscribe_to = "vip";
  int port;
  ssews *ep = start_server(&r, NULL, &port);
  size_t cur = 0;
  peer *ws = ws_connect(port, "/lobby", NULL, 0);
  assert_non_null(rec_wait(&r, SSEWS_EV_OPEN, &cur, WAIT_MS));
  assert_int_equal(ssews_publish(ep, "lobby", "no", 2, SSEWS_TEXT, NULL, NULL), SSEWS_OK);
  assert_int_equal(ssews_publish(ep, "vip", "yes", 3, SSEWS_TEXT, NULL, NULL), SSEWS_OK);
  expect_ws_text(ws, "yes");
  peer_free(ws);
  ssews_close(&ep);
  rec_free(&r);
}

static void test_resume_sse_last_event_id(void **state) {
  (void)state;
  const char *const opts[] = {"history", "100", NULL};
  int port;
  ssews *ep = start_server(NULL, opts, &port);
  peer *p = sse_open(port, "/?channel=news&channel=sport", NULL);
  assert_int_equal(ssews_publish(ep, "news", "n1", 2, SSEWS_TEXT, NULL, NULL), SSEWS_OK);
  assert_int_equal(ssews_publish(ep, "sport", "s1", 2, SSEWS_TEXT, NULL, NULL), SSEWS_OK);
  char *got = sse_read_until(p, "data: s1\n\n");
  assert_non_null(got);
  char id[128];
  sse_last_id(got, id, sizeof id);
  free(got);
  peer_free(p); /* the client drops */

  /* Missed while away, on both channels, plus one on a channel it does not follow. */
  assert_int_equal(ssews_publish(ep, "news", "n2", 2, SSEWS_TEXT, NULL, NULL), SSEWS_OK);
  assert_int_equal(ssews_publish(ep, "weather", "w1", 2, SSEWS_TEXT, NULL, NULL), SSEWS_OK);
  assert_int_equal(ssews_publish(ep, "sport", "s2", 2, SSEWS_TEXT, NULL, NULL), SSEWS_OK);

  char hdr[200];
  snprintf(hdr, sizeof hdr, "Last-Event-ID: %s", id);
  const char *const h[] = {"Accept: text/event-stream", hdr, NULL};
  p = sse_open(port, "/?channel=news&channel=sport", h);
  assert_int_equal(ssews_publish(ep, "news", "n3", 2, SSEWS_TEXT, NULL, NULL), SSEWS_OK);
  got = sse_read_until(p, "data: n3\n\n");
  assert_non_null(got);
  /* In order, no duplicates, nothing from before the id, nothing from elsewhere. */
  const char *a = strstr(got, "data: n2\n"), *b = strstr(got, "data: s2\n"), *c = strstr(got, "data: n3\n");
  assert_non_null(a);
  assert_non_null(b);
  assert_true(a < b && b < c);
  assert_null(strstr(got, "data: n1\n"));
  assert_null(strstr(got, "data: s1\n"));
  assert_null(strstr(got, "data: w1\n"));
  assert_null(strstr(got, "ssews-gap"));
  assert_null(strstr(a + 1, "data: n2\n"));
  free(got);
  peer_free(p);

  /* An id from another server run (stale epoch): everything history holds, and a gap notice. */
  const char *const h2[] = {"Accept: text/event-stream", "Last-Event-ID: oldepoch-7", NULL};
  p = sse_open(port, "/news", h2);
  got = sse_read_until(p, "data: n3\n\n");
  assert_non_null(got);
  assert_non_null(strstr(got, "event: ssews-gap\n"));
  assert_non_null(strstr(got, "data: n1\n"));
  free(got);
  peer_free(p);
  ssews_close(&ep);
}

static void test_resume_ws_last_event_id(void **state) {
  (void)state;
  const char *const opts[] = {"history", "3", NULL};
  int port;
  ssews *ep = start_server(NULL, opts, &port);
  assert_int_equal(ssews_publish(ep, "c", "m1", 2, SSEWS_TEXT, NULL, "id-1"), SSEWS_OK);
  assert_int_equal(ssews_publish(ep, "c", "m2", 2, SSEWS_TEXT, NULL, "id-2"), SSEWS_OK);
  assert_int_equal(ssews_publish(ep, "c", "m3", 2, SSEWS_TEXT, NULL, "id-3"), SSEWS_OK);
  /* Publisher-given ids resume too; a plain WebSocket peer gets raw payloads. */
  peer *ws = ws_connect(port, "/c?last_event_id=id-1", NULL, 0);
  expect_ws_text(ws, "m2");
  expect_ws_text(ws, "m3");
  assert_int_equal(ssews_publish(ep, "c", "m4", 2, SSEWS_TEXT, NULL, NULL), SSEWS_OK);
  expect_ws_text(ws, "m4");
  peer_free(ws);

  /* ssews.v1 peers get channel, event and id with each message; an id that
   * history no longer holds gives a gap notice and then all that is left. */
  const char *const v1[] = {"Sec-WebSocket-Protocol: ssews.v1", NULL};
  ws = ws_connect(port, "/c?last_event_id=id-1", v1, 0);
  unsigned char *m = NULL;
  size_t len;
  assert_int_equal(peer_ws_read_message(ws, &m, &len, WAIT_MS), 1);
  assert_non_null(strstr((char *)m, "\"event\":\"ssews-gap\""));
  free(m);
  assert_int_equal(peer_ws_read_message(ws, &m, &len, WAIT_MS), 1);
  /* History holds m2, m3, m4 now (3 messages). */
  assert_string_equal((char *)m, "{\"channel\":\"c\",\"event\":\"\",\"id\":\"id-2\",\"data\":\"m2\"}");
  free(m);
  peer_free(ws);
  ssews_close(&ep);
}

static void test_pull_mode_event_fd(void **state) {
  (void)state;
  int port;
  ssews *ep = start_server(NULL, NULL, &port);
  int fd = -1;
  assert_int_equal(ssews_event_fd(ep, &fd), SSEWS_OK);
  assert_true(fd >= 0);
  const ssews_event *ev = NULL;
  assert_int_equal(ssews_next_event(ep, &ev), SSEWS_EAGAIN);
  assert_null(ev);

  peer *ws = ws_connect(port, "/x", NULL, 0);
  assert_int_equal(peer_ws_send(ws, 1, "ping?", 5), 0);
  int kinds[2] = {SSEWS_EV_OPEN, SSEWS_EV_MESSAGE};
  for (int i = 0; i < 2; i++) {
    struct pollfd pfd = {.fd = fd, .events = POLLIN};
    assert_int_equal(poll(&pfd, 1, WAIT_MS), 1);
    assert_int_equal(ssews_next_event(ep, &ev), SSEWS_OK);
    assert_int_equal(ssews_event_kind(ev), kinds[i]);
  }
  size_t len;
  const char *d = ssews_event_data(ev, &len);
  assert_int_equal(len, 5);
  assert_memory_equal(d, "ping?", 5);
  /* Drained: the fd is no longer readable. */
  struct pollfd pfd = {.fd = fd, .events = POLLIN};
  assert_int_equal(poll(&pfd, 1, 0), 0);
  peer_free(ws);
  ssews_close(&ep);
}

/* Pull mode: a custom header the application asked for travels with the open event. */
static void test_pull_mode_captured_headers(void **state) {
  (void)state;
  const char *const opts[] = {"capture_headers", "X-Api-Key, x-trace", NULL};
  int port;
  ssews *ep = start_server(NULL, opts, &port);
  int fd;
  ssews_event_fd(ep, &fd);
  const char *const h[] = {"X-Api-Key: k-123", "X-Other: not kept", NULL};
  peer *ws = ws_connect(port, "/x", h, 0);
  struct pollfd pfd = {.fd = fd, .events = POLLIN};
  assert_int_equal(poll(&pfd, 1, WAIT_MS), 1);
  const ssews_event *ev = NULL;
  assert_int_equal(ssews_next_event(ep, &ev), SSEWS_OK);
  assert_int_equal(ssews_event_kind(ev), SSEWS_EV_OPEN);
  assert_non_null(ssews_event_header(ev, "x-api-key"));
  assert_string_equal(ssews_event_header(ev, "X-API-KEY"), "k-123");
  assert_null(ssews_event_header(ev, "x-trace")); /* asked for, not sent */
  assert_null(ssews_event_header(ev, "x-other")); /* sent, not asked for */
  assert_non_null(ssews_event_header(ev, "host"));
  peer_free(ws);
  ssews_close(&ep);
}

static void test_close_from_callback(void **state) {
  (void)state;
  recorder r;
  rec_init(&r);
  int port;
  ssews *ep = start_server(&r, NULL, &port);
  r.ep = ep; /* the callback closes it on the first message */
  r.close_from_callback = 1;
  size_t cur = 0;
  peer *ws = ws_connect(port, "/x", NULL, 0);
  assert_int_equal(peer_ws_send(ws, 1, "bye", 3), 0);
  assert_non_null(rec_wait(&r, SSEWS_EV_MESSAGE, &cur, WAIT_MS));
  /* The server goes away: the peer gets a close frame 1001 and EOF. */
  unsigned char *m = NULL;
  size_t len;
  assert_int_equal(peer_ws_read_message(ws, &m, &len, WAIT_MS), 8);
  assert_int_equal(peer_close_code(m, len), 1001);
  free(m);
  assert_non_null(rec_wait(&r, SSEWS_EV_CLOSE, &cur, WAIT_MS));
  peer_free(ws);
  /* SSEWS_EV_DONE is the last callback: after it the recorder may go. */
  assert_non_null(rec_wait(&r, SSEWS_EV_DONE, &cur, WAIT_MS));
  rec_free(&r);
}

/* POST /publish with the bearer token publishes its body. */
static void test_http_publish_endpoint(void **state) {
  (void)state;
  const char *const opts[] = {"publish_token", "s3cret", NULL};
  int port;
  ssews *ep = start_server(NULL, opts, &port);
  peer *sse = sse_open(port, "/?channel=alerts", NULL);
  peer *ws = ws_connect(port, "/alerts", NULL, 0);
  char resp[256] = "";
  assert_int_equal(http_post(port, "/publish?channel=alerts&event=warn&id=a1", "Bearer s3cret", NULL,
                             "disk full", resp, sizeof resp),
                   200);
  assert_non_null(strstr(resp, "\"id\":\"a1\""));
  assert_non_null(strstr(resp, "\"subscribers\":2"));
  char *got = sse_read_until(sse, "\n\n");
  assert_string_equal(got, "id: a1\nevent: warn\ndata: disk full\n\n");
  free(got);
  expect_ws_text(ws, "disk full");
  /* Binary by content type; the id is assigned when not given. */
  assert_int_equal(http_post(port, "/publish?channel=alerts", "Bearer s3cret", "application/octet-stream",
                             "\x01"
                             "bin",
                             resp, sizeof resp),
                   200);
  unsigned char *m = NULL;
  size_t len;
  assert_int_equal(peer_ws_read_message(ws, &m, &len, WAIT_MS), 2);
  assert_int_equal(len, 4);
  free(m);
  /* Refusals: no or wrong token, no channel, bad UTF-8 text. */
  assert_int_equal(http_post(port, "/publish?channel=alerts", NULL, NULL, "x", NULL, 0), 401);
  assert_int_equal(http_post(port, "/publish?channel=alerts", "Bearer wrong", NULL, "x", NULL, 0), 401);
  assert_int_equal(http_post(port, "/publish", "Bearer s3cret", NULL, "x", NULL, 0), 400);
  assert_int_equal(http_post(port, "/publish?channel=alerts", "Bearer s3cret", NULL, "\xff", NULL, 0), 400);
  peer_free(sse);
  peer_free(ws);
  ssews_close(&ep);
}

/* ------------------------------------------------------------------------ */
/* What the server takes from a request (issue 15). */

/* Sends req as it is and reads the answer: returns the status, with the
 * body (up to its closing brace, for the JSON answers) in out. */
static int raw_request(int port, const char *req, size_t len, char *out, size_t outlen) {
  peer *p = peer_connect("127.0.0.1", port, 0, WAIT_MS);
  assert_non_null(p);
  assert_int_equal(peer_write(p, req, len), 0);
  char *head = NULL;
  int status = -1;
  if (peer_read_until(p, "\r\n\r\n", &head, WAIT_MS) > 0) status = atoi(head + 9);
  free(head);
  char *rest = NULL;
  if (out) out[0] = '\0';
  if (out && status > 0 && peer_read_until(p, "}", &rest, WAIT_MS) > 0) snprintf(out, outlen, "%s", rest);
  free(rest);
  peer_free(p);
  return status;
}

static int publish_raw(int port, const char *query, const char *content_length, char *out, size_t outlen) {
  char req[8192];
  int n = snprintf(req, sizeof req,
                   "POST /publish?%s HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer s3cret\r\n"
                   "Content-Length: %s\r\n\r\nx",
                   query, content_length);
  assert_true(n > 0 && (size_t)n < sizeof req);
  return raw_request(port, req, (size_t)n, out, outlen);
}

/* Bug 2: the id in the JSON answer is quoted like every other JSON string. */
static void test_http_publish_answer_quotes_id(void **state) {
  (void)state;
  const char *const opts[] = {"publish_token", "s3cret", NULL};
  int port;
  ssews *ep = start_server(NULL, opts, &port);
  char resp[256];
  assert_int_equal(publish_raw(port, "channel=c&id=a%22b%5C", "1", resp, sizeof resp), 200);
  assert_string_equal(resp, "{\"id\":\"a\\\"b\\\\\",\"subscribers\":0}");
  ssews_close(&ep);
}

/* Bugs 14 and 15: input the publish endpoint cannot carry is refused with a
 * 400 naming the problem, and nothing reaches subscribers; a long argument
 * neither hides the others nor the channel. */
static void test_http_publish_refuses_bad_input(void **state) {
  (void)state;
  const char *const opts[] = {"publish_token", "s3cret", NULL};
  int port;
  ssews *ep = start_server(NULL, opts, &port);
  const char *const v1[] = {"Sec-WebSocket-Protocol: ssews.v1", NULL};
  peer *ws = ws_connect(port, "/c", v1, 0);
  struct {
    const char *query, *length;
    int status;
    const char *error;
  } bad[] = {
      {"channel=c%0D%0Ax", "1", 400, "CR or LF"},
      {"channel=c%0Ax", "1", 400, "CR or LF"},
      {"channel=c", "abc", 400, "Content-Length is not a decimal number"},
      {"channel=c&event=%FF", "1", 400, "'event' is not valid UTF-8"},
      {"channel=c&id=%C3", "1", 400, "'id' is not valid UTF-8"},
      {"channel=c&id=a%01", "1", 400, "'id' holds a control character"},
      {"channel=c&channel=d", "1", 400, "'channel' is given more than once"},
  };
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    char resp[512];
    int st = publish_raw(port, bad[i].query, bad[i].length, resp, sizeof resp);
    if (st != bad[i].status || !strstr(resp, bad[i].error))
      fprintf(stderr, "%s (Content-Length %s): %d %s\n", bad[i].query, bad[i].length, st, resp);
    assert_int_equal(st, bad[i].status);
    assert_non_null(strstr(resp, "{\"error\":"));
    assert_non_null(strstr(resp, bad[i].error));
  }
  /* A channel longer than ssews_publish allows is named as such. */
  char query[4096], pad[2001];
  memset(pad, 'c', 1200);
  pad[1200] = '\0';
  snprintf(query, sizeof query, "channel=%s", pad);
  char resp[512];
  assert_int_equal(publish_raw(port, query, "1", resp, sizeof resp), 400);
  assert_non_null(strstr(resp, "'channel' is longer than 1024 bytes"));
  /* A 2,000-byte argument, then channel and id: both are read. */
  memset(pad, 'p', 2000);
  pad[2000] = '\0';
  snprintf(query, sizeof query, "pad=%s&channel=other&id=after-long", pad);
  assert_int_equal(publish_raw(port, query, "1", resp, sizeof resp), 200);
  assert_non_null(strstr(resp, "\"id\":\"after-long\""));
  /* None of the refused ones reached the subscriber: this is its first message. */
  assert_int_equal(publish_raw(port, "channel=c&event=ok&id=good", "1", resp, sizeof resp), 200);
  expect_ws_text(ws, "{\"channel\":\"c\",\"event\":\"ok\",\"id\":\"good\",\"data\":\"x\"}");
  peer_free(ws);
  ssews_close(&ep);
}

/* Bug 15: a query argument longer than any fixed buffer does not drop the
 * arguments after it (the client would be subscribed to nothing). */
static void test_long_query_argument_keeps_the_rest(void **state) {
  (void)state;
  recorder r;
  rec_init(&r);
  int port;
  ssews *ep = start_server(&r, NULL, &port);
  static char path[6000];
  int n = snprintf(path, sizeof path, "/?token=");
  memset(path + n, 't', 5000);
  snprintf(path + n + 5000, sizeof path - (size_t)n - 5000, "&channel=long");
  peer *sse = sse_open(port, path, NULL);
  size_t cur = 0;
  const rec_event *o = rec_wait(&r, SSEWS_EV_OPEN, &cur, WAIT_MS);
  assert_non_null(o);
  assert_int_equal(strlen(o->query), 5000 + strlen("token=&channel=long"));
  assert_int_equal(o->channel_count, 1);
  assert_int_equal(ssews_publish(ep, "long", "hi", 2, SSEWS_TEXT, NULL, NULL), SSEWS_OK);
  char *got = sse_read_until(sse, "data: hi\n\n");
  assert_non_null(got);
  free(got);
  peer_free(sse);
  ssews_close(&ep);
  rec_free(&r);
}

/* Bug 3: RFC 6455 4.2.1 matches the Upgrade value case-insensitively. */
static void test_upgrade_value_any_case(void **state) {
  (void)state;
  int port;
  ssews *ep = start_server(NULL, NULL, &port);
  const char *values[] = {"Upgrade: WebSocket", "Upgrade: WEBSOCKET", "Upgrade: websocket"};
  for (size_t i = 0; i < sizeof values / sizeof values[0]; i++) {
    const char *const h[] = {values[i], "Connection: keep-alive, UPGRADE", NULL};
    peer *p = peer_connect("127.0.0.1", port, 0, WAIT_MS);
    assert_non_null(p);
    int st = peer_ws_handshake(p, "/any-case", h, NULL, WAIT_MS);
    if (st != 0) fprintf(stderr, "%s: %d\n", values[i], st);
    assert_int_equal(st, 0);
    peer_free(p);
  }
  ssews_close(&ep);
}

/* Bug 13: lws hands the path over decoded; it is not decoded a second time. */
static void test_static_path_decoded_once(void **state) {
  (void)state;
  char dir[] = "/tmp/ssews-static-XXXXXX";
  assert_non_null(mkdtemp(dir));
  char a[256], pct[256];
  snprintf(a, sizeof a, "%s/A.txt", dir);
  write_file(a, "A file");
  snprintf(pct, sizeof pct, "%s/100%%.txt", dir);
  write_file(pct, "percent file");
  const char *const opts[] = {"static_dir", dir, NULL};
  int port;
  ssews *ep = start_server(NULL, opts, &port);
  struct {
    const char *path;
    int status;
    const char *body;
  } cases[] = {
      {"/%2541.txt", 404, NULL},            /* is "/%41.txt", not "/A.txt" */
      {"/100%25.txt", 200, "percent file"}, /* is "/100%.txt" */
      {"/%41.txt", 200, "A file"},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    peer *p = peer_connect("127.0.0.1", port, 0, WAIT_MS);
    assert_non_null(p);
    peer_http resp;
    memset(&resp, 0, sizeof resp);
    int st = peer_http_get(p, cases[i].path, NULL, &resp, WAIT_MS);
    if (st != cases[i].status) fprintf(stderr, "path %s: status %d\n", cases[i].path, st);
    assert_int_equal(st, cases[i].status);
    char *body = NULL;
    size_t blen = 0;
    assert_int_equal(peer_http_body(p, &resp, &body, &blen, WAIT_MS), 0);
    if (cases[i].body) assert_string_equal(body, cases[i].body);
    free(body);
    peer_http_free(&resp);
    peer_free(p);
  }
  ssews_close(&ep);
  unlink(a);
  unlink(pct);
  rmdir(dir);
}

/* Bug 16, the part lws' API can see: a NUL inside a header value it knows
 * (lws keeps the byte and cuts the value there) is refused, for HTTP and for
 * WebSocket handshakes, instead of being served with the value cut; so is a
 * request line cut by a CR or LF (bug 14's cut, on a subscribe). */
static void test_nul_in_header_refused(void **state) {
  (void)state;
  int port;
  ssews *ep = start_server(NULL, NULL, &port);
  static const char http[] = "GET / HTTP/1.1\r\nHost: x\r\nAccept: text/html\0, text/event-stream\r\n\r\n";
  assert_int_equal(raw_request(port, http, sizeof http - 1, NULL, 0), 400);
  static const char ws[] =
      "GET /c HTTP/1.1\r\nHost: x\r\nOrigin: http://a\0.evil\r\nUpgrade: websocket\r\n"
      "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
      "Sec-WebSocket-Version: 13\r\n\r\n";
  assert_int_equal(raw_request(port, ws, sizeof ws - 1, NULL, 0), 400);
  /* lws ends the request line at a decoded %0D/%0A: the query would be cut
   * and the stream subscribed to "a" instead of refused. */
  static const char sse[] = "GET /?channel=a%0D%0Ab HTTP/1.1\r\nHost: x\r\nAccept: text/event-stream\r\n\r\n";
  assert_int_equal(raw_request(port, sse, sizeof sse - 1, NULL, 0), 400);
  ssews_close(&ep);
}

/* Bug 3, the other case-insensitive HTTP tokens: the media type in Accept,
 * the Bearer scheme and the octet-stream media type of a publish. */
static void test_http_tokens_any_case(void **state) {
  (void)state;
  const char *const opts[] = {"publish_token", "s3cret", NULL};
  int port;
  ssews *ep = start_server(NULL, opts, &port);
  const char *const accept[] = {"Accept: Text/Event-Stream", NULL};
  peer *sse = sse_open(port, "/?channel=mixed", accept);
  peer *ws = ws_connect(port, "/mixed", NULL, 0);
  assert_int_equal(http_post(port, "/publish?channel=mixed", "bearer s3cret", "Application/Octet-Stream",
                             "\x01"
                             "b",
                             NULL, 0),
                   200);
  unsigned char *m = NULL;
  size_t len;
  assert_int_equal(peer_ws_read_message(ws, &m, &len, WAIT_MS), 2); /* binary */
  free(m);
  assert_int_equal(http_post(port, "/publish?channel=mixed", "BEARER s3cret", NULL, "text", NULL, 0), 200);
  char *got = sse_read_until(sse, "data: text\n\n");
  assert_non_null(got);
  free(got);
  peer_free(sse);
  peer_free(ws);
  ssews_close(&ep);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_open_close_both_protocols),
      cmocka_unit_test(test_sse_framing),
      cmocka_unit_test(test_sse_heartbeat),
      cmocka_unit_test(test_static_files),
      cmocka_unit_test(test_no_static_dir_is_404),
      cmocka_unit_test(test_reject_from_open),
      cmocka_unit_test(test_publish_mixed_subscribers_in_order),
      cmocka_unit_test(test_publish_burst_frames_exact),
      cmocka_unit_test(test_subscribe_in_open_overrides_default),
      cmocka_unit_test(test_resume_sse_last_event_id),
      cmocka_unit_test(test_resume_ws_last_event_id),
      cmocka_unit_test(test_pull_mode_event_fd),
      cmocka_unit_test(test_pull_mode_captured_headers),
      cmocka_unit_test(test_close_from_callback),
      cmocka_unit_test(test_http_publish_endpoint),
      cmocka_unit_test(test_http_publish_answer_quotes_id),
      cmocka_unit_test(test_http_publish_refuses_bad_input),
      cmocka_unit_test(test_long_query_argument_keeps_the_rest),
      cmocka_unit_test(test_upgrade_value_any_case),
      cmocka_unit_test(test_static_path_decoded_once),
      cmocka_unit_test(test_nul_in_header_refused),
      cmocka_unit_test(test_http_tokens_any_case),
  };
  return cmocka_run_group_tests_name("server", tests, NULL, NULL);
}

/* A TLS server (tls_cert/tls_key) held to what a plain-TCP one does
 * (docs/design-own-tls.md): the strict RFC 6455
 * cases of test_ws.c, the application's subprotocol choice, routing by the
 * ALPN a ClientHello offers, and the front door's bounds, over real loopback
 * TLS with a raw peer (tests/c/peer.c) that offers a chosen ALPN list.
 *
 * The WebSocket cases run in three modes: plain TCP (the reference: ssews
 * reads the frames; a failure there is a fault in the test), TLS with ALPN
 * "http/1.1" (as Node's ws and Python's websockets offer) and TLS with no
 * ALPN extension at all. A failing case prints its mode and what the server
 * sent; the test fails after all modes ran. */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <cmocka.h>

#include "harness.h"
#include "peer.h"
#include "ws_conformance.h"

static long long now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ------------------------------------------------------------------------ */
/* A certificate made for the run, and servers that use it                  */
/* ------------------------------------------------------------------------ */

static char g_tls_dir[64];
static char g_cert[128], g_key[128];

static int make_cert(void **state) {
  (void)state;
  return tls_cert_make(g_tls_dir, g_cert, g_key);
}

static int remove_cert(void **state) {
  (void)state;
  return tls_cert_remove(g_tls_dir);
}

/* Options for a TLS server: tls_cert, tls_key, then extra (may be NULL). */
static void tls_opts(const char **out, size_t cap, const char *const *extra) {
  size_t n = 0;
  out[n++] = "tls_cert";
  out[n++] = g_cert;
  out[n++] = "tls_key";
  out[n++] = g_key;
  for (size_t i = 0; extra && extra[i] && n + 1 < cap; i++) out[n++] = extra[i];
  out[n] = NULL;
}

/* A TLS server through start_server (recorder r may be NULL: pull mode). */
static ssews *start_tls(recorder *r, const char *const *extra, int *port) {
  const char *opts[32];
  tls_opts(opts, 32, extra);
  return start_server(r, opts, port);
}

/* The same with another callback, opened directly. */
static ssews *open_tls(ssews_event_cb cb, void *user, const char *const *extra, int tls, int *port) {
  const char *opts[32] = {"host", "127.0.0.1", "port", "0"};
  if (tls) {
    tls_opts(opts + 4, 28, extra);
  } else {
    size_t n = 4;
    for (size_t i = 0; extra && extra[i] && n + 1 < 32; i++) opts[n++] = extra[i];
    opts[n] = NULL;
  }
  ssews *ep = NULL;
  int rc = ssews_open(&ep, opts, cb, user);
  if (rc != SSEWS_OK) fprintf(stderr, "ssews_open: %s\n", ssews_last_error());
  assert_int_equal(rc, SSEWS_OK);
  assert_int_equal(ssews_port(ep, port), SSEWS_OK);
  return ep;
}

/* ------------------------------------------------------------------------ */
/* Modes                                                                     */
/* ------------------------------------------------------------------------ */

typedef struct mode {
  const char *name;
  int tls;
  const char *alpn; /* offered by the peer (NULL: no ALPN extension) */
  int later;        /* the upgrade comes after a first request on the connection */
} mode;

/* The later-upgrade modes reach the WebSocket through libwebsockets, which
 * parses every request after a connection's first: ssews takes it over
 * (take_later_upgrade) and frames it as every other. */
static const mode k_modes[] = {
    {"plain TCP (reference)", 0, NULL, 0},
    {"TLS, ALPN http/1.1", 1, "http/1.1", 0},
    {"TLS, no ALPN", 1, NULL, 0},
    {"plain TCP, upgrade after a request", 0, NULL, 1},
    {"TLS, upgrade after a request", 1, "http/1.1", 1},
};
enum { N_MODES = sizeof k_modes / sizeof k_modes[0] };

/* Starts s for mode m (an echoing server when echo). */
static void srv_start_mode(srv *s, int echo, const mode *m, const char *const *extra) {
  const char *opts[32];
  if (m->tls) {
    tls_opts(opts, 32, extra);
  } else {
    size_t n = 0;
    for (size_t i = 0; extra && extra[i] && n + 1 < 32; i++) opts[n++] = extra[i];
    opts[n] = NULL;
  }
  srv_start(s, echo, opts);
  s->tls = m->tls;
  s->alpn = m->alpn;
  s->upgrade_later = m->later;
}

/* Ends s's server and recorder so the next mode can start it again; adds the
 * cases that failed in this mode to *failed (srv_start resets the count). */
static void srv_stop(srv *s, int *failed) {
  *failed += g_real_failures;
  if (s->ep) ssews_close(&s->ep);
  if (s->inited) rec_free(&s->r);
  s->inited = 0;
}

/* Runs one violation in every mode on a fresh echoing server. */
static void run_violation_in_modes(srv *s, const violation *tmpl) {
  int bad = 0, failed = 0;
  for (size_t m = 0; m < N_MODES; m++) {
    char name[160];
    snprintf(name, sizeof name, "%s: %s", k_modes[m].name, tmpl->name);
    violation v = *tmpl;
    v.name = name;
    srv_start_mode(s, 1, &k_modes[m], NULL);
    bad += run_violations(s, &v, 1);
    srv_stop(s, &failed);
  }
  g_real_failures = failed;
  verdict(bad);
}

/* ======================================================================== */
/* RFC 6455 cases over TLS                                                  */
/* ======================================================================== */

/* Issue 15 #4: ten pings sent back to back in one write get ten pongs, in
 * order, each with its ping's payload (lws 4.1.6 answers the first only). */
static void test_tls_ten_pings_in_one_write_get_ten_pongs(void **state) {
  srv *s = *state;
  int bad = 0, failed = 0;
  for (size_t m = 0; m < N_MODES; m++) {
    srv_start_mode(s, 1, &k_modes[m], NULL);
    ssews_conn conn;
    peer *p = ws_open(s, "/ping", NULL, &conn);
    char pl[10][16];
    obuf o = {0};
    for (int i = 0; i < 10; i++) {
      int n = snprintf(pl[i], sizeof pl[i], "ping-%d", i);
      ob_frame(&o, 1, PEER_WS_PING, pl[i], (size_t)n);
    }
    ob_send(p, &o);
    int r = 0;
    for (int i = 0; i < 10 && !r; i++) {
      char name[128];
      snprintf(name, sizeof name, "%s: pong %d of ten pings in one write", k_modes[m].name, i + 1);
      r = check_control(p, PEER_WS_PONG, pl[i], strlen(pl[i]), name);
    }
    /* And the connection goes on. */
    if (!r) {
      char name[128];
      snprintf(name, sizeof name, "%s: echo after ten pings", k_modes[m].name);
      assert_int_equal(peer_ws_send(p, PEER_WS_TEXT, "after", 5), 0);
      r = check_echo(p, PEER_WS_TEXT, "after", 5, name);
    }
    bad += r ? 1 : 0;
    peer_free(p);
    srv_stop(s, &failed);
  }
  g_real_failures = failed;
  verdict(bad);
}

/* Two pings inside a text message of four fragments, all in one write: both
 * pongs, in order, then the reassembled message (Autobahn 5.19-like). */
static void test_tls_two_pings_inside_a_fragmented_message(void **state) {
  srv *s = *state;
  int bad = 0, failed = 0;
  for (size_t m = 0; m < N_MODES; m++) {
    char name[128];
    snprintf(name, sizeof name, "%s: two pings inside a 4-fragment text", k_modes[m].name);
    srv_start_mode(s, 1, &k_modes[m], NULL);
    ssews_conn conn;
    peer *p = ws_open(s, "/frag", NULL, &conn);
    obuf o = {0};
    ob_frame(&o, 0, PEER_WS_TEXT, "Hello, ", 7);
    ob_frame(&o, 1, PEER_WS_PING, "first", 5);
    ob_frame(&o, 0, PEER_WS_CONT, "frag", 4);
    ob_frame(&o, 0, PEER_WS_CONT, "mented ", 7);
    ob_frame(&o, 1, PEER_WS_PING, "second", 6);
    ob_frame(&o, 1, PEER_WS_CONT, "world", 5);
    ob_send(p, &o);
    const char *want = "Hello, fragmented world";
    int r = check_control(p, PEER_WS_PONG, "first", 5, name);
    if (!r) r = check_control(p, PEER_WS_PONG, "second", 6, name);
    if (!r) r = check_echo(p, PEER_WS_TEXT, want, strlen(want), name);
    if (!r) r = check_msg_event(s, conn, 0, 0, want, strlen(want), name);
    bad += r ? 1 : 0;
    peer_free(p);
    srv_stop(s, &failed);
  }
  g_real_failures = failed;
  verdict(bad);
}

/* The violations below are answered with their close code, then the TCP
 * connection ends within CLOSE_EOF_MS (2.5 s), also when the peer does not
 * answer the close (lws 4.1.6 over TLS: accepted, dropped without a close,
 * or held ~5 s awaiting the peer's close). */
static void test_tls_unmasked_frame_is_1002(void **state) {
  const violation v = {"unmasked text frame, the peer not answering the close",
                       NULL,
                       {{1, 0, PEER_WS_TEXT, "Hello", 5, 1}},
                       1,
                       0,
                       1002,
                       NULL,
                       0};
  g_violations_unanswered = 1;
  run_violation_in_modes(*state, &v);
  g_violations_unanswered = 0;
}

static void test_tls_control_frame_over_125_bytes_is_1002(void **state) {
  const violation v = {
      "ping with a 126-byte payload", NULL, {F(1, 0, PEER_WS_PING, NULL, 126)}, 1, 0, 1002, NULL, 0};
  run_violation_in_modes(*state, &v);
}

static void test_tls_close_reason_invalid_utf8_is_1007(void **state) {
  const violation v = {"close reason with invalid UTF-8 (7.5.1)",
                       NULL,
                       {F(1, 0, PEER_WS_CLOSE,
                          "\x03\xe8\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5\xed\xa0\x80"
                          "edited",
                          22)},
                       1,
                       0,
                       1007,
                       NULL,
                       0};
  run_violation_in_modes(*state, &v);
}

static void test_tls_rsv_bit_is_1002(void **state) {
  const violation v = {"text with RSV1 after a good message, the peer not answering the close",
                       "ok",
                       {F(1, 4, PEER_WS_TEXT, "Hello", 5)},
                       1,
                       0,
                       1002,
                       NULL,
                       0};
  g_violations_unanswered = 1;
  run_violation_in_modes(*state, &v);
  g_violations_unanswered = 0;
}

/* ======================================================================== */
/* Subprotocol chosen by the application, over TLS                          */
/* ======================================================================== */

typedef struct sp_ctx {
  int choose;    /* accept "chat" when offered */
  int rc_choose; /* what ssews_accept_subprotocol returned */
  char offered[128];
} sp_ctx;

/* Chooses "chat" in the open callback when told to; echoes each message with
 * an event name and id, which only an ssews.v1 connection would carry. */
static void sp_cb(ssews *ep, const ssews_event *ev, void *user) {
  sp_ctx *x = user;
  int kind = ssews_event_kind(ev);
  if (kind == SSEWS_EV_OPEN) {
    const char *h = ssews_event_header(ev, "sec-websocket-protocol");
    snprintf(x->offered, sizeof x->offered, "%s", h ? h : "");
    if (x->choose) x->rc_choose = ssews_accept_subprotocol(ep, ssews_event_conn(ev), "chat");
  } else if (kind == SSEWS_EV_MESSAGE) {
    size_t len = 0;
    const void *d = ssews_event_data(ev, &len);
    ssews_send(ep, ssews_event_conn(ev), d, len, ssews_event_is_binary(ev) ? SSEWS_BINARY : SSEWS_TEXT,
               "note", "7");
  }
}

static void test_tls_subprotocol_chosen_by_the_application(void **state) {
  (void)state;
  int bad = 0;
  for (size_t m = 0; m < N_MODES; m++) {
    for (int round = 0; round < 2; round++) {
      char name[160];
      snprintf(name, sizeof name, "%s: %s", k_modes[m].name,
               round == 0 ? "offer \"chat, ssews.v1\", the application chooses chat"
                          : "offer \"chat\", the application chooses none");
      sp_ctx x;
      memset(&x, 0, sizeof x);
      x.choose = round == 0;
      int port;
      ssews *ep = open_tls(sp_cb, &x, NULL, k_modes[m].tls, &port);
      peer *p = k_modes[m].tls ? peer_connect_alpn("127.0.0.1", port, k_modes[m].alpn, WAIT_MS)
                               : peer_connect("127.0.0.1", port, 0, WAIT_MS);
      assert_non_null(p);
      const char *const h[] = {
          round == 0 ? "Sec-WebSocket-Protocol: chat, ssews.v1" : "Sec-WebSocket-Protocol: chat", NULL};
      peer_http resp;
      memset(&resp, 0, sizeof resp);
      int st = peer_ws_handshake(p, "/sub", h, &resp, WAIT_MS);
      char v[128];
      const char *got = resp.head ? peer_http_header(&resp, "Sec-WebSocket-Protocol", v, sizeof v) : NULL;
      int r = 0;
      if (st != 0) {
        CASE_FAIL(name, "handshake gave %d (%s); head:\n%s", st, st < 0 ? peer_error() : "",
                  resp.head ? resp.head : "(none)");
        r = -1;
      } else if (round == 0 && (!got || strcmp(got, "chat"))) {
        CASE_FAIL(name, "Sec-WebSocket-Protocol in the 101 is %s, expected chat (accept_subprotocol gave %d)",
                  got ? got : "(absent)", x.rc_choose);
        r = -1;
      } else if (round == 1 && got) {
        CASE_FAIL(name, "the 101 names \"%s\", expected no Sec-WebSocket-Protocol", got);
        r = -1;
      } else {
        /* Plain frames: the echo is the bytes sent, no ssews.v1 envelope. */
        assert_int_equal(peer_ws_send(p, PEER_WS_TEXT, "hello", 5), 0);
        r = check_echo(p, PEER_WS_TEXT, "hello", 5, name);
      }
      if (round == 0 && x.rc_choose != SSEWS_OK && !r) {
        CASE_FAIL(name, "ssews_accept_subprotocol gave %d (%s)", x.rc_choose, ssews_last_error());
        r = -1;
      }
      bad += r ? 1 : 0;
      peer_http_free(&resp);
      peer_free(p);
      ssews_close(&ep);
    }
  }
  verdict(bad);
}

/* ======================================================================== */
/* Routing by ALPN                                                           */
/* ======================================================================== */

/* An SSE stream over TLS HTTP/1.1 (ssews relays it to libwebsockets once it
 * terminates TLS itself) gets the response head, its opening comment and a
 * published message; the ALPN selected is http/1.1 (none without ALPN). */
static void test_tls_sse_over_http11(void **state) {
  (void)state;
  for (size_t m = 1; m < N_MODES; m++) {
    recorder r;
    rec_init(&r);
    int port;
    ssews *ep = start_tls(&r, NULL, &port);
    peer *p = peer_connect_alpn("127.0.0.1", port, k_modes[m].alpn, WAIT_MS);
    assert_non_null(p);
    char sel[32];
    peer_alpn_selected(p, sel, sizeof sel);
    if (strcmp(sel, k_modes[m].alpn ? "http/1.1" : ""))
      fprintf(stderr, "%s: ALPN selected \"%s\"\n", k_modes[m].name, sel);
    assert_string_equal(sel, k_modes[m].alpn ? "http/1.1" : "");
    peer_http resp;
    memset(&resp, 0, sizeof resp);
    assert_int_equal(peer_http_get(p, "/news", sse_accept, &resp, WAIT_MS), 200);
    char buf[64];
    assert_string_equal(peer_http_header(&resp, "content-type", buf, sizeof buf), "text/event-stream");
    peer_http_free(&resp);
    char *hello = sse_read_until(p, "\n\n");
    assert_non_null(hello);
    assert_int_equal(hello[0], ':');
    free(hello);
    size_t cur = 0;
    assert_non_null(rec_wait(&r, SSEWS_EV_OPEN, &cur, WAIT_MS));
    assert_int_equal(ssews_publish(ep, "news", "over the relay", 14, SSEWS_TEXT, "note", NULL), SSEWS_OK);
    char *got = sse_read_until(p, "data: over the relay\n\n");
    assert_non_null(got);
    assert_non_null(strstr(got, "event: note\n"));
    free(got);
    peer_free(p);
    ssews_close(&ep);
    rec_free(&r);
  }
}

/* A publish POST whose body (200 KiB) is larger than the relay's buffers,
 * over TLS HTTP/1.1: 200, and a TLS SSE subscriber gets the body intact. */
static void test_tls_publish_large_body_over_http11(void **state) {
  (void)state;
  enum { BODY = 200 * 1024 };
  char *body = malloc(BODY + 1);
  assert_non_null(body);
  for (size_t i = 0; i < BODY; i++) body[i] = (char)('a' + (i * 7 + i / 26) % 26);
  body[BODY] = 0;
  for (size_t m = 1; m < N_MODES; m++) {
    recorder r;
    rec_init(&r);
    const char *const extra[] = {"publish_token", "tok", NULL};
    int port;
    ssews *ep = start_tls(&r, extra, &port);
    peer *sub = peer_connect_alpn("127.0.0.1", port, k_modes[m].alpn, WAIT_MS);
    assert_non_null(sub);
    peer_http resp;
    memset(&resp, 0, sizeof resp);
    assert_int_equal(peer_http_get(sub, "/bulk", sse_accept, &resp, WAIT_MS), 200);
    peer_http_free(&resp);
    size_t cur = 0;
    assert_non_null(rec_wait(&r, SSEWS_EV_OPEN, &cur, WAIT_MS));

    peer *pub = peer_connect_alpn("127.0.0.1", port, k_modes[m].alpn, WAIT_MS);
    assert_non_null(pub);
    char head[256];
    int hn = snprintf(head, sizeof head,
                      "POST /publish?channel=bulk HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer tok\r\n"
                      "Content-Length: %d\r\n\r\n",
                      BODY);
    assert_int_equal(peer_write(pub, head, (size_t)hn), 0);
    assert_int_equal(peer_write(pub, body, BODY), 0);
    char *rh = NULL;
    int n = peer_read_until(pub, "\r\n\r\n", &rh, WAIT_MS);
    if (n < 0) fprintf(stderr, "%s: no answer to the publish: %s\n", k_modes[m].name, peer_error());
    assert_true(n > 0);
    peer_http pr = {atoi(rh + 9), rh};
    char *answer = NULL;
    size_t alen = 0;
    assert_int_equal(peer_http_body(pub, &pr, &answer, &alen, WAIT_MS), 0);
    if (pr.status != 200) fprintf(stderr, "%s: publish answered %d %s\n", k_modes[m].name, pr.status, answer);
    assert_int_equal(pr.status, 200);
    assert_non_null(strstr(answer, "\"subscribers\":1"));
    free(answer);
    peer_http_free(&pr);
    peer_free(pub);

    char *want = malloc(BODY + 16);
    assert_non_null(want);
    snprintf(want, BODY + 16, "data: %s\n\n", body);
    char *got = sse_read_until(sub, want);
    if (!got)
      fprintf(stderr, "%s: the subscriber did not get the %d-byte body intact\n", k_modes[m].name, BODY);
    assert_non_null(got);
    free(got);
    free(want);
    peer_free(sub);
    ssews_close(&ep);
    rec_free(&r);
  }
  free(body);
}

/* A ClientHello offering h2 and http/1.1: h2 is selected when the http2
 * option is on (the default; lws serves it), http/1.1 when it is off. */
static void test_tls_alpn_h2_selected_only_with_http2_on(void **state) {
  (void)state;
  for (int off = 0; off <= 1; off++) {
    const char *const extra[] = {"http2", "false", NULL};
    int port;
    ssews *ep = start_tls(NULL, off ? extra : NULL, &port);
    peer *p = peer_connect_alpn("127.0.0.1", port, "h2,http/1.1", WAIT_MS);
    if (!p) fprintf(stderr, "connect: %s\n", peer_error());
    assert_non_null(p);
    char sel[32];
    peer_alpn_selected(p, sel, sizeof sel);
    if (strcmp(sel, off ? "http/1.1" : "h2"))
      fprintf(stderr, "http2 %s: ALPN selected \"%s\"\n", off ? "off" : "on", sel);
    assert_string_equal(sel, off ? "http/1.1" : "h2");
    peer_free(p);
    ssews_close(&ep);
  }
}

/* With http2 off, a peer offering "h2,http/1.1" speaks HTTP/1.1, so its
 * WebSocket is ssews': ten pings in one write get ten pongs. */
static void test_tls_h2_offer_with_http2_off_gets_strict_websocket(void **state) {
  srv *s = *state;
  const mode m = {"TLS, ALPN h2,http/1.1, http2 off", 1, "h2,http/1.1", 0};
  const char *const extra[] = {"http2", "false", NULL};
  srv_start_mode(s, 1, &m, extra);
  ssews_conn conn;
  peer *p = ws_open(s, "/ping", NULL, &conn);
  char pl[10][16];
  obuf o = {0};
  for (int i = 0; i < 10; i++) {
    int n = snprintf(pl[i], sizeof pl[i], "h2off-%d", i);
    ob_frame(&o, 1, PEER_WS_PING, pl[i], (size_t)n);
  }
  ob_send(p, &o);
  int r = 0;
  for (int i = 0; i < 10 && !r; i++) {
    char name[96];
    snprintf(name, sizeof name, "%s: pong %d of ten", m.name, i + 1);
    r = check_control(p, PEER_WS_PONG, pl[i], strlen(pl[i]), name);
  }
  peer_free(p);
  verdict(r ? 1 : 0);
}

/* ======================================================================== */
/* The front door's bounds, over TLS                                         */
/* ======================================================================== */

/* Half a ClientHello, then silence: closed after head_timeout (1 s here;
 * lws alone waits for handshake_timeout, 10 s). */
static void test_tls_half_client_hello_closed_after_head_timeout(void **state) {
  (void)state;
  const char *const extra[] = {"head_timeout", "1", NULL};
  int port;
  ssews *ep = start_tls(NULL, extra, &port);
  unsigned char *hello = NULL;
  size_t len = 0;
  assert_int_equal(peer_client_hello("127.0.0.1", "http/1.1", &hello, &len), 0);
  assert_true(len > 100);
  peer *p = peer_connect("127.0.0.1", port, 0, WAIT_MS);
  assert_non_null(p);
  assert_int_equal(peer_write(p, hello, len / 2), 0);
  free(hello);
  long long t0 = now_ms();
  int eof = peer_wait_eof(p, 4000);
  if (eof < 0)
    fprintf(stderr, "half a ClientHello: %s\n", peer_error());
  else if (getenv("SSEWS_TEST_VERBOSE"))
    fprintf(stderr, "  closed after %lld ms\n", now_ms() - t0);
  assert_int_equal(eof, 0);
  peer_free(p);
  ssews_close(&ep);
}

typedef struct answer {
  int status; /* -1: no head */
  char head[1024];
  char body[1024];
  int closed; /* the stream ended after the answer, within WAIT_MS */
} answer;

/* Reads an answer head and what follows to the end of the stream. */
static void read_answer(peer *p, answer *a) {
  memset(a, 0, sizeof *a);
  a->status = -1;
  char *head = NULL;
  if (peer_read_until(p, "\r\n\r\n", &head, WAIT_MS) > 0) {
    if (strncmp(head, "HTTP/1.", 7) == 0) a->status = atoi(head + 9);
    snprintf(a->head, sizeof a->head, "%s", head);
  } else {
    snprintf(a->head, sizeof a->head, "(no head: %s)", peer_error());
  }
  free(head);
  size_t n = 0;
  for (;;) {
    char buf[512];
    int r = peer_read(p, buf, sizeof buf, WAIT_MS);
    if (r <= 0) {
      a->closed = r == 0;
      break;
    }
    size_t take = (size_t)r < sizeof a->body - 1 - n ? (size_t)r : sizeof a->body - 1 - n;
    memcpy(a->body + n, buf, take);
    n += take;
  }
  a->body[n] = '\0';
}

/* 0 when a is status and the stream ended after it; else prints why. */
static int answer_is(const answer *a, int status, const char *what) {
  if (a->status == status && a->closed) return 0;
  fprintf(stderr, "%s: status %d (want %d), %s; head:\n%s\nbody: %s\n", what, a->status, status,
          a->closed ? "closed" : "not closed", a->head, a->body);
  return -1;
}

/* A plaintext request on the TLS port: a plaintext 400 that says to use TLS,
 * then the end of the connection. */
static void test_tls_plaintext_request_gets_400_naming_tls(void **state) {
  (void)state;
  int port;
  ssews *ep = start_tls(NULL, NULL, &port);
  peer *p = peer_connect("127.0.0.1", port, 0, WAIT_MS);
  assert_non_null(p);
  static const char req[] = "GET / HTTP/1.1\r\nHost: x\r\n\r\n";
  (void)peer_write(p, req, sizeof req - 1); /* the answer may come first */
  answer a;
  read_answer(p, &a);
  assert_int_equal(answer_is(&a, 400, "plaintext request on the TLS port"), 0);
  assert_int_equal(strncmp(a.head, "HTTP/1.1 400", 12), 0);
  if (!strcasestr(a.body, "tls") && !strcasestr(a.body, "https"))
    fprintf(stderr, "the 400's body does not mention TLS or https: %s\n", a.body);
  assert_true(strcasestr(a.body, "tls") || strcasestr(a.body, "https"));
  peer_free(p);
  ssews_close(&ep);
}

/* Bad request heads after a good TLS handshake get the front door's answers
 * through TLS: a NUL byte 400, a head over max_header_size 431. */
static void test_tls_bad_heads_answered_over_tls(void **state) {
  (void)state;
  int port;
  ssews *ep = start_tls(NULL, NULL, &port);
  static const char nul[] = "GET / HTTP/1.1\r\nHost: x\r\nX-Thing: a\0b\r\n\r\n";
  char big[9100];
  int n = snprintf(big, sizeof big, "GET / HTTP/1.1\r\nHost: x\r\nX-Big: ");
  memset(big + n, 'a', 9000 - (size_t)n - 4);
  memcpy(big + 9000 - 4, "\r\n\r\n", 4);
  int bad = 0;
  for (size_t m = 1; m < N_MODES; m++) {
    for (int k = 0; k < 2; k++) {
      char what[128];
      snprintf(what, sizeof what, "%s: %s", k_modes[m].name, k ? "9000-byte head" : "NUL in a header");
      peer *p = peer_connect_alpn("127.0.0.1", port, k_modes[m].alpn, WAIT_MS);
      assert_non_null(p);
      (void)peer_write(p, k ? big : nul, k ? 9000 : sizeof nul - 1);
      answer a;
      read_answer(p, &a);
      if (answer_is(&a, k ? 431 : 400, what)) {
        bad++;
      } else if (!strstr(a.body, k ? "max_header_size" : "NUL byte")) {
        fprintf(stderr, "%s: the body does not name the problem: %s\n", what, a.body);
        bad++;
      }
      peer_free(p);
    }
  }
  ssews_close(&ep);
  assert_int_equal(bad, 0);
}

int main(int argc, char **argv) {
  /* An optional argument selects tests by name pattern (e.g. "*pings*"). */
  if (argc > 1) cmocka_set_test_filter(argv[1]);
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(test_tls_ten_pings_in_one_write_get_ten_pongs, srv_setup, srv_teardown),
      cmocka_unit_test_setup_teardown(test_tls_two_pings_inside_a_fragmented_message, srv_setup,
                                      srv_teardown),
      cmocka_unit_test_setup_teardown(test_tls_unmasked_frame_is_1002, srv_setup, srv_teardown),
      cmocka_unit_test_setup_teardown(test_tls_control_frame_over_125_bytes_is_1002, srv_setup, srv_teardown),
      cmocka_unit_test_setup_teardown(test_tls_close_reason_invalid_utf8_is_1007, srv_setup, srv_teardown),
      cmocka_unit_test_setup_teardown(test_tls_rsv_bit_is_1002, srv_setup, srv_teardown),
      cmocka_unit_test(test_tls_subprotocol_chosen_by_the_application),
      cmocka_unit_test(test_tls_sse_over_http11),
      cmocka_unit_test(test_tls_publish_large_body_over_http11),
      cmocka_unit_test(test_tls_alpn_h2_selected_only_with_http2_on),
      cmocka_unit_test_setup_teardown(test_tls_h2_offer_with_http2_off_gets_strict_websocket, srv_setup,
                                      srv_teardown),
      cmocka_unit_test(test_tls_half_client_hello_closed_after_head_timeout),
      cmocka_unit_test(test_tls_plaintext_request_gets_400_naming_tls),
      cmocka_unit_test(test_tls_bad_heads_answered_over_tls),
  };
  return cmocka_run_group_tests_name("ws_tls", tests, make_cert, remove_cert);
}

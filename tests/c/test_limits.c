/* Limits and robustness: slow consumers stay bounded without delaying fast
 * ones, max_connections, sends and publishes from many threads, TLS. */
#define _GNU_SOURCE
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>
#include <poll.h>

#include "harness.h"
#include "peer.h"

static int message_number(const unsigned char *m) { return atoi((const char *)m); }

static void slow_consumer(const char *policy) {
  enum { COUNT = 96, SIZE = 256 * 1024 }; /* 24 MiB: more than the kernel buffers hold */
  recorder r;
  rec_init(&r);
  const char *const opts[] = {"max_queue_bytes", "1048576", "queue_policy", policy, NULL};
  int port;
  ssews *ep = start_server(&r, opts, &port);
  size_t cur = 0;
  peer *fast = ws_connect(port, "/feed", NULL, 0);
  const rec_event *o = rec_wait(&r, SSEWS_EV_OPEN, &cur, WAIT_MS);
  assert_non_null(o);
  peer *slow = ws_connect(port, "/feed", NULL, 0); /* never reads while we publish */
  o = rec_wait(&r, SSEWS_EV_OPEN, &cur, WAIT_MS);
  assert_non_null(o);
  ssews_conn slow_conn = o->conn;

  /* Publish at the pace of the fast reader: it gets every message, in
   * order, right away, while the slow one lags further and further. */
  char *buf = malloc(SIZE);
  memset(buf, 'x', SIZE);
  for (int i = 0; i < COUNT; i++) {
    int n = snprintf(buf, SIZE, "%08d", i);
    buf[n] = '-';
    assert_int_equal(ssews_publish(ep, "feed", buf, SIZE, SSEWS_TEXT, NULL, NULL), SSEWS_OK);
    unsigned char *m = NULL;
    size_t len = 0;
    assert_int_equal(peer_ws_read_message(fast, &m, &len, WAIT_MS), 1);
    assert_int_equal(len, SIZE);
    assert_int_equal(message_number(m), i);
    free(m);
  }
  free(buf);
  /* The server told the application about the slow consumer. */
  size_t c2 = 0;
  const rec_event *e = rec_wait_conn(&r, SSEWS_EV_ERROR, slow_conn, &c2, WAIT_MS);
  assert_non_null(e);
  assert_int_equal(e->code, SSEWS_ESLOW);
  assert_non_null(strstr(e->reason, "max_queue_bytes"));

  if (!strcmp(policy, "close")) {
    c2 = 0;
    const rec_event *cl = rec_wait_conn(&r, SSEWS_EV_CLOSE, slow_conn, &c2, WAIT_MS);
    assert_non_null(cl);
    assert_int_equal(cl->code, 1008);
  } else {
    /* drop_oldest: the slow reader still gets the newest message, and fewer than all. */
    int got = 0, last = -1;
    for (;;) {
      unsigned char *m = NULL;
      size_t len = 0;
      int op = peer_ws_read_message(slow, &m, &len, 1000);
      if (op != 1) {
        free(m);
        break;
      }
      int n = message_number(m);
      assert_true(n > last); /* still in order */
      last = n;
      got++;
      free(m);
      if (n == COUNT - 1) break;
    }
    assert_int_equal(last, COUNT - 1);
    assert_true(got < COUNT);
  }
  peer_free(fast);
  peer_free(slow);
  ssews_close(&ep);
  rec_free(&r);
}

static void test_slow_consumer_drop_oldest(void **state) {
  (void)state;
  slow_consumer("drop_oldest");
}

static void test_slow_consumer_close(void **state) {
  (void)state;
  slow_consumer("close");
}

static void test_max_connections(void **state) {
  (void)state;
  const char *const opts[] = {"max_connections", "2", NULL};
  int port;
  ssews *ep = start_server(NULL, opts, &port);
  peer *a = ws_connect(port, "/a", NULL, 0);
  peer *b = ws_connect(port, "/b", NULL, 0);
  peer *c = peer_connect("127.0.0.1", port, 0, WAIT_MS);
  peer_http resp;
  memset(&resp, 0, sizeof resp);
  assert_int_equal(peer_ws_handshake(c, "/c", NULL, &resp, WAIT_MS), 503);
  peer_http_free(&resp);
  peer_free(c);
  const char *const sse[] = {"Accept: text/event-stream", NULL};
  c = peer_connect("127.0.0.1", port, 0, WAIT_MS);
  memset(&resp, 0, sizeof resp);
  assert_int_equal(peer_http_get(c, "/c", sse, &resp, WAIT_MS), 503);
  peer_http_free(&resp);
  peer_free(c);
  peer_free(a);
  peer_free(b);
  ssews_close(&ep);
}

/* Many open SSE streams must not starve new requests: each stream gives its
 * request-header storage back (a pool of 64 once locked the server out). */
static void test_many_sse_streams_leave_room(void **state) {
  (void)state;
  enum { STREAMS = 300 };
  /* All from 127.0.0.1: more than one address may open by default. */
  const char *const opts[] = {"max_connections_per_ip", "0", "handshake_rate_per_ip", "0", NULL};
  int port;
  ssews *ep = start_server(NULL, opts, &port);
  static peer *streams[STREAMS];
  const char *const h[] = {"Accept: text/event-stream", NULL};
  for (int i = 0; i < STREAMS; i++) {
    streams[i] = peer_connect("127.0.0.1", port, 0, WAIT_MS);
    assert_non_null(streams[i]);
    peer_http resp;
    memset(&resp, 0, sizeof resp);
    assert_int_equal(peer_http_get(streams[i], "/?channel=many", h, &resp, WAIT_MS), 200);
    peer_http_free(&resp);
  }
  peer *ws = ws_connect(port, "/many", NULL, 0); /* still accepted at once */
  assert_int_equal(ssews_publish(ep, "many", "to all", 6, SSEWS_TEXT, NULL, NULL), SSEWS_OK);
  unsigned char *m = NULL;
  size_t len;
  assert_int_equal(peer_ws_read_message(ws, &m, &len, WAIT_MS), 1);
  free(m);
  for (int i = 0; i < STREAMS; i++) {
    char *got = sse_read_until(streams[i], "data: to all\n\n");
    assert_non_null(got);
    free(got);
    peer_free(streams[i]);
  }
  peer_free(ws);
  ssews_close(&ep);
}

struct pub_args {
  ssews *ep;
  int thread;
  int count;
  ssews_conn conn; /* also ssews_send to it when non-zero */
};

static void *publisher(void *arg) {
  struct pub_args *a = arg;
  char buf[64];
  for (int i = 0; i < a->count; i++) {
    int n = snprintf(buf, sizeof buf, "%d:%d", a->thread, i);
    int rc;
    if (a->conn) {
      while ((rc = ssews_send(a->ep, a->conn, buf, (size_t)n, SSEWS_TEXT, NULL, NULL)) == SSEWS_EFULL) usleep(100);
    } else {
      while ((rc = ssews_publish(a->ep, "mt", buf, (size_t)n, SSEWS_TEXT, NULL, NULL)) == SSEWS_EFULL) usleep(100);
    }
    if (rc != SSEWS_OK) return (void *)1;
  }
  return NULL;
}

static void run_threads(ssews *ep, ssews_conn conn, peer *reader) {
  enum { THREADS = 4, EACH = 500 };
  pthread_t t[THREADS];
  struct pub_args args[THREADS];
  for (int i = 0; i < THREADS; i++) {
    args[i] = (struct pub_args){ep, i, EACH, conn};
    pthread_create(&t[i], NULL, publisher, &args[i]);
  }
  int next[THREADS] = {0};
  for (int k = 0; k < THREADS * EACH; k++) {
    unsigned char *m = NULL;
    size_t len;
    assert_int_equal(peer_ws_read_message(reader, &m, &len, WAIT_MS), 1);
    int th = -1, seq = -1;
    assert_int_equal(sscanf((char *)m, "%d:%d", &th, &seq), 2);
    assert_true(th >= 0 && th < THREADS);
    assert_int_equal(seq, next[th]); /* each thread's messages arrive in its order */
    next[th]++;
    free(m);
  }
  for (int i = 0; i < THREADS; i++) {
    void *res;
    pthread_join(t[i], &res);
    assert_null(res);
    assert_int_equal(next[i], EACH);
  }
}

static void test_send_and_publish_from_threads(void **state) {
  (void)state;
  recorder r;
  rec_init(&r);
  int port;
  ssews *ep = start_server(&r, NULL, &port);
  size_t cur = 0;
  peer *sub = ws_connect(port, "/mt", NULL, 0);
  const rec_event *o = rec_wait(&r, SSEWS_EV_OPEN, &cur, WAIT_MS);
  assert_non_null(o);
  run_threads(ep, 0, sub);       /* publish */
  run_threads(ep, o->conn, sub); /* send */
  peer_free(sub);
  ssews_close(&ep);
  rec_free(&r);
}

/* TLS with a certificate made for the test. */
static char g_tls_dir[64];

/* Its two files. */
static void tls_files(char cert[128], char key[128]) {
  snprintf(cert, 128, "%s/cert.pem", g_tls_dir);
  snprintf(key, 128, "%s/key.pem", g_tls_dir);
}

static int make_cert(void **state) {
  (void)state;
  char cert[128], key[128];
  return tls_cert_make(g_tls_dir, cert, key);
}

static int remove_cert(void **state) {
  (void)state;
  return tls_cert_remove(g_tls_dir);
}

static void test_tls_wss_and_https_sse(void **state) {
  (void)state;
  char cert[128], key[128];
  tls_files(cert, key);
  recorder r;
  rec_init(&r);
  r.echo = 1;
  const char *const opts[] = {"tls_cert", cert, "tls_key", key, NULL};
  int port;
  ssews *ep = start_server(&r, opts, &port);

  peer *ws = ws_connect(port, "/secure", NULL, 1);
  char big[70000];
  memset(big, 'z', sizeof big);
  assert_int_equal(peer_ws_send(ws, 2, big, sizeof big), 0);
  unsigned char *m = NULL;
  size_t len;
  assert_int_equal(peer_ws_read_message(ws, &m, &len, WAIT_MS), 2);
  assert_int_equal(len, sizeof big);
  assert_memory_equal(m, big, len);
  free(m);

  peer *sse = peer_connect("127.0.0.1", port, 1, WAIT_MS);
  assert_non_null(sse);
  const char *const h[] = {"Accept: text/event-stream", NULL};
  peer_http resp;
  memset(&resp, 0, sizeof resp);
  assert_int_equal(peer_http_get(sse, "/secure", h, &resp, WAIT_MS), 200);
  peer_http_free(&resp);
  assert_int_equal(ssews_publish(ep, "secure", "over tls", 8, SSEWS_TEXT, "note", NULL), SSEWS_OK);
  char *got = sse_read_until(sse, "data: over tls\n\n");
  assert_non_null(got);
  assert_non_null(strstr(got, "event: note\n"));
  free(got);
  unsigned char *pm = NULL;
  assert_int_equal(peer_ws_read_message(ws, &pm, &len, WAIT_MS), 1);
  assert_string_equal((char *)pm, "over tls");
  free(pm);

  /* A plain-text client on the TLS port gets nowhere, and the server lives on. */
  peer *plain = peer_connect("127.0.0.1", port, 0, WAIT_MS);
  assert_true(peer_ws_handshake(plain, "/x", NULL, NULL, 2000) != 0);
  peer_free(plain);

  peer_free(ws);
  peer_free(sse);
  ssews_close(&ep);
  rec_free(&r);
}

static void test_bad_tls_files(void **state) {
  (void)state;
  /* Files that exist but hold no certificate: a TLS error, not a crash. */
  const char *opts[] = {"host", "127.0.0.1", "port", "0", "tls_cert", "/etc/hostname", "tls_key", "/etc/hostname", NULL};
  ssews *ep = NULL;
  int rc = ssews_open(&ep, opts, NULL, NULL);
  assert_int_equal(rc, SSEWS_ETLS);
  assert_null(ep);
  assert_non_null(strstr(ssews_last_error(), "tls_cert"));
}

/* Pull mode with an application that falls behind: reading from the peer
 * pauses (TCP pushes back) instead of queueing events without bound, and
 * nothing is lost once the application catches up. */
static void test_pull_queue_backpressure(void **state) {
  (void)state;
  const char *const opts[] = {"max_event_queue", "8", NULL};
  int port;
  ssews *ep = start_server(NULL, opts, &port);
  int fd;
  assert_int_equal(ssews_event_fd(ep, &fd), SSEWS_OK);
  peer *ws = ws_connect(port, "/bp", NULL, 0);
  enum { N = 200 };
  char buf[32];
  for (int i = 0; i < N; i++) {
    int n = snprintf(buf, sizeof buf, "m%d", i);
    assert_int_equal(peer_ws_send(ws, 1, buf, (size_t)n), 0);
  }
  int next = 0;
  while (next < N) {
    struct pollfd p = {.fd = fd, .events = POLLIN};
    assert_int_equal(poll(&p, 1, WAIT_MS), 1);
    const ssews_event *ev;
    while (ssews_next_event(ep, &ev) == SSEWS_OK) {
      if (ssews_event_kind(ev) != SSEWS_EV_MESSAGE) continue;
      size_t len;
      const char *d = ssews_event_data(ev, &len);
      int n = snprintf(buf, sizeof buf, "m%d", next);
      assert_int_equal(len, (size_t)n);
      assert_memory_equal(d, buf, len); /* all of them, in order */
      next++;
    }
  }
  peer_free(ws);
  ssews_close(&ep);
}

/* Waits until the server has read everything p sent so far: a ping sent
 * behind it is answered only once what came before it was read. */
static void wait_read_up_to_here(peer *p) {
  assert_int_equal(peer_ws_send_frame(p, 1, 0, PEER_WS_PING, "here", 4, 1), 0);
  peer_frame f;
  assert_int_equal(peer_ws_read_frame(p, &f, WAIT_MS), 0);
  assert_int_equal(f.opcode, 0xA);
  peer_frame_free(&f);
}

/* Issue 15 #12: unfinished messages are bounded endpoint-wide. Peers that each
 * hold part of a large message cannot together pass max_partial_bytes: the
 * one that would is closed with 1013 (try again later); the others go on,
 * and their messages still arrive whole. The same bound covers publish bodies
 * arriving slowly (503). */
static void test_partial_messages_bounded(void **state) {
  (void)state;
  recorder r;
  rec_init(&r);
  const char *const opts[] = {"max_partial_bytes", "65536", "publish_token", "t", NULL};
  int port;
  ssews *ep = start_server(&r, opts, &port);
  enum { PIECE = 40000 };
  char *piece = malloc(PIECE);
  memset(piece, 'a', PIECE);
  peer *a = ws_connect(port, "/room", NULL, 0);
  peer *b = ws_connect(port, "/room", NULL, 0);
  size_t cur = 0;
  assert_non_null(rec_wait(&r, SSEWS_EV_OPEN, &cur, WAIT_MS));
  assert_non_null(rec_wait(&r, SSEWS_EV_OPEN, &cur, WAIT_MS));
  /* a holds 40000 bytes of an unfinished message. */
  assert_int_equal(peer_ws_send_frame(a, 0, 0, 1, piece, PIECE, 1), 0);
  wait_read_up_to_here(a);
  /* b's 40000 would make 80000 > 65536: b is refused with 1013. */
  assert_int_equal(peer_ws_send_frame(b, 0, 0, 1, piece, PIECE, 1), 0);
  unsigned char *m = NULL;
  size_t len = 0;
  assert_int_equal(peer_ws_read_message(b, &m, &len, WAIT_MS), 8);
  assert_int_equal(peer_close_code(m, len), 1013);
  free(m);
  const rec_event *err = rec_wait(&r, SSEWS_EV_ERROR, &cur, WAIT_MS);
  assert_non_null(err);
  assert_int_equal(err->code, SSEWS_EFULL);
  assert_non_null(strstr(err->reason, "max_partial_bytes"));
  /* a finishes its message: it arrives whole. */
  assert_int_equal(peer_ws_send_frame(a, 1, 0, 0, "!", 1, 1), 0);
  const rec_event *msg = rec_wait(&r, SSEWS_EV_MESSAGE, &cur, WAIT_MS);
  assert_non_null(msg);
  assert_int_equal(msg->len, PIECE + 1);
  /* What a held is given back: a new peer may hold as much again. */
  peer *c = ws_connect(port, "/room", NULL, 0);
  assert_int_equal(peer_ws_send_frame(c, 0, 0, 1, piece, PIECE, 1), 0);
  assert_int_equal(peer_ws_send_frame(c, 1, 0, 0, "", 0, 1), 0);
  msg = rec_wait(&r, SSEWS_EV_MESSAGE, &cur, WAIT_MS);
  assert_non_null(msg);
  assert_int_equal(msg->len, PIECE);
  /* A publish body arriving while c holds another 40000: 503. */
  assert_int_equal(peer_ws_send_frame(c, 0, 0, 1, piece, PIECE, 1), 0);
  wait_read_up_to_here(c);
  peer *h = peer_connect("127.0.0.1", port, 0, WAIT_MS);
  assert_non_null(h);
  char head[256];
  int n = snprintf(head, sizeof head,
                   "POST /publish?channel=room HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer t\r\n"
                   "Content-Length: %d\r\n\r\n",
                   PIECE);
  assert_int_equal(peer_write(h, head, (size_t)n), 0);
  assert_int_equal(peer_write(h, piece, PIECE), 0);
  char *resp = NULL;
  assert_true(peer_read_until(h, "\r\n\r\n", &resp, WAIT_MS) > 0);
  assert_int_equal(atoi(resp + 9), 503);
  free(resp);
  peer_free(h);
  peer_free(a);
  peer_free(b);
  peer_free(c);
  free(piece);
  ssews_close(&ep);
  rec_free(&r);
}

/* Issue 15 #7: max_pending_bytes is one bound for calls from every thread.
 * While the service thread sits in an event callback nothing drains, so what
 * other threads queued and what the callback queues add up: once the other
 * thread has filled the bound, the callback's own publish is refused too. */
typedef struct pending_probe {
  pthread_mutex_t mu;
  pthread_cond_t cv;
  int in_callback, filled, rc_from_callback;
} pending_probe;

static void pending_cb(ssews *ep, const ssews_event *ev, void *user) {
  pending_probe *pp = user;
  if (ssews_event_kind(ev) != SSEWS_EV_OPEN) return;
  pthread_mutex_lock(&pp->mu);
  pp->in_callback = 1;
  pthread_cond_broadcast(&pp->cv);
  while (!pp->filled) pthread_cond_wait(&pp->cv, &pp->mu);
  pthread_mutex_unlock(&pp->mu);
  char buf[1000];
  memset(buf, 'x', sizeof buf);
  int rc = ssews_publish(ep, "c", buf, sizeof buf, SSEWS_TEXT, NULL, NULL);
  pthread_mutex_lock(&pp->mu);
  pp->rc_from_callback = rc;
  pp->in_callback = 2;
  pthread_cond_broadcast(&pp->cv);
  pthread_mutex_unlock(&pp->mu);
}

static void test_pending_bound_counts_every_thread(void **state) {
  (void)state;
  pending_probe pp;
  memset(&pp, 0, sizeof pp);
  pthread_mutex_init(&pp.mu, NULL);
  pthread_cond_init(&pp.cv, NULL);
  const char *opts[] = {"port", "0", "max_pending_bytes", "4096", NULL};
  ssews *ep = NULL;
  assert_int_equal(ssews_open(&ep, opts, pending_cb, &pp), SSEWS_OK);
  int port;
  assert_int_equal(ssews_port(ep, &port), SSEWS_OK);
  /* The handshake's open event holds the service thread; its answer comes later. */
  peer *p = peer_connect("127.0.0.1", port, 0, WAIT_MS);
  assert_non_null(p);
  static const char req[] =
      "GET /c HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
      "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n";
  assert_int_equal(peer_write(p, req, sizeof req - 1), 0);
  pthread_mutex_lock(&pp.mu);
  while (!pp.in_callback) pthread_cond_wait(&pp.cv, &pp.mu);
  pthread_mutex_unlock(&pp.mu);
  /* The service thread is held in the callback: fill the bound from here. */
  char buf[1000];
  memset(buf, 'y', sizeof buf);
  for (int i = 0; i < 4; i++)
    assert_int_equal(ssews_publish(ep, "c", buf, sizeof buf, SSEWS_TEXT, NULL, NULL), SSEWS_OK);
  assert_int_equal(ssews_publish(ep, "c", buf, sizeof buf, SSEWS_TEXT, NULL, NULL), SSEWS_EFULL);
  pthread_mutex_lock(&pp.mu);
  pp.filled = 1;
  pthread_cond_broadcast(&pp.cv);
  while (pp.in_callback != 2) pthread_cond_wait(&pp.cv, &pp.mu);
  pthread_mutex_unlock(&pp.mu);
  assert_int_equal(pp.rc_from_callback, SSEWS_EFULL); /* not a second budget of its own */
  peer_free(p);
  ssews_close(&ep);
  pthread_mutex_destroy(&pp.mu);
  pthread_cond_destroy(&pp.cv);
}

/* Over TLS, max_connections_per_ip counts too: one more connection from
 * that address is closed at accept (nothing can be answered before the TLS
 * handshake), and a closed one makes room again. */
static void test_tls_connections_per_address_capped(void **state) {
  (void)state;
  char cert[128], key[128];
  tls_files(cert, key);
  const char *const opts[] = {"tls_cert", cert, "tls_key", key, "max_connections_per_ip", "2", NULL};
  recorder r;
  rec_init(&r);
  int port;
  ssews *ep = start_server(&r, opts, &port);
  peer *ws[2];
  for (int i = 0; i < 2; i++) ws[i] = ws_connect(port, "/cap", NULL, 1);
  peer *third = peer_connect("127.0.0.1", port, 1, WAIT_MS);
  assert_null(third); /* the TLS handshake meets a closed socket */
  free_first_and_wait_close(&r, ws[0]); /* one goes: room for one more */
  ws[0] = ws_connect(port, "/cap", NULL, 1);
  for (int i = 0; i < 2; i++) peer_free(ws[i]);
  ssews_close(&ep);
  rec_free(&r);
}

/* Over TLS, a connection reading its first head (TLS handshake included)
 * takes a place in its address's share of heads being read: beyond
 * max_pending_heads_per_ip it is closed at once, before the server's TLS
 * flight (a TLS 1.3 client would otherwise believe itself connected), and
 * a head read whole makes room again. */
static void test_tls_heads_share_per_address(void **state) {
  (void)state;
  char cert[128], key[128];
  tls_files(cert, key);
  const char *const opts[] = {"tls_cert", cert, "tls_key", key, "max_pending_heads_per_ip", "2", NULL};
  int port;
  ssews *ep = start_server(NULL, opts, &port);
  peer *slow[2];
  for (int i = 0; i < 2; i++) {
    slow[i] = peer_connect("127.0.0.1", port, 1, WAIT_MS);
    assert_non_null(slow[i]);
    assert_int_equal(peer_write(slow[i], "GET /none HTTP/1.1\r\n", 20), 0); /* half a head */
  }
  assert_null(peer_connect("127.0.0.1", port, 1, WAIT_MS)); /* a third is closed at once */
  for (int i = 0; i < 2; i++) {
    assert_int_equal(peer_write(slow[i], "Host: x\r\n\r\n", 11), 0);
    char *h = NULL;
    assert_true(peer_read_until(slow[i], "\r\n\r\n", &h, WAIT_MS) > 0);
    assert_int_equal(atoi(h + 9), 404); /* read whole: no longer a head */
    free(h);
  }
  peer *p = peer_connect("127.0.0.1", port, 1, WAIT_MS);
  assert_non_null(p);
  peer_free(p);
  for (int i = 0; i < 2; i++) peer_free(slow[i]);
  ssews_close(&ep);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_pending_bound_counts_every_thread),
      cmocka_unit_test(test_partial_messages_bounded),
      cmocka_unit_test(test_slow_consumer_drop_oldest),
      cmocka_unit_test(test_slow_consumer_close),
      cmocka_unit_test(test_max_connections),
      cmocka_unit_test(test_many_sse_streams_leave_room),
      cmocka_unit_test(test_pull_queue_backpressure),
      cmocka_unit_test(test_send_and_publish_from_threads),
      cmocka_unit_test(test_tls_wss_and_https_sse),
      cmocka_unit_test(test_tls_connections_per_address_capped),
      cmocka_unit_test(test_tls_heads_share_per_address),
      cmocka_unit_test(test_bad_tls_files),
  };
  return cmocka_run_group_tests_name("limits", tests, make_cert, remove_cert);
}

/* Request events (issue 18, access log): with request_events, every HTTP
 * request answered without becoming a stream gives one SSEWS_EV_REQUEST
 * (method, path, query, peer, status, figures); without it, none. Over
 * loopback with raw peers. */
#define _GNU_SOURCE
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "harness.h"
#include "peer.h"

/* Request events as they came, with their figures. */
typedef struct req {
  char method[16], path[128], query[128], peer[64];
  int code, conn, protocol;
  double bytes_in, bytes_out, duration_ms;
  int has_messages; /* a request has no messages_in figure */
} req;

typedef struct reqs {
  pthread_mutex_t mu;
  pthread_cond_t cv;
  req r[32];
  int n, others_closed;
} reqs;

static void copy(char *dst, size_t cap, const char *s) {
  snprintf(dst, cap, "%s", s ? s : "(null)");
}

static void req_cb(ssews *ep, const ssews_event *ev, void *user) {
  (void)ep;
  reqs *q = user;
  pthread_mutex_lock(&q->mu);
  if (ssews_event_kind(ev) == SSEWS_EV_CLOSE) q->others_closed++;
  if (ssews_event_kind(ev) == SSEWS_EV_REQUEST && q->n < 32) {
    req *r = &q->r[q->n++];
    copy(r->method, sizeof r->method, ssews_event_name(ev));
    copy(r->path, sizeof r->path, ssews_event_path(ev));
    copy(r->query, sizeof r->query, ssews_event_query(ev));
    copy(r->peer, sizeof r->peer, ssews_event_peer(ev));
    r->code = ssews_event_code(ev);
    r->conn = (int)ssews_event_conn(ev);
    r->protocol = ssews_event_protocol(ev);
    assert_int_equal(ssews_event_stat(ev, "bytes_in", &r->bytes_in), SSEWS_OK);
    assert_int_equal(ssews_event_stat(ev, "bytes_out", &r->bytes_out), SSEWS_OK);
    assert_int_equal(ssews_event_stat(ev, "duration_ms", &r->duration_ms), SSEWS_OK);
    double v;
    r->has_messages = ssews_event_stat(ev, "messages_in", &v) == SSEWS_OK;
  }
  pthread_cond_broadcast(&q->cv);
  pthread_mutex_unlock(&q->mu);
}

/* Waits until n request events have come; returns the n-th (1-based). */
static req *wait_req(reqs *q, int n) {
  struct timespec until;
  clock_gettime(CLOCK_REALTIME, &until);
  until.tv_sec += WAIT_MS / 1000;
  pthread_mutex_lock(&q->mu);
  while (q->n < n)
    if (pthread_cond_timedwait(&q->cv, &q->mu, &until)) break;
  req *r = q->n >= n ? &q->r[n - 1] : NULL;
  pthread_mutex_unlock(&q->mu);
  if (!r) fail_msg("request event %d did not come", n);
  return r;
}

static char www[64];

/* A directory with one 6-byte file, for static answers. */
static void make_www(void) {
  if (www[0]) return;
  snprintf(www, sizeof www, "/tmp/ssews-req-XXXXXX");
  assert_non_null(mkdtemp(www));
  char file[96];
  snprintf(file, sizeof file, "%s/a.txt", www);
  FILE *f = fopen(file, "w");
  assert_non_null(f);
  fputs("hello\n", f);
  fclose(f);
}

static ssews *open_server(reqs *q, const char *request_events, int *port) {
  memset(q, 0, sizeof *q);
  pthread_mutex_init(&q->mu, NULL);
  pthread_cond_init(&q->cv, NULL);
  make_www();
  const char *opts[] = {"request_events", request_events, "publish_token", "t", "handshake_rate_per_ip", "0",
                        "static_dir", www, NULL};
  ssews *ep = NULL;
  assert_int_equal(ssews_open(&ep, opts, req_cb, q), SSEWS_OK);
  assert_int_equal(ssews_port(ep, port), SSEWS_OK);
  return ep;
}

/* Writes raw bytes as one request, reads the status line; returns the status. */
static int raw_request(int port, const char *bytes) {
  peer *p = peer_connect("127.0.0.1", port, 0, WAIT_MS);
  assert_non_null(p);
  assert_int_equal(peer_write(p, bytes, strlen(bytes)), 0);
  char *head = NULL;
  assert_true(peer_read_until(p, "\r\n\r\n", &head, WAIT_MS) > 0);
  int status = 0;
  assert_int_equal(sscanf(head, "HTTP/1.%*d %d", &status), 1);
  const char *cl = strcasestr(head, "content-length:");
  if (cl) { /* the body too, so the answer is over before the peer goes */
    size_t left = strtoul(cl + 15, NULL, 10);
    char buf[512];
    while (left > 0) {
      int n = peer_read(p, buf, left < sizeof buf ? left : sizeof buf, WAIT_MS);
      assert_true(n > 0);
      left -= (size_t)n;
    }
  }
  free(head);
  peer_free(p);
  return status;
}

static const char kPost[] =
    "POST /publish?channel=room&authorization=secret HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer t\r\n"
    "Content-Length: 5\r\n\r\nhello";
static const char kFile[] = "GET /a.txt HTTP/1.1\r\nHost: x\r\n\r\n";
static const char k404[] = "GET /nothing/here?token=abc HTTP/1.1\r\nHost: x\r\n\r\n";
/* An upgrade without Sec-WebSocket-Key: refused 400 by ssews' own handshake. */
static const char kBadUpgrade[] =
    "GET /room?authorization=secret HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
    "Sec-WebSocket-Version: 13\r\n\r\n";
/* A head the front door refuses before lws sees it (a control byte in a header name). */
static const char kBadHead[] = "GET /bad?x=1 HTTP/1.1\r\nHost: x\r\nBa\x01d: y\r\n\r\n";

static void test_request_events(void **state) {
  (void)state;
  reqs q;
  int port;
  ssews *ep = open_server(&q, "true", &port);

  assert_int_equal(raw_request(port, kPost), 200);
  req *r = wait_req(&q, 1);
  assert_string_equal(r->method, "POST");
  assert_string_equal(r->path, "/publish");
  assert_string_equal(r->query, "channel=room&authorization=secret");
  assert_string_equal(r->peer, "127.0.0.1");
  assert_int_equal(r->code, 200);
  assert_int_equal(r->conn, 0);
  assert_int_equal(r->protocol, 0);
  assert_false(r->has_messages);
  assert_true(r->bytes_in >= 5 + 60); /* the body and about the head */
  assert_true(r->bytes_out > 0);
  assert_true(r->duration_ms >= 0);

  assert_int_equal(raw_request(port, k404), 404);
  r = wait_req(&q, 2);
  assert_string_equal(r->method, "GET");
  assert_string_equal(r->path, "/nothing/here");
  assert_string_equal(r->query, "token=abc");
  assert_int_equal(r->code, 404);
  assert_true(r->bytes_out > 0);

  assert_int_equal(raw_request(port, kBadUpgrade), 400);
  r = wait_req(&q, 3);
  assert_string_equal(r->method, "GET");
  assert_string_equal(r->path, "/room");
  assert_string_equal(r->query, "authorization=secret");
  assert_string_equal(r->peer, "127.0.0.1");
  assert_int_equal(r->code, 400);
  assert_true(r->bytes_in >= sizeof kBadUpgrade - 1);
  assert_true(r->bytes_out > 0);

  assert_int_equal(raw_request(port, kBadHead), 400);
  r = wait_req(&q, 4);
  assert_string_equal(r->method, "GET");
  assert_string_equal(r->path, "/bad");
  assert_int_equal(r->code, 400);

  assert_int_equal(raw_request(port, kFile), 200);
  r = wait_req(&q, 5);
  assert_string_equal(r->path, "/a.txt");
  assert_int_equal(r->code, 200);
  assert_true(r->bytes_out >= 6); /* the file */

  /* A stream is a connection, not a request: an SSE stream opened and
   * closed gives open and close events and no request event. */
  peer *p = peer_connect("127.0.0.1", port, 0, WAIT_MS);
  assert_non_null(p);
  const char *hdr[] = {"Accept: text/event-stream", NULL};
  peer_http resp;
  memset(&resp, 0, sizeof resp);
  assert_int_equal(peer_http_get(p, "/news", hdr, &resp, WAIT_MS), 200);
  peer_http_free(&resp);
  peer_free(p);
  ssews_close(&ep); /* joins: every event has been delivered */
  assert_int_equal(q.n, 5);
  assert_int_equal(q.others_closed, 1);
}

static void test_request_events_off(void **state) {
  (void)state;
  reqs q;
  int port;
  ssews *ep = open_server(&q, "false", &port);
  assert_int_equal(raw_request(port, kPost), 200);
  assert_int_equal(raw_request(port, k404), 404);
  assert_int_equal(raw_request(port, kBadUpgrade), 400);
  assert_int_equal(raw_request(port, kBadHead), 400);
  assert_int_equal(raw_request(port, kFile), 200);
  ssews_close(&ep);
  assert_int_equal(q.n, 0);
}

static int cleanup(void **state) {
  (void)state;
  char cmd[128];
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", www);
  if (www[0] && system(cmd) != 0) return -1;
  return 0;
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_request_events),
      cmocka_unit_test(test_request_events_off),
  };
  return cmocka_run_group_tests(tests, NULL, cleanup);
}

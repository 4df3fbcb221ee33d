/* The front door (issue 15 #16): request heads lws 4.1.6 closed without a
 * word, or held until the handshake timeout, are answered at once with 431
 * or 400, a text/plain body naming the problem and Connection: close; good
 * heads, and every byte sent after them, still reach lws. Each case sends
 * raw bytes over loopback and times the answer against the handshake
 * timeout (10 s by default): "at once" is under 2 s.
 *
 * Limits per client (issue 16): slow heads (slow-loris) are cut at
 * head_timeout / handshake_timeout and by max_header_size, one address
 * holds only its share of the heads being read, and a full pool makes the
 * oldest give way, so another client is still served; per address,
 * connections and handshakes a second are capped (429 with Retry-After);
 * a stalled WebSocket frame header is cut by the pings. Several clients are
 * several source addresses (Linux routes all of 127/8 to loopback). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "harness.h"

static long long now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

typedef struct answer {
  int status; /* -1: no answer (closed, or nothing within WAIT_MS) */
  char head[1024];
  char body[1024];
  long long ms; /* from the last byte sent to the end of the connection */
  int closed;   /* the server closed after answering */
} answer;

/* Reads an answer from p to the end of the stream. */
static void read_answer(peer *p, answer *a) {
  memset(a, 0, sizeof *a);
  a->status = -1;
  long long t0 = now_ms();
  char *head = NULL;
  if (peer_read_until(p, "\r\n\r\n", &head, WAIT_MS) > 0) {
    a->status = atoi(head + 9);
    snprintf(a->head, sizeof a->head, "%s", head);
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
  a->ms = now_ms() - t0;
}

/* Sends req as it is from src (NULL: any address), reads the answer to the
 * end of the stream. */
static void send_raw_from(const char *src, int port, const char *req, size_t len, answer *a) {
  peer *p = src ? peer_connect_from(src, "127.0.0.1", port, WAIT_MS) : peer_connect("127.0.0.1", port, 0, WAIT_MS);
  assert_non_null(p);
  /* A refusal may come before the last byte is sent: a failed write is fine. */
  (void)peer_write(p, req, len);
  read_answer(p, a);
  peer_free(p);
}

static void send_raw(int port, const char *req, size_t len, answer *a) {
  send_raw_from(NULL, port, req, len, a);
}

/* A whole request from src for a path the server does not have: 404 means
 * lws got it and answered. */
static int get_none_from(const char *src, int port) {
  answer a;
  static const char req[] = "GET /none HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
  send_raw_from(src, port, req, sizeof req - 1, &a);
  return a.status;
}

/* A connection from src that sends half a head and waits. */
static peer *half_head_from(const char *src, int port) {
  peer *p = peer_connect_from(src, "127.0.0.1", port, WAIT_MS);
  assert_non_null(p);
  assert_int_equal(peer_write(p, "GET /none HTTP/1.1\r\n", 20), 0);
  return p;
}

/* The rest of half_head_from's head: it is served (404), then freed. */
static void finish_head(peer *p) {
  assert_int_equal(peer_write(p, "Host: x\r\n\r\n", 11), 0);
  char *h = NULL;
  assert_true(peer_read_until(p, "\r\n\r\n", &h, WAIT_MS) > 0);
  assert_int_equal(atoi(h + 9), 404);
  free(h);
  peer_free(p);
}

/* The answer is status, with a one-line text/plain body holding words, and
 * the connection closed, all well before the handshake timeout. */
static void expect_refusal(const answer *a, int status, const char *words) {
  if (a->status != status || !strstr(a->body, words))
    fprintf(stderr, "status %d, body \"%s\" (want %d with \"%s\")\n", a->status, a->body, status, words);
  assert_int_equal(a->status, status);
  assert_non_null(strstr(a->head, "Content-Type: text/plain"));
  assert_non_null(strstr(a->head, "Connection: close"));
  assert_non_null(strstr(a->body, words));
  assert_ptr_equal(strchr(a->body, '\n'), a->body + strlen(a->body) - 1); /* one line */
  assert_true(a->closed);
  assert_true(a->ms < 2000);
}

/* A 429 naming the limit, with a Retry-After of at least a second. */
static void expect_429(const answer *a, const char *limit) {
  expect_refusal(a, 429, limit);
  const char *ra = strstr(a->head, "Retry-After: ");
  assert_non_null(ra);
  assert_true(atoi(ra + 13) >= 1);
}

static void test_head_over_max_header_size_is_431(void **state) {
  (void)state;
  int port;
  ssews *ep = start_server(NULL, NULL, &port);
  /* 9,000 bytes of head against the default max_header_size of 8192. */
  char req[9100];
  int n = snprintf(req, sizeof req, "GET / HTTP/1.1\r\nHost: x\r\nX-Big: ");
  memset(req + n, 'a', 9000 - (size_t)n - 4);
  memcpy(req + 9000 - 4, "\r\n\r\n", 4);
  answer a;
  send_raw(port, req, 9000, &a);
  expect_refusal(&a, 431, "max_header_size (8192 bytes)");
  ssews_close(&ep);
}

static void test_ten_thousand_headers_is_431(void **state) {
  (void)state;
  const char *const opts[] = {"max_header_size", "65535", NULL}; /* the count, not the size, refuses */
  int port;
  ssews *ep = start_server(NULL, opts, &port);
  size_t cap = 16 + 10000 * 7 + 3, n = 0;
  char *req = malloc(cap);
  assert_non_null(req);
  n += (size_t)sprintf(req, "GET / HTTP/1.1\r\n");
  for (int i = 0; i < 10000; i++) n += (size_t)sprintf(req + n, "Zz: b\r\n");
  n += (size_t)sprintf(req + n, "\r\n");
  answer a;
  send_raw(port, req, n, &a);
  expect_refusal(&a, 431, "more than 100 header lines");
  free(req);
  ssews_close(&ep);
}

static void test_bad_bytes_are_400(void **state) {
  (void)state;
  static const struct {
    const char *req;
    size_t len;
    const char *words;
  } cases[] = {
#define REQ(s) s, sizeof s - 1
      {REQ("GET /%00 HTTP/1.1\r\nHost: x\r\n\r\n"), "%00 in the request target"},
      {REQ("GET /?channel=a%00b HTTP/1.1\r\nHost: x\r\nAccept: text/event-stream\r\n\r\n"), "%00"},
      /* A NUL in a header lws does not know (a known one was caught after
       * parsing already), and in the request line. */
      {REQ("GET / HTTP/1.1\r\nHost: x\r\nX-Thing: a\0b\r\n\r\n"), "NUL byte"},
      {REQ("GET /a\0b HTTP/1.1\r\nHost: x\r\n\r\n"), "NUL byte"},
      {REQ("GET / HTTP/1.1\r\nHost: x\rInjected: 1\r\n\r\n"), "CR not followed by LF"},
      {REQ("GET / HTTP/1.1\r\nHost: x\r\nZz: a\r\n b\r\n\r\n"), "obs-fold"},
      {REQ("GET /\r\n\r\n"), "malformed request line"},
#undef REQ
  };
  int port;
  ssews *ep = start_server(NULL, NULL, &port);
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    answer a;
    send_raw(port, cases[i].req, cases[i].len, &a);
    expect_refusal(&a, 400, cases[i].words);
  }
  ssews_close(&ep);
}

/* A host given by name (an interface, as here, or a host name) is resolved
 * to its address, and the door listens there as on an address (libwebsockets
 * listened on names before, and no head was checked); a name that resolves to
 * nothing is refused at open, naming it. */
static void test_host_given_by_name_has_the_door(void **state) {
  (void)state;
  const char *const opts[] = {"host", "lo", NULL};
  int port;
  ssews *ep = start_server(NULL, opts, &port);
  answer a;
  static const char req[] = "GET / HTTP/1.1\r\nHost: x\r\nX-Thing: a\0b\r\n\r\n";
  send_raw(port, req, sizeof req - 1, &a);
  expect_refusal(&a, 400, "NUL byte");
  ssews_close(&ep);
  const char *const bad[] = {"host", "no-such-host.invalid", "port", "0", NULL};
  ssews *none = NULL;
  assert_int_equal(ssews_open(&none, bad, NULL, NULL), SSEWS_ELISTEN);
  assert_non_null(strstr(ssews_last_error(), "no-such-host.invalid"));
  assert_null(none);
}

/* lws 4.1.6 matched "X-A" against "x-auth-token", lost the line end and
 * waited for the handshake timeout. */
static void test_prefix_of_known_name_answered_at_once(void **state) {
  (void)state;
  int port;
  ssews *ep = start_server(NULL, NULL, &port);
  static const char req[] = "GET / HTTP/1.1\r\nHost: x\r\nX-A: 1\r\n\r\n";
  answer a;
  send_raw(port, req, sizeof req - 1, &a);
  expect_refusal(&a, 400, "'X-A'");
  ssews_close(&ep);
}

/* A head that never ends gets 408 at the handshake timeout. */
static void test_unfinished_head_is_408(void **state) {
  (void)state;
  const char *const opts[] = {"handshake_timeout", "1", NULL};
  int port;
  ssews *ep = start_server(NULL, opts, &port);
  static const char req[] = "GET / HTTP/1.1\r\nHost: x\r\n";
  answer a;
  send_raw(port, req, sizeof req - 1, &a);
  assert_int_equal(a.status, 408);
  assert_non_null(strstr(a.body, "handshake_timeout (1 s)"));
  assert_true(a.closed);
  assert_true(a.ms >= 900 && a.ms < 3000);
  ssews_close(&ep);
}

/* Good heads reach lws with what followed them in the same write: a frame
 * right behind a WebSocket handshake, a bare-LF head, a leading empty line. */
static void test_good_heads_pass_with_what_follows(void **state) {
  (void)state;
  recorder r;
  rec_init(&r);
  r.echo = 1;
  int port;
  ssews *ep = start_server(&r, NULL, &port);
  peer *p = peer_connect("127.0.0.1", port, 0, WAIT_MS);
  assert_non_null(p);
  static const char hs[] = "GET /c HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                           "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
                           /* a masked text frame "hi" (mask 0) */
                           "\x81\x82\0\0\0\0hi";
  assert_int_equal(peer_write(p, hs, sizeof hs - 1), 0);
  char *head = NULL;
  assert_true(peer_read_until(p, "\r\n\r\n", &head, WAIT_MS) > 0);
  assert_int_equal(atoi(head + 9), 101);
  free(head);
  unsigned char *m = NULL;
  size_t len = 0;
  assert_int_equal(peer_ws_read_message(p, &m, &len, WAIT_MS), 1);
  assert_int_equal(len, 2);
  assert_memory_equal(m, "hi", 2);
  free(m);
  peer_free(p);

  static const char *const others[] = {"GET /none HTTP/1.1\nHost: x\n\n", "\r\nGET /none HTTP/1.1\r\nHost: x\r\n\r\n"};
  for (size_t i = 0; i < 2; i++) {
    peer *q = peer_connect("127.0.0.1", port, 0, WAIT_MS);
    assert_non_null(q);
    assert_int_equal(peer_write(q, others[i], strlen(others[i])), 0);
    char *h = NULL;
    assert_true(peer_read_until(q, "\r\n\r\n", &h, WAIT_MS) > 0);
    assert_int_equal(atoi(h + 9), 404); /* no static_dir: lws' answer, so lws parsed it */
    free(h);
    peer_free(q);
  }
  ssews_close(&ep);
  rec_free(&r);
}

/* The largest head the door lets through (max_header_size bytes, 100
 * headers, all unknown to lws, which keeps 8 bytes more for each) is
 * parsed by lws rather than closed for want of room. */
static void test_largest_head_is_served(void **state) {
  (void)state;
  int port;
  ssews *ep = start_server(NULL, NULL, &port);
  char req[8192 + 1];
  size_t n = (size_t)sprintf(req, "GET /none HTTP/1.1\r\n");
  for (int i = 0; i < 99; i++) n += (size_t)sprintf(req + n, "Zq: 1\r\n");
  n += (size_t)sprintf(req + n, "Zr: ");
  memset(req + n, 'v', 8192 - 4 - n);
  memcpy(req + 8192 - 4, "\r\n\r\n", 4);
  peer *p = peer_connect("127.0.0.1", port, 0, WAIT_MS);
  assert_non_null(p);
  assert_int_equal(peer_write(p, req, 8192), 0);
  char *head = NULL;
  assert_true(peer_read_until(p, "\r\n\r\n", &head, WAIT_MS) > 0);
  assert_int_equal(atoi(head + 9), 404); /* lws' own answer: it parsed the head */
  free(head);
  peer_free(p);
  ssews_close(&ep);
}

/* Heads being read are bounded on their own (max_pending_heads): with 2,
 * a third connection that begins its head while two others are halfway
 * through theirs takes the place of the oldest, which is answered 408 at
 * once; the second and the third still get served when they finish. (A
 * connection that has sent nothing is not handed over by the kernel yet:
 * TCP_DEFER_ACCEPT. Loopback delivers a segment within the send that makes
 * it, so the three join the accept queue, first in, first out, in order.) */
static void test_heads_being_read_are_bounded(void **state) {
  (void)state;
  const char *const opts[] = {"max_pending_heads", "2", NULL};
  int port;
  ssews *ep = start_server(NULL, opts, &port);
  peer *p[3];
  for (int i = 0; i < 3; i++) p[i] = half_head_from("127.0.0.1", port);
  answer a;
  read_answer(p[0], &a);
  expect_refusal(&a, 408, "max_pending_heads 2");
  peer_free(p[0]);
  for (int i = 1; i < 3; i++) finish_head(p[i]);
  ssews_close(&ep);
}

/* A head sent a byte at a time, each byte well within the deadline, is
 * still cut when the deadline for the whole head passes: head_timeout, or
 * handshake_timeout when that is shorter. Progress buys no time. */
static void drip_until_answered(int port, const char *words) {
  peer *p = peer_connect("127.0.0.1", port, 0, WAIT_MS);
  assert_non_null(p);
  static const char head[] = "GET /none HTTP/1.1\r\nHost: x\r\nX-Slow: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
  long long t0 = now_ms();
  char *got = NULL;
  size_t i = 0;
  int r = -1;
  /* One byte every 250 ms (a slow-loris client); the answer is awaited between bytes. */
  while (r < 0 && i < sizeof head - 1 && now_ms() - t0 < 8000) {
    if (peer_write(p, head + i++, 1) < 0) break; /* refused and closed meanwhile */
    r = peer_read_until(p, "\r\n\r\n", &got, 250);
  }
  if (r < 0) r = peer_read_until(p, "\r\n\r\n", &got, WAIT_MS);
  long long ms = now_ms() - t0;
  assert_true(r > 0);
  assert_int_equal(atoi(got + 9), 408);
  free(got);
  char *body = NULL;
  assert_true(peer_read_until(p, "\n", &body, WAIT_MS) > 0);
  if (!strstr(body, words)) fprintf(stderr, "408 body \"%s\" (want \"%s\")\n", body, words);
  assert_non_null(strstr(body, words));
  free(body);
  assert_true(ms >= 900 && ms < 3000); /* deadline 1 s, checked once a second */
  assert_true(i < sizeof head - 1);     /* cut while still dripping */
  peer_free(p);
}

static void test_slow_head_cut_at_head_timeout(void **state) {
  (void)state;
  const char *const opts[] = {"head_timeout", "1", NULL}; /* handshake_timeout stays 10 */
  int port;
  ssews *ep = start_server(NULL, opts, &port);
  drip_until_answered(port, "head_timeout (1 s)");
  ssews_close(&ep);
  const char *const opts2[] = {"handshake_timeout", "1", NULL}; /* head_timeout 5: the shorter holds */
  ep = start_server(NULL, opts2, &port);
  drip_until_answered(port, "handshake_timeout (1 s)");
  ssews_close(&ep);
}

/* A head that grows slowly and never ends is cut by max_header_size as
 * soon as it passes it, not at the deadline. */
static void test_slow_head_cut_by_max_header_size(void **state) {
  (void)state;
  const char *const opts[] = {"max_header_size", "256", NULL};
  int port;
  ssews *ep = start_server(NULL, opts, &port);
  peer *p = peer_connect("127.0.0.1", port, 0, WAIT_MS);
  assert_non_null(p);
  assert_int_equal(peer_write(p, "GET / HTTP/1.1\r\nX-Slow: ", 24), 0);
  long long t0 = now_ms();
  char *got = NULL;
  int r = -1, sent = 24;
  /* 16 bytes every 20 ms: past 256 bytes after about 300 ms. */
  while (r < 0 && sent < 4096) {
    if (peer_write(p, "aaaaaaaaaaaaaaaa", 16) < 0) break;
    sent += 16;
    r = peer_read_until(p, "\r\n\r\n", &got, 20);
  }
  if (r < 0) r = peer_read_until(p, "\r\n\r\n", &got, WAIT_MS);
  assert_true(r > 0);
  assert_int_equal(atoi(got + 9), 431);
  free(got);
  char *body = NULL;
  assert_true(peer_read_until(p, "\n", &body, WAIT_MS) > 0);
  assert_non_null(strstr(body, "max_header_size (256 bytes)"));
  free(body);
  assert_true(sent <= 256 + 16 * 8); /* answered as it passed the size, give or take a few pieces */
  assert_true(now_ms() - t0 < 2000);
  peer_free(p);
  ssews_close(&ep);
}

/* Slow-loris from one address: it gets its share of the heads being read
 * (max_pending_heads_per_ip) and 429 beyond it, while another address is
 * served at once, as is a whole request from the same address (a head that
 * comes in one piece needs no place). The slow ones are served when they
 * finish. */
static void test_slow_heads_from_one_address_leave_room(void **state) {
  (void)state;
  const char *const opts[] = {"max_pending_heads_per_ip", "4", NULL};
  int port;
  ssews *ep = start_server(NULL, opts, &port);
  peer *slow[4];
  for (int i = 0; i < 4; i++) slow[i] = half_head_from("127.0.0.3", port);
  answer a;
  send_raw_from("127.0.0.3", port, "GET /none HTTP/1.1\r\n", 20, &a);
  expect_429(&a, "max_pending_heads_per_ip (4)");
  assert_int_equal(get_none_from("127.0.0.4", port), 404);
  assert_int_equal(get_none_from("127.0.0.3", port), 404);
  peer *other = half_head_from("127.0.0.4", port); /* a slow head from elsewhere has its own share */
  finish_head(other);
  for (int i = 0; i < 4; i++) finish_head(slow[i]);
  ssews_close(&ep);
}

/* Slow-loris from many addresses (each within its share) fills the pool of
 * heads being read: each newcomer makes the oldest unfinished head give way
 * (408), so a client that sends its head is still served at once. */
static void test_slow_heads_from_many_addresses_give_way(void **state) {
  (void)state;
  enum { POOL = 4, SLOW = 8 };
  const char *const opts[] = {"max_pending_heads", "4", NULL};
  int port;
  ssews *ep = start_server(NULL, opts, &port);
  peer *slow[SLOW];
  for (int i = 0; i < SLOW; i++) {
    char src[32];
    snprintf(src, sizeof src, "127.0.1.%d", i + 1);
    slow[i] = half_head_from(src, port);
  }
  for (int i = 0; i < SLOW - POOL; i++) { /* the oldest gave way, in order */
    answer a;
    read_answer(slow[i], &a);
    expect_refusal(&a, 408, "max_pending_heads 4");
    peer_free(slow[i]);
  }
  assert_int_equal(get_none_from("127.0.0.2", port), 404);
  for (int i = SLOW - POOL; i < SLOW; i++) finish_head(slow[i]);
  ssews_close(&ep);
}

/* max_connections_per_ip counts connections lws holds (here WebSockets):
 * one more from that address gets 429 with Retry-After, another address is
 * served, and a closed connection makes room again. */
static void test_connections_per_address_capped(void **state) {
  (void)state;
  recorder r;
  rec_init(&r);
  const char *const opts[] = {"max_connections_per_ip", "3", NULL};
  int port;
  ssews *ep = start_server(&r, opts, &port);
  peer *ws[3];
  for (int i = 0; i < 3; i++) {
    ws[i] = peer_connect_from("127.0.0.5", "127.0.0.1", port, WAIT_MS);
    assert_non_null(ws[i]);
    assert_int_equal(peer_ws_handshake(ws[i], "/cap", NULL, NULL, WAIT_MS), 0);
  }
  static const char hs[] = "GET /cap HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                           "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n";
  answer a;
  send_raw_from("127.0.0.5", port, hs, sizeof hs - 1, &a);
  expect_429(&a, "max_connections_per_ip (3)");
  peer *elsewhere = peer_connect_from("127.0.0.6", "127.0.0.1", port, WAIT_MS);
  assert_non_null(elsewhere);
  assert_int_equal(peer_ws_handshake(elsewhere, "/cap", NULL, NULL, WAIT_MS), 0);
  free_first_and_wait_close(&r, ws[0]); /* one goes: room for one more */
  ws[0] = peer_connect_from("127.0.0.5", "127.0.0.1", port, WAIT_MS);
  assert_non_null(ws[0]);
  assert_int_equal(peer_ws_handshake(ws[0], "/cap", NULL, NULL, WAIT_MS), 0);
  for (int i = 0; i < 3; i++) peer_free(ws[i]);
  peer_free(elsewhere);
  ssews_close(&ep);
  rec_free(&r);
}

/* handshake_rate_per_ip: a burst, then 429 with Retry-After naming the
 * rate; another address has its own bucket; after Retry-After the address
 * is served again. */
static void test_handshake_rate_per_address(void **state) {
  (void)state;
  const char *const opts[] = {"handshake_rate_per_ip", "1", "handshake_burst_per_ip", "3", NULL};
  int port;
  ssews *ep = start_server(NULL, opts, &port);
  for (int i = 0; i < 3; i++) assert_int_equal(get_none_from("127.0.0.7", port), 404);
  answer a;
  static const char req[] = "GET /none HTTP/1.1\r\nHost: x\r\n\r\n";
  send_raw_from("127.0.0.7", port, req, sizeof req - 1, &a);
  expect_429(&a, "handshake_rate_per_ip (1/s, burst 3)");
  assert_int_equal(get_none_from("127.0.0.8", port), 404);
  /* Waiting what Retry-After says is the behaviour under test, not synchronisation. */
  const char *ra = strstr(a.head, "Retry-After: ");
  usleep((useconds_t)atoi(ra + 13) * 1000000u);
  assert_int_equal(get_none_from("127.0.0.7", port), 404);
  ssews_close(&ep);
}

/* A WebSocket peer that stalls inside a frame header (one byte of it, then
 * nothing) cannot answer the server's ping: it is dropped after
 * ping_interval + pong_timeout, with the close event saying why. */
static void test_stalled_frame_header_is_dropped(void **state) {
  (void)state;
  recorder r;
  rec_init(&r);
  const char *const opts[] = {"ping_interval", "1", "pong_timeout", "1", NULL};
  int port;
  ssews *ep = start_server(&r, opts, &port);
  peer *p = ws_connect(port, "/stall", NULL, 0);
  size_t cur = 0;
  const rec_event *open = rec_wait(&r, SSEWS_EV_OPEN, &cur, WAIT_MS);
  assert_non_null(open);
  ssews_conn conn = open->conn;
  assert_int_equal(peer_write(p, "\x81", 1), 0); /* FIN + text, then no length byte */
  long long t0 = now_ms();
  int eof = peer_wait_eof(p, 6000);
  if (eof < 0) fprintf(stderr, "%s\n", peer_error());
  assert_int_equal(eof, 0);
  assert_true(now_ms() - t0 < 4000);
  cur = 0;
  const rec_event *closed = rec_wait_conn(&r, SSEWS_EV_CLOSE, conn, &cur, WAIT_MS);
  assert_non_null(closed);
  assert_int_equal(closed->code, 1006);
  assert_non_null(strstr(closed->reason, "pong_timeout"));
  peer_free(p);
  ssews_close(&ep);
  rec_free(&r);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_head_over_max_header_size_is_431),
      cmocka_unit_test(test_ten_thousand_headers_is_431),
      cmocka_unit_test(test_bad_bytes_are_400),
      cmocka_unit_test(test_host_given_by_name_has_the_door),
      cmocka_unit_test(test_prefix_of_known_name_answered_at_once),
      cmocka_unit_test(test_unfinished_head_is_408),
      cmocka_unit_test(test_good_heads_pass_with_what_follows),
      cmocka_unit_test(test_largest_head_is_served),
      cmocka_unit_test(test_heads_being_read_are_bounded),
      cmocka_unit_test(test_slow_head_cut_at_head_timeout),
      cmocka_unit_test(test_slow_head_cut_by_max_header_size),
      cmocka_unit_test(test_slow_heads_from_one_address_leave_room),
      cmocka_unit_test(test_slow_heads_from_many_addresses_give_way),
      cmocka_unit_test(test_connections_per_address_capped),
      cmocka_unit_test(test_handshake_rate_per_address),
      cmocka_unit_test(test_stalled_frame_header_is_dropped),
  };
  return cmocka_run_group_tests_name("front_door", tests, NULL, NULL);
}

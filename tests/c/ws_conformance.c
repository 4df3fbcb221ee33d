/* Fixture and checks shared by the WebSocket conformance tests (see
 * ws_conformance.h), moved here from test_ws.c unchanged but for ws_open's
 * TLS choice. */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <cmocka.h>

#include "ws_conformance.h"

static int64_t now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int srv_setup(void **state) {
  *state = calloc(1, sizeof(srv));
  return *state ? 0 : -1;
}

int g_real_failures;

void srv_start(srv *s, int echo, const char *const *opts) {
  g_real_failures = 0;
  memset(s, 0, sizeof *s);
  rec_init(&s->r);
  s->inited = 1;
  s->r.echo = echo;
  s->ep = start_server(&s->r, opts, &s->port);
}

/* Closes the endpoint (every connection has had its close event afterwards). */
void srv_close(srv *s) {
  ssews_close(&s->ep);
  assert_null(s->ep);
}

int srv_teardown(void **state) {
  srv *s = *state;
  if (s->ep) ssews_close(&s->ep);
  if (s->inited) rec_free(&s->r);
  free(s);
  return 0;
}

peer *ws_open(srv *s, const char *path, const char *const *headers, ssews_conn *conn) {
  peer *p = s->tls ? peer_connect_alpn("127.0.0.1", s->port, s->alpn, WAIT_MS)
                   : peer_connect("127.0.0.1", s->port, 0, WAIT_MS);
  if (!p) fprintf(stderr, "connect: %s\n", peer_error());
  assert_non_null(p);
  if (s->upgrade_later) {
    peer_http r = {0};
    assert_int_equal(peer_http_get(p, "/not-here", NULL, &r, WAIT_MS), 404);
    char *body = NULL;
    size_t len = 0;
    assert_int_equal(peer_http_body(p, &r, &body, &len, WAIT_MS), 0);
    free(body);
    peer_http_free(&r);
  }
  int st = peer_ws_handshake(p, path, headers, NULL, WAIT_MS);
  if (st != 0) fprintf(stderr, "handshake: %d %s\n", st, peer_error());
  assert_int_equal(st, 0);
  const rec_event *o = rec_wait(&s->r, SSEWS_EV_OPEN, &s->open_cur, WAIT_MS);
  assert_non_null(o);
  assert_int_equal(o->protocol, SSEWS_PROTO_WS);
  if (conn) *conn = o->conn;
  return p;
}

/* ------------------------------------------------------------------------ */
/* Describing what arrived                                                   */
/* ------------------------------------------------------------------------ */

void hex(char *out, size_t n, const unsigned char *b, size_t len, size_t max) {
  size_t o = 0;
  out[0] = 0;
  for (size_t i = 0; i < len && i < max && o + 4 < n; i++)
    o += (size_t)snprintf(out + o, n - o, "%02x ", b[i]);
  if (len > max && o + 4 < n) snprintf(out + o, n - o, "...");
}

/* A frame as hex: the header bytes (minimal length encoding, as read) and the
 * payload, e.g. "88 02 | 03 ea". */
void describe_frame(const peer_frame *f, char *out, size_t n) {
  unsigned char h[10];
  size_t hl = 2;
  h[0] = (unsigned char)((f->fin ? 0x80 : 0) | (f->rsv << 4) | f->opcode);
  if (f->len < 126) {
    h[1] = (unsigned char)f->len;
  } else if (f->len <= 0xffff) {
    h[1] = 126, h[2] = (unsigned char)(f->len >> 8), h[3] = (unsigned char)f->len, hl = 4;
  } else {
    h[1] = 127, hl = 10;
    for (int i = 0; i < 8; i++) h[2 + i] = (unsigned char)((uint64_t)f->len >> (56 - 8 * i));
  }
  if (f->masked) h[1] |= 0x80;
  char a[64], b[200];
  hex(a, sizeof a, h, hl, hl);
  hex(b, sizeof b, f->payload, f->len, 40);
  snprintf(out, n, "frame %s| %s(fin=%d rsv=%d opcode=0x%x masked=%d len=%zu)", a, b, f->fin, f->rsv,
           f->opcode, f->masked, f->len);
}

/* The test's verdict: every case must pass. */
void verdict(int bad) {
  int real = g_real_failures;
  g_real_failures = 0;
  assert_int_equal(bad, 0);
  assert_int_equal(real, 0);
}

/* ------------------------------------------------------------------------ */
/* Non-asserting checks (return 0 or -1 after printing why)                 */
/* ------------------------------------------------------------------------ */

/* Reads one frame; it must be an unmasked, final control frame of opcode op
 * with exactly this payload. */
int check_control(peer *p, int op, const void *payload, size_t len, const char *name) {
  peer_frame f;
  if (peer_ws_read_frame(p, &f, WAIT_MS) < 0) {
    CASE_FAIL(name, "expected opcode 0x%x with %zu payload bytes, got no frame: %s", op, len, peer_error());
    return -1;
  }
  int ok = f.opcode == op && f.fin && !f.rsv && !f.masked && f.len == len &&
           (!len || !memcmp(f.payload, payload, len));
  if (!ok) {
    char d[400];
    describe_frame(&f, d, sizeof d);
    char want[200];
    hex(want, sizeof want, payload, len, 40);
    CASE_FAIL(name, "expected opcode 0x%x payload %s; got %s", op, want, d);
  }
  peer_frame_free(&f);
  return ok ? 0 : -1;
}

/* Pings sent back to back: RFC 6455 §5.5.3 lets the server skip the pong of
 * a ping it had not answered yet when a newer one arrives, but the most recent
 * ping must be answered. So: pongs in order, each carrying one of the ping
 * payloads (no repeats, no going back), ending with the last one. */
int check_pongs(peer *p, const char *const *payloads, const size_t *lens, size_t n, const char *name) {
  size_t next = 0; /* the first payload still acceptable */
  while (next < n) {
    peer_frame f;
    if (peer_ws_read_frame(p, &f, WAIT_MS) < 0) {
      CASE_FAIL(name, "no pong for the last of %zu pings (payload \"%.*s\"): %s", n, (int)lens[n - 1],
                payloads[n - 1], peer_error());
      return -1;
    }
    size_t j = next;
    while (j < n && !(f.len == lens[j] && (!f.len || !memcmp(f.payload, payloads[j], f.len)))) j++;
    if (f.opcode != PEER_WS_PONG || !f.fin || f.rsv || f.masked || j == n) {
      char d[400];
      describe_frame(&f, d, sizeof d);
      CASE_FAIL(name, "expected a pong for one of pings %zu..%zu, got %s", next, n - 1, d);
      peer_frame_free(&f);
      return -1;
    }
    peer_frame_free(&f);
    next = j + 1;
  }
  return 0;
}

/* Reads one whole message (answering server pings); it must be opcode op with
 * exactly these bytes. */
int check_echo(peer *p, int op, const void *data, size_t len, const char *name) {
  unsigned char *m = NULL;
  size_t mlen = 0;
  int got = peer_ws_read_message(p, &m, &mlen, WAIT_MS);
  int ok = got == op && mlen == len && (!len || !memcmp(m, data, len));
  if (!ok) {
    if (got < 0) {
      CASE_FAIL(name, "expected a %zu-byte message of opcode %d, got none: %s", len, op, peer_error());
    } else {
      char d[200];
      hex(d, sizeof d, m, mlen, 40);
      size_t diff = 0;
      while (diff < mlen && diff < len && m[diff] == ((const unsigned char *)data)[diff]) diff++;
      CASE_FAIL(name,
                "expected a %zu-byte message of opcode %d, got opcode %d with %zu bytes (first difference at "
                "%zu): %s",
                len, op, got, mlen, diff, d);
    }
  }
  free(m);
  return ok ? 0 : -1;
}

/* The connection's message event number `nth` (0-based) must carry these bytes. */
int check_msg_event(srv *s, ssews_conn conn, size_t nth, int binary, const void *data, size_t len,
                    const char *name) {
  size_t cur = 0;
  const rec_event *e = NULL;
  for (size_t i = 0; i <= nth; i++) {
    e = rec_wait_conn(&s->r, SSEWS_EV_MESSAGE, conn, &cur, WAIT_MS);
    if (!e) break;
  }
  if (!e) {
    CASE_FAIL(name, "no message event #%zu", nth);
    return -1;
  }
  if (e->binary != binary || e->len != len || (len && memcmp(e->data, data, len))) {
    CASE_FAIL(name, "message event: is_binary %d (want %d), %zu bytes (want %zu)%s", e->binary, binary,
              e->len, len, e->len == len ? ", bytes differ" : "");
    return -1;
  }
  return 0;
}

/* After the server's close frame (described by d) nothing more may come
 * (RFC 6455 §5.5.1), and the TCP connection must end within CLOSE_EOF_MS. */
int expect_eof_after_close(peer *p, const char *d, const char *ctx, const char *name) {
  unsigned char b[64];
  int n = peer_read(p, b, sizeof b, CLOSE_EOF_MS);
  if (n == 0) return 0;
  if (n > 0) {
    char h[200];
    hex(h, sizeof h, b, (size_t)n, 32);
    CASE_FAIL(name, "after its close frame (%s), the server sent more bytes: %s", d, h);
  } else {
    CASE_FAIL(name,
              "after its close frame (%s), the server did not close the TCP connection within %d ms%s: %s", d,
              CLOSE_EOF_MS, ctx, peer_error());
  }
  return -1;
}

/* Set by run_violations while the case sent frames behind its bad one. */
int g_frames_after_violation;

void no_close_frame(const char *name, int want_code) {
  CASE_FAIL(name, "expected a close frame (%d), got no frame%s: %s", want_code,
            g_frames_after_violation ? " (frames followed the bad one)" : "", peer_error());
}

/* The server must close: the next frame is a close with want_code (-1: an empty
 * close payload or 1000), then, after the peer answers with a close if `reply`,
 * the TCP connection ends within CLOSE_EOF_MS. If want_reason is not NULL the
 * reason must match. */
int check_close(peer *p, int want_code, const char *want_reason, int reply, const char *name) {
  peer_frame f;
  if (peer_ws_read_frame(p, &f, WAIT_MS) < 0) {
    no_close_frame(name, want_code);
    return -1;
  }
  char d[400];
  describe_frame(&f, d, sizeof d);
  int rc = 0;
  int code = peer_close_code(f.payload, f.len);
  if (f.opcode != PEER_WS_CLOSE) {
    CASE_FAIL(name, "expected a close frame with code %d, got %s", want_code, d);
    peer_frame_free(&f);
    return -1;
  }
  if (!f.fin || f.rsv || f.masked) {
    CASE_FAIL(name, "expected a close frame with code %d, got %s", want_code, d);
    rc = -1;
  } else if (want_code < 0 ? !(f.len == 0 || code == 1000) : code != want_code) {
    CASE_FAIL(name, "expected close code %d, got %s", want_code, d);
    rc = -1;
  } else if (want_reason && (f.len < 2 || strlen(want_reason) != f.len - 2 ||
                             memcmp(f.payload + 2, want_reason, f.len - 2))) {
    CASE_FAIL(name, "expected close reason \"%s\", got %s", want_reason, d);
    rc = -1;
  }
  if (f.opcode == PEER_WS_CLOSE && reply) peer_ws_send_close(p, code > 0 ? code : -1, NULL);
  peer_frame_free(&f);
  int64_t t0 = now_ms();
  if (expect_eof_after_close(
          p, d, reply ? " of the peer's answering close" : " (no close from the peer to await)", name)) {
    rc = -1;
  } else if (getenv("SSEWS_TEST_VERBOSE")) {
    fprintf(stderr, "  [%s] TCP closed %lld ms after the close frame\n", name, (long long)(now_ms() - t0));
  }
  return rc;
}

/* After the server failed the connection: its close event arrives (any code),
 * and no message event follows the first `messages` ones. */
int check_failed_events(srv *s, ssews_conn conn, size_t messages, const char *name) {
  size_t cur = 0;
  const rec_event *e = rec_wait_conn(&s->r, SSEWS_EV_CLOSE, conn, &cur, WAIT_MS);
  if (!e) {
    CASE_FAIL(name, "no close event for the connection");
    return -1;
  }
  if (getenv("SSEWS_TEST_VERBOSE"))
    fprintf(stderr, "  [%s] close event: code %d reason \"%s\"\n", name, e->code, e->reason);
  size_t n = rec_count(&s->r, SSEWS_EV_MESSAGE, conn);
  if (n != messages) {
    CASE_FAIL(name, "%zu message events, expected %zu", n, messages);
    return -1;
  }
  return 0;
}

/* After srv_close: exactly one close event per connection in conns. */
int check_one_close_each(srv *s, const ssews_conn *conns, size_t n, const char *const *names) {
  int bad = 0;
  for (size_t i = 0; i < n; i++) {
    size_t c = rec_count(&s->r, SSEWS_EV_CLOSE, conns[i]);
    if (c != 1) {
      CASE_FAIL(names[i], "%zu close events for the connection, expected exactly 1", c);
      bad++;
    }
  }
  return bad;
}

/* ------------------------------------------------------------------------ */
/* Raw frames (for chopped writes)                                           */
/* ------------------------------------------------------------------------ */

unsigned char *build_frame(int fin, int rsv, int op, const void *payload, size_t len, size_t *out_len) {
  static const unsigned char key[4] = {0x37, 0xfa, 0x21, 0x3d};
  unsigned char *b = malloc(len + 14);
  assert_non_null(b);
  size_t h = 2;
  b[0] = (unsigned char)((fin ? 0x80 : 0) | (rsv & 7) << 4 | (op & 15));
  if (len < 126) {
    b[1] = (unsigned char)(0x80 | len);
  } else if (len <= 0xffff) {
    b[1] = 0x80 | 126, b[2] = (unsigned char)(len >> 8), b[3] = (unsigned char)len, h = 4;
  } else {
    b[1] = 0x80 | 127, h = 10;
    for (int i = 0; i < 8; i++) b[2 + i] = (unsigned char)((uint64_t)len >> (56 - 8 * i));
  }
  memcpy(b + h, key, 4);
  h += 4;
  for (size_t i = 0; i < len; i++) b[h + i] = ((const unsigned char *)payload)[i] ^ key[i & 3];
  *out_len = h + len;
  return b;
}

/* Writes buf in pieces of `chunk` bytes (each its own write). */
void write_chopped(peer *p, const unsigned char *buf, size_t len, size_t chunk) {
  for (size_t off = 0; off < len; off += chunk) {
    size_t n = len - off < chunk ? len - off : chunk;
    assert_int_equal(peer_write(p, buf + off, n), 0);
  }
}

/* Several frames collected and sent in one write, so the server gets them in
 * one read (as Autobahn's "all sent in one chop" cases do). */

void ob_frame(obuf *o, int fin, int op, const void *payload, size_t len) {
  size_t fl;
  unsigned char *f = build_frame(fin, 0, op, payload, len, &fl);
  o->b = realloc(o->b, o->n + fl);
  assert_non_null(o->b);
  memcpy(o->b + o->n, f, fl);
  o->n += fl;
  free(f);
}

void ob_send(peer *p, obuf *o) {
  assert_int_equal(peer_write(p, o->b, o->n), 0);
  free(o->b);
  o->b = NULL;
  o->n = 0;
}

unsigned char *pattern(size_t len, int binary) {
  unsigned char *b = malloc(len ? len : 1);
  assert_non_null(b);
  for (size_t i = 0; i < len; i++)
    b[i] = binary ? (unsigned char)(i * 7 + (i >> 8)) : (unsigned char)('a' + i % 26);
  return b;
}

static void send_spec(peer *p, const frame_spec *fs) {
  unsigned char *gen = NULL;
  const void *pl = fs->payload;
  if (!pl) pl = gen = pattern(fs->len, 1);
  /* May fail: the server may already have failed the connection. */
  (void)peer_ws_send_frame(p, fs->fin, fs->rsv, fs->opcode, pl, fs->len, !fs->unmasked);
  free(gen);
}

/* Reads one frame into *f: 1 if it is a final text frame carrying exactly
 * `text`, 0 if it is something else (for the caller to check), -1 if none. */
static int read_optional_echo(peer *p, const char *text, peer_frame *f) {
  if (peer_ws_read_frame(p, f, WAIT_MS) < 0) return -1;
  return f->opcode == PEER_WS_TEXT && f->fin && f->len == strlen(text) && !memcmp(f->payload, text, f->len);
}

/* check_close for a frame already read. */
static int check_close_frame(peer *p, peer_frame *f, int want_code, int reply, const char *name) {
  char d[400];
  describe_frame(f, d, sizeof d);
  int rc = 0;
  int code = peer_close_code(f->payload, f->len);
  if (f->opcode != PEER_WS_CLOSE || !f->fin || f->rsv || f->masked || code != want_code) {
    CASE_FAIL(name, "expected a close frame with code %d, got %s", want_code, d);
    if (f->opcode != PEER_WS_CLOSE) return -1;
    rc = -1;
  }
  if (f->opcode == PEER_WS_CLOSE && reply) peer_ws_send_close(p, code > 0 ? code : -1, NULL);
  if (expect_eof_after_close(p, d, reply ? " of the peer's answering close" : "", name)) rc = -1;
  return rc;
}

/* Runs each violation on its own connection; returns how many failed. The
 * peer answers the server's close with a close of its own (as a browser
 * does) unless it already sent a close frame itself. */
int g_violations_unanswered;

int run_violations(srv *s, const violation *v, size_t n) {
  int bad = 0;
  ssews_conn *conns = calloc(n, sizeof *conns);
  const char **names = calloc(n, sizeof *names);
  assert_non_null(conns);
  assert_non_null(names);
  for (size_t i = 0; i < n; i++) {
    peer *p = ws_open(s, "/bad", NULL, &conns[i]);
    names[i] = v[i].name;
    int r = 0;
    size_t msgs = 0;
    int reply = !g_violations_unanswered;
    if (v[i].prelude) {
      assert_int_equal(peer_ws_send(p, PEER_WS_TEXT, v[i].prelude, strlen(v[i].prelude)), 0);
      r |= check_echo(p, PEER_WS_TEXT, v[i].prelude, strlen(v[i].prelude), v[i].name);
      msgs = 1;
    }
    for (size_t k = 0; k < v[i].nframes; k++) {
      send_spec(p, &v[i].frames[k]);
      if (v[i].frames[k].opcode == PEER_WS_CLOSE) reply = 0;
    }
    if (v[i].then_ping) peer_ws_send(p, PEER_WS_PING, "ping", 4); /* may fail: the server may be gone */
    g_frames_after_violation = v[i].frames_behind_bad;
    if (v[i].done_before) {
      peer_frame f;
      int e = read_optional_echo(p, v[i].done_before, &f);
      if (e < 0) {
        no_close_frame(v[i].name, v[i].want);
        r = -1;
      } else if (e == 1) {
        peer_frame_free(&f);
        r |= check_close(p, v[i].want, NULL, reply, v[i].name);
      } else {
        r |= check_close_frame(p, &f, v[i].want, reply, v[i].name);
        peer_frame_free(&f);
      }
      msgs++;
    } else {
      r |= check_close(p, v[i].want, NULL, reply, v[i].name);
    }
    g_frames_after_violation = 0;
    r |= check_failed_events(s, conns[i], msgs, v[i].name);
    bad += r ? 1 : 0;
    peer_free(p);
  }
  srv_close(s);
  bad += check_one_close_each(s, conns, n, names);
  free(conns);
  free(names);
  return bad;
}

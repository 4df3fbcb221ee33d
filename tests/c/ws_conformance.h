/* Fixture and checks shared by the WebSocket conformance tests: test_ws.c
 * (plain TCP, where ssews reads the frames) and test_ws_tls.c (the same
 * cases over TLS). A server with a recorder, a raw peer per case, checks that
 * print each failing case (with what the server sent) and count it, so one
 * run shows the whole picture; verdict() then fails the test. */
#ifndef SSEWS_TEST_WS_CONFORMANCE_H
#define SSEWS_TEST_WS_CONFORMANCE_H

#include <stdint.h>
#include <stdio.h>

#include "harness.h"
#include "peer.h"

/* How long the server may take to drop TCP after its close frame. RFC 6455
 * §5.5.1/§7.1.1: once a close has been both sent and received the server
 * closes TCP (and it does so first); §7.1.7: a server failing the connection
 * must not wait for, nor process, the peer's answering close. So this should
 * be immediate; half of WAIT_MS is ample on loopback and stays clear of a
 * 5-second "await close ack" timer, which would otherwise race WAIT_MS. */
#define CLOSE_EOF_MS (WAIT_MS / 2)

/* ------------------------------------------------------------------------ */
/* Fixture: a server (echoing or not) and its recorder                       */
/* ------------------------------------------------------------------------ */

typedef struct srv {
  recorder r;
  int inited;
  ssews *ep;
  int port;
  size_t open_cur;  /* next OPEN event to claim in ws_open */
  int tls;          /* ws_open connects with TLS (set after srv_start) */
  const char *alpn; /* and offers this ALPN list (NULL: no ALPN extension) */
  /* ws_open first makes an HTTP request on the connection and upgrades it
   * after the answer: libwebsockets, which parses the later requests of a
   * connection, then frames the WebSocket (ws_server.cpp). */
  int upgrade_later;
} srv;

/* Each test gets a zeroed srv as its state; the teardown closes whatever the
 * test left open, so a failed assertion never leaves a server calling back
 * into a recorder that is gone. */
int srv_setup(void **state);
int srv_teardown(void **state);
/* Starts a server (echoing each message when echo) with extra options. */
void srv_start(srv *s, int echo, const char *const *opts);
/* Closes the endpoint (every connection has had its close event afterwards). */
void srv_close(srv *s);
/* Opens a WebSocket to s (over TLS when s->tls) and returns it with its
 * connection id. */
peer *ws_open(srv *s, const char *path, const char *const *headers, ssews_conn *conn);

/* ------------------------------------------------------------------------ */
/* Describing what arrived, counting failed cases                            */
/* ------------------------------------------------------------------------ */

extern int g_real_failures; /* failed cases in the current test */

#define CASE_FAIL(name, ...)                       \
  do {                                             \
    fprintf(stderr, "  FAILED CASE [%s]: ", name); \
    fprintf(stderr, __VA_ARGS__);                  \
    fprintf(stderr, "\n");                         \
    g_real_failures++;                             \
  } while (0)

void hex(char *out, size_t n, const unsigned char *b, size_t len, size_t max);
/* A frame as hex: the header bytes (minimal length encoding, as read) and the
 * payload, e.g. "88 02 | 03 ea". */
void describe_frame(const peer_frame *f, char *out, size_t n);
/* The test's verdict: every case must pass. */
void verdict(int bad);

/* ------------------------------------------------------------------------ */
/* Non-asserting checks (return 0 or -1 after printing why)                 */
/* ------------------------------------------------------------------------ */

/* Reads one frame; it must be an unmasked, final control frame of opcode op
 * with exactly this payload. */
int check_control(peer *p, int op, const void *payload, size_t len, const char *name);
/* Pings sent back to back: pongs in order, each carrying one of the ping
 * payloads (no repeats, no going back), ending with the last one (RFC 6455
 * §5.5.3 lets a server skip all but the most recent). */
int check_pongs(peer *p, const char *const *payloads, const size_t *lens, size_t n, const char *name);
/* Reads one whole message (answering server pings); it must be opcode op with
 * exactly these bytes. */
int check_echo(peer *p, int op, const void *data, size_t len, const char *name);
/* The connection's message event number `nth` (0-based) must carry these bytes. */
int check_msg_event(srv *s, ssews_conn conn, size_t nth, int binary, const void *data, size_t len,
                    const char *name);
/* After the server's close frame (described by d) nothing more may come
 * (RFC 6455 §5.5.1), and the TCP connection must end within CLOSE_EOF_MS. */
int expect_eof_after_close(peer *p, const char *d, const char *ctx, const char *name);
/* Set by run_violations while the case sent frames behind its bad one. */
extern int g_frames_after_violation;
void no_close_frame(const char *name, int want_code);
/* The server must close: the next frame is a close with want_code (-1: an empty
 * close payload or 1000), then, after the peer answers with a close if `reply`,
 * the TCP connection ends within CLOSE_EOF_MS. If want_reason is not NULL the
 * reason must match. */
int check_close(peer *p, int want_code, const char *want_reason, int reply, const char *name);
/* After the server failed the connection: its close event arrives (any code),
 * and no message event follows the first `messages` ones. */
int check_failed_events(srv *s, ssews_conn conn, size_t messages, const char *name);
/* After srv_close: exactly one close event per connection in conns. */
int check_one_close_each(srv *s, const ssews_conn *conns, size_t n, const char *const *names);

/* ------------------------------------------------------------------------ */
/* Raw frames (for chopped writes and several frames in one write)           */
/* ------------------------------------------------------------------------ */

/* A masked client frame (fixed key), malloc'd, its length in *out_len. */
unsigned char *build_frame(int fin, int rsv, int op, const void *payload, size_t len, size_t *out_len);
/* Writes buf in pieces of `chunk` bytes (each its own write). */
void write_chopped(peer *p, const unsigned char *buf, size_t len, size_t chunk);

/* Several frames collected and sent in one write, so the server gets them in
 * one read (as Autobahn's "all sent in one chop" cases do). */
typedef struct obuf {
  unsigned char *b;
  size_t n;
} obuf;
void ob_frame(obuf *o, int fin, int op, const void *payload, size_t len);
void ob_send(peer *p, obuf *o);

/* len bytes of a pattern: letters (text) or varied bytes (binary). */
unsigned char *pattern(size_t len, int binary);

/* ------------------------------------------------------------------------ */
/* Protocol violations: the server fails the connection with a close code    */
/* ------------------------------------------------------------------------ */

typedef struct frame_spec {
  int fin, rsv, opcode;
  const char *payload; /* NULL: `len` bytes of pattern */
  size_t len;
  int unmasked;
} frame_spec;

typedef struct violation {
  const char *name;
  const char *prelude; /* a text message sent (and echoed) first, or NULL */
  frame_spec frames[4];
  size_t nframes;
  int then_ping; /* a ping after the bad frame (must not be answered) */
  int want;      /* close code */
  /* A complete text message inside `frames`, before the violation: its
   * message event must happen; its echo may come before the close or not at
   * all (the server may fail the connection before sending it). */
  const char *done_before;
  /* Frames follow the bad one: the close must still come. */
  int frames_behind_bad;
} violation;

/* Runs each violation on its own connection (ws_open), then closes the
 * server (srv_close); returns how many failed. The peer answers the server's
 * close with a close of its own (as a browser does) unless it already sent a
 * close frame itself or g_violations_unanswered is set. */
int run_violations(srv *s, const violation *v, size_t n);
/* Non-zero: run_violations' peer never answers the server's close, which
 * must end TCP all the same, without awaiting an answer (RFC 6455 §7.1.7). */
extern int g_violations_unanswered;

/* 124 bytes: with a 2-byte code, a close payload one byte over the 125 allowed. */
#define A16 "aaaaaaaaaaaaaaaa"
#define REASON124 A16 A16 A16 A16 A16 A16 A16 "aaaaaaaaaaaa"

/* A masked frame_spec. */
#define F(fin, rsv, op, pl, len) \
  { fin, rsv, op, pl, len, 0 }

#endif

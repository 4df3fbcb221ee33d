/* RFC 6455 conformance of the WebSocket SERVER, in the spirit of the Autobahn
 * testsuite (sections 1-7 and 9, at small sizes), over a raw loopback peer that
 * sends exact frames and checks exactly what the server puts on the wire.
 *
 * Table-driven tests run every case of their table on a fresh connection and
 * print each case that fails (with the frame or status the server sent) before
 * failing, so one run shows the whole picture. */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <pthread.h>
#include <string.h>
#include <time.h>
#include <cmocka.h>

#include "harness.h"
#include "peer.h"
#include "ws_conformance.h"

static int64_t now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ======================================================================== */
/* Section 1 and 9: echo of text and binary at many sizes                   */
/* ======================================================================== */

static void test_echo_sizes(void **state) {
  srv *s = *state;
  srv_start(s, 1, NULL);
  static const size_t sizes[] = {0, 1, 125, 126, 127, 65535, 65536, 1024 * 1024};
  int bad = 0;
  for (int binary = 0; binary <= 1; binary++) {
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
      char name[64];
      snprintf(name, sizeof name, "%s %zu bytes", binary ? "binary" : "text", sizes[i]);
      ssews_conn conn;
      peer *p = ws_open(s, "/echo", NULL, &conn);
      unsigned char *d = pattern(sizes[i], binary);
      int op = binary ? PEER_WS_BINARY : PEER_WS_TEXT;
      assert_int_equal(peer_ws_send(p, op, d, sizes[i]), 0);
      int r = check_echo(p, op, d, sizes[i], name);
      r |= check_msg_event(s, conn, 0, binary, d, sizes[i], name);
      bad += r ? 1 : 0;
      free(d);
      peer_free(p);
    }
  }
  verdict(bad);
}

/* 9.x at small sizes: big messages in many fragments, and frames written to
 * the socket in small pieces. */
static void test_echo_large_fragmented_and_chopped(void **state) {
  srv *s = *state;
  srv_start(s, 1, NULL);
  int bad = 0;
  struct {
    const char *name;
    int binary;
    size_t total, frag; /* frag 0: one frame */
    size_t chop;        /* 0: one write per frame */
  } cases[] = {
      {"binary 1 MiB in 4 KiB fragments", 1, 1024 * 1024, 4096, 0},
      {"text 256 KiB in 64-byte fragments", 0, 256 * 1024, 64, 0},
      {"binary 1 MiB frame written in 997-byte pieces", 1, 1024 * 1024, 0, 997},
      {"text 64 KiB frame written byte by byte", 0, 65536, 0, 1},
      {"text 128 KiB in 1000-byte fragments written in 333-byte pieces", 0, 128 * 1024, 1000, 333},
  };
  for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
    ssews_conn conn;
    peer *p = ws_open(s, "/big", NULL, &conn);
    unsigned char *d = pattern(cases[c].total, cases[c].binary);
    int op = cases[c].binary ? PEER_WS_BINARY : PEER_WS_TEXT;
    size_t frag = cases[c].frag ? cases[c].frag : cases[c].total;
    for (size_t off = 0; off < cases[c].total; off += frag) {
      size_t n = cases[c].total - off < frag ? cases[c].total - off : frag;
      int fin = off + n == cases[c].total;
      size_t fl;
      unsigned char *f = build_frame(fin, 0, off ? PEER_WS_CONT : op, d + off, n, &fl);
      write_chopped(p, f, fl, cases[c].chop ? cases[c].chop : fl);
      free(f);
    }
    int r = check_echo(p, op, d, cases[c].total, cases[c].name);
    r |= check_msg_event(s, conn, 0, cases[c].binary, d, cases[c].total, cases[c].name);
    bad += r ? 1 : 0;
    free(d);
    peer_free(p);
  }
  verdict(bad);
}

/* 9.7/9.8 at small sizes: many small messages, all echoed, in order. */
static void test_echo_many_small_messages_in_order(void **state) {
  srv *s = *state;
  srv_start(s, 1, NULL);
  ssews_conn conn;
  peer *p = ws_open(s, "/many", NULL, &conn);
  enum { N = 1000 };
  for (int i = 0; i < N; i++) {
    char buf[32];
    int n = snprintf(buf, sizeof buf, "message %04d", i);
    assert_int_equal(peer_ws_send(p, i % 2 ? PEER_WS_BINARY : PEER_WS_TEXT, buf, (size_t)n), 0);
  }
  for (int i = 0; i < N; i++) {
    char buf[32];
    int n = snprintf(buf, sizeof buf, "message %04d", i);
    assert_int_equal(check_echo(p, i % 2 ? PEER_WS_BINARY : PEER_WS_TEXT, buf, (size_t)n, "many small"), 0);
  }
  assert_int_equal(rec_count(&s->r, SSEWS_EV_MESSAGE, conn), N);
  peer_free(p);
}

/* ======================================================================== */
/* Section 5: fragmentation                                                  */
/* ======================================================================== */

/* Each scenario runs on a fresh connection and returns 0 or -1. */

/* "Hello, " + "" + "fragmented " + ping + "" + "world": the pong comes
 * first, then the reassembled message (5.6, 6.1). */
static int frag_ping_between_fragments(srv *s, peer *p, ssews_conn conn) {
  const char *name = "text in fragments with empty ones and a ping between";
  obuf o = {0};
  ob_frame(&o, 0, PEER_WS_TEXT, "Hello, ", 7);
  ob_frame(&o, 0, PEER_WS_CONT, "", 0);
  ob_frame(&o, 0, PEER_WS_CONT, "fragmented ", 11);
  ob_frame(&o, 1, PEER_WS_PING, "in between", 10);
  ob_frame(&o, 0, PEER_WS_CONT, "", 0);
  ob_frame(&o, 1, PEER_WS_CONT, "world", 5);
  ob_send(p, &o);
  const char *want = "Hello, fragmented world";
  if (check_control(p, PEER_WS_PONG, "in between", 10, name)) return -1;
  if (check_echo(p, PEER_WS_TEXT, want, strlen(want), name)) return -1;
  return check_msg_event(s, conn, 0, 0, want, strlen(want), name);
}

/* Binary starting with an empty fragment, two pings inside, all in one write
 * (5.19-like). */
static int frag_two_pings_inside_binary(srv *s, peer *p, ssews_conn conn) {
  const char *name = "binary in fragments with two pings inside";
  const unsigned char bin[] = {0x00, 0xff, 0x80, 0x7f, 0x01};
  obuf o = {0};
  ob_frame(&o, 0, PEER_WS_BINARY, "", 0);
  ob_frame(&o, 0, PEER_WS_CONT, bin, 2);
  ob_frame(&o, 1, PEER_WS_PING, "p1", 2);
  ob_frame(&o, 0, PEER_WS_CONT, bin + 2, 1);
  ob_frame(&o, 1, PEER_WS_PING, "", 0);
  ob_frame(&o, 1, PEER_WS_CONT, bin + 3, 2);
  ob_send(p, &o);
  const char *const pl[] = {"p1", ""};
  const size_t pn[] = {2, 0};
  if (check_pongs(p, pl, pn, 2, name)) return -1;
  if (check_echo(p, PEER_WS_BINARY, bin, sizeof bin, name)) return -1;
  return check_msg_event(s, conn, 0, 1, bin, sizeof bin, name);
}

/* 6.1.2: three empty fragments are one empty message; then a message whose
 * final fragment is empty. */
static int frag_empty_fragments(srv *s, peer *p, ssews_conn conn) {
  const char *name = "empty fragments";
  peer_ws_send_frame(p, 0, 0, PEER_WS_TEXT, "", 0, 1);
  peer_ws_send_frame(p, 0, 0, PEER_WS_CONT, "", 0, 1);
  peer_ws_send_frame(p, 1, 0, PEER_WS_CONT, "", 0, 1);
  peer_ws_send_frame(p, 0, 0, PEER_WS_TEXT, "tail", 4, 1);
  peer_ws_send_frame(p, 1, 0, PEER_WS_CONT, "", 0, 1);
  if (check_echo(p, PEER_WS_TEXT, "", 0, "three empty fragments")) return -1;
  if (check_echo(p, PEER_WS_TEXT, "tail", 4, "empty final fragment")) return -1;
  if (check_msg_event(s, conn, 0, 0, "", 0, "three empty fragments")) return -1;
  return check_msg_event(s, conn, 1, 0, "tail", 4, name);
}

/* Back-to-back fragmented messages of different types keep their types. */
static int frag_back_to_back(srv *s, peer *p, ssews_conn conn) {
  peer_ws_send_frame(p, 0, 0, PEER_WS_BINARY, "ab", 2, 1);
  peer_ws_send_frame(p, 1, 0, PEER_WS_CONT, "cd", 2, 1);
  peer_ws_send_frame(p, 0, 0, PEER_WS_TEXT, "ef", 2, 1);
  peer_ws_send_frame(p, 1, 0, PEER_WS_CONT, "gh", 2, 1);
  if (check_echo(p, PEER_WS_BINARY, "abcd", 4, "binary then text (1)")) return -1;
  if (check_echo(p, PEER_WS_TEXT, "efgh", 4, "binary then text (2)")) return -1;
  if (check_msg_event(s, conn, 0, 1, "abcd", 4, "binary then text (1)")) return -1;
  return check_msg_event(s, conn, 1, 0, "efgh", 4, "binary then text (2)");
}

/* 5.4/5.8: fragments and a ping between them written byte by byte. */
static int frag_chopped_with_ping(srv *s, peer *p, ssews_conn conn) {
  const char *name = "fragments and ping written byte by byte";
  size_t l1, l2, l3;
  unsigned char *f1 = build_frame(0, 0, PEER_WS_TEXT, "chop", 4, &l1);
  unsigned char *f2 = build_frame(1, 0, PEER_WS_PING, "pp", 2, &l2);
  unsigned char *f3 = build_frame(1, 0, PEER_WS_CONT, "ped", 3, &l3);
  write_chopped(p, f1, l1, 1);
  write_chopped(p, f2, l2, 1);
  write_chopped(p, f3, l3, 1);
  free(f1);
  free(f2);
  free(f3);
  if (check_control(p, PEER_WS_PONG, "pp", 2, name)) return -1;
  if (check_echo(p, PEER_WS_TEXT, "chopped", 7, name)) return -1;
  return check_msg_event(s, conn, 0, 0, "chopped", 7, name);
}

static void test_fragmented_messages(void **state) {
  srv *s = *state;
  srv_start(s, 1, NULL);
  int (*const scenarios[])(srv *, peer *, ssews_conn) = {
      frag_ping_between_fragments, frag_two_pings_inside_binary, frag_empty_fragments,
      frag_back_to_back,           frag_chopped_with_ping,
  };
  int bad = 0;
  for (size_t i = 0; i < sizeof scenarios / sizeof scenarios[0]; i++) {
    ssews_conn conn;
    peer *p = ws_open(s, "/frag", NULL, &conn);
    bad += scenarios[i](s, p, conn) ? 1 : 0;
    peer_free(p);
  }
  verdict(bad);
}

/* ======================================================================== */
/* Section 2: pings and pongs                                                */
/* ======================================================================== */

static void test_ping_pong(void **state) {
  srv *s = *state;
  srv_start(s, 1, NULL);
  ssews_conn conn;
  peer *p = ws_open(s, "/ping", NULL, &conn);
  int bad = 0;

  /* 2.1 empty ping. */
  assert_int_equal(peer_ws_send(p, PEER_WS_PING, "", 0), 0);
  bad += check_control(p, PEER_WS_PONG, "", 0, "2.1 ping without payload") ? 1 : 0;
  /* 2.2/2.3 text and binary payloads; 2.4 125 bytes. */
  assert_int_equal(peer_ws_send(p, PEER_WS_PING, "Hello, world!", 13), 0);
  bad += check_control(p, PEER_WS_PONG, "Hello, world!", 13, "2.2 ping with text payload") ? 1 : 0;
  const unsigned char b8[] = {0x00, 0xff, 0xfe, 0xfd, 0xfc, 0xfb, 0x00, 0xff};
  assert_int_equal(peer_ws_send(p, PEER_WS_PING, b8, sizeof b8), 0);
  bad += check_control(p, PEER_WS_PONG, b8, sizeof b8, "2.3 ping with binary payload") ? 1 : 0;
  unsigned char *b125 = pattern(125, 1);
  assert_int_equal(peer_ws_send(p, PEER_WS_PING, b125, 125), 0);
  bad += check_control(p, PEER_WS_PONG, b125, 125, "2.4 ping with 125-byte payload") ? 1 : 0;
  /* 2.6 a 125-byte ping written in 1-byte pieces. */
  size_t fl;
  unsigned char *f = build_frame(1, 0, PEER_WS_PING, b125, 125, &fl);
  write_chopped(p, f, fl, 1);
  free(f);
  bad += check_control(p, PEER_WS_PONG, b125, 125, "2.6 chopped 125-byte ping") ? 1 : 0;
  free(b125);

  /* 2.7/2.8 unsolicited pongs are ignored; 2.9 then a ping gets its own pong. */
  assert_int_equal(peer_ws_send(p, PEER_WS_PONG, "", 0), 0);
  assert_int_equal(peer_ws_send(p, PEER_WS_PONG, "unsolicited", 11), 0);
  assert_int_equal(peer_ws_send(p, PEER_WS_PING, "after pongs", 11), 0);
  bad += check_control(p, PEER_WS_PONG, "after pongs", 11, "2.9 unsolicited pongs ignored") ? 1 : 0;
  assert_int_equal(peer_ws_send(p, PEER_WS_PONG, "x", 1), 0);
  assert_int_equal(peer_ws_send(p, PEER_WS_TEXT, "still fine", 10), 0);
  bad += check_echo(p, PEER_WS_TEXT, "still fine", 10, "2.8 text after unsolicited pong") ? 1 : 0;

  /* 2.10/2.11 ten pings back to back (in one write, and in ten): pongs in
   * order, the last ping always answered. */
  for (int chop = 0; chop <= 1; chop++) {
    char pl[10][16];
    const char *pls[10];
    size_t lens[10];
    obuf o = {0};
    for (int i = 0; i < 10; i++) {
      lens[i] = (size_t)snprintf(pl[i], sizeof pl[i], "ping-%d-%d", chop, i);
      pls[i] = pl[i];
      ob_frame(&o, 1, PEER_WS_PING, pl[i], lens[i]);
      if (chop) ob_send(p, &o);
    }
    if (!chop) ob_send(p, &o);
    bad += check_pongs(p, pls, lens, 10, chop ? "2.11 ten pings, ten writes" : "2.10 ten pings, one write")
               ? 1
               : 0;
  }
  /* Pongs and pings are not messages. */
  if (rec_count(&s->r, SSEWS_EV_MESSAGE, conn) != 1) {
    CASE_FAIL("control frames are not messages", "%zu message events, expected 1",
              rec_count(&s->r, SSEWS_EV_MESSAGE, conn));
    bad++;
  }
  peer_free(p);
  verdict(bad);
}

/* ======================================================================== */
/* Protocol violations: the server fails the connection with a close code    */
/* ======================================================================== */

static void test_control_frame_violations(void **state) {
  srv *s = *state;
  /* clang-format off */
  const violation v[] = {
      {"2.5 ping with 126-byte payload", NULL, {F(1, 0, PEER_WS_PING, NULL, 126)}, 1, 0, 1002, NULL, 0},
      {"pong with 126-byte payload", NULL, {F(1, 0, PEER_WS_PONG, NULL, 126)}, 1, 0, 1002, NULL, 0},
      {"close with 126-byte payload", NULL, {F(1, 0, PEER_WS_CLOSE, "\x03\xe8" REASON124, 126)}, 1, 0, 1002, NULL, 0},
      {"5.1 fragmented ping (fin=0)", NULL, {F(0, 0, PEER_WS_PING, "frag", 4), F(1, 0, PEER_WS_CONT, "ment", 4)}, 2, 0, 1002, NULL, 1},
      {"5.2 fragmented pong (fin=0)", NULL, {F(0, 0, PEER_WS_PONG, "frag", 4), F(1, 0, PEER_WS_CONT, "ment", 4)}, 2, 0, 1002, NULL, 1},
      {"fragmented close (fin=0)", NULL, {F(0, 0, PEER_WS_CLOSE, "\x03\xe8", 2)}, 1, 0, 1002, NULL, 0},
      {"fragmented ping inside a fragmented message", "ok", {F(0, 0, PEER_WS_TEXT, "a", 1), F(0, 0, PEER_WS_PING, "p", 1), F(1, 0, PEER_WS_CONT, "b", 1)}, 3, 0, 1002, NULL, 1},
  };
  /* clang-format on */
  srv_start(s, 1, NULL);
  int bad = run_violations(s, v, sizeof v / sizeof v[0]);
  verdict(bad);
}

static void test_reserved_bits(void **state) {
  srv *s = *state;
  /* clang-format off */
  const violation v[] = {
      {"3.1 text with RSV1", NULL, {F(1, 4, PEER_WS_TEXT, "Hello", 5)}, 1, 0, 1002, NULL, 0},
      {"3.2 text with RSV2 after a good message", "ok", {F(1, 2, PEER_WS_TEXT, "Hello", 5)}, 1, 1, 1002, NULL, 0},
      {"3.3 text with RSV3 after a good message", "ok", {F(1, 1, PEER_WS_TEXT, "Hello", 5)}, 1, 1, 1002, NULL, 0},
      {"3.4 text with RSV2+RSV3", "ok", {F(1, 3, PEER_WS_TEXT, "Hello", 5)}, 1, 1, 1002, NULL, 0},
      {"3.5 binary with RSV1+RSV3", NULL, {F(1, 5, PEER_WS_BINARY, "\x00\xff", 2)}, 1, 0, 1002, NULL, 0},
      {"3.6 ping with RSV1+RSV2", NULL, {F(1, 6, PEER_WS_PING, "Hello", 5)}, 1, 0, 1002, NULL, 0},
      {"3.7 close with all RSV bits", NULL, {F(1, 7, PEER_WS_CLOSE, "\x03\xe8", 2)}, 1, 0, 1002, NULL, 0},
      {"RSV1 on a continuation frame", NULL, {F(0, 0, PEER_WS_TEXT, "He", 2), F(1, 4, PEER_WS_CONT, "llo", 3)}, 2, 0, 1002, NULL, 0},
      {"RSV2 on a pong", NULL, {F(1, 2, PEER_WS_PONG, "", 0)}, 1, 0, 1002, NULL, 0},
      {"RSV1 on an empty binary frame", NULL, {F(1, 4, PEER_WS_BINARY, "", 0)}, 1, 0, 1002, NULL, 0},
  };
  /* clang-format on */
  srv_start(s, 1, NULL);
  int bad = run_violations(s, v, sizeof v / sizeof v[0]);
  verdict(bad);
}

static void test_reserved_opcodes(void **state) {
  srv *s = *state;
  static const int ops[] = {3, 4, 5, 6, 7, 11, 12, 13, 14, 15};
  enum { N = sizeof ops / sizeof ops[0] };
  violation v[2 * N];
  char names[2 * N][80];
  size_t n = 0;
  for (size_t i = 0; i < N; i++) {
    /* 4.1.1/4.2.1: alone, empty; 4.1.3/4.2.3: after a message, with payload, then a ping. */
    snprintf(names[n], sizeof names[n], "reserved opcode %d, empty", ops[i]);
    v[n] = (violation){names[n], NULL, {F(1, 0, ops[i], "", 0)}, 1, 0, 1002, NULL, 0};
    n++;
    snprintf(names[n], sizeof names[n], "reserved opcode %d after a message, then ping", ops[i]);
    v[n] = (violation){names[n], "ok", {F(1, 0, ops[i], "reserved payload", 16)}, 1, 1, 1002, NULL, 0};
    n++;
  }
  srv_start(s, 1, NULL);
  int bad = run_violations(s, v, n);
  verdict(bad);
}

static void test_framing_violations(void **state) {
  srv *s = *state;
  /* clang-format off */
  const violation v[] = {
      {"unmasked text frame", NULL, {{1, 0, PEER_WS_TEXT, "Hello", 5, 1}}, 1, 0, 1002, NULL, 0},
      {"unmasked empty binary frame after a message", "ok", {{1, 0, PEER_WS_BINARY, "", 0, 1}}, 1, 0, 1002, NULL, 0},
      {"unmasked ping", NULL, {{1, 0, PEER_WS_PING, "p", 1, 1}}, 1, 0, 1002, NULL, 0},
      {"unmasked close", NULL, {{1, 0, PEER_WS_CLOSE, "\x03\xe8", 2, 1}}, 1, 0, 1002, NULL, 0},
      {"unmasked continuation inside a message", NULL, {F(0, 0, PEER_WS_TEXT, "a", 1), {1, 0, PEER_WS_CONT, "b", 1, 1}}, 2, 0, 1002, NULL, 0},
      {"5.9 continuation (fin=1) with no message started", NULL, {F(1, 0, PEER_WS_CONT, "orphan", 6)}, 1, 0, 1002, NULL, 0},
      {"5.12 continuation (fin=0) with no message started", NULL, {F(0, 0, PEER_WS_CONT, "orphan", 6)}, 1, 0, 1002, NULL, 0},
      {"5.15 continuation after a finished fragmented message", NULL, {F(0, 0, PEER_WS_TEXT, "one", 3), F(1, 0, PEER_WS_CONT, "two", 3), F(0, 0, PEER_WS_CONT, "three", 5), F(1, 0, PEER_WS_TEXT, "four", 4)}, 4, 0, 1002, "onetwo", 1},
      {"continuation after an unfragmented message", "ok", {F(1, 0, PEER_WS_CONT, "x", 1)}, 1, 0, 1002, NULL, 0},
      {"5.18 new text frame inside a fragmented message", NULL, {F(0, 0, PEER_WS_TEXT, "frag1", 5), F(1, 0, PEER_WS_TEXT, "frag2", 5)}, 2, 0, 1002, NULL, 0},
      {"new binary frame inside a fragmented text message", NULL, {F(0, 0, PEER_WS_TEXT, "frag1", 5), F(1, 0, PEER_WS_BINARY, "frag2", 5)}, 2, 0, 1002, NULL, 0},
      {"new text frame (fin=0) inside a fragmented binary message", NULL, {F(0, 0, PEER_WS_BINARY, "frag1", 5), F(0, 0, PEER_WS_TEXT, "frag2", 5)}, 2, 0, 1002, NULL, 0},
  };
  /* clang-format on */
  srv_start(s, 1, NULL);
  int bad = run_violations(s, v, sizeof v / sizeof v[0]);
  verdict(bad);
}

/* ======================================================================== */
/* Section 6: UTF-8                                                          */
/* ======================================================================== */

static void test_utf8_invalid(void **state) {
  srv *s = *state;
  /* clang-format off */
  const violation v[] = {
      {"6.x single 0xff", NULL, {F(1, 0, PEER_WS_TEXT, "\xff", 1)}, 1, 0, 1007, NULL, 0},
      {"6.x 0xfe inside text", NULL, {F(1, 0, PEER_WS_TEXT, "ab\xfe" "cd", 5)}, 1, 0, 1007, NULL, 0},
      {"6.x lone continuation byte 0x80", NULL, {F(1, 0, PEER_WS_TEXT, "\x80", 1)}, 1, 0, 1007, NULL, 0},
      {"6.x overlong '/' c0 af", NULL, {F(1, 0, PEER_WS_TEXT, "\xc0\xaf", 2)}, 1, 0, 1007, NULL, 0},
      {"6.x overlong NUL c0 80", NULL, {F(1, 0, PEER_WS_TEXT, "\xc0\x80", 2)}, 1, 0, 1007, NULL, 0},
      {"6.x overlong e0 80 af", NULL, {F(1, 0, PEER_WS_TEXT, "\xe0\x80\xaf", 3)}, 1, 0, 1007, NULL, 0},
      {"6.x overlong f0 80 80 af", NULL, {F(1, 0, PEER_WS_TEXT, "\xf0\x80\x80\xaf", 4)}, 1, 0, 1007, NULL, 0},
      {"6.x surrogate ed a0 80", NULL, {F(1, 0, PEER_WS_TEXT, "\xed\xa0\x80", 3)}, 1, 0, 1007, NULL, 0},
      {"6.x surrogate pair ed a0 80 ed b0 80", NULL, {F(1, 0, PEER_WS_TEXT, "\xed\xa0\x80\xed\xb0\x80", 6)}, 1, 0, 1007, NULL, 0},
      {"6.x above U+10FFFF f4 90 80 80", NULL, {F(1, 0, PEER_WS_TEXT, "\xf4\x90\x80\x80", 4)}, 1, 0, 1007, NULL, 0},
      {"6.x 5-byte sequence f8 88 80 80 80", NULL, {F(1, 0, PEER_WS_TEXT, "\xf8\x88\x80\x80\x80", 5)}, 1, 0, 1007, NULL, 0},
      {"6.x truncated at end (ce)", NULL, {F(1, 0, PEER_WS_TEXT, "\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce", 10)}, 1, 0, 1007, NULL, 0},
      {"6.x truncated 3-byte at end (e2 82)", NULL, {F(1, 0, PEER_WS_TEXT, "price \xe2\x82", 8)}, 1, 0, 1007, NULL, 0},
      {"6.x 2-byte lead followed by ASCII", NULL, {F(1, 0, PEER_WS_TEXT, "\xc3" "A", 2)}, 1, 0, 1007, NULL, 0},
      {"6.x valid message then invalid one", "ok", {F(1, 0, PEER_WS_TEXT, "\xed\xa0\x80", 3)}, 1, 0, 1007, NULL, 0},
      {"6.x invalid sequence split across two fragments (surrogate)", NULL, {F(0, 0, PEER_WS_TEXT, "\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5\xed", 12), F(1, 0, PEER_WS_CONT, "\xa0\x80" "edited", 8)}, 2, 0, 1007, NULL, 0},
      {"6.x invalid sequence split across two fragments (overlong)", NULL, {F(0, 0, PEER_WS_TEXT, "ab\xe0", 3), F(1, 0, PEER_WS_CONT, "\x80\xaf", 2)}, 2, 0, 1007, NULL, 0},
      {"6.x message truncated in the final fragment", NULL, {F(0, 0, PEER_WS_TEXT, "ab", 2), F(1, 0, PEER_WS_CONT, "\xf0\x9f\x98", 3)}, 2, 0, 1007, NULL, 0},
      {"6.4 fail fast: invalid first fragment, message never finished", NULL, {F(0, 0, PEER_WS_TEXT, "\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5\xf4\x90\x80\x80", 15)}, 1, 0, 1007, NULL, 0},
      {"6.4 fail fast: invalid middle fragment, message never finished", NULL, {F(0, 0, PEER_WS_TEXT, "\xce\xba\xe1\xbd\xb9", 5), F(0, 0, PEER_WS_CONT, "\xff", 1)}, 2, 0, 1007, NULL, 0},
  };
  /* clang-format on */
  srv_start(s, 1, NULL);
  int bad = run_violations(s, v, sizeof v / sizeof v[0]);
  verdict(bad);
}

static void test_utf8_valid_split_everywhere(void **state) {
  srv *s = *state;
  srv_start(s, 1, NULL);
  int bad = 0;
  /* ASCII, 2-, 3- and 4-byte sequences, and the edge code points. */
  const char text[] =
      "Hi-\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5-\xe2\x82\xac-\xf0\x9f\x98\x80-"
      "\xed\x9f\xbf\xee\x80\x80\xef\xbf\xbd\xef\xbf\xbf\xf4\x8f\xbf\xbf\xc2\x80\xdf\xbf\xe0\xa0\x80\xf0\x90"
      "\x80\x80";
  size_t len = sizeof text - 1;
  ssews_conn conn;
  peer *p = ws_open(s, "/utf8", NULL, &conn);
  size_t nmsg = 0;
  /* 6.2.x one frame, then every split into two fragments. */
  for (size_t cut = 0; cut < len; cut++) {
    char name[64];
    snprintf(name, sizeof name, "valid UTF-8 split at byte %zu", cut);
    if (cut == 0) {
      assert_int_equal(peer_ws_send(p, PEER_WS_TEXT, text, len), 0);
    } else {
      assert_int_equal(peer_ws_send_frame(p, 0, 0, PEER_WS_TEXT, text, cut, 1), 0);
      assert_int_equal(peer_ws_send_frame(p, 1, 0, PEER_WS_CONT, text + cut, len - cut, 1), 0);
    }
    int r = check_echo(p, PEER_WS_TEXT, text, len, name);
    r |= check_msg_event(s, conn, nmsg++, 0, text, len, name);
    bad += r ? 1 : 0;
    if (r) break; /* the connection is probably gone */
  }
  /* 6.2.4: every byte its own fragment. */
  if (!bad) {
    for (size_t i = 0; i < len; i++)
      assert_int_equal(
          peer_ws_send_frame(p, i + 1 == len, 0, i ? PEER_WS_CONT : PEER_WS_TEXT, text + i, 1, 1), 0);
    int r = check_echo(p, PEER_WS_TEXT, text, len, "valid UTF-8, one byte per fragment");
    r |= check_msg_event(s, conn, nmsg++, 0, text, len, "valid UTF-8, one byte per fragment");
    bad += r ? 1 : 0;
  }
  /* NUL is valid UTF-8. */
  if (!bad) {
    assert_int_equal(peer_ws_send(p, PEER_WS_TEXT, "a\0b", 3), 0);
    bad += check_echo(p, PEER_WS_TEXT, "a\0b", 3, "text with NUL") ? 1 : 0;
  }
  peer_free(p);
  verdict(bad);
}

/* ======================================================================== */
/* Section 7: closing                                                        */
/* ======================================================================== */

static void test_close_normal_with_reason(void **state) {
  srv *s = *state;
  srv_start(s, 1, NULL);
  ssews_conn conn;
  peer *p = ws_open(s, "/close", NULL, &conn);
  /* 7.1.1: a message, then a clean close. */
  assert_int_equal(peer_ws_send(p, PEER_WS_TEXT, "Hello World!", 12), 0);
  assert_int_equal(check_echo(p, PEER_WS_TEXT, "Hello World!", 12, "7.1.1 echo"), 0);
  assert_int_equal(peer_ws_send_close(p, 1000, "done here"), 0);
  assert_int_equal(check_close(p, 1000, NULL, 0, "7.1.1 close 1000 with reason"), 0);
  size_t cur = 0;
  const rec_event *e = rec_wait_conn(&s->r, SSEWS_EV_CLOSE, conn, &cur, WAIT_MS);
  assert_non_null(e);
  assert_int_equal(e->code, 1000);
  assert_string_equal(e->reason, "done here");
  peer_free(p);
  srv_close(s);
  assert_int_equal(rec_count(&s->r, SSEWS_EV_CLOSE, conn), 1);
}

static void test_close_empty_payload(void **state) {
  srv *s = *state;
  srv_start(s, 1, NULL);
  ssews_conn conn;
  peer *p = ws_open(s, "/close", NULL, &conn);
  /* 7.3.1: an empty close is answered with a close (empty, or 1000). */
  assert_int_equal(peer_ws_send_close(p, -1, NULL), 0);
  assert_int_equal(check_close(p, -1, NULL, 0, "7.3.1 empty close"), 0);
  size_t cur = 0;
  const rec_event *e = rec_wait_conn(&s->r, SSEWS_EV_CLOSE, conn, &cur, WAIT_MS);
  assert_non_null(e);
  assert_int_equal(e->code, 1005);
  assert_string_equal(e->reason, "");
  peer_free(p);
  srv_close(s);
  assert_int_equal(rec_count(&s->r, SSEWS_EV_CLOSE, conn), 1);
}

static void test_close_after_close_nothing_is_processed(void **state) {
  srv *s = *state;
  srv_start(s, 1, NULL);
  int bad = 0;
  struct {
    const char *name;
    int kind; /* 0: text after close, 1: ping after close, 2: close twice, 3: close inside fragmented message
               */
  } kinds[] = {
      {"7.1.4 text after close is not echoed", 0},
      {"7.1.3 ping after close is not answered", 1},
      {"7.1.2 second close is ignored", 2},
      {"7.1.5 close in the middle of a fragmented message", 3},
  };
  enum { K = sizeof kinds / sizeof kinds[0], N = 2 * K };
  ssews_conn conns[N];
  const char *names[N];
  char namebuf[N][96];
  for (size_t i = 0; i < N; i++) {
    int kind = kinds[i % K].kind, one_write = (int)(i / K) == 0;
    snprintf(namebuf[i], sizeof namebuf[i], "%s (%s)", kinds[i % K].name,
             one_write ? "one write" : "separate writes");
    names[i] = namebuf[i];
    peer *p = ws_open(s, "/close", NULL, &conns[i]);
    obuf o = {0};
    unsigned char cl[2] = {0x03, 0xe8}, cl2[2] = {0x03, 0xe9};
    if (kind == 3) ob_frame(&o, 0, PEER_WS_TEXT, "frag", 4);
    if (!one_write && o.n) ob_send(p, &o);
    ob_frame(&o, 1, PEER_WS_CLOSE, cl, 2);
    if (!one_write) ob_send(p, &o);
    if (kind == 0) ob_frame(&o, 1, PEER_WS_TEXT, "after close", 11);
    if (kind == 1) ob_frame(&o, 1, PEER_WS_PING, "after close", 11);
    if (kind == 2) ob_frame(&o, 1, PEER_WS_CLOSE, cl2, 2);
    if (kind == 3) ob_frame(&o, 1, PEER_WS_CONT, "ment", 4);
    if (!one_write) {
      (void)peer_write(p, o.b, o.n); /* may fail: the server may have closed already */
      free(o.b);
    } else {
      ob_send(p, &o);
    }
    int r = check_close(p, 1000, NULL, 0, names[i]);
    size_t cur = 0;
    const rec_event *e = rec_wait_conn(&s->r, SSEWS_EV_CLOSE, conns[i], &cur, WAIT_MS);
    if (!e || e->code != 1000) {
      CASE_FAIL(names[i], "close event %s, code %d (want 1000)", e ? "present" : "missing", e ? e->code : 0);
      r = -1;
    }
    if (rec_count(&s->r, SSEWS_EV_MESSAGE, conns[i])) {
      CASE_FAIL(names[i], "a message event was delivered");
      r = -1;
    }
    bad += r ? 1 : 0;
    peer_free(p);
  }
  srv_close(s);
  bad += check_one_close_each(s, conns, N, names);
  verdict(bad);
}

static void test_close_valid_codes_echoed(void **state) {
  srv *s = *state;
  static const int codes[] = {1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 3000, 3999, 4000, 4999};
  enum { N = sizeof codes / sizeof codes[0] };
  srv_start(s, 1, NULL);
  int bad = 0;
  ssews_conn conns[N + 2];
  const char *names[N + 2];
  char namebuf[N][48];
  for (size_t i = 0; i < N; i++) {
    snprintf(namebuf[i], sizeof namebuf[i], "7.7 valid close code %d", codes[i]);
    names[i] = namebuf[i];
    peer *p = ws_open(s, "/close", NULL, &conns[i]);
    assert_int_equal(peer_ws_send_close(p, codes[i], "reason"), 0);
    int r = check_close(p, codes[i], NULL, 0, names[i]);
    size_t cur = 0;
    const rec_event *e = rec_wait_conn(&s->r, SSEWS_EV_CLOSE, conns[i], &cur, WAIT_MS);
    if (!e || e->code != codes[i] || strcmp(e->reason, "reason") != 0) {
      CASE_FAIL(names[i], "close event: %s code %d reason \"%s\"", e ? "" : "missing", e ? e->code : 0,
                e ? e->reason : "");
      r = -1;
    }
    bad += r ? 1 : 0;
    peer_free(p);
  }
  /* 7.3.3/7.3.4/7.3.5: code only; a 123-byte reason (125-byte payload). */
  {
    names[N] = "7.3.3 close 1000 without reason";
    peer *p = ws_open(s, "/close", NULL, &conns[N]);
    assert_int_equal(peer_ws_send_close(p, 1000, NULL), 0);
    bad += check_close(p, 1000, NULL, 0, names[N]) ? 1 : 0;
    peer_free(p);
  }
  {
    char reason[124];
    memset(reason, 'r', 123);
    reason[123] = 0;
    names[N + 1] = "7.3.5 close 1000 with a 123-byte reason";
    peer *p = ws_open(s, "/close", NULL, &conns[N + 1]);
    assert_int_equal(peer_ws_send_close(p, 1000, reason), 0);
    int r = check_close(p, 1000, NULL, 0, names[N + 1]);
    size_t cur = 0;
    const rec_event *e = rec_wait_conn(&s->r, SSEWS_EV_CLOSE, conns[N + 1], &cur, WAIT_MS);
    if (!e || strcmp(e->reason, reason) != 0) {
      CASE_FAIL(names[N + 1], "close event reason is not the 123 bytes sent");
      r = -1;
    }
    bad += r ? 1 : 0;
    peer_free(p);
  }
  srv_close(s);
  bad += check_one_close_each(s, conns, N + 2, names);
  verdict(bad);
}

/* Close codes a peer may not send (Autobahn 7.9.x), each a violation into v. */
static const int k_bad_close_codes[] = {0, 999, 1004, 1005, 1006, 1015, 1016, 1100, 2000, 2999, 5000, 65535};
enum { N_BAD_CLOSE = sizeof k_bad_close_codes / sizeof k_bad_close_codes[0] };
static size_t bad_close_code_cases(violation *v, char (*names)[48], unsigned char (*payloads)[2]) {
  for (size_t i = 0; i < N_BAD_CLOSE; i++) {
    snprintf(names[i], 48, "7.9 invalid close code %d", k_bad_close_codes[i]);
    payloads[i][0] = (unsigned char)(k_bad_close_codes[i] >> 8);
    payloads[i][1] = (unsigned char)k_bad_close_codes[i];
    v[i] = (violation){names[i], NULL, {F(1, 0, PEER_WS_CLOSE, (const char *)payloads[i], 2)}, 1, 0, 1002, NULL, 0};
  }
  return N_BAD_CLOSE;
}

/* The same codes on a WebSocket that comes as an upgrade after another
 * request on its connection: libwebsockets parses that request, and ssews
 * takes the connection over (take_later_upgrade in ws_server.cpp) and frames
 * it as every other, so the answers are the same. */
static void test_close_invalid_codes_after_a_first_request(void **state) {
  srv *s = *state;
  violation v[N_BAD_CLOSE];
  char names[N_BAD_CLOSE][48];
  unsigned char payloads[N_BAD_CLOSE][2];
  size_t n = bad_close_code_cases(v, names, payloads);
  srv_start(s, 1, NULL);
  s->upgrade_later = 1;
  int bad = run_violations(s, v, n);
  s->upgrade_later = 0;
  verdict(bad);
}

static void test_close_invalid_payloads(void **state) {
  srv *s = *state;
  violation v[N_BAD_CLOSE + 4];
  char names[N_BAD_CLOSE][48];
  unsigned char payloads[N_BAD_CLOSE][2];
  size_t n = bad_close_code_cases(v, names, payloads);
  v[n++] = (violation){
      "7.3.2 close with a 1-byte payload", NULL, {F(1, 0, PEER_WS_CLOSE, "\x03", 1)}, 1, 0, 1002, NULL, 0};
  v[n++] = (violation){"7.5.1 close reason with invalid UTF-8",
                       NULL,
                       {F(1, 0, PEER_WS_CLOSE,
                          "\x03\xe8\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5\xed\xa0\x80"
                          "edited",
                          22)},
                       1,
                       0,
                       1007,
                       NULL, 0};
  v[n++] = (violation){"close reason truncated UTF-8",
                       NULL,
                       {F(1, 0, PEER_WS_CLOSE,
                          "\x03\xe8"
                          "ab\xe2\x82",
                          6)},
                       1,
                       0,
                       1007,
                       NULL, 0};
  v[n++] = (violation){"7.3.6 close payload of 126 bytes (124-byte reason)",
                       NULL,
                       {F(1, 0, PEER_WS_CLOSE, "\x03\xe8" REASON124, 126)},
                       1,
                       0,
                       1002,
                       NULL, 0};
  srv_start(s, 1, NULL);
  int bad = run_violations(s, v, n);
  verdict(bad);
}

/* ======================================================================== */
/* Section 4 of RFC 6455: the opening handshake                              */
/* ======================================================================== */

#define GOOD_KEY "dGhlIHNhbXBsZSBub25jZQ=="

/* Sends a raw request, reads the response head. Returns the status (-1 on
 * error); *head gets the malloc'd head. */
static int raw_request(int port, const char *req, char **head) {
  peer *p = peer_connect("127.0.0.1", port, 0, WAIT_MS);
  assert_non_null(p);
  assert_int_equal(peer_write(p, req, strlen(req)), 0);
  *head = NULL;
  int status = -1;
  if (peer_read_until(p, "\r\n\r\n", head, WAIT_MS) >= 0) {
    if (sscanf(*head, "HTTP/1.%*d %3d", &status) != 1) status = -1;
  } else {
    fprintf(stderr, "raw_request: %s\n", peer_error());
  }
  peer_free(p);
  return status;
}

static void test_handshake_refusals(void **state) {
  srv *s = *state;
  srv_start(s, 1, NULL);
  int bad = 0;
  char req[1024];
  const char *fmt =
      "%s /ws HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n%s%s\r\n";
  struct {
    const char *name, *method, *key_line, *version_line;
    int want;
  } cases[] = {
      {"missing Sec-WebSocket-Version", "GET", "Sec-WebSocket-Key: " GOOD_KEY "\r\n", "", 426},
      {"Sec-WebSocket-Version 8", "GET", "Sec-WebSocket-Key: " GOOD_KEY "\r\n",
       "Sec-WebSocket-Version: 8\r\n", 426},
      {"Sec-WebSocket-Version 14", "GET", "Sec-WebSocket-Key: " GOOD_KEY "\r\n",
       "Sec-WebSocket-Version: 14\r\n", 426},
      {"missing Sec-WebSocket-Key", "GET", "", "Sec-WebSocket-Version: 13\r\n", 400},
      {"Sec-WebSocket-Key of 10 bytes", "GET", "Sec-WebSocket-Key: dGhlIHNhbXBsZQ==\r\n",
       "Sec-WebSocket-Version: 13\r\n", 400},
      {"Sec-WebSocket-Key of 17 bytes", "GET", "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZSE=\r\n",
       "Sec-WebSocket-Version: 13\r\n", 400},
      {"Sec-WebSocket-Key not base64", "GET", "Sec-WebSocket-Key: !!!!not-base64-at-all!!!\r\n",
       "Sec-WebSocket-Version: 13\r\n", 400},
      {"upgrade request with POST", "POST", "Sec-WebSocket-Key: " GOOD_KEY "\r\n",
       "Sec-WebSocket-Version: 13\r\nContent-Length: 0\r\n", 405},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    snprintf(req, sizeof req, fmt, cases[i].method, s->port, cases[i].key_line, cases[i].version_line);
    char *head = NULL;
    int st = raw_request(s->port, req, &head);
    if (st != cases[i].want) {
      CASE_FAIL(cases[i].name, "HTTP status %d, expected %d; response head:\n%s", st, cases[i].want,
                head ? head : "(none)");
      bad++;
    }
    free(head);
  }
  /* peer_ws_handshake with the version replaced says the same. */
  {
    peer *p = peer_connect("127.0.0.1", s->port, 0, WAIT_MS);
    const char *const h[] = {"Sec-WebSocket-Version: 8", NULL};
    int st = peer_ws_handshake(p, "/ws", h, NULL, WAIT_MS);
    if (st != 426) {
      CASE_FAIL("peer_ws_handshake with version 8", "got %d (%s), expected 426", st, peer_error());
      bad++;
    }
    peer_free(p);
  }
  srv_close(s);
  size_t opens = rec_count(&s->r, SSEWS_EV_OPEN, 0);
  if (opens) {
    CASE_FAIL("refused handshakes open nothing", "%zu open events", opens);
    bad++;
  }
  verdict(bad);
}

/* RFC 6455 §4.2.2/§4.4: a refused version is answered with the versions the
 * server supports. */
static void test_handshake_426_names_supported_version(void **state) {
  srv *s = *state;
  srv_start(s, 1, NULL);
  char req[512];
  snprintf(req, sizeof req,
           "GET /ws HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
           "Sec-WebSocket-Key: " GOOD_KEY "\r\nSec-WebSocket-Version: 8\r\n\r\n",
           s->port);
  char *head = NULL;
  int st = raw_request(s->port, req, &head);
  peer_http r = {st, head};
  char v[64];
  const char *got = head ? peer_http_header(&r, "Sec-WebSocket-Version", v, sizeof v) : NULL;
  int ok = st == 426 && got && strcmp(got, "13") == 0;
  if (!ok)
    fprintf(stderr, "  426 for Sec-WebSocket-Version 8 must carry \"Sec-WebSocket-Version: 13\"; got:\n%s\n",
            head ? head : "(no response)");
  free(head);
  assert_true(ok);
}

static void test_handshake_subprotocol(void **state) {
  srv *s = *state;
  srv_start(s, 1, NULL);
  int bad = 0;
  struct {
    const char *name, *offer, *want; /* want NULL: no Sec-WebSocket-Protocol in the 101 */
  } cases[] = {
      {"offer ssews.v1", "Sec-WebSocket-Protocol: ssews.v1", "ssews.v1"},
      {"offer foo, ssews.v1", "Sec-WebSocket-Protocol: foo, ssews.v1", "ssews.v1"},
      {"offer nothing", NULL, NULL},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    peer *p = peer_connect("127.0.0.1", s->port, 0, WAIT_MS);
    assert_non_null(p);
    const char *const h[] = {cases[i].offer, NULL};
    peer_http resp;
    memset(&resp, 0, sizeof resp);
    int st = peer_ws_handshake(p, "/sub", h, &resp, WAIT_MS);
    char v[128];
    const char *got = resp.head ? peer_http_header(&resp, "Sec-WebSocket-Protocol", v, sizeof v) : NULL;
    if (st != 0) {
      CASE_FAIL(cases[i].name, "handshake gave %d (%s); head:\n%s", st, peer_error(),
                resp.head ? resp.head : "");
      bad++;
    } else if (cases[i].want ? !got || strcmp(got, cases[i].want) : got != NULL) {
      CASE_FAIL(cases[i].name, "Sec-WebSocket-Protocol in the 101 is %s, expected %s", got ? got : "(absent)",
                cases[i].want ? cases[i].want : "(absent)");
      bad++;
    } else if (cases[i].want) {
      /* The negotiated protocol carries data as ssews.v1 frames: a message is still echoed. */
      assert_int_equal(peer_ws_send(p, PEER_WS_TEXT, "{}", 2), 0);
      unsigned char *m = NULL;
      size_t len;
      if (peer_ws_read_message(p, &m, &len, WAIT_MS) != PEER_WS_TEXT) {
        CASE_FAIL(cases[i].name, "no text echo on the ssews.v1 connection: %s", peer_error());
        bad++;
      }
      free(m);
    }
    peer_http_free(&resp);
    peer_free(p);
  }
  /* An offer of only unknown protocols: RFC 6455 §4.2.2 lets the server
   * either accept without a Sec-WebSocket-Protocol header (never naming one
   * that was not offered) or refuse with an HTTP error status; it must answer
   * the request either way. A refused request opens nothing. */
  size_t opens_before = rec_count(&s->r, SSEWS_EV_OPEN, 0);
  int accepted = 0;
  {
    peer *p = peer_connect("127.0.0.1", s->port, 0, WAIT_MS);
    const char *const h[] = {"Sec-WebSocket-Protocol: chat, superchat", NULL};
    peer_http resp;
    memset(&resp, 0, sizeof resp);
    int st = peer_ws_handshake(p, "/sub", h, &resp, WAIT_MS);
    char v[128];
    const char *got = resp.head ? peer_http_header(&resp, "Sec-WebSocket-Protocol", v, sizeof v) : NULL;
    if (st < 0) {
      CASE_FAIL("offer only unknown protocols", "no valid HTTP answer to the upgrade request: %s",
                peer_error());
      bad++;
    } else if (st == 0 && got) {
      CASE_FAIL("offer only unknown protocols", "101 names \"%s\", which was not offered", got);
      bad++;
    } else if (st != 0 && (st < 400 || st > 499)) {
      CASE_FAIL("offer only unknown protocols", "refused with HTTP %d, expected a 4xx status", st);
      bad++;
    }
    accepted = st == 0;
    peer_http_free(&resp);
    peer_free(p);
  }
  srv_close(s);
  size_t opens = rec_count(&s->r, SSEWS_EV_OPEN, 0) - opens_before;
  if (opens != (size_t)accepted) {
    CASE_FAIL("offer only unknown protocols", "%zu open events for a handshake that %s", opens,
              accepted ? "succeeded" : "did not succeed");
    bad++;
  }
  if (rec_count(&s->r, SSEWS_EV_CLOSE, 0) != rec_count(&s->r, SSEWS_EV_OPEN, 0)) {
    CASE_FAIL("offer only unknown protocols", "%zu close events for %zu open events",
              rec_count(&s->r, SSEWS_EV_CLOSE, 0), rec_count(&s->r, SSEWS_EV_OPEN, 0));
    bad++;
  }
  verdict(bad);
}

/* ======================================================================== */
/* Limits: max_message_size                                                  */
/* ======================================================================== */

/* The application chooses the subprotocol in the open callback (any name
 * the client offered); without a choice, the subprotocols option or none. */
typedef struct {
  const char *choose;         /* the name to accept, or NULL */
  int rc_choose, rc_unoffered, rc_outside;
  char dflt[64];              /* ssews_event_subprotocol at open */
  ssews_conn conn;
} sp_ctx;

static void sp_cb(ssews *ep, const ssews_event *ev, void *user) {
  sp_ctx *x = user;
  if (ssews_event_kind(ev) != SSEWS_EV_OPEN) return;
  x->conn = ssews_event_conn(ev);
  snprintf(x->dflt, sizeof x->dflt, "%s", ssews_event_subprotocol(ev));
  x->rc_unoffered = ssews_accept_subprotocol(ep, x->conn, "never-offered");
  if (x->choose) x->rc_choose = ssews_accept_subprotocol(ep, x->conn, x->choose);
}

/* The subprotocol a handshake offering `offer` is answered with (NULL: none).
 * The connection is kept open in *keep when keep is not NULL. */
static const char *handshake_protocol(int port, const char *offer, char *v, size_t n, peer **keep) {
  peer *p = peer_connect("127.0.0.1", port, 0, WAIT_MS);
  assert_non_null(p);
  const char *const h[] = {offer, NULL};
  peer_http resp;
  memset(&resp, 0, sizeof resp);
  assert_int_equal(peer_ws_handshake(p, "/sub", h, &resp, WAIT_MS), 0);
  const char *got = peer_http_header(&resp, "Sec-WebSocket-Protocol", v, n);
  peer_http_free(&resp);
  if (keep)
    *keep = p;
  else
    peer_free(p);
  return got;
}

static void test_subprotocol_chosen_by_the_application(void **state) {
  (void)state;
  char v[128];
  for (int round = 0; round < 3; round++) {
    sp_ctx x;
    memset(&x, 0, sizeof x);
    x.choose = round == 0 ? "superchat" : round == 1 ? "ssews.v1" : NULL;
    const char *const opts[] = {"host", "127.0.0.1", "port", "0", "subprotocols", "chat", NULL};
    ssews *ep = NULL;
    assert_int_equal(ssews_open(&ep, opts, sp_cb, &x), SSEWS_OK);
    int port = 0;
    assert_int_equal(ssews_port(ep, &port), SSEWS_OK);
    peer *open = NULL; /* open until the check below: a closed one would be ENOCONN */
    const char *got =
        handshake_protocol(port, "Sec-WebSocket-Protocol: chat, superchat, ssews.v1", v, sizeof v, &open);
    assert_string_equal(x.dflt, "chat"); /* the option's name, offered first */
    assert_int_equal(x.rc_unoffered, SSEWS_EINVAL);
    assert_non_null(got);
    if (x.choose) {
      assert_int_equal(x.rc_choose, SSEWS_OK);
      assert_string_equal(got, x.choose);
    } else {
      assert_string_equal(got, "chat");
    }
    /* After the callback: too late to choose. */
    assert_int_equal(ssews_accept_subprotocol(ep, x.conn, "chat"), SSEWS_EINVAL);
    peer_free(open);
    /* Only unknown names: answered without one, never refused. */
    assert_null(handshake_protocol(port, "Sec-WebSocket-Protocol: mqtt, wamp", v, sizeof v, NULL));
    ssews_close(&ep);
  }
}

/* A client reports the subprotocol the server selected in its open event. */
typedef struct {
  pthread_mutex_t mu;
  pthread_cond_t cv;
  int opened;
  char protocol[64];
} client_open;

static void client_open_cb(ssews *ep, const ssews_event *ev, void *user) {
  (void)ep;
  client_open *o = user;
  if (ssews_event_kind(ev) != SSEWS_EV_OPEN) return;
  pthread_mutex_lock(&o->mu);
  snprintf(o->protocol, sizeof o->protocol, "%s", ssews_event_subprotocol(ev));
  o->opened = 1;
  pthread_cond_broadcast(&o->cv);
  pthread_mutex_unlock(&o->mu);
}

static void test_client_reports_subprotocol(void **state) {
  (void)state;
  const char *const sopts[] = {"host", "127.0.0.1", "port", "0", "subprotocols", "chat", NULL};
  ssews *srv_ep = NULL;
  assert_int_equal(ssews_open(&srv_ep, sopts, NULL, NULL), SSEWS_OK);
  int port = 0;
  assert_int_equal(ssews_port(srv_ep, &port), SSEWS_OK);
  char url[64];
  snprintf(url, sizeof url, "ws://127.0.0.1:%d/c", port);
  for (int v1 = 0; v1 < 2; v1++) {
    client_open o = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0, ""};
    const char *const copts[] = {"url", url, "subprotocols", "chat", "v1", v1 ? "true" : "false", NULL};
    ssews *cl = NULL;
    assert_int_equal(ssews_open(&cl, copts, client_open_cb, &o), SSEWS_OK);
    pthread_mutex_lock(&o.mu);
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += WAIT_MS / 1000;
    while (!o.opened && pthread_cond_timedwait(&o.cv, &o.mu, &until) == 0) {
    }
    pthread_mutex_unlock(&o.mu);
    assert_true(o.opened);
    assert_string_equal(o.protocol, v1 ? "ssews.v1" : "chat");
    ssews_close(&cl);
  }
  ssews_close(&srv_ep);
}

static void test_max_message_size(void **state) {
  srv *s = *state;
  const char *const opts[] = {"max_message_size", "1000", NULL};
  srv_start(s, 1, opts);
  int bad = 0;
  unsigned char *d = pattern(1001, 0);

  /* Exactly 1000 bytes: fine, in one frame or in fragments. */
  {
    ssews_conn conn;
    peer *p = ws_open(s, "/limit", NULL, &conn);
    assert_int_equal(peer_ws_send(p, PEER_WS_TEXT, d, 1000), 0);
    bad += check_echo(p, PEER_WS_TEXT, d, 1000, "1000 bytes in one frame") ? 1 : 0;
    assert_int_equal(peer_ws_send_frame(p, 0, 0, PEER_WS_BINARY, d, 400, 1), 0);
    assert_int_equal(peer_ws_send_frame(p, 0, 0, PEER_WS_CONT, d + 400, 400, 1), 0);
    assert_int_equal(peer_ws_send_frame(p, 1, 0, PEER_WS_CONT, d + 800, 200, 1), 0);
    bad += check_echo(p, PEER_WS_BINARY, d, 1000, "1000 bytes in three fragments") ? 1 : 0;
    if (rec_count(&s->r, SSEWS_EV_ERROR, conn)) {
      CASE_FAIL("1000 bytes", "an error event was reported");
      bad++;
    }
    peer_free(p);
  }

  /* 1001 bytes: close 1009 and an ETOOBIG error event, no message. */
  const char *names[] = {"1001 bytes in one frame", "1001 bytes as 500+500+1 fragments",
                         "1001 bytes as 1000 + empty + 1 fragments"};
  ssews_conn conns[3];
  for (int k = 0; k < 3; k++) {
    peer *p = ws_open(s, "/limit", NULL, &conns[k]);
    if (k == 0) {
      assert_int_equal(peer_ws_send(p, PEER_WS_TEXT, d, 1001), 0);
    } else if (k == 1) {
      assert_int_equal(peer_ws_send_frame(p, 0, 0, PEER_WS_TEXT, d, 500, 1), 0);
      assert_int_equal(peer_ws_send_frame(p, 0, 0, PEER_WS_CONT, d + 500, 500, 1), 0);
      assert_int_equal(peer_ws_send_frame(p, 1, 0, PEER_WS_CONT, d + 1000, 1, 1), 0);
    } else {
      assert_int_equal(peer_ws_send_frame(p, 0, 0, PEER_WS_BINARY, d, 1000, 1), 0);
      assert_int_equal(peer_ws_send_frame(p, 0, 0, PEER_WS_CONT, "", 0, 1), 0);
      assert_int_equal(peer_ws_send_frame(p, 1, 0, PEER_WS_CONT, d + 1000, 1, 1), 0);
    }
    int r = check_close(p, 1009, NULL, 1, names[k]);
    size_t cur = 0;
    const rec_event *e = rec_wait_conn(&s->r, SSEWS_EV_ERROR, conns[k], &cur, WAIT_MS);
    if (!e) {
      CASE_FAIL(names[k], "no error event");
      r = -1;
    } else if (e->code != SSEWS_ETOOBIG || !strstr(e->reason, "max_message_size")) {
      CASE_FAIL(names[k], "error event code %d reason \"%s\" (want SSEWS_ETOOBIG naming max_message_size)",
                e->code, e->reason);
      r = -1;
    }
    r |= check_failed_events(s, conns[k], 0, names[k]);
    bad += r ? 1 : 0;
    peer_free(p);
  }
  srv_close(s);
  bad += check_one_close_each(s, conns, 3, names);
  free(d);
  verdict(bad);
}

/* ======================================================================== */
/* Liveness: ping_interval / pong_timeout                                     */
/* ======================================================================== */

static void test_liveness_silent_peer_is_dropped(void **state) {
  srv *s = *state;
  const char *const opts[] = {"ping_interval", "1", "pong_timeout", "1", NULL};
  srv_start(s, 1, opts);
  ssews_conn conn;
  peer *p = ws_open(s, "/live", NULL, &conn);
  /* The server pings (seen, never answered)... */
  peer_frame f;
  int r = peer_ws_read_frame(p, &f, WAIT_MS);
  if (r < 0) fprintf(stderr, "no ping: %s\n", peer_error());
  assert_int_equal(r, 0);
  if (f.opcode != PEER_WS_PING) {
    char d[400];
    describe_frame(&f, d, sizeof d);
    fprintf(stderr, "expected a ping, got %s\n", d);
  }
  assert_int_equal(f.opcode, PEER_WS_PING);
  assert_true(f.fin);
  assert_false(f.masked);
  assert_true(f.len <= 125);
  peer_frame_free(&f);
  /* ...then gives up on the peer. */
  int eof = peer_wait_eof(p, 5000);
  if (eof < 0) fprintf(stderr, "%s\n", peer_error());
  assert_int_equal(eof, 0);
  size_t cur = 0;
  assert_non_null(rec_wait_conn(&s->r, SSEWS_EV_CLOSE, conn, &cur, WAIT_MS));
  peer_free(p);
  srv_close(s);
  assert_int_equal(rec_count(&s->r, SSEWS_EV_CLOSE, conn), 1);
}

static void test_liveness_answering_peer_stays(void **state) {
  srv *s = *state;
  const char *const opts[] = {"ping_interval", "1", "pong_timeout", "1", NULL};
  srv_start(s, 1, opts);
  ssews_conn conn;
  peer *p = ws_open(s, "/live", NULL, &conn);
  int64_t deadline = now_ms() + 3500;
  int pings = 0;
  for (;;) {
    int64_t left = deadline - now_ms();
    if (left <= 0) break;
    peer_frame f;
    if (peer_ws_read_frame(p, &f, (int)left) < 0) {
      /* Only a timeout (nothing more to read) is acceptable here. */
      if (!strstr(peer_error(), "timed out")) fprintf(stderr, "connection lost: %s\n", peer_error());
      assert_non_null(strstr(peer_error(), "timed out"));
      break;
    }
    if (f.opcode != PEER_WS_PING) {
      char d[400];
      describe_frame(&f, d, sizeof d);
      fprintf(stderr, "unexpected %s\n", d);
    }
    assert_int_equal(f.opcode, PEER_WS_PING);
    pings++;
    assert_int_equal(peer_ws_send(p, PEER_WS_PONG, f.payload, f.len), 0);
    peer_frame_free(&f);
  }
  assert_true(pings >= 2);
  assert_int_equal(rec_count(&s->r, SSEWS_EV_CLOSE, conn), 0);
  assert_int_equal(peer_ws_send(p, PEER_WS_TEXT, "alive", 5), 0);
  assert_int_equal(check_echo(p, PEER_WS_TEXT, "alive", 5, "still connected after 3.5 s"), 0);
  peer_free(p);
}

/* ======================================================================== */
/* Server-initiated close                                                    */
/* ======================================================================== */

static void test_server_initiated_close(void **state) {
  srv *s = *state;
  srv_start(s, 0, NULL);
  ssews_conn conns[3];
  const char *names[] = {"close 4000 bye", "close 1000 without reason", "close 3000 with a 123-byte reason"};
  char long_reason[124];
  memset(long_reason, 'z', 123);
  long_reason[123] = 0;
  const int codes[] = {4000, 1000, 3000};
  const char *reasons[] = {"bye", NULL, long_reason};
  int bad = 0;
  for (int k = 0; k < 3; k++) {
    peer *p = ws_open(s, "/close", NULL, &conns[k]);
    /* Queued messages go out before the close. */
    assert_int_equal(ssews_send(s->ep, conns[k], "first", 5, SSEWS_TEXT, NULL, NULL), SSEWS_OK);
    assert_int_equal(ssews_send(s->ep, conns[k], "\x01\x02", 2, SSEWS_BINARY, NULL, NULL), SSEWS_OK);
    assert_int_equal(ssews_conn_close(s->ep, conns[k], codes[k], reasons[k]), SSEWS_OK);
    int r = check_echo(p, PEER_WS_TEXT, "first", 5, names[k]);
    r |= check_echo(p, PEER_WS_BINARY, "\x01\x02", 2, names[k]);
    r |= check_close(p, codes[k], reasons[k] ? reasons[k] : "", 1, names[k]);
    size_t cur = 0;
    const rec_event *e = rec_wait_conn(&s->r, SSEWS_EV_CLOSE, conns[k], &cur, WAIT_MS);
    if (!e || e->code != codes[k] || strcmp(e->reason, reasons[k] ? reasons[k] : "")) {
      CASE_FAIL(names[k], "close event %s code %d reason \"%s\"", e ? "" : "missing", e ? e->code : 0,
                e ? e->reason : "");
      r = -1;
    }
    bad += r ? 1 : 0;
    peer_free(p);
  }
  srv_close(s);
  bad += check_one_close_each(s, conns, 3, names);
  verdict(bad);
}

static void test_conn_close_invalid_arguments(void **state) {
  srv *s = *state;
  srv_start(s, 1, NULL);
  ssews_conn conn;
  peer *p = ws_open(s, "/close", NULL, &conn);
  static const int bad_codes[] = {1005, 2000, 0, 999, 1004, 1006, 1015, 2999, 5000, 65535, -1};
  for (size_t i = 0; i < sizeof bad_codes / sizeof bad_codes[0]; i++) {
    char num[16];
    snprintf(num, sizeof num, "%d", bad_codes[i]);
    int rc = ssews_conn_close(s->ep, conn, bad_codes[i], "nope");
    if (rc != SSEWS_EINVAL || !strstr(ssews_last_error(), num))
      fprintf(stderr, "  code %d: rc %d, last error \"%s\"\n", bad_codes[i], rc, ssews_last_error());
    assert_int_equal(rc, SSEWS_EINVAL);
    assert_non_null(strstr(ssews_last_error(), num));
  }
  char reason[125];
  memset(reason, 'x', 124);
  reason[124] = 0;
  assert_int_equal(ssews_conn_close(s->ep, conn, 1000, reason), SSEWS_EINVAL);
  assert_non_null(strstr(ssews_last_error(), "123"));
  assert_int_equal(ssews_conn_close(s->ep, conn, 1000, "bad \xed\xa0\x80 reason"), SSEWS_EINVAL);
  assert_int_equal(ssews_conn_close(s->ep, conn + 1000, 1000, NULL), SSEWS_ENOCONN);
  /* None of that touched the connection. */
  assert_int_equal(peer_ws_send(p, PEER_WS_TEXT, "still open", 10), 0);
  assert_int_equal(check_echo(p, PEER_WS_TEXT, "still open", 10, "connection survives bad close calls"), 0);
  assert_int_equal(rec_count(&s->r, SSEWS_EV_CLOSE, conn), 0);
  peer_free(p);
}

/* ======================================================================== */
/* A peer that vanishes                                                      */
/* ======================================================================== */

static void test_peer_vanishes_mid_message(void **state) {
  srv *s = *state;
  srv_start(s, 1, NULL);
  ssews_conn conn;
  peer *p = ws_open(s, "/gone", NULL, &conn);
  assert_int_equal(peer_ws_send_frame(p, 0, 0, PEER_WS_TEXT, "half of a mes", 13, 1), 0);
  /* And half of the next frame's header and payload, too. */
  size_t fl;
  unsigned char *f = build_frame(1, 0, PEER_WS_CONT, "sage", 4, &fl);
  assert_int_equal(peer_write(p, f, fl - 2), 0);
  free(f);
  peer_free(p);
  size_t cur = 0;
  const rec_event *e = rec_wait_conn(&s->r, SSEWS_EV_CLOSE, conn, &cur, WAIT_MS);
  assert_non_null(e);
  assert_int_equal(e->code, 1006);
  srv_close(s);
  assert_int_equal(rec_count(&s->r, SSEWS_EV_CLOSE, conn), 1);
  assert_int_equal(rec_count(&s->r, SSEWS_EV_MESSAGE, conn), 0);
}

int main(int argc, char **argv) {
  /* An optional argument selects tests by name pattern (e.g. "test_close*"). */
  if (argc > 1) cmocka_set_test_filter(argv[1]);
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(test_echo_sizes, srv_setup, srv_teardown),
      cmocka_unit_test_setup_teardown(test_echo_large_fragmented_and_chopped, srv_setup, srv_teardown),
      cmocka_unit_test_setup_teardown(test_echo_many_small_messages_in_order, srv_setup, srv_teardown),
      cmocka_unit_test_setup_teardown(test_fragmented_messages, srv_setup, srv_teardown),
      cmocka_unit_test_setup_teardown(test_ping_pong, srv_setup, srv_teardown),
      cmocka_unit_test_setup_teardown(test_control_frame_violations, srv_setup, srv_teardown),
      cmocka_unit_test_setup_teardown(test_reserved_bits, srv_setup, srv_teardown),
      cmocka_unit_test_setup_teardown(test_reserved_opcodes, srv_setup, srv_teardown),
      cmocka_unit_test_setup_teardown(test_framing_violations, srv_setup, srv_teardown),
      cmocka_unit_test_setup_teardown(test_utf8_invalid, srv_setup, srv_teardown),
      cmocka_unit_test_setup_teardown(test_utf8_valid_split_everywhere, srv_setup, srv_teardown),
      cmocka_unit_test_setup_teardown(test_close_normal_with_reason, srv_setup, srv_teardown),
      cmocka_unit_test_setup_teardown(test_close_empty_payload, srv_setup, srv_teardown),
      cmocka_unit_test_setup_teardown(test_close_after_close_nothing_is_processed, srv_setup, srv_teardown),
      cmocka_unit_test_setup_teardown(test_close_valid_codes_echoed, srv_setup, srv_teardown),
      cmocka_unit_test_setup_teardown(test_close_invalid_payloads, srv_setup, srv_teardown),
      cmocka_unit_test_setup_teardown(test_close_invalid_codes_after_a_first_request, srv_setup, srv_teardown),
      cmocka_unit_test_setup_teardown(test_handshake_refusals, srv_setup, srv_teardown),
      cmocka_unit_test_setup_teardown(test_handshake_426_names_supported_version, srv_setup, srv_teardown),
      cmocka_unit_test_setup_teardown(test_handshake_subprotocol, srv_setup, srv_teardown),
      cmocka_unit_test(test_subprotocol_chosen_by_the_application),
      cmocka_unit_test(test_client_reports_subprotocol),
      cmocka_unit_test_setup_teardown(test_max_message_size, srv_setup, srv_teardown),
      cmocka_unit_test_setup_teardown(test_liveness_silent_peer_is_dropped, srv_setup, srv_teardown),
      cmocka_unit_test_setup_teardown(test_liveness_answering_peer_stays, srv_setup, srv_teardown),
      cmocka_unit_test_setup_teardown(test_server_initiated_close, srv_setup, srv_teardown),
      cmocka_unit_test_setup_teardown(test_conn_close_invalid_arguments, srv_setup, srv_teardown),
      cmocka_unit_test_setup_teardown(test_peer_vanishes_mid_message, srv_setup, srv_teardown),
  };
  return cmocka_run_group_tests_name("ws", tests, NULL, NULL);
}

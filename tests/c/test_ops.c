/* Operations (issue 18): the figures (ssews_stats and GET metrics_path),
 * backpressure (ssews_buffered_amount, SSEWS_EV_DRAIN, channel lag),
 * presence (ssews_channel_stats, ssews_channel_conns) and the graceful
 * drain (drain_timeout), over loopback with raw peers. */
#define _GNU_SOURCE
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <cmocka.h>

#include "harness.h"
#include "peer.h"

static const char *const kSseAccept[] = {"Accept: text/event-stream", NULL};

static peer *sse_stream(int port, const char *path) {
  peer *p = peer_connect("127.0.0.1", port, 0, WAIT_MS);
  assert_non_null(p);
  peer_http resp;
  memset(&resp, 0, sizeof resp);
  assert_int_equal(peer_http_get(p, path, kSseAccept, &resp, WAIT_MS), 200);
  peer_http_free(&resp);
  free(sse_read_until(p, "\n\n")); /* the opening comment */
  return p;
}

/* GET path; returns the status, the body in *body (malloc'd). */
static int http_get(int port, const char *path, const char *const *headers, char **body) {
  peer *p = peer_connect("127.0.0.1", port, 0, WAIT_MS);
  assert_non_null(p);
  peer_http resp;
  memset(&resp, 0, sizeof resp);
  int status = peer_http_get(p, path, headers, &resp, WAIT_MS);
  size_t len = 0;
  assert_int_equal(peer_http_body(p, &resp, body, &len, WAIT_MS), 0);
  peer_http_free(&resp);
  peer_free(p);
  return status;
}

static void test_stats_agree_with_traffic(void **state) {
  (void)state;
  recorder r;
  rec_init(&r);
  const char *const opts[] = {"metrics_path", "/metrics", "metrics_token", "s3cret", "history", "10", NULL};
  int port;
  ssews *ep = start_server(&r, opts, &port);
  size_t cur = 0;

  /* Nothing yet: every figure is there, at zero. */
  size_t total = 0;
  assert_int_equal(ssews_stats(ep, NULL, NULL, 0, &total), SSEWS_OK);
  assert_true(total >= 20);
  assert_true(stat_of(ep, "messages_published") == 0);
  assert_true(stat_of(ep, "connections_websocket") == 0);

  peer *ws = ws_connect(port, "/feed", NULL, 0);
  assert_non_null(rec_wait(&r, SSEWS_EV_OPEN, &cur, WAIT_MS));
  peer *sse = sse_stream(port, "/feed");
  assert_non_null(rec_wait(&r, SSEWS_EV_OPEN, &cur, WAIT_MS));
  for (int i = 0; i < 3; i++)
    assert_int_equal(ssews_publish(ep, "feed", "hi", 2, SSEWS_TEXT, NULL, NULL), SSEWS_OK);
  for (int i = 0; i < 3; i++) {
    unsigned char *m = NULL;
    size_t len = 0;
    assert_int_equal(peer_ws_read_message(ws, &m, &len, WAIT_MS), 1);
    free(m);
    free(sse_read_until(sse, "\n\n"));
  }
  /* A handshake the server refuses (a version it does not speak). */
  peer *bad = peer_connect("127.0.0.1", port, 0, WAIT_MS);
  const char *const badv[] = {"Sec-WebSocket-Version: 8", NULL};
  assert_true(peer_ws_handshake(bad, "/feed", badv, NULL, WAIT_MS) > 0);
  peer_free(bad);

  assert_true(stat_of(ep, "connections_websocket") == 1);
  assert_true(stat_of(ep, "connections_sse") == 1);
  assert_true(stat_of(ep, "handshakes_accepted_websocket") == 1);
  assert_true(stat_of(ep, "handshakes_accepted_sse") == 1);
  assert_true(stat_of(ep, "handshakes_refused_bad_request") == 1);
  assert_true(stat_of(ep, "messages_published") == 3);
  assert_true(stat_of(ep, "deliveries_websocket") == 3);
  assert_true(stat_of(ep, "deliveries_sse") == 3);
  assert_true(stat_of(ep, "history_messages") == 3);
  assert_true(stat_of(ep, "loop_busy_seconds") > 0);

  /* The same figures in Prometheus' text, behind the token. */
  char *body = NULL;
  assert_int_equal(http_get(port, "/metrics", NULL, &body), 401);
  free(body);
  const char *const auth[] = {"Authorization: Bearer s3cret", NULL};
  assert_int_equal(http_get(port, "/metrics", auth, &body), 200);
  assert_non_null(strstr(body, "# TYPE ssews_connections gauge\n"));
  assert_non_null(strstr(body, "ssews_connections{protocol=\"websocket\"} 1\n"));
  assert_non_null(strstr(body, "ssews_messages_published_total 3\n"));
  assert_non_null(strstr(body, "ssews_deliveries_total{protocol=\"sse\"} 3\n"));
  assert_non_null(strstr(body, "ssews_slow_consumer_drops_total 0\n"));
  assert_non_null(strstr(body, "ssews_handshakes_refused_total{reason=\"auth\"} 0\n"));
  free(body);

  peer_free(ws);
  peer_free(sse);
  ssews_close(&ep);
  rec_free(&r);
}

static void test_stats_errors(void **state) {
  (void)state;
  const char *names[2];
  double values[2];
  size_t n = 0;
  int port;
  ssews *ep = start_server(NULL, NULL, &port);
  assert_int_equal(ssews_stats(ep, NULL, NULL, 0, NULL), SSEWS_EINVAL);
  assert_int_equal(ssews_stats(ep, NULL, values, 2, &n), SSEWS_EINVAL);
  /* A short array gets the first figures and the total. */
  assert_int_equal(ssews_stats(ep, names, values, 2, &n), SSEWS_OK);
  assert_true(n > 2);
  assert_string_equal(names[0], "connections_websocket");
  size_t b = 0;
  assert_int_equal(ssews_buffered_amount(ep, 12345, &b), SSEWS_ENOCONN);
  assert_int_equal(ssews_channel_stats(ep, "", NULL, NULL, NULL), SSEWS_EINVAL);
  ssews_close(&ep);
  assert_int_equal(ssews_stats(ep, names, values, 2, &n), SSEWS_EINVAL); /* NULL handle */

  const char *const copts[] = {"url", "ws://127.0.0.1:9/x", "reconnect", "false", NULL};
  ssews *cl = NULL;
  assert_int_equal(ssews_open(&cl, copts, NULL, NULL), SSEWS_OK);
  assert_int_equal(ssews_stats(cl, names, values, 2, &n), SSEWS_ENOTSUP);
  ssews_close(&cl);
}

/* A peer that does not read fills its queue past the high-water mark; the
 * publisher sees the lag; once the peer reads, the drain event comes. */
static void test_backpressure_and_drain_event(void **state) {
  (void)state;
  enum { SIZE = 64 * 1024, COUNT = 320 }; /* 20 MiB: more than loopback socket buffers take */
  recorder r;
  rec_init(&r);
  const char *const opts[] = {"send_high_water", "1048576", "send_low_water", "65536", "max_queue_bytes",
                              "67108864",        NULL};
  int port;
  ssews *ep = start_server(&r, opts, &port);
  size_t cur = 0;
  peer *ws = ws_connect(port, "/feed", NULL, 0);
  const rec_event *o = rec_wait(&r, SSEWS_EV_OPEN, &cur, WAIT_MS);
  assert_non_null(o);
  ssews_conn conn = o->conn;
  char *buf = malloc(SIZE);
  memset(buf, 'x', SIZE);
  for (int i = 0; i < COUNT; i++)
    assert_int_equal(ssews_publish(ep, "feed", buf, SIZE, SSEWS_TEXT, NULL, NULL), SSEWS_OK);
  free(buf);
  /* The publishes are queued by the service thread: wait until the figure shows them. */
  size_t queued = 0, subs = 0, lag = 0, lag_msgs = 0;
  for (int tries = 0; tries < 500; tries++) {
    assert_int_equal(ssews_buffered_amount(ep, conn, &queued), SSEWS_OK);
    if (queued > 1048576) break;
    struct timespec ts = {0, 10 * 1000 * 1000};
    nanosleep(&ts, NULL);
  }
  assert_true(queued > 1048576);
  assert_int_equal(ssews_channel_stats(ep, "feed", &subs, &lag, &lag_msgs), SSEWS_OK);
  assert_int_equal(subs, 1);
  assert_true(lag >= queued / 2);
  assert_true(lag_msgs > 0);
  assert_true(stat_of(ep, "queue_max_bytes") > 1048576);

  /* The peer catches up: every message arrives, and the queue drains. */
  for (int i = 0; i < COUNT; i++) {
    unsigned char *m = NULL;
    size_t len = 0;
    assert_int_equal(peer_ws_read_message(ws, &m, &len, WAIT_MS), 1);
    assert_int_equal(len, SIZE);
    free(m);
  }
  /* The peer has every byte: the write that emptied the queue is done, and
   * with it the drain event owed since the queue passed the high-water mark
   * (an earlier one may have come while the kernel's buffers still took
   * what fan-out had queued). */
  size_t c2 = 0;
  const rec_event *d = rec_wait_conn(&r, SSEWS_EV_DRAIN, conn, &c2, WAIT_MS);
  assert_non_null(d);
  assert_int_equal(d->protocol, SSEWS_PROTO_WS);
  assert_int_equal(ssews_buffered_amount(ep, conn, &queued), SSEWS_OK);
  assert_true(queued <= 65536);
  /* One per episode: publishes still arriving while the peer read may make a second. */
  assert_true(rec_count(&r, SSEWS_EV_DRAIN, conn) >= 1);
  assert_true(stat_of(ep, "drain_events") == (double)rec_count(&r, SSEWS_EV_DRAIN, conn));
  peer_free(ws);
  ssews_close(&ep);
  rec_free(&r);
}

static void test_presence(void **state) {
  (void)state;
  recorder r;
  rec_init(&r);
  int port;
  ssews *ep = start_server(&r, NULL, &port);
  size_t cur = 0;
  peer *a = ws_connect(port, "/room", NULL, 0);
  const rec_event *oa = rec_wait(&r, SSEWS_EV_OPEN, &cur, WAIT_MS);
  assert_non_null(oa);
  ssews_conn ca = oa->conn;
  peer *b = sse_stream(port, "/room");
  const rec_event *ob = rec_wait(&r, SSEWS_EV_OPEN, &cur, WAIT_MS);
  assert_non_null(ob);
  ssews_conn cb = ob->conn;
  peer *c = ws_connect(port, "/other", NULL, 0);
  assert_non_null(rec_wait(&r, SSEWS_EV_OPEN, &cur, WAIT_MS));

  size_t subs = 0;
  assert_int_equal(ssews_channel_stats(ep, "room", &subs, NULL, NULL), SSEWS_OK);
  assert_int_equal(subs, 2);
  ssews_conn ids[4];
  size_t n = 0;
  assert_int_equal(ssews_channel_conns(ep, "room", NULL, 0, &n), SSEWS_OK);
  assert_int_equal(n, 2);
  assert_int_equal(ssews_channel_conns(ep, "room", ids, 4, &n), SSEWS_OK);
  assert_int_equal(n, 2);
  assert_true((ids[0] == ca && ids[1] == cb) || (ids[0] == cb && ids[1] == ca));
  assert_int_equal(ssews_channel_stats(ep, "nobody", &subs, NULL, NULL), SSEWS_OK);
  assert_int_equal(subs, 0);

  /* One leaves: the channel has one subscriber. */
  peer_free(a);
  size_t c2 = 0;
  assert_non_null(rec_wait_conn(&r, SSEWS_EV_CLOSE, ca, &c2, WAIT_MS));
  assert_int_equal(ssews_channel_conns(ep, "room", ids, 4, &n), SSEWS_OK);
  assert_int_equal(n, 1);
  assert_true(ids[0] == cb);
  peer_free(b);
  peer_free(c);
  ssews_close(&ep);
  rec_free(&r);
}

/* The presence option: join/leave events for the application, join/leave
 * messages for ssews.v1 subscribers; and GET <publish_path>/presence. */
static void test_presence_notices_and_http(void **state) {
  (void)state;
  recorder r;
  rec_init(&r);
  const char *const opts[] = {"presence", "true", "publish_token", "tok", NULL};
  int port;
  ssews *ep = start_server(&r, opts, &port);
  size_t cur = 0;
  const char *const v1[] = {"Sec-WebSocket-Protocol: ssews.v1", NULL};
  peer *a = ws_connect(port, "/room", v1, 0);
  const rec_event *j = rec_wait(&r, SSEWS_EV_JOIN, &cur, WAIT_MS);
  assert_non_null(j);
  ssews_conn ca = j->conn;
  peer *b = ws_connect(port, "/room", NULL, 0);
  j = rec_wait(&r, SSEWS_EV_JOIN, &cur, WAIT_MS);
  assert_non_null(j);
  ssews_conn cb = j->conn;
  assert_true(cb != ca);

  /* The ssews.v1 subscriber hears of the other one joining. */
  unsigned char *m = NULL;
  size_t len = 0;
  assert_int_equal(peer_ws_read_message(a, &m, &len, WAIT_MS), 1);
  char want[64];
  snprintf(want, sizeof want, "{\\\"conn\\\":%llu}", (unsigned long long)cb);
  assert_non_null(strstr((char *)m, "\"event\":\"join\""));
  assert_non_null(strstr((char *)m, "\"channel\":\"room\""));
  assert_non_null(strstr((char *)m, want));
  free(m);

  /* The HTTP side, with the publish token. */
  char *body = NULL;
  assert_int_equal(http_get(port, "/publish/presence?channel=room", NULL, &body), 401);
  free(body);
  const char *const auth[] = {"Authorization: Bearer tok", NULL};
  assert_int_equal(http_get(port, "/publish/presence?channel=room", auth, &body), 200);
  assert_non_null(strstr(body, "\"subscribers\":2"));
  snprintf(want, sizeof want, "{\"conn\":%llu,\"protocol\":\"websocket\"}", (unsigned long long)ca);
  assert_non_null(strstr(body, want));
  free(body);
  assert_int_equal(http_get(port, "/publish/presence", auth, &body), 400);
  free(body);

  /* b leaves: a leave event before its close, and a leave message to a. */
  peer_free(b);
  const rec_event *l = rec_wait(&r, SSEWS_EV_LEAVE, &cur, WAIT_MS);
  assert_non_null(l);
  assert_true(l->conn == cb);
  assert_int_equal(peer_ws_read_message(a, &m, &len, WAIT_MS), 1);
  assert_non_null(strstr((char *)m, "\"event\":\"leave\""));
  free(m);
  peer_free(a);
  ssews_close(&ep);
  rec_free(&r);
}

/* A close event's figures (what an access log writes), kept by the callback. */
static double g_fig[5];
static const char *const kFigs[] = {"duration_ms", "bytes_in", "bytes_out", "messages_in", "messages_out"};

static void figures_cb(ssews *ep, const ssews_event *ev, void *user) {
  if (ssews_event_kind(ev) == SSEWS_EV_CLOSE)
    for (int i = 0; i < 5; i++) assert_int_equal(ssews_event_stat(ev, kFigs[i], &g_fig[i]), SSEWS_OK);
  if (ssews_event_kind(ev) == SSEWS_EV_MESSAGE) {
    size_t len;
    const void *d = ssews_event_data(ev, &len);
    ssews_send(ep, ssews_event_conn(ev), d, len, SSEWS_TEXT, NULL, NULL);
    double v;
    assert_int_equal(ssews_event_stat(ev, "bytes_in", &v), SSEWS_EINVAL); /* only close events have them */
  }
  rec_cb(ep, ev, user); /* recorded after: rec_wait sees the figures set */
}

static void test_close_event_figures(void **state) {
  (void)state;
  recorder r;
  rec_init(&r);
  const char *const opts[] = {"host", "127.0.0.1", "port", "0", NULL};
  ssews *ep = NULL;
  assert_int_equal(ssews_open(&ep, opts, figures_cb, &r), SSEWS_OK);
  int port;
  assert_int_equal(ssews_port(ep, &port), SSEWS_OK);
  size_t cur = 0;
  peer *ws = ws_connect(port, "/x", NULL, 0);
  assert_non_null(rec_wait(&r, SSEWS_EV_OPEN, &cur, WAIT_MS));
  for (int i = 0; i < 3; i++) {
    assert_int_equal(peer_ws_send(ws, 1, "hello", 5), 0);
    unsigned char *m = NULL;
    size_t len = 0;
    assert_int_equal(peer_ws_read_message(ws, &m, &len, WAIT_MS), 1);
    free(m);
  }
  peer_ws_send_close(ws, 1000, NULL);
  assert_non_null(rec_wait(&r, SSEWS_EV_CLOSE, &cur, WAIT_MS));
  assert_true(g_fig[0] >= 0);
  assert_true(g_fig[1] >= 3 * (5 + 6));   /* three masked 5-byte frames (and the close) */
  assert_true(g_fig[2] >= 3 * (5 + 2));   /* three unmasked echoes (and the 101) */
  assert_true(g_fig[3] == 3);
  assert_true(g_fig[4] == 3);
  peer_free(ws);
  ssews_close(&ep);
  rec_free(&r);
}

/* Tokens change while the server runs; other options say they cannot. */
static void test_set_option_rotates_tokens(void **state) {
  (void)state;
  const char *const opts[] = {"metrics_path", "/metrics", "metrics_token", "old", NULL};
  int port;
  ssews *ep = start_server(NULL, opts, &port);
  const char *const old_auth[] = {"Authorization: Bearer old", NULL};
  const char *const new_auth[] = {"Authorization: Bearer new", NULL};
  char *body = NULL;
  assert_int_equal(http_get(port, "/metrics", old_auth, &body), 200);
  free(body);
  assert_int_equal(ssews_set_option(ep, "metrics_token", "new"), SSEWS_OK);
  /* Commands run in order: once a later query is answered, the change is made. */
  size_t n = 0;
  assert_int_equal(ssews_stats(ep, NULL, NULL, 0, &n), SSEWS_OK);
  assert_int_equal(http_get(port, "/metrics", old_auth, &body), 401);
  free(body);
  assert_int_equal(http_get(port, "/metrics", new_auth, &body), 200);
  free(body);
  assert_int_equal(ssews_set_option(ep, "port", "8080"), SSEWS_ENOTSUP);
  assert_non_null(strstr(ssews_last_error(), "port"));
  assert_int_equal(ssews_set_option(ep, "no_such_key", "1"), SSEWS_EOPTION);
  assert_int_equal(ssews_set_option(ep, "publish_token", NULL), SSEWS_EINVAL);
  ssews_close(&ep);
}

/* The status a WebSocket handshake on /room from `origin` gets (0: 101). */
static int upgrade_from(int port, const char *origin) {
  char line[128];
  snprintf(line, sizeof line, "Origin: %s", origin);
  const char *const headers[] = {line, NULL};
  peer *p = peer_connect("127.0.0.1", port, 0, WAIT_MS);
  assert_non_null(p);
  int st = peer_ws_handshake(p, "/room", headers, NULL, WAIT_MS);
  peer_free(p);
  return st;
}

/* The access policy follows allowed_origins and the token keys while
 * running; a key file that cannot be read is the caller's error, and the
 * policy stays as it was. */
static void test_set_option_changes_the_access_policy(void **state) {
  (void)state;
  const char *const opts[] = {"allowed_origins", "https://a.example", NULL};
  int port;
  ssews *ep = start_server(NULL, opts, &port);
  assert_int_equal(upgrade_from(port, "https://a.example"), 0);
  assert_int_equal(upgrade_from(port, "https://b.example"), 403);
  assert_int_equal(ssews_set_option(ep, "allowed_origins", "https://b.example"), SSEWS_OK);
  assert_int_equal(upgrade_from(port, "https://a.example"), 403);
  assert_int_equal(upgrade_from(port, "https://b.example"), 0);
  assert_int_equal(ssews_set_option(ep, "jwt_public_key", "/nonexistent/key.pem"), SSEWS_EOPTION);
  assert_non_null(strstr(ssews_last_error(), "/nonexistent/key.pem"));
  assert_int_equal(upgrade_from(port, "https://b.example"), 0); /* no key: no token asked */
  assert_int_equal(ssews_set_option(ep, "allowed_origins", "nonsense origin"), SSEWS_EOPTION);
  assert_int_equal(upgrade_from(port, "https://b.example"), 0);
  /* A key now: a token is asked of new connections. */
  assert_int_equal(ssews_set_option(ep, "jwt_secret", "0123456789abcdef0123456789abcdef"), SSEWS_OK);
  assert_int_equal(upgrade_from(port, "https://b.example"), 401);
  assert_int_equal(ssews_set_option(ep, "anonymous_subscribe", "room"), SSEWS_OK);
  assert_int_equal(upgrade_from(port, "https://b.example"), 0);
  assert_int_equal(ssews_set_option(ep, "log_level", "notice"), SSEWS_OK);
  assert_int_equal(ssews_set_option(ep, "log_level", "loud"), SSEWS_EOPTION);
  ssews_close(&ep);
}

static void *close_endpoint(void *arg) {
  ssews_close((ssews **)arg);
  return NULL;
}

/* drain_timeout: WebSocket peers get 1012, SSE peers a retry within the
 * window and the end of their stream; the endpoint closes cleanly. */
static void test_graceful_drain(void **state) {
  (void)state;
  recorder r;
  rec_init(&r);
  const char *const opts[] = {"drain_timeout", "2", NULL};
  int port;
  ssews *ep = start_server(&r, opts, &port);
  size_t cur = 0;
  peer *ws = ws_connect(port, "/feed", NULL, 0);
  assert_non_null(rec_wait(&r, SSEWS_EV_OPEN, &cur, WAIT_MS));
  peer *sse = sse_stream(port, "/feed");
  assert_non_null(rec_wait(&r, SSEWS_EV_OPEN, &cur, WAIT_MS));
  assert_int_equal(ssews_publish(ep, "feed", "last", 4, SSEWS_TEXT, NULL, NULL), SSEWS_OK);

  pthread_t th;
  assert_int_equal(pthread_create(&th, NULL, close_endpoint, &ep), 0);
  /* What was queued still arrives, then the goodbye. */
  char *got = sse_read_until(sse, "data: last\n\n");
  assert_non_null(got);
  free(got);
  got = sse_read_until(sse, "\n\n");
  assert_non_null(got);
  int retry = -1;
  assert_int_equal(sscanf(got, "retry: %d", &retry), 1);
  assert_true(retry >= 0 && retry < 2000);
  free(got);
  assert_int_equal(peer_wait_eof(sse, WAIT_MS), 0);

  unsigned char *m = NULL;
  size_t len = 0;
  assert_int_equal(peer_ws_read_message(ws, &m, &len, WAIT_MS), 1);
  assert_string_equal((char *)m, "last");
  free(m);
  assert_int_equal(peer_ws_read_message(ws, &m, &len, WAIT_MS), 8);
  assert_int_equal(peer_close_code(m, len), 1012);
  free(m);
  peer_ws_send_close(ws, 1012, NULL);
  pthread_join(th, NULL);
  assert_null(ep);
  /* Nobody is listening any more. */
  assert_null(peer_connect("127.0.0.1", port, 0, 1000));
  peer_free(ws);
  peer_free(sse);
  rec_free(&r);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_stats_agree_with_traffic),
      cmocka_unit_test(test_stats_errors),
      cmocka_unit_test(test_backpressure_and_drain_event),
      cmocka_unit_test(test_presence),
      cmocka_unit_test(test_presence_notices_and_http),
      cmocka_unit_test(test_close_event_figures),
      cmocka_unit_test(test_set_option_rotates_tokens),
      cmocka_unit_test(test_set_option_changes_the_access_policy),
      cmocka_unit_test(test_graceful_drain),
  };
  return cmocka_run_group_tests_name("ops", tests, NULL, NULL);
}

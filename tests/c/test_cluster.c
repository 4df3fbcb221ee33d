/* Several nodes sharing channels through a real redis-server (option broker,
 * issue 17): publishes cross nodes, ids come from one cluster sequence, a
 * client resumes on another node, and Redis going away and coming back loses
 * nothing Redis accepted and delivers nothing twice. Nodes are endpoints of
 * this process; tests/cli/test_cluster.py runs them as processes. */
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
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
#include "redis_proc.h"

static long long now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* A node: an endpoint with the broker, history 1000 and the publish endpoint. */
static ssews *node(redis_proc *redis, recorder *r, int *port) {
  const char *const opts[] = {"broker", redis->url, "history", "1000", "publish_token", "t", NULL};
  return start_server(r, opts, port);
}

/* A node listens to a channel once Redis confirms its SUBSCRIBE, which no
 * protocol tells a client: publish probes from pub until one reaches sse,
 * then a marker, and read up to it, so what the test reads next is its own. */
static void wait_listening(ssews *pub, peer *sse, const char *channel) {
  long long until = now_ms() + WAIT_MS;
  int seen = 0;
  for (int i = 0; !seen && now_ms() < until; i++) {
    assert_int_equal(ssews_publish(pub, channel, "probe", 5, SSEWS_TEXT, NULL, NULL), SSEWS_OK);
    char *out = NULL;
    seen = peer_read_until(sse, "data: probe\n\n", &out, 50) > 0;
    free(out);
  }
  assert_true(seen);
  assert_int_equal(ssews_publish(pub, channel, "synced", 6, SSEWS_TEXT, NULL, NULL), SSEWS_OK);
  free(sse_read_until(sse, "data: synced\n\n"));
}

/* Two nodes, and an SSE client of node b on path listening (through node a's
 * probes) to the given channels (NULL-ended). */
typedef struct two_nodes {
  ssews *a, *b;
  int pa, pb;
  peer *sse;
} two_nodes;

static void two_nodes_open(two_nodes *t, redis_proc *redis, recorder *ra, recorder *rb, const char *path,
                           const char *const *channels) {
  t->a = node(redis, ra, &t->pa);
  t->b = node(redis, rb, &t->pb);
  t->sse = sse_open(t->pb, path, NULL);
  for (size_t i = 0; channels[i]; i++) wait_listening(t->a, t->sse, channels[i]);
}

static void two_nodes_close(two_nodes *t) {
  peer_free(t->sse);
  ssews_close(&t->a);
  ssews_close(&t->b);
}

static const char *const kNews[] = {"news", NULL};
static const char *const kNewsSport[] = {"news", "sport", NULL};

/* The seq of the "<epoch>-<seq>" id at the start of line, its epoch into ep. */
static unsigned long long seq_of(const char *line, char *ep, size_t n) {
  char id[128];
  snprintf(id, sizeof id, "%.*s", (int)strcspn(line, "\n"), line);
  char *dash = strrchr(id, '-');
  assert_non_null(dash);
  *dash = 0;
  snprintf(ep, n, "%s", id);
  return strtoull(dash + 1, NULL, 10);
}

/* The number of times needle occurs in s. */
static int count(const char *s, const char *needle) {
  int n = 0;
  for (const char *p = s; (p = strstr(p, needle)) != NULL; p += strlen(needle)) n++;
  return n;
}

/* The messages fmt names for from..to are each in got exactly once, in order. */
static void each_once_in_order(const char *got, const char *fmt, int from, int to) {
  const char *prev = got;
  for (int i = from; i <= to; i++) {
    char m[64];
    snprintf(m, sizeof m, fmt, i);
    const char *at = strstr(got, m);
    assert_non_null(at);
    assert_true(at >= prev);
    assert_int_equal(count(got, m), 1);
    prev = at;
  }
}

/* Reads until both needles were seen (in either order); one malloc'd buffer. */
static char *read_both(peer *p, const char *first, const char *second) {
  char *a = sse_read_until(p, first);
  assert_non_null(a);
  if (strstr(a, second)) return a;
  char *b = sse_read_until(p, second);
  assert_non_null(b);
  char *all = malloc(strlen(a) + strlen(b) + 1);
  strcpy(all, a);
  strcat(all, b);
  free(a);
  free(b);
  return all;
}

/* A publish on one node reaches SSE and WebSocket subscribers on the other;
 * ids come from one sequence over channels and nodes, and the HTTP publish
 * endpoint answers the id subscribers get. */
static void test_cross_node_publish_and_ids(void **state) {
  redis_proc *redis = *state;
  two_nodes t;
  two_nodes_open(&t, redis, NULL, NULL, "/?channel=news&channel=sport", kNewsSport);

  char resp[256];
  assert_int_equal(http_post(t.pa, "/publish?channel=news", "Bearer t", NULL, "a1", resp, sizeof resp), 200);
  assert_non_null(strstr(resp, "\"subscribers\":0")); /* none on this node */
  char want[128];
  const char *q = strstr(resp, "\"id\":\"");
  assert_non_null(q);
  snprintf(want, sizeof want, "id: %.*s\ndata: a1\n\n", (int)(strchr(q + 6, '"') - q - 6), q + 6);
  char *got = sse_read_until(t.sse, "data: a1\n\n");
  assert_non_null(strstr(got, want));
  free(got);
  assert_int_equal(http_post(t.pb, "/publish?channel=sport", "Bearer t", NULL, "b1", resp, sizeof resp), 200);
  assert_non_null(strstr(resp, "\"subscribers\":1"));

  /* Publishes from both nodes on both channels: one increasing sequence. */
  assert_int_equal(ssews_publish(t.a, "sport", "a2", 2, SSEWS_TEXT, NULL, NULL), SSEWS_OK);
  assert_int_equal(ssews_publish(t.b, "news", "b2", 2, SSEWS_TEXT, NULL, NULL), SSEWS_OK);
  assert_int_equal(ssews_publish(t.a, "weather", "w", 1, SSEWS_TEXT, NULL, NULL), SSEWS_OK);
  got = read_both(t.sse, "data: b2\n\n", "data: a2\n\n");
  assert_null(strstr(got, "data: w\n")); /* not t.a channel it follows */
  /* Every id seen so far, in the order received: one epoch, increasing. */
  char ep0[64] = "", ep[64];
  unsigned long long prev = 0;
  int ids = 0;
  for (const char *p = got; (p = strstr(p, "id: ")) != NULL; p += 4) {
    unsigned long long s = seq_of(p + 4, ep, sizeof ep);
    if (!ep0[0]) snprintf(ep0, sizeof ep0, "%s", ep);
    assert_string_equal(ep, ep0);
    assert_true(s > prev);
    prev = s;
    ids++;
  }
  assert_true(ids >= 3);
  free(got);
  two_nodes_close(&t);
}

/* A client that read on one node resumes on another with Last-Event-ID and
 * gets exactly what it missed (both channels, in order, once), then live
 * messages; an id of another epoch gets all that is kept and the gap signal. */
static void test_resume_on_other_node(void **state) {
  redis_proc *redis = *state;
  two_nodes t;
  two_nodes_open(&t, redis, NULL, NULL, "/?channel=news&channel=sport", kNewsSport);
  ssews *a = t.a;
  int pa = t.pa;
  peer *sse = t.sse;
  assert_int_equal(http_post(pa, "/publish?channel=news", "Bearer t", NULL, "n1", NULL, 0), 200);
  char *got = sse_read_until(sse, "data: n1\n\n");
  char id[128], hdr[160];
  sse_last_id(got, id, sizeof id);
  free(got);
  peer_free(sse); /* the client drops; node b may go as well */
  ssews_close(&t.b);

  /* Missed while away (the HTTP answers: Redis has them), and one elsewhere. */
  assert_int_equal(http_post(pa, "/publish?channel=news", "Bearer t", NULL, "n2", NULL, 0), 200);
  assert_int_equal(http_post(pa, "/publish?channel=weather", "Bearer t", NULL, "w1", NULL, 0), 200);
  assert_int_equal(http_post(pa, "/publish?channel=sport", "Bearer t", NULL, "s2", NULL, 0), 200);
  assert_int_equal(http_post(pa, "/publish?channel=news&id=own-3", "Bearer t", NULL, "n3", NULL, 0), 200);

  int pc;
  ssews *c = node(redis, NULL, &pc); /* a node that never saw these channels */
  snprintf(hdr, sizeof hdr, "Last-Event-ID: %s", id);
  const char *const h[] = {"Accept: text/event-stream", hdr, NULL};
  sse = sse_open(pc, "/?channel=news&channel=sport", h);
  assert_int_equal(ssews_publish(a, "news", "n4", 2, SSEWS_TEXT, NULL, NULL), SSEWS_OK);
  got = sse_read_until(sse, "data: n4\n\n");
  const char *n2 = strstr(got, "data: n2\n"), *s2 = strstr(got, "data: s2\n"),
             *n3 = strstr(got, "data: n3\n");
  assert_non_null(n2);
  assert_non_null(s2);
  assert_non_null(n3);
  assert_true(n2 < s2 && s2 < n3);
  assert_non_null(strstr(got, "id: own-3\ndata: n3\n")); /* a publisher's own id is kept */
  assert_null(strstr(got, "data: n1\n"));
  assert_null(strstr(got, "data: w1\n"));
  assert_null(strstr(got, "ssews-gap"));
  assert_int_equal(count(got, "data: n2\n") + count(got, "data: n4\n"), 2);
  free(got);
  peer_free(sse);

  /* A publisher's own id resumes too; a stale epoch replays all, with the gap signal. */
  const char *const h2[] = {"Accept: text/event-stream", "Last-Event-ID: own-3", NULL};
  sse = sse_open(pa, "/news", h2);
  got = sse_read_until(sse, "data: n4\n\n");
  assert_null(strstr(got, "data: n3\n"));
  assert_null(strstr(got, "ssews-gap"));
  free(got);
  peer_free(sse);
  const char *const h3[] = {"Accept: text/event-stream", "Last-Event-ID: oldepoch-1", NULL};
  sse = sse_open(pc, "/news", h3);
  got = sse_read_until(sse, "data: n4\n\n");
  assert_non_null(strstr(got, "event: ssews-gap\n"));
  assert_non_null(strstr(got, "data: n1\n"));
  free(got);
  peer_free(sse);
  ssews_close(&a);
  ssews_close(&c);
}

/* Waits for an error event with code on the endpoint itself (conn 0). */
static const rec_event *wait_endpoint_error(recorder *r, int code, size_t *cur) {
  const rec_event *e;
  while ((e = rec_wait(r, SSEWS_EV_ERROR, cur, WAIT_MS)) != NULL)
    if (e->conn == 0 && e->code == code) return e;
  return NULL;
}

/* Publishes on ep until Redis takes it again (the node reconnects on its own
 * schedule and no event says it did). */
static void publish_when_back(ssews *ep, const char *channel, const char *data) {
  long long until = now_ms() + 3 * WAIT_MS;
  int rc;
  while ((rc = ssews_publish(ep, channel, data, strlen(data), SSEWS_TEXT, NULL, NULL)) == SSEWS_EBROKER &&
         now_ms() < until) {
    struct timespec ts = {0, 20 * 1000000};
    nanosleep(&ts, NULL);
  }
  assert_int_equal(rc, SSEWS_OK);
}

/* Redis stops: nodes keep their connections, the application hears of it,
 * publishes fail at once (SSEWS_EBROKER, HTTP 503). Redis returns: nodes
 * catch up, and subscribers get what Redis accepted, in order, once. */
static void test_redis_down_and_back(void **state) {
  redis_proc *redis = *state;
  recorder ra, rb;
  rec_init(&ra);
  rec_init(&rb);
  two_nodes t;
  two_nodes_open(&t, redis, &ra, &rb, "/news", kNews);
  assert_int_equal(ssews_publish(t.a, "news", "before", 6, SSEWS_TEXT, NULL, NULL), SSEWS_OK);
  free(sse_read_until(t.sse, "data: before\n\n"));
  /* The link in the metrics: up, and the message t.b got from Redis, a moment late. */
  assert_true(stat_of(t.a, "broker_up") == 1 && stat_of(t.b, "broker_up") == 1);
  assert_true(stat_of(t.b, "broker_messages_received") >= 1);
  double lag = stat_of(t.b, "broker_lag_seconds");
  assert_true(lag >= 0 && lag < 5);
  assert_true(stat_of(t.b, "broker_disconnects") == 0);
  double received = stat_of(t.b, "broker_messages_received");

  size_t ca = 0, cb = 0;
  redis_stop(redis, SIGTERM);
  const rec_event *e = wait_endpoint_error(&ra, SSEWS_EBROKER, &ca);
  assert_non_null(e);
  assert_non_null(strstr(e->reason, redis->url));
  assert_non_null(wait_endpoint_error(&rb, SSEWS_EBROKER, &cb));
  assert_int_equal(ssews_publish(t.a, "news", "x", 1, SSEWS_TEXT, NULL, NULL), SSEWS_EBROKER);
  assert_non_null(strstr(ssews_last_error(), "not connected"));
  assert_true(stat_of(t.a, "broker_up") == 0 && stat_of(t.b, "broker_up") == 0);
  assert_true(stat_of(t.b, "broker_disconnects") == 1);
  char resp[256];
  assert_int_equal(http_post(t.pa, "/publish?channel=news", "Bearer t", NULL, "x", resp, sizeof resp), 503);
  assert_int_equal(rec_count(&rb, SSEWS_EV_CLOSE, 0), 0); /* the stream stays open */
  /* and is still served: t.a direct send reaches it */
  const rec_event *open = NULL;
  size_t co = 0;
  open = rec_wait(&rb, SSEWS_EV_OPEN, &co, WAIT_MS);
  assert_non_null(open);
  assert_int_equal(ssews_send(t.b, open->conn, "direct", 6, SSEWS_TEXT, NULL, NULL), SSEWS_OK);
  free(sse_read_until(t.sse, "data: direct\n\n"));

  assert_int_equal(redis_restart(redis), 0);
  /* Node t.a may be back before t.b: what t.a publishes then, t.b catches up. */
  publish_when_back(t.a, "news", "after1");
  for (int i = 2; i <= 20; i++) {
    char m[16];
    snprintf(m, sizeof m, "after%d", i);
    assert_int_equal(ssews_publish(t.a, "news", m, strlen(m), SSEWS_TEXT, NULL, NULL), SSEWS_OK);
  }
  char *got = sse_read_until(t.sse, "data: after20\n\n");
  assert_non_null(got);
  each_once_in_order(got, "data: after%d\n", 1, 20);
  assert_true(stat_of(t.a, "broker_up") == 1 && stat_of(t.b, "broker_up") == 1);
  assert_true(stat_of(t.b, "broker_messages_received") > received);
  assert_null(strstr(got, "data: before\n")); /* nothing twice */
  assert_null(strstr(got, "ssews-gap"));
  free(got);
  two_nodes_close(&t);
  rec_free(&ra);
  rec_free(&rb);
}

/* Redis drops a node's pub/sub connection (as it does to a subscriber that
 * falls behind its output buffer limit): the node reconnects and catches up
 * from the channel's stream what was published meanwhile, once, in order. */
static void test_catch_up_after_lost_subscription(void **state) {
  redis_proc *redis = *state;
  two_nodes t;
  two_nodes_open(&t, redis, NULL, NULL, "/news", kNews);
  assert_int_equal(redis_cmd(redis, "CLIENT KILL TYPE pubsub"), 0);
  for (int i = 0; i < 50; i++) {
    char m[16];
    snprintf(m, sizeof m, "m%d", i);
    assert_int_equal(ssews_publish(t.a, "news", m, strlen(m), SSEWS_TEXT, NULL, NULL), SSEWS_OK);
  }
  char *got = sse_read_until(t.sse, "data: m49\n\n");
  assert_non_null(got);
  each_once_in_order(got, "data: m%d\n", 0, 49);
  free(got);
  two_nodes_close(&t);
}

/* Redis comes back empty (no persistence): the application hears its data is
 * gone, and an id of the old epoch resumes with the gap signal. */
static void test_redis_lost_its_data(void **state) {
  redis_proc *redis = *state;
  recorder rb;
  rec_init(&rb);
  two_nodes t;
  two_nodes_open(&t, redis, NULL, &rb, "/news", kNews);
  assert_int_equal(http_post(t.pa, "/publish?channel=news", "Bearer t", NULL, "old", NULL, 0), 200);
  char *got = sse_read_until(t.sse, "data: old\n\n");
  char id[128];
  sse_last_id(got, id, sizeof id);
  free(got);
  size_t cb = 0;
  redis_stop(redis, SIGKILL);
  assert_non_null(wait_endpoint_error(&rb, SSEWS_EBROKER, &cb));
  assert_int_equal(redis_restart(redis), 0);
  publish_when_back(t.a, "news", "new");
  assert_non_null(wait_endpoint_error(&rb, SSEWS_EGAP, &cb));
  got = sse_read_until(t.sse, "data: new\n\n");
  free(got);
  char hdr[160];
  snprintf(hdr, sizeof hdr, "Last-Event-ID: %s", id);
  const char *const h[] = {"Accept: text/event-stream", hdr, NULL};
  peer *again = sse_open(t.pa, "/news", h);
  got = sse_read_until(again, "data: new\n\n");
  assert_non_null(strstr(got, "event: ssews-gap\n"));
  free(got);
  peer_free(again);
  two_nodes_close(&t);
  rec_free(&rb);
}

/* A node whose application stalls its service thread (a callback that blocks). */
typedef struct stall {
  pthread_mutex_t mu;
  pthread_cond_t cv;
  int stalled, release;
} stall;

static void stalling_cb(ssews *ep, const ssews_event *ev, void *user) {
  (void)ep;
  stall *s = user;
  if (ssews_event_kind(ev) != SSEWS_EV_MESSAGE) return;
  pthread_mutex_lock(&s->mu);
  s->stalled = 1;
  pthread_cond_broadcast(&s->cv);
  while (!s->release) pthread_cond_wait(&s->cv, &s->mu);
  pthread_mutex_unlock(&s->mu);
}

/* A slow node never slows the others: while one node's service thread is
 * stalled (its command queue over max_pending_bytes), another node's
 * subscribers get every message at once; the stalled node, released, fetches
 * what it could not take from Redis and delivers all of it, in order, once. */
static void test_slow_node_does_not_slow_others(void **state) {
  redis_proc *redis = *state;
  int pa, pc, ps;
  ssews *a = node(redis, NULL, &pa), *c = node(redis, NULL, &pc);
  stall st = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0, 0};
  const char *const opts[] = {"port", "0", "broker", redis->url, "history", "1000", "max_pending_bytes",
                              "1024", NULL};
  ssews *slow = NULL;
  assert_int_equal(ssews_open(&slow, opts, stalling_cb, &st), SSEWS_OK);
  assert_int_equal(ssews_port(slow, &ps), SSEWS_OK);
  peer *fast_sse = sse_open(pc, "/feed", NULL), *slow_sse = sse_open(ps, "/feed", NULL);
  wait_listening(a, fast_sse, "feed");
  wait_listening(a, slow_sse, "feed");

  peer *ws = ws_connect(ps, "/other", NULL, 0); /* its message stalls the slow node */
  assert_int_equal(peer_ws_send(ws, 1, "stall", 5), 0);
  pthread_mutex_lock(&st.mu);
  while (!st.stalled) pthread_cond_wait(&st.cv, &st.mu);
  pthread_mutex_unlock(&st.mu);

  char m[64];
  for (int i = 0; i < 200; i++) {
    snprintf(m, sizeof m, "m%03d-%s", i, "0123456789012345678901234567890123456789");
    assert_int_equal(ssews_publish(a, "feed", m, strlen(m), SSEWS_TEXT, NULL, NULL), SSEWS_OK);
  }
  char *fast = sse_read_until(fast_sse, "data: m199-"); /* while the slow node still stalls */
  assert_non_null(fast);
  pthread_mutex_lock(&st.mu);
  assert_int_equal(st.release, 0);
  st.release = 1;
  pthread_cond_broadcast(&st.cv);
  pthread_mutex_unlock(&st.mu);
  char *got = sse_read_until(slow_sse, "data: m199-");
  assert_non_null(got);
  each_once_in_order(got, "data: m%03d-", 0, 199);
  assert_null(strstr(got, "ssews-gap"));
  free(fast);
  free(got);
  peer_free(ws);
  peer_free(fast_sse);
  peer_free(slow_sse);
  ssews_close(&slow);
  ssews_close(&a);
  ssews_close(&c);
}

/* Bad broker options are refused by name; a Redis that is not there is not
 * an error at open: the node serves, and publishes fail until it comes. */
static void test_broker_options(void **state) {
  (void)state;
  ssews *ep = NULL;
  const char *const bad[] = {"broker", "http://h", NULL};
  assert_int_equal(ssews_open(&ep, bad, NULL, NULL), SSEWS_EOPTION);
  assert_non_null(strstr(ssews_last_error(), "'broker'"));
  const char *const badp[] = {"broker", "redis://h", "broker_prefix", "a b", NULL};
  assert_int_equal(ssews_open(&ep, badp, NULL, NULL), SSEWS_EOPTION);
  assert_non_null(strstr(ssews_last_error(), "'broker_prefix'"));
  char url[64];
  snprintf(url, sizeof url, "redis://127.0.0.1:%d", peer_free_port());
  recorder r;
  rec_init(&r);
  const char *const none[] = {"broker", url, "handshake_timeout", "1", NULL};
  int port;
  ep = start_server(&r, none, &port);
  size_t cur = 0;
  assert_non_null(wait_endpoint_error(&r, SSEWS_EBROKER, &cur));
  assert_int_equal(ssews_publish(ep, "c", "x", 1, SSEWS_TEXT, NULL, NULL), SSEWS_EBROKER);
  peer *sse = sse_open(port, "/c", NULL); /* still serves */
  peer_free(sse);
  ssews_close(&ep);
  rec_free(&r);
}

/* Each test gets a Redis of its own, stopped and removed even when it fails. */
static int setup_redis(void **state, int aof) {
  redis_proc *r = calloc(1, sizeof *r);
  if (!r || redis_start(r, aof) != 0) return -1;
  *state = r;
  return 0;
}
static int with_redis(void **state) {
  return setup_redis(state, 0);
}
static int with_persistent_redis(void **state) {
  return setup_redis(state, 1);
}
static int stop_redis(void **state) {
  redis_free(*state);
  free(*state);
  return 0;
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(test_cross_node_publish_and_ids, with_redis, stop_redis),
      cmocka_unit_test_setup_teardown(test_resume_on_other_node, with_redis, stop_redis),
      cmocka_unit_test_setup_teardown(test_redis_down_and_back, with_persistent_redis, stop_redis),
      cmocka_unit_test_setup_teardown(test_catch_up_after_lost_subscription, with_redis, stop_redis),
      cmocka_unit_test_setup_teardown(test_redis_lost_its_data, with_redis, stop_redis),
      cmocka_unit_test_setup_teardown(test_slow_node_does_not_slow_others, with_redis, stop_redis),
      cmocka_unit_test(test_broker_options),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}

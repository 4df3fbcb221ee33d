/* Logging per endpoint (issue 15 #6): each endpoint keeps its own log level
 * whatever others in the process chose, and each libwebsockets line reaches
 * only the endpoint it is about, through its own log callback. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <pthread.h>
#include <string.h>

#include "harness.h"

typedef struct log_rec {
  pthread_mutex_t mu;
  ssews *expect_ep;
  int lines, wrong_ep, bad_level, max_level;
} log_rec;

static void log_cb(ssews *ep, int level, const char *message, void *user) {
  log_rec *l = user;
  pthread_mutex_lock(&l->mu);
  l->lines++;
  if (ep != l->expect_ep) l->wrong_ep++;
  if (level < SSEWS_LOG_ERROR || level > SSEWS_LOG_INFO || !message || strchr(message, '\n')) l->bad_level++;
  if (level > l->max_level) l->max_level = level;
  pthread_mutex_unlock(&l->mu);
}

static ssews *open_logging(const char *level, log_rec *l, int *port) {
  const char *opts[] = {"log_level", level, NULL};
  ssews *ep = NULL;
  assert_int_equal(ssews_open(&ep, opts, NULL, NULL), SSEWS_OK);
  assert_int_equal(ssews_port(ep, port), SSEWS_OK);
  memset(l, 0, sizeof *l);
  pthread_mutex_init(&l->mu, NULL);
  l->expect_ep = ep;
  assert_int_equal(ssews_on_log(ep, log_cb, l), SSEWS_OK);
  return ep;
}

/* An SSE request served and ended: lws logs several info lines about it on
 * the endpoint's service thread. */
static void poke(int port) {
  peer *p = peer_connect("127.0.0.1", port, 0, WAIT_MS);
  assert_non_null(p);
  const char *hdr[] = {"Accept: text/event-stream", NULL};
  peer_http r;
  assert_int_equal(peer_http_get(p, "/x", hdr, &r, WAIT_MS), 200);
  peer_http_free(&r);
  peer_free(p);
}

static void test_levels_are_per_endpoint(void **state) {
  (void)state;
  int pq, pv, pq2;
  log_rec quiet, verbose, quiet2;
  /* The quiet one first, the verbose one last: before, the last endpoint's
   * level held for the whole process. */
  ssews *q = open_logging("none", &quiet, &pq);
  ssews *v = open_logging("info", &verbose, &pv);
  ssews *q2 = open_logging("error", &quiet2, &pq2);  /* and a later one must not silence v */
  poke(pq);
  poke(pq2);
  poke(pv);
  ssews_close(&q);
  ssews_close(&q2);
  ssews_close(&v); /* joins: every line v logs has been delivered */
  assert_int_equal(quiet.lines, 0);
  assert_int_equal(quiet2.lines, 0); /* nothing went wrong on it: no error lines */
  assert_true(verbose.lines > 0);
  assert_int_equal(verbose.wrong_ep, 0);
  assert_int_equal(verbose.bad_level, 0);
  assert_int_equal(verbose.max_level, SSEWS_LOG_INFO);
}

/* The names the log_level option uses, for bindings that hand levels on. */
static void test_level_names(void **state) {
  (void)state;
  assert_string_equal(ssews_log_level_name(SSEWS_LOG_ERROR), "error");
  assert_string_equal(ssews_log_level_name(SSEWS_LOG_WARN), "warn");
  assert_string_equal(ssews_log_level_name(SSEWS_LOG_NOTICE), "notice");
  assert_string_equal(ssews_log_level_name(SSEWS_LOG_INFO), "info");
  assert_string_equal(ssews_log_level_name(0), "none");
  assert_string_equal(ssews_log_level_name(99), "unknown");
  assert_string_equal(ssews_log_level_name(-1), "unknown");
}

/* The names of event kinds, as the bindings hand them on. */
static void test_event_kind_names(void **state) {
  (void)state;
  assert_string_equal(ssews_event_kind_name(SSEWS_EV_OPEN), "open");
  assert_string_equal(ssews_event_kind_name(SSEWS_EV_MESSAGE), "message");
  assert_string_equal(ssews_event_kind_name(SSEWS_EV_CLOSE), "close");
  assert_string_equal(ssews_event_kind_name(SSEWS_EV_ERROR), "error");
  assert_string_equal(ssews_event_kind_name(SSEWS_EV_RECONNECTING), "reconnecting");
  assert_string_equal(ssews_event_kind_name(SSEWS_EV_DONE), "done");
  assert_string_equal(ssews_event_kind_name(SSEWS_EV_DRAIN), "drain");
  assert_string_equal(ssews_event_kind_name(SSEWS_EV_JOIN), "join");
  assert_string_equal(ssews_event_kind_name(SSEWS_EV_LEAVE), "leave");
  assert_string_equal(ssews_event_kind_name(SSEWS_EV_REQUEST), "request");
  assert_string_equal(ssews_event_kind_name(0), "unknown");
  assert_string_equal(ssews_event_kind_name(11), "unknown");
}

static void test_on_log_errors(void **state) {
  (void)state;
  assert_int_equal(ssews_on_log(NULL, log_cb, NULL), SSEWS_EINVAL);
  int port;
  log_rec l;
  ssews *ep = open_logging("info", &l, &port);
  ssews *stale = ep;
  assert_int_equal(ssews_on_log(ep, NULL, NULL), SSEWS_OK); /* back to stderr */
  ssews_close(&ep);
  assert_int_equal(ssews_on_log(stale, log_cb, &l), SSEWS_ECLOSED);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_levels_are_per_endpoint),
      cmocka_unit_test(test_on_log_errors),
      cmocka_unit_test(test_level_names),
      cmocka_unit_test(test_event_kind_names),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}

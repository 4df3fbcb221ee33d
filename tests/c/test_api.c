/* The C ABI's contract: options by name with errors that name them, argument
 * checks, error codes and messages, versions. */
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

/* Opens with the given options and expects failure `code` whose message
 * contains every string in `must`. */
static void expect_open_fails(const char *const *opts, int code, const char *must1, const char *must2) {
  ssews *ep = (ssews *)0x1;
  int rc = ssews_open(&ep, opts, NULL, NULL);
  if (rc != code) fprintf(stderr, "rc %d (%s): %s\n", rc, ssews_strerror(rc), ssews_last_error());
  assert_int_equal(rc, code);
  assert_null(ep);
  const char *msg = ssews_last_error();
  if (must1 && !strstr(msg, must1)) fprintf(stderr, "message '%s' lacks '%s'\n", msg, must1);
  if (must1) assert_non_null(strstr(msg, must1));
  if (must2 && !strstr(msg, must2)) fprintf(stderr, "message '%s' lacks '%s'\n", msg, must2);
  if (must2) assert_non_null(strstr(msg, must2));
}

static void test_bad_options_are_named(void **state) {
  (void)state;
  struct {
    const char *key, *value;
  } bad[] = {
      {"port", "70000"},         {"port", "-1"},
      {"port", "http"},          {"port", ""},
      {"history", "many"},       {"history", "12abc"},
      {"heartbeat", "-5"},       {"ping_interval", "1.5"},
      {"pong_timeout", "0"},     {"max_message_size", "0"},
      {"max_connections", "0"},  {"max_queue_bytes", "10"},
      {"queue_policy", "maybe"}, {"max_header_size", "99999999"},
      {"handshake_timeout", "0"}, {"max_pending_bytes", "x"},
      {"log_level", "loud"},     {"host", ""},
  };
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    const char *opts[] = {bad[i].key, bad[i].value, NULL};
    expect_open_fails(opts, SSEWS_EOPTION, bad[i].key, bad[i].value);
  }
  const char *unknown[] = {"prot", "8080", NULL};
  expect_open_fails(unknown, SSEWS_EOPTION, "unknown option", "prot");
  const char *twice[] = {"history", "1", "history", "2", NULL};
  expect_open_fails(twice, SSEWS_EOPTION, "history", "more than once");
  const char *odd[] = {"port", NULL};
  expect_open_fails(odd, SSEWS_EOPTION, "port", "no value");
  const char *nocert[] = {"tls_key", "/etc/hostname", NULL};
  expect_open_fails(nocert, SSEWS_EOPTION, "tls_cert", NULL);
  const char *missing[] = {"tls_cert", "/nonexistent/cert.pem", "tls_key", "/nonexistent/key.pem", NULL};
  expect_open_fails(missing, SSEWS_EOPTION, "tls_cert", "/nonexistent/cert.pem");
  const char *notdir[] = {"static_dir", "/etc/hostname", NULL};
  expect_open_fails(notdir, SSEWS_EOPTION, "static_dir", "not a directory");
}

static void test_port_in_use(void **state) {
  (void)state;
  int port;
  ssews *ep = start_server(NULL, NULL, &port);
  char p[16];
  snprintf(p, sizeof p, "%d", port);
  const char *opts[] = {"host", "127.0.0.1", "port", p, NULL};
  expect_open_fails(opts, SSEWS_ELISTEN, p, "in use");
  ssews_close(&ep);
}

static void test_ipv6_loopback(void **state) {
  (void)state;
  const char *opts[] = {"host", "::1", "port", "0", NULL};
  ssews *ep = NULL;
  assert_int_equal(ssews_open(&ep, opts, NULL, NULL), SSEWS_OK);
  int port = 0;
  assert_int_equal(ssews_port(ep, &port), SSEWS_OK);
  peer *p = peer_connect("::1", port, 0, WAIT_MS);
  assert_non_null(p);
  assert_int_equal(peer_ws_handshake(p, "/v6", NULL, NULL, WAIT_MS), 0);
  peer_free(p);
  ssews_close(&ep);
}

static void test_argument_checks(void **state) {
  (void)state;
  assert_int_equal(ssews_open(NULL, NULL, NULL, NULL), SSEWS_EINVAL);
  assert_int_equal(ssews_close(NULL), SSEWS_OK);
  ssews *none = NULL;
  assert_int_equal(ssews_close(&none), SSEWS_OK);
  assert_int_equal(ssews_send(NULL, 1, "x", 1, SSEWS_TEXT, NULL, NULL), SSEWS_EINVAL);
  assert_int_equal(ssews_publish(NULL, "c", "x", 1, SSEWS_TEXT, NULL, NULL), SSEWS_EINVAL);

  int port;
  ssews *ep = start_server(NULL, NULL, &port);
  assert_int_equal(ssews_port(ep, NULL), SSEWS_EINVAL);
  assert_int_equal(ssews_send(ep, 12345, "x", 1, SSEWS_TEXT, NULL, NULL), SSEWS_ENOCONN);
  assert_non_null(strstr(ssews_last_error(), "12345"));
  assert_int_equal(ssews_send(ep, 1, "x", 1, 7, NULL, NULL), SSEWS_EINVAL);
  assert_int_equal(ssews_publish(ep, "", "x", 1, SSEWS_TEXT, NULL, NULL), SSEWS_EINVAL);
  assert_non_null(strstr(ssews_last_error(), "channel"));
  assert_int_equal(ssews_publish(ep, NULL, "x", 1, SSEWS_TEXT, NULL, NULL), SSEWS_EINVAL);
  assert_int_equal(ssews_publish(ep, "c", NULL, 3, SSEWS_TEXT, NULL, NULL), SSEWS_EINVAL);
  assert_int_equal(ssews_publish(ep, "c", NULL, 0, SSEWS_TEXT, NULL, NULL), SSEWS_OK);
  assert_int_equal(ssews_publish(ep, "c", "\xc3\x28", 2, SSEWS_TEXT, NULL, NULL), SSEWS_EINVAL);
  assert_non_null(strstr(ssews_last_error(), "UTF-8"));
  assert_int_equal(ssews_publish(ep, "c", "\xc3\x28", 2, SSEWS_BINARY, NULL, NULL), SSEWS_OK);
  assert_int_equal(ssews_publish(ep, "c", "x", 1, SSEWS_TEXT, "bad\nname", NULL), SSEWS_EINVAL);
  assert_int_equal(ssews_publish(ep, "c", "x", 1, SSEWS_TEXT, NULL, ""), SSEWS_EINVAL);
  /* ssews.v1 carries channel, event and id in text frames: UTF-8 only (issue 15, bug 14). */
  assert_int_equal(ssews_publish(ep, "c", "x", 1, SSEWS_TEXT, "\xff", NULL), SSEWS_EINVAL);
  assert_int_equal(ssews_publish(ep, "c", "x", 1, SSEWS_TEXT, NULL, "\xc3"), SSEWS_EINVAL);
  assert_int_equal(ssews_publish(ep, "\xed\xa0\x80", "x", 1, SSEWS_TEXT, NULL, NULL), SSEWS_EINVAL);
  assert_int_equal(ssews_subscribe(ep, 999, "c"), SSEWS_ENOCONN);
  assert_int_equal(ssews_subscribe(ep, 999, ""), SSEWS_EINVAL);
  assert_int_equal(ssews_reject(ep, 999, 200), SSEWS_EINVAL);
  assert_int_equal(ssews_reject(ep, 999, 403), SSEWS_ENOCONN);
  assert_int_equal(ssews_conn_close(ep, 999, 1000, NULL), SSEWS_ENOCONN);
  assert_int_equal(ssews_conn_close(ep, 999, 1006, NULL), SSEWS_EINVAL);
  const ssews_event *ev = (const ssews_event *)0x1;
  assert_int_equal(ssews_next_event(ep, &ev), SSEWS_EAGAIN);
  assert_null(ev);
  /* Accessors tolerate NULL. */
  assert_int_equal(ssews_event_kind(NULL), 0);
  assert_null(ssews_event_header(NULL, "host"));
  size_t len = 99;
  assert_null(ssews_event_data(NULL, &len));
  assert_int_equal(len, 0);
  ssews_close(&ep);
  assert_null(ep);
}

static void test_too_big_and_pending_bound(void **state) {
  (void)state;
  const char *const opts[] = {"max_message_size", "100", "max_pending_bytes", "4096", NULL};
  int port;
  ssews *ep = start_server(NULL, opts, &port);
  char buf[4096];
  memset(buf, 'a', sizeof buf);
  assert_int_equal(ssews_publish(ep, "c", buf, 101, SSEWS_TEXT, NULL, NULL), SSEWS_ETOOBIG);
  assert_non_null(strstr(ssews_last_error(), "max_message_size"));
  assert_int_equal(ssews_publish(ep, "c", buf, 100, SSEWS_TEXT, NULL, NULL), SSEWS_OK);
  ssews_close(&ep);
}

static void test_error_strings(void **state) {
  (void)state;
  for (int code = 0; code >= -20; code--) {
    const char *s = ssews_strerror(code);
    assert_non_null(s);
    assert_string_not_equal(s, "unknown error");
    for (int other = code - 1; other >= -20; other--) assert_string_not_equal(s, ssews_strerror(other));
  }
  assert_string_equal(ssews_strerror(-1000), "unknown error");
  assert_string_equal(ssews_strerror(12), "unknown error");
}

static void *fail_in_thread(void *arg) {
  (void)arg;
  const char *opts[] = {"bogus", "1", NULL};
  ssews *ep = NULL;
  ssews_open(&ep, opts, NULL, NULL);
  return strstr(ssews_last_error(), "bogus") ? (void *)1 : NULL;
}

static void test_last_error_is_per_thread(void **state) {
  (void)state;
  const char *opts[] = {"mine", "1", NULL};
  ssews *ep = NULL;
  assert_int_equal(ssews_open(&ep, opts, NULL, NULL), SSEWS_EOPTION);
  pthread_t t;
  void *ok = NULL;
  pthread_create(&t, NULL, fail_in_thread, NULL);
  pthread_join(t, &ok);
  assert_non_null(ok);
  assert_non_null(strstr(ssews_last_error(), "mine")); /* untouched by the other thread */
  int port;
  ep = start_server(NULL, NULL, &port); /* success clears it */
  assert_string_equal(ssews_last_error(), "");
  ssews_close(&ep);
}

static void test_versions(void **state) {
  (void)state;
  char want[32];
  snprintf(want, sizeof want, "%d.%d.%d", SSEWS_VERSION_MAJOR, SSEWS_VERSION_MINOR, SSEWS_VERSION_PATCH);
  assert_string_equal(ssews_version(), want);
  assert_int_equal(ssews_version_number(), SSEWS_VERSION_NUMBER);
}

static void test_many_endpoints_open_close(void **state) {
  (void)state;
  for (int i = 0; i < 50; i++) {
    int port;
    ssews *ep = start_server(NULL, NULL, &port);
    if (i % 10 == 0) { /* with a live connection at close time */
      peer *p = peer_connect("127.0.0.1", port, 0, WAIT_MS);
      assert_int_equal(peer_ws_handshake(p, "/x", NULL, NULL, WAIT_MS), 0);
      ssews_close(&ep);
      unsigned char *m = NULL;
      size_t len;
      assert_int_equal(peer_ws_read_message(p, &m, &len, WAIT_MS), 8);
      assert_int_equal(peer_close_code(m, len), 1001);
      free(m);
      peer_free(p);
    } else {
      ssews_close(&ep);
    }
  }
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_bad_options_are_named),
      cmocka_unit_test(test_port_in_use),
      cmocka_unit_test(test_ipv6_loopback),
      cmocka_unit_test(test_argument_checks),
      cmocka_unit_test(test_too_big_and_pending_bound),
      cmocka_unit_test(test_error_strings),
      cmocka_unit_test(test_last_error_is_per_thread),
      cmocka_unit_test(test_versions),
      cmocka_unit_test(test_many_endpoints_open_close),
  };
  return cmocka_run_group_tests_name("api", tests, NULL, NULL);
}

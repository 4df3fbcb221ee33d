/* The tables the C ABI publishes: error codes (SSEWS_ERRNO_MAP, ssews_strerror,
 * ssews_err_name), options (ssews_option_count, ssews_option_at, checked
 * against what ssews_open accepts) and versions (header macros, run time and
 * CMake's project(VERSION) agree). */
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "ssews.h"

struct err_row {
  const char *name;
  int value;
  const char *description;
};

static const struct err_row k_errors[] = {
#define ROW(name, value, description) {"SSEWS_" #name, value, description},
    SSEWS_ERRNO_MAP(ROW)
#undef ROW
};
#define N_ERRORS (sizeof k_errors / sizeof k_errors[0])

/* Every code of the map round-trips through ssews_err_name and
 * ssews_strerror, and the codes run from 0 down without a hole, so counting
 * down from 0 until "SSEWS_EUNKNOWN" (what the bindings do) finds them all. */
static void torture_err_name_round_trip(void **state) {
  (void)state;
  for (size_t i = 0; i < N_ERRORS; i++) {
    assert_int_equal(k_errors[i].value, -(int)i);
    assert_string_equal(ssews_err_name(k_errors[i].value), k_errors[i].name);
    assert_string_equal(ssews_strerror(k_errors[i].value), k_errors[i].description);
    for (size_t j = 0; j < i; j++) {
      assert_string_not_equal(k_errors[i].name, k_errors[j].name);
      assert_string_not_equal(k_errors[i].description, k_errors[j].description);
    }
  }
  int counted = 0;
  while (strcmp(ssews_err_name(-counted), "SSEWS_EUNKNOWN") != 0) counted++;
  assert_int_equal(counted, (int)N_ERRORS);
}

static void torture_err_name_unknown(void **state) {
  (void)state;
  const int unknown[] = {1, 12, -(int)N_ERRORS, -1000, INT_MIN, INT_MAX};
  for (size_t i = 0; i < sizeof unknown / sizeof unknown[0]; i++) {
    assert_string_equal(ssews_err_name(unknown[i]), "SSEWS_EUNKNOWN");
    assert_string_equal(ssews_strerror(unknown[i]), "unknown error");
  }
}

/* The values are ABI: the enum generated from the map keeps the numbers the
 * 0.1 header had as macros. */
static void torture_err_values_frozen(void **state) {
  (void)state;
  assert_int_equal(SSEWS_OK, 0);
  assert_int_equal(SSEWS_EINVAL, -1);
  assert_int_equal(SSEWS_EOPTION, -2);
  assert_int_equal(SSEWS_ENOMEM, -3);
  assert_int_equal(SSEWS_ECLOSED, -4);
  assert_int_equal(SSEWS_ENOCONN, -5);
  assert_int_equal(SSEWS_EAGAIN, -6);
  assert_int_equal(SSEWS_EFULL, -7);
  assert_int_equal(SSEWS_ETOOBIG, -8);
  assert_int_equal(SSEWS_ENOTSUP, -9);
  assert_int_equal(SSEWS_EPROTO, -10);
  assert_int_equal(SSEWS_ETLS, -11);
  assert_int_equal(SSEWS_ELISTEN, -12);
  assert_int_equal(SSEWS_ECONNECT, -13);
  assert_int_equal(SSEWS_ESTATE, -14);
  assert_int_equal(SSEWS_EHTTP, -15);
  assert_int_equal(SSEWS_ETIMEOUT, -16);
  assert_int_equal(SSEWS_EINTERNAL, -17);
  assert_int_equal(SSEWS_ESLOW, -18);
  assert_int_equal(SSEWS_EURL, -19);
  assert_int_equal(SSEWS_EGAP, -20);
  assert_true(N_ERRORS >= 21);
}

static int role_is(const char *role, const char *want) {
  return strcmp(role, want) == 0 || strcmp(role, "both") == 0;
}

static void torture_option_at(void **state) {
  (void)state;
  int n = ssews_option_count();
  assert_true(n > 0);
  for (int i = 0; i < n; i++) {
    const char *key = NULL, *role = NULL, *type = NULL, *def = NULL, *doc = NULL;
    assert_int_equal(ssews_option_at(i, &key, &role, &type, &def, &doc), SSEWS_OK);
    assert_non_null(key);
    assert_non_null(role);
    assert_non_null(type);
    assert_non_null(def);
    assert_non_null(doc);
    assert_true(*key && *doc);
    assert_true(!strcmp(role, "server") || !strcmp(role, "client") || !strcmp(role, "both"));
    assert_true(!strcmp(type, "string") || !strcmp(type, "integer") || !strcmp(type, "boolean") ||
                !strcmp(type, "enum") || !strcmp(type, "list"));
    for (int j = 0; j < i; j++) {
      const char *other = NULL;
      assert_int_equal(ssews_option_at(j, &other, NULL, NULL, NULL, NULL), SSEWS_OK);
      assert_string_not_equal(key, other);
    }
    /* Every out-pointer may be NULL. */
    assert_int_equal(ssews_option_at(i, NULL, NULL, NULL, NULL, NULL), SSEWS_OK);
  }
  const int bad[] = {-1, n, n + 1, INT_MAX, INT_MIN};
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    const char *key = "untouched";
    assert_int_equal(ssews_option_at(bad[i], &key, NULL, NULL, NULL, NULL), SSEWS_EINVAL);
    assert_string_equal(key, "untouched");
    assert_non_null(strstr(ssews_last_error(), "out of range"));
  }
}

/* Opens a server (url NULL) or a client of url with {key, value}; returns
 * the status and closes what opened. */
static int open_with(const char *url, const char *key, const char *value) {
  const char *opts[7];
  int n = 0;
  if (url && strcmp(key, "url") != 0) {
    opts[n++] = "url";
    opts[n++] = url;
    opts[n++] = "reconnect";
    opts[n++] = "false";
  }
  if (url && !strcmp(key, "reconnect")) n -= 2; /* given below */
  opts[n++] = key;
  opts[n++] = value;
  opts[n] = NULL;
  ssews *ep = NULL;
  int rc = ssews_open(&ep, opts, NULL, NULL);
  if (rc == SSEWS_OK)
    ssews_close(&ep);
  else
    assert_null(ep);
  return rc;
}

static void expect_named_option_error(const char *url, const char *key, const char *value, const char *also) {
  int rc = open_with(url, key, value);
  const char *msg = ssews_last_error();
  if (rc != SSEWS_EOPTION || !strstr(msg, key) || (also && !strstr(msg, also)))
    fprintf(stderr, "%s '%s' (%s): rc %d, '%s'\n", key, value, url ? "client" : "server", rc, msg);
  assert_int_equal(rc, SSEWS_EOPTION);
  assert_non_null(strstr(msg, key));
  if (also) assert_non_null(strstr(msg, also));
}

/* A value each option refuses, by its type; strings refuse "" except where
 * an empty value means something (they are listed). */
static const char *bad_value(const char *key, const char *type) {
  if (!strcmp(type, "integer")) return "12x";
  if (!strcmp(type, "boolean")) return "maybe";
  if (!strcmp(type, "enum")) return "no_such_choice";
  if (!strcmp(key, "anonymous_subscribe")) return " , "; /* channel names may hold any character */
  if (!strcmp(type, "list")) return "ok, not(a)token";
  if (!strcmp(key, "publish_path") || !strcmp(key, "metrics_path")) return "no-slash";
  if (!strcmp(key, "header")) return "no colon";
  if (!strcmp(key, "last_event_id")) return "a\nb";
  if (!strcmp(key, "content_type")) return "a\r\nX-Injected: 1"; /* "" is the default type */
  if (!strcmp(key, "body")) return "x";                           /* "" is none; a ws:// client has none */
  if (!strcmp(key, "subprotocols")) return "a\r\nX-Injected: 1"; /* "" offers only ssews.v1 */
  return "";
}

/* Every key of the table is one ssews_open knows: its default opens, a bad
 * value is an error that names the key, and a single-role key used in the
 * other role is an error that names it too. */
static void torture_options_open(void **state) {
  (void)state;
  const char *client_url = "ws://127.0.0.1:1/x";
  int n = ssews_option_count();
  for (int i = 0; i < n; i++) {
    const char *key, *role, *type, *def;
    assert_int_equal(ssews_option_at(i, &key, &role, &type, &def, NULL), SSEWS_OK);
    int server = role_is(role, "server"), client = role_is(role, "client");
    if (*def) {
      if (server) assert_int_equal(open_with(NULL, key, def), SSEWS_OK);
      if (client) assert_int_equal(open_with(client_url, key, def), SSEWS_OK);
    }
    const char *bad = bad_value(key, type);
    if (bad && server) expect_named_option_error(NULL, key, bad, NULL);
    if (bad && client && strcmp(key, "url") != 0) expect_named_option_error(client_url, key, bad, NULL);
    if (!strcmp(key, "url")) expect_named_option_error(client_url, key, bad, NULL); /* "" */
    if (!client) expect_named_option_error(client_url, key, def[0] ? def : "x", "servers only");
    if (!server && strcmp(key, "url") != 0)
      expect_named_option_error(NULL, key, def[0] ? def : "x", "clients only");
  }
}

static void torture_versions(void **state) {
  (void)state;
  char want[32];
  snprintf(want, sizeof want, "%d.%d.%d", SSEWS_VERSION_MAJOR, SSEWS_VERSION_MINOR, SSEWS_VERSION_PATCH);
  assert_string_equal(ssews_version(), want);
  assert_int_equal(ssews_version_number(), SSEWS_VERSION_NUMBER);
  assert_int_equal(SSEWS_VERSION_NUMBER,
                   SSEWS_VERSION_MAJOR * 10000 + SSEWS_VERSION_MINOR * 100 + SSEWS_VERSION_PATCH);
  /* CMake's project(VERSION), passed by tests/CMakeLists.txt. */
  assert_string_equal(ssews_version(), SSEWS_TEST_PROJECT_VERSION);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(torture_err_name_round_trip), cmocka_unit_test(torture_err_name_unknown),
      cmocka_unit_test(torture_err_values_frozen),   cmocka_unit_test(torture_option_at),
      cmocka_unit_test(torture_options_open),        cmocka_unit_test(torture_versions),
  };
  return cmocka_run_group_tests_name("tables", tests, NULL, NULL);
}

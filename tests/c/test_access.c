/* Access control through the C ABI over loopback sockets (issue 16): tokens
 * made by PyJWT (tests/fixtures/jwt/make.py), a raw peer for exact HTTP
 * answers, the open event's identity and claims, publish rights
 * (ssews_may_publish, ssews_publish_as), the application's last word, and a
 * client whose token is replaced between reconnects (ssews_set_headers). */
#define _GNU_SOURCE /* strcasestr */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "harness.h"

#define FIXTURES SSEWS_SOURCE_DIR "/tests/fixtures/jwt/"

static char *fixture(const char *name) {
  char path[512];
  snprintf(path, sizeof path, FIXTURES "%s", name);
  FILE *f = fopen(path, "rb");
  assert_non_null(f);
  static char buf[8][16384];
  static int slot;
  char *out = buf[slot++ % 8];
  size_t n = fread(out, 1, sizeof buf[0] - 1, f);
  fclose(f);
  while (n && (out[n - 1] == '\n' || out[n - 1] == '\r')) n--;
  out[n] = 0;
  return out;
}

/* "Authorization: Bearer <fixture>" in a static buffer (one at a time). */
static const char *bearer(const char *name) {
  static char line[16384];
  snprintf(line, sizeof line, "Authorization: Bearer %s", fixture(name));
  return line;
}

static ssews *auth_server(recorder *r, int *port) {
  const char *opts[] = {"jwt_secret", "@" FIXTURES "secret.txt", "jwt_audience",        "ssews-tests",
                        "jwt_issuer", "https://issuer.test",     "anonymous_subscribe", "news",
                        NULL};
  return start_server(r, opts, port);
}

/* Sends a request head and returns the whole answer head plus what follows it
 * within the read (malloc'd). */
static char *raw_answer(int port, const char *request) {
  peer *p = peer_connect("127.0.0.1", port, 0, WAIT_MS);
  assert_non_null(p);
  assert_int_equal(peer_write(p, request, strlen(request)), 0);
  char *head = NULL;
  assert_true(peer_read_until(p, "\r\n\r\n", &head, WAIT_MS) > 0);
  char body[512] = "";
  int n = peer_read(p, body, sizeof body - 1, WAIT_MS);
  if (n > 0) body[n] = 0;
  size_t len = strlen(head) + strlen(body) + 1;
  char *all = malloc(len);
  snprintf(all, len, "%s%s", head, body);
  free(head);
  peer_free(p);
  return all;
}

static char *ws_request(int port, const char *path, const char *header) {
  char req[20000];
  snprintf(req, sizeof req,
           "GET %s HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
           "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n%s%s\r\n",
           path, header ? header : "", header ? "\r\n" : "");
  return raw_answer(port, req);
}

static char *sse_request(int port, const char *path, const char *header) {
  char req[20000];
  snprintf(req, sizeof req, "GET %s HTTP/1.1\r\nHost: x\r\nAccept: text/event-stream\r\n%s%s\r\n", path,
           header ? header : "", header ? "\r\n" : "");
  return raw_answer(port, req);
}

/* Header names are case-insensitive (lws writes them lower-case, ssews' own
 * WebSocket handshake as registered). */
static void expect_in(const char *hay, const char *needle) {
  if (!strcasestr(hay, needle)) fail_msg("'%s' lacks '%s'", hay, needle);
}

static void torture_refusals_name_the_reason(void **state) {
  (void)state;
  recorder r;
  rec_init(&r);
  int port;
  ssews *ep = auth_server(&r, &port);
  struct {
    const char *path, *token, *status, *words;
  } cases[] = {
      {"/chat", NULL, "401", "www-authenticate: Bearer realm=\"ssews\"\r\n"},
      {"/chat", "hs256_expired.jwt", "401", "error=\"invalid_token\", error_description=\"token expired\""},
      {"/chat", "hs256_not_yet.jwt", "401", "not valid yet"},
      {"/chat", "hs256_wrong_key.jwt", "401", "signature does not verify"},
      {"/chat", "alg_none.jwt", "401", "alg none is not accepted"},
      {"/chat", "hs256_wrong_aud.jwt", "401", "wrong audience"},
      {"/chat", "hs256_wrong_iss.jwt", "401", "wrong issuer"},
      {"/chat", "rs256_valid.jwt", "401", "alg RS256 does not match the configured key"},
      {"/secret", "hs256_valid.jwt", "403", "the token does not allow subscribing to channel 'secret'"},
      {"/prices", "hs256_valid.jwt", "403", "channel 'prices'"},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    const char *h = cases[i].token ? bearer(cases[i].token) : NULL;
    char *ws = ws_request(port, cases[i].path, h);
    char want[64];
    snprintf(want, sizeof want, "HTTP/1.1 %s ", cases[i].status);
    expect_in(ws, want);
    expect_in(ws, cases[i].words);
    free(ws);
    h = cases[i].token ? bearer(cases[i].token) : NULL;
    char *sse = sse_request(port, cases[i].path, h);
    expect_in(sse, want);
    expect_in(sse, cases[i].words);
    free(sse);
  }
  /* None of them opened: the application heard of none. */
  assert_int_equal(rec_count(&r, SSEWS_EV_OPEN, 0), 0);
  ssews_close(&ep);
  rec_free(&r);
}

static void torture_open_carries_identity_and_claims(void **state) {
  (void)state;
  recorder r;
  rec_init(&r);
  r.probe_claim = "role";
  int port;
  ssews *ep = auth_server(&r, &port);
  const char *h[] = {bearer("hs256_valid.jwt"), NULL};
  peer *ws = ws_connect(port, "/?channel=chat&channel=prices.eur", h, 0);
  size_t cur = 0;
  const rec_event *open = rec_wait(&r, SSEWS_EV_OPEN, &cur, WAIT_MS);
  assert_non_null(open);
  assert_string_equal(open->identity, "alice");
  assert_string_equal(open->claim_probe, "\"admin\"");
  expect_in(open->claims, "\"publish\":[\"chat\"]");
  expect_in(open->claims, "\"subscribe\":[\"prices.*\",\"chat\"]");
  expect_in(open->claims, "\"aud\":\"ssews-tests\"");
  /* A token in the query works the same; an anonymous channel has no identity. */
  char path[16384];
  snprintf(path, sizeof path, "/chat?authorization=%s", fixture("hs256_valid.jwt"));
  peer *sse = peer_connect("127.0.0.1", port, 0, WAIT_MS);
  char req[20000];
  snprintf(req, sizeof req, "GET %s HTTP/1.1\r\nHost: x\r\nAccept: text/event-stream\r\n\r\n", path);
  assert_int_equal(peer_write(sse, req, strlen(req)), 0);
  free(sse_read_until(sse, ": ok"));
  open = rec_wait(&r, SSEWS_EV_OPEN, &cur, WAIT_MS);
  assert_non_null(open);
  assert_string_equal(open->identity, "alice");
  peer *anon = ws_connect(port, "/news", NULL, 0);
  open = rec_wait(&r, SSEWS_EV_OPEN, &cur, WAIT_MS);
  assert_non_null(open);
  assert_null(open->identity);
  assert_null(open->claims);
  peer_free(ws);
  peer_free(sse);
  peer_free(anon);
  ssews_close(&ep);
  rec_free(&r);
}

static void torture_application_can_still_refuse(void **state) {
  (void)state;
  recorder r;
  rec_init(&r);
  r.reject_identity = "alice";
  int port;
  ssews *ep = auth_server(&r, &port);
  char *a = ws_request(port, "/chat", bearer("hs256_valid.jwt"));
  expect_in(a, "HTTP/1.1 403 ");
  free(a);
  assert_int_equal(rec_count(&r, SSEWS_EV_CLOSE, 0), 0); /* a refused handshake never opened */
  ssews_close(&ep);
  rec_free(&r);
}

static void torture_publish_rights(void **state) {
  (void)state;
  recorder r;
  rec_init(&r);
  r.publish_as = "prices.eur"; /* the token may read it, not write it */
  int port;
  ssews *ep = auth_server(&r, &port);
  const char *h[] = {bearer("hs256_valid.jwt"), NULL};
  peer *ws = ws_connect(port, "/prices.eur", h, 0);
  size_t cur = 0;
  const rec_event *open = rec_wait(&r, SSEWS_EV_OPEN, &cur, WAIT_MS);
  assert_non_null(open);
  ssews_conn conn = open->conn;
  assert_int_equal(ssews_may_publish(ep, conn, "chat"), SSEWS_OK);
  assert_int_equal(ssews_may_publish(ep, conn, "prices.eur"), SSEWS_EACCES);
  expect_in(ssews_last_error(), "prices.eur");
  assert_int_equal(ssews_may_publish(ep, conn, ""), SSEWS_EINVAL);
  assert_int_equal(ssews_may_publish(ep, 999999, "chat"), SSEWS_ENOCONN);
  assert_int_equal(peer_ws_send(ws, PEER_WS_TEXT, "buy", 3), 0);
  const rec_event *msg = rec_wait(&r, SSEWS_EV_MESSAGE, &cur, WAIT_MS);
  assert_non_null(msg);
  assert_int_equal(msg->publish_rc, SSEWS_EACCES);
  unsigned char *payload = NULL;
  size_t len = 0;
  /* Nothing was published to the subscriber itself: the next frame is the close. */
  assert_int_equal(peer_ws_read_message(ws, &payload, &len, WAIT_MS), PEER_WS_CLOSE);
  assert_int_equal(peer_close_code(payload, len), 1008);
  assert_true(len > 2);
  assert_string_equal((const char *)payload + 2, "not allowed to publish to channel 'prices.eur'");
  free(payload);
  peer_free(ws);
  /* With no key configured, every connection may publish. */
  recorder r2;
  rec_init(&r2);
  int port2;
  ssews *open_ep = start_server(&r2, NULL, &port2);
  peer *ws2 = ws_connect(port2, "/x", NULL, 0);
  size_t cur2 = 0;
  open = rec_wait(&r2, SSEWS_EV_OPEN, &cur2, WAIT_MS);
  assert_non_null(open);
  assert_null(open->identity);
  assert_int_equal(ssews_may_publish(open_ep, open->conn, "anything"), SSEWS_OK);
  peer_free(ws2);
  ssews_close(&open_ep);
  rec_free(&r2);
  ssews_close(&ep);
  rec_free(&r);
}

/* A client's token replaced between reconnects: the server sees the new one. */
static void torture_client_headers_replaced_between_reconnects(void **state) {
  (void)state;
  recorder srv, cli;
  rec_init(&srv);
  rec_init(&cli);
  srv.probe_claim = "aud";
  int port;
  ssews *server = auth_server(&srv, &port);
  char url[64];
  snprintf(url, sizeof url, "ws://127.0.0.1:%d/chat", port);
  const char *copts[] = {"url", url, "header", bearer("hs256_valid.jwt"), "reconnect_delay_ms", "50", NULL};
  ssews *client = NULL;
  assert_int_equal(ssews_open(&client, copts, rec_cb, &cli), SSEWS_OK);
  size_t scur = 0, ccur = 0;
  const rec_event *open = rec_wait(&srv, SSEWS_EV_OPEN, &scur, WAIT_MS);
  assert_non_null(open);
  assert_string_equal(open->claim_probe, "\"ssews-tests\"");
  assert_non_null(rec_wait(&cli, SSEWS_EV_OPEN, &ccur, WAIT_MS));
  /* Bad lines are refused whole; a server has no request headers. */
  const char *bad[] = {"X-Ok: 1", "no colon", NULL};
  assert_int_equal(ssews_set_headers(client, bad), SSEWS_EINVAL);
  assert_int_equal(ssews_set_headers(server, NULL), SSEWS_ENOTSUP);
  const char *fresh[] = {bearer("hs256_aud_list.jwt"), NULL};
  assert_int_equal(ssews_set_headers(client, fresh), SSEWS_OK);
  assert_int_equal(ssews_conn_close(server, open->conn, 4001, "go get a new token"), SSEWS_OK);
  assert_non_null(rec_wait(&cli, SSEWS_EV_RECONNECTING, &ccur, WAIT_MS));
  open = rec_wait(&srv, SSEWS_EV_OPEN, &scur, WAIT_MS);
  assert_non_null(open);
  assert_string_equal(open->claim_probe, "[\"x\",\"ssews-tests\"]");
  /* No headers at all: the next attempt has no token and is refused (401). */
  assert_int_equal(ssews_set_headers(client, NULL), SSEWS_OK);
  assert_int_equal(ssews_conn_close(server, open->conn, 4001, "again"), SSEWS_OK);
  const rec_event *err = rec_wait(&cli, SSEWS_EV_ERROR, &ccur, WAIT_MS);
  assert_non_null(err);
  expect_in(err->reason, "unauthorized"); /* lws' words for a 401 to an upgrade */
  ssews_close(&client);
  ssews_close(&server);
  rec_free(&cli);
  rec_free(&srv);
}

static void torture_option_errors(void **state) {
  (void)state;
  struct {
    const char *k1, *v1, *k2, *v2, *words;
  } cases[] = {
      {"jwt_secret", "@/no/such/file", NULL, NULL, "jwt_secret"},
      {"jwt_public_key", FIXTURES "secret.txt", NULL, NULL, "PEM public key"},
      {"jwt_secret", "x", "jwt_public_key", FIXTURES "rsa.pub.pem", "exclude each other"},
      {"jwt_secret", "x", "jwt_cookie", "tok", "hijacking"},
      {"allowed_origins", "example.com", NULL, NULL, "allowed_origins"},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    const char *opts[] = {cases[i].k1, cases[i].v1, cases[i].k2, cases[i].v2, NULL};
    ssews *ep = NULL;
    assert_int_equal(ssews_open(&ep, opts, NULL, NULL), SSEWS_EOPTION);
    expect_in(ssews_last_error(), cases[i].words);
  }
  /* The public keys open. */
  const char *rsa[] = {"jwt_public_key", FIXTURES "rsa.pub.pem", NULL};
  const char *ec[] = {"jwt_public_key", FIXTURES "ec.pub.pem", NULL};
  ssews *ep = NULL;
  assert_int_equal(ssews_open(&ep, rsa, NULL, NULL), SSEWS_OK);
  ssews_close(&ep);
  assert_int_equal(ssews_open(&ep, ec, NULL, NULL), SSEWS_OK);
  ssews_close(&ep);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(torture_refusals_name_the_reason),
      cmocka_unit_test(torture_open_carries_identity_and_claims),
      cmocka_unit_test(torture_application_can_still_refuse),
      cmocka_unit_test(torture_publish_rights),
      cmocka_unit_test(torture_client_headers_replaced_between_reconnects),
      cmocka_unit_test(torture_option_errors),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}

#define _GNU_SOURCE
#include "harness.h"

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <cmocka.h>

#include "peer.h"

static char *dup_or_null(const char *s) {
  return s ? strdup(s) : NULL;
}

void rec_init(recorder *r) {
  memset(r, 0, sizeof *r);
  pthread_mutex_init(&r->mu, NULL);
  pthread_cond_init(&r->cv, NULL);
}

void rec_free(recorder *r) {
  for (size_t i = 0; i < r->n; i++) {
    rec_event *e = &r->evs[i];
    free(e->data);
    free(e->reason);
    free(e->path);
    free(e->query);
    free(e->name);
    free(e->id);
    free(e->header_probe);
    free(e->identity);
    free(e->claim_probe);
    free(e->claims);
  }
  free(r->evs);
  pthread_mutex_destroy(&r->mu);
  pthread_cond_destroy(&r->cv);
}

void rec_cb(ssews *ep, const ssews_event *ev, void *user) {
  recorder *r = user;
  rec_event e;
  memset(&e, 0, sizeof e);
  e.kind = ssews_event_kind(ev);
  e.conn = ssews_event_conn(ev);
  e.protocol = ssews_event_protocol(ev);
  size_t len = 0;
  const void *d = ssews_event_data(ev, &len);
  e.data = malloc(len + 1);
  if (len) memcpy(e.data, d, len);
  e.data[len] = 0;
  e.len = len;
  e.binary = ssews_event_is_binary(ev);
  e.code = ssews_event_code(ev);
  e.reason = dup_or_null(ssews_event_reason(ev));
  e.path = dup_or_null(ssews_event_path(ev));
  e.query = dup_or_null(ssews_event_query(ev));
  e.name = dup_or_null(ssews_event_name(ev));
  e.id = dup_or_null(ssews_event_id(ev));
  e.header_count = ssews_event_header_count(ev);
  e.channel_count = ssews_event_channel_count(ev);
  e.delay_ms = (long long)ssews_event_delay_ms(ev);
  if (e.kind == SSEWS_EV_OPEN) {
    if (r->probe_header) e.header_probe = dup_or_null(ssews_event_header(ev, r->probe_header));
    e.identity = dup_or_null(ssews_event_identity(ev));
    e.claims = dup_or_null(ssews_event_claim(ev, NULL));
    if (r->probe_claim) e.claim_probe = dup_or_null(ssews_event_claim(ev, r->probe_claim));
    if (r->reject_identity && e.identity && !strcmp(e.identity, r->reject_identity))
      ssews_reject(ep, e.conn, 403);
    if (r->reject_status) ssews_reject(ep, e.conn, r->reject_status);
    if (r->subscribe_to) ssews_subscribe(ep, e.conn, r->subscribe_to);
  }
  if (e.kind == SSEWS_EV_MESSAGE && r->publish_as)
    e.publish_rc = ssews_publish_as(ep, e.conn, r->publish_as, e.data, e.len,
                                    e.binary ? SSEWS_BINARY : SSEWS_TEXT, NULL, NULL);
  if (e.kind == SSEWS_EV_MESSAGE && r->echo)
    ssews_send(ep, e.conn, e.data, e.len, e.binary ? SSEWS_BINARY : SSEWS_TEXT, NULL, NULL);
  if (e.kind == SSEWS_EV_MESSAGE && r->close_from_callback && r->ep) {
    ssews *mine = r->ep;
    r->ep = NULL;
    ssews_close(&mine);
  }
  pthread_mutex_lock(&r->mu);
  if (r->n == r->cap) {
    r->cap = r->cap ? r->cap * 2 : 64;
    r->evs = realloc(r->evs, r->cap * sizeof *r->evs);
  }
  r->evs[r->n++] = e;
  pthread_cond_broadcast(&r->cv);
  pthread_mutex_unlock(&r->mu);
}

static void deadline_after(struct timespec *ts, int ms) {
  clock_gettime(CLOCK_REALTIME, ts);
  ts->tv_sec += ms / 1000;
  ts->tv_nsec += (long)(ms % 1000) * 1000000L;
  if (ts->tv_nsec >= 1000000000L) {
    ts->tv_sec++;
    ts->tv_nsec -= 1000000000L;
  }
}

const rec_event *rec_wait_conn(recorder *r, int kind, ssews_conn conn, size_t *cursor, int timeout_ms) {
  struct timespec dl;
  deadline_after(&dl, timeout_ms);
  pthread_mutex_lock(&r->mu);
  for (;;) {
    for (size_t i = *cursor; i < r->n; i++) {
      if ((kind == 0 || r->evs[i].kind == kind) && (conn == 0 || r->evs[i].conn == conn)) {
        *cursor = i + 1;
        const rec_event *e = &r->evs[i];
        pthread_mutex_unlock(&r->mu);
        return e;
      }
    }
    if (pthread_cond_timedwait(&r->cv, &r->mu, &dl) == ETIMEDOUT) {
      pthread_mutex_unlock(&r->mu);
      return NULL;
    }
  }
}

const rec_event *rec_wait(recorder *r, int kind, size_t *cursor, int timeout_ms) {
  return rec_wait_conn(r, kind, 0, cursor, timeout_ms);
}

size_t rec_count(recorder *r, int kind, ssews_conn conn) {
  size_t c = 0;
  pthread_mutex_lock(&r->mu);
  for (size_t i = 0; i < r->n; i++)
    if (r->evs[i].kind == kind && (conn == 0 || r->evs[i].conn == conn)) c++;
  pthread_mutex_unlock(&r->mu);
  return c;
}

ssews *start_server(recorder *r, const char *const *extra, int *port) {
  const char *opts[64];
  size_t n = 0;
  int has_host = 0;
  for (size_t i = 0; extra && extra[i]; i += 2) has_host |= !strcmp(extra[i], "host");
  if (!has_host) {
    opts[n++] = "host";
    opts[n++] = "127.0.0.1";
  }
  opts[n++] = "port";
  opts[n++] = "0";
  if (getenv("SSEWS_TEST_LOG")) { /* e.g. SSEWS_TEST_LOG=info to see libwebsockets' log */
    opts[n++] = "log_level";
    opts[n++] = getenv("SSEWS_TEST_LOG");
  }
  for (size_t i = 0; extra && extra[i] && n < 60; i++) opts[n++] = extra[i];
  opts[n] = NULL;
  ssews *ep = NULL;
  int rc = ssews_open(&ep, opts, r ? rec_cb : NULL, r);
  if (rc != SSEWS_OK) fprintf(stderr, "ssews_open: %s\n", ssews_last_error());
  assert_int_equal(rc, SSEWS_OK);
  assert_non_null(ep);
  assert_int_equal(ssews_port(ep, port), SSEWS_OK);
  assert_true(*port > 0);
  if (r) r->ep = NULL;
  return ep;
}

peer *ws_connect(int port, const char *path, const char *const *headers, int tls) {
  peer *p = peer_connect("127.0.0.1", port, tls, WAIT_MS);
  assert_non_null(p);
  assert_int_equal(peer_ws_handshake(p, path, headers, NULL, WAIT_MS), 0);
  return p;
}

peer *ws_connect_alpn(int port, const char *path, const char *const *headers, const char *alpn) {
  peer *p = peer_connect_alpn("127.0.0.1", port, alpn, WAIT_MS);
  if (!p) fprintf(stderr, "TLS connect (ALPN %s): %s\n", alpn ? alpn : "none", peer_error());
  assert_non_null(p);
  int st = peer_ws_handshake(p, path, headers, NULL, WAIT_MS);
  if (st != 0)
    fprintf(stderr, "WebSocket handshake over TLS (ALPN %s): %d %s\n", alpn ? alpn : "none", st,
            peer_error());
  assert_int_equal(st, 0);
  return p;
}

char *sse_read_until(peer *p, const char *needle) {
  char *out = NULL;
  int n = peer_read_until(p, needle, &out, WAIT_MS);
  if (n < 0) {
    fprintf(stderr, "sse_read_until('%s'): %s\n", needle, peer_error());
    free(out);
    return NULL;
  }
  return out;
}

void free_first_and_wait_close(recorder *r, peer *p) {
  size_t cur = 0;
  const rec_event *open = rec_wait(r, SSEWS_EV_OPEN, &cur, WAIT_MS);
  assert_non_null(open);
  ssews_conn first = open->conn;
  peer_free(p);
  cur = 0;
  assert_non_null(rec_wait_conn(r, SSEWS_EV_CLOSE, first, &cur, WAIT_MS));
}

const char *const sse_accept[] = {"Accept: text/event-stream", NULL};

/* Opens an SSE stream on path, checks the response head, returns the peer. */
peer *sse_open(int port, const char *path, const char *const *headers) {
  peer *p = peer_connect("127.0.0.1", port, 0, WAIT_MS);
  assert_non_null(p);
  peer_http resp;
  memset(&resp, 0, sizeof resp);
  assert_int_equal(peer_http_get(p, path, headers ? headers : sse_accept, &resp, WAIT_MS), 200);
  char buf[128];
  assert_string_equal(peer_http_header(&resp, "content-type", buf, sizeof buf), "text/event-stream");
  assert_string_equal(peer_http_header(&resp, "cache-control", buf, sizeof buf), "no-cache");
  assert_string_equal(peer_http_header(&resp, "x-accel-buffering", buf, sizeof buf), "no");
  peer_http_free(&resp);
  char *hello = sse_read_until(p, "\n\n"); /* the opening comment */
  assert_non_null(hello);
  assert_int_equal(hello[0], ':');
  free(hello);
  return p;
}

/* Extracts the value of the last "id: " line in an SSE chunk. */
void sse_last_id(const char *chunk, char *out, size_t n) {
  const char *p = chunk, *found = NULL;
  while ((p = strstr(p, "id: ")) != NULL) {
    if (p == chunk || p[-1] == '\n') found = p;
    p += 4;
  }
  assert_non_null(found);
  found += 4;
  size_t i = 0;
  while (found[i] && found[i] != '\n' && i + 1 < n) {
    out[i] = found[i];
    i++;
  }
  out[i] = 0;
}

/* POST /publish with the bearer token publishes its body. */
int http_post(int port, const char *path, const char *auth, const char *ctype, const char *body, char *out,
              size_t outlen) {
  peer *p = peer_connect("127.0.0.1", port, 0, WAIT_MS);
  assert_non_null(p);
  char extra[256] = "";
  size_t k = 0;
  if (auth) k += (size_t)snprintf(extra + k, sizeof extra - k, "Authorization: %s\r\n", auth);
  if (ctype) k += (size_t)snprintf(extra + k, sizeof extra - k, "Content-Type: %s\r\n", ctype);
  char req[1024];
  int n = snprintf(req, sizeof req, "POST %s HTTP/1.1\r\nHost: x\r\n%sContent-Length: %zu\r\n\r\n%s", path,
                   extra, strlen(body), body);
  assert_int_equal(peer_write(p, req, (size_t)n), 0);
  char *head = NULL;
  assert_true(peer_read_until(p, "\r\n\r\n", &head, WAIT_MS) > 0);
  int status = atoi(head + 9);
  free(head);
  char *rest = NULL;
  if (peer_read_until(p, "}", &rest, WAIT_MS) > 0 && out) snprintf(out, outlen, "%s", rest);
  free(rest);
  peer_free(p);
  return status;
}

double stat_of(ssews *ep, const char *name) {
  const char *names[64];
  double values[64];
  size_t n = 0;
  assert_int_equal(ssews_stats(ep, names, values, 64, &n), SSEWS_OK);
  assert_true(n <= 64);
  for (size_t i = 0; i < n; i++)
    if (!strcmp(names[i], name)) return values[i];
  fail_msg("no figure named %s", name);
  return -1;
}

int tls_cert_make(char dir[64], char cert[128], char key[128]) {
  strcpy(dir, "/tmp/ssews-tls-XXXXXX");
  if (!mkdtemp(dir)) return -1;
  snprintf(cert, 128, "%s/cert.pem", dir);
  snprintf(key, 128, "%s/key.pem", dir);
  char cmd[512];
  snprintf(cmd, sizeof cmd,
           "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 -subj /CN=localhost "
           "-keyout %s -out %s >/dev/null 2>&1",
           key, cert);
  return system(cmd) == 0 ? 0 : -1;
}

int tls_cert_remove(const char *dir) {
  char cmd[128];
  snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
  return system(cmd) == 0 ? 0 : -1;
}

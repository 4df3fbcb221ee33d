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
  opts[n++] = "host";
  opts[n++] = "127.0.0.1";
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

/* Handles that are safe to misuse: calls racing ssews_close or made after it
 * return SSEWS_ECLOSED, SSEWS_EV_DONE is the last event an endpoint delivers
 * (from ssews_close on another thread and from inside the callback), and
 * ssews_on_event is synchronous. Run under ASan and TSan: a use-after-free or
 * a race here is a failure even when the assertions hold. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "harness.h"

static void test_late_calls_return_eclosed(void **state) {
  (void)state;
  int port = 0;
  ssews *ep = start_server(NULL, NULL, &port);
  ssews *stale = ep;
  assert_int_equal(ssews_close(&ep), SSEWS_OK);
  assert_null(ep);
  assert_int_equal(ssews_publish(stale, "c", "x", 1, SSEWS_TEXT, NULL, NULL), SSEWS_ECLOSED);
  assert_non_null(strstr(ssews_last_error(), "closed"));
  assert_int_equal(ssews_send(stale, 1, "x", 1, SSEWS_TEXT, NULL, NULL), SSEWS_ECLOSED);
  assert_int_equal(ssews_port(stale, &port), SSEWS_ECLOSED);
  int fd;
  assert_int_equal(ssews_event_fd(stale, &fd), SSEWS_ECLOSED);
  const ssews_event *ev;
  assert_int_equal(ssews_next_event(stale, &ev), SSEWS_ECLOSED);
  assert_int_equal(ssews_on_event(stale, NULL, NULL), SSEWS_ECLOSED);
  assert_int_equal(ssews_close(&stale), SSEWS_OK); /* a second close is a no-op */
  /* A value that never was a handle is told apart from a closed one. */
  assert_int_equal(ssews_publish((ssews *)(uintptr_t)UINTPTR_MAX, "c", "x", 1, SSEWS_TEXT, NULL, NULL),
                   SSEWS_EINVAL);
  assert_int_equal(ssews_publish(NULL, "c", "x", 1, SSEWS_TEXT, NULL, NULL), SSEWS_EINVAL);
}

typedef struct hammer {
  ssews *ep;
  atomic_int started;
  atomic_long ok, closed, other;
} hammer;

static void *hammer_thread(void *arg) {
  hammer *h = arg;
  atomic_fetch_add(&h->started, 1);
  for (;;) {
    int rc = ssews_publish(h->ep, "news", "tick", 4, SSEWS_TEXT, NULL, NULL);
    int rc2 = ssews_subscribe(h->ep, 1, "news");
    if (rc == SSEWS_OK)
      atomic_fetch_add(&h->ok, 1);
    else if (rc == SSEWS_EFULL)
      continue;
    else if (rc == SSEWS_ECLOSED)
      break;
    else
      atomic_fetch_add(&h->other, 1);
    if (rc2 != SSEWS_ENOCONN && rc2 != SSEWS_ECLOSED) atomic_fetch_add(&h->other, 1);
  }
  atomic_fetch_add(&h->closed, 1);
  return NULL;
}

/* Threads publish as fast as they can while another closes the endpoint: every
 * call either works or says SSEWS_ECLOSED; none touches freed memory. */
static void test_publish_races_close(void **state) {
  (void)state;
  for (int round = 0; round < 5; round++) {
    int port = 0;
    hammer h;
    memset(&h, 0, sizeof h);
    h.ep = start_server(NULL, NULL, &port);
    enum { N = 4 };
    pthread_t t[N];
    for (int i = 0; i < N; i++) assert_int_equal(pthread_create(&t[i], NULL, hammer_thread, &h), 0);
    while (atomic_load(&h.started) < N || atomic_load(&h.ok) < 100) sched_yield();
    ssews *ep = h.ep; /* the threads keep using their copy of the handle */
    assert_int_equal(ssews_close(&ep), SSEWS_OK);
    for (int i = 0; i < N; i++) pthread_join(t[i], NULL);
    assert_int_equal(atomic_load(&h.closed), N);
    assert_int_equal(atomic_load(&h.other), 0);
  }
}

/* Records kinds and flags a callback made after SSEWS_EV_DONE. */
typedef struct done_rec {
  pthread_mutex_t mu;
  pthread_cond_t cv;
  int kinds[64];
  int n;
  int done;
  int after_done;
  int close_on_open; /* close the endpoint from its own callback */
  ssews *ep;
} done_rec;

static void done_cb(ssews *ep, const ssews_event *ev, void *user) {
  done_rec *d = user;
  int kind = ssews_event_kind(ev);
  if (kind == SSEWS_EV_OPEN && d->close_on_open && d->ep) {
    ssews *mine = d->ep;
    d->ep = NULL;
    assert_int_equal(ssews_close(&mine), SSEWS_OK); /* returns at once: we are its service thread */
    /* The handle is dead for everyone from now on, this callback included. */
    assert_int_equal(ssews_publish(ep, "c", "x", 1, SSEWS_TEXT, NULL, NULL), SSEWS_ECLOSED);
  }
  pthread_mutex_lock(&d->mu);
  if (d->done) d->after_done++;
  if (d->n < 64) d->kinds[d->n++] = kind;
  if (kind == SSEWS_EV_DONE) d->done = 1;
  pthread_cond_broadcast(&d->cv);
  pthread_mutex_unlock(&d->mu);
}

static void done_rec_init(done_rec *d) {
  memset(d, 0, sizeof *d);
  pthread_mutex_init(&d->mu, NULL);
  pthread_cond_init(&d->cv, NULL);
}

static void done_rec_free(done_rec *d) {
  pthread_mutex_destroy(&d->mu);
  pthread_cond_destroy(&d->cv);
}

static ssews *open_with(done_rec *d, int *port) {
  const char *opts[] = {"port", "0", NULL};
  ssews *ep = NULL;
  assert_int_equal(ssews_open(&ep, opts, done_cb, d), SSEWS_OK);
  assert_int_equal(ssews_port(ep, port), SSEWS_OK);
  return ep;
}

/* Closed from another thread: when ssews_close returns, DONE has been
 * delivered, after the close events, and it was the last event. */
static void test_done_after_close_from_other_thread(void **state) {
  (void)state;
  done_rec d;
  done_rec_init(&d);
  int port;
  ssews *ep = open_with(&d, &port);
  peer *p = ws_connect(port, "/room", NULL, 0);
  pthread_mutex_lock(&d.mu);
  while (d.n < 1) pthread_cond_wait(&d.cv, &d.mu);
  pthread_mutex_unlock(&d.mu);
  assert_int_equal(ssews_close(&ep), SSEWS_OK);
  pthread_mutex_lock(&d.mu);
  assert_int_equal(d.done, 1);
  assert_true(d.n >= 3);
  assert_int_equal(d.kinds[0], SSEWS_EV_OPEN);
  assert_int_equal(d.kinds[d.n - 2], SSEWS_EV_CLOSE);
  assert_int_equal(d.kinds[d.n - 1], SSEWS_EV_DONE);
  assert_int_equal(d.after_done, 0);
  pthread_mutex_unlock(&d.mu);
  peer_free(p);
  done_rec_free(&d);
}

/* Closed from inside its own callback: ssews_close returns at once, the
 * close events and then DONE follow; after DONE the user data may be freed
 * (ASan sees any later call into it). */
static void test_done_after_close_from_callback(void **state) {
  (void)state;
  done_rec *d = malloc(sizeof *d);
  done_rec_init(d);
  d->close_on_open = 1;
  int port;
  ssews *ep = open_with(d, &port);
  d->ep = ep;
  peer *p = ws_connect(port, "/room", NULL, 0);
  struct timespec until;
  clock_gettime(CLOCK_REALTIME, &until);
  until.tv_sec += WAIT_MS / 1000;
  pthread_mutex_lock(&d->mu);
  while (!d->done) assert_int_equal(pthread_cond_timedwait(&d->cv, &d->mu, &until), 0);
  assert_int_equal(d->kinds[0], SSEWS_EV_OPEN);
  assert_int_equal(d->kinds[d->n - 1], SSEWS_EV_DONE);
  assert_int_equal(d->after_done, 0);
  pthread_mutex_unlock(&d->mu);
  /* The peer saw the server go away (close 1001). */
  peer_frame f;
  assert_int_equal(peer_ws_read_frame(p, &f, WAIT_MS), 0);
  assert_int_equal(f.opcode, 8);
  assert_int_equal(peer_close_code(f.payload, f.len), 1001);
  peer_frame_free(&f);
  peer_free(p);
  done_rec_free(d);
  free(d); /* what a binding does on DONE: nothing may call into it now */
}

/* ssews_on_event from another thread returns only once the old callback can
 * no longer run: no call of it starts or is in progress afterwards. */
typedef struct counting {
  atomic_long calls;
  atomic_int inside;
  atomic_int after_switch; /* calls of the old callback seen after the switch returned */
  atomic_int switched;
} counting;

static counting g_old, g_new;

static void old_cb(ssews *ep, const ssews_event *ev, void *user) {
  (void)ep;
  (void)ev;
  (void)user;
  atomic_store(&g_old.inside, 1);
  if (atomic_load(&g_old.switched)) atomic_fetch_add(&g_old.after_switch, 1);
  atomic_fetch_add(&g_old.calls, 1);
  /* Stay a while, so the switch is likely to arrive while we run. */
  struct timespec t0, t1;
  clock_gettime(CLOCK_MONOTONIC, &t0);
  do clock_gettime(CLOCK_MONOTONIC, &t1);
  while ((t1.tv_sec - t0.tv_sec) * 1000000000L + (t1.tv_nsec - t0.tv_nsec) < 200000L);
  if (atomic_load(&g_old.switched)) atomic_fetch_add(&g_old.after_switch, 1);
  atomic_store(&g_old.inside, 0);
}

static void new_cb(ssews *ep, const ssews_event *ev, void *user) {
  (void)ep;
  (void)ev;
  (void)user;
  atomic_fetch_add(&g_new.calls, 1);
}

static void test_on_event_is_synchronous(void **state) {
  (void)state;
  const char *opts[] = {"port", "0", NULL};
  ssews *ep = NULL;
  assert_int_equal(ssews_open(&ep, opts, old_cb, NULL), SSEWS_OK);
  int port;
  assert_int_equal(ssews_port(ep, &port), SSEWS_OK);
  peer *p = ws_connect(port, "/room", NULL, 0);
  for (int i = 0; i < 200; i++) assert_int_equal(peer_ws_send(p, 1, "m", 1), 0);
  while (atomic_load(&g_old.calls) < 5) sched_yield();
  assert_int_equal(ssews_on_event(ep, new_cb, NULL), SSEWS_OK);
  atomic_store(&g_old.switched, 1);
  assert_int_equal(atomic_load(&g_old.inside), 0);
  for (int i = 0; i < 5; i++) assert_int_equal(peer_ws_send(p, 1, "n", 1), 0);
  while (atomic_load(&g_new.calls) < 5) sched_yield();
  assert_int_equal(atomic_load(&g_old.after_switch), 0);
  peer_free(p);
  assert_int_equal(ssews_close(&ep), SSEWS_OK);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_late_calls_return_eclosed),
      cmocka_unit_test(test_publish_races_close),
      cmocka_unit_test(test_done_after_close_from_other_thread),
      cmocka_unit_test(test_done_after_close_from_callback),
      cmocka_unit_test(test_on_event_is_synchronous),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}

/* Clients: WebSocket and SSE against the ssews server and against a raw HTTP
 * server that sends exact bytes; reconnect, resume, errors, TLS. */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <pthread.h>

#include "harness.h"
#include "peer.h"
#include "rawserver.h"

static ssews *open_client(recorder *r, const char *url, const char *const *extra) {
  const char *opts[32];
  size_t n = 0;
  opts[n++] = "url";
  opts[n++] = url;
  int own_delay = 0;
  for (size_t i = 0; extra && extra[i]; i += 2)
    if (!strcmp(extra[i], "reconnect_delay_ms")) own_delay = 1;
  if (!own_delay) { /* fast retries keep the tests short */
    opts[n++] = "reconnect_delay_ms";
    opts[n++] = "50";
  }
  for (size_t i = 0; extra && extra[i] && n < 30; i++) opts[n++] = extra[i];
  opts[n] = NULL;
  ssews *ep = NULL;
  int rc = ssews_open(&ep, opts, rec_cb, r);
  if (rc != SSEWS_OK) fprintf(stderr, "ssews_open(%s): %s\n", url, ssews_last_error());
  assert_int_equal(rc, SSEWS_OK);
  return ep;
}

static int64_t now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ------------------------------------------------------------------------ */
/* WebSocket client against the ssews server                                 */

static void test_ws_client_roundtrip(void **state) {
  (void)state;
  recorder srv;
  rec_init(&srv);
  srv.echo = 1;
  int port;
  ssews *server = start_server(&srv, NULL, &port);
  char url[128];
  snprintf(url, sizeof url, "ws://127.0.0.1:%d/echo", port);
  const char *const h[] = {"header", "Authorization: Bearer t0ken", NULL};
  recorder r;
  rec_init(&r);
  srv.probe_header = "authorization";
  ssews *cl = open_client(&r, url, h);
  size_t cur = 0, scur = 0;
  assert_non_null(rec_wait(&r, SSEWS_EV_OPEN, &cur, WAIT_MS));
  const rec_event *so = rec_wait(&srv, SSEWS_EV_OPEN, &scur, WAIT_MS);
  assert_non_null(so);
  assert_string_equal(so->header_probe, "Bearer t0ken");

  size_t sizes[] = {0, 125, 126, 65535, 65536, 1 << 20};
  for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
    for (int binary = 0; binary < 2; binary++) {
      char *buf = malloc(sizes[i] + 1);
      for (size_t k = 0; k < sizes[i]; k++) buf[k] = binary ? (char)(k * 7) : (char)('a' + k % 26);
      assert_int_equal(ssews_send(cl, 0, buf, sizes[i], binary ? SSEWS_BINARY : SSEWS_TEXT, NULL, NULL),
                       SSEWS_OK);
      const rec_event *m = rec_wait(&r, SSEWS_EV_MESSAGE, &cur, WAIT_MS);
      assert_non_null(m);
      assert_int_equal(m->len, sizes[i]);
      assert_int_equal(m->binary, binary);
      assert_memory_equal(m->data, buf, sizes[i]);
      free(buf);
    }
  }
  /* A client cannot publish; invalid UTF-8 text is refused. */
  assert_int_equal(ssews_publish(cl, "x", "a", 1, SSEWS_TEXT, NULL, NULL), SSEWS_ENOTSUP);
  assert_int_equal(ssews_send(cl, 0, "\xff", 1, SSEWS_TEXT, NULL, NULL), SSEWS_EINVAL);
  int p;
  assert_int_equal(ssews_port(cl, &p), SSEWS_ENOTSUP);

  ssews_close(&cl);
  const rec_event *c = rec_wait(&r, SSEWS_EV_CLOSE, &cur, WAIT_MS);
  assert_non_null(c);
  assert_int_equal(c->code, 1000);
  /* The server saw a clean close 1000 from the client. */
  const rec_event *sc = rec_wait(&srv, SSEWS_EV_CLOSE, &scur, WAIT_MS);
  assert_non_null(sc);
  assert_int_equal(sc->code, 1000);
  ssews_close(&server);
  rec_free(&r);
  rec_free(&srv);
}

static void test_ws_client_closes_with_code_and_reason(void **state) {
  (void)state;
  recorder srv;
  rec_init(&srv);
  int port;
  ssews *server = start_server(&srv, NULL, &port);
  char url[128];
  snprintf(url, sizeof url, "ws://127.0.0.1:%d/x", port);
  recorder r;
  rec_init(&r);
  ssews *cl = open_client(&r, url, NULL);
  size_t cur = 0, scur = 0;
  assert_non_null(rec_wait(&r, SSEWS_EV_OPEN, &cur, WAIT_MS));
  assert_int_equal(ssews_conn_close(cl, 1, 2000, NULL), SSEWS_EINVAL);
  assert_int_equal(ssews_conn_close(cl, 1, 4001, "done here"), SSEWS_OK);
  const rec_event *sc = rec_wait(&srv, SSEWS_EV_CLOSE, &scur, WAIT_MS);
  assert_non_null(sc);
  assert_int_equal(sc->code, 4001);
  assert_string_equal(sc->reason, "done here");
  const rec_event *c = rec_wait(&r, SSEWS_EV_CLOSE, &cur, WAIT_MS);
  assert_non_null(c);
  assert_int_equal(c->code, 4001);
  assert_int_equal(rec_count(&r, SSEWS_EV_RECONNECTING, 0), 0); /* closed for good */
  ssews_close(&cl);
  ssews_close(&server);
  rec_free(&r);
  rec_free(&srv);
}

static void test_ws_client_v1_and_resume_across_restart(void **state) {
  (void)state;
  const char *const hist[] = {"history", "100", NULL};
  recorder srv;
  rec_init(&srv);
  int port;
  ssews *server = start_server(&srv, hist, &port);
  char url[128];
  snprintf(url, sizeof url, "ws://127.0.0.1:%d/?channel=room", port);
  recorder r;
  rec_init(&r);
  ssews *cl = open_client(&r, url, NULL);
  size_t cur = 0, scur = 0;
  assert_non_null(rec_wait(&r, SSEWS_EV_OPEN, &cur, WAIT_MS));
  assert_non_null(rec_wait(&srv, SSEWS_EV_OPEN, &scur, WAIT_MS));
  assert_int_equal(ssews_publish(server, "room", "one", 3, SSEWS_TEXT, "say", NULL), SSEWS_OK);
  const rec_event *m = rec_wait(&r, SSEWS_EV_MESSAGE, &cur, WAIT_MS);
  assert_non_null(m);
  assert_string_equal((char *)m->data, "one");
  assert_non_null(m->name);
  assert_string_equal(m->name, "say"); /* ssews.v1 carries the event name and id */
  assert_non_null(m->id);

  /* The server restarts on the same port; the client comes back by itself. */
  ssews_close(&server);
  assert_non_null(rec_wait(&r, SSEWS_EV_RECONNECTING, &cur, WAIT_MS));
  char ps[16];
  snprintf(ps, sizeof ps, "%d", port);
  const char *opts[] = {"host", "127.0.0.1", "port", ps, "history", "100", NULL};
  recorder srv2;
  rec_init(&srv2);
  assert_int_equal(ssews_open(&server, opts, rec_cb, &srv2), SSEWS_OK);
  /* Published while the client was away: it must arrive, once. */
  assert_int_equal(ssews_publish(server, "room", "two", 3, SSEWS_TEXT, NULL, NULL), SSEWS_OK);
  assert_non_null(rec_wait(&r, SSEWS_EV_OPEN, &cur, 10000));
  m = rec_wait(&r, SSEWS_EV_MESSAGE, &cur, WAIT_MS);
  assert_non_null(m);
  assert_string_equal((char *)m->data, "two");
  assert_int_equal(ssews_publish(server, "room", "three", 5, SSEWS_TEXT, NULL, NULL), SSEWS_OK);
  m = rec_wait(&r, SSEWS_EV_MESSAGE, &cur, WAIT_MS);
  assert_non_null(m);
  assert_string_equal((char *)m->data, "three");
  /* Resuming from the old server's id told the client history may have a gap. */
  size_t ecur = 0;
  const rec_event *gap = rec_wait(&r, SSEWS_EV_ERROR, &ecur, 10);
  assert_non_null(gap);
  assert_int_equal(gap->code, SSEWS_EGAP);
  ssews_close(&cl);
  ssews_close(&server);
  assert_int_equal(rec_count(&r, SSEWS_EV_MESSAGE, 0), 3);
  rec_free(&r);
  rec_free(&srv);
  rec_free(&srv2);
}

static void test_ws_client_queues_while_disconnected(void **state) {
  (void)state;
  int port = peer_free_port();
  char url[128];
  snprintf(url, sizeof url, "ws://127.0.0.1:%d/q", port);
  recorder r;
  rec_init(&r);
  const char *const opts[] = {"max_queue_bytes", "2048", NULL};
  ssews *cl = open_client(&r, url, opts);
  size_t cur = 0;
  assert_non_null(rec_wait(&r, SSEWS_EV_RECONNECTING, &cur, WAIT_MS)); /* nobody listens yet */
  char kb[1024];
  memset(kb, 'k', sizeof kb);
  assert_int_equal(ssews_send(cl, 0, "early", 5, SSEWS_TEXT, NULL, NULL), SSEWS_OK);
  assert_int_equal(ssews_send(cl, 0, kb, sizeof kb, SSEWS_TEXT, NULL, NULL), SSEWS_OK);
  assert_int_equal(ssews_send(cl, 0, kb, sizeof kb, SSEWS_TEXT, NULL, NULL), SSEWS_EFULL);
  assert_non_null(strstr(ssews_last_error(), "max_queue_bytes"));

  recorder srv;
  rec_init(&srv);
  char ps[16];
  snprintf(ps, sizeof ps, "%d", port);
  const char *sopts[] = {"host", "127.0.0.1", "port", ps, NULL};
  ssews *server = NULL;
  assert_int_equal(ssews_open(&server, sopts, rec_cb, &srv), SSEWS_OK);
  size_t scur = 0;
  const rec_event *m = rec_wait(&srv, SSEWS_EV_MESSAGE, &scur, 10000);
  assert_non_null(m);
  assert_string_equal((char *)m->data, "early"); /* flushed after the connect, in order */
  m = rec_wait(&srv, SSEWS_EV_MESSAGE, &scur, WAIT_MS);
  assert_non_null(m);
  assert_int_equal(m->len, sizeof kb);
  ssews_close(&cl);
  ssews_close(&server);
  rec_free(&r);
  rec_free(&srv);
}

static void ws_no_pong(int fd, const char *req, int n, void *user) {
  (void)n;
  (void)user;
  raw_ws_accept(fd, req);
  raw_drain(fd, 8000); /* reads pings, never answers */
}

static void test_ws_client_ping_timeout(void **state) {
  (void)state;
  rawserver *rs = raw_start(ws_no_pong, NULL);
  char url[128];
  snprintf(url, sizeof url, "ws://127.0.0.1:%d/", raw_port(rs));
  recorder r;
  rec_init(&r);
  const char *const opts[] = {"ping_interval", "1", "pong_timeout", "1", "v1", "false", NULL};
  ssews *cl = open_client(&r, url, opts);
  size_t cur = 0;
  assert_non_null(rec_wait(&r, SSEWS_EV_OPEN, &cur, WAIT_MS));
  int64_t t0 = now_ms();
  /* A dead link is dropped after ping + pong timeout, then retried. */
  assert_non_null(rec_wait(&r, SSEWS_EV_RECONNECTING, &cur, 10000));
  assert_true(now_ms() - t0 >= 1500);
  ssews_close(&cl);
  raw_stop(rs);
  rec_free(&r);
}

/* A generic server that, like Node's `ws` by default, selects the first
 * subprotocol the client offers, then sends plain messages. */
static void ws_echoes_first_offer(int fd, const char *req, int n, void *user) {
  (void)n;
  (void)user;
  char offered[64];
  raw_ws_accept_proto(fd, req, raw_first_offered_protocol(req, offered, sizeof offered));
  raw_ws_send(fd, 1, "plain hello", 11);
  const unsigned char bin[] = {0, 1, 2, 0xff};
  raw_ws_send(fd, 2, bin, sizeof bin);
  raw_drain(fd, 3000);
}

static void test_ws_client_plain_server_selecting_v1(void **state) {
  (void)state;
  rawserver *rs = raw_start(ws_echoes_first_offer, NULL);
  char url[128];
  snprintf(url, sizeof url, "ws://127.0.0.1:%d/", raw_port(rs));
  recorder r;
  rec_init(&r);
  ssews *cl = open_client(&r, url, NULL); /* default options: v1 offered */
  size_t cur = 0;
  assert_non_null(rec_wait(&r, SSEWS_EV_OPEN, &cur, WAIT_MS));
  const rec_event *m = rec_wait(&r, SSEWS_EV_MESSAGE, &cur, WAIT_MS);
  assert_non_null(m);
  assert_int_equal(m->binary, 0);
  assert_string_equal((char *)m->data, "plain hello");
  m = rec_wait(&r, SSEWS_EV_MESSAGE, &cur, WAIT_MS);
  assert_non_null(m);
  assert_int_equal(m->binary, 1);
  assert_int_equal(m->len, 4);
  assert_memory_equal(m->data, "\x00\x01\x02\xff", 4);
  assert_int_equal(rec_count(&r, SSEWS_EV_ERROR, 0), 0);
  /* The server did select ssews.v1, so the test shows what it claims. */
  assert_non_null(strcasestr(raw_request(rs, 0), "sec-websocket-protocol: ssews.v1"));
  ssews_close(&cl);
  raw_stop(rs);
  rec_free(&r);
}

/* Node's `ws` with its defaults (it selects the first offered subprotocol),
 * run from the source tree's node_modules: pid in *pid, port returned, or -1
 * when node or ws is missing (npm ci not run). */
static int spawn_node_ws(pid_t *pid) {
  static const char script[] =
      "const { WebSocketServer } = require('ws');"
      "const wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });"
      "wss.on('listening', () => console.log(wss.address().port));"
      "wss.on('connection', (s) => { s.send('selected ' + s.protocol);"
      "  s.on('message', (d, bin) => s.send(d, { binary: bin })); });"
      "process.stdin.on('end', () => process.exit(0)); process.stdin.resume();";
  int out[2], in[2];
  if (pipe(out) || pipe(in)) return -1;
  *pid = fork();
  if (*pid == 0) {
    dup2(out[1], 1);
    dup2(in[0], 0);
    close(out[0]);
    close(in[1]);
    if (chdir(SSEWS_SOURCE_DIR) == 0) execlp("node", "node", "-e", script, (char *)NULL);
    _exit(127);
  }
  close(out[1]);
  close(in[0]);
  /* in[1] stays open in the test: the server exits when it closes. */
  char line[32] = "";
  FILE *f = fdopen(out[0], "r");
  int port = f && fgets(line, sizeof line, f) ? atoi(line) : -1;
  if (f) fclose(f);
  if (port <= 0) {
    close(in[1]);
    waitpid(*pid, NULL, 0);
    return -1;
  }
  return port;
}

static void test_ws_client_default_node_ws_server(void **state) {
  (void)state;
  pid_t pid = -1;
  int port = spawn_node_ws(&pid);
  if (port < 0 && getenv("CI")) fail_msg("node with the ws package is needed (npm ci) and CI is set");
  if (port < 0) skip(); /* node or the ws package is missing */
  char url[128];
  snprintf(url, sizeof url, "ws://127.0.0.1:%d/", port);
  recorder r;
  rec_init(&r);
  ssews *cl = open_client(&r, url, NULL); /* default options */
  size_t cur = 0;
  const rec_event *m = rec_wait(&r, SSEWS_EV_MESSAGE, &cur, WAIT_MS);
  assert_non_null(m);
  assert_string_equal((char *)m->data, "selected ssews.v1"); /* ws did select it */
  assert_int_equal(ssews_send(cl, 0, "plain ✓", strlen("plain ✓"), SSEWS_TEXT, NULL, NULL), SSEWS_OK);
  assert_int_equal(ssews_send(cl, 0, "\x00\xff", 2, SSEWS_BINARY, NULL, NULL), SSEWS_OK);
  m = rec_wait(&r, SSEWS_EV_MESSAGE, &cur, WAIT_MS);
  assert_non_null(m);
  assert_string_equal((char *)m->data, "plain ✓");
  m = rec_wait(&r, SSEWS_EV_MESSAGE, &cur, WAIT_MS);
  assert_non_null(m);
  assert_int_equal(m->binary, 1);
  assert_int_equal(m->len, 2);
  assert_memory_equal(m->data, "\x00\xff", 2);
  assert_int_equal(rec_count(&r, SSEWS_EV_ERROR, 0), 0);
  ssews_close(&cl);
  kill(pid, SIGTERM);
  waitpid(pid, NULL, 0);
  rec_free(&r);
}

/* A failed write, made deterministic: the client's OPEN callback (service
 * thread) waits until the server has reset the connection, so when the
 * client then writes its queue the reset is already there and the write
 * fails, instead of racing the reset and losing the messages in flight. */
struct write_gate {
  recorder r;
  pthread_mutex_t mu;
  pthread_cond_t cv;
  int reset_done;
};

static void gate_cb(ssews *ep, const ssews_event *ev, void *user) {
  struct write_gate *g = user;
  if (ssews_event_kind(ev) == SSEWS_EV_OPEN) {
    struct timespec dl;
    clock_gettime(CLOCK_REALTIME, &dl);
    dl.tv_sec += WAIT_MS / 1000;
    pthread_mutex_lock(&g->mu);
    while (!g->reset_done && pthread_cond_timedwait(&g->cv, &g->mu, &dl) == 0) {
    }
    pthread_mutex_unlock(&g->mu);
  }
  rec_cb(ep, ev, &g->r);
}

/* First connection: a 101, then a reset (RST); later ones echo two messages. */
static void ws_reset_then_echo(int fd, const char *req, int n, void *user) {
  struct write_gate *g = user;
  if (n == 0) {
    raw_reset(fd);
    raw_ws_accept(fd, req);
    /* Reset now (dup2 closes the socket, the server's own close() then
     * closes /dev/null), and only then let the client go on. */
    int null_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
    dup2(null_fd, fd);
    close(null_fd);
    pthread_mutex_lock(&g->mu);
    g->reset_done = 1;
    pthread_cond_broadcast(&g->cv);
    pthread_mutex_unlock(&g->mu);
    return;
  }
  raw_ws_accept(fd, req);
  for (int i = 0; i < 2; i++) {
    int op;
    unsigned char *b;
    size_t len;
    if (raw_ws_read(fd, &op, &b, &len, WAIT_MS)) return;
    raw_ws_send(fd, op, b, len);
    free(b);
  }
  raw_drain(fd, 3000);
}

static void test_ws_client_resends_intact_after_failed_write(void **state) {
  (void)state;
  int port = peer_free_port();
  char url[128];
  snprintf(url, sizeof url, "ws://127.0.0.1:%d/", port);
  struct write_gate g;
  rec_init(&g.r);
  pthread_mutex_init(&g.mu, NULL);
  pthread_cond_init(&g.cv, NULL);
  g.reset_done = 0;
  const char *const opts[] = {"url", url, "reconnect_delay_ms", "50", "v1", "false", NULL};
  ssews *cl = NULL;
  assert_int_equal(ssews_open(&cl, opts, gate_cb, &g), SSEWS_OK);
  size_t cur = 0;
  assert_non_null(rec_wait(&g.r, SSEWS_EV_RECONNECTING, &cur, WAIT_MS)); /* nobody listens yet */
  /* Queued while disconnected: written on the first connection, which fails. */
  const char *text = "queued text, intact";
  unsigned char bin[300];
  for (size_t i = 0; i < sizeof bin; i++) bin[i] = (unsigned char)(i * 13);
  assert_int_equal(ssews_send(cl, 0, text, strlen(text), SSEWS_TEXT, NULL, NULL), SSEWS_OK);
  assert_int_equal(ssews_send(cl, 0, bin, sizeof bin, SSEWS_BINARY, NULL, NULL), SSEWS_OK);
  rawserver *rs = raw_start_ex(ws_reset_then_echo, &g, port, 1);
  assert_non_null(rs);
  /* Both come back through a later connection, byte for byte. */
  const rec_event *m = rec_wait(&g.r, SSEWS_EV_MESSAGE, &cur, 10000);
  assert_non_null(m);
  assert_int_equal(m->binary, 0);
  assert_string_equal((char *)m->data, text);
  m = rec_wait(&g.r, SSEWS_EV_MESSAGE, &cur, WAIT_MS);
  assert_non_null(m);
  assert_int_equal(m->binary, 1);
  assert_int_equal(m->len, sizeof bin);
  assert_memory_equal(m->data, bin, sizeof bin);
  assert_true(rec_count(&g.r, SSEWS_EV_OPEN, 0) >= 2);
  ssews_close(&cl);
  raw_stop(rs);
  rec_free(&g.r);
  pthread_mutex_destroy(&g.mu);
  pthread_cond_destroy(&g.cv);
}

/* Accepts the upgrade, then hangs up: a connection that worked, then dropped. */
static void ws_accept_then_hang_up(int fd, const char *req, int n, void *user) {
  (void)n;
  (void)user;
  raw_ws_accept(fd, req);
}

static void test_ws_client_first_retry_is_jittered(void **state) {
  (void)state;
  rawserver *rs = raw_start(ws_accept_then_hang_up, NULL);
  char url[128];
  snprintf(url, sizeof url, "ws://127.0.0.1:%d/", raw_port(rs));
  recorder r;
  rec_init(&r);
  const char *const opts[] = {"v1", "false", "reconnect_delay_ms", "100", NULL};
  ssews *cl = open_client(&r, url, opts);
  /* Each retry follows a connection that worked: the first retry after the
   * base delay, spread by +-20% so clients dropped together come back apart. */
  size_t cur = 0;
  long long first = -1;
  int differs = 0;
  for (int i = 0; i < 8; i++) {
    assert_non_null(rec_wait(&r, SSEWS_EV_OPEN, &cur, WAIT_MS));
    const rec_event *rc = rec_wait(&r, SSEWS_EV_RECONNECTING, &cur, WAIT_MS);
    assert_non_null(rc);
    assert_int_equal(rc->code, 1); /* attempt 1 each time */
    assert_in_range(rc->delay_ms, 80, 120);
    if (first < 0) first = rc->delay_ms;
    if (rc->delay_ms != first) differs = 1;
  }
  assert_true(differs);
  ssews_close(&cl);
  raw_stop(rs);
  rec_free(&r);
}

/* ------------------------------------------------------------------------ */
/* SSE client                                                                */

static void test_sse_client_against_server(void **state) {
  (void)state;
  const char *const hist[] = {"history", "50", NULL};
  int port;
  recorder srv;
  rec_init(&srv);
  ssews *server = start_server(&srv, hist, &port);
  char url[128];
  snprintf(url, sizeof url, "http://127.0.0.1:%d/?channel=news", port);
  recorder r;
  rec_init(&r);
  ssews *cl = open_client(&r, url, NULL);
  size_t cur = 0, scur = 0;
  assert_non_null(rec_wait(&r, SSEWS_EV_OPEN, &cur, WAIT_MS));
  assert_non_null(rec_wait(&srv, SSEWS_EV_OPEN, &scur, WAIT_MS));
  assert_int_equal(ssews_send(cl, 0, "x", 1, SSEWS_TEXT, NULL, NULL), SSEWS_ENOTSUP);
  assert_non_null(strstr(ssews_last_error(), "one-way"));

  const char *multi = "line 1\nline 2";
  assert_int_equal(ssews_publish(server, "news", multi, strlen(multi), SSEWS_TEXT, "update", "n-1"),
                   SSEWS_OK);
  assert_int_equal(ssews_publish(server, "news", "plain", 5, SSEWS_TEXT, NULL, NULL), SSEWS_OK);
  const rec_event *m = rec_wait(&r, SSEWS_EV_MESSAGE, &cur, WAIT_MS);
  assert_non_null(m);
  assert_string_equal((char *)m->data, multi);
  assert_string_equal(m->name, "update");
  assert_string_equal(m->id, "n-1");
  m = rec_wait(&r, SSEWS_EV_MESSAGE, &cur, WAIT_MS);
  assert_non_null(m);
  assert_string_equal((char *)m->data, "plain");
  assert_string_equal(m->name, "message");
  char last[64];
  snprintf(last, sizeof last, "%s", m->id);

  /* The server restarts on its port; published meanwhile reaches the client once. */
  ssews_close(&server);
  assert_non_null(rec_wait(&r, SSEWS_EV_RECONNECTING, &cur, WAIT_MS));
  char ps[16];
  snprintf(ps, sizeof ps, "%d", port);
  const char *opts[] = {"host", "127.0.0.1", "port", ps, "history", "50", NULL};
  recorder srv2;
  rec_init(&srv2);
  assert_int_equal(ssews_open(&server, opts, rec_cb, &srv2), SSEWS_OK);
  assert_int_equal(ssews_publish(server, "news", "while away", 10, SSEWS_TEXT, NULL, NULL), SSEWS_OK);
  m = rec_wait(&r, SSEWS_EV_MESSAGE, &cur, 10000);
  assert_non_null(m);
  assert_string_equal((char *)m->data, "while away");
  ssews_close(&cl);
  ssews_close(&server);
  assert_int_equal(rec_count(&r, SSEWS_EV_MESSAGE, 0), 3);
  rec_free(&r);
  rec_free(&srv);
  rec_free(&srv2);
}

/* Scenarios for the raw server, chosen by the test through `user`. */
enum scenario { SC_204, SC_500, SC_HTML, SC_RETRY_RESUME, SC_REDIRECT };

struct sc_state {
  enum scenario sc;
  int redirect_port;
};

static void sse_head(int fd) {
  raw_send(fd,
           "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream; charset=utf-8\r\nConnection: close\r\n\r\n");
}

static void sse_scenario(int fd, const char *req, int n, void *user) {
  struct sc_state *s = user;
  (void)req;
  switch (s->sc) {
    case SC_204:
      raw_send(fd, "HTTP/1.1 204 No Content\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
      break;
    case SC_500:
      raw_send(fd,
               "HTTP/1.1 500 Internal Server Error\r\nContent-Length: 4\r\nConnection: close\r\n\r\noops");
      break;
    case SC_HTML:
      raw_send(
          fd,
          "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: 4\r\nConnection: close\r\n\r\n<p/>");
      break;
    case SC_RETRY_RESUME:
      sse_head(fd);
      if (n == 0) {
        /* BOM, CRLF line ends, a retry, two events, then a cut mid-event. */
        raw_send(fd, "\xEF\xBB\xBF: hello\r\nretry: 100\r\n\r\nid: 1\r\ndata: first\r\n\r\n");
        raw_send(fd, "id: 2\rdata: second\r\rid: 3\ndata: never dispatched");
      } else {
        raw_send(fd, "data: resumed\n\n");
        raw_drain(fd, 3000);
      }
      break;
    case SC_REDIRECT:
      if (n == 0) {
        char loc[160];
        snprintf(loc, sizeof loc,
                 "HTTP/1.1 307 Temporary Redirect\r\nLocation: http://127.0.0.1:%d/moved\r\n"
                 "Content-Length: 0\r\nConnection: close\r\n\r\n",
                 s->redirect_port);
        raw_send(fd, loc);
      } else {
        sse_head(fd);
        raw_send(fd, "data: after redirect\n\n");
        raw_drain(fd, 3000);
      }
      break;
  }
}

static void expect_final(enum scenario sc, int err, const char *why) {
  struct sc_state s = {sc, 0};
  rawserver *rs = raw_start(sse_scenario, &s);
  char url[128];
  snprintf(url, sizeof url, "http://127.0.0.1:%d/stream", raw_port(rs));
  recorder r;
  rec_init(&r);
  ssews *cl = open_client(&r, url, NULL);
  size_t cur = 0;
  if (err) {
    const rec_event *e = rec_wait(&r, SSEWS_EV_ERROR, &cur, WAIT_MS);
    assert_non_null(e);
    assert_int_equal(e->code, err);
    if (!strstr(e->reason, why)) fprintf(stderr, "reason '%s' lacks '%s'\n", e->reason, why);
    assert_non_null(strstr(e->reason, why));
  }
  cur = 0;
  const rec_event *c = rec_wait(&r, SSEWS_EV_CLOSE, &cur, WAIT_MS);
  assert_non_null(c);
  if (!err) assert_non_null(strstr(c->reason, why));
  /* Failed for good: no reconnect, one request only. */
  assert_int_equal(rec_count(&r, SSEWS_EV_RECONNECTING, 0), 0);
  assert_int_equal(rec_count(&r, SSEWS_EV_OPEN, 0), 0);
  ssews_close(&cl);
  assert_int_equal(raw_wait_requests(rs, 2, 300), -1);
  raw_stop(rs);
  rec_free(&r);
}

static void test_sse_client_204_stops(void **state) {
  (void)state;
  expect_final(SC_204, 0, "204");
}

static void test_sse_client_500_fails(void **state) {
  (void)state;
  expect_final(SC_500, SSEWS_EHTTP, "HTTP 500");
}

static void test_sse_client_wrong_content_type_fails(void **state) {
  (void)state;
  expect_final(SC_HTML, SSEWS_EHTTP, "text/html");
}

static void test_sse_client_retry_and_last_event_id(void **state) {
  (void)state;
  struct sc_state s = {SC_RETRY_RESUME, 0};
  rawserver *rs = raw_start(sse_scenario, &s);
  char url[128];
  snprintf(url, sizeof url, "http://127.0.0.1:%d/stream", raw_port(rs));
  recorder r;
  rec_init(&r);
  const char *const opts[] = {"header", "X-Api-Key: k1", "reconnect_delay_ms", "5000", NULL};
  ssews *cl = open_client(&r, url, opts);
  size_t cur = 0;
  const rec_event *m = rec_wait(&r, SSEWS_EV_MESSAGE, &cur, WAIT_MS);
  assert_non_null(m);
  assert_string_equal((char *)m->data, "first");
  assert_string_equal(m->id, "1");
  m = rec_wait(&r, SSEWS_EV_MESSAGE, &cur, WAIT_MS);
  assert_non_null(m);
  assert_string_equal((char *)m->data, "second");
  assert_string_equal(m->id, "2");
  /* The stream was cut mid-event: that event is dropped; the client waits
   * the server's retry (100 ms, not the configured 5 s) and resumes from id 2. */
  const rec_event *rc = rec_wait(&r, SSEWS_EV_RECONNECTING, &cur, WAIT_MS);
  assert_non_null(rc);
  assert_in_range(rc->delay_ms, 80, 120); /* jittered like any delay */
  m = rec_wait(&r, SSEWS_EV_MESSAGE, &cur, WAIT_MS);
  assert_non_null(m);
  assert_string_equal((char *)m->data, "resumed");
  assert_string_equal(m->id, "2");
  assert_int_equal(raw_wait_requests(rs, 2, WAIT_MS), 0);
  const char *req0 = raw_request(rs, 0), *req1 = raw_request(rs, 1);
  assert_non_null(strcasestr(req0, "accept: text/event-stream"));
  assert_non_null(strcasestr(req0, "x-api-key: k1"));
  assert_null(strcasestr(req0, "last-event-id"));
  assert_non_null(strcasestr(req1, "last-event-id: 2\r\n"));
  assert_non_null(strcasestr(req1, "x-api-key: k1"));
  assert_int_equal(rec_count(&r, SSEWS_EV_MESSAGE, 0), 3);
  ssews_close(&cl);
  raw_stop(rs);
  rec_free(&r);
}

/* A streaming API's POST: the body arrives with its type and length on every
 * connect (reconnect_non_idempotent asks for the repeat); `event: binary` is
 * text from a server that does not say it is ssews, bytes from one that does. */
#define POST_BODY "{\"q\":1}"
static void post_scenario(int fd, const char *request, int n, void *user) {
  char *bodies = user; /* 2 x 16 bytes */
  const char *end = strstr(request, "\r\n\r\n");
  size_t want = strlen(POST_BODY), have = end ? strlen(end + 4) : 0;
  char *body = bodies + 16 * (n < 2 ? n : 1);
  if (have > want) have = want;
  if (end) memcpy(body, end + 4, have);
  while (have < want) { /* the rest of the body, if it came after the head */
    ssize_t r = recv(fd, body + have, want - have, 0);
    if (r <= 0) break;
    have += (size_t)r;
  }
  raw_send(fd, n == 0 ? "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\n\r\n"
                        "retry: 10\nid: 1\nevent: binary\ndata: AAEC\n\n"
                      : "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nX-Ssews: v1\r\n\r\n"
                        "event: binary\ndata: AAEC\n\n");
}

static void test_sse_client_post_stream(void **state) {
  (void)state;
  char bodies[32] = {0};
  rawserver *rs = raw_start(post_scenario, bodies);
  char url[128];
  snprintf(url, sizeof url, "http://127.0.0.1:%d/v1/stream", raw_port(rs));
  recorder r;
  rec_init(&r);
  const char *const opts[] = {
      "method", "POST", "body", POST_BODY, "content_type", "application/json", "reconnect_non_idempotent",
      "true",   NULL};
  ssews *cl = open_client(&r, url, opts);
  size_t cur = 0;
  const rec_event *m = rec_wait(&r, SSEWS_EV_MESSAGE, &cur, WAIT_MS);
  assert_non_null(m);
  assert_int_equal(m->binary, 0); /* a generic server's `event: binary` is text */
  assert_string_equal((char *)m->data, "AAEC");
  m = rec_wait(&r, SSEWS_EV_MESSAGE, &cur, WAIT_MS);
  assert_non_null(m);
  assert_int_equal(m->binary, 1); /* X-Ssews: v1: base64 of bytes */
  assert_int_equal(m->len, 3);
  assert_memory_equal(m->data, "\x00\x01\x02", 3);
  assert_string_equal(m->name, "binary");
  ssews_close(&cl);
  assert_int_equal(raw_wait_requests(rs, 2, WAIT_MS), 0);
  for (int i = 0; i < 2; i++) {
    const char *req = raw_request(rs, i);
    assert_true(strncmp(req, "POST /v1/stream HTTP/1.1\r\n", 26) == 0);
    assert_non_null(strcasestr(req, "content-type: application/json\r\n"));
    assert_non_null(strcasestr(req, "content-length: 7\r\n"));
    assert_non_null(strcasestr(req, "accept: text/event-stream\r\n"));
    assert_string_equal(bodies + 16 * i, POST_BODY);
  }
  assert_non_null(strcasestr(raw_request(rs, 1), "last-event-id: 1\r\n"));
  raw_stop(rs);
  rec_free(&r);
}

static void test_sse_client_follows_redirect(void **state) {
  (void)state;
  struct sc_state s = {SC_REDIRECT, 0};
  rawserver *rs = raw_start(sse_scenario, &s);
  s.redirect_port = raw_port(rs);
  char url[128];
  snprintf(url, sizeof url, "http://127.0.0.1:%d/old", raw_port(rs));
  recorder r;
  rec_init(&r);
  ssews *cl = open_client(&r, url, NULL);
  size_t cur = 0;
  const rec_event *m = rec_wait(&r, SSEWS_EV_MESSAGE, &cur, WAIT_MS);
  assert_non_null(m);
  assert_string_equal((char *)m->data, "after redirect");
  assert_non_null(strstr(raw_request(rs, 1), "GET /moved"));
  ssews_close(&cl);
  raw_stop(rs);
  rec_free(&r);
}

static void test_client_no_reconnect_and_max_attempts(void **state) {
  (void)state;
  int port = peer_free_port();
  char url[128];
  snprintf(url, sizeof url, "ws://127.0.0.1:%d/", port);
  recorder r;
  rec_init(&r);
  const char *const opts[] = {"reconnect_max_attempts", "3", NULL};
  ssews *cl = open_client(&r, url, opts);
  size_t cur = 0;
  const rec_event *c = rec_wait(&r, SSEWS_EV_CLOSE, &cur, 10000);
  assert_non_null(c);
  assert_non_null(strstr(c->reason, "3 failed attempts"));
  assert_int_equal(rec_count(&r, SSEWS_EV_RECONNECTING, 0), 3);
  /* Backoff: the base delay (50 ms here), doubled at each failure, +-20%. */
  size_t rcur = 0;
  for (int k = 0; k < 3; k++) {
    const rec_event *rc = rec_wait(&r, SSEWS_EV_RECONNECTING, &rcur, 10);
    assert_non_null(rc);
    assert_int_equal(rc->code, k + 1);
    long long nominal = 50LL << k;
    assert_in_range(rc->delay_ms, nominal - nominal / 5, nominal + nominal / 5);
  }
  ssews_close(&cl);
  rec_free(&r);

  rec_init(&r);
  const char *const once[] = {"reconnect", "false", NULL};
  cl = open_client(&r, url, once);
  cur = 0;
  assert_non_null(rec_wait(&r, SSEWS_EV_CLOSE, &cur, WAIT_MS));
  assert_int_equal(rec_count(&r, SSEWS_EV_RECONNECTING, 0), 0);
  ssews_close(&cl);
  rec_free(&r);
}

static void test_client_bad_urls_and_options(void **state) {
  (void)state;
  const char *bad[] = {"ftp://x/", "ws://", "http://host:99999/", "no-scheme", "ws://[::1/", "http://a b/"};
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    const char *opts[] = {"url", bad[i], NULL};
    ssews *ep = NULL;
    assert_int_equal(ssews_open(&ep, opts, NULL, NULL), SSEWS_EURL);
    assert_non_null(strstr(ssews_last_error(), "url"));
  }
  const char *hdr[] = {"url", "ws://127.0.0.1:1/", "header", "X-Bad: a\r\nInjected: 1", NULL};
  ssews *ep = NULL;
  assert_int_equal(ssews_open(&ep, hdr, NULL, NULL), SSEWS_EOPTION);
  assert_non_null(strstr(ssews_last_error(), "header"));
  const char *srv_only[] = {"url", "ws://127.0.0.1:1/", "history", "5", NULL};
  assert_int_equal(ssews_open(&ep, srv_only, NULL, NULL), SSEWS_EOPTION);
  assert_non_null(strstr(ssews_last_error(), "servers only"));
  const char *cl_only[] = {"insecure", "true", NULL};
  assert_int_equal(ssews_open(&ep, cl_only, NULL, NULL), SSEWS_EOPTION);
  assert_non_null(strstr(ssews_last_error(), "clients only"));
}

/* TLS: a certificate made for the test, for CN=localhost. */
static char g_dir[64];

static int make_cert(void **state) {
  (void)state;
  strcpy(g_dir, "/tmp/ssews-ctls-XXXXXX");
  if (!mkdtemp(g_dir)) return -1;
  char cmd[600];
  snprintf(cmd, sizeof cmd,
           "openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=localhost "
           "-addext subjectAltName=DNS:localhost,IP:127.0.0.1 "
           "-keyout %s/key.pem -out %s/cert.pem >/dev/null 2>&1",
           g_dir, g_dir);
  return system(cmd) == 0 ? 0 : -1;
}

static int remove_cert(void **state) {
  (void)state;
  char cmd[128];
  snprintf(cmd, sizeof cmd, "rm -rf %s", g_dir);
  return system(cmd) == 0 ? 0 : -1;
}

static void test_tls_verification(void **state) {
  (void)state;
  char cert[128], key[128];
  snprintf(cert, sizeof cert, "%s/cert.pem", g_dir);
  snprintf(key, sizeof key, "%s/key.pem", g_dir);
  const char *const sopts[] = {"tls_cert", cert, "tls_key", key, NULL};
  recorder srv;
  rec_init(&srv);
  srv.echo = 1;
  int port;
  ssews *server = start_server(&srv, sopts, &port);
  char url[128];

  for (int sse = 0; sse < 2; sse++) {
    snprintf(url, sizeof url, sse ? "https://localhost:%d/?channel=t" : "wss://localhost:%d/t", port);
    /* Default: verification on, and the test's CA is unknown: a clear TLS error, no retry loop. */
    recorder r;
    rec_init(&r);
    ssews *cl = open_client(&r, url, NULL);
    size_t cur = 0;
    const rec_event *e = rec_wait(&r, SSEWS_EV_ERROR, &cur, WAIT_MS);
    assert_non_null(e);
    assert_int_equal(e->code, SSEWS_ETLS);
    cur = 0;
    assert_non_null(rec_wait(&r, SSEWS_EV_CLOSE, &cur, WAIT_MS));
    assert_int_equal(rec_count(&r, SSEWS_EV_OPEN, 0), 0);
    ssews_close(&cl);
    rec_free(&r);

    /* With the CA given, or verification off on request, it connects. */
    for (int insecure = 0; insecure < 2; insecure++) {
      rec_init(&r);
      const char *const ca[] = {"ca_file", cert, NULL};
      const char *const ins[] = {"insecure", "true", NULL};
      cl = open_client(&r, url, insecure ? ins : ca);
      cur = 0;
      assert_non_null(rec_wait(&r, SSEWS_EV_OPEN, &cur, WAIT_MS));
      if (sse) {
        assert_int_equal(ssews_publish(server, "t", "secure news", 11, SSEWS_TEXT, NULL, NULL), SSEWS_OK);
      } else {
        assert_int_equal(ssews_send(cl, 0, "secure echo", 11, SSEWS_TEXT, NULL, NULL), SSEWS_OK);
      }
      const rec_event *m = rec_wait(&r, SSEWS_EV_MESSAGE, &cur, WAIT_MS);
      assert_non_null(m);
      assert_string_equal((char *)m->data, sse ? "secure news" : "secure echo");
      ssews_close(&cl);
      rec_free(&r);
    }
  }
  ssews_close(&server);
  rec_free(&srv);
}

/* Takes the TCP connection, then answers the ClientHello with plain HTTP
 * and hangs up: a TLS endpoint restarting behind a proxy looks like this. lws
 * reports it as "connect SSL err ...", yet no certificate was judged. */
static void plain_http_on_tls_port(int fd, const char *req, int n, void *user) {
  (void)req;
  (void)n;
  (void)user;
  raw_send(fd, "HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
}

/* Resets the connection before any TLS is spoken. */
static void reset_at_once(int fd, const char *req, int n, void *user) {
  (void)req;
  (void)n;
  (void)user;
  raw_reset(fd);
}

static void expect_retries_over_tls(raw_handler h, const char *says) {
  rawserver *rs = raw_start_ex(h, NULL, 0, 0);
  char url[128];
  snprintf(url, sizeof url, "wss://127.0.0.1:%d/", raw_port(rs));
  recorder r;
  rec_init(&r);
  const char *const opts[] = {"reconnect_max_attempts", "3", NULL};
  ssews *cl = open_client(&r, url, opts);
  size_t cur = 0;
  const rec_event *e = rec_wait(&r, SSEWS_EV_ERROR, &cur, WAIT_MS);
  assert_non_null(e);
  if (!strstr(e->reason, says)) fprintf(stderr, "reason '%s' lacks '%s'\n", e->reason, says);
  assert_non_null(strstr(e->reason, says));
  /* Not a certificate verdict: a connect failure, retried like any other. */
  assert_int_equal(e->code, SSEWS_ECONNECT);
  cur = 0;
  const rec_event *c = rec_wait(&r, SSEWS_EV_CLOSE, &cur, 10000);
  assert_non_null(c);
  assert_non_null(strstr(c->reason, "3 failed attempts"));
  assert_int_equal(rec_count(&r, SSEWS_EV_RECONNECTING, 0), 3);
  ssews_close(&cl);
  rec_free(&r);
  raw_stop(rs);
}

static void test_tls_connect_failure_keeps_reconnecting(void **state) {
  (void)state;
  expect_retries_over_tls(plain_http_on_tls_port, "SSL");
  expect_retries_over_tls(reset_at_once, "cannot connect");
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_ws_client_roundtrip),
      cmocka_unit_test(test_ws_client_closes_with_code_and_reason),
      cmocka_unit_test(test_ws_client_v1_and_resume_across_restart),
      cmocka_unit_test(test_ws_client_queues_while_disconnected),
      cmocka_unit_test(test_ws_client_ping_timeout),
      cmocka_unit_test(test_ws_client_plain_server_selecting_v1),
      cmocka_unit_test(test_ws_client_default_node_ws_server),
      cmocka_unit_test(test_ws_client_resends_intact_after_failed_write),
      cmocka_unit_test(test_ws_client_first_retry_is_jittered),
      cmocka_unit_test(test_sse_client_against_server),
      cmocka_unit_test(test_sse_client_204_stops),
      cmocka_unit_test(test_sse_client_500_fails),
      cmocka_unit_test(test_sse_client_wrong_content_type_fails),
      cmocka_unit_test(test_sse_client_retry_and_last_event_id),
      cmocka_unit_test(test_sse_client_follows_redirect),
      cmocka_unit_test(test_sse_client_post_stream),
      cmocka_unit_test(test_client_no_reconnect_and_max_attempts),
      cmocka_unit_test(test_client_bad_urls_and_options),
      cmocka_unit_test(test_tls_verification),
      cmocka_unit_test(test_tls_connect_failure_keeps_reconnecting),
  };
  /* SSEWS_TEST_FILTER=test_tls* runs a subset (a failed test can leave a
   * server thread behind that upsets the ones after it). */
  if (getenv("SSEWS_TEST_FILTER")) cmocka_set_test_filter(getenv("SSEWS_TEST_FILTER"));
  return cmocka_run_group_tests_name("client", tests, make_cert, remove_cert);
}

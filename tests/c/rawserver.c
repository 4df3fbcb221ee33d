#define _GNU_SOURCE
#include "rawserver.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <openssl/evp.h>
#include <openssl/sha.h>
#include <poll.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAX_REQ 64

struct rawserver {
  int lfd;
  int port;
  pthread_t thread;
  raw_handler handler;
  void *user;
  pthread_mutex_t mu;
  pthread_cond_t cv;
  char *requests[MAX_REQ];
  int count;
  int stop;
  int read_request; /* 0: call the handler at once (e.g. for a TLS ClientHello) */
};

static char *read_head(int fd) {
  size_t cap = 8192, n = 0;
  char *buf = malloc(cap + 1);
  while (n < cap) {
    struct pollfd p = {.fd = fd, .events = POLLIN};
    if (poll(&p, 1, 5000) <= 0) break;
    ssize_t r = recv(fd, buf + n, cap - n, 0);
    if (r <= 0) break;
    n += (size_t)r;
    buf[n] = 0;
    if (strstr(buf, "\r\n\r\n")) break;
  }
  buf[n] = 0;
  return buf;
}

static void *serve(void *arg) {
  rawserver *rs = arg;
  for (;;) {
    struct pollfd p = {.fd = rs->lfd, .events = POLLIN};
    int r = poll(&p, 1, 50);
    pthread_mutex_lock(&rs->mu);
    int stop = rs->stop;
    pthread_mutex_unlock(&rs->mu);
    if (stop) break;
    if (r <= 0) continue;
    int fd = accept(rs->lfd, NULL, NULL);
    if (fd < 0) continue;
    char *req = rs->read_request ? read_head(fd) : calloc(1, 1);
    pthread_mutex_lock(&rs->mu);
    int n = rs->count;
    if (n < MAX_REQ) rs->requests[rs->count++] = req;
    pthread_cond_broadcast(&rs->cv);
    pthread_mutex_unlock(&rs->mu);
    rs->handler(fd, req, n, rs->user);
    close(fd);
    if (n >= MAX_REQ) free(req);
  }
  return NULL;
}

rawserver *raw_start(raw_handler handler, void *user) { return raw_start_ex(handler, user, 0, 1); }

rawserver *raw_start_ex(raw_handler handler, void *user, int port, int read_request) {
  rawserver *rs = calloc(1, sizeof *rs);
  rs->read_request = read_request;
  rs->handler = handler;
  rs->user = user;
  pthread_mutex_init(&rs->mu, NULL);
  pthread_cond_init(&rs->cv, NULL);
  rs->lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  int one = 1;
  setsockopt(rs->lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (bind(rs->lfd, (struct sockaddr *)&a, sizeof a) || listen(rs->lfd, 16)) {
    close(rs->lfd);
    free(rs);
    return NULL;
  }
  socklen_t len = sizeof a;
  getsockname(rs->lfd, (struct sockaddr *)&a, &len);
  rs->port = ntohs(a.sin_port);
  pthread_create(&rs->thread, NULL, serve, rs);
  return rs;
}

int raw_port(const rawserver *rs) { return rs->port; }

int raw_wait_requests(rawserver *rs, int n, int timeout_ms) {
  struct timespec dl;
  clock_gettime(CLOCK_REALTIME, &dl);
  dl.tv_sec += timeout_ms / 1000;
  dl.tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
  if (dl.tv_nsec >= 1000000000L) {
    dl.tv_sec++;
    dl.tv_nsec -= 1000000000L;
  }
  int rc = 0;
  pthread_mutex_lock(&rs->mu);
  while (rs->count < n && rc == 0) rc = pthread_cond_timedwait(&rs->cv, &rs->mu, &dl);
  int ok = rs->count >= n;
  pthread_mutex_unlock(&rs->mu);
  return ok ? 0 : -1;
}

const char *raw_request(rawserver *rs, int i) {
  pthread_mutex_lock(&rs->mu);
  const char *r = i < rs->count ? rs->requests[i] : NULL;
  pthread_mutex_unlock(&rs->mu);
  return r;
}

void raw_stop(rawserver *rs) {
  pthread_mutex_lock(&rs->mu);
  rs->stop = 1;
  pthread_mutex_unlock(&rs->mu);
  pthread_join(rs->thread, NULL);
  close(rs->lfd);
  for (int i = 0; i < rs->count; i++) free(rs->requests[i]);
  pthread_mutex_destroy(&rs->mu);
  pthread_cond_destroy(&rs->cv);
  free(rs);
}

void raw_send(int fd, const char *s) {
  size_t n = strlen(s), off = 0;
  while (off < n) {
    ssize_t w = send(fd, s + off, n - off, MSG_NOSIGNAL);
    if (w <= 0) return;
    off += (size_t)w;
  }
}

void raw_ws_accept(int fd, const char *request) { raw_ws_accept_proto(fd, request, NULL); }

void raw_ws_accept_proto(int fd, const char *request, const char *protocol) {
  const char *k = strcasestr(request, "sec-websocket-key:");
  char key[64] = "";
  if (k) {
    k += strlen("sec-websocket-key:");
    while (*k == ' ') k++;
    size_t i = 0;
    while (k[i] && k[i] != '\r' && i + 1 < sizeof key) {
      key[i] = k[i];
      i++;
    }
    key[i] = 0;
  }
  char src[128];
  snprintf(src, sizeof src, "%s258EAFA5-E914-47DA-95CA-C5AB0DC85B11", key);
  unsigned char sha[SHA_DIGEST_LENGTH];
  SHA1((const unsigned char *)src, strlen(src), sha);
  char b64[64];
  EVP_EncodeBlock((unsigned char *)b64, sha, SHA_DIGEST_LENGTH);
  char proto[160] = "";
  if (protocol && *protocol) snprintf(proto, sizeof proto, "Sec-WebSocket-Protocol: %s\r\n", protocol);
  char resp[512];
  snprintf(resp, sizeof resp,
           "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
           "Sec-WebSocket-Accept: %s\r\n%s\r\n",
           b64, proto);
  raw_send(fd, resp);
}

const char *raw_first_offered_protocol(const char *request, char *buf, size_t len) {
  const char *h = strcasestr(request, "sec-websocket-protocol:");
  if (!h || len == 0) return NULL;
  h += strlen("sec-websocket-protocol:");
  while (*h == ' ') h++;
  size_t i = 0;
  while (h[i] && h[i] != ',' && h[i] != ' ' && h[i] != '\r' && i + 1 < len) {
    buf[i] = h[i];
    i++;
  }
  buf[i] = 0;
  return i ? buf : NULL;
}

void raw_ws_send(int fd, int opcode, const void *data, size_t len) {
  unsigned char head[10];
  size_t n = 0;
  head[n++] = (unsigned char)(0x80 | opcode);
  if (len < 126) {
    head[n++] = (unsigned char)len;
  } else if (len < 65536) {
    head[n++] = 126;
    head[n++] = (unsigned char)(len >> 8);
    head[n++] = (unsigned char)len;
  } else {
    head[n++] = 127;
    for (int i = 7; i >= 0; i--) head[n++] = (unsigned char)((uint64_t)len >> (8 * i));
  }
  send(fd, head, n, MSG_NOSIGNAL);
  size_t off = 0;
  while (off < len) {
    ssize_t w = send(fd, (const char *)data + off, len - off, MSG_NOSIGNAL);
    if (w <= 0) return;
    off += (size_t)w;
  }
}

/* Reads exactly n bytes or fails. */
static int read_exact(int fd, void *buf, size_t n, int timeout_ms) {
  size_t got = 0;
  while (got < n) {
    struct pollfd p = {.fd = fd, .events = POLLIN};
    if (poll(&p, 1, timeout_ms) <= 0) return -1;
    ssize_t r = recv(fd, (char *)buf + got, n - got, 0);
    if (r <= 0) return -1;
    got += (size_t)r;
  }
  return 0;
}

int raw_ws_read(int fd, int *opcode, unsigned char **out, size_t *len, int timeout_ms) {
  unsigned char h[2], ext[8], mask[4] = {0, 0, 0, 0};
  *out = NULL;
  if (read_exact(fd, h, 2, timeout_ms)) return -1;
  uint64_t n = h[1] & 0x7f;
  if (n == 126 || n == 127) {
    size_t k = n == 126 ? 2 : 8;
    if (read_exact(fd, ext, k, timeout_ms)) return -1;
    n = 0;
    for (size_t i = 0; i < k; i++) n = (n << 8) | ext[i];
  }
  if ((h[1] & 0x80) && read_exact(fd, mask, 4, timeout_ms)) return -1;
  if (n > 64 * 1024 * 1024) return -1;
  *out = malloc((size_t)n + 1);
  if (read_exact(fd, *out, (size_t)n, timeout_ms)) {
    free(*out);
    *out = NULL;
    return -1;
  }
  for (uint64_t i = 0; i < n; i++) (*out)[i] ^= mask[i % 4];
  (*out)[n] = 0;
  *opcode = h[0] & 0x0f;
  *len = (size_t)n;
  return 0;
}

void raw_reset(int fd) {
  struct linger l = {.l_onoff = 1, .l_linger = 0};
  setsockopt(fd, SOL_SOCKET, SO_LINGER, &l, sizeof l);
}

void raw_drain(int fd, int timeout_ms) {
  char buf[4096];
  struct timespec start, now;
  clock_gettime(CLOCK_MONOTONIC, &start);
  for (;;) {
    clock_gettime(CLOCK_MONOTONIC, &now);
    long spent = (now.tv_sec - start.tv_sec) * 1000 + (now.tv_nsec - start.tv_nsec) / 1000000;
    if (spent >= timeout_ms) return;
    struct pollfd p = {.fd = fd, .events = POLLIN};
    if (poll(&p, 1, (int)(timeout_ms - spent)) <= 0) return;
    if (recv(fd, buf, sizeof buf, 0) <= 0) return;
  }
}

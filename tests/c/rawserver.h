/* A tiny HTTP server for client tests: it accepts connections on a free
 * loopback port, one at a time, reads each request head and lets the test
 * answer with exact bytes (status lines, partial events, abrupt closes). */
#ifndef SSEWS_TEST_RAWSERVER_H
#define SSEWS_TEST_RAWSERVER_H

#include <stddef.h>

typedef struct rawserver rawserver;

/* Called on the server's thread for the n-th connection (0-based) with its
 * request head; write the answer to fd. The connection is closed after it
 * returns. */
typedef void (*raw_handler)(int fd, const char *request, int n, void *user);

rawserver *raw_start(raw_handler handler, void *user);
int raw_port(const rawserver *rs);
/* Waits until n requests have arrived; returns 0, or -1 on timeout. */
int raw_wait_requests(rawserver *rs, int n, int timeout_ms);
/* The i-th request head (valid until raw_stop). */
const char *raw_request(rawserver *rs, int i);
void raw_stop(rawserver *rs);

/* Writes all of s. */
void raw_send(int fd, const char *s);
/* Answers a WebSocket upgrade in request with 101 (computes the accept key). */
void raw_ws_accept(int fd, const char *request);
/* Reads and discards until the peer closes or timeout_ms passes. */
void raw_drain(int fd, int timeout_ms);

#endif

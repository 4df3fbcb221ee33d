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
/* The same on a given port (0: any free one); read_request 0 calls the
 * handler at once with an empty request, for peers that send no HTTP head. */
rawserver *raw_start_ex(raw_handler handler, void *user, int port, int read_request);
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
/* The same, selecting a subprotocol in the 101 (NULL: none). */
void raw_ws_accept_proto(int fd, const char *request, const char *protocol);
/* The first subprotocol the request offers, copied into buf; NULL if none. */
const char *raw_first_offered_protocol(const char *request, char *buf, size_t len);
/* Sends one final, unmasked (server) frame. */
void raw_ws_send(int fd, int opcode, const void *data, size_t len);
/* Reads one frame and unmasks it: 0 with a malloc'd, NUL-terminated *out, or
 * -1 on timeout or end of stream. */
int raw_ws_read(int fd, int *opcode, unsigned char **out, size_t *len, int timeout_ms);
/* Makes the coming close() reset the connection (RST) instead of a FIN. */
void raw_reset(int fd);
/* Reads and discards until the peer closes or timeout_ms passes. */
void raw_drain(int fd, int timeout_ms);

#endif

/*
 * peer.h — a strict "test peer" for the integration tests: a raw HTTP/SSE
 * client and a raw WebSocket (RFC 6455) client that talk to a server over
 * real loopback sockets with exact bytes, so tests can check framing, close
 * codes and reactions to protocol violations.
 *
 * Conventions:
 *  - Every call that can wait takes a timeout in milliseconds and never
 *    blocks longer (timeout_ms < 0 is treated as 0: poll once). Calls that
 *    only write use PEER_WRITE_TIMEOUT_MS.
 *  - Functions returning int return < 0 on error or timeout; peer_error()
 *    then describes the problem (per thread, valid until the next call).
 *  - A connection reset by the server (RST) counts as end of stream, like a
 *    FIN: tests that check "the server dropped the connection" should not
 *    care which of the two the kernel reports.
 *  - Buffers handed out are malloc'd; the caller frees them (free(), or the
 *    matching peer_*_free()).
 *  - A peer is used by one thread at a time.
 */
#ifndef SSEWS_TEST_PEER_H
#define SSEWS_TEST_PEER_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Upper bound for peer_write() and the other sending calls. */
#define PEER_WRITE_TIMEOUT_MS 10000

/* Frames larger than this are refused by peer_ws_read_frame (guards malloc). */
#define PEER_MAX_FRAME_LEN ((size_t)256 * 1024 * 1024)

/* WebSocket opcodes (RFC 6455 §5.2). */
enum {
    PEER_WS_CONT = 0x0,
    PEER_WS_TEXT = 0x1,
    PEER_WS_BINARY = 0x2,
    PEER_WS_CLOSE = 0x8,
    PEER_WS_PING = 0x9,
    PEER_WS_PONG = 0xA
};

typedef struct peer peer; /* opaque: socket (+ TLS state), read buffer */

/* Message for the last failed call on this thread ("" if none yet). */
const char *peer_error(void);

/* ---------------------------------------------------------------------- */
/* Connection and raw bytes                                                */
/* ---------------------------------------------------------------------- */

/* Connect to host:port ("127.0.0.1", "::1" or a name). tls=1 does a TLS
 * handshake without certificate verification (self-signed test certs).
 * The timeout covers TCP connect and TLS handshake. NULL on failure. */
peer *peer_connect(const char *host, int port, int tls, int timeout_ms);

/* TLS like peer_connect(tls=1), offering the ALPN protocols in `alpn`, a
 * comma-separated list in order of preference ("http/1.1", "h2,http/1.1");
 * NULL or "" sends no ALPN extension at all (as peer_connect does). */
peer *peer_connect_alpn(const char *host, int port, const char *alpn, int timeout_ms);

/* The ALPN protocol the server selected in the handshake, copied into buf
 * (truncated to buflen-1): "" when it selected none, or without TLS. */
const char *peer_alpn_selected(const peer *p, char *buf, size_t buflen);

/* The bytes of the first flight a TLS client sends to host (the TLS records
 * holding its ClientHello), offering `alpn` as peer_connect_alpn does, into
 * a malloc'd *out; for tests that send a part of it raw (peer_connect with
 * tls=0 and peer_write). Returns 0 or < 0. */
int peer_client_hello(const char *host, const char *alpn, unsigned char **out, size_t *len);

/* The same without TLS, from the local address src (e.g. "127.0.0.2": Linux
 * routes all of 127/8 to loopback), so a test can be several clients. */
peer *peer_connect_from(const char *src, const char *host, int port, int timeout_ms);

/* Close the socket (abruptly: no TLS close_notify) and free everything.
 * NULL is accepted. */
void peer_free(peer *p);

/* Write all len bytes as they are (through TLS when connected with tls). */
int peer_write(peer *p, const void *buf, size_t len);

/* Half-close: no more writes (TLS: close_notify first). Reading still works. */
int peer_shutdown_write(peer *p);

/* Read up to len bytes, waiting up to the timeout for at least one.
 * Returns the count, 0 on end of stream, < 0 on error/timeout. */
int peer_read(peer *p, void *buf, size_t len, int timeout_ms);

/* Read until `needle` has been seen in the stream. *out is set to a new
 * malloc'd, NUL-terminated buffer holding the bytes up to and including the
 * needle (bytes after it stay buffered for the next read). Returns the
 * length of *out. On failure *out is NULL and the bytes stay buffered. */
int peer_read_until(peer *p, const char *needle, char **out, int timeout_ms);

/* Wait for end of stream, discarding any data. 0 when the server closed
 * within the timeout, -1 otherwise. */
int peer_wait_eof(peer *p, int timeout_ms);

/* ---------------------------------------------------------------------- */
/* HTTP                                                                    */
/* ---------------------------------------------------------------------- */

typedef struct {
    int status;  /* e.g. 200 */
    char *head;  /* whole head incl. status line and final CRLFCRLF, malloc'd */
} peer_http;

/* Send "GET path HTTP/1.1" with a Host header and the extra header lines
 * (each "Name: value", NULL-terminated array, may be NULL; a Host line given
 * there replaces the default one), then read the response head into *resp.
 * Returns the status code (> 0) or < 0 on error (resp->head is then NULL). */
int peer_http_get(peer *p, const char *path, const char *const *headers,
                  peer_http *resp, int timeout_ms);

/* Value of the first header `name` (case-insensitive), trimmed and copied
 * into buf (truncated to buflen-1). Returns buf, or NULL if absent. */
const char *peer_http_header(const peer_http *r, const char *name, char *buf,
                             size_t buflen);

/* Free r->head; safe on a zeroed or already freed struct. */
void peer_http_free(peer_http *r);

/* Read the whole body of the response whose head is r: Content-Length bytes,
 * or a decoded chunked body, or everything until end of stream. *body is
 * malloc'd and NUL-terminated. Returns 0 or < 0. */
int peer_http_body(peer *p, const peer_http *r, char **body, size_t *len,
                   int timeout_ms);

/* ---------------------------------------------------------------------- */
/* WebSocket                                                               */
/* ---------------------------------------------------------------------- */

/* Opening handshake with a random 16-byte key; checks the 101 answer, its
 * Upgrade/Connection headers and Sec-WebSocket-Accept. Extra headers may
 * replace the defaults (Host, Upgrade, Connection, Sec-WebSocket-Key,
 * Sec-WebSocket-Version) by naming them, e.g. to send a bad version.
 * Returns 0 on a valid 101, the status (> 0) when the server answered
 * otherwise, < 0 on error or an invalid 101. resp may be NULL; otherwise it
 * is filled whenever a head was read and the caller frees it. */
int peer_ws_handshake(peer *p, const char *path, const char *const *headers,
                      peer_http *resp, int timeout_ms);

/* Send one frame exactly as described. mask=1 for a normal client frame
 * (random key), 0 for an (invalid) unmasked one; rsv holds the 3 RSV bits.
 * Uses the minimal 7/16/64-bit length encoding. */
int peer_ws_send_frame(peer *p, int fin, int rsv, int opcode,
                       const void *payload, size_t len, int mask);

/* One masked, final frame: text/binary message, ping, ... */
int peer_ws_send(peer *p, int opcode, const void *payload, size_t len);

/* Close frame with the 2-byte code and reason (reason may be NULL);
 * code < 0 sends an empty payload. */
int peer_ws_send_close(peer *p, int code, const char *reason);

typedef struct {
    int fin, rsv, opcode, masked;
    unsigned char *payload; /* unmasked, NUL-terminated, malloc'd */
    size_t len;
} peer_frame;

/* Read one frame as sent (no ping answering, no reassembly). Returns 0, or
 * -1 on end of stream/timeout/error (f->payload is then NULL). */
int peer_ws_read_frame(peer *p, peer_frame *f, int timeout_ms);
void peer_frame_free(peer_frame *f);

/* Read one whole message: reassembles continuation frames, answers pings
 * with pongs, skips pongs. Returns the opcode (1 text, 2 binary, 8 close)
 * with a malloc'd, NUL-terminated payload in *out and *len (close: 2-byte code
 * + reason), or < 0 on error/timeout/end of stream/fragmentation error. */
int peer_ws_read_message(peer *p, unsigned char **out, size_t *len,
                         int timeout_ms);

/* Close code of a close payload, -1 if it has none (len < 2). */
int peer_close_code(const unsigned char *payload, size_t len);

/* ---------------------------------------------------------------------- */
/* Misc                                                                    */
/* ---------------------------------------------------------------------- */

/* A free loopback TCP port (bind port 0, read it, close), -1 on error. */
int peer_free_port(void);

#ifdef __cplusplus
}
#endif

#endif /* SSEWS_TEST_PEER_H */

/* Test harness: starts ssews servers on free loopback ports and records their
 * events so tests can wait for them (no sleeps as synchronisation). */
#ifndef SSEWS_TEST_HARNESS_H
#define SSEWS_TEST_HARNESS_H

#include <pthread.h>
#include <stddef.h>

#include "peer.h"
#include "ssews.h"

#define WAIT_MS 5000 /* generous: a loaded CI machine must not flake */

typedef struct rec_event {
  int kind;
  ssews_conn conn;
  int protocol;
  unsigned char *data; /* NUL-terminated copy */
  size_t len;
  int binary;
  int code;
  char *reason;
  char *path;
  char *query;
  char *name;         /* event name or NULL */
  char *id;           /* id or NULL */
  char *header_probe; /* value of recorder.probe_header at open, or NULL */
  size_t header_count;
  size_t channel_count;
  long long delay_ms; /* reconnecting */
  char *identity;     /* open: ssews_event_identity, or NULL */
  char *claim_probe;  /* open: ssews_event_claim(recorder.probe_claim), or NULL */
  char *claims;       /* open: ssews_event_claim(NULL), or NULL */
  int publish_rc;     /* message: what ssews_publish_as(recorder.publish_as) returned */
} rec_event;

typedef struct recorder {
  pthread_mutex_t mu;
  pthread_cond_t cv;
  rec_event *evs;
  size_t n, cap;
  /* What the callback does on open (set before connections arrive). */
  int reject_status;           /* non-zero: ssews_reject with it */
  const char *subscribe_to;    /* non-NULL: ssews_subscribe to it instead of defaults */
  const char *probe_header;    /* header to record at open */
  int echo;                    /* send each message back to its sender */
  int close_from_callback;     /* ssews_close(&ep) when the first message arrives */
  ssews *ep;                   /* the endpoint (for close_from_callback) */
  const char *probe_claim;     /* claim to record at open */
  const char *reject_identity; /* ssews_reject (403) connections with this identity */
  const char *publish_as;      /* ssews_publish_as each message into this channel */
} recorder;

void rec_init(recorder *r);
void rec_free(recorder *r);
/* The ssews_event_cb that records into a recorder (user = recorder *). */
void rec_cb(ssews *ep, const ssews_event *ev, void *user);
/* Waits for the next event of `kind` (0: any) at index >= *cursor; advances
 * *cursor past it. Returns NULL on timeout. The pointer stays valid until rec_free. */
const rec_event *rec_wait(recorder *r, int kind, size_t *cursor, int timeout_ms);
/* Waits for the next event of kind about conn. */
const rec_event *rec_wait_conn(recorder *r, int kind, ssews_conn conn, size_t *cursor, int timeout_ms);
/* Number of events of kind (about conn, if conn != 0) recorded so far. */
size_t rec_count(recorder *r, int kind, ssews_conn conn);

/* Frees p, the peer of the first connection r saw open, and waits until the
 * server has reported that connection closed (so it counts no more). */
void free_first_and_wait_close(recorder *r, peer *p);
/* Opens a server on 127.0.0.1, port 0, with extra key/value options (NULL-ended,
 * may be NULL), in callback mode into r (r may be NULL for pull mode).
 * Fails the test on error. Returns the port in *port. */
ssews *start_server(recorder *r, const char *const *extra, int *port);

/* One figure by name from ssews_stats; fails the test when it is not there. */
double stat_of(ssews *ep, const char *name);

/* Connects to 127.0.0.1:port (TLS when tls) and completes a WebSocket
 * handshake on path with the extra header lines (may be NULL); fails the
 * test otherwise. */
peer *ws_connect(int port, const char *path, const char *const *headers, int tls);

/* The same over TLS offering the ALPN list alpn (peer_connect_alpn: NULL for
 * no ALPN extension). */
peer *ws_connect_alpn(int port, const char *path, const char *const *headers, const char *alpn);

/* Reads SSE bytes from p until `needle` appears; returns a malloc'd buffer. */
char *sse_read_until(peer *p, const char *needle);

/* "Accept: text/event-stream", NULL: the request headers of an SSE stream. */
extern const char *const sse_accept[];
/* Opens an SSE stream on path (headers: NULL for sse_accept), checks the
 * response head and reads the opening comment; fails the test otherwise. */
peer *sse_open(int port, const char *path, const char *const *headers);
/* The value of the last "id: " line in an SSE chunk, into out. */
void sse_last_id(const char *chunk, char *out, size_t n);
/* POSTs body to path with the Authorization and Content-Type given (each
 * may be NULL); copies the answer's body up to its "}" into out (may be
 * NULL). Returns the HTTP status. */
int http_post(int port, const char *path, const char *auth, const char *ctype, const char *body, char *out,
              size_t outlen);

/* A throw-away self-signed certificate (P-256, CN localhost, made with the
 * openssl tool) in a new directory under /tmp: dir gets the directory's path,
 * cert and key the files'. Returns 0, or -1. tls_cert_remove deletes it. */
int tls_cert_make(char dir[64], char cert[128], char key[128]);
int tls_cert_remove(const char *dir);

#endif

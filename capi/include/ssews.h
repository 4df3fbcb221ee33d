/*
 * ssews.h — the whole public API of ssews: Server-Sent Events and WebSocket,
 * server and client, behind one small C ABI.
 *
 * Conventions (read once, they hold for every function below):
 *  - Every function returning `int` returns SSEWS_OK (0) or a negative
 *    SSEWS_E* code. On error, ssews_last_error() gives a message for the
 *    calling thread that names the problem (the bad option key, value, ...).
 *  - Every function is safe to call from any thread unless its comment says
 *    otherwise. None waits for the network: work is queued to the endpoint's
 *    service thread, and the function returns at once.
 *  - Strings passed in are copied before the function returns; the caller
 *    keeps ownership. Strings and buffers handed out are owned by ssews and
 *    stay valid for the time stated in the function's comment.
 *  - Error codes are append-only and never renumbered. The ABI major version
 *    is the SONAME (libssews.so.0); only an ABI break changes it.
 */
#ifndef SSEWS_H
#define SSEWS_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(SSEWS_BUILDING) && defined(__GNUC__)
#define SSEWS_API __attribute__((visibility("default")))
#else
#define SSEWS_API
#endif

/* ===================================================================== */
/* Versions                                                               */
/* ===================================================================== */

#define SSEWS_VERSION_MAJOR 0
#define SSEWS_VERSION_MINOR 1
#define SSEWS_VERSION_PATCH 0
#define SSEWS_VERSION_NUMBER \
  (SSEWS_VERSION_MAJOR * 10000 + SSEWS_VERSION_MINOR * 100 + SSEWS_VERSION_PATCH)
/** ABI major version; equals the number in the library's SONAME. */
#define SSEWS_ABI_VERSION 0

/**
 * ssews_version - the library's version as "MAJOR.MINOR.PATCH".
 * Returns a static string (never free it). Any thread.
 */
SSEWS_API const char *ssews_version(void);

/**
 * ssews_version_number - the library's version as MAJOR*10000+MINOR*100+PATCH,
 * to compare against SSEWS_VERSION_NUMBER at run time. Any thread.
 */
SSEWS_API unsigned ssews_version_number(void);

/* ===================================================================== */
/* Errors                                                                 */
/* ===================================================================== */

#define SSEWS_OK 0
#define SSEWS_EINVAL (-1)    /* a NULL or out-of-range argument */
#define SSEWS_EOPTION (-2)   /* an unknown option key or a bad option value */
#define SSEWS_ENOMEM (-3)    /* out of memory */
#define SSEWS_ECLOSED (-4)   /* the endpoint is closing or closed */
#define SSEWS_ENOCONN (-5)   /* no such (open) connection */
#define SSEWS_EAGAIN (-6)    /* nothing to take now (no event pending) */
#define SSEWS_EFULL (-7)     /* a bounded queue is full; try again later */
#define SSEWS_ETOOBIG (-8)   /* a message is larger than max_message_size */
#define SSEWS_ENOTSUP (-9)   /* not supported for this protocol or role */
#define SSEWS_EPROTO (-10)   /* the peer broke the protocol */
#define SSEWS_ETLS (-11)     /* TLS set-up or handshake failed */
#define SSEWS_ELISTEN (-12)  /* could not bind or listen */
#define SSEWS_ECONNECT (-13) /* could not connect */
#define SSEWS_ESTATE (-14)   /* not valid in the current state */
#define SSEWS_EHTTP (-15)    /* an unexpected HTTP status or content type */
#define SSEWS_ETIMEOUT (-16) /* a timeout expired */
#define SSEWS_EINTERNAL (-17) /* an internal failure (a bug: please report) */
#define SSEWS_ESLOW (-18)    /* a slow consumer lost messages or was closed */
#define SSEWS_EURL (-19)     /* a malformed or unsupported URL */
#define SSEWS_EGAP (-20)     /* resumed, but messages may have been missed (history ran out) */

/**
 * ssews_strerror - a short static description of an error code
 * ("invalid argument", ...). Unknown codes give "unknown error".
 * Never returns NULL. Any thread.
 */
SSEWS_API const char *ssews_strerror(int code);

/**
 * ssews_last_error - the message of the last failed ssews call made by the
 * calling thread, naming what was wrong (e.g. "option 'port': '70000' is
 * not a port number (0-65535)"). Empty string if there was none.
 * The string belongs to the thread and is valid until its next ssews call.
 */
SSEWS_API const char *ssews_last_error(void);

/* ===================================================================== */
/* Types                                                                  */
/* ===================================================================== */

/** An endpoint: a listening server or a client bound to one URL. Opaque. */
typedef struct ssews ssews;

/** One event delivered to the application. Opaque; read with accessors. */
typedef struct ssews_event ssews_event;

/**
 * A connection id: one peer of a server, or the one logical connection of a
 * client (stable across its reconnects). Never 0; never reused within an
 * endpoint's life.
 */
typedef uint64_t ssews_conn;

/** Event kinds (ssews_event_kind). */
#define SSEWS_EV_OPEN 1         /* a connection is open (server: a new peer) */
#define SSEWS_EV_MESSAGE 2      /* a message arrived */
#define SSEWS_EV_CLOSE 3        /* a connection closed: exactly once per open */
#define SSEWS_EV_ERROR 4        /* something failed: code + message */
#define SSEWS_EV_RECONNECTING 5 /* a client will reconnect after a delay */

/** Protocols (ssews_event_protocol). */
#define SSEWS_PROTO_WS 1
#define SSEWS_PROTO_SSE 2

/** Message flags (ssews_send, ssews_publish). Text is the default. */
#define SSEWS_TEXT 0
#define SSEWS_BINARY 1

/**
 * The event callback. Called on the endpoint's service thread, one event at
 * a time, in order. It must not block; it may call any ssews function on
 * any endpoint, including ssews_close on its own endpoint. `ev` and all it
 * points to are valid only until the callback returns.
 */
typedef void (*ssews_event_cb)(ssews *ep, const ssews_event *ev, void *user);

/* ===================================================================== */
/* Endpoint lifecycle                                                     */
/* ===================================================================== */

/**
 * ssews_open - create and start an endpoint.
 *
 * `options` is an array of C strings holding key, value, key, value, ...,
 * ended by a NULL key; it may be NULL for all defaults. Keys and values are
 * copied. With no "url" option the endpoint is a server; with "url" it is a
 * client whose protocol follows the scheme (ws/wss: WebSocket; http/https:
 * SSE). The options are listed in docs/options.md; among them:
 *   server: host ("127.0.0.1"), port ("0" = any free port), tls_cert,
 *     tls_key, static_dir, history ("0"), heartbeat (seconds, "15"),
 *     ping_interval ("30"), pong_timeout ("10"), max_message_size
 *     ("16777216"), max_connections ("10000"), max_queue_bytes ("4194304"),
 *     queue_policy ("drop_oldest" | "close"), max_header_size ("8192"),
 *     handshake_timeout ("10"), max_pending_bytes ("67108864").
 *   client: url, header ("Name: value", repeatable), subprotocols, v1
 *     ("true": offer ssews.v1), ca_file, insecure ("false"), connect_timeout
 *     ("10"), reconnect ("true"), reconnect_delay_ms ("1000"),
 *     reconnect_max_delay_ms ("30000"), reconnect_max_attempts ("0" = no
 *     limit), last_event_id, ping_interval, pong_timeout, max_message_size,
 *     max_queue_bytes (what may wait to be sent while disconnected).
 *   A key that applies to the other role is an error that says so.
 *
 * A client connects in the background: events tell the story (open on each
 * successful connect; reconnecting with attempt and delay; error with the
 * reason; one final close when it stops for good). Its connection id is 1.
 *
 * `cb` (may be NULL) receives events on the service thread (callback mode);
 * with cb NULL events are queued for ssews_next_event (pull mode). Passing
 * the callback here, rather than later, guarantees it sees the first event.
 *
 * On success *out is the new endpoint, which the caller owns and frees with
 * ssews_close. A server is listening when this returns (ssews_port tells
 * where). On error *out is NULL: SSEWS_EOPTION (named in ssews_last_error),
 * SSEWS_ELISTEN, SSEWS_ETLS, SSEWS_EURL, SSEWS_ENOMEM. Any thread.
 */
SSEWS_API int ssews_open(ssews **out, const char *const *options, ssews_event_cb cb,
                         void *user);

/**
 * ssews_on_event - replace the event callback (cb NULL: switch to pull mode).
 * Takes effect for events not yet delivered. `user` is passed back to cb.
 * Any thread. Errors: SSEWS_EINVAL, SSEWS_ECLOSED.
 */
SSEWS_API int ssews_on_event(ssews *ep, ssews_event_cb cb, void *user);

/**
 * ssews_close - close an endpoint gracefully and free it.
 *
 * Queued data is flushed (bounded by a short grace period), WebSocket peers
 * get a close frame (1001), SSE streams are ended, every open connection gets
 * its close event, and the service thread ends. Called from any other
 * thread, it returns after the service thread has been joined; called from
 * the endpoint's own event callback, it returns at once and the shutdown
 * completes when the callback returns. Sets *ep to NULL. NULL or *ep NULL is
 * a no-op returning SSEWS_OK. Call it once per endpoint.
 */
SSEWS_API int ssews_close(ssews **ep);

/**
 * ssews_port - the TCP port a server listens on (useful with port "0").
 * Errors: SSEWS_EINVAL, SSEWS_ENOTSUP for a client. Any thread.
 */
SSEWS_API int ssews_port(ssews *ep, int *port);

/* ===================================================================== */
/* Events: pull mode                                                      */
/* ===================================================================== */

/**
 * ssews_event_fd - a file descriptor that is readable while events are
 * pending in pull mode. Only poll it (select/poll/epoll, asyncio add_reader,
 * uv_poll); never read, write or close it. Owned by the endpoint; valid
 * until ssews_close. Any thread.
 */
SSEWS_API int ssews_event_fd(ssews *ep, int *fd);

/**
 * ssews_next_event - take the next pending event (pull mode).
 *
 * On SSEWS_OK *ev is the event; it stays valid until the next call of
 * ssews_next_event on this endpoint or ssews_close. Returns SSEWS_EAGAIN
 * (with *ev NULL) when none is pending. Call it from one thread at a time
 * per endpoint. In callback mode it always returns SSEWS_EAGAIN.
 */
SSEWS_API int ssews_next_event(ssews *ep, const ssews_event **ev);

/* ===================================================================== */
/* Events: accessors (NULL ev gives 0 / NULL). Strings are NUL-terminated */
/* and valid as long as the event is.                                     */
/* ===================================================================== */

/** SSEWS_EV_* kind of the event. */
SSEWS_API int ssews_event_kind(const ssews_event *ev);
/** The connection the event is about (0 for endpoint-wide errors). */
SSEWS_API ssews_conn ssews_event_conn(const ssews_event *ev);
/** SSEWS_PROTO_WS or SSEWS_PROTO_SSE (0 when not about a connection). */
SSEWS_API int ssews_event_protocol(const ssews_event *ev);
/** Message payload and its length in *len (len may be NULL). Not NUL-terminated
 *  in general; text payloads are UTF-8. Empty messages give a non-NULL pointer. */
SSEWS_API const void *ssews_event_data(const ssews_event *ev, size_t *len);
/** 1 for a binary message, 0 for text. */
SSEWS_API int ssews_event_is_binary(const ssews_event *ev);
/** SSE event type, or the ssews.v1 event name; NULL when there is none. */
SSEWS_API const char *ssews_event_name(const ssews_event *ev);
/** Message id (SSE last event id); NULL when there is none. */
SSEWS_API const char *ssews_event_id(const ssews_event *ev);
/** Channel of a message received through ssews.v1; NULL otherwise. */
SSEWS_API const char *ssews_event_channel(const ssews_event *ev);
/** Open: request path (no query), e.g. "/chat". */
SSEWS_API const char *ssews_event_path(const ssews_event *ev);
/** Open: raw query string without '?', "" when absent. */
SSEWS_API const char *ssews_event_query(const ssews_event *ev);
/** Open: peer address, e.g. "127.0.0.1". */
SSEWS_API const char *ssews_event_peer(const ssews_event *ev);
/** Open: a request header by name, case-insensitive; NULL when absent. */
SSEWS_API const char *ssews_event_header(const ssews_event *ev, const char *name);
/** Open: number of request headers. */
SSEWS_API size_t ssews_event_header_count(const ssews_event *ev);
/** Open: the i-th request header (lower-case name). SSEWS_EINVAL if out of range. */
SSEWS_API int ssews_event_header_at(const ssews_event *ev, size_t i, const char **name,
                                    const char **value);
/** Open: how many channels the connection will be subscribed to unless the
 *  callback decides otherwise (the `channel` query parameters, else the path
 *  without its leading slash). */
SSEWS_API size_t ssews_event_channel_count(const ssews_event *ev);
/** Open: the i-th default channel; NULL if out of range. */
SSEWS_API const char *ssews_event_channel_at(const ssews_event *ev, size_t i);
/** Close: the close code (1000, 1006, ...); error: the SSEWS_E* code;
 *  reconnecting: the attempt number (1, 2, ...). */
SSEWS_API int ssews_event_code(const ssews_event *ev);
/** Close: the reason; error: the message. "" when none. */
SSEWS_API const char *ssews_event_reason(const ssews_event *ev);
/** Reconnecting: the delay before the next attempt, in milliseconds. */
SSEWS_API int64_t ssews_event_delay_ms(const ssews_event *ev);

/* ===================================================================== */
/* Server: connections and channels                                       */
/* ===================================================================== */

/**
 * ssews_send - send one message to one connection.
 *
 * `flags` is SSEWS_TEXT or SSEWS_BINARY. WebSocket: a text or binary
 * message (text must be valid UTF-8). SSE: text only; `event` (may be NULL)
 * becomes the `event:` field and `id` (may be NULL) the `id:` field; data
 * holding line breaks is framed as several `data:` lines so the receiver
 * gets it back intact. On a client endpoint `conn` is ignored (pass 0).
 *
 * Errors: SSEWS_EINVAL (NULL data with len > 0, event or id over 1024 bytes,
 * not UTF-8 or containing CR, LF or NUL, binary on SSE, invalid UTF-8
 * text), SSEWS_ENOCONN,
 * SSEWS_ETOOBIG, SSEWS_EFULL (max_pending_bytes reached; for a client,
 * max_queue_bytes of unsent data while disconnected), SSEWS_ENOTSUP (an SSE
 * client cannot send), SSEWS_ECLOSED. Any thread; returns at once. A client
 * queues what it sends while disconnected and flushes it, in order, after
 * the reconnect; event and id must be NULL for a client.
 */
SSEWS_API int ssews_send(ssews *ep, ssews_conn conn, const void *data, size_t len, int flags,
                         const char *event, const char *id);

/**
 * ssews_publish - send one message to every subscriber of `channel`.
 *
 * Subscribers get messages in publish order whatever their protocol: a
 * plain WebSocket peer gets the payload as published (text or binary), an
 * ssews.v1 peer gets it with channel, event and id, an SSE peer gets
 * `id:`, `event:` (if any) and `data:` lines. The payload is copied once
 * and shared. `id` NULL assigns the next id ("<epoch>-<seq>"). Channel,
 * event and id are UTF-8 of at most 1024 bytes (ssews.v1 carries them in
 * text frames); event and id must not contain CR, LF or NUL, and a given id
 * must not be empty. The message is kept in the channel's
 * history when the "history" option is above 0. Binary messages reach SSE
 * subscribers as base64 in `data:` with `event:` defaulting to "binary".
 *
 * Errors: SSEWS_EINVAL, SSEWS_ETOOBIG, SSEWS_EFULL, SSEWS_ENOTSUP (client
 * endpoint), SSEWS_ECLOSED. Any thread; returns at once.
 */
SSEWS_API int ssews_publish(ssews *ep, const char *channel, const void *data, size_t len,
                            int flags, const char *event, const char *id);

/**
 * ssews_subscribe / ssews_unsubscribe - add or remove a connection's
 * subscription to a channel. Inside the open event callback this replaces
 * the default subscription (the `channel` query parameters, else the path
 * without its leading slash). Errors: SSEWS_EINVAL (empty channel),
 * SSEWS_ENOCONN, SSEWS_ENOTSUP (client), SSEWS_ECLOSED. Any thread.
 */
SSEWS_API int ssews_subscribe(ssews *ep, ssews_conn conn, const char *channel);
SSEWS_API int ssews_unsubscribe(ssews *ep, ssews_conn conn, const char *channel);

/**
 * ssews_reject - refuse a connection. Inside its open event callback the
 * handshake is answered with HTTP `http_status` (e.g. 403; 0 means 403)
 * and no upgrade or stream happens; no close event follows. Later it closes
 * the connection (WebSocket close 1008). Errors: SSEWS_EINVAL (status not
 * 400-599), SSEWS_ENOCONN, SSEWS_ECLOSED. Any thread.
 */
SSEWS_API int ssews_reject(ssews *ep, ssews_conn conn, int http_status);

/**
 * ssews_conn_close - close one connection: WebSocket with a close frame
 * carrying `code` (1000, or 3000-4999) and `reason` (UTF-8, at most 123
 * bytes, may be NULL); SSE by ending the stream (code and reason are only
 * reported in the close event). Queued messages are flushed first. A close
 * event follows. Errors: SSEWS_EINVAL (bad code or reason), SSEWS_ENOCONN,
 * SSEWS_ECLOSED. Any thread.
 */
SSEWS_API int ssews_conn_close(ssews *ep, ssews_conn conn, int code, const char *reason);

#ifdef __cplusplus
}
#endif
#endif /* SSEWS_H */

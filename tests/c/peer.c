/*
 * peer.c — raw HTTP / WebSocket test client, see peer.h.
 *
 * Design notes:
 *  - The socket is non-blocking and every wait goes through poll() against
 *    an absolute deadline, so no call can hang a test.
 *  - All socket writes use send(MSG_NOSIGNAL): a server that closes early
 *    gives EPIPE instead of killing the test with SIGPIPE. For the same
 *    reason TLS never touches the socket: OpenSSL works on two memory BIOs
 *    and this file moves the ciphertext (its socket BIO would use write(),
 *    which raises SIGPIPE).
 *  - Plaintext is read into one growing buffer inside the peer; parsers
 *    (HTTP head, WebSocket frames) ask for "at least n bytes" so partial
 *    reads of any size are handled in one place.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* memmem, strcasestr, SOCK_NONBLOCK */
#endif

#include "peer.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/ssl.h>

#define WS_GUID "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
#define IO_CHUNK 16384

struct peer {
    int fd;
    SSL_CTX *ctx;      /* TLS only */
    SSL *ssl;          /* NULL for plain TCP; owns rbio/wbio */
    BIO *rbio, *wbio;  /* ciphertext from / to the socket */
    unsigned char *buf; /* plaintext read buffer: [start, end) is unread */
    size_t cap, start, end;
    char hostport[300]; /* default Host header value */
};

/* ---------------------------------------------------------------------- */
/* Errors and time                                                         */
/* ---------------------------------------------------------------------- */

static __thread char g_err[512];

const char *peer_error(void) { return g_err; }

static int fail(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(g_err, sizeof g_err, fmt, ap);
    va_end(ap);
    return -1;
}

/* Report the oldest queued OpenSSL error and clear the queue. */
static int ssl_fail(const char *what)
{
    char msg[256] = "unknown TLS error";
    unsigned long e = ERR_get_error();
    if (e)
        ERR_error_string_n(e, msg, sizeof msg);
    ERR_clear_error();
    return fail("%s: %s", what, msg);
}

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int64_t deadline_in(int timeout_ms)
{
    return now_ms() + (timeout_ms > 0 ? timeout_ms : 0);
}

/* Wait until fd is ready for `events` or the deadline passes. Readiness
 * includes POLLHUP/POLLERR: the following I/O call reports those. */
static int wait_fd(int fd, short events, int64_t deadline)
{
    for (;;) {
        int64_t left = deadline - now_ms();
        struct pollfd pfd = {fd, events, 0};
        int r;
        if (left < 0)
            left = 0;
        r = poll(&pfd, 1, left > INT_MAX ? INT_MAX : (int)left);
        if (r > 0)
            return 0;
        if (r == 0)
            return fail("timed out waiting for the socket to become %s",
                        events == POLLIN ? "readable" : "writable");
        if (errno != EINTR)
            return fail("poll: %s", strerror(errno));
    }
}

/* ---------------------------------------------------------------------- */
/* Growing string buffer (requests, bodies, reassembled messages)          */
/* ---------------------------------------------------------------------- */

typedef struct {
    char *s;
    size_t len, cap;
} strbuf;

static int sb_append(strbuf *b, const void *data, size_t n)
{
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 256;
        char *s;
        while (cap < b->len + n + 1)
            cap *= 2;
        s = realloc(b->s, cap);
        if (!s)
            return fail("out of memory");
        b->s = s;
        b->cap = cap;
    }
    if (n)
        memcpy(b->s + b->len, data, n);
    b->len += n;
    b->s[b->len] = '\0';
    return 0;
}

static int sb_puts(strbuf *b, const char *s) { return sb_append(b, s, strlen(s)); }

/* Hand the (always non-NULL, NUL-terminated) contents to the caller. */
static char *sb_take(strbuf *b)
{
    char *s = b->s ? b->s : calloc(1, 1);
    b->s = NULL;
    b->len = b->cap = 0;
    return s;
}

/* ---------------------------------------------------------------------- */
/* Socket I/O                                                              */
/* ---------------------------------------------------------------------- */

static int raw_send_all(peer *p, const void *data, size_t len, int64_t deadline)
{
    const char *d = data;
    while (len > 0) {
        ssize_t n = send(p->fd, d, len, MSG_NOSIGNAL);
        if (n > 0) {
            d += n;
            len -= (size_t)n;
        } else if (n < 0 && errno == EINTR) {
            continue;
        } else if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            if (wait_fd(p->fd, POLLOUT, deadline) < 0)
                return -1;
        } else {
            return fail("send: %s", strerror(errno));
        }
    }
    return 0;
}

/* Some bytes: > 0, or 0 at end of stream (a reset counts as end, see peer.h). */
static int raw_recv(peer *p, void *buf, size_t len, int64_t deadline)
{
    if (len > INT_MAX)
        len = INT_MAX;
    for (;;) {
        ssize_t n = recv(p->fd, buf, len, 0);
        if (n >= 0)
            return (int)n;
        if (errno == ECONNRESET)
            return 0;
        if (errno == EAGAIN || errno == EWOULDBLOCK) {
            if (wait_fd(p->fd, POLLIN, deadline) < 0)
                return -1;
        } else if (errno != EINTR) {
            return fail("recv: %s", strerror(errno));
        }
    }
}

/* ---------------------------------------------------------------------- */
/* TLS over memory BIOs                                                    */
/* ---------------------------------------------------------------------- */

/* Send whatever ciphertext OpenSSL has produced. */
static int tls_flush(peer *p, int64_t deadline)
{
    unsigned char tmp[IO_CHUNK];
    int n;
    while ((n = BIO_read(p->wbio, tmp, sizeof tmp)) > 0)
        if (raw_send_all(p, tmp, (size_t)n, deadline) < 0)
            return -1;
    return 0;
}

/* Move one read's worth of ciphertext from the socket into OpenSSL. */
static int tls_feed(peer *p, int64_t deadline)
{
    unsigned char tmp[IO_CHUNK];
    int n = raw_recv(p, tmp, sizeof tmp, deadline);
    if (n > 0 && BIO_write(p->rbio, tmp, n) != n)
        return fail("BIO_write failed");
    return n;
}

static int tls_handshake(peer *p, int64_t deadline)
{
    for (;;) {
        int r, e, n;
        ERR_clear_error();
        r = SSL_connect(p->ssl);
        e = SSL_get_error(p->ssl, r);
        if (tls_flush(p, deadline) < 0)
            return -1;
        if (r == 1)
            return 0;
        if (e != SSL_ERROR_WANT_READ)
            return ssl_fail("TLS handshake");
        n = tls_feed(p, deadline);
        if (n == 0)
            return fail("TLS handshake: connection closed by the server");
        if (n < 0)
            return -1;
    }
}

static int is_ip_literal(const char *host)
{
    unsigned char addr[sizeof(struct in6_addr)];
    return inet_pton(AF_INET, host, addr) == 1 || inet_pton(AF_INET6, host, addr) == 1;
}

/* The ALPN wire format (RFC 7301: each name prefixed by its length) of a
 * comma-separated list such as "h2,http/1.1"; returns its length, or -1. */
static int alpn_wire(const char *list, unsigned char *out, size_t cap)
{
    size_t n = 0;
    const char *s = list;
    while (*s) {
        const char *end = strchr(s, ',');
        size_t len = end ? (size_t)(end - s) : strlen(s);
        while (len && (*s == ' ' || *s == '\t'))
            s++, len--;
        while (len && (s[len - 1] == ' ' || s[len - 1] == '\t'))
            len--;
        if (len == 0 || len > 255 || n + 1 + len > cap)
            return fail("bad ALPN list \"%s\"", list);
        out[n++] = (unsigned char)len;
        memcpy(out + n, s, len);
        n += len;
        s = end ? end + 1 : s + strlen(s);
    }
    return n ? (int)n : fail("empty ALPN list");
}

/* A client SSL on memory BIOs, offering ALPN `alpn` (NULL or "": no ALPN
 * extension at all). */
static int tls_new(peer *p, const char *host, const char *alpn)
{
    unsigned char wire[512];
    int wlen;

    p->ctx = SSL_CTX_new(TLS_client_method());
    if (!p->ctx)
        return ssl_fail("SSL_CTX_new");
    /* Test servers use self-signed certificates: no verification. */
    SSL_CTX_set_verify(p->ctx, SSL_VERIFY_NONE, NULL);
    p->ssl = SSL_new(p->ctx);
    if (!p->ssl)
        return ssl_fail("SSL_new");
    p->rbio = BIO_new(BIO_s_mem());
    p->wbio = BIO_new(BIO_s_mem());
    if (!p->rbio || !p->wbio) {
        BIO_free(p->rbio);
        BIO_free(p->wbio);
        p->rbio = p->wbio = NULL;
        return ssl_fail("BIO_new");
    }
    SSL_set_bio(p->ssl, p->rbio, p->wbio); /* p->ssl owns them from now on */
    if (!is_ip_literal(host)) /* SNI must not carry an address (RFC 6066) */
        SSL_set_tlsext_host_name(p->ssl, host);
    if (alpn && *alpn) {
        if ((wlen = alpn_wire(alpn, wire, sizeof wire)) < 0)
            return -1;
        if (SSL_set_alpn_protos(p->ssl, wire, (unsigned)wlen) != 0) /* 0 is success here */
            return ssl_fail("SSL_set_alpn_protos");
    }
    SSL_set_connect_state(p->ssl);
    return 0;
}

static int tls_setup(peer *p, const char *host, const char *alpn, int64_t deadline)
{
    if (tls_new(p, host, alpn) < 0)
        return -1;
    return tls_handshake(p, deadline);
}

/* ---------------------------------------------------------------------- */
/* Plaintext I/O (TLS or not)                                              */
/* ---------------------------------------------------------------------- */

static int io_write_all(peer *p, const void *data, size_t len, int64_t deadline)
{
    const unsigned char *d = data;
    if (!p->ssl)
        return raw_send_all(p, data, len, deadline);
    while (len > 0) {
        int chunk = len > (1u << 20) ? (1 << 20) : (int)len;
        int n;
        ERR_clear_error();
        n = SSL_write(p->ssl, d, chunk); /* memory BIO: never "would block" */
        if (n <= 0)
            return ssl_fail("TLS write");
        d += n;
        len -= (size_t)n;
        if (tls_flush(p, deadline) < 0)
            return -1;
    }
    return 0;
}

/* Some plaintext: > 0, 0 at end of stream, < 0 on error/timeout. */
static int io_read_some(peer *p, void *buf, size_t len, int64_t deadline)
{
    if (!p->ssl)
        return raw_recv(p, buf, len, deadline);
    if (len > INT_MAX)
        len = INT_MAX;
    for (;;) {
        int n, e, m;
        ERR_clear_error();
        n = SSL_read(p->ssl, buf, (int)len);
        if (n > 0)
            return n;
        e = SSL_get_error(p->ssl, n);
        if (e == SSL_ERROR_ZERO_RETURN) /* close_notify */
            return 0;
        if (e != SSL_ERROR_WANT_READ)
            return ssl_fail("TLS read");
        /* Reading may have queued output (e.g. a KeyUpdate answer). */
        if (tls_flush(p, deadline) < 0)
            return -1;
        m = tls_feed(p, deadline);
        if (m <= 0) /* socket closed without close_notify: still the end */
            return m;
    }
}

/* ---------------------------------------------------------------------- */
/* Read buffer                                                             */
/* ---------------------------------------------------------------------- */

static size_t buffered(const peer *p) { return p->end - p->start; }

static void consume(peer *p, size_t n)
{
    p->start += n;
    if (p->start == p->end)
        p->start = p->end = 0;
}

/* Make sure there is free space after p->end: compact first, grow if full. */
static int make_room(peer *p)
{
    size_t cap;
    unsigned char *b;
    if (p->end < p->cap)
        return 0;
    if (p->start > 0) {
        memmove(p->buf, p->buf + p->start, buffered(p));
        p->end -= p->start;
        p->start = 0;
        return 0;
    }
    cap = p->cap * 2;
    if (cap > 2 * PEER_MAX_FRAME_LEN)
        return fail("read buffer limit reached");
    b = realloc(p->buf, cap);
    if (!b)
        return fail("out of memory");
    p->buf = b;
    p->cap = cap;
    return 0;
}

/* Read more into the buffer: > 0 bytes added, 0 at end of stream, < 0 error. */
static int fill(peer *p, int64_t deadline)
{
    int n;
    if (make_room(p) < 0)
        return -1;
    n = io_read_some(p, p->buf + p->end, p->cap - p->end, deadline);
    if (n > 0)
        p->end += (size_t)n;
    return n;
}

/* Make sure at least n bytes are buffered. */
static int ensure(peer *p, size_t n, int64_t deadline)
{
    while (buffered(p) < n) {
        int r = fill(p, deadline);
        if (r == 0)
            return fail("connection closed (have %zu of %zu bytes)", buffered(p), n);
        if (r < 0)
            return -1;
    }
    return 0;
}

static int read_until(peer *p, const char *needle, char **out, int64_t deadline)
{
    size_t nl = strlen(needle), scanned = 0;
    *out = NULL;
    if (nl == 0)
        return fail("read_until: empty needle");
    for (;;) {
        /* Only rescan the tail that could hold a needle split across reads;
         * offsets are relative to p->start, which compaction preserves. */
        size_t from = scanned >= nl ? scanned - nl + 1 : 0;
        unsigned char *base = p->buf + p->start;
        unsigned char *hit = buffered(p) > from
            ? memmem(base + from, buffered(p) - from, needle, nl) : NULL;
        int r;
        if (hit) {
            size_t n = (size_t)(hit - base) + nl;
            if (n > INT_MAX || !(*out = malloc(n + 1)))
                return fail("out of memory");
            memcpy(*out, base, n);
            (*out)[n] = '\0';
            consume(p, n);
            return (int)n;
        }
        scanned = buffered(p);
        r = fill(p, deadline);
        if (r == 0)
            return fail("connection closed before \"%s\" was seen", needle);
        if (r < 0)
            return -1;
    }
}

/* ---------------------------------------------------------------------- */
/* Public: connection and raw bytes                                        */
/* ---------------------------------------------------------------------- */

/* Binds fd to the local address src (port 0), of fd's family. */
static int bind_source(int fd, int family, const char *src)
{
    struct sockaddr_storage ss;
    socklen_t len;
    memset(&ss, 0, sizeof ss);
    if (family == AF_INET) {
        struct sockaddr_in *v4 = (struct sockaddr_in *)&ss;
        v4->sin_family = AF_INET;
        len = sizeof *v4;
        if (inet_pton(AF_INET, src, &v4->sin_addr) != 1)
            return fail("source %s is not an IPv4 address", src);
    } else {
        struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)&ss;
        v6->sin6_family = AF_INET6;
        len = sizeof *v6;
        if (inet_pton(AF_INET6, src, &v6->sin6_addr) != 1)
            return fail("source %s is not an IPv6 address", src);
    }
    if (bind(fd, (struct sockaddr *)&ss, len) < 0)
        return fail("bind %s: %s", src, strerror(errno));
    return 0;
}

/* Non-blocking connect to one resolved address (from src when not NULL);
 * returns the fd or -1. */
static int connect_addr(const struct addrinfo *ai, const char *src, int64_t deadline)
{
    int fd = socket(ai->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    int err = 0, one = 1;
    socklen_t elen = sizeof err;
    if (fd < 0)
        return fail("socket: %s", strerror(errno));
    if (src && bind_source(fd, ai->ai_family, src) < 0) {
        close(fd);
        return -1;
    }
    if (connect(fd, ai->ai_addr, ai->ai_addrlen) < 0) {
        if (errno != EINPROGRESS) {
            err = errno;
        } else if (wait_fd(fd, POLLOUT, deadline) < 0) {
            close(fd);
            return -1;
        } else if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &elen) < 0) {
            err = errno;
        }
    }
    if (err) {
        close(fd);
        return fail("connect: %s", strerror(err));
    }
    /* Tests send small frames and wait for answers: no Nagle delay. */
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    return fd;
}

static int open_socket(peer *p, const char *src, const char *host, int port, int64_t deadline)
{
    struct addrinfo hints, *res, *ai;
    char portstr[16];
    int r;
    memset(&hints, 0, sizeof hints);
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_NUMERICSERV;
    snprintf(portstr, sizeof portstr, "%d", port);
    r = getaddrinfo(host, portstr, &hints, &res);
    if (r != 0)
        return fail("getaddrinfo(%s): %s", host, gai_strerror(r));
    for (ai = res; ai && p->fd < 0; ai = ai->ai_next)
        p->fd = connect_addr(ai, src, deadline);
    freeaddrinfo(res);
    return p->fd < 0 ? -1 : 0;
}

static peer *connect_peer(const char *src, const char *host, int port, int tls, const char *alpn,
                          int timeout_ms)
{
    int64_t deadline = deadline_in(timeout_ms);
    peer *p = calloc(1, sizeof *p);
    if (!p) {
        fail("out of memory");
        return NULL;
    }
    p->fd = -1;
    /* Allocated up front so p->buf is never NULL (pointer arithmetic on it). */
    p->cap = IO_CHUNK;
    p->buf = malloc(p->cap);
    if (!p->buf) {
        free(p);
        fail("out of memory");
        return NULL;
    }
    snprintf(p->hostport, sizeof p->hostport, strchr(host, ':') ? "[%s]:%d" : "%s:%d",
             host, port);
    if (open_socket(p, src, host, port, deadline) < 0 || (tls && tls_setup(p, host, alpn, deadline) < 0)) {
        peer_free(p);
        return NULL;
    }
    return p;
}

peer *peer_connect(const char *host, int port, int tls, int timeout_ms)
{
    return connect_peer(NULL, host, port, tls, NULL, timeout_ms);
}

peer *peer_connect_alpn(const char *host, int port, const char *alpn, int timeout_ms)
{
    return connect_peer(NULL, host, port, 1, alpn, timeout_ms);
}

peer *peer_connect_from(const char *src, const char *host, int port, int timeout_ms)
{
    return connect_peer(src, host, port, 0, NULL, timeout_ms);
}

const char *peer_alpn_selected(const peer *p, char *buf, size_t buflen)
{
    const unsigned char *name = NULL;
    unsigned len = 0;
    if (buflen == 0)
        return buf;
    if (p && p->ssl)
        SSL_get0_alpn_selected(p->ssl, &name, &len);
    if (len >= buflen)
        len = (unsigned)(buflen - 1);
    if (len)
        memcpy(buf, name, len);
    buf[len] = '\0';
    return buf;
}

int peer_client_hello(const char *host, const char *alpn, unsigned char **out, size_t *len)
{
    peer p;
    int r, n;
    *out = NULL;
    *len = 0;
    memset(&p, 0, sizeof p);
    p.fd = -1;
    if (tls_new(&p, host, alpn) < 0) {
        SSL_free(p.ssl);
        SSL_CTX_free(p.ctx);
        return -1;
    }
    ERR_clear_error();
    r = SSL_connect(p.ssl); /* writes the ClientHello, then wants the answer */
    if (r == 1 || SSL_get_error(p.ssl, r) != SSL_ERROR_WANT_READ) {
        r = ssl_fail("ClientHello");
    } else if ((n = (int)BIO_pending(p.wbio)) <= 0 || !(*out = malloc((size_t)n))) {
        r = fail("no ClientHello written");
    } else {
        *len = (size_t)BIO_read(p.wbio, *out, n);
        r = 0;
    }
    SSL_free(p.ssl);
    SSL_CTX_free(p.ctx);
    return r;
}

void peer_free(peer *p)
{
    if (!p)
        return;
    if (p->ssl)
        SSL_free(p->ssl); /* also frees rbio/wbio */
    SSL_CTX_free(p->ctx);
    if (p->fd >= 0)
        close(p->fd);
    free(p->buf);
    free(p);
}

int peer_write(peer *p, const void *buf, size_t len)
{
    return io_write_all(p, buf, len, deadline_in(PEER_WRITE_TIMEOUT_MS));
}

int peer_shutdown_write(peer *p)
{
    if (p->ssl) {
        ERR_clear_error();
        if (SSL_shutdown(p->ssl) < 0) /* queues close_notify */
            return ssl_fail("SSL_shutdown");
        if (tls_flush(p, deadline_in(PEER_WRITE_TIMEOUT_MS)) < 0)
            return -1;
    }
    if (shutdown(p->fd, SHUT_WR) < 0)
        return fail("shutdown: %s", strerror(errno));
    return 0;
}

int peer_read(peer *p, void *buf, size_t len, int timeout_ms)
{
    size_t n;
    if (len == 0)
        return 0;
    if (buffered(p) == 0) {
        int r = fill(p, deadline_in(timeout_ms));
        if (r <= 0)
            return r;
    }
    n = buffered(p) < len ? buffered(p) : len;
    if (n > INT_MAX)
        n = INT_MAX;
    memcpy(buf, p->buf + p->start, n);
    consume(p, n);
    return (int)n;
}

int peer_read_until(peer *p, const char *needle, char **out, int timeout_ms)
{
    return read_until(p, needle, out, deadline_in(timeout_ms));
}

int peer_wait_eof(peer *p, int timeout_ms)
{
    int64_t deadline = deadline_in(timeout_ms);
    for (;;) {
        int r;
        consume(p, buffered(p));
        r = fill(p, deadline);
        if (r == 0)
            return 0;
        if (r < 0) {
            char why[sizeof g_err];
            memcpy(why, g_err, sizeof why);
            return fail("no end of stream within %d ms: %s", timeout_ms, why);
        }
    }
}

/* ---------------------------------------------------------------------- */
/* HTTP                                                                    */
/* ---------------------------------------------------------------------- */

/* The caller's header line for `name` ("Name: value"), or NULL. */
static const char *find_line(const char *const *headers, const char *name, size_t nlen)
{
    for (; headers && *headers; headers++)
        if (strncasecmp(*headers, name, nlen) == 0 && (*headers)[nlen] == ':')
            return *headers;
    return NULL;
}

/* Append "line\r\n" (|| keeps the order of the two appends defined). */
static int sb_line(strbuf *b, const char *line)
{
    return sb_puts(b, line) < 0 || sb_puts(b, "\r\n") < 0 ? -1 : 0;
}

/* Build "GET path HTTP/1.1", each default line not overridden by the
 * caller's headers, then the caller's headers. */
static int build_request(strbuf *b, const char *path, const char *const *defaults,
                         const char *const *headers)
{
    if (sb_puts(b, "GET ") < 0 || sb_puts(b, path) < 0 || sb_line(b, " HTTP/1.1") < 0)
        return -1;
    for (; *defaults; defaults++) {
        size_t nlen = (size_t)(strchr(*defaults, ':') - *defaults);
        if (!find_line(headers, *defaults, nlen) && sb_line(b, *defaults) < 0)
            return -1;
    }
    for (; headers && *headers; headers++)
        if (sb_line(b, *headers) < 0)
            return -1;
    return sb_line(b, "");
}

static int send_request(peer *p, const char *path, const char *const *defaults,
                        const char *const *headers, int64_t deadline)
{
    strbuf b = {0};
    int r = build_request(&b, path, defaults, headers);
    if (r == 0)
        r = io_write_all(p, b.s, b.len, deadline);
    free(b.s);
    return r;
}

static int read_head(peer *p, peer_http *resp, int64_t deadline)
{
    char *head;
    int status = 0;
    if (read_until(p, "\r\n\r\n", &head, deadline) < 0)
        return -1;
    if (sscanf(head, "HTTP/1.%*d %3d", &status) != 1 || status < 100) {
        fail("bad status line: %.60s", head);
        free(head);
        return -1;
    }
    resp->head = head;
    resp->status = status;
    return status;
}

/* Locate header `name` in a response head: value start and trimmed length. */
static int find_header(const char *head, const char *name, const char **val, size_t *vlen)
{
    size_t nlen = strlen(name);
    const char *line = strstr(head, "\r\n"); /* skip the status line */
    while (line && line[2] != '\r' && line[2] != '\0') {
        const char *end, *v;
        line += 2;
        end = strstr(line, "\r\n");
        if (!end)
            break;
        if (strncasecmp(line, name, nlen) == 0 && line[nlen] == ':') {
            v = line + nlen + 1;
            while (v < end && (*v == ' ' || *v == '\t'))
                v++;
            while (end > v && (end[-1] == ' ' || end[-1] == '\t'))
                end--;
            *val = v;
            *vlen = (size_t)(end - v);
            return 1;
        }
        line = end;
    }
    return 0;
}

const char *peer_http_header(const peer_http *r, const char *name, char *buf, size_t buflen)
{
    const char *v;
    size_t n;
    if (!r->head || buflen == 0 || !find_header(r->head, name, &v, &n))
        return NULL;
    if (n >= buflen)
        n = buflen - 1;
    memcpy(buf, v, n);
    buf[n] = '\0';
    return buf;
}

/* Does header `name` contain `token` (case-insensitive, e.g. "chunked")? */
static int header_has(const char *head, const char *name, const char *token)
{
    char val[256];
    const peer_http r = {0, (char *)head};
    return peer_http_header(&r, name, val, sizeof val) && strcasestr(val, token);
}

void peer_http_free(peer_http *r)
{
    if (!r)
        return;
    free(r->head);
    r->head = NULL;
}

int peer_http_get(peer *p, const char *path, const char *const *headers, peer_http *resp,
                  int timeout_ms)
{
    int64_t deadline = deadline_in(timeout_ms);
    char host[sizeof p->hostport + 8];
    const char *defaults[] = {host, NULL};
    memset(resp, 0, sizeof *resp);
    snprintf(host, sizeof host, "Host: %s", p->hostport);
    if (send_request(p, path, defaults, headers, deadline) < 0)
        return -1;
    return read_head(p, resp, deadline);
}

/* Append n buffered-or-soon bytes to b. */
static int take_into(peer *p, size_t n, strbuf *b, int64_t deadline)
{
    if (ensure(p, n, deadline) < 0 || sb_append(b, p->buf + p->start, n) < 0)
        return -1;
    consume(p, n);
    return 0;
}

static int read_chunked(peer *p, strbuf *b, int64_t deadline)
{
    for (;;) {
        char *line, *end;
        unsigned long size;
        if (read_until(p, "\r\n", &line, deadline) < 0)
            return -1;
        size = strtoul(line, &end, 16); /* ignores ";ext" after the size */
        if (end == line) {
            fail("bad chunk size line: %.40s", line);
            free(line);
            return -1;
        }
        free(line);
        if (size == 0)
            break;
        if (size > PEER_MAX_FRAME_LEN)
            return fail("chunk too large: %lu", size);
        if (take_into(p, size, b, deadline) < 0 || ensure(p, 2, deadline) < 0)
            return -1;
        if (memcmp(p->buf + p->start, "\r\n", 2) != 0)
            return fail("chunk not followed by CRLF");
        consume(p, 2);
    }
    for (;;) { /* trailer lines up to the empty one */
        char *line;
        int n = read_until(p, "\r\n", &line, deadline);
        if (n < 0)
            return -1;
        free(line);
        if (n == 2)
            return 0;
    }
}

static int read_to_eof(peer *p, strbuf *b, int64_t deadline)
{
    for (;;) {
        int r;
        if (sb_append(b, p->buf + p->start, buffered(p)) < 0)
            return -1;
        consume(p, buffered(p));
        r = fill(p, deadline);
        if (r <= 0)
            return r;
    }
}

static int read_body(peer *p, const peer_http *r, strbuf *b, int64_t deadline)
{
    const char *v;
    size_t vlen;
    if (header_has(r->head, "Transfer-Encoding", "chunked"))
        return read_chunked(p, b, deadline);
    if (find_header(r->head, "Content-Length", &v, &vlen)) {
        char *end;
        unsigned long long n = strtoull(v, &end, 10);
        if (end == v || end != v + vlen || n > PEER_MAX_FRAME_LEN)
            return fail("bad Content-Length: %.*s", (int)vlen, v);
        return take_into(p, (size_t)n, b, deadline);
    }
    if (r->status < 200 || r->status == 204 || r->status == 304)
        return 0; /* no body by definition (RFC 9112 §6.3) */
    return read_to_eof(p, b, deadline);
}

int peer_http_body(peer *p, const peer_http *r, char **body, size_t *len, int timeout_ms)
{
    strbuf b = {0};
    *body = NULL;
    *len = 0;
    if (!r->head)
        return fail("peer_http_body: no response head");
    if (read_body(p, r, &b, deadline_in(timeout_ms)) < 0) {
        free(b.s);
        return -1;
    }
    *len = b.len;
    *body = sb_take(&b);
    return *body ? 0 : fail("out of memory");
}

/* ---------------------------------------------------------------------- */
/* WebSocket                                                               */
/* ---------------------------------------------------------------------- */

/* Expected Sec-WebSocket-Accept: base64(SHA-1(key + GUID)), RFC 6455 §4.2.2. */
static int ws_accept_for(const char *key, size_t klen, char out[29])
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int mdlen = 0;
    char in[128];
    if (klen > sizeof in - sizeof WS_GUID)
        return fail("Sec-WebSocket-Key too long");
    memcpy(in, key, klen);
    memcpy(in + klen, WS_GUID, sizeof WS_GUID - 1);
    if (!EVP_Digest(in, klen + sizeof WS_GUID - 1, md, &mdlen, EVP_sha1(), NULL))
        return ssl_fail("SHA-1");
    EVP_EncodeBlock((unsigned char *)out, md, (int)mdlen); /* 20 bytes -> 28 chars */
    return 0;
}

static int ws_check_101(const char *head, const char *key, size_t klen)
{
    char expect[29];
    const char *v;
    size_t vlen;
    if (!header_has(head, "Upgrade", "websocket"))
        return fail("101 without \"Upgrade: websocket\"");
    if (!header_has(head, "Connection", "upgrade"))
        return fail("101 without \"Connection: Upgrade\"");
    if (ws_accept_for(key, klen, expect) < 0)
        return -1;
    if (!find_header(head, "Sec-WebSocket-Accept", &v, &vlen))
        return fail("101 without Sec-WebSocket-Accept");
    if (vlen != 28 || memcmp(v, expect, 28) != 0)
        return fail("Sec-WebSocket-Accept is \"%.*s\", expected \"%s\"", (int)vlen, v, expect);
    return 0;
}

/* The key actually sent: the caller's, if given, else a random one. */
static int ws_pick_key(const char *const *headers, char keyline[64], const char **key,
                       size_t *klen)
{
    static const char name[] = "Sec-WebSocket-Key";
    const char *given = find_line(headers, name, sizeof name - 1);
    unsigned char nonce[16];
    if (given) {
        const char *end = given + strlen(given);
        *key = given + sizeof name;
        while (**key == ' ' || **key == '\t')
            (*key)++;
        while (end > *key && (end[-1] == ' ' || end[-1] == '\t'))
            end--;
        *klen = (size_t)(end - *key);
        return 0;
    }
    if (RAND_bytes(nonce, sizeof nonce) != 1)
        return ssl_fail("RAND_bytes");
    memcpy(keyline, "Sec-WebSocket-Key: ", 19);
    EVP_EncodeBlock((unsigned char *)keyline + 19, nonce, sizeof nonce); /* 24 chars */
    *key = keyline + 19;
    *klen = 24;
    return 0;
}

int peer_ws_handshake(peer *p, const char *path, const char *const *headers, peer_http *resp,
                      int timeout_ms)
{
    int64_t deadline = deadline_in(timeout_ms);
    char host[sizeof p->hostport + 8], keyline[64] = "";
    const char *defaults[] = {host, "Upgrade: websocket", "Connection: Upgrade", keyline,
                              "Sec-WebSocket-Version: 13", NULL};
    const char *key = NULL;
    size_t klen = 0;
    peer_http local, *r = resp ? resp : &local;
    int status;

    memset(r, 0, sizeof *r);
    snprintf(host, sizeof host, "Host: %s", p->hostport);
    if (ws_pick_key(headers, keyline, &key, &klen) < 0)
        return -1;
    if (!keyline[0]) /* placeholder only: send_request skips it for the caller's line */
        defaults[3] = "Sec-WebSocket-Key: (overridden)";
    if (send_request(p, path, defaults, headers, deadline) < 0)
        return -1;
    status = read_head(p, r, deadline);
    if (status == 101)
        status = ws_check_101(r->head, key, klen);
    if (!resp)
        peer_http_free(&local);
    return status;
}

int peer_ws_send_frame(peer *p, int fin, int rsv, int opcode, const void *payload, size_t len,
                       int mask)
{
    unsigned char hdr[14], key[4] = {0};
    size_t hlen = 2, i;
    unsigned char *frame;
    int r;

    hdr[0] = (unsigned char)((fin ? 0x80 : 0) | (rsv & 7) << 4 | (opcode & 0xF));
    if (len < 126) {
        hdr[1] = (unsigned char)len;
    } else if (len <= 0xFFFF) {
        hdr[1] = 126;
        hdr[2] = (unsigned char)(len >> 8);
        hdr[3] = (unsigned char)len;
        hlen = 4;
    } else {
        hdr[1] = 127;
        for (i = 0; i < 8; i++)
            hdr[2 + i] = (unsigned char)((uint64_t)len >> (56 - 8 * i));
        hlen = 10;
    }
    if (mask) {
        hdr[1] |= 0x80;
        if (RAND_bytes(key, 4) != 1)
            return ssl_fail("RAND_bytes");
        memcpy(hdr + hlen, key, 4);
        hlen += 4;
    }
    /* One buffer, one write: the frame leaves in as few segments as possible. */
    frame = malloc(hlen + len);
    if (!frame)
        return fail("out of memory");
    memcpy(frame, hdr, hlen);
    for (i = 0; i < len; i++)
        frame[hlen + i] = ((const unsigned char *)payload)[i] ^ key[i & 3];
    r = io_write_all(p, frame, hlen + len, deadline_in(PEER_WRITE_TIMEOUT_MS));
    free(frame);
    return r;
}

int peer_ws_send(peer *p, int opcode, const void *payload, size_t len)
{
    return peer_ws_send_frame(p, 1, 0, opcode, payload, len, 1);
}

int peer_ws_send_close(peer *p, int code, const char *reason)
{
    size_t rlen = reason ? strlen(reason) : 0;
    unsigned char *buf;
    int r;
    if (code < 0)
        return peer_ws_send_frame(p, 1, 0, PEER_WS_CLOSE, NULL, 0, 1);
    buf = malloc(2 + rlen);
    if (!buf)
        return fail("out of memory");
    buf[0] = (unsigned char)(code >> 8);
    buf[1] = (unsigned char)code;
    if (rlen)
        memcpy(buf + 2, reason, rlen);
    r = peer_ws_send_frame(p, 1, 0, PEER_WS_CLOSE, buf, 2 + rlen, 1);
    free(buf);
    return r;
}

/* Header length implied by the second byte: 2 + extended length + mask key. */
static size_t ws_header_len(unsigned char b1)
{
    size_t n = 2 + ((b1 & 0x7F) == 126 ? 2 : (b1 & 0x7F) == 127 ? 8 : 0);
    return n + (b1 & 0x80 ? 4 : 0);
}

static int read_frame(peer *p, peer_frame *f, int64_t deadline)
{
    const unsigned char *h;
    size_t hlen, i;
    uint64_t len;

    memset(f, 0, sizeof *f);
    if (ensure(p, 2, deadline) < 0)
        return -1;
    hlen = ws_header_len(p->buf[p->start + 1]);
    if (ensure(p, hlen, deadline) < 0)
        return -1;
    h = p->buf + p->start;
    len = h[1] & 0x7F;
    if (len == 126)
        len = (uint64_t)h[2] << 8 | h[3];
    else if (len == 127)
        for (len = 0, i = 0; i < 8; i++)
            len = len << 8 | h[2 + i];
    if (len > PEER_MAX_FRAME_LEN)
        return fail("frame too large: %llu bytes", (unsigned long long)len);
    if (ensure(p, hlen + (size_t)len, deadline) < 0)
        return -1;
    h = p->buf + p->start; /* ensure() may have moved the buffer */

    f->fin = h[0] >> 7;
    f->rsv = (h[0] >> 4) & 7;
    f->opcode = h[0] & 0xF;
    f->masked = h[1] >> 7;
    f->len = (size_t)len;
    f->payload = malloc(f->len + 1);
    if (!f->payload)
        return fail("out of memory");
    for (i = 0; i < f->len; i++)
        f->payload[i] = h[hlen + i] ^ (f->masked ? h[hlen - 4 + (i & 3)] : 0);
    f->payload[f->len] = '\0';
    consume(p, hlen + f->len);
    return 0;
}

int peer_ws_read_frame(peer *p, peer_frame *f, int timeout_ms)
{
    return read_frame(p, f, deadline_in(timeout_ms));
}

void peer_frame_free(peer_frame *f)
{
    if (!f)
        return;
    free(f->payload);
    f->payload = NULL;
    f->len = 0;
}

/* Frames a server must never send to a client that negotiated nothing. */
static int ws_check_server_frame(const peer_frame *f)
{
    if (f->masked)
        return fail("server frame is masked (RFC 6455 §5.1)");
    if (f->rsv)
        return fail("RSV bits 0x%x set (use peer_ws_read_frame for extensions)", f->rsv);
    if (f->opcode >= 8 && (!f->fin || f->len > 125))
        return fail("invalid control frame (opcode %d, fin %d, %zu bytes)", f->opcode,
                    f->fin, f->len);
    return 0;
}

/* Fold one data frame into the message being assembled (*op: -1 = none). */
static int ws_add_data(strbuf *msg, int *op, const peer_frame *f)
{
    if (f->opcode == PEER_WS_CONT && *op < 0)
        return fail("continuation frame without a message to continue");
    if (f->opcode != PEER_WS_CONT && *op >= 0)
        return fail("new data frame (opcode %d) inside a fragmented message", f->opcode);
    if (f->opcode != PEER_WS_CONT)
        *op = f->opcode;
    return sb_append(msg, f->payload, f->len);
}

/* One frame for peer_ws_read_message: 1 when *msg holds a complete message
 * (data, or the close payload), 0 to keep reading, -1 on error. */
static int ws_on_frame(peer *p, const peer_frame *f, strbuf *msg, int *op)
{
    if (ws_check_server_frame(f) < 0)
        return -1;
    switch (f->opcode) {
    case PEER_WS_PING:
        return peer_ws_send(p, PEER_WS_PONG, f->payload, f->len);
    case PEER_WS_PONG:
        return 0;
    case PEER_WS_CLOSE: /* a close ends any unfinished message */
        *op = PEER_WS_CLOSE;
        msg->len = 0;
        return sb_append(msg, f->payload, f->len) < 0 ? -1 : 1;
    case PEER_WS_CONT:
    case PEER_WS_TEXT:
    case PEER_WS_BINARY:
        return ws_add_data(msg, op, f) < 0 ? -1 : f->fin;
    default:
        return fail("reserved opcode 0x%x", f->opcode);
    }
}

int peer_ws_read_message(peer *p, unsigned char **out, size_t *len, int timeout_ms)
{
    int64_t deadline = deadline_in(timeout_ms);
    strbuf msg = {0};
    int op = -1;

    *out = NULL;
    *len = 0;
    for (;;) {
        peer_frame f;
        int r = read_frame(p, &f, deadline);
        if (r == 0)
            r = ws_on_frame(p, &f, &msg, &op);
        peer_frame_free(&f);
        if (r < 0) {
            free(msg.s);
            return -1;
        }
        if (r > 0) {
            *len = msg.len;
            *out = (unsigned char *)sb_take(&msg);
            return *out ? op : fail("out of memory");
        }
    }
}

int peer_close_code(const unsigned char *payload, size_t len)
{
    return len < 2 ? -1 : payload[0] << 8 | payload[1];
}

/* ---------------------------------------------------------------------- */
/* Misc                                                                    */
/* ---------------------------------------------------------------------- */

int peer_free_port(void)
{
    struct sockaddr_in a;
    socklen_t alen = sizeof a;
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), port = -1;
    if (fd < 0)
        return fail("socket: %s", strerror(errno));
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (bind(fd, (struct sockaddr *)&a, sizeof a) == 0 &&
        getsockname(fd, (struct sockaddr *)&a, &alen) == 0)
        port = ntohs(a.sin_port);
    else
        fail("bind/getsockname: %s", strerror(errno));
    close(fd);
    return port;
}

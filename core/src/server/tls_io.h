// ssews' own TLS on the server (docs/design-own-tls.md): the OpenSSL context
// built from tls_cert/tls_key, and reads and writes on a non-blocking socket
// that say plainly what they wait for. Used by the front door (handshake,
// request head, its answers), the WebSocket connections ssews frames over TLS
// (conn_io.cpp, ws_tcp_server.cpp) and the relay that hands other HTTP/1.1
// requests to libwebsockets (tls_relay.h). Service thread only.
#pragma once
#include <openssl/ssl.h>

#include <cstddef>
#include <string>

namespace sw {

// What a TLS call waits for, or how it ended.
enum class TlsWait { None, Read, Write, Closed, Failed };

// A server context for cert_file/key_file (PEM): TLS 1.2 at least, no
// renegotiation, partial writes from a buffer that may move between retries
// (the bytes stay the same: see conn_write), ALPN answering "h2" when h2 and
// offered, else "http/1.1" when offered, else none. Null, with why in err,
// when the files do not make a usable key pair.
SSL_CTX *tls_server_ctx(const std::string &cert_file, const std::string &key_file, bool h2, std::string &err);

// The handshake chose HTTP/2 (ALPN "h2").
bool tls_is_h2(SSL *ssl);

// One step of the server handshake on ssl. None: done.
TlsWait tls_accept(SSL *ssl);

// Reads up to n decrypted bytes. Returns the count (>0), or 0 with why set:
// Read/Write (try again when the socket is so), Closed (close_notify or the
// peer's end of the connection), Failed.
size_t tls_read(SSL *ssl, void *buf, size_t n, TlsWait &why);

// Writes up to n bytes. Returns the count taken (may be less), or 0 with
// why set as for tls_read. After Read/Write the same bytes must be offered
// again first (more may follow them).
size_t tls_write(SSL *ssl, const void *buf, size_t n, TlsWait &why);

// Sends close_notify (once, without waiting for the peer's) and frees ssl.
// The socket stays open: its owner ends it.
void tls_end(SSL *ssl);

}  // namespace sw

// ssews' own TLS: context and non-blocking reads and writes. See tls_io.h.
#include "server/tls_io.h"

#include <openssl/err.h>

#include <cerrno>
#include <climits>
#include <cstring>

namespace sw {

namespace {

// ALPN: http/1.1 when the client offers it; otherwise none is chosen (the
// handshake goes on without ALPN, which every HTTP/1.1 client accepts).
int select_alpn(SSL *, const unsigned char **out, unsigned char *outlen, const unsigned char *in,
                unsigned int inlen, void *) {
  static const unsigned char kHttp11[] = {8, 'h', 't', 't', 'p', '/', '1', '.', '1'};
  unsigned char *chosen = nullptr;
  if (SSL_select_next_proto(&chosen, outlen, kHttp11, sizeof kHttp11, in, inlen) != OPENSSL_NPN_NEGOTIATED)
    return SSL_TLSEXT_ERR_NOACK;
  *out = chosen;
  return SSL_TLSEXT_ERR_OK;
}

std::string openssl_error() {
  unsigned long e = ERR_get_error();
  if (!e) return "unknown error";
  char buf[256];
  ERR_error_string_n(e, buf, sizeof buf);
  ERR_clear_error();
  return buf;
}

TlsWait wait_of(SSL *ssl, int ret) {
  switch (SSL_get_error(ssl, ret)) {
    case SSL_ERROR_WANT_READ:
      return TlsWait::Read;
    case SSL_ERROR_WANT_WRITE:
      return TlsWait::Write;
    case SSL_ERROR_ZERO_RETURN:
      return TlsWait::Closed;
    case SSL_ERROR_SYSCALL:
      // The peer's end of the connection without close_notify (EOF or a
      // reset): the connection is over either way.
      ERR_clear_error();
      return TlsWait::Closed;
    default:
      ERR_clear_error();
      return TlsWait::Failed;
  }
}

}  // namespace

SSL_CTX *tls_server_ctx(const std::string &cert_file, const std::string &key_file, std::string &err) {
  SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
  if (!ctx) {
    err = openssl_error();
    return nullptr;
  }
  SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
  SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION | SSL_OP_NO_COMPRESSION | SSL_OP_CIPHER_SERVER_PREFERENCE);
  SSL_CTX_set_mode(
      ctx, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER | SSL_MODE_RELEASE_BUFFERS);
  if (SSL_CTX_use_certificate_chain_file(ctx, cert_file.c_str()) != 1 ||
      SSL_CTX_use_PrivateKey_file(ctx, key_file.c_str(), SSL_FILETYPE_PEM) != 1 ||
      SSL_CTX_check_private_key(ctx) != 1) {
    err = openssl_error();
    SSL_CTX_free(ctx);
    return nullptr;
  }
  SSL_CTX_set_alpn_select_cb(ctx, select_alpn, nullptr);
  return ctx;
}

TlsWait tls_accept(SSL *ssl) {
  ERR_clear_error();
  int r = SSL_accept(ssl);
  if (r == 1) return TlsWait::None;
  TlsWait w = wait_of(ssl, r);
  return w == TlsWait::Closed ? TlsWait::Failed : w;
}

size_t tls_read(SSL *ssl, void *buf, size_t n, TlsWait &why) {
  ERR_clear_error();
  int r = SSL_read(ssl, buf, static_cast<int>(n > INT_MAX ? INT_MAX : n));
  if (r > 0) {
    why = TlsWait::None;
    return static_cast<size_t>(r);
  }
  why = wait_of(ssl, r);
  return 0;
}

size_t tls_write(SSL *ssl, const void *buf, size_t n, TlsWait &why) {
  why = TlsWait::None;
  if (!n) return 0;
  ERR_clear_error();
  int r = SSL_write(ssl, buf, static_cast<int>(n > INT_MAX ? INT_MAX : n));
  if (r > 0) return static_cast<size_t>(r);
  why = wait_of(ssl, r);
  return 0;
}

void tls_end(SSL *ssl) {
  if (!ssl) return;
  ERR_clear_error();
  // Without waiting for the peer's close_notify: our side is done.
  if (SSL_is_init_finished(ssl)) SSL_shutdown(ssl);
  ERR_clear_error();
  SSL_free(ssl);
}

}  // namespace sw

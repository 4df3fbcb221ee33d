// ssews' own TLS: context and non-blocking reads and writes. See tls_io.h.
#include "server/tls_io.h"

#include <openssl/err.h>

#include <cerrno>
#include <climits>
#include <cstring>

namespace sw {

namespace {

// ALPN, in the server's order of preference: h2 (when on), http/1.1; none
// of them offered: none chosen (the handshake goes on without ALPN, which
// every HTTP/1.1 client accepts).
const unsigned char kH2First[] = {2, 'h', '2', 8, 'h', 't', 't', 'p', '/', '1', '.', '1'};
const unsigned char *const kHttp11Only = kH2First + 3;

int select_alpn(SSL *, const unsigned char **out, unsigned char *outlen, const unsigned char *in,
                unsigned int inlen, void *h2) {
  const unsigned char *ours = h2 ? kH2First : kHttp11Only;
  unsigned int ours_len = h2 ? sizeof kH2First : sizeof kH2First - 3;
  // Our list first: the server's preference wins (SSL_select_next_proto
  // walks its first list in order).
  for (unsigned int i = 0; i < ours_len; i += 1u + ours[i])
    for (unsigned int j = 0; j < inlen; j += 1u + in[j])
      if (in[j] == ours[i] && j + 1u + in[j] <= inlen && !memcmp(in + j + 1, ours + i + 1, ours[i])) {
        *out = in + j + 1;
        *outlen = in[j];
        return SSL_TLSEXT_ERR_OK;
      }
  return SSL_TLSEXT_ERR_NOACK;
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

SSL_CTX *tls_server_ctx(const std::string &cert_file, const std::string &key_file, bool h2,
                        std::string &err) {
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
  // The argument is only tested for null: h2 on or off.
  SSL_CTX_set_alpn_select_cb(ctx, select_alpn, h2 ? ctx : nullptr);
  return ctx;
}

bool tls_is_h2(SSL *ssl) {
  const unsigned char *p = nullptr;
  unsigned int n = 0;
  SSL_get0_alpn_selected(ssl, &p, &n);
  return n == 2 && p[0] == 'h' && p[1] == '2';
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

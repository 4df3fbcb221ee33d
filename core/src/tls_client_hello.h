// The first flight of a TLS client, read before any handshake: the bytes
// peeked (MSG_PEEK, unencrypted) from a new connection, answered as "need
// more bytes", "not TLS" (with why) or a complete ClientHello with what the
// front door needs to route it: the ALPN protocols offered (RFC 7301), the
// SNI host name (RFC 6066) and the versions (RFC 8446 4.1.2, 4.2.1).
//
// Why (docs/design-own-tls.md): on a TLS server the front door does the TLS
// handshake itself (OpenSSL), so ssews reads the WebSocket frames over TLS
// as it does over plain TCP; it peeks the ClientHello first to tell TLS from
// a plaintext request sent to the TLS port, and to bound what a handshake
// may send before it starts.
//
// Pure: no I/O. The caller re-calls with all the bytes peeked so far (the
// answer depends only on them; a prefix never answers differently from the
// whole unless it answers NeedMore). The ClientHello may come in several
// handshake records (RFC 8446 5.1, RFC 5246 6.2.1); every record must be a
// handshake record until it is whole. Every length is checked against the
// bytes it must fit in; nothing past the input is read. Unit tests at every
// split point and fragmentation in tests/unit/test_tls_client_hello.cpp,
// fuzzed by tests/fuzz/fuzz_tls_client_hello.cpp.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace sw {

// The most bytes a ClientHello may take, records and all, before the
// connection is answered as not TLS (too big). Browsers send 0.5 to 2 KiB
// (post-quantum key shares push them towards 2 KiB).
constexpr size_t kMaxClientHelloBytes = 16384;

struct ClientHello {
  uint16_t record_version = 0;  // legacy_record_version of the first record (0x0301 usually)
  uint16_t legacy_version = 0;  // ClientHello.legacy_version (0x0303 from TLS 1.2 and 1.3 clients)
  // supported_versions (extension 43), in the client's order; empty when absent.
  std::vector<uint16_t> supported_versions;
  bool has_alpn = false;          // extension 16 present
  std::vector<std::string> alpn;  // its protocol names, in the client's order
  bool has_sni = false;           // extension 0 present
  std::string sni_host;           // its host_name entry (no NUL in it)
  size_t bytes = 0;               // record bytes the ClientHello took, headers included

  // The client offers this ALPN protocol name.
  bool offers(std::string_view protocol) const;
  // The highest version the client offers: the top of supported_versions
  // (GREASE values skipped), else legacy_version.
  uint16_t max_version() const;
};

struct ClientHelloResult {
  enum class Verdict : uint8_t { NeedMore, NotTls, Complete };
  Verdict verdict = Verdict::NeedMore;
  std::string why;    // NotTls: what was wrong, for a log line
  ClientHello hello;  // Complete: what was read
};

// Reads the first bytes a client sent on a new connection (p[0..n)).
// NeedMore: every byte so far fits a ClientHello and it is not whole yet.
// NotTls: the first byte is not 0x16 (a handshake record), a record or the
// handshake message is malformed (a length that overruns what holds it, a
// record that is not a handshake record before the ClientHello is whole, a
// message that is not a ClientHello), or the ClientHello would take more
// than max_bytes.
ClientHelloResult parse_client_hello(const uint8_t *p, size_t n, size_t max_bytes = kMaxClientHelloBytes);

}  // namespace sw

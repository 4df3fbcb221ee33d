#include "tls_client_hello.h"

#include <algorithm>
#include <utility>

namespace sw {

namespace {

constexpr uint8_t kHandshakeRecord = 0x16;      // ContentType handshake (RFC 8446 5.1)
constexpr uint8_t kClientHello = 1;             // HandshakeType client_hello (4)
constexpr size_t kRecordHeader = 5;             // type, legacy_record_version, length
constexpr size_t kMaxRecordPayload = 16384;     // 2^14 (RFC 8446 5.1, RFC 5246 6.2.1)
constexpr uint16_t kExtServerName = 0;          // RFC 6066 3
constexpr uint16_t kExtAlpn = 16;               // RFC 7301 3.1
constexpr uint16_t kExtSupportedVersions = 43;  // RFC 8446 4.2.1

// Reads big-endian fields from [p, p + n); every read checks it fits.
class Reader {
 public:
  Reader(const uint8_t *p, size_t n) : p_(p), n_(n) {}
  size_t left() const { return n_ - off_; }
  bool u8(uint8_t &v) {
    if (left() < 1) return false;
    v = p_[off_++];
    return true;
  }
  bool u16(uint16_t &v) {
    if (left() < 2) return false;
    v = static_cast<uint16_t>(p_[off_] << 8 | p_[off_ + 1]);
    off_ += 2;
    return true;
  }
  // The next len bytes as a reader of their own.
  bool sub(size_t len, Reader &out) {
    if (left() < len) return false;
    out = Reader(p_ + off_, len);
    off_ += len;
    return true;
  }
  // A vector with a 1- or 2-byte length in front (RFC 8446 3.4).
  bool vec8(Reader &out) {
    uint8_t len;
    return u8(len) && sub(len, out);
  }
  bool vec16(Reader &out) {
    uint16_t len;
    return u16(len) && sub(len, out);
  }
  std::string_view rest() const { return {reinterpret_cast<const char *>(p_ + off_), left()}; }

 private:
  const uint8_t *p_;
  size_t n_;
  size_t off_ = 0;
};

// GREASE values (RFC 8701): 0x?A?A with both bytes equal.
bool is_grease(uint16_t v) {
  return (v & 0x0f0f) == 0x0a0a && (v >> 8) == (v & 0xff);
}

// ProtocolNameList (RFC 7301 3.1): at least one name, each 1 to 255 bytes.
const char *read_alpn(Reader ext, ClientHello &hello) {
  Reader list(nullptr, 0);
  if (!ext.vec16(list) || ext.left() != 0) return "ALPN extension: list length does not match the extension";
  if (list.left() == 0) return "ALPN extension: empty protocol list";
  while (list.left() > 0) {
    Reader name(nullptr, 0);
    if (!list.vec8(name)) return "ALPN extension: a protocol name overruns the list";
    if (name.left() == 0) return "ALPN extension: an empty protocol name";
    hello.alpn.emplace_back(name.rest());
  }
  hello.has_alpn = true;
  return nullptr;
}

// ServerNameList (RFC 6066 3): entries of a name type and a name; only
// host_name (0) is defined, and a list holds at most one of each type.
const char *read_sni(Reader ext, ClientHello &hello) {
  Reader list(nullptr, 0);
  if (!ext.vec16(list) || ext.left() != 0)
    return "server_name extension: list length does not match the extension";
  if (list.left() == 0) return "server_name extension: empty name list";
  bool have_host = false;
  while (list.left() > 0) {
    uint8_t type;
    Reader name(nullptr, 0);
    if (!list.u8(type) || !list.vec16(name)) return "server_name extension: a name overruns the list";
    if (type != 0) continue;  // unknown types share the 2-byte length (RFC 6066 3); ignored
    if (have_host) return "server_name extension: more than one host_name";
    if (name.left() == 0) return "server_name extension: an empty host_name";
    std::string_view host = name.rest();
    if (host.find('\0') != std::string_view::npos) return "server_name extension: a NUL in host_name";
    hello.sni_host.assign(host.data(), host.size());
    have_host = true;
  }
  hello.has_sni = true;
  return nullptr;
}

// supported_versions in a ClientHello (RFC 8446 4.2.1): 2 to 254 bytes of versions.
const char *read_versions(Reader ext, ClientHello &hello) {
  Reader list(nullptr, 0);
  if (!ext.vec8(list) || ext.left() != 0)
    return "supported_versions extension: length does not match the extension";
  if (list.left() < 2 || list.left() % 2 != 0) return "supported_versions extension: not a list of versions";
  uint16_t v;
  while (list.u16(v)) hello.supported_versions.push_back(v);
  return nullptr;
}

// The ClientHello's body (RFC 8446 4.1.2; RFC 5246 7.4.1.2, where the
// extensions may be absent).
const char *read_body(Reader body, ClientHello &hello) {
  Reader random(nullptr, 0), session(nullptr, 0), suites(nullptr, 0), compression(nullptr, 0);
  if (!body.u16(hello.legacy_version)) return "ClientHello: no version";
  if ((hello.legacy_version >> 8) != 3) return "ClientHello: version is not 3.x";
  if (!body.sub(32, random)) return "ClientHello: random overruns the message";
  if (!body.vec8(session)) return "ClientHello: session id overruns the message";
  if (session.left() > 32) return "ClientHello: session id longer than 32 bytes";
  if (!body.vec16(suites)) return "ClientHello: cipher suites overrun the message";
  if (suites.left() < 2 || suites.left() % 2 != 0)
    return "ClientHello: cipher suites are not a list of suites";
  if (!body.vec8(compression)) return "ClientHello: compression methods overrun the message";
  if (compression.left() < 1) return "ClientHello: no compression method";
  if (body.left() == 0) return nullptr;  // no extensions (TLS 1.2 and older may omit them)
  Reader exts(nullptr, 0);
  if (!body.vec16(exts)) return "ClientHello: extensions overrun the message";
  if (body.left() != 0) return "ClientHello: bytes after the extensions";
  std::vector<uint16_t> seen;
  while (exts.left() > 0) {
    uint16_t type;
    Reader ext(nullptr, 0);
    if (!exts.u16(type) || !exts.vec16(ext)) return "ClientHello: an extension overruns the extensions";
    if (std::find(seen.begin(), seen.end(), type) != seen.end())
      return "ClientHello: an extension appears twice";
    seen.push_back(type);
    const char *why = nullptr;
    if (type == kExtAlpn) {
      why = read_alpn(ext, hello);
    } else if (type == kExtServerName) {
      why = read_sni(ext, hello);
    } else if (type == kExtSupportedVersions) {
      why = read_versions(ext, hello);
    }
    if (why) return why;
  }
  return nullptr;
}

ClientHelloResult not_tls(std::string why) {
  ClientHelloResult r;
  r.verdict = ClientHelloResult::Verdict::NotTls;
  r.why = std::move(why);
  return r;
}

ClientHelloResult too_big(size_t max_bytes) {
  return not_tls("the ClientHello would take more than " + std::to_string(max_bytes) + " bytes");
}

}  // namespace

bool ClientHello::offers(std::string_view protocol) const {
  return std::find(alpn.begin(), alpn.end(), protocol) != alpn.end();
}

uint16_t ClientHello::max_version() const {
  uint16_t top = 0;
  for (uint16_t v : supported_versions)
    if (!is_grease(v)) top = std::max(top, v);
  return top ? top : legacy_version;
}

ClientHelloResult parse_client_hello(const uint8_t *p, size_t n, size_t max_bytes) {
  ClientHelloResult r;  // NeedMore
  if (n == 0) return r;
  if (p[0] != kHandshakeRecord) return not_tls("the first byte is not a TLS handshake record (0x16)");
  std::string hs;  // the handshake message's bytes so far, from the records' payloads
  size_t off = 0;  // where the next record starts
  for (;;) {
    // Each check below reads only bytes at fixed places that are present,
    // so a prefix of the input never answers otherwise than NeedMore or as
    // the whole input does.
    if (off + kRecordHeader >= max_bytes) return too_big(max_bytes);
    if (off < n && p[off] != kHandshakeRecord)
      return not_tls("a record before the ClientHello's end is not a handshake record");
    if (off + 1 < n && p[off + 1] != 3) return not_tls("record version is not 3.x");
    if (off + kRecordHeader > n) return r;
    const uint16_t version = static_cast<uint16_t>(p[off + 1] << 8 | p[off + 2]);
    const size_t len = static_cast<size_t>(p[off + 3] << 8 | p[off + 4]);
    if (len == 0) return not_tls("an empty handshake record");
    if (len > kMaxRecordPayload) return not_tls("a record longer than 2^14 bytes");
    if (off + kRecordHeader + len > max_bytes) return too_big(max_bytes);
    if (off == 0) r.hello.record_version = version;
    const size_t have = std::min(len, n - off - kRecordHeader);
    hs.append(reinterpret_cast<const char *>(p + off + kRecordHeader), have);
    if (hs.empty()) return r;
    if (hs[0] != kClientHello) return not_tls("the first handshake message is not a ClientHello");
    if (hs.size() < 4) {
      if (have < len) return r;
      off += kRecordHeader + len;
      continue;
    }
    const size_t body_len = static_cast<size_t>(static_cast<uint8_t>(hs[1])) << 16 |
                            static_cast<size_t>(static_cast<uint8_t>(hs[2])) << 8 |
                            static_cast<uint8_t>(hs[3]);
    // What the message still needs past this record takes at least one
    // more record header: the least the whole can take must fit max_bytes.
    const size_t before = hs.size() - have;  // its bytes in earlier records (fewer than 4 + body_len)
    const size_t after = 4 + body_len - before;
    if (after > len && off + kRecordHeader + len + kRecordHeader + (after - len) > max_bytes)
      return too_big(max_bytes);
    if (have < len) return r;
    off += kRecordHeader + len;
    if (hs.size() < 4 + body_len) continue;
    if (hs.size() > 4 + body_len) return not_tls("bytes after the ClientHello in its last record");
    Reader body(reinterpret_cast<const uint8_t *>(hs.data()) + 4, body_len);
    if (const char *why = read_body(body, r.hello)) return not_tls(why);
    r.hello.bytes = off;
    r.verdict = ClientHelloResult::Verdict::Complete;
    return r;
  }
}

}  // namespace sw

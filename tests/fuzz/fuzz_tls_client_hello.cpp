// libFuzzer target for sw::parse_client_hello (the first bytes a client
// sends to a TLS server, peeked before any handshake).
//
// Input: the first two bytes are where the rest is cut (a prefix, as the
// caller sees it between TCP reads), the third a bound (max_bytes: the
// real one, or a small one so the bound is hit); the rest is what the client sent, copied to a buffer of
// exactly its size so ASan sees any read past it.
//
// Invariants (abort() on violation): a prefix answers NeedMore or exactly
// what the whole answers; a complete ClientHello took at most max_bytes and
// at most the input; an answer of NotTls says why; ALPN names are 1 to 255
// bytes; an SNI host name is not empty and has no NUL.
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "fuzz_util.h"
#include "tls_client_hello.h"

namespace {

using Verdict = sw::ClientHelloResult::Verdict;

std::string show(const sw::ClientHelloResult &r) {
  if (r.verdict == Verdict::NeedMore) return "need-more";
  if (r.verdict == Verdict::NotTls) return "not-tls:" + r.why;
  const sw::ClientHello &h = r.hello;
  std::string s = "hello:" + std::to_string(h.record_version) + ":" + std::to_string(h.legacy_version) + ":" +
                  std::to_string(h.bytes) + ":";
  for (uint16_t v : h.supported_versions) s += std::to_string(v) + ";";
  s += h.has_alpn ? "alpn:" : "none:";
  for (const auto &a : h.alpn) s += std::to_string(a.size()) + ":" + a;
  s += h.has_sni ? "sni:" + h.sni_host : "none";
  return s;
}

sw::ClientHelloResult run(const std::vector<uint8_t> &in, size_t n, size_t max) {
  std::vector<uint8_t> exact(in.begin(), in.begin() + static_cast<std::ptrdiff_t>(n));
  sw::ClientHelloResult r = sw::parse_client_hello(exact.data(), exact.size(), max);
  if (r.verdict == Verdict::NotTls) fuzz::check(!r.why.empty());
  if (r.verdict == Verdict::Complete) {
    const sw::ClientHello &h = r.hello;
    fuzz::check(h.bytes <= n && h.bytes <= max && h.bytes > 9);
    fuzz::check(h.has_alpn == !h.alpn.empty());
    for (const auto &a : h.alpn) fuzz::check(!a.empty() && a.size() <= 255);
    if (!h.has_sni) fuzz::check(h.sni_host.empty());
    fuzz::check(h.sni_host.find('\0') == std::string::npos);
    // What the ClientHello took, alone, gives the same answer.
    fuzz::check(show(sw::parse_client_hello(exact.data(), h.bytes, max)) == show(r));
  }
  return r;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size < 3) return 0;
  std::vector<uint8_t> in(data + 3, data + size);
  size_t cut = (static_cast<size_t>(data[0]) << 8 | data[1]) % (in.size() + 1);
  // Half the inputs get the real bound, the others a small one (32 to 4096).
  size_t max = data[2] & 1 ? sw::kMaxClientHelloBytes : 32 + (static_cast<size_t>(data[2]) << 4);
  const std::string whole = show(run(in, in.size(), max));
  const std::string part = show(run(in, cut, max));
  fuzz::check(part == "need-more" || part == whole);
  return 0;
}

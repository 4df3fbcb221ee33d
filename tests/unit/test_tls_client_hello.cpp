// The ClientHello reader (tls_client_hello.h): ClientHellos OpenSSL's own
// client writes (into a memory BIO, no files), fed whole, at every split
// point, and re-cut into records at every point; hand-built ones with each
// length made to overrun; every byte of a real one corrupted. A prefix must
// answer NeedMore or what the whole answers, and nothing may crash.
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
// cmocka 1.1.5's header has no extern "C" guard of its own.
extern "C" {
#include <cmocka.h>
}

#include <openssl/ssl.h>

#include <cstring>
#include <string>
#include <vector>

#include "tls_client_hello.h"

namespace {

using Verdict = sw::ClientHelloResult::Verdict;

// The first flight of an OpenSSL client: alpn as comma-separated names ("":
// none), sni ("": none), max_version (0: the library's highest).
std::string openssl_hello(const std::string &alpn, const std::string &sni, int max_version = 0) {
  SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
  assert_non_null(ctx);
  SSL *ssl = SSL_new(ctx);
  assert_non_null(ssl);
  BIO *rb = BIO_new(BIO_s_mem()), *wb = BIO_new(BIO_s_mem());
  SSL_set_bio(ssl, rb, wb);
  SSL_set_connect_state(ssl);
  if (max_version) assert_int_equal(SSL_set_max_proto_version(ssl, max_version), 1);
  if (!alpn.empty()) {
    std::string wire;
    size_t start = 0;
    for (;;) {
      size_t end = alpn.find(',', start);
      std::string name = alpn.substr(start, end == std::string::npos ? std::string::npos : end - start);
      wire += static_cast<char>(name.size());
      wire += name;
      if (end == std::string::npos) break;
      start = end + 1;
    }
    // 0 is success here (OpenSSL's own convention for this call).
    assert_int_equal(SSL_set_alpn_protos(ssl, reinterpret_cast<const unsigned char *>(wire.data()),
                                         static_cast<unsigned>(wire.size())),
                     0);
  }
  if (!sni.empty()) assert_int_equal(SSL_set_tlsext_host_name(ssl, sni.c_str()), 1);
  assert_int_equal(SSL_do_handshake(ssl), -1);
  assert_int_equal(SSL_get_error(ssl, -1), SSL_ERROR_WANT_READ);
  char *data = nullptr;
  long len = BIO_get_mem_data(wb, &data);
  assert_true(len > 0);
  std::string out(data, static_cast<size_t>(len));
  SSL_free(ssl);
  SSL_CTX_free(ctx);
  return out;
}

// The first n bytes of b.
sw::ClientHelloResult prefix(const std::string &b, size_t n, size_t max = sw::kMaxClientHelloBytes) {
  return sw::parse_client_hello(reinterpret_cast<const uint8_t *>(b.data()), n, max);
}
sw::ClientHelloResult parse(const std::string &b, size_t max = sw::kMaxClientHelloBytes) {
  return prefix(b, b.size(), max);
}

std::string join(const std::vector<std::string> &v) {
  std::string s;
  for (const auto &x : v) s += (s.empty() ? "" : ",") + x;
  return s;
}

// One line for a result, so two can be compared.
std::string show(const sw::ClientHelloResult &r) {
  if (r.verdict == Verdict::NeedMore) return "need-more";
  if (r.verdict == Verdict::NotTls) return "not-tls:" + r.why;
  const sw::ClientHello &h = r.hello;
  std::string vs;
  for (uint16_t v : h.supported_versions) vs += std::to_string(v) + ";";
  return "hello rec=" + std::to_string(h.record_version) + " ver=" + std::to_string(h.legacy_version) +
         " sv=" + vs + " alpn=" + (h.has_alpn ? "[" + join(h.alpn) + "]" : "none") +
         " sni=" + (h.has_sni ? "[" + h.sni_host + "]" : "none");
}

// Every prefix answers NeedMore, or what the whole answers.
void expect_prefixes_agree(const std::string &b, size_t max = sw::kMaxClientHelloBytes) {
  const std::string whole = show(parse(b, max));
  for (size_t cut = 0; cut < b.size(); cut++) {
    std::string got = show(prefix(b, cut, max));
    if (got != "need-more" && got != whole)
      fail_msg("prefix %zu: got %s, whole %s", cut, got.c_str(), whole.c_str());
  }
}

// Every prefix of a whole ClientHello answers NeedMore.
void expect_need_more_until_whole(const std::string &b) {
  for (size_t cut = 0; cut < b.size(); cut++) {
    sw::ClientHelloResult r = prefix(b, cut);
    if (r.verdict != Verdict::NeedMore) fail_msg("prefix %zu of %zu: %s", cut, b.size(), show(r).c_str());
  }
}

std::string u16(size_t v) {
  return {static_cast<char>(v >> 8 & 0xff), static_cast<char>(v & 0xff)};
}
std::string u24(size_t v) {
  return static_cast<char>(v >> 16 & 0xff) + u16(v);
}

// The handshake message(s) in records: one record a piece of at most frag bytes.
std::string in_records(const std::string &msg, size_t frag, uint8_t type = 0x16) {
  std::string out;
  for (size_t i = 0; i < msg.size(); i += frag) {
    std::string piece = msg.substr(i, frag);
    out += static_cast<char>(type) + std::string("\x03\x01", 2) + u16(piece.size()) + piece;
  }
  return out;
}

// The handshake message inside records (of any sizes): their payloads, joined.
std::string message_of(const std::string &records) {
  std::string msg;
  for (size_t i = 0; i + 5 <= records.size();) {
    size_t len = static_cast<uint8_t>(records[i + 3]) << 8 | static_cast<uint8_t>(records[i + 4]);
    msg += records.substr(i + 5, len);
    i += 5 + len;
  }
  return msg;
}

// Hand-built ClientHello pieces (RFC 8446 4.1.2).
std::string ext(uint16_t type, const std::string &data) {
  return u16(type) + u16(data.size()) + data;
}
std::string alpn_ext(const std::vector<std::string> &names) {
  std::string list;
  for (const auto &n : names) list += static_cast<char>(n.size()) + n;
  return ext(16, u16(list.size()) + list);
}
std::string sni_ext(const std::string &host) {
  std::string entry = std::string(1, '\0') + u16(host.size()) + host;
  return ext(0, u16(entry.size()) + entry);
}
std::string body_with(const std::string &exts, bool with_exts = true) {
  std::string b = std::string("\x03\x03", 2) + std::string(32, 'r');  // version, random
  b += std::string(1, '\0');                                          // no session id
  b += u16(2) + std::string("\x13\x01", 2);                           // one suite
  b += std::string("\x01\x00", 2);                                    // null compression
  if (with_exts) b += u16(exts.size()) + exts;
  return b;
}
std::string hello_msg(const std::string &body) {
  return std::string(1, '\x01') + u24(body.size()) + body;
}
std::string hand_hello(const std::string &exts) {
  return in_records(hello_msg(body_with(exts)), 16384);
}

void expect_not_tls(const std::string &b, const char *why_part) {
  sw::ClientHelloResult r = parse(b);
  if (r.verdict != Verdict::NotTls || r.why.find(why_part) == std::string::npos)
    fail_msg("want not-tls with \"%s\", got %s", why_part, show(r).c_str());
  expect_prefixes_agree(b);
}

void test_openssl_hellos(void **) {
  struct Case {
    const char *alpn, *sni;
    int max_version;
    const char *want_alpn;
  } cases[] = {
      {"h2,http/1.1", "example.com", 0, "h2,http/1.1"},
      {"h2,http/1.1", "", 0, "h2,http/1.1"},
      {"http/1.1", "", 0, "http/1.1"},
      {"http/1.1", "ws.example.org", 0, "http/1.1"},
      {"", "example.com", 0, nullptr},
      {"", "", 0, nullptr},
      {"h2,http/1.1", "example.com", TLS1_2_VERSION, "h2,http/1.1"},
      {"", "", TLS1_2_VERSION, nullptr},
  };
  for (const Case &c : cases) {
    std::string b = openssl_hello(c.alpn, c.sni, c.max_version);
    sw::ClientHelloResult r = parse(b);
    if (r.verdict != Verdict::Complete) fail_msg("alpn %s sni %s: %s", c.alpn, c.sni, show(r).c_str());
    const sw::ClientHello &h = r.hello;
    assert_int_equal(h.bytes, b.size());
    assert_int_equal(h.legacy_version, 0x0303);
    assert_int_equal(h.record_version >> 8, 3);
    if (c.want_alpn) {
      assert_true(h.has_alpn);
      assert_string_equal(join(h.alpn).c_str(), c.want_alpn);
    } else {
      assert_false(h.has_alpn);
      assert_true(h.alpn.empty());
    }
    assert_int_equal(h.offers("h2"), std::string(c.alpn).find("h2") != std::string::npos);
    assert_false(h.offers("h"));
    assert_int_equal(h.has_sni, *c.sni != '\0');
    assert_string_equal(h.sni_host.c_str(), c.sni);
    if (c.max_version == TLS1_2_VERSION) {
      assert_true(h.supported_versions.empty());
      assert_int_equal(h.max_version(), 0x0303);
    } else {
      assert_int_equal(h.max_version(), 0x0304);
    }
    expect_need_more_until_whole(b);
    // More bytes behind it (what the client sends next) change nothing.
    std::string more = b + std::string("\x14\x03\x03\x00\x01\x01", 6);
    assert_string_equal(show(parse(more)).c_str(), show(r).c_str());
    assert_int_equal(parse(more).hello.bytes, b.size());
  }
}

// The same message in two records cut at every point, in one record a
// byte, and in three: the same answer, and NeedMore for every prefix.
void test_split_across_records(void **) {
  const std::string b = openssl_hello("h2,http/1.1", "example.com");
  const std::string want = show(parse(b));
  const std::string msg = message_of(b);
  assert_int_equal(msg.size() + 5, b.size());
  for (size_t cut = 1; cut < msg.size(); cut++) {
    std::string two = in_records(msg.substr(0, cut), 16384) + in_records(msg.substr(cut), 16384);
    std::string got = show(parse(two));
    if (got != want) fail_msg("records cut at %zu: got %s, want %s", cut, got.c_str(), want.c_str());
    assert_int_equal(parse(two).hello.bytes, two.size());
    if (cut % 17 == 0 || cut < 6) expect_need_more_until_whole(two);
  }
  std::string ones = in_records(msg, 1);
  assert_string_equal(show(parse(ones)).c_str(), want.c_str());
  expect_need_more_until_whole(ones);
  assert_string_equal(show(parse(in_records(msg, 100))).c_str(), want.c_str());
  // A byte a record takes 6 bytes a byte: past the bound, not TLS.
  assert_int_equal(parse(ones, ones.size() - 1).verdict, Verdict::NotTls);
}

// A ClientHello bigger than a record (a long ALPN list): OpenSSL splits it
// across records itself. Within the bound it is read; past it, not TLS.
void test_hello_bigger_than_a_record(void **) {
  std::string alpn;
  for (int i = 0; i < 100; i++)
    alpn += (i ? "," : "") + std::string(199, static_cast<char>('a' + i % 26)) + "x";
  alpn += ",h2";
  std::string b = openssl_hello(alpn, "big.example");
  assert_true(b.size() > 16384 + 5);
  assert_int_equal(static_cast<uint8_t>(b[16384 + 5]), 0x16);  // a second record
  sw::ClientHelloResult r = parse(b, 65536);
  assert_int_equal(r.verdict, Verdict::Complete);
  assert_int_equal(r.hello.alpn.size(), 101);
  assert_true(r.hello.offers("h2"));
  assert_string_equal(r.hello.sni_host.c_str(), "big.example");
  // With the default bound it is refused as soon as its first record header is read.
  sw::ClientHelloResult small = prefix(b, 5);
  assert_int_equal(small.verdict, Verdict::NotTls);
  assert_non_null(strstr(small.why.c_str(), "16384"));
  assert_int_equal(prefix(b, 4).verdict, Verdict::NeedMore);
  expect_prefixes_agree(b);
  expect_prefixes_agree(b, 65536);
}

void test_not_tls(void **) {
  expect_not_tls("GET / HTTP/1.1\r\nHost: x\r\n\r\n", "first byte");
  expect_not_tls(std::string("\x80\x2e\x01\x03\x01", 5), "first byte");  // SSLv2-style hello
  expect_not_tls(std::string("\x16\x02\x01\x00\x10", 5), "record version");
  expect_not_tls(std::string("\x16\x03\x01\x00\x00", 5), "empty handshake record");
  expect_not_tls(std::string("\x16\x03\x01\x40\x01", 5), "longer than 2^14");
  // A ServerHello (2), not a ClientHello.
  expect_not_tls(std::string("\x16\x03\x03\x00\x04\x02\x00\x00\x00", 9), "not a ClientHello");
  // A handshake length that cannot fit the bound: refused at once.
  expect_not_tls(std::string("\x16\x03\x01\x00\x04\x01\x00\x50\x00", 9), "more than 16384");
  // A record length that cannot fit the bound.
  assert_int_equal(parse(std::string("\x16\x03\x01\x01\x00", 5), 200).verdict, Verdict::NotTls);
  // The first record ends the message early; the next is application data.
  std::string msg = hello_msg(body_with(alpn_ext({"h2"})));
  std::string mixed = in_records(msg.substr(0, 10), 100) + in_records(msg.substr(10), 1000, 0x17);
  expect_not_tls(mixed, "not a handshake record");
  // A change_cipher_spec in the middle.
  expect_not_tls(in_records(msg.substr(0, 10), 100) + std::string("\x14\x03\x03\x00\x01\x01", 6),
                 "not a handshake");
  // Bytes after the ClientHello in its record.
  expect_not_tls(in_records(msg + std::string("\x01\x00\x00\x00", 4), 16384), "bytes after the ClientHello");
}

void test_hand_built(void **) {
  // Hand-built and well-formed: the reader agrees with itself.
  std::string good =
      hand_hello(sni_ext("a.b") + alpn_ext({"h2", "http/1.1"}) + ext(43, "\x04\x03\x04\x03\x03"));
  sw::ClientHelloResult r = parse(good);
  assert_string_equal(show(r).c_str(), "hello rec=769 ver=771 sv=772;771; alpn=[h2,http/1.1] sni=[a.b]");
  // No extensions at all (TLS 1.2 and older may omit them).
  r = parse(in_records(hello_msg(body_with("", false)), 16384));
  assert_string_equal(show(r).c_str(), "hello rec=769 ver=771 sv= alpn=none sni=none");
  // Empty extensions block.
  assert_int_equal(parse(hand_hello("")).verdict, Verdict::Complete);
  // Unknown extensions are skipped; GREASE in supported_versions is skipped by max_version.
  r = parse(
      hand_hello(ext(0x0a0a, "") + ext(43, std::string("\x04\x5a\x5a\x03\x04", 5)) + ext(0xff01, "\x00")));
  assert_int_equal(r.verdict, Verdict::Complete);
  assert_int_equal(r.hello.max_version(), 0x0304);
  // An SNI list with an unknown name type beside host_name.
  std::string list = std::string("\x07\x00\x01z", 4) + std::string(1, '\0') + u16(3) + "a.b";
  r = parse(hand_hello(ext(0, u16(list.size()) + list)));
  assert_string_equal(r.hello.sni_host.c_str(), "a.b");
}

// Each length made to overrun what holds it, or to disagree with it.
void test_lengths_that_overrun(void **) {
  expect_not_tls(hand_hello(ext(16, u16(4) + "\x02h2")), "ALPN");      // list > extension
  expect_not_tls(hand_hello(ext(16, u16(2) + "\x02h2")), "ALPN");      // list < extension
  expect_not_tls(hand_hello(ext(16, u16(3) + "\x05h2")), "ALPN");      // name > list
  expect_not_tls(hand_hello(ext(16, u16(0))), "empty protocol list");  // RFC 7301: 2..2^16-1
  expect_not_tls(hand_hello(ext(16, u16(3) + std::string("\x00", 1) + "\x01x")), "empty protocol name");
  expect_not_tls(hand_hello(ext(16, "\x00")), "ALPN");  // no room for the length
  expect_not_tls(hand_hello(ext(0, u16(6) + std::string("\x00\x00\x09", 3) + "a.b")),
                 "server_name");  // name > list
  expect_not_tls(hand_hello(ext(0, u16(0))), "empty name list");
  expect_not_tls(hand_hello(ext(0, u16(3) + std::string("\x00\x00\x00", 3))), "empty host_name");
  expect_not_tls(hand_hello(sni_ext(std::string("a\0b", 3))), "NUL");
  std::string two = std::string(1, '\0') + u16(1) + "a" + std::string(1, '\0') + u16(1) + "b";
  expect_not_tls(hand_hello(ext(0, u16(two.size()) + two)), "more than one host_name");
  expect_not_tls(hand_hello(ext(43, "\x05\x03\x04")), "supported_versions");      // list > extension
  expect_not_tls(hand_hello(ext(43, "\x03\x03\x04\x03")), "supported_versions");  // odd
  expect_not_tls(hand_hello(alpn_ext({"h2"}) + alpn_ext({"h2"})), "twice");
  expect_not_tls(hand_hello(u16(16) + u16(50) + std::string("\x00\x03\x02h2", 6)),
                 "extension overruns");  // ext > extensions
  // The fixed part of the body.
  std::string b = body_with(alpn_ext({"h2"}));
  auto with = [&](size_t at, const std::string &bytes) {
    std::string c = b;
    c.replace(at, bytes.size(), bytes);
    return in_records(hello_msg(c), 16384);
  };
  expect_not_tls(with(0, "\x02\x00"), "version is not 3.x");
  expect_not_tls(with(34, "\x21"), "session id");  // 33 > 32, and overruns
  expect_not_tls(with(34, "\xff"), "session id overruns");
  std::string long_session = std::string("\x03\x03", 2) + std::string(32, 'r') + "\x21" +
                             std::string(33, 's') + u16(2) + "\x13\x01" + std::string("\x01\x00", 2) + u16(0);
  expect_not_tls(in_records(hello_msg(long_session), 16384), "session id longer than 32");
  long_session.replace(34, 1, "\x20");  // 32 bytes, the 33rd read as the suites' length's first byte
  assert_int_equal(parse(in_records(hello_msg(long_session), 16384)).verdict, Verdict::NotTls);
  expect_not_tls(with(35, u16(0x0fff)), "cipher suites overrun");
  expect_not_tls(with(35, u16(0)), "cipher suites");
  expect_not_tls(with(39, std::string(1, '\0')), "no compression");
  expect_not_tls(with(39, "\xf0"), "compression methods overrun");
  expect_not_tls(with(41, u16(0x7fff)), "extensions overrun");
  // The message too short for its fixed fields.
  expect_not_tls(in_records(hello_msg(b.substr(0, 20)), 16384), "random overruns");
  expect_not_tls(in_records(hello_msg(b.substr(0, 1)), 16384), "no version");
  expect_not_tls(in_records(hello_msg(b.substr(0, 36)), 16384), "cipher suites overrun");
  expect_not_tls(in_records(hello_msg(b + "zz"), 16384), "bytes after the extensions");
}

// Every byte of a real ClientHello set to other values: never a crash or
// a read past the input (under ASan), and prefixes agree with the whole.
void test_every_byte_corrupted(void **) {
  const std::string b = openssl_hello("h2,http/1.1", "example.com");
  const std::string two =
      in_records(message_of(b).substr(0, 40), 16384) + in_records(message_of(b).substr(40), 16384);
  for (const std::string *base : {&b, &two}) {
    for (size_t i = 0; i < base->size(); i++) {
      const uint8_t orig = static_cast<uint8_t>((*base)[i]);
      for (uint8_t v : {uint8_t(0), uint8_t(0xff), uint8_t(orig + 1), uint8_t(orig - 1), uint8_t(0x80)}) {
        std::string c = *base;
        c[i] = static_cast<char>(v);
        // Exactly sized, so ASan sees any read past the end.
        std::vector<uint8_t> exact(c.begin(), c.end());
        sw::ClientHelloResult r = sw::parse_client_hello(exact.data(), exact.size());
        if (r.verdict == Verdict::Complete) assert_true(r.hello.bytes <= c.size());
        if (i % 7 == 0) expect_prefixes_agree(c);
      }
    }
  }
}

}  // namespace

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_openssl_hellos),
      cmocka_unit_test(test_split_across_records),
      cmocka_unit_test(test_hello_bigger_than_a_record),
      cmocka_unit_test(test_not_tls),
      cmocka_unit_test(test_hand_built),
      cmocka_unit_test(test_lengths_that_overrun),
      cmocka_unit_test(test_every_byte_corrupted),
  };
  return cmocka_run_group_tests_name("tls_client_hello", tests, nullptr, nullptr);
}

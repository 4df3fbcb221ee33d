// Unit tests of the per-client limits (per_ip_limits): the per-address
// counts, the head share, the token bucket and its Retry-After, keys, and
// that entries go when nothing is left to remember. Issue 16.
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <cstring>
#include <string>

// cmocka 1.1.5's header has no extern "C" guard of its own.
extern "C" {
#include <cmocka.h>
}

#include "per_ip_limits.h"

using sw::IpKey;
using sw::PerIpConfig;
using sw::PerIpLimits;

namespace {

IpKey key_of(const char *text) {
  sockaddr_storage ss;
  memset(&ss, 0, sizeof ss);
  auto *v4 = reinterpret_cast<sockaddr_in *>(&ss);
  auto *v6 = reinterpret_cast<sockaddr_in6 *>(&ss);
  if (inet_pton(AF_INET, text, &v4->sin_addr) == 1)
    v4->sin_family = AF_INET;
  else if (inet_pton(AF_INET6, text, &v6->sin6_addr) == 1)
    v6->sin6_family = AF_INET6;
  return sw::ip_key(reinterpret_cast<sockaddr *>(&ss));
}

// A connection whose head comes in pieces, as the door counts it: admit, then head_begin.
sw::IpRefusal slow_head(PerIpLimits &l, const IpKey &k, int64_t now_ms = 0) {
  sw::IpRefusal r = l.admit(k, now_ms);
  return r ? r : l.head_begin(k);
}

PerIpConfig no_rate(size_t conns, size_t heads) {
  PerIpConfig c;
  c.max_connections = conns;
  c.max_heads = heads;
  c.rate = 0;
  return c;
}

void test_keys(void **) {
  assert_int_equal(key_of("10.0.0.1").size(), 4);
  assert_true(key_of("10.0.0.1") == key_of("::ffff:10.0.0.1"));  // mapped: the same client
  assert_true(key_of("10.0.0.1") != key_of("10.0.0.2"));
  assert_true(key_of("2001:db8::1") == key_of("2001:db8::ffff:2"));  // one /64
  assert_true(key_of("2001:db8::1") != key_of("2001:db8:0:1::1"));
  sockaddr un{};
  un.sa_family = AF_UNIX;
  assert_true(sw::ip_key(&un).empty());
  assert_true(sw::ip_key(nullptr).empty());
}

// Heads count against their share and the address's total; another address
// is not affected; a head done makes room again.
void test_head_share(void **) {
  PerIpLimits l(no_rate(10, 2));
  IpKey a = key_of("10.0.0.1"), b = key_of("10.0.0.2");
  assert_int_equal(slow_head(l, a, 0).status, 0);
  assert_int_equal(slow_head(l, a, 0).status, 0);
  sw::IpRefusal r = slow_head(l, a, 0);
  assert_int_equal(r.status, 429);
  assert_true(r.retry_after > 0);
  assert_non_null(strstr(r.message.c_str(), "max_pending_heads_per_ip (2)"));
  assert_int_equal(l.heads(a), 2);
  assert_int_equal(l.head_check(a).status, 429);  // the same answer, counting nothing
  assert_int_equal(l.head_check(b).status, 0);
  assert_int_equal(l.heads(a), 2);
  assert_int_equal(slow_head(l, b, 0).status, 0);  // another address has its own share
  l.head_done(a);
  assert_int_equal(slow_head(l, a, 0).status, 0);
  assert_int_equal(l.heads(a), 2);
  // A head that comes whole at once (admit, no head_begin) needs no place in the share.
  for (int i = 0; i < 10; i++) assert_int_equal(l.admit(a, 0).status, 0);
  assert_int_equal(l.heads(a), 2);
}

// heads + conns are bounded together; a conn handed from a head keeps its place.
void test_connection_cap(void **) {
  PerIpLimits l(no_rate(3, 0));
  IpKey a = key_of("10.0.0.1");
  for (int i = 0; i < 3; i++) {
    assert_int_equal(slow_head(l, a, 0).status, 0);
    l.head_done(a);  // handed to lws...
    l.conn_open(a);  // ...which counts it
  }
  assert_int_equal(l.conns(a), 3);
  sw::IpRefusal r = slow_head(l, a, 0);
  assert_int_equal(r.status, 429);
  assert_non_null(strstr(r.message.c_str(), "max_connections_per_ip (3)"));
  assert_int_equal(l.admit(a, 0).status, 429);  // the lws path checks the same count
  l.conn_closed(a);
  assert_int_equal(l.admit(a, 0).status, 0);
  l.conn_open(a);
  assert_int_equal(slow_head(l, a, 0).status, 429);
}

// burst at once, then rate a second; Retry-After says when the next token comes.
void test_token_bucket(void **) {
  PerIpConfig c;
  c.max_connections = 0;
  c.max_heads = 0;
  c.rate = 2;
  c.burst = 5;
  PerIpLimits l(c);
  IpKey a = key_of("10.0.0.1");
  for (int i = 0; i < 5; i++) assert_int_equal(l.admit(a, 1000).status, 0);
  sw::IpRefusal r = l.admit(a, 1000);
  assert_int_equal(r.status, 429);
  assert_int_equal(r.retry_after, 1);
  assert_non_null(strstr(r.message.c_str(), "handshake_rate_per_ip (2/s, burst 5)"));
  assert_int_equal(l.admit(a, 1400).status, 429);  // 0.8 of a token
  assert_int_equal(l.admit(a, 1500).status, 0);    // 1 token at 0.5 s
  assert_int_equal(l.admit(a, 1500).status, 429);
  assert_int_equal(l.admit(key_of("10.0.0.2"), 1500).status, 0);  // each address has its own bucket
  for (int i = 0; i < 5; i++) assert_int_equal(l.admit(a, 100000).status, 0);  // refilled to burst, no more
  assert_int_equal(l.admit(a, 100000).status, 429);
  // A slow rate: Retry-After rounds up to whole seconds.
  c.rate = 0.25;
  c.burst = 1;
  PerIpLimits slow(c);
  assert_int_equal(slow.admit(a, 0).status, 0);
  assert_int_equal(slow.admit(a, 0).retry_after, 4);
}

// Refused connections take a token: hammering while refused is no way around the rate.
void test_refused_take_tokens(void **) {
  PerIpConfig c;
  c.max_connections = 1;
  c.rate = 1;
  c.burst = 3;
  PerIpLimits l(c);
  IpKey a = key_of("10.0.0.1");
  assert_int_equal(slow_head(l, a, 0).status, 0);
  assert_non_null(strstr(slow_head(l, a, 0).message.c_str(), "max_connections_per_ip"));
  assert_non_null(strstr(slow_head(l, a, 0).message.c_str(), "max_connections_per_ip"));
  assert_non_null(strstr(slow_head(l, a, 0).message.c_str(), "handshake_rate_per_ip"));
}

// Entries go once nothing is counted and the bucket is full: memory follows
// what is open, not every address ever seen.
void test_entries_go(void **) {
  PerIpConfig c;
  c.rate = 10;
  c.burst = 10;
  PerIpLimits l(c);
  for (int i = 0; i < 1000; i++) {
    IpKey k = key_of(("10.0." + std::to_string(i / 256) + "." + std::to_string(i % 256)).c_str());
    assert_int_equal(slow_head(l, k, 0).status, 0);
    l.head_done(k);
  }
  assert_int_equal(l.entries(), 1000);  // buckets not full yet
  l.sweep(50);
  assert_int_equal(l.entries(), 1000);
  l.sweep(100);  // a token back in 0.1 s
  assert_int_equal(l.entries(), 0);

  PerIpLimits off(no_rate(5, 5));  // no rate: gone as soon as nothing is counted
  IpKey a = key_of("10.0.0.1");
  assert_int_equal(slow_head(off, a, 0).status, 0);
  assert_int_equal(off.entries(), 1);
  off.head_done(a);
  assert_int_equal(off.entries(), 0);
  off.conn_open(a);
  off.conn_closed(a);
  off.conn_closed(a);  // unbalanced: ignored, no underflow
  off.head_done(a);
  assert_int_equal(off.entries(), 0);
  assert_int_equal(slow_head(off, IpKey()).status, 0);  // no address (a Unix socket): no limits
  assert_int_equal(off.entries(), 0);
}

// All limits 0: nothing is refused.
void test_all_off(void **) {
  PerIpLimits l(no_rate(0, 0));
  IpKey a = key_of("::1");
  for (int i = 0; i < 100000; i++) assert_int_equal(slow_head(l, a, 0).status, 0);
  assert_int_equal(l.heads(a), 100000);
}

}  // namespace

int main() {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_keys),
      cmocka_unit_test(test_head_share),
      cmocka_unit_test(test_connection_cap),
      cmocka_unit_test(test_token_bucket),
      cmocka_unit_test(test_refused_take_tokens),
      cmocka_unit_test(test_entries_go),
      cmocka_unit_test(test_all_off),
  };
  return cmocka_run_group_tests_name("per_ip_limits", tests, nullptr, nullptr);
}

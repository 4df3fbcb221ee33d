// The client's reconnect backoff: growth, cap, and jitter on every delay.
#include <cstdarg>
#include <cstddef>
#include <cstdint>
#include <setjmp.h>
// cmocka 1.1.5's header has no extern "C" guard of its own.
extern "C" {
#include <cmocka.h>
}

#include <random>
#include <set>

#include "reconnect_policy.h"

using sw::ReconnectPolicy;

static void test_growth_doubles_from_base(void **) {
  ReconnectPolicy p;
  p.base_ms = 100;
  p.max_ms = 100000;
  assert_int_equal(p.nominal(1), 100);
  assert_int_equal(p.nominal(2), 200);
  assert_int_equal(p.nominal(3), 400);
  assert_int_equal(p.nominal(8), 12800);
}

static void test_cap_bounds_growth(void **) {
  ReconnectPolicy p;
  p.base_ms = 1000;
  p.max_ms = 30000;
  assert_int_equal(p.nominal(5), 16000);
  assert_int_equal(p.nominal(6), 30000);  // 32000 capped
  assert_int_equal(p.nominal(1000000), 30000);  // no overflow however many attempts
  std::mt19937 rng(1);
  for (int i = 0; i < 1000; i++) assert_true(p.delay(1000000, rng) <= 36000);
  // A base above the cap is capped too, unless a server's `retry:` asked for it.
  p.base_ms = 60000;
  assert_int_equal(p.nominal(1), 30000);
  p.base_from_server = true;
  assert_int_equal(p.nominal(1), 60000);
  assert_int_equal(p.nominal(4), 60000);
  // A server's retry below the cap still grows, up to the cap.
  p.base_ms = 100;
  assert_int_equal(p.nominal(3), 400);
  assert_int_equal(p.nominal(20), 30000);
  p.base_ms = 0;
  assert_int_equal(p.nominal(1000), 0);
}

// Every delay, the first retry after a drop included, is spread over
// nominal +- 20%: many clients dropped together come back spread out.
static void test_every_delay_is_jittered(void **) {
  ReconnectPolicy p;
  p.base_ms = 1000;
  p.max_ms = 30000;
  for (unsigned attempt = 1; attempt <= 8; attempt++) {
    std::mt19937 rng(42 + attempt);
    uint64_t nom = p.nominal(attempt);
    uint64_t lo = nom, hi = nom;
    std::set<uint64_t> distinct;
    for (int i = 0; i < 1000; i++) {
      uint64_t d = p.delay(attempt, rng);
      assert_true(d >= nom - nom / 5);
      assert_true(d <= nom + nom / 5);
      lo = d < lo ? d : lo;
      hi = d > hi ? d : hi;
      distinct.insert(d);
    }
    // The draws really spread: over most of the range, not a handful of values.
    assert_true(lo < nom - nom / 6);
    assert_true(hi > nom + nom / 6);
    assert_true(distinct.size() > 100);
  }
}

// The same seed gives the same delays: the RNG is the only source of chance.
static void test_seeded_rng_is_reproducible(void **) {
  ReconnectPolicy p;
  p.base_ms = 500;
  std::mt19937 a(7), b(7);
  for (unsigned i = 1; i < 10; i++) assert_int_equal(p.delay(i, a), p.delay(i, b));
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_growth_doubles_from_base),
      cmocka_unit_test(test_cap_bounds_growth),
      cmocka_unit_test(test_every_delay_is_jittered),
      cmocka_unit_test(test_seeded_rng_is_reproducible),
  };
  return cmocka_run_group_tests_name("reconnect_policy", tests, nullptr, nullptr);
}

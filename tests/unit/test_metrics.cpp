// Unit tests of the metric table and the Prometheus text renderer (metrics.h).
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>

#include <cstring>
#include <set>
#include <string>

// cmocka 1.1.5's header has no extern "C" guard of its own.
extern "C" {
#include <cmocka.h>
}

#include "server/metrics.h"

namespace {

// Every family once, with HELP and TYPE before its first sample, rows of a
// family adjacent, and every sample at zero in a fresh snapshot.
void test_all_families_at_zero(void **) {
  sw::Metrics m;
  std::string text = sw::render_prometheus(m);
  std::set<std::string> seen;
  std::string last;
  for (int i = 0; i < sw::kMetricCount; i++) {
    const sw::MetricInfo &r = sw::kMetricTable[i];
    if (last != r.family) {
      assert_true(seen.insert(r.family).second);  // a family's rows are adjacent
      std::string type = std::string("# TYPE ") + r.family + (r.counter ? " counter\n" : " gauge\n");
      assert_non_null(strstr(text.c_str(), type.c_str()));
      if (r.counter)
        assert_true(std::string(r.family).size() > 6 &&
                    std::string(r.family).compare(std::string(r.family).size() - 6, 6, "_total") == 0);
      last = r.family;
    }
    std::string sample =
        std::string(r.family) +
        (r.label ? std::string("{") + r.label + "=\"" + r.label_value + "\"}" : std::string()) + " 0\n";
    assert_non_null(strstr(text.c_str(), sample.c_str()));
  }
  // The families issue 18 names for dashboards.
  for (const char *f : {"ssews_connections", "ssews_messages_published_total", "ssews_deliveries_total",
                        "ssews_handshakes_refused_total", "ssews_slow_consumer_drops_total"})
    assert_true(seen.count(f) == 1);
}

void test_values(void **) {
  sw::Metrics m;
  m.add(sw::kMPublished, 3);
  m.add(sw::kMDeliverSse);
  m.v[sw::kMLoopBusy] = 0.25;
  m.v[sw::kMQueuedBytes] = 12345678901.0;
  std::string text = sw::render_prometheus(m);
  assert_non_null(strstr(text.c_str(), "\nssews_messages_published_total 3\n"));
  assert_non_null(strstr(text.c_str(), "\nssews_deliveries_total{protocol=\"sse\"} 1\n"));
  assert_non_null(strstr(text.c_str(), "\nssews_loop_busy_seconds_total 0.25\n"));
  assert_non_null(strstr(text.c_str(), "\nssews_queued_bytes 12345678901\n"));
}

void test_refusal_reasons(void **) {
  assert_int_equal(sw::refusal_reason(503, false), sw::kMRefuseLimit);
  assert_int_equal(sw::refusal_reason(400, false), sw::kMRefuseBadRequest);
  assert_int_equal(sw::refusal_reason(431, false), sw::kMRefuseBadRequest);
  assert_int_equal(sw::refusal_reason(503, true), sw::kMRefuseClosing);
}

}  // namespace

int main() {
  const CMUnitTest tests[] = {
      cmocka_unit_test(test_all_families_at_zero),
      cmocka_unit_test(test_values),
      cmocka_unit_test(test_refusal_reasons),
  };
  return cmocka_run_group_tests_name("metrics", tests, nullptr, nullptr);
}

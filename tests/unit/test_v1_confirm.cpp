// When the client may decode ssews.v1: only when the server both selected it
// and confirmed it with X-Ssews: v1 (a generic server may echo the offer).
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
// cmocka 1.1.5's header has no extern "C" guard of its own.
extern "C" {
#include <cmocka.h>
}

#include "v1_confirm.h"

using sw::v1_confirmed;

static void test_selected_and_confirmed(void **) {
  assert_true(v1_confirmed("ssews.v1", "v1"));
  assert_true(v1_confirmed(" ssews.v1 ", " v1\t"));  // optional whitespace
}

static void test_selected_without_confirmation_is_plain(void **) {
  assert_false(v1_confirmed("ssews.v1", ""));  // Node ws, websockets with subprotocols=[...]
  assert_false(v1_confirmed("ssews.v1", "v2"));
  assert_false(v1_confirmed("ssews.v1", "V1"));
}

static void test_confirmation_without_selection_is_plain(void **) {
  assert_false(v1_confirmed("", "v1"));
  assert_false(v1_confirmed("chat", "v1"));
  assert_false(v1_confirmed("ssews.v1,chat", "v1"));
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_selected_and_confirmed),
      cmocka_unit_test(test_selected_without_confirmation_is_plain),
      cmocka_unit_test(test_confirmation_without_selection_is_plain),
  };
  return cmocka_run_group_tests_name("v1_confirm", tests, nullptr, nullptr);
}

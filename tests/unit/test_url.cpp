// Unit tests of the client URL parser (url.h).
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>

#include <string>

// cmocka 1.1.5's header has no extern "C" guard of its own.
extern "C" {
#include <cmocka.h>
}

#include "url.h"

namespace {

void test_url_ok(void **) {
  sw::Url u;
  std::string err;
  assert_true(sw::parse_url("WSS://Example.com:8443/a?b=1#frag", u, err));
  assert_string_equal(u.scheme.c_str(), "wss");
  assert_string_equal(u.host.c_str(), "Example.com");
  assert_int_equal(u.port, 8443);
  assert_string_equal(u.path.c_str(), "/a?b=1");
  assert_true(u.tls && u.websocket);
  assert_string_equal(u.host_header().c_str(), "Example.com:8443");
  assert_true(sw::parse_url("http://[::1]/x", u, err));
  assert_string_equal(u.host.c_str(), "::1");
  assert_int_equal(u.port, 80);
  assert_string_equal(u.host_header().c_str(), "[::1]");
  assert_true(sw::parse_url("https://h?q", u, err));
  assert_string_equal(u.path.c_str(), "/?q");
}

// Found by fuzz_url: hosts that host_header() cannot write back as they came.
void test_url_bad_host(void **) {
  for (const char *bad : {"http://![::1]:4040/", "ws://a]b/", "ws://[[::1]/", "ws://a:b:80/", "ws://::1/",
                          "ws://h:/", "ws:///x", "ws://u@h/", "ws://h:0/", "ws://h:65536/", "ftp://h/"}) {
    sw::Url u;
    std::string err;
    if (sw::parse_url(bad, u, err)) {
      print_error("accepted %s\n", bad);
      fail();
    }
    assert_false(err.empty());
  }
}

}  // namespace

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_url_ok),
      cmocka_unit_test(test_url_bad_host),
  };
  return cmocka_run_group_tests_name("url", tests, NULL, NULL);
}

// Shared plumbing of the C ABI: the per-thread last error and the guard that
// keeps C++ exceptions from crossing into C.
#pragma once
#include <new>
#include <stdexcept>
#include <string>

#include "event.h"
#include "ssews.h"
#include "status.h"

namespace sw {

void set_last_error(const std::string &msg);
void clear_last_error();
const char *last_error_cstr();

// Maps a Status to a return code, recording its message for ssews_last_error.
inline int status_to_rc(const Status &st) {
  if (st.failed())
    set_last_error(st.msg);
  else
    clear_last_error();
  return st.code;
}

inline int fail_rc(int code, const std::string &msg) {
  set_last_error(msg);
  return code;
}

// The core's event as the ABI's opaque type, and back.
inline const ssews_event *to_c(const Event *ev) {
  return reinterpret_cast<const ssews_event *>(ev);
}
inline const Event *from_c(const ssews_event *ev) {
  return reinterpret_cast<const Event *>(ev);
}

}  // namespace sw

// Wraps the body of every exported function: no exception escapes.
#define SSEWS_GUARD_BEGIN try {
#define SSEWS_GUARD_END                                                              \
  }                                                                                  \
  catch (const std::bad_alloc &) {                                                   \
    return sw::fail_rc(SSEWS_ENOMEM, "out of memory");                               \
  }                                                                                  \
  catch (const std::exception &e) {                                                  \
    return sw::fail_rc(SSEWS_EINTERNAL, std::string("internal error: ") + e.what()); \
  }                                                                                  \
  catch (...) {                                                                      \
    return sw::fail_rc(SSEWS_EINTERNAL, "internal error");                           \
  }

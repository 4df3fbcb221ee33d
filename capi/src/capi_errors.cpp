// ssews_strerror, ssews_err_name, ssews_last_error, versions.
#include "capi_util.h"

namespace sw {
namespace {
thread_local std::string t_last_error;
}
void set_last_error(const std::string &msg) {
  t_last_error = msg;
}
void clear_last_error() {
  t_last_error.clear();
}
const char *last_error_cstr() {
  return t_last_error.c_str();
}
}  // namespace sw

extern "C" {

#define SSEWS_STR_(x) #x
#define SSEWS_XSTR_(x) SSEWS_STR_(x)

SSEWS_API const char *ssews_version(void) {
  // The header's macros, which CMake's project(VERSION) fills in.
  return SSEWS_XSTR_(SSEWS_VERSION_MAJOR) "." SSEWS_XSTR_(SSEWS_VERSION_MINOR) "." SSEWS_XSTR_(
      SSEWS_VERSION_PATCH);
}

SSEWS_API unsigned ssews_version_number(void) {
  return SSEWS_VERSION_NUMBER;
}

// Both generated from SSEWS_ERRNO_MAP (ssews.h).
SSEWS_API const char *ssews_strerror(int code) {
  switch (code) {
#define SSEWS_STRERROR_GEN_(name, value, description) \
  case SSEWS_##name:                                  \
    return description;
    SSEWS_ERRNO_MAP(SSEWS_STRERROR_GEN_)
#undef SSEWS_STRERROR_GEN_
    default:
      return "unknown error";
  }
}

SSEWS_API const char *ssews_err_name(int code) {
  switch (code) {
#define SSEWS_ERR_NAME_GEN_(name, value, description) \
  case SSEWS_##name:                                  \
    return "SSEWS_" #name;
    SSEWS_ERRNO_MAP(SSEWS_ERR_NAME_GEN_)
#undef SSEWS_ERR_NAME_GEN_
    default:
      return "SSEWS_EUNKNOWN";
  }
}

SSEWS_API const char *ssews_last_error(void) {
  return sw::last_error_cstr();
}

}  // extern "C"

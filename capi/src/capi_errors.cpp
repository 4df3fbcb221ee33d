// ssews_strerror, ssews_last_error, versions.
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

SSEWS_API const char *ssews_version(void) {
  return "0.1.0";
}

SSEWS_API unsigned ssews_version_number(void) {
  return SSEWS_VERSION_NUMBER;
}

SSEWS_API const char *ssews_strerror(int code) {
  switch (code) {
    case SSEWS_OK:
      return "success";
    case SSEWS_EINVAL:
      return "invalid argument";
    case SSEWS_EOPTION:
      return "unknown option or bad option value";
    case SSEWS_ENOMEM:
      return "out of memory";
    case SSEWS_ECLOSED:
      return "endpoint closed";
    case SSEWS_ENOCONN:
      return "no such connection";
    case SSEWS_EAGAIN:
      return "nothing pending; try again";
    case SSEWS_EFULL:
      return "queue full";
    case SSEWS_ETOOBIG:
      return "message too big";
    case SSEWS_ENOTSUP:
      return "not supported";
    case SSEWS_EPROTO:
      return "protocol error";
    case SSEWS_ETLS:
      return "TLS error";
    case SSEWS_ELISTEN:
      return "cannot listen";
    case SSEWS_ECONNECT:
      return "cannot connect";
    case SSEWS_ESTATE:
      return "invalid state";
    case SSEWS_EHTTP:
      return "unexpected HTTP response";
    case SSEWS_ETIMEOUT:
      return "timed out";
    case SSEWS_EINTERNAL:
      return "internal error";
    case SSEWS_ESLOW:
      return "slow consumer";
    case SSEWS_EURL:
      return "bad URL";
    case SSEWS_EGAP:
      return "messages may have been missed";
    default:
      return "unknown error";
  }
}

SSEWS_API const char *ssews_last_error(void) {
  return sw::last_error_cstr();
}

}  // extern "C"

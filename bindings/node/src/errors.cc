#include "errors.h"

#include <ssews.h>

namespace ssews_node {

std::string CodeName(int code) {
  switch (code) {
    case SSEWS_OK:
      return "SSEWS_OK";
    case SSEWS_EINVAL:
      return "SSEWS_EINVAL";
    case SSEWS_EOPTION:
      return "SSEWS_EOPTION";
    case SSEWS_ENOMEM:
      return "SSEWS_ENOMEM";
    case SSEWS_ECLOSED:
      return "SSEWS_ECLOSED";
    case SSEWS_ENOCONN:
      return "SSEWS_ENOCONN";
    case SSEWS_EAGAIN:
      return "SSEWS_EAGAIN";
    case SSEWS_EFULL:
      return "SSEWS_EFULL";
    case SSEWS_ETOOBIG:
      return "SSEWS_ETOOBIG";
    case SSEWS_ENOTSUP:
      return "SSEWS_ENOTSUP";
    case SSEWS_EPROTO:
      return "SSEWS_EPROTO";
    case SSEWS_ETLS:
      return "SSEWS_ETLS";
    case SSEWS_ELISTEN:
      return "SSEWS_ELISTEN";
    case SSEWS_ECONNECT:
      return "SSEWS_ECONNECT";
    case SSEWS_ESTATE:
      return "SSEWS_ESTATE";
    case SSEWS_EHTTP:
      return "SSEWS_EHTTP";
    case SSEWS_ETIMEOUT:
      return "SSEWS_ETIMEOUT";
    case SSEWS_EINTERNAL:
      return "SSEWS_EINTERNAL";
    case SSEWS_ESLOW:
      return "SSEWS_ESLOW";
    case SSEWS_EURL:
      return "SSEWS_EURL";
    case SSEWS_EGAP:
      return "SSEWS_EGAP";
    default:
      return std::to_string(code);
  }
}

Napi::Error MakeError(Napi::Env env, int code, const std::string &message) {
  Napi::Error err = Napi::Error::New(env, message.empty() ? ssews_strerror(code) : message);
  err.Set("code", Napi::String::New(env, CodeName(code)));
  err.Set("errno", Napi::Number::New(env, code));
  return err;
}

void ThrowLast(Napi::Env env, int code) {
  throw MakeError(env, code, ssews_last_error());
}

bool JsAvailable(napi_env env) {
  // A call that may run JavaScript reports a pending exception, with none
  // actually pending, once the environment cannot run JavaScript any more.
  napi_value global;
  bool has = false;
  if (napi_get_global(env, &global) != napi_ok) return false;
  return napi_has_named_property(env, global, "Object", &has) == napi_ok;
}

void ThrowType(Napi::Env env, const std::string &message) {
  Napi::TypeError err = Napi::TypeError::New(env, message);
  err.Set("code", Napi::String::New(env, "ERR_INVALID_ARG_TYPE"));
  throw err;
}

}  // namespace ssews_node

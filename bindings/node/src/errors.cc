#include "errors.h"

#include <ssews.h>

namespace ssews_node {

std::string CodeName(int code) {
  std::string name = ssews_err_name(code);  // generated from SSEWS_ERRNO_MAP
  return name == "SSEWS_EUNKNOWN" ? std::to_string(code) : name;
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

// The module: the native Endpoint class, the library version and the error
// code names. bindings/node/index.js builds the public API on top.
#include <napi.h>
#include <ssews.h>

#include <string>

#include "endpoint.h"
#include "errors.h"

namespace {

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  using namespace ssews_node;
  exports.Set("Endpoint", Endpoint::Define(env));
  exports.Set("version", Napi::String::New(env, ssews_version()));
  // Every SSEWS_E* code by name, from the C library itself: the codes run
  // from SSEWS_EINVAL (-1) down without a hole until ssews_err_name no
  // longer knows one (ssews.h, SSEWS_ERRNO_MAP).
  Napi::Object codes = Napi::Object::New(env);
  for (int code = SSEWS_EINVAL; std::string(ssews_err_name(code)) != "SSEWS_EUNKNOWN"; code--)
    codes.Set(ssews_err_name(code), Napi::Number::New(env, code));
  exports.Set("codes", codes);
  return exports;
}

}  // namespace

NODE_API_MODULE(ssews, Init)

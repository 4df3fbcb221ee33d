// The module: the native Endpoint class, the library version and the error
// code names. bindings/node/index.js builds the public API on top.
#include <napi.h>
#include <ssews.h>

#include "endpoint.h"
#include "errors.h"

namespace {

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  using namespace ssews_node;
  exports.Set("Endpoint", Endpoint::Define(env));
  exports.Set("version", Napi::String::New(env, ssews_version()));
  Napi::Object codes = Napi::Object::New(env);
  for (int code = SSEWS_EINVAL; code >= SSEWS_EGAP; code--)
    codes.Set(CodeName(code), Napi::Number::New(env, code));
  exports.Set("codes", codes);
  return exports;
}

}  // namespace

NODE_API_MODULE(ssews, Init)

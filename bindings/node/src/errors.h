// Native failures as JavaScript errors: an Error whose `code` is the SSEWS_E*
// name and `errno` the negative number, with ssews_last_error()'s message.
#pragma once
#include <napi.h>

namespace ssews_node {

// "SSEWS_EINVAL" for SSEWS_EINVAL, ...; the number as text for an unknown code.
std::string CodeName(int code);

// An Error with .code and .errno set.
Napi::Error MakeError(Napi::Env env, int code, const std::string &message);

// Throws the error of a failed ssews call made just now on this thread.
[[noreturn]] void ThrowLast(Napi::Env env, int code);

// Throws when `code` is not SSEWS_OK.
inline void Check(Napi::Env env, int code) {
  if (code != 0) ThrowLast(env, code);
}

// False while the environment is shutting down (process.exit() in a worker,
// worker.terminate()): JavaScript can no longer run, so nothing is delivered.
bool JsAvailable(napi_env env);

// A TypeError with .code set to ERR_INVALID_ARG_TYPE, as Node's own APIs do.
[[noreturn]] void ThrowType(Napi::Env env, const std::string &message);

}  // namespace ssews_node

// JavaScript arguments to C values and back: connection ids, payloads,
// optional strings, the option list.
#pragma once
#include <napi.h>
#include <ssews.h>

#include <string>
#include <vector>

namespace ssews_node {

// A connection id from a number (a non-negative integer) or a BigInt.
ssews_conn ToConn(const Napi::Value &v, const char *what = "conn");
// A connection id as a number (ids are sequential, so always below 2^53);
// a BigInt past Number.MAX_SAFE_INTEGER.
Napi::Value FromConn(Napi::Env env, ssews_conn conn);

// A JavaScript string's UTF-8, in an inline buffer when it fits (one N-API
// call and no allocation: most channel names and messages do), else on the
// heap. For the per-message calls (publish, send).
class Utf8 {
 public:
  void assign(napi_env env, napi_value v);
  // NUL-terminated; the heap copy is used only for strings too long for buf_.
  const char *data() const { return heap_.empty() ? buf_ : heap_.data(); }
  const char *c_str() const { return data(); }
  size_t size() const { return len_; }

 private:
  char buf_[1024];
  size_t len_ = 0;
  std::string heap_;
};
// A string argument without NUL (it becomes a C string), into out.
void ToUtf8(const Napi::Value &v, const char *what, Utf8 &out);

// Message data: a string is sent as UTF-8 text; a Buffer, any TypedArray,
// a DataView or an ArrayBuffer as binary. Points into the JS value (or into
// `text`), so it is valid during the current call only.
struct Payload {
  const void *data = nullptr;
  size_t len = 0;
  int flags = SSEWS_TEXT;
  Utf8 text;
};
void ToPayload(const Napi::Value &v, Payload &out);

// A string argument that may be undefined or null (then `present` is false).
struct OptString {
  bool present = false;
  std::string value;
  const char *c_str() const { return present ? value.c_str() : nullptr; }
};
OptString ToOptString(const Napi::Value &v, const char *what);
std::string ToString(const Napi::Value &v, const char *what);
int ToInt(const Napi::Value &v, const char *what, int fallback);

// The option list: an array of strings (key, value, key, value, ...).
std::vector<std::string> ToStringList(const Napi::Value &v, const char *what);

}  // namespace ssews_node

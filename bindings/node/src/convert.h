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

// Message data: a string is sent as UTF-8 text; a Buffer, any TypedArray,
// a DataView or an ArrayBuffer as binary. Points into the JS value (or into
// `text`), so it is valid during the current call only.
struct Payload {
  const void *data = nullptr;
  size_t len = 0;
  int flags = SSEWS_TEXT;
  std::string text;
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

#include "convert.h"

#include <cmath>
#include <cstring>

#include "errors.h"

namespace ssews_node {

namespace {
constexpr double kMaxSafe = 9007199254740991.0;  // Number.MAX_SAFE_INTEGER
}

ssews_conn ToConn(const Napi::Value &v, const char *what) {
  Napi::Env env = v.Env();
  if (v.IsNumber()) {
    double d = v.As<Napi::Number>().DoubleValue();
    if (d >= 0 && d <= kMaxSafe && std::floor(d) == d) return static_cast<ssews_conn>(d);
  } else if (v.IsBigInt()) {
    bool lossless = false;
    uint64_t id = v.As<Napi::BigInt>().Uint64Value(&lossless);
    if (lossless) return id;
  }
  ThrowType(env,
            std::string("The \"") + what + "\" argument must be a connection id (a non-negative integer)");
}

Napi::Value FromConn(Napi::Env env, ssews_conn conn) {
  if (static_cast<double>(conn) <= kMaxSafe) return Napi::Number::New(env, static_cast<double>(conn));
  return Napi::BigInt::New(env, static_cast<uint64_t>(conn));
}

void Utf8::assign(napi_env env, napi_value v) {
  heap_.clear();
  buf_[0] = '\0';
  len_ = 0;
  // A result this far below the buffer's size cannot have been cut short
  // (N-API cuts only between whole characters, at most 4 bytes each).
  if (napi_get_value_string_utf8(env, v, buf_, sizeof buf_, &len_) == napi_ok && len_ + 4 < sizeof buf_)
    return;
  size_t n = 0;
  napi_get_value_string_utf8(env, v, nullptr, 0, &n);
  heap_.resize(n + 1);
  napi_get_value_string_utf8(env, v, &heap_[0], n + 1, &len_);
  heap_.resize(len_);
}

void ToUtf8(const Napi::Value &v, const char *what, Utf8 &out) {
  if (!v.IsString()) ThrowType(v.Env(), std::string("The \"") + what + "\" argument must be a string");
  out.assign(v.Env(), v);
  if (memchr(out.data(), '\0', out.size()))  // C strings end at NUL: refuse rather than cut
    throw MakeError(v.Env(), SSEWS_EINVAL, std::string("The \"") + what + "\" argument must not contain NUL");
}

void ToPayload(const Napi::Value &v, Payload &out) {
  if (v.IsString()) {
    out.text.assign(v.Env(), v);
    out.data = out.text.data();
    out.len = out.text.size();
    out.flags = SSEWS_TEXT;
    return;
  }
  out.flags = SSEWS_BINARY;
  if (v.IsTypedArray()) {  // Buffer is a Uint8Array
    auto ta = v.As<Napi::TypedArray>();
    out.data = static_cast<const uint8_t *>(ta.ArrayBuffer().Data()) + ta.ByteOffset();
    out.len = ta.ByteLength();
    return;
  }
  if (v.IsDataView()) {
    auto dv = v.As<Napi::DataView>();
    out.data = static_cast<const uint8_t *>(dv.ArrayBuffer().Data()) + dv.ByteOffset();
    out.len = dv.ByteLength();
    return;
  }
  if (v.IsArrayBuffer()) {
    auto ab = v.As<Napi::ArrayBuffer>();
    out.data = ab.Data();
    out.len = ab.ByteLength();
    return;
  }
  ThrowType(v.Env(),
            "The \"data\" argument must be a string (text), a Buffer, TypedArray, DataView or ArrayBuffer "
            "(binary)");
}

OptString ToOptString(const Napi::Value &v, const char *what) {
  OptString s;
  if (v.IsUndefined() || v.IsNull()) return s;
  s.value = ToString(v, what);
  s.present = true;
  return s;
}

std::string ToString(const Napi::Value &v, const char *what) {
  if (!v.IsString()) ThrowType(v.Env(), std::string("The \"") + what + "\" argument must be a string");
  std::string s = v.As<Napi::String>().Utf8Value();
  if (s.find('\0') != std::string::npos)  // C strings end at NUL: refuse rather than cut
    throw MakeError(v.Env(), SSEWS_EINVAL, std::string("The \"") + what + "\" argument must not contain NUL");
  return s;
}

int ToInt(const Napi::Value &v, const char *what, int fallback) {
  if (v.IsUndefined()) return fallback;
  if (v.IsNumber()) {
    double d = v.As<Napi::Number>().DoubleValue();
    if (std::floor(d) == d && d >= -2147483648.0 && d <= 2147483647.0) return static_cast<int>(d);
  }
  ThrowType(v.Env(), std::string("The \"") + what + "\" argument must be an integer");
}

std::vector<std::string> ToStringList(const Napi::Value &v, const char *what) {
  if (!v.IsArray())
    ThrowType(v.Env(), std::string("The \"") + what + "\" argument must be an array of strings");
  auto arr = v.As<Napi::Array>();
  std::vector<std::string> out;
  out.reserve(arr.Length());
  for (uint32_t i = 0; i < arr.Length(); i++) out.push_back(ToString(arr.Get(i), what));
  return out;
}

}  // namespace ssews_node

#include "event.h"

#include "convert.h"
#include "errors.h"

namespace ssews_node {

namespace {
const char *Str(const char *s) {
  return s ? s : "";
}

Napi::Value OptStr(Napi::Env env, const char *s) {
  return s ? Napi::Value(Napi::String::New(env, s)) : env.Null();
}

// identity and claims (open, join, leave). The claims come as the library's
// JSON text: parsed with the engine's own JSON.
void SetIdentity(Napi::Env env, Napi::Object &o, const EventView &ev) {
  o.Set("identity", OptStr(env, ev.identity));
  Napi::Value claims = Napi::Object::New(env);
  if (ev.claims) {
    Napi::Function parse = env.Global().Get("JSON").As<Napi::Object>().Get("parse").As<Napi::Function>();
    claims = parse.Call({Napi::String::New(env, ev.claims)});
  }
  o.Set("claims", claims);
}

Napi::Value Protocol(Napi::Env env, int p) {
  if (p == SSEWS_PROTO_WS) return Napi::String::New(env, "websocket");
  if (p == SSEWS_PROTO_SSE) return Napi::String::New(env, "sse");
  return env.Null();
}

}  // namespace

EventView ViewOf(const ssews_event *ev) {
  EventView v;
  v.kind = ssews_event_kind(ev);
  v.conn = ssews_event_conn(ev);
  v.protocol = ssews_event_protocol(ev);
  switch (v.kind) {
    case SSEWS_EV_OPEN: {
      v.path = Str(ssews_event_path(ev));
      v.query = Str(ssews_event_query(ev));
      v.peer = Str(ssews_event_peer(ev));
      v.subprotocol = Str(ssews_event_subprotocol(ev));
      size_t n = ssews_event_header_count(ev);
      v.headers.reserve(n);
      for (size_t i = 0; i < n; i++) {
        const char *name = nullptr, *value = nullptr;
        if (ssews_event_header_at(ev, i, &name, &value) == SSEWS_OK && name)
          v.headers.emplace_back(name, Str(value));
      }
      n = ssews_event_channel_count(ev);
      for (size_t i = 0; i < n; i++)
        if (const char *ch = ssews_event_channel_at(ev, i)) v.channels.push_back(ch);
      v.identity = ssews_event_identity(ev);
      v.claims = ssews_event_claim(ev, nullptr);
      break;
    }
    case SSEWS_EV_MESSAGE:
      v.data = static_cast<const char *>(ssews_event_data(ev, &v.len));
      v.binary = ssews_event_is_binary(ev) != 0;
      v.name = ssews_event_name(ev);
      v.id = ssews_event_id(ev);
      v.channel = ssews_event_channel(ev);
      break;
    case SSEWS_EV_JOIN:
    case SSEWS_EV_LEAVE:
      v.channel = ssews_event_channel(ev);
      v.identity = ssews_event_identity(ev);
      v.claims = ssews_event_claim(ev, nullptr);
      break;
    case SSEWS_EV_REQUEST:  // name: the method; code: the HTTP status
      v.name = ssews_event_name(ev);
      v.path = Str(ssews_event_path(ev));
      v.query = Str(ssews_event_query(ev));
      v.peer = Str(ssews_event_peer(ev));
      [[fallthrough]];  // the figures and the code, as a close event's
    case SSEWS_EV_CLOSE:
      for (const char *name : {"duration_ms", "bytes_in", "bytes_out", "messages_in", "messages_out"}) {
        double x = 0;
        if (ssews_event_stat(ev, name, &x) == SSEWS_OK) v.stats.emplace_back(name, x);
      }
      v.code = ssews_event_code(ev);
      v.reason = Str(ssews_event_reason(ev));
      break;
    default:
      v.code = ssews_event_code(ev);
      v.reason = Str(ssews_event_reason(ev));
      v.delay_ms = ssews_event_delay_ms(ev);
      break;
  }
  return v;
}

OwnedEvent::OwnedEvent(const ssews_event *ev) {
  EventView v = ViewOf(ev);
  kind_ = v.kind;
  protocol_ = v.protocol;
  code_ = v.code;
  conn_ = v.conn;
  binary_ = v.binary;
  has_name_ = v.name != nullptr;
  has_id_ = v.id != nullptr;
  has_channel_ = v.channel != nullptr;
  has_identity_ = v.identity != nullptr;
  has_claims_ = v.claims != nullptr;
  identity_ = Str(v.identity);
  claims_ = Str(v.claims);
  if (v.data) data_.assign(v.data, v.len);
  name_ = Str(v.name);
  id_ = Str(v.id);
  channel_ = Str(v.channel);
  path_ = v.path;
  query_ = v.query;
  peer_ = v.peer;
  subprotocol_ = v.subprotocol;
  reason_ = v.reason;
  for (auto &h : v.headers) headers_.emplace_back(h.first, h.second);
  for (auto *c : v.channels) channels_.emplace_back(c);
  delay_ms_ = v.delay_ms;
  stats_ = v.stats;
}

EventView OwnedEvent::View() const {
  EventView v;
  v.kind = kind_;
  v.conn = conn_;
  v.protocol = protocol_;
  v.data = data_.data();
  v.len = data_.size();
  v.binary = binary_;
  v.name = has_name_ ? name_.c_str() : nullptr;
  v.id = has_id_ ? id_.c_str() : nullptr;
  v.channel = has_channel_ ? channel_.c_str() : nullptr;
  v.identity = has_identity_ ? identity_.c_str() : nullptr;
  v.claims = has_claims_ ? claims_.c_str() : nullptr;
  v.path = path_.c_str();
  v.query = query_.c_str();
  v.peer = peer_.c_str();
  v.subprotocol = subprotocol_.c_str();
  for (auto &h : headers_) v.headers.emplace_back(h.first.c_str(), h.second.c_str());
  for (auto &c : channels_) v.channels.push_back(c.c_str());
  v.code = code_;
  v.reason = reason_.c_str();
  v.delay_ms = delay_ms_;
  v.stats = stats_;
  return v;
}

Napi::Value ToJs(Napi::Env env, const EventView &ev) {
  Napi::Object o;
  if (ev.kind == SSEWS_EV_ERROR) {
    o = MakeError(env, ev.code, ev.reason).Value();
  } else {
    o = Napi::Object::New(env);
  }
  o.Set("type", Napi::String::New(env, ssews_event_kind_name(ev.kind)));
  o.Set("conn", FromConn(env, ev.conn));
  o.Set("protocol", Protocol(env, ev.protocol));
  switch (ev.kind) {
    case SSEWS_EV_OPEN: {
      o.Set("path", Napi::String::New(env, ev.path));
      o.Set("query", Napi::String::New(env, ev.query));
      o.Set("peer", Napi::String::New(env, ev.peer));
      if (ev.protocol == SSEWS_PROTO_WS) o.Set("subprotocol", Napi::String::New(env, ev.subprotocol));
      Napi::Object headers = Napi::Object::New(env);
      for (auto &h : ev.headers) headers.Set(h.first, Napi::String::New(env, h.second));
      o.Set("headers", headers);
      Napi::Array channels = Napi::Array::New(env, ev.channels.size());
      for (uint32_t i = 0; i < ev.channels.size(); i++)
        channels.Set(i, Napi::String::New(env, ev.channels[i]));
      o.Set("channels", channels);
      SetIdentity(env, o, ev);
      break;
    }
    case SSEWS_EV_MESSAGE:
      if (ev.binary)
        o.Set("data", Napi::Buffer<char>::Copy(env, ev.len ? ev.data : "", ev.len));
      else
        o.Set("data", Napi::String::New(env, ev.len ? ev.data : "", ev.len));
      o.Set("binary", Napi::Boolean::New(env, ev.binary));
      o.Set("event", OptStr(env, ev.name));
      o.Set("id", OptStr(env, ev.id));
      o.Set("channel", OptStr(env, ev.channel));
      break;
    case SSEWS_EV_JOIN:
    case SSEWS_EV_LEAVE:
      o.Set("channel", OptStr(env, ev.channel));
      SetIdentity(env, o, ev);
      break;
    case SSEWS_EV_CLOSE:
      o.Set("code", Napi::Number::New(env, ev.code));
      o.Set("reason", Napi::String::New(env, ev.reason));
      if (!ev.stats.empty()) {
        Napi::Object stats = Napi::Object::New(env);
        for (const auto &s : ev.stats) stats.Set(s.first, Napi::Number::New(env, s.second));
        o.Set("stats", stats);
      }
      break;
    case SSEWS_EV_REQUEST: {
      o.Set("method", Napi::String::New(env, ev.name ? ev.name : ""));
      o.Set("path", Napi::String::New(env, ev.path));
      o.Set("query", Napi::String::New(env, ev.query));
      o.Set("peer", Napi::String::New(env, ev.peer));
      o.Set("status", Napi::Number::New(env, ev.code));
      Napi::Object stats = Napi::Object::New(env);
      for (const auto &s : ev.stats) stats.Set(s.first, Napi::Number::New(env, s.second));
      o.Set("stats", stats);
      break;
    }
    case SSEWS_EV_RECONNECTING:
      o.Set("attempt", Napi::Number::New(env, ev.code));
      o.Set("delay", Napi::Number::New(env, static_cast<double>(ev.delay_ms)));
      break;
    default:
      break;
  }
  return o;
}

}  // namespace ssews_node

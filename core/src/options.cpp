#include "options.h"

#include "channel_pattern.h"
#include "option_table.h"
#include "broker/broker_url.h"
#include "origin_policy.h"

#include <cctype>
#include <cerrno>
#include <cstring>
#include <cstdlib>
#include <functional>
#include <map>

namespace sw {

namespace {

// Parses a non-negative decimal integer in [lo, hi]; rejects signs, spaces and suffixes.
bool parse_uint(const std::string &v, uint64_t lo, uint64_t hi, uint64_t &out) {
  if (v.empty() || v.size() > 20) return false;
  uint64_t n = 0;
  for (char c : v) {
    if (c < '0' || c > '9') return false;
    if (n > (UINT64_MAX - 9) / 10) return false;
    n = n * 10 + uint64_t(c - '0');
  }
  if (n < lo || n > hi) return false;
  out = n;
  return true;
}

using Setter = std::function<bool(Options &, const std::string &, std::string &)>;

Setter bool_opt(bool Options::*field) {
  return [=](Options &o, const std::string &v, std::string &why) {
    if (v == "1" || v == "true" || v == "yes" || v == "on")
      o.*field = true;
    else if (v == "0" || v == "false" || v == "no" || v == "off")
      o.*field = false;
    else {
      why = "is not a boolean (true/false, 1/0, yes/no, on/off)";
      return false;
    }
    return true;
  };
}

bool token_char(char c) {
  return isalnum(static_cast<unsigned char>(c)) || strchr("!#$%&'*+-.^_`|~", c) != nullptr;
}

bool header_opt(Options &o, const std::string &v, std::string &why) {
  if (!check_header_line(v, why)) return false;
  o.headers.push_back(v);
  return true;
}

}  // namespace

// "Name: value": a token name, and no CR, LF or NUL anywhere (header injection).
bool check_header_line(const std::string &v, std::string &why) {
  size_t colon = v.find(':');
  if (colon == std::string::npos || colon == 0) {
    why = "is not a 'Name: value' header";
    return false;
  }
  for (size_t i = 0; i < colon; i++)
    if (!token_char(v[i])) {
      why = "has an invalid header name";
      return false;
    }
  for (char c : v)
    if (c == '\r' || c == '\n' || c == '\0') {
      why = "contains CR or LF";
      return false;
    }
  return true;
}

namespace {

template <typename T>
Setter uint_opt(T Options::*field, uint64_t lo, uint64_t hi) {
  return [=](Options &o, const std::string &v, std::string &why) {
    uint64_t n;
    if (!parse_uint(v, lo, hi, n)) {
      why = "is not a whole number from " + std::to_string(lo) + " to " + std::to_string(hi);
      return false;
    }
    o.*field = static_cast<T>(n);
    return true;
  };
}

Setter str_opt(std::string Options::*field, bool allow_empty) {
  return [=](Options &o, const std::string &v, std::string &why) {
    if (!allow_empty && v.empty()) {
      why = "must not be empty";
      return false;
    }
    o.*field = v;
    return true;
  };
}

// One setter per row of kOptionTable (option_table.h), which holds each key's
// role, type, default and doc; options_table_check() verifies the match.
const std::map<std::string, Setter> &setters() {
  static const std::map<std::string, Setter> m = {
      {"url", str_opt(&Options::url, false)},
      {"host", str_opt(&Options::host, false)},
      {"port", uint_opt(&Options::port, 0, 65535)},
      {"tls_cert", str_opt(&Options::tls_cert, false)},
      {"tls_key", str_opt(&Options::tls_key, false)},
      {"http2", bool_opt(&Options::http2)},
      {"static_dir", str_opt(&Options::static_dir, false)},
      {"history", uint_opt(&Options::history, 0, 1000000)},
      {"heartbeat", uint_opt(&Options::heartbeat, 0, 86400)},
      {"ping_interval", uint_opt(&Options::ping_interval, 0, 65535)},
      {"pong_timeout", uint_opt(&Options::pong_timeout, 1, 65535)},
      {"max_message_size", uint_opt(&Options::max_message_size, 1, uint64_t(1) << 31)},
      {"max_partial_bytes", uint_opt(&Options::max_partial_bytes, 1024, uint64_t(1) << 36)},
      {"max_connections", uint_opt(&Options::max_connections, 1, 1000000)},
      {"max_queue_bytes", uint_opt(&Options::max_queue_bytes, 1024, uint64_t(1) << 34)},
      {"queue_policy",
       [](Options &o, const std::string &v, std::string &why) {
         if (v == "drop_oldest")
           o.queue_drop_oldest = true;
         else if (v == "close")
           o.queue_drop_oldest = false;
         else {
           why = "must be 'drop_oldest' or 'close'";
           return false;
         }
         return true;
       }},
      {"compression",
       [](Options &o, const std::string &v, std::string &why) {
         if (v != "on" && v != "off") {
           why = "must be 'on' or 'off'";
           return false;
         }
         o.compression = v == "on";
         return true;
       }},
      {"compression_window_bits", uint_opt(&Options::compression_window_bits, 9, 15)},
      {"compression_level", uint_opt(&Options::compression_level, 1, 9)},
      {"compression_min_size", uint_opt(&Options::compression_min_size, 0, uint64_t(1) << 31)},
      {"max_header_size", uint_opt(&Options::max_header_size, 256, 65535)},
      {"handshake_timeout", uint_opt(&Options::handshake_timeout, 1, 3600)},
      {"head_timeout", uint_opt(&Options::head_timeout, 1, 3600)},
      {"max_pending_heads", uint_opt(&Options::max_pending_heads, 1, 1000000)},
      {"max_pending_heads_per_ip", uint_opt(&Options::max_pending_heads_per_ip, 0, 1000000)},
      {"max_connections_per_ip", uint_opt(&Options::max_connections_per_ip, 0, 1000000)},
      {"handshake_rate_per_ip", uint_opt(&Options::handshake_rate_per_ip, 0, 1000000)},
      {"handshake_burst_per_ip", uint_opt(&Options::handshake_burst_per_ip, 1, 1000000)},
      {"max_pending_bytes", uint_opt(&Options::max_pending_bytes, 1024, uint64_t(1) << 36)},
      {"max_event_queue", uint_opt(&Options::max_event_queue, 1, 100000000)},
      {"log_level",
       [](Options &o, const std::string &v, std::string &why) {
         if (v != "none" && v != "error" && v != "warn" && v != "notice" && v != "info") {
           why = "must be one of none, error, warn, notice, info";
           return false;
         }
         o.log_level = v;
         return true;
       }},
      {"capture_headers",
       [](Options &o, const std::string &v, std::string &why) {
         // Comma-separated header names; stored lower-case.
         o.capture_headers.clear();
         size_t start = 0;
         while (start <= v.size()) {
           size_t comma = v.find(',', start);
           if (comma == std::string::npos) comma = v.size();
           std::string name;
           for (size_t i = start; i < comma; i++)
             if (v[i] != ' ' && v[i] != '\t')
               name += static_cast<char>(tolower(static_cast<unsigned char>(v[i])));
           for (char c : name)
             if (!token_char(c)) {
               why = "has an invalid header name";
               return false;
             }
           if (!name.empty()) o.capture_headers.push_back(name);
           start = comma + 1;
         }
         return true;
       }},
      {"publish_token", str_opt(&Options::publish_token, false)},
      {"publish_path",
       [](Options &o, const std::string &v, std::string &why) {
         if (v.empty() || v[0] != '/' || v.find('?') != std::string::npos) {
           why = "must be a path starting with '/' and without a query";
           return false;
         }
         o.publish_path = v;
         return true;
       }},
      {"broker",
       [](Options &o, const std::string &v, std::string &why) {
         BrokerAddr a;
         if (!parse_broker_url(v, a, why)) return false;
         o.broker = v;
         return true;
       }},
      {"broker_prefix",
       [](Options &o, const std::string &v, std::string &why) {
         if (v.empty() || v.size() > 200 ||
             v.find_first_of(std::string(" \t\r\n\0", 5)) != std::string::npos) {
           why = "must be 1-200 characters without spaces or control characters";
           return false;
         }
         o.broker_prefix = v;
         return true;
       }},
      {"jwt_secret", str_opt(&Options::jwt_secret, false)},
      {"jwt_public_key", str_opt(&Options::jwt_public_key, false)},
      {"jwt_audience", str_opt(&Options::jwt_audience, false)},
      {"jwt_issuer", str_opt(&Options::jwt_issuer, false)},
      {"jwt_leeway", uint_opt(&Options::jwt_leeway, 0, 3600)},
      {"jwt_cookie",
       [](Options &o, const std::string &v, std::string &why) {
         for (char c : v)
           if (!token_char(c)) {
             why = "is not a cookie name";
             return false;
           }
         if (v.empty()) {
           why = "must not be empty";
           return false;
         }
         o.jwt_cookie = v;
         return true;
       }},
      {"allowed_origins",
       [](Options &o, const std::string &v, std::string &why) {
         OriginPolicy p;
         if (!p.parse(v, why)) return false;
         o.allowed_origins = v;
         return true;
       }},
      {"anonymous_subscribe",
       [](Options &o, const std::string &v, std::string &why) {
         o.anonymous_subscribe = split_list(v);
         if (o.anonymous_subscribe.empty()) {
           why = "lists no channel pattern";
           return false;
         }
         return true;
       }},
      {"metrics_path",
       [](Options &o, const std::string &v, std::string &why) {
         if (!v.empty() && (v[0] != '/' || v.find('?') != std::string::npos)) {
           why = "must be a path starting with '/' and without a query (or empty: off)";
           return false;
         }
         o.metrics_path = v;
         return true;
       }},
      {"metrics_token", str_opt(&Options::metrics_token, false)},
      {"send_high_water", uint_opt(&Options::send_high_water, 1, uint64_t(1) << 34)},
      {"send_low_water", uint_opt(&Options::send_low_water, 0, uint64_t(1) << 34)},
      {"drain_timeout", uint_opt(&Options::drain_timeout, 0, 3600)},
      {"presence", bool_opt(&Options::presence)},
      {"request_events", bool_opt(&Options::request_events)},
      {"header", header_opt},
      {"subprotocols",
       [](Options &o, const std::string &v, std::string &why) {
         // Sent as the Sec-WebSocket-Protocol header: no header injection.
         if (v.find_first_of("\r\n") != std::string::npos) {
           why = "contains CR or LF";
           return false;
         }
         o.subprotocols = v;
         return true;
       }},
      {"v1", bool_opt(&Options::v1)},
      {"ca_file", str_opt(&Options::ca_file, false)},
      {"insecure", bool_opt(&Options::insecure)},
      {"connect_timeout", uint_opt(&Options::connect_timeout, 1, 3600)},
      {"reconnect", bool_opt(&Options::reconnect)},
      {"reconnect_delay_ms", uint_opt(&Options::reconnect_delay_ms, 0, 3600000)},
      {"reconnect_max_delay_ms", uint_opt(&Options::reconnect_max_delay_ms, 0, 86400000)},
      {"reconnect_max_attempts", uint_opt(&Options::reconnect_max_attempts, 0, 1000000000)},
      {"last_event_id",
       [](Options &o, const std::string &v, std::string &why) {
         if (v.find_first_of(std::string("\r\n\0", 3)) != std::string::npos) {
           why = "contains CR, LF or NUL";
           return false;
         }
         o.last_event_id = v;
         return true;
       }},
      {"method",
       [](Options &o, const std::string &v, std::string &why) {
         // The request line's method: a token (RFC 9110 9.1), case-sensitive.
         bool ok = !v.empty() && v.size() <= 32;
         for (char c : v) ok = ok && token_char(c);
         if (!ok) {
           why = "is not an HTTP method (a token such as GET or POST)";
           return false;
         }
         o.method = v;
         return true;
       }},
      {"body", str_opt(&Options::body, true)},
      {"content_type",
       [](Options &o, const std::string &v, std::string &why) {
         // Sent as a header value: no header injection.
         if (v.find_first_of("\r\n") != std::string::npos) {
           why = "contains CR or LF";
           return false;
         }
         o.content_type = v;
         return true;
       }},
      {"reconnect_non_idempotent", bool_opt(&Options::reconnect_non_idempotent)},
  };
  return m;
}

}  // namespace

const std::vector<std::string> &option_keys() {
  static const std::vector<std::string> keys = [] {
    std::vector<std::string> k;
    for (const OptionInfo &row : kOptionTable) k.push_back(row.key);
    return k;
  }();
  return keys;
}

bool options_table_check(std::string &err) {
  for (const OptionInfo &row : kOptionTable)
    if (!setters().count(row.key)) {
      err = std::string("option table row '") + row.key + "' has no setter";
      return false;
    }
  for (const auto &e : setters()) {
    bool found = false;
    for (const OptionInfo &row : kOptionTable) found = found || e.first == row.key;
    if (!found) {
      err = "setter '" + e.first + "' has no row in the option table";
      return false;
    }
  }
  return true;
}

bool parse_options(const char *const *kv, Options &out, std::string &err) {
  if (!kv) return true;
  // The role decides which keys apply: look for "url" first.
  bool client = false;
  for (size_t i = 0; kv[i] && kv[i + 1]; i += 2)
    if (!strcmp(kv[i], "url")) client = true;
  std::vector<std::string> seen;
  for (size_t i = 0; kv[i]; i += 2) {
    std::string key = kv[i];
    // A key given twice is a mistake to report, not a value to drop; only
    // "header" repeats by design.
    if (key != "header") {
      for (const auto &k : seen)
        if (k == key) {
          err = "option '" + key + "' is given more than once";
          return false;
        }
      seen.push_back(key);
    }
    if (!kv[i + 1]) {
      err = "option '" + key + "' has no value (options are key, value pairs ended by NULL)";
      return false;
    }
    std::string value = kv[i + 1];
    const OptionInfo *row = nullptr;
    for (const OptionInfo &r : kOptionTable)
      if (key == r.key) row = &r;
    auto it = setters().find(key);
    if (!row || it == setters().end()) {
      err = "unknown option '" + key + "'";
      return false;
    }
    if (!(row->role & (client ? kOptClient : kOptServer))) {
      err = client ? "option '" + key + "' applies to servers only (this endpoint has a 'url': a client)"
                   : "option '" + key + "' applies to clients only (give a 'url' to open a client)";
      return false;
    }
    std::string why;
    if (!it->second(out, value, why)) {
      err = "option '" + key + "': '" + value + "' " + why;
      return false;
    }
  }
  if (out.url.empty()) {
    auto given = [&seen](const char *k) {
      for (const auto &s : seen)
        if (s == k) return true;
      return false;
    };
    bool key = given("jwt_secret") || given("jwt_public_key");
    if (given("jwt_secret") && given("jwt_public_key")) {
      err = "options 'jwt_secret' and 'jwt_public_key' exclude each other (one key verifies the tokens)";
      return false;
    }
    // A cookie rides along with every request a browser makes, the attacker's
    // page's too: without an Origin check that is cross-site WebSocket hijacking.
    if (key && given("jwt_cookie") && out.allowed_origins.empty()) {
      err =
          "option 'jwt_cookie' needs 'allowed_origins': accepting a token from a cookie without an Origin "
          "check lets any web page use the visitor's cookie (cross-site WebSocket hijacking)";
      return false;
    }
    if (out.send_low_water >= out.send_high_water) {
      err = "option 'send_low_water' must be below 'send_high_water' (" +
            std::to_string(out.send_high_water) + ")";
      return false;
    }
    if (out.tls_cert.empty() != out.tls_key.empty()) {
      err = out.tls_cert.empty() ? "option 'tls_key' needs 'tls_cert' as well"
                                 : "option 'tls_cert' needs 'tls_key' as well";
      return false;
    }
  }
  return true;
}

}  // namespace sw

#include "broker/broker_url.h"

namespace sw {

namespace {

int hexval(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// %XX escapes, so a password may hold ':', '@' or '/'.
bool pct_decode(std::string_view in, std::string &out) {
  out.clear();
  for (size_t i = 0; i < in.size(); i++) {
    if (in[i] != '%') {
      out += in[i];
      continue;
    }
    if (i + 2 >= in.size()) return false;
    int hi = hexval(in[i + 1]), lo = hexval(in[i + 2]);
    if (hi < 0 || lo < 0) return false;
    out += static_cast<char>(hi * 16 + lo);
    i += 2;
  }
  return true;
}

bool parse_number(std::string_view s, int lo, int hi, int &out) {
  if (s.empty() || s.size() > 6) return false;
  int v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
    v = v * 10 + (c - '0');
  }
  if (v < lo || v > hi) return false;
  out = v;
  return true;
}

bool has_control(std::string_view s) {
  for (unsigned char c : s)
    if (c < 0x20 || c == 0x7f) return true;
  return false;
}

}  // namespace

std::string BrokerAddr::display() const {
  std::string s;
  if (!unix_path.empty()) {
    s = "unix:" + unix_path;  // the user, if any, is left out: unix: has no place for it without the password
  } else {
    s = "redis://";
    if (!user.empty()) s += user + "@";
    s += host.find(':') != std::string::npos ? "[" + host + "]" : host;
    s += ":" + std::to_string(port);
  }
  if (db) s += (unix_path.empty() ? "/" : "?db=") + std::to_string(db);
  return s;
}

// "user:password", ":password" or "password" (a password alone), %-decoded.
bool parse_credentials(std::string_view cred, BrokerAddr &out, std::string &err) {
  size_t colon = cred.find(':');
  std::string_view user = cred.substr(0, colon);
  std::string_view pass = colon == std::string_view::npos ? std::string_view() : cred.substr(colon + 1);
  if (colon == std::string_view::npos) std::swap(user, pass);
  if (!pct_decode(user, out.user) || !pct_decode(pass, out.password)) {
    err = "has a bad %-escape in its user or password";
    return false;
  }
  return true;
}

bool parse_broker_url(std::string_view url, BrokerAddr &out, std::string &err) {
  out = BrokerAddr{};
  if (has_control(url)) {
    err = "contains a control character";
    return false;
  }
  if (url.substr(0, 5) == "unix:") {
    std::string_view path = url.substr(5);
    if (path.substr(0, 2) == "//") path.remove_prefix(2);  // unix:///run/redis.sock
    size_t at = path.find('@');  // unix://:password@/run/redis.sock (as redis-py writes it)
    if (at != std::string_view::npos && at < path.find('/')) {
      if (!parse_credentials(path.substr(0, at), out, err)) return false;
      path.remove_prefix(at + 1);
    }
    size_t q = path.find('?');
    if (q != std::string_view::npos) {
      std::string_view query = path.substr(q + 1);
      path = path.substr(0, q);
      if (query.substr(0, 3) != "db=" || !parse_number(query.substr(3), 0, 65535, out.db)) {
        err = "has a query other than '?db=N'";
        return false;
      }
    }
    if (path.empty()) {
      err = "names no socket path after 'unix:'";
      return false;
    }
    out.unix_path = std::string(path);
    return true;
  }
  if (url.substr(0, 8) != "redis://") {
    err = "is not a redis://host[:port][/db] or unix:path URL";
    return false;
  }
  std::string_view rest = url.substr(8);
  size_t slash = rest.find('/');
  std::string_view authority = rest.substr(0, slash);
  if (slash != std::string_view::npos) {
    std::string_view db = rest.substr(slash + 1);
    if (!db.empty() && !parse_number(db, 0, 65535, out.db)) {
      err = "has a database that is not a number (redis://host/0)";
      return false;
    }
  }
  size_t at = authority.rfind('@');
  if (at != std::string_view::npos) {
    if (!parse_credentials(authority.substr(0, at), out, err)) return false;
    authority = authority.substr(at + 1);
  }
  std::string_view host = authority, port;
  if (!authority.empty() && authority[0] == '[') {
    size_t close = authority.find(']');
    if (close == std::string_view::npos) {
      err = "has an unclosed '[' in its host";
      return false;
    }
    host = authority.substr(1, close - 1);
    std::string_view after = authority.substr(close + 1);
    if (!after.empty()) {
      if (after[0] != ':') {
        err = "has something after ']' that is not ':port'";
        return false;
      }
      port = after.substr(1);
      if (port.empty()) port = "x";
    }
  } else {
    size_t colon = authority.find(':');
    if (colon != std::string_view::npos) {
      host = authority.substr(0, colon);
      port = authority.substr(colon + 1);
      if (port.empty()) port = "x";
    }
  }
  if (host.empty()) {
    err = "has no host";
    return false;
  }
  if (!port.empty() && !parse_number(port, 1, 65535, out.port)) {
    err = "has a port that is not 1-65535";
    return false;
  }
  out.host = std::string(host);
  return true;
}

}  // namespace sw

#include "url.h"

#include <cctype>

namespace sw {

std::string Url::host_header() const {
  std::string h = host.find(':') != std::string::npos ? "[" + host + "]" : host;
  int def = tls ? 443 : 80;
  if (port != def) h += ":" + std::to_string(port);
  return h;
}

bool parse_url(std::string_view url, Url &out, std::string &err) {
  out = Url{};
  size_t colon = url.find("://");
  if (colon == std::string_view::npos || colon == 0) {
    err = "'" + std::string(url) + "' has no scheme (use ws://, wss://, http:// or https://)";
    return false;
  }
  for (char c : url.substr(0, colon)) out.scheme += static_cast<char>(tolower(static_cast<unsigned char>(c)));
  if (out.scheme == "ws")
    out.websocket = true;
  else if (out.scheme == "wss")
    out.websocket = out.tls = true;
  else if (out.scheme == "https")
    out.tls = true;
  else if (out.scheme != "http") {
    err = "unsupported scheme '" + out.scheme + "' (use ws://, wss://, http:// or https://)";
    return false;
  }
  std::string_view rest = url.substr(colon + 3);
  size_t slash = rest.find_first_of("/?#");
  std::string_view authority = rest.substr(0, slash);
  std::string_view tail = slash == std::string_view::npos ? std::string_view() : rest.substr(slash);
  if (authority.find('@') != std::string_view::npos) {
    err = "user information in URLs is not supported (send an Authorization header instead)";
    return false;
  }
  std::string_view port_str;
  if (!authority.empty() && authority[0] == '[') {
    size_t close = authority.find(']');
    if (close == std::string_view::npos) {
      err = "unterminated IPv6 address in '" + std::string(url) + "'";
      return false;
    }
    out.host = std::string(authority.substr(1, close - 1));
    std::string_view after = authority.substr(close + 1);
    if (!after.empty()) {
      if (after[0] != ':') {
        err = "unexpected characters after the IPv6 address in '" + std::string(url) + "'";
        return false;
      }
      port_str = after.substr(1);
      if (port_str.empty()) {
        err = "empty port in '" + std::string(url) + "'";
        return false;
      }
    }
  } else {
    size_t pc = authority.rfind(':');
    if (pc != std::string_view::npos) {
      port_str = authority.substr(pc + 1);
      authority = authority.substr(0, pc);
      if (port_str.empty()) {
        err = "empty port in '" + std::string(url) + "'";
        return false;
      }
    }
    out.host = std::string(authority);
    if (out.host.find(':') != std::string::npos) {  // host_header() could not write it back
      err = "an IPv6 address needs brackets in '" + std::string(url) + "'";
      return false;
    }
  }
  if (out.host.empty()) {
    err = "no host in '" + std::string(url) + "'";
    return false;
  }
  for (char c : out.host) {
    if (isspace(static_cast<unsigned char>(c)) || c == '/' || c == '\\' || c == '[' || c == ']' ||
        static_cast<unsigned char>(c) < 0x20) {
      err = "invalid character in host '" + out.host + "'";
      return false;
    }
  }
  if (!port_str.empty()) {
    int p = 0;
    for (char c : port_str) {
      if (!isdigit(static_cast<unsigned char>(c)) || p > 65535) {
        err = "invalid port '" + std::string(port_str) + "'";
        return false;
      }
      p = p * 10 + (c - '0');
    }
    if (p < 1 || p > 65535) {
      err = "invalid port '" + std::string(port_str) + "'";
      return false;
    }
    out.port = p;
  } else {
    out.port = out.tls ? 443 : 80;
  }
  size_t hash = tail.find('#');  // the fragment never goes on the wire
  if (hash != std::string_view::npos) tail = tail.substr(0, hash);
  for (char c : tail) {
    if (static_cast<unsigned char>(c) <= 0x20 || c == 0x7f) {
      err = "URL path contains a space or control character; percent-encode it";
      return false;
    }
  }
  out.path = tail.empty() ? "/" : std::string(tail);
  if (out.path[0] == '?') out.path = "/" + out.path;
  return true;
}

}  // namespace sw

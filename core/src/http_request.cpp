#include "http_request.h"

#include "ascii.h"
#include "channel_pattern.h"

namespace sw {

namespace {

int hex(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  c = ascii_lower(c);
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return -1;
}

// The byte of a %XX escape at s[i] (i at the '%'); false when malformed.
bool percent_byte(std::string_view s, size_t i, char &out) {
  if (i + 2 >= s.size() || hex(s[i + 1]) < 0 || hex(s[i + 2]) < 0) return false;
  out = static_cast<char>(hex(s[i + 1]) * 16 + hex(s[i + 2]));
  return true;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// Folds "//" to "/", drops "/." and "/.." segments (a ".." never climbs
// above the root), as lws does before it hands a path over.
std::string fold_path(const std::string &p) {
  std::vector<std::string> segs;
  size_t i = 0;
  bool trailing = false;
  while (i < p.size()) {
    size_t j = p.find('/', i);
    if (j == std::string::npos) j = p.size();
    std::string seg = p.substr(i, j - i);
    trailing = j < p.size() && j + 1 == p.size();
    if (seg == "..") {
      if (!segs.empty()) segs.pop_back();
    } else if (!seg.empty() && seg != ".") {
      segs.push_back(seg);
    }
    i = j + 1;
  }
  std::string out;
  for (const auto &s : segs) out += "/" + s;
  if (out.empty() || trailing) out += "/";
  return out;
}

// Decodes a query: %XX, '+' as a space, split at unencoded '&' and ';'; an
// encoded '=' before the first real one becomes '_' (lws' rule: a name
// cannot hold '=').
bool decode_query(std::string_view q, std::vector<std::string> &out, std::string &err) {
  std::string cur;
  bool seen_equal = false;
  for (size_t i = 0; i < q.size(); i++) {
    char c = q[i];
    if (c == '%') {
      char d;
      if (!percent_byte(q, i, d)) {
        err = "bad percent-encoding in the URL query";
        return false;
      }
      i += 2;
      if (d == '=' && !seen_equal) d = '_';
      cur += d;
      continue;
    }
    if (c == '&' || c == ';') {
      out.push_back(std::move(cur));
      cur.clear();
      seen_equal = false;
      continue;
    }
    if (c == '=') seen_equal = true;
    cur += c == '+' ? ' ' : c;
  }
  out.push_back(std::move(cur));
  return true;
}

bool decode_path(std::string_view p, std::string &out, std::string &err) {
  std::string d;
  for (size_t i = 0; i < p.size(); i++) {
    char c = p[i];
    if (c == '%') {
      char v;
      if (!percent_byte(p, i, v)) {
        err = "bad percent-encoding in the URL path";
        return false;
      }
      if (v == '\0') {
        err = "the URL path holds %00";
        return false;
      }
      d += v;
      i += 2;
      continue;
    }
    d += c == '+' ? ' ' : c;
  }
  out = fold_path(d);
  return true;
}

}  // namespace

const std::string *HttpRequest::header(std::string_view name) const {
  for (const auto &h : headers)
    if (h.first == name) return &h.second;
  return nullptr;
}

bool HttpRequest::header_has_token(std::string_view name, std::string_view token) const {
  const std::string lower = ascii_lower(token);
  for (const auto &h : headers) {
    if (h.first != name) continue;
    for (const auto &item : split_list(h.second))
      if (item.size() == lower.size() && starts_with_nocase(item, lower)) return true;
  }
  return false;
}

bool parse_http_request(std::string_view head, HttpRequest &out, std::string &err) {
  out = HttpRequest();
  bool first = true;
  while (!head.empty()) {
    size_t nl = head.find('\n');
    std::string_view line = head.substr(0, nl);
    head.remove_prefix(nl == std::string_view::npos ? head.size() : nl + 1);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.empty()) {
      if (first) continue;  // empty lines before the request line
      break;                // the end of the head
    }
    if (first) {
      first = false;
      size_t a = line.find(' '), b = line.rfind(' ');
      if (a == std::string_view::npos || b == a) {
        err = "malformed request line";
        return false;
      }
      out.method = std::string(line.substr(0, a));
      out.target = std::string(trim(line.substr(a + 1, b - a - 1)));
      out.version = std::string(line.substr(b + 1));
      continue;
    }
    size_t colon = line.find(':');
    if (colon == std::string_view::npos || colon == 0) {
      err = "malformed header line";
      return false;
    }
    out.headers.emplace_back(ascii_lower(line.substr(0, colon)), std::string(trim(line.substr(colon + 1))));
  }
  if (first) {
    err = "no request line";
    return false;
  }
  std::string_view t = out.target;
  // An absolute-form target (RFC 9112 3.2.2): keep what follows the authority.
  if (starts_with_nocase(t, "http://") || starts_with_nocase(t, "https://")) {
    size_t slash = t.find('/', t.find("//") + 2);
    t = slash == std::string_view::npos ? std::string_view("/") : t.substr(slash);
  }
  size_t q = t.find('?');
  if (!decode_path(t.substr(0, q), out.path, err)) return false;
  if (q != std::string_view::npos && q + 1 < t.size() && !decode_query(t.substr(q + 1), out.query, err))
    return false;
  return true;
}

const char *http_reason(unsigned status) {
  switch (status) {
    case 101:
      return "Switching Protocols";
    case 200:
      return "OK";
    case 204:
      return "No Content";
    case 400:
      return "Bad Request";
    case 401:
      return "Unauthorized";
    case 403:
      return "Forbidden";
    case 404:
      return "Not Found";
    case 405:
      return "Method Not Allowed";
    case 408:
      return "Request Timeout";
    case 413:
      return "Content Too Large";
    case 426:
      return "Upgrade Required";
    case 429:
      return "Too Many Requests";
    case 431:
      return "Request Header Fields Too Large";
    case 500:
      return "Internal Server Error";
    case 503:
      return "Service Unavailable";
    case 505:
      return "HTTP Version Not Supported";
    default:
      return "Error";
  }
}

std::string http_text_response(unsigned status, std::string_view message, std::string_view extra_headers) {
  std::string body = std::string(message) + "\n";
  return "HTTP/1.1 " + std::to_string(status) + " " + http_reason(status) + "\r\n" +
         std::string(extra_headers) +
         "Content-Type: text/plain; charset=utf-8\r\nContent-Length: " + std::to_string(body.size()) +
         "\r\nConnection: close\r\n\r\n" + body;
}

}  // namespace sw

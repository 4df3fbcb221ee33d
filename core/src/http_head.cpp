#include "http_head.h"

#include <utility>

#include "ascii.h"
#include "http_request.h"

namespace sw {

namespace {

// RFC 9110 5.6.2 tchar: what a method and a header name are made of.
bool is_tchar(unsigned char c) {
  if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')) return true;
  switch (c) {
    case '!':
    case '#':
    case '$':
    case '%':
    case '&':
    case '\'':
    case '*':
    case '+':
    case '-':
    case '.':
    case '^':
    case '_':
    case '`':
    case '|':
    case '~':
      return true;
    default:
      return false;
  }
}

// A control character (RFC 5234 CTL), as neither a target nor a value may hold
// one (a value may hold HTAB, which the caller allows).
bool is_ctl(unsigned char c) {
  return c < 0x20 || c == 0x7f;
}

// A name from the head, safe to quote in a message: at most 40 bytes (a name
// is tchar only, so it holds nothing that needs escaping).
std::string quoted(std::string_view name) {
  if (name.size() > 40) return "'" + std::string(name.substr(0, 40)) + "...'";
  return "'" + std::string(name) + "'";
}

}  // namespace

HeadChecker::HeadChecker(size_t max_bytes, size_t max_headers, const std::vector<std::string> *fragile)
    : max_bytes_(max_bytes), max_headers_(max_headers), fragile_(fragile) {}

const HeadVerdict &HeadChecker::feed(std::string_view bytes) {
  for (size_t i = 0; i < bytes.size() && v_.kind == HeadVerdict::kNeedMore; i++)
    byte(static_cast<unsigned char>(bytes[i]));
  return v_;
}

void HeadChecker::refuse(unsigned status, std::string message) {
  v_.kind = HeadVerdict::kRefuse;
  v_.status = status;
  v_.message = std::move(message);
}

void HeadChecker::byte(unsigned char c) {
  // The size is checked first: a head that is too large is 431 whatever it
  // holds, as a client can only shorten it.
  if (pos_ >= max_bytes_) {
    refuse(431, "request head larger than max_header_size (" + std::to_string(max_bytes_) + " bytes)");
    return;
  }
  pos_++;
  if (c == 0) return refuse(400, "NUL byte in the request head");
  if (cr_) {
    cr_ = false;
    if (c != '\n') return refuse(400, "CR not followed by LF in the request head");
    crlf_ = true;
    if (lf_) return refuse(400, "line ends mix CRLF and bare LF in the request head");
    return end_line();
  }
  if (c == '\r') {
    cr_ = true;
    return;
  }
  if (c == '\n') {
    lf_ = true;
    if (crlf_) return refuse(400, "line ends mix CRLF and bare LF in the request head");
    return end_line();
  }
  line_ += static_cast<char>(c);
}

void HeadChecker::end_line() {
  if (!saw_request_) {
    if (line_.empty()) {
      v_.start = pos_;  // an empty line before the request line: skipped
      return;
    }
    saw_request_ = true;
    request_line();
  } else if (line_.empty()) {
    v_.kind = HeadVerdict::kOk;
    v_.head_len = pos_;
  } else {
    header_line();
  }
  line_.clear();
}

// method SP request-target SP HTTP-version (RFC 9112 3), one space each.
void HeadChecker::request_line() {
  std::string_view l = line_;
  size_t sp1 = l.find(' ');
  size_t sp2 = sp1 == std::string_view::npos ? sp1 : l.find(' ', sp1 + 1);
  if (sp2 == std::string_view::npos || l.find(' ', sp2 + 1) != std::string_view::npos)
    return refuse(400, "malformed request line (want: METHOD target HTTP/1.1)");
  std::string_view method = l.substr(0, sp1), target = l.substr(sp1 + 1, sp2 - sp1 - 1),
                   version = l.substr(sp2 + 1);
  if (method.empty() || target.empty())
    return refuse(400, "malformed request line (want: METHOD target HTTP/1.1)");
  for (unsigned char c : method)
    if (!is_tchar(c)) return refuse(400, "malformed request line: bad character in the method");
  for (unsigned char c : target)
    if (is_ctl(c)) return refuse(400, "control character in the request target");
  // lws decodes the target, and a decoded NUL would end every string made of it.
  if (target.find("%00") != std::string_view::npos) return refuse(400, "%00 in the request target");
  if (version.size() != 8 || version.substr(0, 5) != "HTTP/" || version[6] != '.' || version[5] < '0' ||
      version[5] > '9' || version[7] < '0' || version[7] > '9')
    return refuse(400, "malformed request line: bad HTTP version");
  if (version[5] != '1') return refuse(505, "HTTP version not supported (this server speaks HTTP/1.1)");
}

// field-name ":" OWS field-value OWS (RFC 9112 5), no obs-fold.
void HeadChecker::header_line() {
  if (++headers_ > max_headers_)
    return refuse(431, "more than " + std::to_string(max_headers_) + " header lines");
  std::string_view l = line_;
  if (l[0] == ' ' || l[0] == '\t') return refuse(400, "header line folded onto the one before (obs-fold)");
  size_t colon = l.find(':');
  if (colon == std::string_view::npos) return refuse(400, "header line without a colon");
  std::string_view name = l.substr(0, colon);
  if (name.empty()) return refuse(400, "header line with an empty name");
  for (unsigned char c : name)
    if (!is_tchar(c)) return refuse(400, "bad character in a header name (white space before ':'?)");
  for (unsigned char c : l.substr(colon + 1))
    if (is_ctl(c) && c != '\t') return refuse(400, "control character in header " + quoted(name));
  // fragile_ holds known names with their terminator ("x-auth-token:"). A
  // name lws knows is parsed whatever longer names start with it ("accept"
  // beside "accept-encoding"); one that only starts a known name is not.
  std::string lower = ascii_lower(name);
  const std::string *longer = nullptr;
  if (!fragile_) return;
  for (const std::string &f : *fragile_) {
    if (f.size() == lower.size() + 1 && f.back() == ':' && f.compare(0, lower.size(), lower) == 0) return;
    if (!longer && f.size() > lower.size() && f.compare(0, lower.size(), lower) == 0) longer = &f;
  }
  if (longer)
    return refuse(400, "header name " + quoted(name) + " cannot be parsed here (a prefix of '" +
                           longer->substr(0, longer->size() - 1) + "', which libwebsockets 4.1 knows)");
}

std::string head_refusal(const HeadVerdict &v) {
  return http_text_response(v.status, v.message);
}

}  // namespace sw

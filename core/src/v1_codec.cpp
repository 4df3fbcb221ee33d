#include "v1_codec.h"

#include <cstdint>

#include "utf8.h"

namespace sw {

// Length of the UTF-8 sequence that lead byte c starts (0: not a lead byte).
static size_t utf8_seq_len(unsigned char c) {
  if (c >= 0xC2 && c <= 0xDF) return 2;
  if (c >= 0xE0 && c <= 0xEF) return 3;
  if (c >= 0xF0 && c <= 0xF4) return 4;
  return 0;
}

void json_quote(std::string &out, std::string_view s) {
  static const char hex[] = "0123456789abcdef";
  out += '"';
  for (size_t i = 0; i < s.size(); i++) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      case '\b':
        out += "\\b";
        break;
      case '\f':
        out += "\\f";
        break;
      default:
        if (c < 0x20) {
          out += "\\u00";
          out += hex[c >> 4];
          out += hex[c & 15];
        } else if (c < 0x80) {
          out += static_cast<char>(c);
        } else {
          // JSON text is UTF-8 (RFC 8259 8.1): a byte that does not start a
          // valid sequence becomes U+FFFD, so the output is always valid JSON.
          size_t n = utf8_seq_len(c);
          if (n && i + n <= s.size() && utf8_valid(s.substr(i, n))) {
            out.append(s.data() + i, n);
            i += n - 1;
          } else {
            out += "\\ufffd";
          }
        }
    }
  }
  out += '"';
}

void v1_encode_text(std::string &out, std::string_view channel, std::string_view event, std::string_view id,
                    std::string_view data) {
  out.reserve(out.size() + data.size() + channel.size() + event.size() + id.size() + 48);
  out += "{\"channel\":";
  json_quote(out, channel);
  out += ",\"event\":";
  json_quote(out, event);
  out += ",\"id\":";
  json_quote(out, id);
  out += ",\"data\":";
  json_quote(out, data);
  out += '}';
}

static void put_field(std::string &out, std::string_view f) {
  out += static_cast<char>((f.size() >> 8) & 0xff);
  out += static_cast<char>(f.size() & 0xff);
  out.append(f.data(), f.size());
}

void v1_encode_binary(std::string &out, std::string_view channel, std::string_view event, std::string_view id,
                      std::string_view data) {
  out.reserve(out.size() + 7 + channel.size() + event.size() + id.size() + data.size());
  out += static_cast<char>(kV1BinaryMagic);
  put_field(out, channel);
  put_field(out, event);
  put_field(out, id);
  out.append(data.data(), data.size());
}

static bool get_field(std::string_view &in, std::string &f) {
  if (in.size() < 2) return false;
  size_t n = (static_cast<unsigned char>(in[0]) << 8) | static_cast<unsigned char>(in[1]);
  if (in.size() < 2 + n) return false;
  f.assign(in.data() + 2, n);
  in.remove_prefix(2 + n);
  return true;
}

bool v1_decode_binary(std::string_view in, V1Message &m) {
  if (in.empty() || static_cast<unsigned char>(in[0]) != kV1BinaryMagic) return false;
  in.remove_prefix(1);
  if (!get_field(in, m.channel) || !get_field(in, m.event) || !get_field(in, m.id)) return false;
  m.data.assign(in.data(), in.size());
  return true;
}

// --- a small JSON reader for the flat object v1_encode_text makes ---------

static void skip_ws(std::string_view &in) {
  while (!in.empty() && (in[0] == ' ' || in[0] == '\t' || in[0] == '\n' || in[0] == '\r'))
    in.remove_prefix(1);
}

static void put_utf8(std::string &out, uint32_t cp) {
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xC0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    out += static_cast<char>(0xE0 | (cp >> 12));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (cp >> 18));
    out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  }
}

static bool read_hex4(std::string_view &in, uint32_t &v) {
  if (in.size() < 4) return false;
  v = 0;
  for (int i = 0; i < 4; i++) {
    char c = in[i];
    v <<= 4;
    if (c >= '0' && c <= '9')
      v |= c - '0';
    else if (c >= 'a' && c <= 'f')
      v |= c - 'a' + 10;
    else if (c >= 'A' && c <= 'F')
      v |= c - 'A' + 10;
    else
      return false;
  }
  in.remove_prefix(4);
  return true;
}

static bool read_string(std::string_view &in, std::string &s) {
  if (in.empty() || in[0] != '"') return false;
  in.remove_prefix(1);
  s.clear();
  while (!in.empty()) {
    char c = in[0];
    in.remove_prefix(1);
    if (c == '"') return true;
    if (static_cast<unsigned char>(c) < 0x20) return false;
    if (c != '\\') {
      s += c;
      continue;
    }
    if (in.empty()) return false;
    char e = in[0];
    in.remove_prefix(1);
    switch (e) {
      case '"':
        s += '"';
        break;
      case '\\':
        s += '\\';
        break;
      case '/':
        s += '/';
        break;
      case 'b':
        s += '\b';
        break;
      case 'f':
        s += '\f';
        break;
      case 'n':
        s += '\n';
        break;
      case 'r':
        s += '\r';
        break;
      case 't':
        s += '\t';
        break;
      case 'u': {
        uint32_t cp;
        if (!read_hex4(in, cp)) return false;
        if (cp >= 0xD800 && cp <= 0xDBFF) {  // a surrogate pair
          uint32_t lo;
          if (in.size() < 2 || in[0] != '\\' || in[1] != 'u') return false;
          in.remove_prefix(2);
          if (!read_hex4(in, lo) || lo < 0xDC00 || lo > 0xDFFF) return false;
          cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
        } else if (cp >= 0xDC00 && cp <= 0xDFFF) {
          return false;
        }
        put_utf8(s, cp);
        break;
      }
      default:
        return false;
    }
  }
  return false;
}

bool v1_decode_text(std::string_view in, V1Message &m) {
  m = V1Message{};
  skip_ws(in);
  if (in.empty() || in[0] != '{') return false;
  in.remove_prefix(1);
  skip_ws(in);
  bool have_data = false;
  if (!in.empty() && in[0] == '}') return false;
  for (;;) {
    std::string key, value;
    skip_ws(in);
    if (!read_string(in, key)) return false;
    skip_ws(in);
    if (in.empty() || in[0] != ':') return false;
    in.remove_prefix(1);
    skip_ws(in);
    if (!read_string(in, value)) return false;  // every field is a string
    if (key == "channel")
      m.channel = std::move(value);
    else if (key == "event")
      m.event = std::move(value);
    else if (key == "id")
      m.id = std::move(value);
    else if (key == "data") {
      m.data = std::move(value);
      have_data = true;
    }
    skip_ws(in);
    if (in.empty()) return false;
    if (in[0] == ',') {
      in.remove_prefix(1);
      continue;
    }
    if (in[0] != '}') return false;
    in.remove_prefix(1);
    skip_ws(in);
    return in.empty() && have_data;
  }
}

}  // namespace sw

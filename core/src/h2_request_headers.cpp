// A client's HTTP/2 header blocks decoded and encoded again on their way to
// lws. See h2_request_headers.h.
#include "h2_request_headers.h"

#include <nghttp2/nghttp2.h>

#include <cstdint>
#include <utility>
#include <vector>

#include "h2_preface.h"

namespace sw {

namespace {

constexpr size_t kHeader = 9;
constexpr uint8_t kHeaders = 0x1, kContinuation = 0x9;
constexpr uint8_t kEndStream = 0x1, kEndHeaders = 0x4, kPadded = 0x8, kPriority = 0x20;
// The dynamic table a client may use: what lws advertises (server_role.cpp).
constexpr size_t kClientTable = 65536;

uint32_t be24(const std::string &s, size_t at) {
  return static_cast<uint32_t>(static_cast<uint8_t>(s[at])) << 16 |
         static_cast<uint32_t>(static_cast<uint8_t>(s[at + 1])) << 8 | static_cast<uint8_t>(s[at + 2]);
}

void put_frame(std::string &out, uint8_t type, uint8_t flags, uint32_t stream, const char *p, size_t n) {
  char h[kHeader] = {
      static_cast<char>(n >> 16),      static_cast<char>(n >> 8),      static_cast<char>(n),
      static_cast<char>(type),         static_cast<char>(flags),       static_cast<char>(stream >> 24),
      static_cast<char>(stream >> 16), static_cast<char>(stream >> 8), static_cast<char>(stream)};
  out.append(h, kHeader);
  out.append(p, n);
}

std::string pct(const std::string &v) {
  static const char kHex[] = "0123456789ABCDEF";
  std::string o;
  for (unsigned char c : v) {
    bool plain = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
                 c == '.' || c == '_' || c == '~';
    if (plain) {
      o += static_cast<char>(c);
    } else {
      o += '%';
      o += kHex[c >> 4];
      o += kHex[c & 15];
    }
  }
  return o;
}

}  // namespace

struct H2RequestHeaders::Hpack {
  nghttp2_hd_inflater *in = nullptr;
  nghttp2_hd_deflater *out = nullptr;
  ~Hpack() {
    if (in) nghttp2_hd_inflate_del(in);
    if (out) nghttp2_hd_deflate_del(out);
  }
};

H2RequestHeaders::H2RequestHeaders(size_t max_block) : hpack_(new Hpack), max_block_(max_block) {
  if (nghttp2_hd_inflate_new(&hpack_->in) == 0)
    nghttp2_hd_inflate_change_table_size(hpack_->in, kClientTable);
  nghttp2_hd_deflate_new(&hpack_->out, 4096);  // lws' decoder takes up to its own setting, 65536
}

H2RequestHeaders::~H2RequestHeaders() = default;

bool H2RequestHeaders::feed(const char *p, size_t n, std::deque<std::string> &out) {
  if (!hpack_->in || !hpack_->out) return why_ = "no memory for HPACK", false;
  if (preface_left_) {
    size_t k = std::min(n, preface_left_);
    in_.append(p, k);
    preface_left_ -= k;
    p += k;
    n -= k;
    if (preface_left_) return true;
    out.push_back(std::move(in_));  // the 24-byte preface, whole
    in_.clear();
  }
  in_.append(p, n);
  while (in_.size() >= kHeader && in_.size() >= kHeader + be24(in_, 0)) {
    if (!frame(out)) return false;
  }
  if (in_.size() >= kHeader && be24(in_, 0) > max_block_ + kHeader)
    return why_ = "a frame larger than the relay takes", false;
  return true;
}

// One whole frame at the front of in_: passed on, or taken into the block.
bool H2RequestHeaders::frame(std::deque<std::string> &out) {
  size_t len = be24(in_, 0);
  uint8_t type = static_cast<uint8_t>(in_[3]), flags = static_cast<uint8_t>(in_[4]);
  uint32_t stream =
      (static_cast<uint32_t>(static_cast<uint8_t>(in_[5])) << 24 |
       static_cast<uint32_t>(static_cast<uint8_t>(in_[6])) << 16 |
       static_cast<uint32_t>(static_cast<uint8_t>(in_[7])) << 8 | static_cast<uint8_t>(in_[8])) &
      0x7fffffffu;
  std::string f = in_.substr(0, kHeader + len);
  in_.erase(0, kHeader + len);
  if (in_block_ && (type != kContinuation || stream != stream_))
    return why_ = "a header block not followed by its CONTINUATION", false;
  if (type != kHeaders && type != kContinuation) {
    out.push_back(std::move(f));
    return true;
  }
  if (type == kContinuation && !in_block_) return why_ = "a CONTINUATION without a header block", false;
  size_t at = kHeader, end = kHeader + len;
  if (type == kHeaders) {
    size_t pad = 0;
    if (flags & kPadded) {
      if (at >= end) return why_ = "a HEADERS frame too short for its padding", false;
      pad = static_cast<uint8_t>(f[at++]);
    }
    if (flags & kPriority) at += 5;  // dependency and weight: lws gets none (RFC 9113 deprecates them)
    if (at + pad > end) return why_ = "a HEADERS frame too short for its fields", false;
    end -= pad;
    stream_ = stream;
    end_stream_ = flags & kEndStream;
    block_.clear();
  }
  block_.append(f, at, end - at);
  if (block_.size() > max_block_) return why_ = "a header block larger than the relay takes", false;
  in_block_ = !(flags & kEndHeaders);
  return in_block_ ? true : block_done(end_stream_, out);
}

// The block is whole: decoded, last-event-id moved into :path, encoded again.
bool H2RequestHeaders::block_done(uint8_t end_stream, std::deque<std::string> &out) {
  std::vector<std::pair<std::string, std::string>> hs;
  const auto *in = reinterpret_cast<const uint8_t *>(block_.data());
  size_t left = block_.size(), decoded = 0;
  for (;;) {
    nghttp2_nv nv;
    int flags = 0;
    ssize_t used = nghttp2_hd_inflate_hd2(hpack_->in, &nv, &flags, in, left, 1);
    if (used < 0)
      return why_ = std::string("a header block that does not decode: ") +
                    nghttp2_strerror(static_cast<int>(used)),
             false;
    in += used;
    left -= static_cast<size_t>(used);
    if (flags & NGHTTP2_HD_INFLATE_EMIT) {
      decoded += nv.namelen + nv.valuelen;
      if (decoded > max_block_) return why_ = "a header block larger than the relay takes, decoded", false;
      hs.emplace_back(std::string(reinterpret_cast<const char *>(nv.name), nv.namelen),
                      std::string(reinterpret_cast<const char *>(nv.value), nv.valuelen));
    }
    if (flags & NGHTTP2_HD_INFLATE_FINAL) {
      nghttp2_hd_inflate_end_headers(hpack_->in);
      break;
    }
    if (!(flags & NGHTTP2_HD_INFLATE_EMIT) && left == 0) return why_ = "a header block cut short", false;
  }
  // Last-Event-ID into the query, ahead of what the URL has.
  for (size_t i = 0; i < hs.size(); i++) {
    if (hs[i].first != "last-event-id") continue;
    std::string arg = "last_event_id=" + pct(hs[i].second);
    hs.erase(hs.begin() + static_cast<long>(i));
    for (auto &h : hs) {
      if (h.first != ":path") continue;
      size_t q = h.second.find('?');
      if (q == std::string::npos)
        h.second += "?" + arg;
      else
        h.second.insert(q + 1, arg + (q + 1 < h.second.size() ? "&" : ""));
    }
    break;
  }
  std::vector<nghttp2_nv> nva;
  for (auto &h : hs)
    nva.push_back({reinterpret_cast<uint8_t *>(&h.first[0]), reinterpret_cast<uint8_t *>(&h.second[0]),
                   h.first.size(), h.second.size(), NGHTTP2_NV_FLAG_NONE});
  std::string enc(nghttp2_hd_deflate_bound(hpack_->out, nva.data(), nva.size()), '\0');
  ssize_t n = nghttp2_hd_deflate_hd(hpack_->out, reinterpret_cast<uint8_t *>(&enc[0]), enc.size(), nva.data(),
                                    nva.size());
  if (n < 0) return why_ = "a header block that does not encode again", false;
  enc.resize(static_cast<size_t>(n));
  // HEADERS, then CONTINUATIONs, none over lws' frame size.
  size_t at = 0;
  bool first = true;
  do {
    size_t k = std::min(kH2MaxFrame, enc.size() - at);
    bool last = at + k == enc.size();
    uint8_t flags = static_cast<uint8_t>((last ? kEndHeaders : 0) | (first ? end_stream : 0));
    out.emplace_back();
    put_frame(out.back(), first ? kHeaders : kContinuation, flags, stream_, enc.data() + at, k);
    at += k;
    first = false;
  } while (at < enc.size());
  block_.clear();
  return true;
}

}  // namespace sw

#include "permessage_deflate.h"

#include <zlib.h>

#include <cstring>

#include "ascii.h"

namespace sw {

namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// A window-bits value: a decimal integer 8-15 without leading zeros,
// possibly quoted (RFC 7692 7.1.2). -1 when malformed.
int window_value(std::string_view v) {
  if (v.size() >= 2 && v.front() == '"' && v.back() == '"') v = v.substr(1, v.size() - 2);
  if (v == "8") return 8;
  if (v == "9") return 9;
  if (v.size() == 2 && v[0] == '1' && v[1] >= '0' && v[1] <= '5') return 10 + (v[1] - '0');
  return -1;
}

// One offer's parameters, each introduced by its ';'; false when the offer
// must be declined.
bool accept_offer(std::string_view params, int max_bits, PmdAgreement &a) {
  bool seen_snct = false, seen_cnct = false, seen_smwb = false, seen_cmwb = false;
  int smwb = 0;
  while (!params.empty()) {
    params.remove_prefix(1);  // the ';'
    size_t semi = params.find(';');
    std::string_view p = trim(params.substr(0, semi));
    params = semi == std::string_view::npos ? std::string_view() : params.substr(semi);
    if (p.empty()) return false;  // an empty parameter ("permessage-deflate;")
    size_t eq = p.find('=');
    std::string name = ascii_lower(trim(p.substr(0, eq)));
    bool has_value = eq != std::string_view::npos;
    std::string_view value = has_value ? trim(p.substr(eq + 1)) : std::string_view();
    if (name == "server_no_context_takeover") {
      if (seen_snct || has_value) return false;
      seen_snct = true;
    } else if (name == "client_no_context_takeover") {
      if (seen_cnct || has_value) return false;
      seen_cnct = true;
    } else if (name == "server_max_window_bits") {
      if (seen_smwb || !has_value) return false;
      smwb = window_value(value);
      // zlib's raw deflate cannot keep to an 8-bit window: decline.
      if (smwb < 9) return false;
      seen_smwb = true;
    } else if (name == "client_max_window_bits") {
      if (seen_cmwb || (has_value && window_value(value) < 0)) return false;
      seen_cmwb = true;
    } else {
      return false;  // a parameter this extension does not define
    }
  }
  a.on = true;
  a.server_window_bits = seen_smwb && smwb < max_bits ? smwb : max_bits;
  a.response = "permessage-deflate; server_no_context_takeover; client_no_context_takeover";
  if (seen_smwb) a.response += "; server_max_window_bits=" + std::to_string(a.server_window_bits);
  return true;
}

}  // namespace

PmdAgreement pmd_negotiate(const std::vector<std::string_view> &offers, int max_window_bits) {
  if (max_window_bits < 9) max_window_bits = 9;
  if (max_window_bits > 15) max_window_bits = 15;
  for (std::string_view list : offers) {
    while (!list.empty()) {
      size_t comma = list.find(',');
      std::string_view ext = list.substr(0, comma);
      list = comma == std::string_view::npos ? std::string_view() : list.substr(comma + 1);
      size_t semi = ext.find(';');
      if (ascii_lower(trim(ext.substr(0, semi))) != "permessage-deflate") continue;
      PmdAgreement a;
      if (accept_offer(semi == std::string_view::npos ? std::string_view() : trim(ext.substr(semi)),
                       max_window_bits, a))
        return a;
    }
  }
  return PmdAgreement();
}

// ---------------------------------------------------------------------------

struct PmdCompressor::Z {
  z_stream s{};
  bool ok = false;
};

PmdCompressor::PmdCompressor(int window_bits, int level) : z_(new Z), bits_(window_bits) {
  z_->ok = deflateInit2(&z_->s, level, Z_DEFLATED, -window_bits, 8, Z_DEFAULT_STRATEGY) == Z_OK;
}

PmdCompressor::~PmdCompressor() {
  if (z_->ok) deflateEnd(&z_->s);
}

bool PmdCompressor::compress(std::string_view in, std::string &out) {
  if (!z_->ok || deflateReset(&z_->s) != Z_OK) return false;
  out.clear();
  out.resize(deflateBound(&z_->s, in.size()) + 16);
  z_->s.next_in = reinterpret_cast<Bytef *>(const_cast<char *>(in.data()));
  z_->s.avail_in = static_cast<uInt>(in.size());
  z_->s.next_out = reinterpret_cast<Bytef *>(&out[0]);
  z_->s.avail_out = static_cast<uInt>(out.size());
  int r = deflate(&z_->s, Z_SYNC_FLUSH);
  if (r != Z_OK || z_->s.avail_in != 0) return false;
  out.resize(out.size() - z_->s.avail_out);
  // RFC 7692 7.2.1: the sync flush's empty stored block (00 00 ff ff) is removed.
  if (out.size() >= 4 && !memcmp(out.data() + out.size() - 4, "\x00\x00\xff\xff", 4))
    out.resize(out.size() - 4);
  return true;
}

struct PmdInflater::Z {
  z_stream s{};
  bool ok = false;
  bool ended = false;  // the message's data ended with a final block
};

PmdInflater::PmdInflater() : z_(new Z) {
  z_->ok = inflateInit2(&z_->s, -15) == Z_OK;
}

PmdInflater::~PmdInflater() {
  if (z_->ok) inflateEnd(&z_->s);
}

void PmdInflater::reset() {
  if (z_->ok) inflateReset(&z_->s);
  z_->ended = false;
  total_ = 0;
}

PmdInflater::Result PmdInflater::inflate(std::string_view piece, bool last, std::string &out,
                                         uint64_t limit) {
  if (!z_->ok) return Result::Corrupt;
  static const char kTail[4] = {0, 0, '\xff', '\xff'};
  for (int pass = 0; pass < 2; pass++) {
    std::string_view in = pass == 0 ? piece : std::string_view(kTail, 4);
    if (pass == 1 && !last) break;
    if (z_->ended) break;  // what follows a final block is not looked at
    z_->s.next_in = reinterpret_cast<Bytef *>(const_cast<char *>(in.data()));
    z_->s.avail_in = static_cast<uInt>(in.size());
    do {
      char buf[16384];
      z_->s.next_out = reinterpret_cast<Bytef *>(buf);
      z_->s.avail_out = sizeof buf;
      int r = ::inflate(&z_->s, Z_SYNC_FLUSH);
      // What came out before an error counts first (the limit, then the
      // error), as it would had the data arrived in smaller pieces.
      size_t got = sizeof buf - z_->s.avail_out;
      if (limit && total_ + got > limit) {  // keep what fits: the caller checks it before failing
        out.append(buf, static_cast<size_t>(limit - total_));
        total_ = limit;
        return Result::TooBig;
      }
      total_ += got;
      out.append(buf, got);
      if (r == Z_NEED_DICT || r == Z_DATA_ERROR || r == Z_MEM_ERROR || r == Z_STREAM_ERROR)
        return Result::Corrupt;
      if (r == Z_STREAM_END) {
        z_->ended = true;
        break;
      }
      if (r == Z_BUF_ERROR && got == 0) break;  // needs more input
    } while (z_->s.avail_in > 0 || z_->s.avail_out == 0);
  }
  return Result::Ok;
}

PmdInflater *SimpleInflaterPool::take() {
  if (in_use_ >= cap_) return nullptr;
  in_use_++;
  if (free_.empty()) return new PmdInflater();
  PmdInflater *z = free_.back().release();
  free_.pop_back();
  return z;
}

void SimpleInflaterPool::give(PmdInflater *z) {
  in_use_--;
  z->reset();
  // A few are kept for reuse; the rest of a burst is freed.
  if (free_.size() < 16)
    free_.emplace_back(z);
  else
    delete z;
}

}  // namespace sw

// What an HTTP/2 client sends, on its way to libwebsockets through the TLS
// relay (tls_relay.h), with each request's header block decoded and encoded
// again so that a header lws cannot read reaches ssews all the same.
//
// Why: lws 4.1.6's HPACK decoder keeps only the header names it has a token
// for, so `Last-Event-ID` never reached ssews over HTTP/2, and a browser's
// EventSource, which resumes with that header, lost what was published
// while it reconnected. The relay sees the client's frames in plaintext, so
// it decodes each header block (nghttp2's HPACK, with the client's dynamic
// table), moves `last-event-id` into the `:path` query as `last_event_id`
// (ahead of any the URL has: the header wins, as it does over HTTP/1.1), and
// encodes the block again for lws (a table of its own, which lws' decoder
// mirrors). Every other header, and every other frame, passes as it came.
//
// No I/O: bytes in, bytes out. Unit tests in
// tests/unit/test_h2_request_headers.cpp, fuzzed by
// tests/fuzz/fuzz_h2_request_headers.cpp.
#pragma once
#include <cstddef>
#include <deque>
#include <memory>
#include <string>

namespace sw {

class H2RequestHeaders {
 public:
  // max_block: the most bytes a header block (HEADERS and its CONTINUATIONs)
  // may take encoded, and decoded.
  explicit H2RequestHeaders(size_t max_block = 65536);
  ~H2RequestHeaders();
  H2RequestHeaders(const H2RequestHeaders &) = delete;
  H2RequestHeaders &operator=(const H2RequestHeaders &) = delete;

  // Takes the next n bytes the client sent (its 24-byte preface first) and
  // appends to out what lws is to get, a unit each: the preface, then each
  // frame, whole (what is not whole yet waits here). The relay hands lws one
  // unit at a time (tls_relay.cpp). False when the stream cannot be passed
  // on (a header block that does not decode, or larger than max_block): the
  // connection is to end, why says so.
  bool feed(const char *p, size_t n, std::deque<std::string> &out);
  const std::string &why() const { return why_; }

 private:
  bool frame(std::deque<std::string> &out);
  bool block_done(uint8_t end_stream, std::deque<std::string> &out);
  struct Hpack;
  std::unique_ptr<Hpack> hpack_;
  size_t max_block_;
  size_t preface_left_ = 24;
  std::string in_;       // bytes of a frame not yet whole
  std::string block_;    // the header block being collected
  uint32_t stream_ = 0;  // its stream
  uint8_t end_stream_ = 0;
  bool in_block_ = false;  // CONTINUATIONs are due
  std::string why_;
};

}  // namespace sw

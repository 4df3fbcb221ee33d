// The request head checker of the server's front door (issue 15 #16): fed
// the bytes of a new connection as they arrive, it finds where the request
// head ends and decides whether the head may go to libwebsockets' parser,
// or is refused with a status and a one-line message naming the problem.
// lws 4.1.6 closes (or holds until the handshake timeout) a connection whose
// first head is too large, has too many headers, a NUL, a bare CR or a %00
// in its target, without a word; what this checker refuses, it would not
// have answered. Pure: no I/O, unit-tested and fuzzed alone.
//
// Line ends: CRLF, or bare LF throughout (RFC 9112 2.2 lets a recipient
// accept LF; lws 4.1.6 parses a head of LF lines). A head that mixes the two
// is refused: lws reads "\n\r\n" as the start of a header name, not as the
// end of the head, and waits. A CR not followed by LF is refused. Empty
// lines before the request line are skipped (RFC 9112 2.2: a server SHOULD
// ignore at least one); lws 4.1.6 closes on them, so the door drops them
// (HeadVerdict::start) before lws reads.
#pragma once
#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace sw {

// Header lines a head may hold (the request line not counted). Browsers send
// about twenty; lws 4.1.6 has no limit of its own but its header table size.
constexpr size_t kMaxHeadHeaders = 100;

struct HeadVerdict {
  enum Kind { kNeedMore, kOk, kRefuse };
  Kind kind = kNeedMore;
  size_t head_len = 0;       // kOk: bytes from the first one through the empty line that ends the head
  size_t start = 0;          // kOk: empty lines before the request line (bytes to leave out)
  unsigned status = 0;       // kRefuse: 400, 431 or 505 (head_refusal also words 408, 429 and 503)
  std::string message;       // kRefuse: the problem, one line, no CR or LF
  unsigned retry_after = 0;  // seconds for a Retry-After header (429, 503); 0: none
};

class HeadChecker {
 public:
  // max_bytes: the longest head (max_header_size). fragile: header names
  // (lower case, each with the ':' or ' ' that ends it, as
  // lws_token_to_string gives them) of which lws cannot parse a proper
  // prefix: lws 4.1.6 matches a name against its table of known ones and, when
  // the ':' comes where a longer known name goes on ("X-A:" against
  // "x-auth-token:"), loses the line end and the header after it. Such a name
  // is refused at once rather than left to hang or to swallow the next header.
  // Not copied (a checker is made per connection): it must outlive the checker.
  explicit HeadChecker(size_t max_bytes, size_t max_headers = kMaxHeadHeaders,
                       const std::vector<std::string> *fragile = nullptr);

  // Feeds the next bytes of the connection. Returns kNeedMore until the head
  // is complete or refused; after that the same verdict whatever is fed
  // (bytes past the head are the body or pipelined frames: not looked at).
  const HeadVerdict &feed(std::string_view bytes);
  const HeadVerdict &verdict() const { return v_; }

 private:
  void byte(unsigned char c);
  void end_line();
  void request_line();
  void header_line();
  void refuse(unsigned status, std::string message);

  const size_t max_bytes_;
  const size_t max_headers_;
  const std::vector<std::string> *fragile_;
  HeadVerdict v_;
  size_t pos_ = 0;      // bytes consumed so far
  size_t headers_ = 0;  // header lines so far
  bool saw_request_ = false;
  bool cr_ = false;    // the last byte was a CR
  bool crlf_ = false;  // a line ended with CRLF (empty lines before the request count)
  bool lf_ = false;    // a line ended with a bare LF
  std::string line_;   // the current line, without its end
};

// The answer to a refused head: status line, Content-Type: text/plain,
// Content-Length, Connection: close, and the message as a one-line body.
std::string head_refusal(const HeadVerdict &v);

}  // namespace sw

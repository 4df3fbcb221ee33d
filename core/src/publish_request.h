// The HTTP publish endpoint's request rules (POST ?channel=C[&event=E][&id=I]
// with a Content-Length body): which requests are refused, with which status
// and a message that names the problem. Pure, so every rule is unit-tested
// and fuzzed without a socket.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace sw {

// The longest channel, event or id, as ssews_publish allows.
constexpr size_t kMaxPublishField = 1024;

struct PublishRequest {
  std::string channel, event, id;
  uint64_t content_length = 0;
};

struct PublishVerdict {
  unsigned status = 0;  // 0: acceptable; else 400, 411 or 413
  std::string error;    // why, for the JSON answer
};

// Checks the query fragments (as lws hands them over, see http_query.h) and
// the Content-Length header value ("" when absent) against max_body bytes.
// On success fills req and returns status 0.
PublishVerdict check_publish_request(const std::vector<std::string> &query_fragments,
                                     const std::string &content_length, uint64_t max_body,
                                     PublishRequest &req);

// Parses a Content-Length value: one or more ASCII digits, nothing else (RFC
// 9110 8.6), no overflow. False otherwise.
bool parse_content_length(const std::string &s, uint64_t &out);

}  // namespace sw

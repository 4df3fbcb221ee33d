#include "publish_request.h"

#include "http_query.h"

namespace sw {

bool parse_content_length(const std::string &s, uint64_t &out) {
  if (s.empty()) return false;
  uint64_t v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
    unsigned d = static_cast<unsigned>(c - '0');
    if (v > (UINT64_MAX - d) / 10) return false;
    v = v * 10 + d;
  }
  out = v;
  return true;
}

PublishVerdict check_publish_request(const std::vector<std::string> &query_fragments,
                                     const std::string &content_length, uint64_t max_body,
                                     PublishRequest &req) {
  std::vector<QueryParam> params;
  std::string err;
  if (!query_params(query_fragments, params, err)) return {400, err};
  // event and id travel as SSE fields and inside ssews.v1 text frames, so the
  // query_params rules (no CR, LF, NUL; UTF-8) are exactly what they need.
  const struct {
    const char *key;
    std::string *dst;
  } fields[] = {{"channel", &req.channel}, {"event", &req.event}, {"id", &req.id}};
  for (const auto &f : fields) {
    if (query_value(params, f.key, *f.dst) == 2)
      return {400, std::string("query parameter '") + f.key + "' is given more than once"};
    if (f.dst->size() > kMaxPublishField)
      return {400, std::string("query parameter '") + f.key + "' is longer than " +
                       std::to_string(kMaxPublishField) + " bytes"};
  }
  if (req.channel.empty()) return {400, "query parameter 'channel' is required"};
  if (content_length.empty()) return {411, "Content-Length is required"};
  if (!parse_content_length(content_length, req.content_length))
    return {400, "Content-Length is not a decimal number"};
  if (req.content_length > max_body) return {413, "body exceeds max_message_size"};
  return {};
}

}  // namespace sw

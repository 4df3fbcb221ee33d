// The HTTP publish endpoint: `POST <publish_path>?channel=C[&event=E][&id=I]`
// with `Authorization: Bearer <publish_token>` publishes the request body, so
// any program that can make an HTTP request can feed a hub (curl, cron jobs,
// other services). Off unless publish_token is set. Service thread only.
#include <libwebsockets.h>

#include <cstring>

#include "engine.h"
#include "server/server_role.h"
#include "lws_util.h"
#include "sse_encoder.h"
#include "utf8.h"
#include "v1_codec.h"

namespace sw {

namespace {

// Compares without an early exit, so the time taken does not leak the token.
bool same_secret(const std::string &a, const std::string &b) {
  if (a.size() != b.size()) return false;
  unsigned char diff = 0;
  for (size_t i = 0; i < a.size(); i++) diff |= static_cast<unsigned char>(a[i] ^ b[i]);
  return diff == 0;
}

// Answers with a status and a small JSON body, then ends the transaction.
int answer(lws *wsi, unsigned status, const std::string &json) {
  uint8_t buf[LWS_PRE + 2048];
  uint8_t *start = buf + LWS_PRE, *p = start, *end = buf + sizeof buf - 1;
  if (lws_add_http_common_headers(wsi, status, "application/json", json.size(), &p, end) ||
      lws_finalize_write_http_header(wsi, start, &p, end))
    return -1;
  std::vector<uint8_t> body(LWS_PRE + json.size());
  memcpy(body.data() + LWS_PRE, json.data(), json.size());
  if (lws_write(wsi, body.data() + LWS_PRE, json.size(), LWS_WRITE_HTTP_FINAL) < 0) return -1;
  return lws_http_transaction_completed(wsi) ? -1 : 0;
}

int answer_error(lws *wsi, unsigned status, const std::string &why) {
  std::string json = "{\"error\":";
  json_quote(json, why);
  json += '}';
  return answer(wsi, status, json);
}

}  // namespace

bool ServerRole::is_publish_request(int method, const char *path) const {
  return method == LWSHUMETH_POST && !opts().publish_token.empty() && path && opts().publish_path == path;
}

int ServerRole::publish_begin(lws *wsi) {
  std::string auth = lws_header(wsi, WSI_TOKEN_HTTP_AUTHORIZATION);
  if (auth.compare(0, 7, "Bearer ") != 0 || !same_secret(auth.substr(7), opts().publish_token))
    return answer_error(wsi, HTTP_STATUS_UNAUTHORIZED, "missing or wrong bearer token");
  PendingPost post;
  char buf[1100];
  for (int i = 0;; i++) {
    int n = lws_hdr_copy_fragment(wsi, buf, sizeof buf, WSI_TOKEN_HTTP_URI_ARGS, i);
    if (n < 0) break;
    std::string arg(buf, static_cast<size_t>(n));
    if (arg.compare(0, 8, "channel=") == 0)
      post.channel = arg.substr(8);
    else if (arg.compare(0, 6, "event=") == 0)
      post.event = arg.substr(6);
    else if (arg.compare(0, 3, "id=") == 0)
      post.id = arg.substr(3);
  }
  if (post.channel.empty())
    return answer_error(wsi, HTTP_STATUS_BAD_REQUEST, "query parameter 'channel' is required");
  if (!sse_field_ok(post.event) || !sse_field_ok(post.id))
    return answer_error(wsi, HTTP_STATUS_BAD_REQUEST, "event and id must not contain CR, LF or NUL");
  post.binary = lws_header(wsi, WSI_TOKEN_HTTP_CONTENT_TYPE).compare(0, 24, "application/octet-stream") == 0;
  std::string len = lws_header(wsi, WSI_TOKEN_HTTP_CONTENT_LENGTH);
  if (len.empty()) return answer_error(wsi, 411, "Content-Length is required");
  if (std::strtoull(len.c_str(), nullptr, 10) > opts().max_message_size)
    return answer_error(wsi, HTTP_STATUS_REQ_ENTITY_TOO_LARGE, "body exceeds max_message_size");
  posts_[wsi] = std::move(post);
  if (len == "0") return publish_done(wsi);  // no body callbacks will come
  return 0;
}

int ServerRole::publish_body(lws *wsi, const void *in, size_t len) {
  auto it = posts_.find(wsi);
  if (it == posts_.end()) return 0;
  if (it->second.body.size() + len > opts().max_message_size) {
    release(it->second.body.size());
    posts_.erase(it);
    return answer_error(wsi, HTTP_STATUS_REQ_ENTITY_TOO_LARGE, "body exceeds max_message_size");
  }
  if (!hold(len)) {
    release(it->second.body.size());
    posts_.erase(it);
    return answer_error(wsi, HTTP_STATUS_SERVICE_UNAVAILABLE,
                        "unfinished requests exceed max_partial_bytes (" +
                            std::to_string(opts().max_partial_bytes) + " bytes); try again later");
  }
  it->second.body.append(static_cast<const char *>(in), len);
  return 0;
}

int ServerRole::publish_done(lws *wsi) {
  auto it = posts_.find(wsi);
  if (it == posts_.end()) return 0;
  PendingPost post = std::move(it->second);
  posts_.erase(it);
  release(post.body.size());
  if (!post.binary && !utf8_valid(post.body))
    return answer_error(wsi, HTTP_STATUS_BAD_REQUEST,
                        "body is not valid UTF-8 (send Content-Type: application/octet-stream for binary)");
  auto m = std::make_shared<Message>();
  m->channel = post.channel;
  m->event = post.event;
  m->id = post.id;
  m->binary = post.binary;
  m->payload = WireBuf(post.body.data(), post.body.size());
  MessagePtr msg = hub_.publish(std::move(m));
  size_t reached = fan_out(msg);
  std::string json = "{\"id\":\"" + msg->id + "\",\"subscribers\":" + std::to_string(reached) + "}";
  return answer(wsi, HTTP_STATUS_OK, json);
}

}  // namespace sw

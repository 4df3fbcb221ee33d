// The HTTP publish endpoint: `POST <publish_path>?channel=C[&event=E][&id=I]`
// with `Authorization: Bearer <publish_token>` publishes the request body, so
// any program that can make an HTTP request can feed a hub (curl, cron jobs,
// other services). Off unless publish_token is set. Service thread only.
#include <libwebsockets.h>

#include <algorithm>
#include <cstring>

#include "ascii.h"
#include "engine.h"
#include "server/server_role.h"
#include "lws_util.h"
#include "publish_request.h"
#include "sse_binary.h"
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
  // The scheme name is case-insensitive (RFC 9110 11.1); the token is not.
  if (!starts_with_nocase(auth, "bearer ") || !same_secret(auth.substr(7), opts().publish_token))
    return answer_error(wsi, HTTP_STATUS_UNAUTHORIZED, "missing or wrong bearer token");
  std::string bad = lws_head_problem(wsi);
  if (!bad.empty()) return answer_error(wsi, HTTP_STATUS_BAD_REQUEST, bad);
  PublishRequest req;
  PublishVerdict v = check_publish_request(
      lws_query_fragments(wsi), lws_header(wsi, WSI_TOKEN_HTTP_CONTENT_LENGTH), opts().max_message_size, req);
  if (v.status) return answer_error(wsi, v.status, v.error);
  PendingPost post;
  post.channel = std::move(req.channel);
  post.event = std::move(req.event);
  post.id = std::move(req.id);
  post.binary = starts_with_nocase(lws_header(wsi, WSI_TOKEN_HTTP_CONTENT_TYPE), "application/octet-stream");
  posts_[wsi] = std::move(post);
  if (req.content_length == 0) return publish_done(wsi);  // no body callbacks will come
  // HTTP/2: open the window to the whole body (at most max_message_size)
  // now. lws 4.1.6 gives credit back as it reads, but not for DATA that came
  // before the request was dispatched, and then a body beyond the first
  // window (256 KiB) stalled for good.
  // (Capped well below the 2^31-1 an HTTP/2 window may reach.)
  if (lws_is_h2_stream(wsi))
    lws_h2_update_peer_txcredit(wsi, -1, static_cast<int>(std::min<uint64_t>(req.content_length, 1u << 30)));
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
  if (sse_name_reserved(post.binary, post.event))
    return answer_error(
        wsi, HTTP_STATUS_BAD_REQUEST,
        "event 'binary' is reserved for binary bodies (send Content-Type: application/octet-stream)");
  auto m = std::make_shared<Message>();
  m->channel = post.channel;
  m->event = post.event;
  m->id = post.id;
  m->binary = post.binary;
  m->payload = WireBuf(post.body.data(), post.body.size());
  MessagePtr msg = hub_.publish(std::move(m));
  size_t reached = fan_out(msg);
  std::string json = "{\"id\":";
  json_quote(json, msg->id);
  json += ",\"subscribers\":" + std::to_string(reached) + "}";
  return answer(wsi, HTTP_STATUS_OK, json);
}

}  // namespace sw

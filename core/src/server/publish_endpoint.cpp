// The HTTP publish endpoint: `POST <publish_path>?channel=C[&event=E][&id=I]`
// with `Authorization: Bearer <publish_token>` publishes the request body, so
// any program that can make an HTTP request can feed a hub (curl, cron jobs,
// other services). Off unless publish_token is set. Service thread only.
#include <libwebsockets.h>

#include <cstring>

#include "ascii.h"
#include "engine.h"
#include "server/server_role.h"
#include "lws_util.h"
#include "publish_request.h"
#include "secret.h"
#include "sse_encoder.h"
#include "utf8.h"
#include "v1_codec.h"

namespace sw {

namespace {

int answer(lws *wsi, unsigned status, const std::string &json) {
  return ServerRole::http_body(wsi, status, "application/json", json);
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
  if (!bearer_matches(auth, opts().publish_token))
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
  std::string json = "{\"id\":";
  json_quote(json, msg->id);
  json += ",\"subscribers\":" + std::to_string(reached) + "}";
  return answer(wsi, HTTP_STATUS_OK, json);
}

}  // namespace sw

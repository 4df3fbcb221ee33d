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
#include "secret.h"
#include "sse_binary.h"
#include "sse_encoder.h"
#include "utf8.h"
#include "v1_codec.h"

namespace sw {

namespace {

std::string error_json(const std::string &why) {
  std::string json = "{\"error\":";
  json_quote(json, why);
  json += '}';
  return json;
}

}  // namespace

// Answers with a status and a small JSON body, then ends the transaction.
int ServerRole::publish_answer(lws *wsi, unsigned status, const HeaderList &headers,
                               const std::string &json) {
  if (!write_answer(wsi, status, headers, "application/json", json)) return -1;
  return lws_http_transaction_completed(wsi) ? -1 : 0;
}

bool ServerRole::is_publish_request(int method, const char *path) const {
  return method == LWSHUMETH_POST && (!opts().publish_token.empty() || access_.jwt.enabled()) && path &&
         opts().publish_path == path;
}

int ServerRole::publish_begin(lws *wsi) {
  std::string bad = lws_head_problem(wsi);
  PublishRequest req;
  PublishVerdict v = check_publish_request(
      lws_query_fragments(wsi), lws_header(wsi, WSI_TOKEN_HTTP_CONTENT_LENGTH), opts().max_message_size, req);
  // Who asks comes first (a 401 says nothing about the request), then what is asked.
  std::vector<std::string> channels;
  if (bad.empty() && !v.status) channels.push_back(req.channel);
  Verdict a = judge(wsi, AccessKind::Publish, false, std::move(channels));
  if (a.status == HTTP_STATUS_UNAUTHORIZED)
    return publish_answer(wsi, static_cast<unsigned>(a.status), a.headers, error_json(a.reason));
  if (!bad.empty()) return publish_answer(wsi, HTTP_STATUS_BAD_REQUEST, a.headers, error_json(bad));
  if (v.status) return publish_answer(wsi, v.status, a.headers, error_json(v.error));
  if (a.status) return publish_answer(wsi, static_cast<unsigned>(a.status), a.headers, error_json(a.reason));
  PendingPost post;
  post.cors = std::move(a.headers);
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
    HeaderList cors = std::move(it->second.cors);
    release(it->second.body.size());
    posts_.erase(it);
    return publish_answer(wsi, HTTP_STATUS_REQ_ENTITY_TOO_LARGE, cors,
                          error_json("body exceeds max_message_size"));
  }
  if (!hold(len)) {
    HeaderList cors = std::move(it->second.cors);
    release(it->second.body.size());
    posts_.erase(it);
    return publish_answer(wsi, HTTP_STATUS_SERVICE_UNAVAILABLE, cors,
                          error_json("unfinished requests exceed max_partial_bytes (" +
                                     std::to_string(opts().max_partial_bytes) + " bytes); try again later"));
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
    return publish_answer(
        wsi, HTTP_STATUS_BAD_REQUEST, post.cors,
        error_json("body is not valid UTF-8 (send Content-Type: application/octet-stream for binary)"));
  if (sse_name_reserved(post.binary, post.event))
    return publish_answer(
        wsi, HTTP_STATUS_BAD_REQUEST, post.cors,
        error_json(
            "event 'binary' is reserved for binary bodies (send Content-Type: application/octet-stream)"));
  auto m = std::make_shared<Message>();
  m->channel = post.channel;
  m->event = post.event;
  m->id = post.id;
  m->binary = post.binary;
  m->payload = WireBuf(post.body.data(), post.body.size());
  if (broker_) {
    // Redis assigns the id: answer once it has (publish_answer).
    uint64_t token = next_post_++;
    post_waits_[token] = wsi;
    std::string channel = m->channel;
    HeaderList cors = post.cors;
    Status st = broker_->publish(
        std::move(m), [this, token, channel, cors](const Status &res, const std::string &id) {
          auto w = post_waits_.find(token);
          if (w == post_waits_.end()) return;  // the client went away
          lws *to = w->second;
          post_waits_.erase(w);
          std::string json;
          if (res.failed()) {
            json = "{\"error\":";
            json_quote(json, res.msg);
            json += '}';
            answers_[to] = {HTTP_STATUS_SERVICE_UNAVAILABLE, cors, json};
          } else {
            json = "{\"id\":";
            json_quote(json, id);
            json += ",\"subscribers\":" + std::to_string(hub_.subscribers(channel).size()) + "}";
            answers_[to] = {HTTP_STATUS_OK, cors, json};
          }
          lws_callback_on_writable(to);
        });
    if (st.failed()) {
      post_waits_.erase(token);
      // Fails fast while Redis is away.
      return publish_answer(wsi, HTTP_STATUS_SERVICE_UNAVAILABLE, post.cors, error_json(st.msg));
    }
    return 0;
  }
  MessagePtr msg = hub_.publish(std::move(m));
  size_t reached = fan_out(msg);
  std::string json = "{\"id\":";
  json_quote(json, msg->id);
  json += ",\"subscribers\":" + std::to_string(reached) + "}";
  return publish_answer(wsi, HTTP_STATUS_OK, post.cors, json);
}

int ServerRole::publish_answer(lws *wsi) {
  auto it = answers_.find(wsi);
  PostAnswer a = std::move(it->second);
  answers_.erase(it);
  return publish_answer(wsi, a.status, a.headers, a.json);
}

void ServerRole::publish_gone(lws *wsi) {
  answers_.erase(wsi);
  for (auto it = post_waits_.begin(); it != post_waits_.end();)
    it = it->second == wsi ? post_waits_.erase(it) : std::next(it);
}

}  // namespace sw

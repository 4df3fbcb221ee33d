// The client role's SSE side (EventSource semantics): the response must be
// 200 text/event-stream (204 stops for good), then the body goes through the
// incremental WHATWG parser.
#include <libwebsockets.h>

#include <algorithm>
#include <cstring>
#include <vector>

#include "client/client_role.h"
#include "engine.h"
#include "lws_util.h"
#include "sse_binary.h"
#include "v1_confirm_lws.h"

namespace sw {

namespace {
// The MIME type essence of a Content-Type value, lower-case ("text/event-stream").
std::string mime_essence(std::string v) {
  size_t semi = v.find(';');
  if (semi != std::string::npos) v.resize(semi);
  while (!v.empty() && (v.back() == ' ' || v.back() == '\t')) v.pop_back();
  size_t b = v.find_first_not_of(" \t");
  v = b == std::string::npos ? "" : v.substr(b);
  for (auto &c : v) c = static_cast<char>(tolower(static_cast<unsigned char>(c)));
  return v;
}
}  // namespace

int ClientRole::sse_established(lws *wsi) {
  http_status_ = static_cast<int>(lws_http_client_http_response(wsi));
  std::string type = mime_essence(lws_header(wsi, WSI_TOKEN_HTTP_CONTENT_TYPE));
  if (http_status_ == 204) {
    // EventSource: 204 means "stop reconnecting".
    wsi_ = nullptr;
    final_close(1000, "HTTP 204: the server asked the client not to reconnect");
    return -1;
  }
  if (http_status_ != 200) {
    wsi_ = nullptr;
    error(SSEWS_EHTTP, "HTTP " + std::to_string(http_status_) + " from " + url_.host_header() + url_.path +
                           " (expected 200)");
    final_close(1006, "HTTP " + std::to_string(http_status_));
    return -1;
  }
  if (type != "text/event-stream") {
    wsi_ = nullptr;
    error(SSEWS_EHTTP, "wrong content type '" + (type.empty() ? std::string("(none)") : type) +
                           "' (expected text/event-stream)");
    final_close(1006, "wrong content type");
    return -1;
  }
  sse_v1_ = sse_server_confirmed(wsi);
  opened();
  return 0;
}

// The request body, a piece per writeable callback (lws buffers what a
// socket does not take, so pieces stay small).
int ClientRole::sse_body_writeable(lws *wsi) {
  if (!body_due_) return 0;
  constexpr size_t kPiece = 16 * 1024;
  const std::string &body = opts().body;
  size_t n = std::min(kPiece, body.size() - body_off_);
  bool last = body_off_ + n == body.size();
  std::vector<unsigned char> buf(LWS_PRE + n);
  memcpy(buf.data() + LWS_PRE, body.data() + body_off_, n);
  if (lws_write(wsi, buf.data() + LWS_PRE, n, last ? LWS_WRITE_HTTP_FINAL : LWS_WRITE_HTTP) <
      static_cast<int>(n))
    return -1;
  body_off_ += n;
  if (last) {
    body_due_ = false;
    lws_client_http_body_pending(wsi, 0);  // now lws waits for the response
  } else {
    lws_callback_on_writable(wsi);
  }
  return 0;
}

int ClientRole::sse_data(const void *in, size_t len) {
  if (closing_ || !connected_) return 0;
  if (!parser_.feed(static_cast<const char *>(in), len)) {
    error(SSEWS_EPROTO, "event stream: " + parser_.error());
    parser_.end_of_stream();
    return -1;  // drop this stream; a reconnect starts clean
  }
  return 0;
}

void ClientRole::sse_event(const SseEvent &e) {
  if (e.type == "ssews-gap") {  // an ssews server's resume notice, not application data
    error(SSEWS_EGAP, "resumed after id '" + e.data +
                          "', but messages may have been missed (no longer in the server's history)");
    return;
  }
  EventPtr ev = make_event(kEvMessage, 1, Proto::Sse);
  ev->binary = sse_binary_decode(sse_v1_, e, ev->data);
  if (!ev->binary) ev->data = e.data;
  ev->has_name = true;
  ev->name = e.type;
  ev->has_id = true;
  ev->id = e.last_id;
  e_.emit(std::move(ev));
}

}  // namespace sw

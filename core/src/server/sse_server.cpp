// The server's SSE side: a GET with Accept: text/event-stream becomes a
// stream (headers, an opening comment, resume), written as messages arrive.
#include <libwebsockets.h>

#include "engine.h"
#include "lws_util.h"
#include "server/server_role.h"
#include "sse_encoder.h"
#include "v1_confirm.h"

namespace sw {

int ServerRole::sse_open(lws *wsi, int method) {
  if (method != LWSHUMETH_GET)
    return http_status(wsi, HTTP_STATUS_METHOD_NOT_ALLOWED, "SSE streams need GET");
  if (e_.closing() || conns_.size() >= opts().max_connections) {
    refused(HTTP_STATUS_SERVICE_UNAVAILABLE);
    return http_status(wsi, HTTP_STATUS_SERVICE_UNAVAILABLE,
                       e_.closing() ? "server closing" : "max_connections reached");
  }

  Verdict v = judge(wsi, AccessKind::Subscribe, false, requested_channels(wsi));
  if (!v.allowed()) return refused(wsi, v);
  Conn *c = new_conn(wsi, Proto::Sse);
  c->grant = v.grant;
  int reject = 0;
  if (!report_open(c, reject)) {
    forget(c, 0, "");
    return http_status(wsi, static_cast<unsigned>(reject), "connection refused");
  }

  std::vector<uint8_t> buf(LWS_PRE + 1024 + headers_size(v.headers));
  uint8_t *start = buf.data() + LWS_PRE, *p = start, *end = buf.data() + buf.size() - 1;
  if (lws_add_http_common_headers(wsi, HTTP_STATUS_OK, "text/event-stream", LWS_ILLEGAL_HTTP_CONTENT_LEN, &p,
                                  end) ||
      lws_add_http_header_by_name(wsi, reinterpret_cast<const unsigned char *>("cache-control:"),
                                  reinterpret_cast<const unsigned char *>("no-cache"), 8, &p, end) ||
      lws_add_http_header_by_name(wsi, reinterpret_cast<const unsigned char *>("x-accel-buffering:"),
                                  reinterpret_cast<const unsigned char *>("no"), 2, &p, end) ||
      // Tells an ssews client that `event: binary` is base64 of bytes (sse_binary.h).
      lws_add_http_header_by_name(wsi, reinterpret_cast<const unsigned char *>(kV1ConfirmHeader),
                                  reinterpret_cast<const unsigned char *>(kV1ConfirmValue),
                                  static_cast<int>(sizeof kV1ConfirmValue - 1), &p, end) ||
      !add_headers(wsi, v.headers, &p, end) || lws_finalize_write_http_header(wsi, start, &p, end))
    return -1;
  exchange_drop(wsi);  // a stream: its open and close events tell of it
  lws_set_timeout(wsi, NO_PENDING_TIMEOUT, 0);
  if (lws_is_h2_stream(wsi)) {
    // One stream of an HTTP/2 connection: the connection's reads go on (they
    // carry the other streams, WINDOW_UPDATEs and this stream's RST_STREAM,
    // which is how a hang-up shows), so no rx flow control and no peek. Mark
    // the stream immortal, or the connection's idle timeout would end it; this
    // also gives back its header storage.
    c->h2 = true;
    lws_http_mark_sse(wsi);
  } else {
    // lws 4.1 keeps POLLIN armed on an h1 response in progress but never reads
    // it, so a client that hangs up would spin the loop. Reads stay off except
    // while a write is pending (lws skips POLLOUT on a flow-controlled wsi; see
    // want_write); the tick's hang-up check notices a hang-up in between.
    lws_rx_flow_control(wsi, 0);
    // Everything needed from the request is copied: give its header storage
    // back to the pool, or every stream would pin one (8 KiB each, and the
    // pool's size would cap how many streams can be open).
    if (lws_http_headers_detach(wsi)) return -1;
  }
  sse_conns_.insert(c->id);
  // An opening comment, so proxies and browsers open the stream at once.
  std::string hello;
  sse_comment(hello, "ok");
  queue_raw(c, std::move(hello));
  accept_conn(c);
  return 0;
}

int ServerRole::sse_writeable(lws *wsi) {
  Conn *c = conn_of(wsi);
  if (!c || c->proto != Proto::Sse) return 0;
  switch (drain(c)) {
    case Drain::Failed:
      return -1;
    case Drain::Busy:
      return 0;
    case Drain::Idle:
      if (!c->h2) lws_rx_flow_control(wsi, 0);  // idle again: reads off (see sse_open)
      return 0;
    case Drain::Close:
      break;
  }
  c->close_sent = true;
  bool h2 = c->h2;
  finish(c);
  if (h2) h2_end(wsi);
  return -1;  // ends the stream: SSE has no close frame
}

}  // namespace sw

// The server's plain HTTP: routing a request to the publish endpoint, an SSE
// stream or a static file, and short status answers.
#include <libwebsockets.h>

#include <sys/stat.h>

#include <cstring>

#include "ascii.h"
#include "engine.h"
#include "lws_util.h"
#include "server/server_role.h"
#include "static_path.h"

namespace sw {

namespace {
bool accepts_event_stream(const std::string &accept) {
  return ascii_lower(accept).find("text/event-stream") != std::string::npos;  // media types ignore case
}
}  // namespace

// A short text/plain answer (no body for HEAD), written by ssews rather than
// lws_return_http_status, so its bytes are known (request_events).
int ServerRole::http_status(lws *wsi, unsigned status, const char *why) {
  bool head = lws_request_method(wsi) == LWSHUMETH_HEAD;
  if (!write_answer(wsi, status, {}, "text/plain", head ? std::string() : std::string(why) + "\n")) return -1;
  return lws_http_transaction_completed(wsi) ? -1 : 0;
}

bool ServerRole::write_answer(lws *wsi, unsigned status, const HeaderList &headers, const char *type,
                              const std::string &body, bool upgrade) {
  std::vector<uint8_t> buf(LWS_PRE + 512 + headers_size(headers));
  uint8_t *start = buf.data() + LWS_PRE, *p = start, *end = buf.data() + buf.size() - 1;
  if (lws_add_http_header_status(wsi, status, &p, end)) return false;
  // lws 4.1.6 has not yet noted the request's version when it asks us to
  // confirm an upgrade, and writes "HTTP/1.0", which WebSocket clients (the
  // websockets package) refuse to read; a handshake is always HTTP/1.1.
  if (upgrade && p - start > 8 && !memcmp(start, "HTTP/1.0", 8)) start[7] = '1';
  if (!add_headers(wsi, headers, &p, end) ||
      (!body.empty() &&
       lws_add_http_header_by_name(wsi, reinterpret_cast<const unsigned char *>("content-type:"),
                                   reinterpret_cast<const unsigned char *>(type),
                                   static_cast<int>(strlen(type)), &p, end)) ||
      lws_add_http_header_content_length(wsi, body.size(), &p, end) ||
      lws_finalize_write_http_header(wsi, start, &p, end))
    return false;
  size_t head_len = static_cast<size_t>(p - start);
  if (!body.empty()) {
    std::vector<uint8_t> out(LWS_PRE + body.size());
    memcpy(out.data() + LWS_PRE, body.data(), body.size());
    if (lws_write(wsi, out.data() + LWS_PRE, body.size(), LWS_WRITE_HTTP_FINAL) < 0) return false;
  }
  exchange_answered(wsi, status, head_len + body.size());
  return true;
}

int ServerRole::refused(lws *wsi, const Verdict &v) {
  if (!write_answer(wsi, static_cast<unsigned>(v.status), v.headers, "text/plain",
                    v.reason.empty() ? "" : v.reason + "\n"))
    return -1;
  return lws_http_transaction_completed(wsi) ? -1 : 0;
}

int ServerRole::http_body(lws *wsi, unsigned status, const char *type, const std::string &body) {
  uint8_t buf[LWS_PRE + 2048];
  uint8_t *start = buf + LWS_PRE, *p = start, *end = buf + sizeof buf - 1;
  if (lws_add_http_common_headers(wsi, status, type, body.size(), &p, end) ||
      lws_finalize_write_http_header(wsi, start, &p, end))
    return -1;
  size_t head_len = static_cast<size_t>(p - start);
  std::vector<uint8_t> out(LWS_PRE + body.size());
  memcpy(out.data() + LWS_PRE, body.data(), body.size());
  if (lws_write(wsi, out.data() + LWS_PRE, body.size(), LWS_WRITE_HTTP_FINAL) < 0) return -1;
  exchange_answered(wsi, status, head_len + body.size());
  return lws_http_transaction_completed(wsi) ? -1 : 0;
}

int ServerRole::http_request(lws *wsi, void *in) {
  exchange_begin(wsi);
  int meth = lws_request_method(wsi);
  if (is_publish_request(meth, static_cast<const char *>(in))) return publish_begin(wsi);
  // A CORS preflight, answered only when origins are configured (no CORS otherwise).
  if (meth == LWSHUMETH_OPTIONS && access_.origins.configured())
    return refused(wsi, judge(wsi, AccessKind::Preflight, false, {}));
  if (is_presence_request(meth, static_cast<const char *>(in))) return presence_answer(wsi);
  if (is_metrics_request(meth, static_cast<const char *>(in))) return metrics_answer(wsi);
  std::string bad = lws_head_problem(wsi);
  if (!bad.empty()) return http_status(wsi, HTTP_STATUS_BAD_REQUEST, bad.c_str());
  if (accepts_event_stream(lws_header(wsi, WSI_TOKEN_HTTP_ACCEPT))) return sse_open(wsi, meth);

  if ((meth == LWSHUMETH_GET || meth == LWSHUMETH_HEAD) && !opts().static_dir.empty()) {
    std::string file;
    const char *path = static_cast<const char *>(in);
    std::string p = path && *path ? path : "/";
    if (p[0] != '/') p = "/" + p;
    if (static_resolve(opts().static_dir, p, file)) {
      if (opts().request_events) {
        struct stat sb;
        exchange_file(
            wsi, meth == LWSHUMETH_HEAD || stat(file.c_str(), &sb) ? 0 : static_cast<size_t>(sb.st_size));
      }
      int n = lws_serve_http_file(wsi, file.c_str(), mime_type(file), nullptr, 0);
      if (n < 0 || (n > 0 && lws_http_transaction_completed(wsi))) return -1;
      return 0;
    }
  }
  if (meth != LWSHUMETH_GET && meth != LWSHUMETH_HEAD)
    return http_status(wsi, HTTP_STATUS_METHOD_NOT_ALLOWED, "method not allowed");
  return http_status(wsi, HTTP_STATUS_NOT_FOUND, "not found");
}

}  // namespace sw

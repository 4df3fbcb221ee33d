// The server's plain HTTP: routing a request to the publish endpoint, an SSE
// stream or a static file, and short status answers.
#include <libwebsockets.h>

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

int ServerRole::http_status(lws *wsi, unsigned status, const char *why) {
  if (lws_return_http_status(wsi, status, why)) return -1;
  return lws_http_transaction_completed(wsi) ? -1 : 0;
}

int ServerRole::http_request(lws *wsi, void *in) {
  int meth = lws_request_method(wsi);
  if (is_publish_request(meth, static_cast<const char *>(in))) return publish_begin(wsi);
  std::string bad = lws_head_problem(wsi);
  if (!bad.empty()) return http_status(wsi, HTTP_STATUS_BAD_REQUEST, bad.c_str());
  if (accepts_event_stream(lws_header(wsi, WSI_TOKEN_HTTP_ACCEPT))) return sse_open(wsi, meth);

  if ((meth == LWSHUMETH_GET || meth == LWSHUMETH_HEAD) && !opts().static_dir.empty()) {
    std::string file;
    const char *path = static_cast<const char *>(in);
    std::string p = path && *path ? path : "/";
    if (p[0] != '/') p = "/" + p;
    if (static_resolve(opts().static_dir, p, file)) {
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

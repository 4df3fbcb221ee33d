#include "v1_confirm_lws.h"

#include <cstring>

#include "lws_util.h"
#include "v1_confirm.h"

namespace sw {

bool v1_add_confirm_header(lws *wsi, void *in) {
  const lws_protocols *p = lws_get_protocol(wsi);
  if (!in || !p || !p->name || strcmp(p->name, kV1Protocol) != 0) return true;
  auto *args = static_cast<lws_process_html_args *>(in);
  auto *pos = reinterpret_cast<unsigned char *>(args->p);
  unsigned char *end = pos + args->max_len;
  if (lws_add_http_header_by_name(wsi, reinterpret_cast<const unsigned char *>(kV1ConfirmHeader),
                                  reinterpret_cast<const unsigned char *>(kV1ConfirmValue),
                                  static_cast<int>(strlen(kV1ConfirmValue)), &pos, end))
    return false;
  args->max_len -= static_cast<int>(pos - reinterpret_cast<unsigned char *>(args->p));
  args->p = reinterpret_cast<char *>(pos);
  return true;
}

namespace {
// The response's X-Ssews value, "" when absent.
std::string confirm_value(lws *wsi) {
  std::string confirm;
  int n = lws_hdr_custom_length(wsi, kV1ConfirmHeader, static_cast<int>(strlen(kV1ConfirmHeader)));
  if (n > 0 && n < 64) {
    char buf[64];
    if (lws_hdr_custom_copy(wsi, buf, sizeof buf, kV1ConfirmHeader,
                            static_cast<int>(strlen(kV1ConfirmHeader))) > 0)
      confirm = buf;
  }
  return confirm;
}
}  // namespace

bool v1_server_confirmed(lws *wsi) {
  return v1_confirmed(lws_header(wsi, WSI_TOKEN_PROTOCOL), confirm_value(wsi));
}

bool sse_server_confirmed(lws *wsi) {
  return sse_v1_confirmed(confirm_value(wsi));
}

}  // namespace sw

#include "role.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cstring>
#include <string>
#include <string_view>

#include "sse_encoder.h"
#include "utf8.h"
#include "ws_rules.h"

namespace sw {

Status Role::publish(const char *, const void *, size_t, bool, const char *, const char *) {
  return fail(SSEWS_ENOTSUP, "not supported: publish is for server endpoints");
}
Status Role::subscribe(ConnId, const char *, bool) {
  return fail(SSEWS_ENOTSUP, "not supported: subscriptions are made by server endpoints");
}
Status Role::reject(ConnId, int) {
  return fail(SSEWS_ENOTSUP, "not supported: reject is for server endpoints");
}
Status Role::accept_subprotocol(ConnId, const char *) {
  return fail(SSEWS_ENOTSUP, "not supported: accept_subprotocol is for server endpoints");
}
Status Role::may_publish(ConnId, const char *) {
  return fail(SSEWS_ENOTSUP, "not supported: publishing rights are for server endpoints");
}
Status Role::publish_as(ConnId, const char *, const void *, size_t, bool, const char *, const char *) {
  return fail(SSEWS_ENOTSUP, "not supported: publish is for server endpoints");
}
Status Role::set_headers(std::vector<std::string>) {
  return fail(SSEWS_ENOTSUP, "not supported: request headers are sent by client endpoints");
}
Status Role::port(int &) const {
  return fail(SSEWS_ENOTSUP, "not supported: a client does not listen");
}
Status Role::stats(Metrics &) {
  return fail(SSEWS_ENOTSUP, "not supported: stats are kept by server endpoints");
}
Status Role::buffered(ConnId, size_t &) {
  return fail(SSEWS_ENOTSUP, "not supported: buffered amounts are per server connection");
}
Status Role::channel_info(const char *, bool, ChannelInfo &) {
  return fail(SSEWS_ENOTSUP, "not supported: channels are a server's");
}

Status check_size(const void *data, size_t len, size_t max_size) {
  if (!data && len) return fail(SSEWS_EINVAL, "data is NULL but len is not 0");
  if (len > max_size)
    return fail(SSEWS_ETOOBIG, "message of " + std::to_string(len) + " bytes exceeds max_message_size (" +
                                   std::to_string(max_size) + ")");
  return Status::ok();
}

Status check_text(const void *data, size_t len, bool binary) {
  if (!binary && !utf8_valid(std::string_view(static_cast<const char *>(data), len)))
    return fail(SSEWS_EINVAL, "text message is not valid UTF-8");
  return Status::ok();
}

// ssews.v1 carries event and id inside text frames: they must be UTF-8 too.
Status check_fields(const char *event, const char *id) {
  if (event && (!sse_field_ok(event) || strlen(event) > kMaxFieldBytes || !utf8_valid(event)))
    return fail(SSEWS_EINVAL, "event name must be at most 1024 bytes of UTF-8 without CR, LF or NUL");
  if (id && (!sse_field_ok(id) || strlen(id) > kMaxFieldBytes || !utf8_valid(id)))
    return fail(SSEWS_EINVAL, "id must be at most 1024 bytes of UTF-8 without CR, LF or NUL");
  return Status::ok();
}

Status check_channel(const char *channel) {
  if (!channel || !*channel) return fail(SSEWS_EINVAL, "channel must be a non-empty string");
  if (strlen(channel) > kMaxFieldBytes) return fail(SSEWS_EINVAL, "channel name longer than 1024 bytes");
  if (!utf8_valid(channel)) return fail(SSEWS_EINVAL, "channel name is not valid UTF-8");
  return Status::ok();
}

Status check_close(int code, const char *reason) {
  if (!ws_close_code_sendable(code))
    return fail(SSEWS_EINVAL,
                "close code " + std::to_string(code) + " cannot be sent (use 1000 or 3000-4999)");
  std::string_view r = reason ? reason : "";
  if (r.size() > 123) return fail(SSEWS_EINVAL, "close reason longer than 123 bytes");
  if (!utf8_valid(r)) return fail(SSEWS_EINVAL, "close reason is not valid UTF-8");
  return Status::ok();
}

bool readable_file(const std::string &path) {
  struct stat st;
  return stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode) && access(path.c_str(), R_OK) == 0;
}

}  // namespace sw

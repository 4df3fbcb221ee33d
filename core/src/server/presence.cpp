// Presence: who is on a channel. The `presence` option turns on join/leave
// notices: subscribers that speak ssews.v1 get a message with event `join`
// or `leave` on the channel (data: {"conn":N,"identity":SUB}), and the
// application gets a join or leave event (conn, channel, and the token's
// identity and claims). Plain WebSocket and SSE subscribers get nothing (they
// would take a notice for application data). The HTTP side:
// `GET <publish_path>/presence?channel=C` with the publish token answers
// {"channel":C,"subscribers":N,"connections":[{"conn":N,"identity":SUB,"protocol":P}]}.
// "identity" is the `sub` of the token the connection was admitted with, and
// is left out for a connection admitted without one (or a token with no sub).
#include <libwebsockets.h>

#include "engine.h"
#include "lws_util.h"
#include "publish_request.h"
#include "secret.h"
#include "server/server_role.h"
#include "v1_codec.h"

namespace sw {

bool ServerRole::join(Conn *c, const std::string &channel) {
  if (!hub_subscribe(c->id, channel)) return false;
  if (opts().presence) notice(c, channel, true);
  return true;
}

void ServerRole::leave(ConnId conn, const std::string &channel) {
  if (!hub_unsubscribe(conn, channel) || !opts().presence) return;
  if (Conn *c = find(conn)) notice(c, channel, false);
}

void ServerRole::leave_all(Conn *c) {
  if (!opts().presence) return;
  for (const std::string &ch : hub_.channels_of(c->id)) {
    hub_unsubscribe(c->id, ch);
    notice(c, ch, false);
  }
}

std::string ServerRole::presence_entry(const Conn *c) {
  std::string j = "{\"conn\":" + std::to_string(c->id);
  if (c->grant && !c->grant->sub.empty()) {
    j += ",\"identity\":";
    json_quote(j, c->grant->sub);
  }
  return j;
}

void ServerRole::notice(const Conn *c, const std::string &channel, bool joined) {
  EventPtr ev = make_event(joined ? kEvJoin : kEvLeave, c->id, c->proto);
  ev->has_channel = true;
  ev->channel = channel;
  ev->grant = c->grant;
  e_.emit(std::move(ev));
  auto m = std::make_shared<Message>();
  m->control = true;  // not application data: plain WebSocket peers never get it
  m->channel = channel;
  m->event = joined ? "join" : "leave";
  std::string data = presence_entry(c) + "}";
  m->payload = WireBuf(data.data(), data.size());
  std::vector<ConnId> subs = hub_.subscribers(channel);  // a copy: queue_to may close one
  for (ConnId id : subs) {
    Conn *s = find(id);
    if (s && s->enc == Encoding::WsV1 && id != c->id) queue_to(s, m);
  }
}

bool ServerRole::is_presence_request(int method, const char *path) const {
  return method == LWSHUMETH_GET && !opts().publish_token.empty() && path &&
         opts().publish_path + "/presence" == path;
}

int ServerRole::presence_answer(lws *wsi) {
  auto json_error = [this, wsi](unsigned status, const std::string &why) {
    std::string j = "{\"error\":";
    json_quote(j, why);
    return http_body(wsi, status, "application/json", j + "}");
  };
  if (!bearer_matches(lws_header(wsi, WSI_TOKEN_HTTP_AUTHORIZATION), opts().publish_token))
    return json_error(HTTP_STATUS_UNAUTHORIZED, "missing or wrong bearer token");
  std::string channel;
  int n = 0;
  for (const std::string &arg : lws_query_fragments(wsi))
    if (arg.compare(0, 8, "channel=") == 0) channel = arg.substr(8), n++;
  if (n != 1 || check_channel(channel.c_str()).failed())
    return json_error(HTTP_STATUS_BAD_REQUEST, "give one channel: ?channel=C");
  std::string j = "{\"channel\":";
  json_quote(j, channel);
  std::string list;
  size_t count = 0;
  for (ConnId id : hub_.subscribers(channel)) {
    const Conn *c = find(id);
    if (!c || !c->established || c->closing) continue;
    if (count++) list += ',';
    list += presence_entry(c) + ",\"protocol\":\"" + (c->proto == Proto::Ws ? "websocket" : "sse") + "\"}";
  }
  j += ",\"subscribers\":" + std::to_string(count) + ",\"connections\":[" + list + "]}";
  return http_body(wsi, HTTP_STATUS_OK, "application/json", j);
}

}  // namespace sw

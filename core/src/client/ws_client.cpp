// The client role's WebSocket side: which subprotocol the server chose,
// messages in (reassembled, bounded, ssews.v1 decoded), messages out, and
// the close handshake.
#include <libwebsockets.h>

#include "client/client_role.h"
#include "engine.h"
#include "lws_util.h"
#include "v1_codec.h"
#include "v1_confirm_lws.h"

namespace sw {

void ClientRole::ws_filter(lws *wsi) {
  // Selected is not enough: a generic server may echo the first offer.
  v1_ = v1_server_confirmed(wsi);
  subprotocol_ = lws_header(wsi, WSI_TOKEN_PROTOCOL);  // the head is gone by the open event
}

int ClientRole::ws_receive(lws *wsi, void *in, size_t len) {
  if (rx_.empty() && lws_is_first_fragment(wsi)) rx_binary_ = lws_frame_is_binary(wsi);
  if (rx_.size() + len > opts().max_message_size) {
    rx_.clear();
    error(SSEWS_ETOOBIG, "incoming message exceeds max_message_size (" +
                             std::to_string(opts().max_message_size) + " bytes)");
    lws_close_reason(wsi, LWS_CLOSE_STATUS_MESSAGE_TOO_LARGE, nullptr, 0);
    return -1;
  }
  rx_.append(static_cast<const char *>(in), len);
  if (!lws_is_final_fragment(wsi) || lws_remaining_packet_payload(wsi)) return 0;

  EventPtr ev = make_event(kEvMessage, 1, Proto::Ws);
  ev->binary = rx_binary_;
  if (v1_) {
    V1Message m;
    bool ok = rx_binary_ ? v1_decode_binary(rx_, m) : v1_decode_text(rx_, m);
    if (!ok) {
      error(SSEWS_EPROTO, "malformed ssews.v1 message from the server");
      rx_.clear();
      return 0;
    }
    if (m.event == "ssews-gap" && m.channel.empty()) {
      error(SSEWS_EGAP, "resumed after id '" + m.data +
                            "', but messages may have been missed (no longer in the server's history)");
      rx_.clear();
      return 0;
    }
    ev->data = std::move(m.data);
    ev->has_channel = true;
    ev->channel = std::move(m.channel);
    ev->has_name = !m.event.empty();
    ev->name = std::move(m.event);
    ev->has_id = !m.id.empty();
    ev->id = m.id;
    if (!m.id.empty()) last_id_ = std::move(m.id);
  } else {
    ev->data = std::move(rx_);
  }
  rx_ = std::string();
  e_.emit(std::move(ev));
  return 0;
}

void ClientRole::ws_peer_close(void *in, size_t len) {
  if (len >= 2) {
    const auto *b = static_cast<const unsigned char *>(in);
    peer_close_code_ = (b[0] << 8) | b[1];
    peer_close_reason_.assign(static_cast<const char *>(in) + 2, len - 2);
  } else {
    peer_close_code_ = 1005;
  }
}

int ClientRole::ws_writeable(lws *wsi) {
  while (!sendq_.empty()) {
    const Message &m = *sendq_.front();
    // lws masks what it writes in place: write a copy, keep the message intact
    // for the retry after a reconnect (tx_scratch.h).
    uint8_t *p = tx_.stage(m.payload.data(), m.payload.size());
    int n = lws_write(wsi, p, m.payload.size(), m.binary ? LWS_WRITE_BINARY : LWS_WRITE_TEXT);
    if (n < 0) return -1;
    queued_.fetch_sub(m.payload.size());
    sendq_.pop_front();
    if (lws_send_pipe_choked(wsi)) {
      lws_callback_on_writable(wsi);
      return 0;
    }
  }
  tx_.trim();
  if (closing_) {
    close_sent_ = true;
    lws_close_reason(wsi, static_cast<enum lws_close_status>(close_code_),
                     reinterpret_cast<unsigned char *>(&close_reason_[0]), close_reason_.size());
    return -1;
  }
  return 0;
}

void ClientRole::ws_closed() {
  int code = peer_close_code_ ? peer_close_code_ : 1006;
  std::string why = peer_close_code_ ? "server closed with " + std::to_string(code) +
                                           (peer_close_reason_.empty() ? "" : " (" + peer_close_reason_ + ")")
                                     : "connection lost";
  if (closing_) {
    wsi_ = nullptr;
    final_close(close_code_, close_reason_);
  } else if (code == 1000) {
    // The server ended the conversation on purpose: do not come back.
    wsi_ = nullptr;
    connected_ = false;
    final_close(1000, peer_close_reason_);
  } else {
    dropped(0, why, false);
  }
}

}  // namespace sw

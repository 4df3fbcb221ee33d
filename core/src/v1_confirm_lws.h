// The lws side of the ssews.v1 confirmation (see v1_confirm.h): the server
// adds the header to its 101, the client reads it back.
#pragma once
#include <libwebsockets.h>

#include <string>

namespace sw {

// Server, LWS_CALLBACK_ADD_HEADERS (in = lws_process_html_args): adds
// "x-ssews: v1" when the handshake selected ssews.v1. False if it does not fit.
bool v1_add_confirm_header(lws *wsi, void *in);

// Client, LWS_CALLBACK_CLIENT_FILTER_PRE_ESTABLISH: true when the server
// selected ssews.v1 and confirmed it.
bool v1_server_confirmed(lws *wsi);

// Client, LWS_CALLBACK_ESTABLISHED_CLIENT_HTTP: true when an SSE response
// carries the confirmation (it is from an ssews server).
bool sse_server_confirmed(lws *wsi);

}  // namespace sw

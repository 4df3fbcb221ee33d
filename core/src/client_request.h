// What the client's HTTP request carries besides what libwebsockets writes
// itself (request line, Host, Pragma, Cache-Control, Connection and the
// WebSocket handshake): its method and body (SSE streams started with a POST
// and a JSON body, as streaming APIs do), the default headers ssews adds, and
// the application's headers, which replace a default of the same name. Also
// the reconnect rule for methods that are not idempotent. Pure: no
// libwebsockets, so every rule is unit-tested.
#pragma once
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "options.h"

namespace sw {

// Content-Type of a body when neither `content_type` nor a header names one
// (what fetch() sends for a string body).
constexpr const char kDefaultBodyType[] = "text/plain;charset=UTF-8";

// A header as lws wants its name: lower case, ending with ':'.
using RequestHeader = std::pair<std::string, std::string>;

// Checks the request options of a client: `method` applies to SSE URLs, a
// `body` needs a method that takes one (not GET or HEAD), and no `header`
// names one lws writes itself or one ssews derives from the body
// (Content-Length). False with err naming the option and the problem.
bool check_client_request(const Options &o, bool websocket, std::string &err);

// The headers ssews adds to one (re)connect, in order: for SSE, Accept:
// text/event-stream, Last-Event-ID when last_event_id is not empty, and for a
// request with a body (send_body: a method other than GET and HEAD, not
// turned into a GET by a redirect) Content-Type and Content-Length; then every
// `header` option. A `header` whose name matches a default (any case)
// replaces it: the default is not sent. Origin is one of the defaults:
// user_origin() says whether the application gave its own.
std::vector<RequestHeader> client_headers(const Options &o, bool websocket, const std::string &last_event_id,
                                          bool send_body);

// True when a `header` option sets Origin (then lws must not add its own).
bool user_origin(const Options &o);

// True when the method may be repeated without changing the outcome (RFC
// 9110 9.2.2: GET, HEAD, OPTIONS, TRACE, PUT, DELETE). A stream whose method
// is not (POST, PATCH, ...) reconnects only when reconnect_non_idempotent.
bool method_idempotent(std::string_view method);
bool may_reconnect(const Options &o);

// True when a method sends the body (and its Content-Length): not GET or HEAD.
bool method_has_body(std::string_view method);

}  // namespace sw

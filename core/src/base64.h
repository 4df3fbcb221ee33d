// Base64 (RFC 4648, standard alphabet, padded): SSE carries binary payloads
// as base64, and the WebSocket handshake key is base64.
#pragma once
#include <string>
#include <string_view>

namespace sw {
void base64_encode(std::string &out, std::string_view in);
// Strict decode: standard alphabet, correct padding, no whitespace. False on bad input.
bool base64_decode(std::string_view in, std::string &out);
}  // namespace sw

// The ssews.v1 WebSocket subprotocol: each message carries its channel, event
// name and id. Text travels as one JSON object
//   {"channel":"…","event":"…","id":"…","data":"…"}
// and binary as one binary frame: 0xB1, then channel, event and id each as a
// 16-bit big-endian length plus bytes, then the raw payload (never base64).
#pragma once
#include <string>
#include <string_view>

namespace sw {

constexpr unsigned char kV1BinaryMagic = 0xB1;

// Appends s as a JSON string literal (with quotes): the one quoting function
// for every JSON the project writes. Bytes that are not valid UTF-8 become
// U+FFFD, so the result is valid JSON whatever s holds.
void json_quote(std::string &out, std::string_view s);

void v1_encode_text(std::string &out, std::string_view channel, std::string_view event, std::string_view id,
                    std::string_view data);
// Fields longer than 65535 bytes cannot be encoded; callers bound them first.
void v1_encode_binary(std::string &out, std::string_view channel, std::string_view event, std::string_view id,
                      std::string_view data);

struct V1Message {
  std::string channel, event, id, data;
};
// Parse what v1_encode_text / v1_encode_binary made. False on malformed input.
bool v1_decode_text(std::string_view in, V1Message &m);
bool v1_decode_binary(std::string_view in, V1Message &m);

}  // namespace sw

// UTF-8 validation (RFC 3629: no overlongs, no surrogates, nothing above U+10FFFF).
#pragma once
#include <cstddef>
#include <string_view>

namespace sw {
bool utf8_valid(std::string_view s);
}

// Static files: maps a request path to a file under the configured directory
// (never outside it) and names its content type.
#pragma once
#include <string>
#include <string_view>

namespace sw {

// Resolves url_path (no query; already percent-decoded, as lws hands it
// over, so '%' is an ordinary character) under root. Returns
// false for anything that could escape root (a ".." segment, NUL, a symlink
// pointing outside) or that is not a regular file. "/" and paths ending in
// "/" map to index.html.
bool static_resolve(const std::string &root, std::string_view url_path, std::string &file);

// Content type for a file name by its extension ("application/octet-stream" if unknown).
const char *mime_type(std::string_view file);

}  // namespace sw

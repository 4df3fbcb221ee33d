#include "static_path.h"

#include <limits.h>
#include <stdlib.h>
#include <sys/stat.h>

#include <cctype>
#include <cstring>

namespace sw {

bool static_resolve(const std::string &root, std::string_view url_path, std::string &file) {
  // lws has already percent-decoded the path: decoding it again would turn
  // "/%2541.txt" into "/A.txt" and make "100%.txt" unreachable.
  if (url_path.empty() || url_path[0] != '/' || url_path.find('\0') != std::string_view::npos) return false;
  std::string path(url_path);
  // Refuse any ".." segment outright (also backslashes, which some clients treat as '/').
  size_t start = 0;
  while (start <= path.size()) {
    size_t end = path.find('/', start);
    if (end == std::string::npos) end = path.size();
    std::string_view seg(path.data() + start, end - start);
    if (seg == ".." || seg.find('\\') != std::string_view::npos) return false;
    start = end + 1;
  }
  if (path.back() == '/') path += "index.html";

  char root_real[PATH_MAX], file_real[PATH_MAX];
  if (!realpath(root.c_str(), root_real)) return false;
  std::string candidate = std::string(root_real) + path;
  if (!realpath(candidate.c_str(), file_real)) return false;
  // A symlink inside root may point elsewhere: the real path must stay under root.
  size_t rl = strlen(root_real);
  if (strncmp(file_real, root_real, rl) != 0 || (file_real[rl] != '/' && file_real[rl] != '\0' && rl != 1))
    return false;
  struct stat st;
  if (stat(file_real, &st) != 0) return false;
  if (S_ISDIR(st.st_mode)) {
    std::string index = std::string(file_real) + "/index.html";
    if (stat(index.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) return false;
    file = index;
    return true;
  }
  if (!S_ISREG(st.st_mode)) return false;
  file = file_real;
  return true;
}

const char *mime_type(std::string_view file) {
  static const struct {
    const char *ext;
    const char *type;
  } kTypes[] = {
      {".html", "text/html; charset=utf-8"},
      {".htm", "text/html; charset=utf-8"},
      {".js", "text/javascript; charset=utf-8"},
      {".mjs", "text/javascript; charset=utf-8"},
      {".css", "text/css; charset=utf-8"},
      {".json", "application/json"},
      {".txt", "text/plain; charset=utf-8"},
      {".svg", "image/svg+xml"},
      {".png", "image/png"},
      {".jpg", "image/jpeg"},
      {".jpeg", "image/jpeg"},
      {".gif", "image/gif"},
      {".webp", "image/webp"},
      {".ico", "image/x-icon"},
      {".wasm", "application/wasm"},
      {".map", "application/json"},
      {".woff2", "font/woff2"},
      {".woff", "font/woff"},
      {".xml", "application/xml"},
      {".pdf", "application/pdf"},
  };
  for (const auto &t : kTypes) {
    size_t n = strlen(t.ext);
    if (file.size() >= n) {
      std::string_view tail = file.substr(file.size() - n);
      bool eq = true;
      for (size_t i = 0; i < n; i++)
        if (tolower(static_cast<unsigned char>(tail[i])) != t.ext[i]) eq = false;
      if (eq) return t.type;
    }
  }
  return "application/octet-stream";
}

}  // namespace sw

// The result of a public operation: an SSEWS_E* code plus a message for
// ssews_last_error. The codes are the ABI's own (ssews.h is included for them
// and nothing else: they are the one shared constant table, see DESIGN.md).
#pragma once
#include <string>
#include <utility>

#include "ssews.h"

namespace sw {

struct Status {
  int code = 0;
  std::string msg;
  static Status ok() { return {}; }
  bool failed() const { return code != 0; }
};

inline Status fail(int code, std::string msg) {
  return Status{code, std::move(msg)};
}

}  // namespace sw

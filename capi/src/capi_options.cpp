// ssews_option_count, ssews_option_at: the option table (core/src/option_table.h)
// for FFI users and bindings.
#include "capi_util.h"
#include "option_table.h"

extern "C" {

SSEWS_API int ssews_option_count(void) {
  return static_cast<int>(sw::kOptionCount);
}

SSEWS_API int ssews_option_at(int index, const char **key, const char **role, const char **type,
                              const char **default_value, const char **doc) {
  if (index < 0 || static_cast<size_t>(index) >= sw::kOptionCount)
    return sw::fail_rc(SSEWS_EINVAL, "option index " + std::to_string(index) + " is out of range (0-" +
                                         std::to_string(sw::kOptionCount - 1) + ")");
  const sw::OptionInfo &row = sw::kOptionTable[index];
  if (key) *key = row.key;
  if (role) *role = sw::opt_role_name(row.role);
  if (type) *type = row.type;
  if (default_value) *default_value = row.default_value;
  if (doc) *doc = row.doc;
  sw::clear_last_error();
  return SSEWS_OK;
}

}  // extern "C"

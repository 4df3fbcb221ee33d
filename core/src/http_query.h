// The query arguments of an HTTP request, as lws hands them over: lws 4.1
// percent-decodes the query while it parses the request line (the raw bytes
// are not kept) and splits it at every unencoded '&' and ';' into fragments
// of "key=value". This turns those fragments into key/value pairs and refuses
// what no parameter may hold, with a message that names the parameter.
#pragma once
#include <string>
#include <string_view>
#include <vector>

namespace sw {

struct QueryParam {
  std::string key, value;
};

// Splits each fragment at its first '=' (a fragment without one is a key with
// an empty value; empty fragments, as in "a=1&&b=2", are skipped). Fails when
// a key or value holds a control character (NUL, CR, LF, ... which a header,
// an SSE field or a log line cannot carry) or is not UTF-8; err then names the
// parameter and the problem.
bool query_params(const std::vector<std::string> &fragments, std::vector<QueryParam> &out, std::string &err);

// The value of the only parameter named key. Returns 0 when absent, 1 when
// found (value set), 2 when given more than once (ambiguous: which one wins
// would be a guess).
int query_value(const std::vector<QueryParam> &params, std::string_view key, std::string &value);

}  // namespace sw

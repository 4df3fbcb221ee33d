// The `broker` option: where the Redis that nodes share lives.
// `redis://[user:password@]host[:port][/db]` or `unix:/path/to.sock`
// (`unix:path?db=N` picks a database; `unix://[user:password@]/path` as
// redis-py writes it carries credentials). Pure: no I/O.
#pragma once
#include <string>
#include <string_view>

namespace sw {

struct BrokerAddr {
  std::string host;  // without brackets for IPv6; empty for a unix socket
  int port = 6379;
  std::string unix_path;  // set for unix: sockets
  std::string user;       // ACL user (Redis 6+); empty: the default user
  std::string password;   // empty: no AUTH
  int db = 0;
  // The address without the password, for log lines and errors.
  std::string display() const;
};

// Parses a broker URL; on failure returns false with err saying what is wrong.
bool parse_broker_url(std::string_view url, BrokerAddr &out, std::string &err);

}  // namespace sw

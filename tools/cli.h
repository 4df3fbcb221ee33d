// Subcommands of the `ssews` command; each returns the process exit status.
#pragma once

int run_serve(int argc, char **argv);
int run_connect(int argc, char **argv);

#include <signal.h>

#include <string>
#include <vector>

// The NULL-terminated key, value, ... array ssews_open takes; points into kv.
std::vector<const char *> option_array(const std::vector<std::string> &kv);

// Blocks SIGINT and SIGTERM (before the service thread starts, so only a
// sigwait sees them) and ignores SIGPIPE. Returns the blocked set.
sigset_t block_exit_signals();

// Pieces the subcommands share.
#include <pthread.h>

#include "cli.h"

std::vector<const char *> option_array(const std::vector<std::string> &kv) {
  std::vector<const char *> opts;
  for (const auto &s : kv) opts.push_back(s.c_str());
  opts.push_back(nullptr);
  return opts;
}

sigset_t block_exit_signals() {
  sigset_t sigs;
  sigemptyset(&sigs);
  sigaddset(&sigs, SIGINT);
  sigaddset(&sigs, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &sigs, nullptr);
  signal(SIGPIPE, SIG_IGN);
  return sigs;
}

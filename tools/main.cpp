// The `ssews` command: `ssews serve` runs a hub, `ssews connect` is a client.
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "ssews.h"

static const char kUsage[] =
    "usage: ssews serve [options]     run a hub (ssews serve --help)\n"
    "       ssews connect URL [opts]  connect and print what arrives (ssews connect --help)\n"
    "       ssews --version\n";

int main(int argc, char **argv) {
  if (argc >= 2 && !strcmp(argv[1], "serve")) return run_serve(argc - 2, argv + 2);
  if (argc >= 2 && !strcmp(argv[1], "connect")) return run_connect(argc - 2, argv + 2);
  if (argc >= 2 && (!strcmp(argv[1], "--version") || !strcmp(argv[1], "version"))) {
    printf("ssews %s\n", ssews_version());
    return 0;
  }
  bool help = argc >= 2 && (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help"));
  fputs(kUsage, help ? stdout : stderr);
  return help ? 0 : 2;
}

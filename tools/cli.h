// Subcommands of the `ssews` command; each returns the process exit status.
#pragma once

int run_serve(int argc, char **argv);
int run_connect(int argc, char **argv);

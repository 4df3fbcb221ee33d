/* A program outside the project that uses an installed ssews: it opens a
 * server on a free port and prints the port and version. */
#include <stdio.h>

#include <ssews.h>

int main(void) {
  const char *opts[] = {"port", "0", NULL};
  ssews *ep = NULL;
  if (ssews_open(&ep, opts, NULL, NULL) != SSEWS_OK) {
    fprintf(stderr, "ssews_open: %s\n", ssews_last_error());
    return 1;
  }
  int port = 0;
  ssews_port(ep, &port);
  printf("ssews %s listening on %d\n", ssews_version(), port);
  ssews_close(&ep);
  return port > 0 ? 0 : 1;
}

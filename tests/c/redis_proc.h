/* A real redis-server (Debian's) for the broker tests: started by the test on
 * a free loopback port, in a scratch directory, stopped and restarted at will. */
#ifndef SSEWS_TEST_REDIS_PROC_H
#define SSEWS_TEST_REDIS_PROC_H

#include <sys/types.h>

typedef struct redis_proc {
  pid_t pid;
  int port;
  int aof;      /* appendonly: its data survives a restart */
  char dir[64]; /* its working directory (AOF files) */
  char url[64]; /* redis://127.0.0.1:port */
} redis_proc;

/* Starts redis-server on a free port (aof: with appendonly, so a restart keeps
 * its data) and waits until it accepts connections. 0 on success. */
int redis_start(redis_proc *r, int aof);
/* Stops it with sig (SIGTERM: a clean shutdown, SIGKILL: a crash) and reaps it. */
void redis_stop(redis_proc *r, int sig);
/* Starts it again on the same port and directory. 0 on success. */
int redis_restart(redis_proc *r);
/* Runs one command (a printf-style format, hiredis' redisCommand) on a
 * connection of its own; returns 0 when Redis did not answer an error. */
int redis_cmd(redis_proc *r, const char *fmt, ...);
/* Stops it and removes its directory. */
void redis_free(redis_proc *r);

#endif

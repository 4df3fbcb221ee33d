#include "redis_proc.h"

#include <errno.h>
#include <fcntl.h>
#include <hiredis/hiredis.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "peer.h"

static long long now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Starts the server and reads its log (stdout) until it says it is ready:
 * an event to wait for, not a sleep. */
static int launch(redis_proc *r) {
  int out[2];
  if (pipe(out) != 0) return -1;
  char port[16];
  snprintf(port, sizeof port, "%d", r->port);
  pid_t pid = fork();
  if (pid < 0) return -1;
  if (pid == 0) {
    dup2(out[1], 1);
    dup2(out[1], 2); /* nothing of it in the test's output, nor its pipe held open */
    close(out[0]);
    close(out[1]);
    execlp("redis-server", "redis-server", "--port", port, "--bind", "127.0.0.1", "--dir", r->dir, "--save",
           "", "--appendonly", r->aof ? "yes" : "no", "--daemonize", "no", "--logfile", "", (char *)NULL);
    _exit(127);
  }
  close(out[1]);
  r->pid = pid;
  char buf[8192];
  size_t have = 0;
  long long until = now_ms() + 10000;
  int ok = -1;
  while (now_ms() < until) {
    struct pollfd pfd = {out[0], POLLIN, 0};
    if (poll(&pfd, 1, 200) <= 0) continue;
    ssize_t n = read(out[0], buf + have, sizeof buf - 1 - have);
    if (n <= 0) break;
    have += (size_t)n;
    buf[have] = 0;
    if (strstr(buf, "Ready to accept connections")) {
      ok = 0;
      break;
    }
    if (have > sizeof buf / 2) { /* keep the tail: the line may straddle reads */
      memmove(buf, buf + have - 256, 256);
      have = 256;
    }
  }
  if (ok != 0) fprintf(stderr, "redis-server did not start: %s\n", buf);
  /* Its log goes on into a pipe nobody reads: hand it to /dev/null instead. */
  close(out[0]);
  return ok;
}

int redis_start(redis_proc *r, int aof) {
  memset(r, 0, sizeof *r);
  r->aof = aof;
  snprintf(r->dir, sizeof r->dir, "/tmp/ssews-redis-XXXXXX");
  if (!mkdtemp(r->dir)) return -1;
  r->port = peer_free_port();
  snprintf(r->url, sizeof r->url, "redis://127.0.0.1:%d", r->port);
  return launch(r);
}

void redis_stop(redis_proc *r, int sig) {
  if (r->pid <= 0) return;
  kill(r->pid, sig);
  waitpid(r->pid, NULL, 0);
  r->pid = 0;
}

int redis_restart(redis_proc *r) {
  return launch(r);
}

int redis_cmd(redis_proc *r, const char *fmt, ...) {
  redisContext *c = redisConnect("127.0.0.1", r->port);
  if (!c || c->err) {
    if (c) redisFree(c);
    return -1;
  }
  va_list ap;
  va_start(ap, fmt);
  redisReply *rep = redisvCommand(c, fmt, ap);
  va_end(ap);
  int rc = rep && rep->type != REDIS_REPLY_ERROR ? 0 : -1;
  if (rep) freeReplyObject(rep);
  redisFree(c);
  return rc;
}

void redis_free(redis_proc *r) {
  redis_stop(r, SIGKILL);
  char cmd[128];
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", r->dir);
  if (system(cmd) != 0) fprintf(stderr, "could not remove %s\n", r->dir);
}

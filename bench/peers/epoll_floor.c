/*
 * epoll_floor: the kernel floor of ssews' benchmark (bench/run).
 *
 * Not a conforming server and not a library: the least any WebSocket server can do for the
 * benchmark's scenarios on this machine, written straight on epoll and send(), so the table shows
 * how much of each figure is the kernel's and how much any server (ssews included) adds:
 *
 *   epoll_floor --port P [--host H] [--echo]
 *
 * --echo: every WebSocket message goes back to its sender. Otherwise a hub: a WebSocket client
 * joins the channel named by its `channel` query parameter, and each message is sent to every
 * member of its sender's channel (the sender too), one send() of one pre-built frame per member;
 * echoes and pongs for what one read() brought go back in one send().
 * What a socket does not take is kept (up to MAX_PENDING bytes, then the member is dropped) and
 * written on EPOLLOUT. No UTF-8 check, no fragmentation, no SSE, no TLS, no limits beyond those.
 *
 * Built by bench/run: cc -O2 epoll_floor.c -lcrypto
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/evp.h>
#include <openssl/sha.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#define MAX_FD 65536
#define IN_CAP 1024
#define MAX_PENDING (4u << 20)

struct chan;
struct conn {
	int fd, ws;
	struct chan *ch;
	size_t slot; /* index in ch->members */
	size_t n;    /* bytes in in[] */
	unsigned char in[IN_CAP];
	unsigned char *out; /* what the socket did not take */
	size_t out_len, out_cap;
};

struct chan {
	struct chan *next;
	char name[128];
	struct conn **members;
	size_t count, cap;
};

static struct conn *conns[MAX_FD];
static struct chan *chans;
static int ep, echo_mode;

static struct chan *chan_get(const char *name) {
	for (struct chan *c = chans; c; c = c->next)
		if (!strcmp(c->name, name))
			return c;
	struct chan *c = calloc(1, sizeof *c);
	snprintf(c->name, sizeof c->name, "%s", name);
	c->next = chans;
	chans = c;
	return c;
}

static void drop(struct conn *c) {
	if (c->ch) { /* swap-remove from the channel */
		struct chan *ch = c->ch;
		struct conn *last = ch->members[--ch->count];
		ch->members[c->slot] = last;
		last->slot = c->slot;
	}
	epoll_ctl(ep, EPOLL_CTL_DEL, c->fd, NULL);
	conns[c->fd] = NULL;
	close(c->fd);
	free(c->out);
	free(c);
}

static void watch_out(struct conn *c, int on) {
	struct epoll_event e = {.events = EPOLLIN | (on ? EPOLLOUT : 0), .data.fd = c->fd};
	epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &e);
}

/* Sends, or keeps what the socket does not take. Returns -1 when c was dropped. */
static int put(struct conn *c, const unsigned char *p, size_t len) {
	if (!c->out_len) {
		ssize_t w = send(c->fd, p, len, MSG_DONTWAIT | MSG_NOSIGNAL);
		if (w < 0 && errno != EAGAIN && errno != EWOULDBLOCK) {
			drop(c);
			return -1;
		}
		if (w < 0)
			w = 0;
		p += w;
		len -= (size_t)w;
		if (!len)
			return 0;
		watch_out(c, 1);
	}
	if (c->out_len + len > MAX_PENDING) {
		drop(c);
		return -1;
	}
	if (c->out_len + len > c->out_cap) {
		c->out_cap = (c->out_len + len) * 2;
		c->out = realloc(c->out, c->out_cap);
	}
	memcpy(c->out + c->out_len, p, len);
	c->out_len += len;
	return 0;
}

static void flush_out(struct conn *c) {
	ssize_t w = send(c->fd, c->out, c->out_len, MSG_DONTWAIT | MSG_NOSIGNAL);
	if (w < 0 && errno != EAGAIN && errno != EWOULDBLOCK) {
		drop(c);
		return;
	}
	if (w > 0) {
		memmove(c->out, c->out + w, c->out_len - (size_t)w);
		c->out_len -= (size_t)w;
	}
	if (!c->out_len)
		watch_out(c, 0);
}

/* The HTTP upgrade: returns bytes consumed (the 101 response is in resp, *rl bytes), 0 for
 * "need more", -1 to drop. */
static int handshake(struct conn *c, char *resp, size_t resp_cap, int *rl) {
	c->in[c->n < IN_CAP ? c->n : IN_CAP - 1] = 0;
	char *req = (char *)c->in, *end = strstr(req, "\r\n\r\n");
	if (!end)
		return c->n >= IN_CAP - 1 ? -1 : 0;
	char *k = strcasestr(req, "\r\nSec-WebSocket-Key:");
	if (!k)
		return -1;
	k += 20;
	while (*k == ' ')
		k++;
	char key[160];
	int kl = 0;
	while (k[kl] && k[kl] != '\r' && kl < 100) {
		key[kl] = k[kl];
		kl++;
	}
	memcpy(key + kl, "258EAFA5-E914-47DA-95CA-C5AB0DC85B11", 36);
	unsigned char sha[20], accept[32];
	SHA1((unsigned char *)key, (size_t)kl + 36, sha);
	EVP_EncodeBlock(accept, sha, 20);
	*rl = snprintf(resp, resp_cap,
			  "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
			  "Connection: Upgrade\r\nSec-WebSocket-Accept: %s\r\n\r\n",
			  accept);
	if (!echo_mode) {
		char name[128] = "";
		char *q = strstr(req, "channel="), *sp = strchr(req, ' ');
		sp = sp ? strchr(sp + 1, ' ') : NULL; /* end of the request target */
		if (q && sp && q < sp) {
			q += 8;
			size_t l = strcspn(q, "& ");
			if (l >= sizeof name)
				l = sizeof name - 1;
			memcpy(name, q, l);
			name[l] = 0;
		}
		struct chan *ch = chan_get(name);
		if (ch->count == ch->cap) {
			ch->cap = ch->cap ? ch->cap * 2 : 64;
			ch->members = realloc(ch->members, ch->cap * sizeof *ch->members);
		}
		c->ch = ch;
		c->slot = ch->count;
		ch->members[ch->count++] = c;
	}
	c->ws = 1;
	return (int)(end + 4 - req);
}

static void on_readable(struct conn *c) {
	ssize_t r = recv(c->fd, c->in + c->n, IN_CAP - 1 - c->n, 0);
	if (r <= 0) {
		if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return;
		drop(c);
		return;
	}
	c->n += (size_t)r;
	size_t at = 0, rl = 0;
	unsigned char reply[2 * IN_CAP]; /* echoes and pongs of this read, sent at once */
	if (!c->ws) {
		char resp[256];
		int resp_len = 0, used = handshake(c, resp, sizeof resp, &resp_len);
		if (used < 0) {
			drop(c);
			return;
		}
		if (!used)
			return;
		if (put(c, (unsigned char *)resp, (size_t)resp_len) < 0)
			return; /* dropped */
		at = (size_t)used;
	}
	for (;;) { /* client frames: masked, unfragmented */
		unsigned char *p = c->in + at;
		size_t avail = c->n - at, len, hl = 2;
		if (avail < 2)
			break;
		len = p[1] & 127;
		if (len == 126) {
			if (avail < 4)
				break;
			len = (size_t)p[2] << 8 | p[3];
			hl = 4;
		} else if (len == 127 || !(p[1] & 0x80)) {
			drop(c); /* too big for this floor, or unmasked */
			return;
		}
		if (hl + 4 + len > IN_CAP - 1) {
			drop(c);
			return;
		}
		if (avail < hl + 4 + len)
			break;
		unsigned char *mask = p + hl, *d = p + hl + 4;
		for (size_t j = 0; j < len; j++)
			d[j] ^= mask[j & 3];
		int op = p[0] & 15;
		/* A frame back to the sender is built in place in reply; a broadcast one in frame. */
		unsigned char frame[IN_CAP + 4];
		int to_sender = op == 8 || op == 9 || echo_mode;
		unsigned char *f = to_sender ? reply + rl : frame;
		size_t fl = 0;
		f[fl++] = (unsigned char)(0x80 | (op == 9 ? 10 : op));
		if (len < 126) {
			f[fl++] = (unsigned char)len;
		} else {
			f[fl++] = 126;
			f[fl++] = (unsigned char)(len >> 8);
			f[fl++] = (unsigned char)len;
		}
		memcpy(f + fl, d, len);
		fl += len;
		at += hl + 4 + len;
		if (op == 8) { /* close: echo it and hang up */
			if (put(c, reply, rl + fl) == 0)
				drop(c);
			return;
		}
		if (to_sender) {
			rl += fl;
		} else if (op == 1 || op == 2) {
			struct chan *ch = c->ch;
			int self_gone = 0;
			for (size_t i = 0; i < ch->count;) {
				struct conn *m = ch->members[i];
				int self = m == c;
				if (put(m, frame, fl) < 0) { /* dropped: the last member took slot i */
					self_gone |= self;
					continue;
				}
				i++;
			}
			if (self_gone)
				return;
		}
	}
	memmove(c->in, c->in + at, c->n - at);
	c->n -= at;
	if (rl)
		put(c, reply, rl);
}

static volatile sig_atomic_t stop;
static void on_signal(int sig) {
	(void)sig;
	stop = 1;
}

int main(int argc, char **argv) {
	const char *host = "127.0.0.1";
	int port = 8080;
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--port") && i + 1 < argc)
			port = atoi(argv[++i]);
		else if (!strcmp(argv[i], "--host") && i + 1 < argc)
			host = argv[++i];
		else if (!strcmp(argv[i], "--echo"))
			echo_mode = 1;
		else {
			fprintf(stderr, "usage: epoll_floor --port P [--host H] [--echo]\n");
			return 2;
		}
	}
	signal(SIGPIPE, SIG_IGN);
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	int ls = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0), one = 1;
	setsockopt(ls, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
	if (inet_pton(AF_INET, host, &a.sin_addr) != 1 || bind(ls, (struct sockaddr *)&a, sizeof a) ||
	    listen(ls, 4096)) {
		perror("epoll_floor: listen");
		return 1;
	}
	ep = epoll_create1(0);
	struct epoll_event ev = {.events = EPOLLIN, .data.fd = ls};
	epoll_ctl(ep, EPOLL_CTL_ADD, ls, &ev);
	printf("epoll_floor serving on http://%s:%d/\n", host, port);
	fflush(stdout);
	struct epoll_event evs[512];
	while (!stop) {
		int n = epoll_wait(ep, evs, 512, 1000);
		for (int i = 0; i < n; i++) {
			int fd = evs[i].data.fd;
			if (fd == ls) {
				int s;
				while ((s = accept4(ls, NULL, NULL, SOCK_NONBLOCK)) >= 0) {
					if (s >= MAX_FD) {
						close(s);
						continue;
					}
					setsockopt(s, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
					struct conn *c = calloc(1, sizeof *c);
					c->fd = s;
					conns[s] = c;
					struct epoll_event e = {.events = EPOLLIN, .data.fd = s};
					epoll_ctl(ep, EPOLL_CTL_ADD, s, &e);
				}
				continue;
			}
			if (conns[fd] && (evs[i].events & EPOLLOUT))
				flush_out(conns[fd]);
			if (conns[fd] && (evs[i].events & (EPOLLIN | EPOLLHUP | EPOLLERR)))
				on_readable(conns[fd]);
		}
	}
	return 0;
}

/*
 * lws_floor: the raw libwebsockets floor of ssews' benchmark (bench/run).
 *
 * The least a server on the same libwebsockets 4.1.6 must do for the benchmark's scenarios, with
 * none of ssews' layers (no event queue, no service thread hand-off, no history, no options):
 *
 *   lws_floor --port P [--host H] [--echo]
 *
 * --echo: every WebSocket message goes back to its sender. Otherwise a hub with chat-room
 * semantics, like `ssews serve`: a WebSocket or SSE client (GET with Accept: text/event-stream)
 * joins the channel named by its `channel` query parameter; a WebSocket message is broadcast to
 * every member of its sender's channel (the sender too). Each channel keeps its last RING
 * messages in a ring that every member reads from at its own pace, so a payload is stored once;
 * a member more than RING messages behind skips the oldest (ssews' drop_oldest policy). SSE
 * writes coalesce pending messages, as ssews' do.
 * UTF-8 validation is on, compression off, as in ssews. Exits cleanly on SIGINT/SIGTERM.
 *
 * Built by bench/run: cc -O2 lws_floor.c $(pkg-config --cflags --libs libwebsockets)
 */
#include <libwebsockets.h>
#include <signal.h>
#include <sys/socket.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define RING 1024u
#define MAX_BATCH 64 /* writes per writeable callback */

struct msg {
	unsigned char *ws;  /* LWS_PRE + payload */
	size_t ws_len;
	unsigned char *sse; /* LWS_PRE + "data: ...\n\n", made when the channel has SSE members */
	size_t sse_len;
	int binary;
};

struct chan {
	struct chan *next;
	char name[128];
	struct pss *members;
	unsigned nsse;
	unsigned head; /* sequence number of the next message */
	struct msg ring[RING];
};

struct emsg { /* echo queue entry */
	struct emsg *next;
	size_t len;
	int binary;
	unsigned char data[]; /* LWS_PRE + len */
};

struct pss {
	struct lws *wsi;
	struct pss *prev, *next; /* channel membership */
	struct chan *ch;
	unsigned tail;
	int sse, joined;
	struct emsg *eq_head, *eq_tail;
	unsigned char *rx;
	size_t rx_len, rx_cap;
};

static int echo_mode;
static volatile sig_atomic_t interrupted;
static struct lws_context *context;
static struct chan *chans;

static struct chan *chan_get(const char *name) {
	struct chan *c;
	for (c = chans; c; c = c->next)
		if (!strcmp(c->name, name)) return c;
	c = calloc(1, sizeof *c);
	if (!c) return NULL;
	snprintf(c->name, sizeof c->name, "%s", name);
	c->next = chans;
	chans = c;
	return c;
}

static void join(struct pss *p, struct lws *wsi, int sse) {
	char buf[128];
	const char *name = lws_get_urlarg_by_name(wsi, "channel=", buf, sizeof buf);
	p->wsi = wsi;
	p->sse = sse;
	p->ch = chan_get(name ? name : "");
	if (!p->ch) return;
	p->tail = p->ch->head;
	p->prev = NULL;
	p->next = p->ch->members;
	if (p->next) p->next->prev = p;
	p->ch->members = p;
	if (sse) p->ch->nsse++;
	p->joined = 1;
}

static void leave(struct pss *p) {
	if (!p->joined) return;
	if (p->prev) p->prev->next = p->next;
	else p->ch->members = p->next;
	if (p->next) p->next->prev = p->prev;
	if (p->sse) p->ch->nsse--;
	p->joined = 0;
}

static void publish(struct chan *c, const unsigned char *data, size_t len, int binary) {
	struct msg *m = &c->ring[c->head % RING];
	struct pss *p;
	free(m->ws);
	free(m->sse);
	memset(m, 0, sizeof *m);
	m->ws = malloc(LWS_PRE + len + 1);
	if (!m->ws) return;
	memcpy(m->ws + LWS_PRE, data, len);
	m->ws_len = len;
	m->binary = binary;
	if (c->nsse && !binary) { /* one "data:" line per line of the payload */
		size_t i, n = 0, lines = 1;
		for (i = 0; i < len; i++) lines += data[i] == '\n';
		m->sse = malloc(LWS_PRE + len + lines * 7 + 2);
		if (m->sse) {
			unsigned char *o = m->sse + LWS_PRE;
			memcpy(o + n, "data: ", 6), n += 6;
			for (i = 0; i < len; i++) {
				if (data[i] == '\r') continue;
				o[n++] = data[i];
				if (data[i] == '\n') memcpy(o + n, "data: ", 6), n += 6;
			}
			o[n++] = '\n';
			o[n++] = '\n';
			m->sse_len = n;
		}
	}
	c->head++;
	for (p = c->members; p; p = p->next) {
		if (p->sse) lws_rx_flow_control(p->wsi, 1); /* see sse_reads_off */
		lws_callback_on_writable(p->wsi);
	}
}

/* lws 4.1 keeps POLLIN armed on an h1 response in progress but never reads it, so an SSE client
 * that hangs up would spin the loop; and it skips POLLOUT on a wsi whose reads are flow-controlled
 * off. So reads are off while a stream is idle, on while it has something to write, and a timer
 * peeks at idle streams once a second for hang-ups (ssews does the same). */
static void sse_reads_off(struct pss *p) { lws_rx_flow_control(p->wsi, 0); }

static lws_sorted_usec_list_t reaper;

static void reap(lws_sorted_usec_list_t *sul) {
	struct chan *c;
	struct pss *p;
	char b;
	for (c = chans; c; c = c->next)
		for (p = c->members; p; p = p->next)
			if (p->sse && recv(lws_get_socket_fd(p->wsi), &b, 1, MSG_PEEK | MSG_DONTWAIT) == 0)
				lws_set_timeout(p->wsi, PENDING_TIMEOUT_USER_OK, LWS_TO_KILL_ASYNC);
	lws_sul_schedule(context, 0, sul, reap, LWS_US_PER_SEC);
}

/* SSE: consecutive messages are coalesced into one write of up to SSE_CHUNK bytes (ssews does
 * the same), one system call per wake-up. */
#define SSE_CHUNK 65536
static unsigned char sse_buf[LWS_PRE + SSE_CHUNK];

static int drain_sse(struct pss *p) {
	struct chan *c = p->ch;
	size_t n = 0;
	if (c->head - p->tail > RING) p->tail = c->head - RING; /* drop oldest */
	while (p->tail != c->head) {
		struct msg *m = &c->ring[p->tail % RING];
		if (m->sse && n + m->sse_len > SSE_CHUNK) {
			if (n) break;
			if (lws_write(p->wsi, m->sse + LWS_PRE, m->sse_len, LWS_WRITE_HTTP) < 0) return -1;
			p->tail++;
			break;
		}
		if (m->sse) memcpy(sse_buf + LWS_PRE + n, m->sse + LWS_PRE, m->sse_len), n += m->sse_len;
		p->tail++;
	}
	if (n && lws_write(p->wsi, sse_buf + LWS_PRE, n, LWS_WRITE_HTTP) < 0) return -1;
	if (p->tail != c->head) lws_callback_on_writable(p->wsi);
	else sse_reads_off(p);
	return 0;
}

/* Writes what the member has not had yet, until the pipe chokes. */
static int drain_channel(struct pss *p) {
	struct chan *c = p->ch;
	int n = 0;
	if (p->sse) return drain_sse(p);
	if (c->head - p->tail > RING) p->tail = c->head - RING; /* drop oldest */
	while (p->tail != c->head && n < MAX_BATCH) {
		struct msg *m = &c->ring[p->tail % RING];
		if (lws_write(p->wsi, m->ws + LWS_PRE, m->ws_len, m->binary ? LWS_WRITE_BINARY : LWS_WRITE_TEXT) < 0)
			return -1;
		p->tail++;
		n++;
		if (lws_send_pipe_choked(p->wsi)) break;
	}
	if (p->tail != c->head) lws_callback_on_writable(p->wsi);
	return 0;
}

static int drain_echo(struct pss *p) {
	int n = 0;
	while (p->eq_head && n < MAX_BATCH) {
		struct emsg *e = p->eq_head;
		if (lws_write(p->wsi, e->data + LWS_PRE, e->len, e->binary ? LWS_WRITE_BINARY : LWS_WRITE_TEXT) < 0)
			return -1;
		p->eq_head = e->next;
		if (!p->eq_head) p->eq_tail = NULL;
		free(e);
		n++;
		if (lws_send_pipe_choked(p->wsi)) break;
	}
	if (p->eq_head) lws_callback_on_writable(p->wsi);
	return 0;
}

static void on_message(struct pss *p, const unsigned char *data, size_t len, int binary) {
	if (echo_mode) {
		struct emsg *e = malloc(sizeof *e + LWS_PRE + len);
		if (!e) return;
		e->next = NULL;
		e->len = len;
		e->binary = binary;
		memcpy(e->data + LWS_PRE, data, len);
		if (p->eq_tail) p->eq_tail->next = e;
		else p->eq_head = e;
		p->eq_tail = e;
		lws_callback_on_writable(p->wsi);
	} else if (p->joined) {
		publish(p->ch, data, len, binary);
	}
}

static int accepts_sse(struct lws *wsi) {
	char a[256];
	if (lws_hdr_copy(wsi, a, sizeof a, WSI_TOKEN_HTTP_ACCEPT) <= 0) return 0;
	return strstr(a, "text/event-stream") != NULL;
}

static int callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in, size_t len) {
	struct pss *p = user;
	switch (reason) {
	case LWS_CALLBACK_HTTP: {
		unsigned char buf[LWS_PRE + 512], *start = buf + LWS_PRE, *o = start, *end = buf + sizeof buf - 1;
		static const char hello[] = ": ok\n\n";
		unsigned char hb[LWS_PRE + sizeof hello];
		if (echo_mode || !accepts_sse(wsi)) {
			if (lws_return_http_status(wsi, HTTP_STATUS_NOT_FOUND, NULL)) return -1;
			return lws_http_transaction_completed(wsi) ? -1 : 0;
		}
		join(p, wsi, 1);
		if (lws_add_http_common_headers(wsi, HTTP_STATUS_OK, "text/event-stream", LWS_ILLEGAL_HTTP_CONTENT_LEN,
		                                &o, end) ||
		    lws_add_http_header_by_name(wsi, (const unsigned char *)"cache-control:",
		                                (const unsigned char *)"no-cache", 8, &o, end) ||
		    lws_finalize_write_http_header(wsi, start, &o, end))
			return -1;
		lws_set_timeout(wsi, NO_PENDING_TIMEOUT, 0);
		sse_reads_off(p);
		/* The stream needs no request headers any more: give the header table back to the pool,
		 * or every open stream would hold one and the pool would run dry. */
		lws_http_headers_detach(wsi);
		memcpy(hb + LWS_PRE, hello, sizeof hello - 1);
		if (lws_write(wsi, hb + LWS_PRE, sizeof hello - 1, LWS_WRITE_HTTP) < 0) return -1;
		return 0;
	}
	case LWS_CALLBACK_HTTP_WRITEABLE:
		if (p && p->sse && p->joined) return drain_channel(p);
		return 0;
	case LWS_CALLBACK_CLOSED_HTTP:
		if (p && p->sse) leave(p);
		return 0;
	case LWS_CALLBACK_ESTABLISHED:
		memset(p, 0, sizeof *p);
		p->wsi = wsi;
		if (!echo_mode) join(p, wsi, 0);
		return 0;
	case LWS_CALLBACK_RECEIVE: {
		int first = lws_is_first_fragment(wsi), final = lws_is_final_fragment(wsi);
		int binary = lws_frame_is_binary(wsi);
		if (first && final) {
			on_message(p, in, len, binary);
			return 0;
		}
		if (first) p->rx_len = 0;
		if (p->rx_len + len > p->rx_cap) {
			size_t cap = (p->rx_len + len) * 2;
			unsigned char *n = realloc(p->rx, cap);
			if (!n) return -1;
			p->rx = n;
			p->rx_cap = cap;
		}
		memcpy(p->rx + p->rx_len, in, len);
		p->rx_len += len;
		if (final) on_message(p, p->rx, p->rx_len, binary);
		return 0;
	}
	case LWS_CALLBACK_SERVER_WRITEABLE:
		if (echo_mode) return drain_echo(p);
		if (p->joined) return drain_channel(p);
		return 0;
	case LWS_CALLBACK_CLOSED:
		leave(p);
		while (p->eq_head) {
			struct emsg *e = p->eq_head;
			p->eq_head = e->next;
			free(e);
		}
		p->eq_tail = NULL;
		free(p->rx);
		p->rx = NULL;
		return 0;
	default:
		break;
	}
	return lws_callback_http_dummy(wsi, reason, user, in, len);
}

static const struct lws_protocols protocols[] = {
	{"floor", callback, sizeof(struct pss), 4096, 0, NULL, 0},
	{NULL, NULL, 0, 0, 0, NULL, 0},
};

static void on_signal(int sig) {
	(void)sig;
	interrupted = 1;
	if (context) lws_cancel_service(context);
}

int main(int argc, char **argv) {
	struct lws_context_creation_info info;
	const char *host = "127.0.0.1";
	int port = 8080, i, n = 0;
	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--echo")) echo_mode = 1;
		else if (!strcmp(argv[i], "--port") && i + 1 < argc) port = atoi(argv[++i]);
		else if (!strcmp(argv[i], "--host") && i + 1 < argc) host = argv[++i];
		else {
			fprintf(stderr, "usage: lws_floor --port P [--host H] [--echo]\n");
			return 2;
		}
	}
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	signal(SIGPIPE, SIG_IGN);
	lws_set_log_level(LLL_ERR, NULL);
	memset(&info, 0, sizeof info);
	info.port = port;
	info.iface = host;
	info.protocols = protocols;
	info.options = LWS_SERVER_OPTION_VALIDATE_UTF8 | LWS_SERVER_OPTION_DISABLE_IPV6;
	info.max_http_header_pool = 64; /* as ssews */
	context = lws_create_context(&info);
	if (!context) {
		fprintf(stderr, "lws_floor: cannot start on %s:%d\n", host, port);
		return 1;
	}
	lws_sul_schedule(context, 0, &reaper, reap, LWS_US_PER_SEC);
	printf("lws_floor serving on http://%s:%d/ (%s)\n", host, port, echo_mode ? "echo" : "hub");
	fflush(stdout);
	while (n >= 0 && !interrupted) n = lws_service(context, 0);
	lws_sul_cancel(&reaper);
	lws_context_destroy(context);
	for (struct chan *c = chans, *nx; c; c = nx) {
		nx = c->next;
		for (unsigned k = 0; k < RING; k++) free(c->ring[k].ws), free(c->ring[k].sse);
		free(c);
	}
	return 0;
}

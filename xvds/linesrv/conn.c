/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * linesrv/conn.c — a line connection of the daemons' sockets
 * (linesrv/linesrv.h): the framing, the back-pressure and the close once
 * the last reply is out.  What a line means is the user's.
 *
 * A user's callback may free the connection or answer at once; while the
 * lines are being handed out, both wait for the loop to end.
 */
#include <config.h>

#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/event.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <sodium.h>

#include "linesrv/linesrv.h"

struct linesrv_conn {
	struct bufferevent *bev;
	const struct linesrv_conn_conf *conf;
	const struct linesrv_conn_ops *ops;
	void	*arg;
	int	 held;		/* one_request: a line is being answered */
	int	 throttled;	/* out_max: waiting for the output to drain */
	int	 closing;	/* the last reply is queued */
	int	 in_loop;	/* handing out lines */
	int	 again;		/* resumed meanwhile: look again */
	int	 dead;		/* freed meanwhile: free at the loop's end */
};

static void	process(struct linesrv_conn *);

static void
drain_input(struct linesrv_conn *c)
{
	struct evbuffer *in = bufferevent_get_input(c->bev);

	evbuffer_drain(in, evbuffer_get_length(in));
}

static int
may_read(const struct linesrv_conn *c)
{
	return !c->closing && !c->held && !c->throttled && !c->dead;
}

/* 1 if the next line is complete (*len set), 0 if not yet, -1 too long. */
static int
next_line(struct linesrv_conn *c, size_t *len)
{
	struct evbuffer *in = bufferevent_get_input(c->bev);
	struct evbuffer_ptr eol;

	eol = evbuffer_search_eol(in, NULL, NULL, EVBUFFER_EOL_LF);
	if (eol.pos == -1)
		return evbuffer_get_length(in) > c->conf->line_max ? -1 : 0;
	if ((size_t)eol.pos > c->conf->line_max && !c->conf->long_lines)
		return -1;
	*len = (size_t)eol.pos;
	return 1;
}

/* Hands one line to the user; 0, or -1 to stop. */
static int
hand_out(struct linesrv_conn *c, size_t len)
{
	struct evbuffer *in = bufferevent_get_input(c->bev);
	struct evbuffer *out = bufferevent_get_output(c->bev);
	char	*line;

	if ((line = (char *)evbuffer_pullup(in, (ssize_t)len + 1)) == NULL)
		return -1;
	if (c->conf->one_request) {
		c->held = 1;
		bufferevent_disable(c->bev, EV_READ);
	}
	c->ops->on_line(c->arg, line, len);
	if (c->conf->wipe)
		sodium_memzero(line, len);
	evbuffer_drain(in, len + 1);
	if (c->conf->out_max > 0 && !c->closing &&
	    evbuffer_get_length(out) > c->conf->out_max) {
		c->throttled = 1;
		bufferevent_disable(c->bev, EV_READ);
		if (c->ops->on_throttled != NULL)
			c->ops->on_throttled(c->arg);
	}
	return 0;
}

static void
process_lines(struct linesrv_conn *c)
{
	size_t	 len = 0;
	int	 rc;

	do {
		c->again = 0;
		while (may_read(c)) {
			if ((rc = next_line(c, &len)) == 0)
				break;
			if (rc == -1) {
				bufferevent_disable(c->bev, EV_READ);
				c->ops->on_too_long(c->arg);
				break;
			}
			if (hand_out(c, len) == -1)
				break;
		}
	} while (c->again && may_read(c));
}

static void
process(struct linesrv_conn *c)
{
	if (c->in_loop) {
		c->again = 1;
		return;
	}
	c->in_loop = 1;
	process_lines(c);
	c->in_loop = 0;
	if (c->dead)
		linesrv_conn_free(c);
	else if (c->closing)
		drain_input(c);
}

static void
read_cb(struct bufferevent *bev, void *arg)
{
	(void)bev;
	process(arg);
}

/* The output was written out. */
static void
write_cb(struct bufferevent *bev, void *arg)
{
	struct linesrv_conn *c = arg;

	(void)bev;
	if (c->closing) {
		c->ops->on_close(c->arg, 0);
		return;
	}
	if (c->throttled) {
		c->throttled = 0;
		if (!c->held)
			bufferevent_enable(c->bev, EV_READ);
		process(c);
	}
}

static void
event_cb(struct bufferevent *bev, short what, void *arg)
{
	struct linesrv_conn *c = arg;

	(void)bev;
	if (what & BEV_EVENT_CONNECTED)
		return;		/* a TLS handshake done */
	c->ops->on_close(c->arg, what);
}

struct linesrv_conn *
linesrv_conn_new(struct event_base *base, int fd, SSL *ssl,
    const struct linesrv_conn_conf *conf, const struct linesrv_conn_ops *ops,
    void *arg)
{
	struct linesrv_conn *c;

	if ((c = calloc(1, sizeof(*c))) == NULL) {
		SSL_free(ssl);
		evutil_closesocket(fd);
		return NULL;
	}
	c->bev = ssl != NULL ? bufferevent_openssl_socket_new(base, fd, ssl,
	    BUFFEREVENT_SSL_ACCEPTING, BEV_OPT_CLOSE_ON_FREE) :
	    bufferevent_socket_new(base, fd, BEV_OPT_CLOSE_ON_FREE);
	if (c->bev == NULL) {
		SSL_free(ssl);
		evutil_closesocket(fd);
		free(c);
		return NULL;
	}
	if (ssl != NULL)
		bufferevent_openssl_set_allow_dirty_shutdown(c->bev, 1);
	c->conf = conf;
	c->ops = ops;
	c->arg = arg;
	bufferevent_setcb(c->bev, read_cb, write_cb, event_cb, c);
	/* Never hold more than one line (and its newline) in memory. */
	if (conf->hold_one_line)
		bufferevent_setwatermark(c->bev, EV_READ, 0, conf->line_max + 1);
	bufferevent_enable(c->bev, EV_READ | EV_WRITE);
	return c;
}

void
linesrv_conn_free(struct linesrv_conn *c)
{
	if (c == NULL)
		return;
	if (c->in_loop) {
		c->dead = 1;
		bufferevent_disable(c->bev, EV_READ | EV_WRITE);
		return;
	}
	bufferevent_free(c->bev);
	free(c);
}

int
linesrv_conn_send(struct linesrv_conn *c, const char *buf, size_t len)
{
	return bufferevent_write(c->bev, buf, len);
}

int
linesrv_conn_send_line(struct linesrv_conn *c, const char *line)
{
	struct evbuffer *out = bufferevent_get_output(c->bev);

	if (evbuffer_add(out, line, strlen(line)) == -1)
		return -1;
	return evbuffer_add(out, "\n", 1);
}

void
linesrv_conn_resume(struct linesrv_conn *c)
{
	c->held = 0;
	if (c->closing || c->dead)
		return;
	if (!c->throttled)
		bufferevent_enable(c->bev, EV_READ);
	/* The client may have sent its next request already. */
	process(c);
}

void
linesrv_conn_finish(struct linesrv_conn *c, int linger_s)
{
	struct timeval tv = { linger_s, 0 };

	c->closing = 1;
	bufferevent_disable(c->bev, EV_READ);
	if (!c->in_loop)
		drain_input(c);
	if (linger_s > 0)
		bufferevent_set_timeouts(c->bev, NULL, &tv);
}

void
linesrv_conn_timeouts(struct linesrv_conn *c, int read_s, int write_s)
{
	struct timeval rtv = { read_s, 0 }, wtv = { write_s, 0 };

	bufferevent_set_timeouts(c->bev, read_s > 0 ? &rtv : NULL,
	    write_s > 0 ? &wtv : NULL);
}

const char *
linesrv_conn_tls_error(struct linesrv_conn *c)
{
	unsigned long e = bufferevent_get_openssl_error(c->bev);

	return e != 0 ? ERR_reason_error_string(e) : NULL;
}

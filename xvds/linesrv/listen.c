/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * linesrv/listen.c — the accepting side of the controller's admin socket
 * and broker (linesrv/linesrv.h): a libevent listener that pauses after an
 * accept error, mostly out of descriptors, rather than spin
 * (linesrv/conn_limit.h).
 */
#include <config.h>

#include <sys/socket.h>

#include <errno.h>
#include <stdlib.h>
#include <unistd.h>

#include <event2/event.h>
#include <event2/listener.h>

#include "linesrv/conn_limit.h"
#include "linesrv/linesrv.h"

struct linesrv_listener {
	struct evconnlistener *listener;
	struct listen_pause *pause;
	linesrv_accept_fn on_accept;
	void	*arg;
};

static void
accepted(struct evconnlistener *l, evutil_socket_t fd, struct sockaddr *sa,
    int salen, void *arg)
{
	struct linesrv_listener *srv = arg;

	(void)l;
	listen_pause_ok(srv->pause);
	srv->on_accept(fd, sa, salen, srv->arg);
}

static void
accept_error(struct evconnlistener *l, void *arg)
{
	struct linesrv_listener *srv = arg;

	(void)l;
	listen_pause_hit(srv->pause, EVUTIL_SOCKET_ERROR());
}

static struct linesrv_listener *
listener_new(linesrv_accept_fn on_accept, void *arg)
{
	struct linesrv_listener *srv;

	if ((srv = calloc(1, sizeof(*srv))) == NULL)
		return NULL;
	srv->on_accept = on_accept;
	srv->arg = arg;
	return srv;
}

/* Its listener made (or NULL: failed): the pause next.  NULL, errno set. */
static struct linesrv_listener *
listener_done(struct linesrv_listener *srv, struct event_base *base,
    const char *who, unsigned pause_ms)
{
	int	 saved = errno;

	if (srv->listener == NULL) {
		free(srv);
		errno = saved;
		return NULL;
	}
	if ((srv->pause = listen_pause_new(base, srv->listener, who,
	    pause_ms)) == NULL) {
		evconnlistener_free(srv->listener);
		free(srv);
		errno = ENOMEM;
		return NULL;
	}
	evconnlistener_set_error_cb(srv->listener, accept_error);
	return srv;
}

struct linesrv_listener *
linesrv_listen_fd(struct event_base *base, int fd, int backlog,
    const char *who, unsigned pause_ms, linesrv_accept_fn on_accept,
    void *arg)
{
	struct linesrv_listener *srv;

	if ((srv = listener_new(on_accept, arg)) == NULL) {
		close(fd);
		return NULL;
	}
	srv->listener = evconnlistener_new(base, accepted, srv,
	    LEV_OPT_CLOSE_ON_FREE | LEV_OPT_CLOSE_ON_EXEC, backlog, fd);
	if (srv->listener == NULL)
		close(fd);
	return listener_done(srv, base, who, pause_ms);
}

struct linesrv_listener *
linesrv_listen_tcp(struct event_base *base, const struct sockaddr *sa,
    int salen, int backlog, const char *who, unsigned pause_ms,
    linesrv_accept_fn on_accept, void *arg)
{
	struct linesrv_listener *srv;

	if ((srv = listener_new(on_accept, arg)) == NULL)
		return NULL;
	srv->listener = evconnlistener_new_bind(base, accepted, srv,
	    LEV_OPT_CLOSE_ON_FREE | LEV_OPT_CLOSE_ON_EXEC | LEV_OPT_REUSEABLE,
	    backlog, sa, salen);
	return listener_done(srv, base, who, pause_ms);
}

int
linesrv_listener_fd(const struct linesrv_listener *srv)
{
	return evconnlistener_get_fd(srv->listener);
}

void
linesrv_listener_free(struct linesrv_listener *srv)
{
	if (srv == NULL)
		return;
	evconnlistener_free(srv->listener);
	listen_pause_free(srv->pause);
	free(srv);
}

/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * linesrv/linesrv.h — the plumbing the daemons' line sockets share:
 * xvdsd's control socket (xvds-control(7)), the controller's admin socket
 * (xvds-admin(7)) and its broker (xvds-broker(7)).  Each keeps its own
 * protocol; this module reads lines and writes replies.
 *
 * A listener (linesrv/listen.c), unix or TCP, that pauses after accept
 * errors rather than spin.
 *
 * A unix socket (linesrv/unix.c): the socket's private directory, a stale
 * socket removed but a live one never taken over, mode 0600, only root or
 * the daemon's own user let in, and at the end only our own socket
 * unlinked.
 *
 * A line connection (linesrv/conn.c): a socket, TLS or not, read one line
 * at a time up to a maximum length, the server's replies queued behind it.
 * Reading stops while the user holds a request (one_request) or while the
 * replies not yet taken pile up (out_max), and a closing connection is
 * freed once its last reply is written.
 */
#ifndef XVDS_LINESRV_LINESRV_H
#define XVDS_LINESRV_LINESRV_H

#include <sys/types.h>
#include <sys/un.h>

#include <stddef.h>

struct event_base;
struct bufferevent;
typedef struct ssl_st SSL;

/* A unix listening socket and what identifies it on disk. */
struct linesrv_unix {
	char	 path[sizeof(((struct sockaddr_un *)0)->sun_path)];
	dev_t	 dev;
	ino_t	 ino;
	int	 fd;		/* -1: none */
};

/*
 * Listens on path for who ("control", "admin": the logs' prefix); rival
 * names a live listener found there ("daemon": "another daemon is
 * listening on ...").  The socket is non-blocking and close-on-exec, not
 * yet listen()ed on when backlog is 0 (an evconnlistener will).  0 or -1,
 * logged.
 */
int	linesrv_unix_listen(struct linesrv_unix *, const char *who,
	    const char *rival, const char *path, int backlog);
/* Unlinks the socket if it is still ours, not a successor's. */
void	linesrv_unix_unlink(const struct linesrv_unix *, const char *who);

/*
 * Root and the daemon's own user only.  Otherwise refusal (a line, its
 * newline included, or NULL) is written to the fresh socket, best effort,
 * and 0 returned.  pid and uid are set when the credentials are read.
 */
int	linesrv_peer_allowed(int fd, const char *who, const char *refused_as,
	    const char *refusal, long *pid, long *uid);

/*
 * A listener (linesrv/listen.c) that hands each accepted socket, made
 * non-blocking and close-on-exec, to on_accept, and pauses pause_ms after
 * an accept error (linesrv/conn_limit.h's listen_pause, logged as who).
 */
struct sockaddr;
struct linesrv_listener;
typedef void (*linesrv_accept_fn)(int fd, struct sockaddr *, int salen,
	    void *arg);

/* On fd, taken (closed on failure), listened on with backlog (-1: it is
 * already).  NULL, errno set. */
struct linesrv_listener *linesrv_listen_fd(struct event_base *, int fd,
	    int backlog, const char *who, unsigned pause_ms, linesrv_accept_fn,
	    void *arg);
/* Bound to sa, the address reusable at once.  NULL, errno set. */
struct linesrv_listener *linesrv_listen_tcp(struct event_base *,
	    const struct sockaddr *, int salen, int backlog, const char *who,
	    unsigned pause_ms, linesrv_accept_fn, void *arg);
int	linesrv_listener_fd(const struct linesrv_listener *);
void	linesrv_listener_free(struct linesrv_listener *);

struct linesrv_conn;

struct linesrv_conn_ops {
	/*
	 * One line, without its newline; len is at most line_max unless
	 * long_lines.  The bytes are wiped after the call when wipe is set.
	 */
	void	(*on_line)(void *arg, const char *line, size_t len);
	/* No newline within line_max bytes: nothing more is read. */
	void	(*on_too_long)(void *arg);
	/*
	 * The peer left, an error or a timeout (what: BEV_EVENT_*), or a
	 * closing connection's last reply written (what 0).  The user frees
	 * the connection.
	 */
	void	(*on_close)(void *arg, short what);
	/* Optional: reading stops until the replies above out_max are taken. */
	void	(*on_throttled)(void *arg);
};

struct linesrv_conn_conf {
	size_t	 line_max;	/* a line's bytes, without its newline */
	size_t	 out_max;	/* reading stops above this output; 0: never */
	int	 one_request;	/* reading stops at each line, until resumed */
	int	 hold_one_line;	/* never buffer more than line_max + 1 */
	int	 long_lines;	/* a whole line longer than line_max is a line */
	int	 wipe;		/* lines may hold passwords */
};

/*
 * A connection on fd; a TLS server's if ssl (then taken).  The conf and
 * ops must outlive it.  NULL (fd closed, ssl freed) out of memory.
 */
struct linesrv_conn *linesrv_conn_new(struct event_base *, int fd, SSL *ssl,
	    const struct linesrv_conn_conf *, const struct linesrv_conn_ops *,
	    void *arg);
void	linesrv_conn_free(struct linesrv_conn *);
/* Queues bytes as they are; a line and its newline.  0 or -1. */
int	linesrv_conn_send(struct linesrv_conn *, const char *buf, size_t len);
int	linesrv_conn_send_line(struct linesrv_conn *, const char *line);
/* one_request: the request is answered, the next line may be read. */
void	linesrv_conn_resume(struct linesrv_conn *);
/*
 * Nothing more is read; on_close(arg, 0) once the output is written, or
 * on a timeout after linger_s seconds (0: the write timeout as it is).
 */
void	linesrv_conn_finish(struct linesrv_conn *, int linger_s);
/* Seconds without progress reading or writing; 0: no limit. */
void	linesrv_conn_timeouts(struct linesrv_conn *, int read_s, int write_s);
/* The reason of the last TLS error, or NULL. */
const char *linesrv_conn_tls_error(struct linesrv_conn *);

#endif

/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * controller/admin.c — the admin socket of the controller (controller/admin.h,
 * xvds-admin(7)): the unix listener, its connections, the framing and the
 * request's envelope (v, id, cmd).  The commands themselves, their
 * arguments and their SQL are controller/admin_cmd.c's.
 *
 * A connection reads nothing more while its request is under way, as the
 * broker's do: the work connection to the database runs one query at a
 * time for everyone, so one client cannot queue a thousand.
 */
#include <config.h>

#include <sys/queue.h>

#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include "controller/admin.h"
#include "controller/admin_cmd.h"
#include "controller/conf.h"
#include "db/db.h"
#include "common/jsonerr.h"
#include "common/log.h"
#include "linesrv/linesrv.h"

#define ADMIN_BACKLOG	16
#define ADMIN_PAUSE_MS	250	/* after an accept error (linesrv/listen.c) */

struct aconn {
	struct linesrv_conn *line;
	struct admin_req *req;		/* under way, or NULL */
	char		 uid[24];
	int		 closing;	/* the reply is the last */
	TAILQ_ENTRY(aconn) entry;
};

static struct {
	struct event_base *base;
	const struct ctrl_conf *conf;
	struct db	*db;		/* NULL: standby */
	struct linesrv_listener *listener;
	TAILQ_HEAD(, aconn) conns;
	size_t		 nconns;
	struct linesrv_unix sock;
} admin_server;

static void	conn_free(struct aconn *);
static void	conn_on_line(void *, const char *, size_t);
static void	conn_on_too_long(void *);
static void	conn_on_close(void *, short);

/* One request at a time per connection (xvds-admin(7)). */
static const struct linesrv_conn_conf admin_line_conf = {
	.line_max = CTRL_ADMIN_LINE_MAX,
	.one_request = 1,
};
static const struct linesrv_conn_ops admin_line_ops = {
	.on_line = conn_on_line,
	.on_too_long = conn_on_too_long,
	.on_close = conn_on_close,
};

static struct db *
live_db(void)
{
	return admin_server.db;
}

static const struct ctrl_conf *
live_conf(void)
{
	return admin_server.conf;
}

static void
req_free(struct admin_req *q)
{
	json_decref(q->msg);
	free(q);
}

/* Sends a reply line on q's connection, frees q, takes the next request. */
static void
send_reply(struct admin_req *q, json_t *reply)
{
	struct aconn *c = q->conn;
	char	*line;

	line = json_dumps(reply, JSON_COMPACT | JSON_REAL_PRECISION(15));
	json_decref(reply);
	req_free(q);
	if (c == NULL) {
		free(line);
		return;
	}
	c->req = NULL;
	if (line == NULL) {
		log_warnx("admin: uid %s: reply not encoded", c->uid);
		conn_free(c);
		return;
	}
	linesrv_conn_send_line(c->line, line);
	free(line);
	if (c->closing)
		linesrv_conn_finish(c->line, 0);   /* freed once written */
	else
		linesrv_conn_resume(c->line);
}

/* A reply's first members, in the order xvds-admin(7) shows them. */
static json_t *
reply_new(const struct admin_req *q)
{
	json_t	*r = json_object();

	json_object_set_new(r, "v", json_integer(CTRL_ADMIN_PROTOCOL));
	json_object_set_new(r, "id", q->has_id ? json_integer(q->id) :
	    json_null());
	return r;
}

static void
reply(struct admin_req *q, json_t *result)
{
	json_t	*r = reply_new(q);

	json_object_set_new(r, "ok", json_true());
	json_object_set_new(r, "result", result != NULL ? result : json_null());
	send_reply(q, r);
}

static void
reply_errorv(struct admin_req *q, const char *error, const char *fmt,
    va_list ap)
{
	json_t	*r = reply_new(q), *m;
	char	 msg[512];

	vsnprintf(msg, sizeof(msg), fmt, ap);
	/* A message quoting a client's bytes may not be UTF-8 after a cut. */
	if ((m = json_string(msg)) == NULL)
		m = json_string("(the message is not UTF-8)");
	json_object_set_new(r, "ok", json_false());
	json_object_set_new(r, "error", json_string(error));
	json_object_set_new(r, "message", m);
	send_reply(q, r);
}

static void
reply_error(struct admin_req *q, const char *error, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void
reply_error(struct admin_req *q, const char *error, const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	reply_errorv(q, error, fmt, ap);
	va_end(ap);
}

/* What the commands (controller/admin_cmd.h) are lent. */
static const struct admin_cmd_hooks cmd_hooks = {
	.reply = reply,
	.reply_error = reply_errorv,
	.db = live_db,
	.conf = live_conf,
};

/* The envelope: an object with v 1, an integer id and a known cmd. */
static void
dispatch(struct admin_req *q, const char *line, size_t len)
{
	json_error_t jerr;
	json_t	*v, *id, *cmd;

	if ((q->msg = json_loadb(line, len, JSON_REJECT_DUPLICATES, &jerr)) ==
	    NULL) {
		/* jansson's text quotes the input: maybe a password hash. */
		log_warnx("admin: uid %s: bad request: not JSON: %s", q->uid,
		    jsonerr(&jerr));
		reply_error(q, "invalid", "the request is not JSON: %s",
		    jsonerr(&jerr));
		return;
	}
	if (!json_is_object(q->msg)) {
		log_warnx("admin: uid %s: bad request: not an object", q->uid);
		reply_error(q, "invalid", "the request is not a JSON "
		    "object");
		return;
	}
	id = json_object_get(q->msg, "id");
	if (!json_is_integer(id)) {
		log_warnx("admin: uid %s: bad request: no integer id", q->uid);
		reply_error(q, "invalid", "\"id\" must be an integer");
		return;
	}
	q->id = json_integer_value(id);
	q->has_id = 1;
	if (admin_server.db == NULL) {
		reply_error(q, "standby", "standby: not the active "
		    "controller");
		return;
	}
	v = json_object_get(q->msg, "v");
	cmd = json_object_get(q->msg, "cmd");
	if (!json_is_integer(v) || json_integer_value(v) !=
	    CTRL_ADMIN_PROTOCOL) {
		log_warnx("admin: uid %s: bad request: protocol version",
		    q->uid);
		reply_error(q, "invalid", "\"v\" must be %d, the "
		    "protocol version", CTRL_ADMIN_PROTOCOL);
		return;
	}
	if (!json_is_string(cmd) || (q->cmd =
	    admin_cmd_find(json_string_value(cmd))) == NULL) {
		log_warnx("admin: uid %s: bad request: unknown command",
		    q->uid);
		reply_error(q, "invalid", "unknown command %.64s",
		    json_is_string(cmd) ? json_string_value(cmd) : "(none)");
		return;
	}
	admin_cmd_run(q);
}

/* A request under way for c; NULL (c freed) out of memory. */
static struct admin_req *
req_new(struct aconn *c)
{
	struct admin_req *q;

	if ((q = calloc(1, sizeof(*q))) == NULL) {
		conn_free(c);
		return NULL;
	}
	q->conn = c;
	q->hooks = &cmd_hooks;
	memcpy(q->uid, c->uid, sizeof(q->uid));
	c->req = q;
	return q;
}

static void
conn_on_line(void *arg, const char *line, size_t len)
{
	struct aconn *c = arg;
	struct admin_req *q;
	size_t	 i;

	if ((q = req_new(c)) == NULL)
		return;
	for (i = 0; i < len; i++)
		if (line[i] == '\0' || strchr(" \t\r", line[i]) == NULL)
			break;
	if (i == len) {
		/* A blank line is no request. */
		c->req = NULL;
		req_free(q);
		linesrv_conn_resume(c->line);
		return;
	}
	dispatch(q, line, len);
}

/* No end in sight: buffer no more, answer and close. */
static void
conn_on_too_long(void *arg)
{
	struct aconn *c = arg;
	struct admin_req *q;

	if ((q = req_new(c)) == NULL)
		return;
	c->closing = 1;
	log_warnx("admin: uid %s: request longer than %d bytes", c->uid,
	    CTRL_ADMIN_LINE_MAX);
	reply_error(q, "invalid", "request longer than %d bytes",
	    CTRL_ADMIN_LINE_MAX);
}

static void
conn_on_close(void *arg, short what)
{
	(void)what;
	conn_free(arg);
}

static void
conn_free(struct aconn *c)
{
	if (c->req != NULL)
		c->req->conn = NULL;	/* its answer is dropped */
	TAILQ_REMOVE(&admin_server.conns, c, entry);
	admin_server.nconns--;
	linesrv_conn_free(c->line);
	free(c);
}

/* Root and the controller's own user only: the socket is the cluster. */
static int
peer_allowed(evutil_socket_t fd, char *uid, size_t uidlen)
{
	static const char refusal[] = "{\"v\":1,\"id\":null,\"ok\":false,"
	    "\"error\":\"invalid\",\"message\":\"permission denied: only root "
	    "may use the controller's admin socket\"}\n";
	long	 pid = 0, peer_uid = 0;
	int	 ok;

	ok = linesrv_peer_allowed(fd, "admin", "", refusal, &pid, &peer_uid);
	snprintf(uid, uidlen, "%ld", peer_uid);
	return ok;
}

static void
accept_cb(int fd, struct sockaddr *sa, int salen, void *arg)
{
	struct aconn *c;
	char	 uid[24];

	(void)sa;
	(void)salen;
	(void)arg;
	if (admin_server.nconns >= CTRL_ADMIN_CONNS_MAX) {
		log_warnx("admin: %d clients already: connection refused",
		    CTRL_ADMIN_CONNS_MAX);
		evutil_closesocket(fd);
		return;
	}
	if (!peer_allowed(fd, uid, sizeof(uid)) ||
	    (c = calloc(1, sizeof(*c))) == NULL) {
		evutil_closesocket(fd);
		return;
	}
	memcpy(c->uid, uid, sizeof(c->uid));
	if ((c->line = linesrv_conn_new(admin_server.base, fd, NULL,
	    &admin_line_conf, &admin_line_ops, c)) == NULL) {
		free(c);
		return;
	}
	/* Counted only while reading: a request under way is not idleness. */
	linesrv_conn_timeouts(c->line, CTRL_ADMIN_IDLE_S, CTRL_ADMIN_IDLE_S);
	TAILQ_INSERT_HEAD(&admin_server.conns, c, entry);
	admin_server.nconns++;
}

void
ctrl_admin_reconf(const struct ctrl_conf *conf)
{
	if (admin_server.listener != NULL)
		admin_server.conf = conf;
}

int
ctrl_admin_start(struct event_base *base, const struct ctrl_conf *conf)
{
	struct linesrv_unix sock;
	const char *path = conf->admin_socket;

	if (admin_server.listener != NULL)
		return 0;
	if (linesrv_unix_listen(&sock, "admin", "controller", path, 0) == -1)
		return -1;
	memset(&admin_server, 0, sizeof(admin_server));
	TAILQ_INIT(&admin_server.conns);
	admin_server.base = base;
	admin_server.conf = conf;
	admin_server.sock = sock;
	/* Out of descriptors, mostly: pause rather than spin. */
	if ((admin_server.listener = linesrv_listen_fd(base, sock.fd,
	    ADMIN_BACKLOG, "admin", ADMIN_PAUSE_MS, accept_cb, NULL)) == NULL) {
		log_warn("admin: listen %s", path);
		unlink(path);
		memset(&admin_server, 0, sizeof(admin_server));
		return -1;
	}
	signal(SIGPIPE, SIG_IGN);
	log_info("admin: requests taken on %s", path);
	return 0;
}

void
ctrl_admin_serve(struct db *db)
{
	if (admin_server.listener == NULL)
		return;
	if ((admin_server.db == NULL) != (db == NULL))
		log_info("admin: %s", db != NULL ? "serving requests" :
		    "standby: refusing requests");
	admin_server.db = db;
}

void
ctrl_admin_stop(void)
{
	if (admin_server.listener == NULL)
		return;
	while (!TAILQ_EMPTY(&admin_server.conns))
		conn_free(TAILQ_FIRST(&admin_server.conns));
	linesrv_listener_free(admin_server.listener);
	linesrv_unix_unlink(&admin_server.sock, "admin");
	memset(&admin_server, 0, sizeof(admin_server));
}

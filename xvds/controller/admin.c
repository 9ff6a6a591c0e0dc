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
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/listener.h>

#include "controller/admin.h"
#include "controller/conf.h"
#include "agent/conn_limit.h"
#include "db/db.h"
#include "common/jsonerr.h"
#include "common/log.h"

#define ADMIN_BACKLOG	16
#define ADMIN_PAUSE_MS	250	/* after an accept error (agent/conn_limit.h) */

struct aconn {
	struct bufferevent *bev;
	struct admin_req *req;		/* under way, or NULL */
	char		 uid[24];
	int		 closing;	/* the reply is the last */
	TAILQ_ENTRY(aconn) entry;
};

static struct {
	struct event_base *base;
	const struct ctrl_conf *conf;
	struct db	*db;		/* NULL: standby */
	struct evconnlistener *listener;
	struct listen_pause *pause;
	TAILQ_HEAD(, aconn) conns;
	size_t		 nconns;
	char		 path[sizeof(((struct sockaddr_un *)0)->sun_path)];
	dev_t		 dev;
	ino_t		 ino;
} S;

static void	conn_free(struct aconn *);
static void	conn_read(struct bufferevent *, void *);

struct db *
admin_db(void)
{
	return S.db;
}

const struct ctrl_conf *
admin_conf(void)
{
	return S.conf;
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
	evbuffer_add(bufferevent_get_output(c->bev), line, strlen(line));
	evbuffer_add(bufferevent_get_output(c->bev), "\n", 1);
	free(line);
	if (c->closing) {
		bufferevent_disable(c->bev, EV_READ);
		return;		/* freed once written: conn_write */
	}
	bufferevent_enable(c->bev, EV_READ);
	/* The client may have sent its next request already. */
	conn_read(c->bev, c);
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

void
admin_reply(struct admin_req *q, json_t *result)
{
	json_t	*r = reply_new(q);

	json_object_set_new(r, "ok", json_true());
	json_object_set_new(r, "result", result != NULL ? result : json_null());
	send_reply(q, r);
}

void
admin_reply_error(struct admin_req *q, const char *error, const char *fmt,
    ...)
{
	json_t	*r = reply_new(q), *m;
	char	 msg[512];
	va_list	 ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	/* A message quoting a client's bytes may not be UTF-8 after a cut. */
	if ((m = json_string(msg)) == NULL)
		m = json_string("(the message is not UTF-8)");
	json_object_set_new(r, "ok", json_false());
	json_object_set_new(r, "error", json_string(error));
	json_object_set_new(r, "message", m);
	send_reply(q, r);
}

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
		admin_reply_error(q, "invalid", "the request is not JSON: %s",
		    jsonerr(&jerr));
		return;
	}
	if (!json_is_object(q->msg)) {
		log_warnx("admin: uid %s: bad request: not an object", q->uid);
		admin_reply_error(q, "invalid", "the request is not a JSON "
		    "object");
		return;
	}
	id = json_object_get(q->msg, "id");
	if (!json_is_integer(id)) {
		log_warnx("admin: uid %s: bad request: no integer id", q->uid);
		admin_reply_error(q, "invalid", "\"id\" must be an integer");
		return;
	}
	q->id = json_integer_value(id);
	q->has_id = 1;
	if (S.db == NULL) {
		admin_reply_error(q, "standby", "standby: not the active "
		    "controller");
		return;
	}
	v = json_object_get(q->msg, "v");
	cmd = json_object_get(q->msg, "cmd");
	if (!json_is_integer(v) || json_integer_value(v) !=
	    CTRL_ADMIN_PROTOCOL) {
		log_warnx("admin: uid %s: bad request: protocol version",
		    q->uid);
		admin_reply_error(q, "invalid", "\"v\" must be %d, the "
		    "protocol version", CTRL_ADMIN_PROTOCOL);
		return;
	}
	if (!json_is_string(cmd) || (q->cmd =
	    admin_cmd_find(json_string_value(cmd))) == NULL) {
		log_warnx("admin: uid %s: bad request: unknown command",
		    q->uid);
		admin_reply_error(q, "invalid", "unknown command %.64s",
		    json_is_string(cmd) ? json_string_value(cmd) : "(none)");
		return;
	}
	admin_cmd_run(q);
}

static void
conn_read(struct bufferevent *bev, void *arg)
{
	struct aconn *c = arg;
	struct evbuffer *in = bufferevent_get_input(bev);
	struct evbuffer_ptr eol;
	struct admin_req *q;
	char	*line;
	size_t	 len, i;

	for (;;) {
		if (c->req != NULL || c->closing)
			return;
		eol = evbuffer_search_eol(in, NULL, NULL, EVBUFFER_EOL_LF);
		if (eol.pos == -1 && evbuffer_get_length(in) <=
		    CTRL_ADMIN_LINE_MAX)
			return;		/* wait for the rest */
		if ((q = calloc(1, sizeof(*q))) == NULL) {
			conn_free(c);
			return;
		}
		q->conn = c;
		memcpy(q->uid, c->uid, sizeof(q->uid));
		c->req = q;
		bufferevent_disable(bev, EV_READ);
		if (eol.pos == -1 || eol.pos > CTRL_ADMIN_LINE_MAX) {
			/* No end in sight: buffer no more, answer and close. */
			c->closing = 1;
			log_warnx("admin: uid %s: request longer than %d bytes",
			    c->uid, CTRL_ADMIN_LINE_MAX);
			admin_reply_error(q, "invalid", "request longer "
			    "than %d bytes", CTRL_ADMIN_LINE_MAX);
			return;
		}
		line = evbuffer_readln(in, &len, EVBUFFER_EOL_LF);
		for (i = 0; line != NULL && i < len; i++)
			if (line[i] == '\0' || strchr(" \t\r", line[i]) == NULL)
				break;
		if (line == NULL || i == len) {
			/* A blank line is no request. */
			free(line);
			c->req = NULL;
			req_free(q);
			bufferevent_enable(bev, EV_READ);
			continue;
		}
		dispatch(q, line, len);
		free(line);
		return;
	}
}

static void
conn_write(struct bufferevent *bev, void *arg)
{
	struct aconn *c = arg;

	if (c->closing && c->req == NULL &&
	    evbuffer_get_length(bufferevent_get_output(bev)) == 0)
		conn_free(c);
}

static void
conn_event(struct bufferevent *bev, short what, void *arg)
{
	(void)bev;
	(void)what;
	conn_free(arg);
}

static void
conn_free(struct aconn *c)
{
	if (c->req != NULL)
		c->req->conn = NULL;	/* its answer is dropped */
	TAILQ_REMOVE(&S.conns, c, entry);
	S.nconns--;
	bufferevent_free(c->bev);
	free(c);
}

/* Root and the controller's own user only: the socket is the cluster. */
static int
peer_allowed(evutil_socket_t fd, char *uid, size_t uidlen)
{
	static const char refusal[] = "{\"v\":1,\"id\":null,\"ok\":false,"
	    "\"error\":\"invalid\",\"message\":\"permission denied: only root "
	    "may use the controller's admin socket\"}\n";
	struct ucred cred;
	socklen_t len = sizeof(cred);

	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) == -1) {
		log_warn("admin: SO_PEERCRED");
		return 0;
	}
	snprintf(uid, uidlen, "%ld", (long)cred.uid);
	if (cred.uid == 0 || cred.uid == geteuid())
		return 1;
	log_warnx("admin: refused client pid %ld uid %ld", (long)cred.pid,
	    (long)cred.uid);
	/* Best effort: a fresh socket takes one short line. */
	if (write(fd, refusal, sizeof(refusal) - 1) == -1)
		log_debug("admin: refusal not written: %s", strerror(errno));
	return 0;
}

static void
accept_cb(struct evconnlistener *l, evutil_socket_t fd, struct sockaddr *sa,
    int salen, void *arg)
{
	struct aconn *c;
	struct timeval idle = { CTRL_ADMIN_IDLE_S, 0 };
	char	 uid[24];

	(void)l;
	(void)sa;
	(void)salen;
	(void)arg;
	listen_pause_ok(S.pause);
	if (S.nconns >= CTRL_ADMIN_CONNS_MAX) {
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
	if ((c->bev = bufferevent_socket_new(S.base, fd,
	    BEV_OPT_CLOSE_ON_FREE)) == NULL) {
		free(c);
		evutil_closesocket(fd);
		return;
	}
	bufferevent_setcb(c->bev, conn_read, conn_write, conn_event, c);
	/* Counted only while reading: a request under way is not idleness. */
	bufferevent_set_timeouts(c->bev, &idle, &idle);
	bufferevent_enable(c->bev, EV_READ | EV_WRITE);
	TAILQ_INSERT_HEAD(&S.conns, c, entry);
	S.nconns++;
}

/* Out of descriptors, mostly: pause rather than spin. */
static void
accept_error(struct evconnlistener *l, void *arg)
{
	(void)l;
	(void)arg;
	listen_pause_hit(S.pause, EVUTIL_SOCKET_ERROR());
}

/* Creates the socket's directory, private, unless it exists. */
static int
make_dir(const char *path)
{
	char	 dir[sizeof(S.path)], *slash;
	struct stat st;

	snprintf(dir, sizeof(dir), "%s", path);
	if ((slash = strrchr(dir, '/')) == NULL || slash == dir)
		return 0;
	*slash = '\0';
	if (stat(dir, &st) == 0) {
		if (S_ISDIR(st.st_mode))
			return 0;
		log_warnx("admin: %s is not a directory", dir);
		return -1;
	}
	if (errno != ENOENT || (mkdir(dir, 0700) == -1 && errno != EEXIST)) {
		log_warn("admin: %s", dir);
		return -1;
	}
	return 0;
}

/*
 * A socket left by a controller that died is removed; one somebody
 * answers on is another controller's, and taking it over would leave
 * that one deaf: refuse.
 */
static int
remove_stale(const struct sockaddr_un *sun)
{
	struct stat st;
	int	 fd, rc, saved;

	if (lstat(sun->sun_path, &st) == -1) {
		if (errno == ENOENT)
			return 0;
		log_warn("admin: %s", sun->sun_path);
		return -1;
	}
	if (!S_ISSOCK(st.st_mode)) {
		log_warnx("admin: %s exists and is not a socket",
		    sun->sun_path);
		return -1;
	}
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
	    0)) == -1) {
		log_warn("admin: socket");
		return -1;
	}
	rc = connect(fd, (const struct sockaddr *)sun, sizeof(*sun));
	saved = errno;
	close(fd);
	if (rc == 0 || saved == EAGAIN) {
		log_warnx("admin: another controller is listening on %s",
		    sun->sun_path);
		return -1;
	}
	if (saved != ECONNREFUSED) {
		errno = saved;
		log_warn("admin: connect %s", sun->sun_path);
		return -1;
	}
	if (unlink(sun->sun_path) == -1 && errno != ENOENT) {
		log_warn("admin: unlink %s", sun->sun_path);
		return -1;
	}
	log_info("admin: removed the stale socket %s", sun->sun_path);
	return 0;
}

void
ctrl_admin_reconf(const struct ctrl_conf *conf)
{
	if (S.listener != NULL)
		S.conf = conf;
}

int
ctrl_admin_start(struct event_base *base, const struct ctrl_conf *conf)
{
	struct sockaddr_un sun;
	struct stat st;
	const char *path = conf->admin_socket;
	mode_t	 old_umask;
	int	 fd;

	if (S.listener != NULL)
		return 0;
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (path[0] == '\0' || strlen(path) >= sizeof(sun.sun_path)) {
		log_warnx("admin: bad socket path (empty, or longer than %zu "
		    "bytes): %s", sizeof(sun.sun_path) - 1, path);
		return -1;
	}
	memcpy(sun.sun_path, path, strlen(path) + 1);
	if (make_dir(path) == -1 || remove_stale(&sun) == -1)
		return -1;
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
	    0)) == -1) {
		log_warn("admin: socket");
		return -1;
	}
	/* No moment in which the socket is open to others. */
	old_umask = umask(S_IXUSR | S_IRWXG | S_IRWXO);
	if (bind(fd, (struct sockaddr *)&sun, sizeof(sun)) == -1) {
		log_warn("admin: bind %s", path);
		umask(old_umask);
		close(fd);
		return -1;
	}
	umask(old_umask);
	if (chmod(path, S_IRUSR | S_IWUSR) == -1 || lstat(path, &st) == -1) {
		log_warn("admin: chmod %s", path);
		goto fail;
	}
	memset(&S, 0, sizeof(S));
	TAILQ_INIT(&S.conns);
	S.base = base;
	S.conf = conf;
	S.dev = st.st_dev;
	S.ino = st.st_ino;
	memcpy(S.path, path, strlen(path) + 1);
	if ((S.listener = evconnlistener_new(base, accept_cb, NULL,
	    LEV_OPT_CLOSE_ON_FREE | LEV_OPT_CLOSE_ON_EXEC, ADMIN_BACKLOG,
	    fd)) == NULL) {
		log_warn("admin: listen %s", path);
		goto fail;
	}
	if ((S.pause = listen_pause_new(base, S.listener, "admin",
	    ADMIN_PAUSE_MS)) == NULL) {
		log_warnx("admin: out of memory");
		evconnlistener_free(S.listener);	/* closes fd */
		unlink(path);
		memset(&S, 0, sizeof(S));
		return -1;
	}
	evconnlistener_set_error_cb(S.listener, accept_error);
	signal(SIGPIPE, SIG_IGN);
	log_info("admin: requests taken on %s", path);
	return 0;
fail:
	unlink(path);
	close(fd);
	memset(&S, 0, sizeof(S));
	return -1;
}

void
ctrl_admin_serve(struct db *db)
{
	if (S.listener == NULL)
		return;
	if ((S.db == NULL) != (db == NULL))
		log_info("admin: %s", db != NULL ? "serving requests" :
		    "standby: refusing requests");
	S.db = db;
}

void
ctrl_admin_stop(void)
{
	struct stat st;

	if (S.listener == NULL)
		return;
	while (!TAILQ_EMPTY(&S.conns))
		conn_free(TAILQ_FIRST(&S.conns));
	evconnlistener_free(S.listener);
	listen_pause_free(S.pause);
	/* Only our own socket: never one a successor has made since. */
	if (lstat(S.path, &st) == 0 && st.st_dev == S.dev &&
	    st.st_ino == S.ino && unlink(S.path) == -1)
		log_warn("admin: unlink %s", S.path);
	memset(&S, 0, sizeof(S));
}

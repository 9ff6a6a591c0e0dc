/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * db/db.c — the asynchronous database connection (db/db.h): PQconnectStart and
 * PQconnectPoll, PQsendQueryParams and PQconsumeInput, all driven by
 * events on the connection's socket so that a slow server never stalls
 * the loop.
 */
#include <config.h>

#include <sys/queue.h>

#include <stdlib.h>
#include <string.h>

#include <event2/event.h>
#include <libpq-fe.h>

#include "db/db.h"
#include "db/schema.h"
#include "common/errbuf.h"
#include "common/log.h"

#define DB_BACKOFF_MIN_MS	100
#define DB_BACKOFF_MAX_MS	5000
#define DB_CONNECT_TIMEOUT	10

struct db_query {
	TAILQ_ENTRY(db_query) entry;
	int		 flags;
	db_cb		 cb;
	void		*arg;
	char		*sql;
	int		 nparams;
	char		**params;
	int		 tries;		/* sends so far */
};
TAILQ_HEAD(db_queue, db_query);

enum db_conn {
	DB_DOWN,	/* waiting to try again */
	DB_CONNECTING,
	DB_UP,
};

struct db {
	struct event_base *base;
	char		*conninfo;
	PGconn		*conn;
	enum db_conn	 state;
	struct event	*ev_sock;	/* on PQsocket(conn) */
	short		 sock_what;
	struct event	*ev_timer;	/* back-off, or the connect deadline */
	struct event	*ev_kick;	/* sends the next query from the loop */
	struct db_query	*inflight;
	PGresult	*res;		/* the in-flight query's, so far */
	struct db_queue	 queue;
	unsigned	 npending;
	unsigned	 backoff_ms, backoff_min_ms, backoff_max_ms;
	unsigned	 connect_timeout;
	int		 warned;	/* this outage has been logged */
	db_state_cb	 state_cb;
	void		*state_arg;
	int		 depth;		/* in our own event handlers */
	int		 closing;
};

static void	db_connect(struct db *);
static void	db_lost(struct db *, const char *why);
static void	db_on_sock(evutil_socket_t, short, void *);
static void	kick(struct db *);

static void
query_free(struct db_query *q)
{
	int	 i;

	for (i = 0; i < q->nparams; i++)
		free(q->params[i]);
	free(q->params);
	free(q->sql);
	free(q);
}

/* Answers q and forgets it. */
static void
deliver(struct db *db, struct db_query *q, PGresult *res, const char *err)
{
	db->npending--;
	db->depth++;
	q->cb(res, err, q->arg);
	db->depth--;
	query_free(q);
}

static void
db_free(struct db *db)
{
	struct db_query *q;

	db->closing = 1;
	if (db->inflight != NULL) {
		q = db->inflight;
		db->inflight = NULL;
		deliver(db, q, NULL, "closed");
	}
	while ((q = TAILQ_FIRST(&db->queue)) != NULL) {
		TAILQ_REMOVE(&db->queue, q, entry);
		deliver(db, q, NULL, "closed");
	}
	if (db->ev_sock != NULL)
		event_free(db->ev_sock);
	event_free(db->ev_timer);
	event_free(db->ev_kick);
	PQclear(db->res);
	if (db->conn != NULL)
		PQfinish(db->conn);
	free(db->conninfo);
	free(db);
}

/* Our event handlers end here: a callback may have closed the handle. */
static void
leave(struct db *db)
{
	if (--db->depth == 0 && db->closing)
		db_free(db);
}

/*
 * Watches the connection's socket for what.  The socket may change while
 * connecting (libpq tries the next address), so it is always looked up.
 */
static void
watch(struct db *db, short what)
{
	evutil_socket_t fd = PQsocket(db->conn);

	if (db->ev_sock != NULL) {
		if (db->state == DB_UP && what == db->sock_what &&
		    event_get_fd(db->ev_sock) == fd)
			return;
		event_free(db->ev_sock);
		db->ev_sock = NULL;
	}
	db->sock_what = what;
	if (fd < 0)
		return;
	db->ev_sock = event_new(db->base, fd, what | EV_PERSIST, db_on_sock,
	    db);
	if (db->ev_sock == NULL || event_add(db->ev_sock, NULL) == -1)
		fatalx("%s: cannot watch the database connection", __func__);
}

static void
db_on_timer(evutil_socket_t fd, short what, void *arg)
{
	struct db *db = arg;

	(void)fd;
	(void)what;
	db->depth++;
	if (db->state == DB_CONNECTING)
		db_lost(db, "timed out connecting");
	else if (db->state == DB_DOWN)
		db_connect(db);
	leave(db);
}

static void
send_next(struct db *db)
{
	struct db_query *q;
	char	 err[512];
	int	 r;

	if (db->state != DB_UP || db->inflight != NULL ||
	    (q = TAILQ_FIRST(&db->queue)) == NULL)
		return;
	TAILQ_REMOVE(&db->queue, q, entry);
	db->inflight = q;
	q->tries++;
	if (!PQsendQueryParams(db->conn, q->sql, q->nparams, NULL,
	    (const char *const *)q->params, NULL, NULL, 0)) {
		db->inflight = NULL;
		if (PQstatus(db->conn) == CONNECTION_OK) {
			/* libpq refused the query itself: a retry would too. */
			db_errmsg(err, sizeof(err), "query",
			    PQerrorMessage(db->conn));
			deliver(db, q, NULL, err);
			if (!db->closing)
				kick(db);
			return;
		}
		/* Without its Sync the server commits nothing: never ran. */
		q->tries--;
		TAILQ_INSERT_HEAD(&db->queue, q, entry);
		db_lost(db, PQerrorMessage(db->conn));
		return;
	}
	if ((r = PQflush(db->conn)) == -1) {
		db_lost(db, PQerrorMessage(db->conn));
		return;
	}
	watch(db, r == 1 ? EV_READ | EV_WRITE : EV_READ);
}

static void
db_on_kick(evutil_socket_t fd, short what, void *arg)
{
	struct db *db = arg;

	(void)fd;
	(void)what;
	db->depth++;
	send_next(db);
	leave(db);
}

static void
kick(struct db *db)
{
	event_active(db->ev_kick, EV_TIMEOUT, 0);
}

static void
up(struct db *db)
{
	evtimer_del(db->ev_timer);
	db->state = DB_UP;
	db->backoff_ms = 0;
	if (db->warned)
		log_info("database: connected again");
	else
		log_debug("database: connected");
	db->warned = 0;
	if (PQsetnonblocking(db->conn, 1) == -1)
		log_warnx("database: %s", PQerrorMessage(db->conn));
	watch(db, EV_READ);
	if (db->state_cb != NULL) {
		db->depth++;
		db->state_cb(1, NULL, db->state_arg);
		db->depth--;
	}
	kick(db);
}

static void
db_connect(struct db *db)
{
	struct timeval tv = { db->connect_timeout, 0 };

	db->state = DB_CONNECTING;
	if ((db->conn = PQconnectStart(db->conninfo)) == NULL) {
		db_lost(db, "out of memory");
		return;
	}
	if (PQstatus(db->conn) == CONNECTION_BAD) {
		db_lost(db, PQerrorMessage(db->conn));
		return;
	}
	PQsetNoticeProcessor(db->conn, db_notice, NULL);
	evtimer_add(db->ev_timer, &tv);
	/* libpq's documentation: start as if PQconnectPoll said WRITING. */
	watch(db, EV_WRITE);
}

static void
connecting(struct db *db)
{
	switch (PQconnectPoll(db->conn)) {
	case PGRES_POLLING_READING:
		watch(db, EV_READ);
		break;
	case PGRES_POLLING_WRITING:
		watch(db, EV_WRITE);
		break;
	case PGRES_POLLING_OK:
		up(db);
		break;
	default:
		db_lost(db, PQerrorMessage(db->conn));
		break;
	}
}

/* The in-flight query's results are all in: answer it. */
static void
answer(struct db *db)
{
	struct db_query *q = db->inflight;
	PGresult *res = db->res;
	ExecStatusType st = PQresultStatus(res);
	char	 err[512];

	/* libpq may end a query it lost the server for with an error
	 * result of its own: that is a lost connection, not an answer. */
	if (PQstatus(db->conn) == CONNECTION_BAD) {
		db_lost(db, PQerrorMessage(db->conn));
		return;
	}
	db->inflight = NULL;
	db->res = NULL;
	if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK)
		deliver(db, q, res, NULL);
	else {
		db_errmsg(err, sizeof(err), "query", res != NULL ?
		    PQresultErrorMessage(res) : PQerrorMessage(db->conn));
		deliver(db, q, res, err);
	}
	PQclear(res);
	if (!db->closing)
		kick(db);
}

static void
reading(struct db *db)
{
	PGnotify *n;
	PGresult *r;

	if (!PQconsumeInput(db->conn)) {
		db_lost(db, PQerrorMessage(db->conn));
		return;
	}
	while ((n = PQnotifies(db->conn)) != NULL)
		PQfreemem(n);
	if (db->inflight == NULL) {
		/* Idle: the server said goodbye (a FATAL message), or less. */
		if (PQstatus(db->conn) == CONNECTION_BAD)
			db_lost(db, PQerrorMessage(db->conn));
		return;
	}
	while (!PQisBusy(db->conn)) {
		if ((r = PQgetResult(db->conn)) == NULL) {
			answer(db);
			return;
		}
		/* One statement: keep the last result, or the first error. */
		if (db->res != NULL &&
		    PQresultStatus(db->res) == PGRES_FATAL_ERROR)
			PQclear(r);
		else {
			PQclear(db->res);
			db->res = r;
		}
	}
}

static void
db_on_sock(evutil_socket_t fd, short what, void *arg)
{
	struct db *db = arg;
	int	 r;

	(void)fd;
	db->depth++;
	if (db->state == DB_CONNECTING)
		connecting(db);
	else if (db->state == DB_UP) {
		if (what & EV_WRITE) {
			if ((r = PQflush(db->conn)) == -1) {
				db_lost(db, PQerrorMessage(db->conn));
				goto out;
			}
			if (r == 0)
				watch(db, EV_READ);
		}
		if (what & EV_READ)
			reading(db);
	}
out:
	leave(db);
}

/*
 * The connection is gone (or never came): the in-flight query is queued
 * again or failed, and the next attempt is scheduled.
 */
static void
db_lost(struct db *db, const char *why)
{
	struct db_query *q;
	struct timeval tv;
	char	 msg[512], err[768];
	int	 wasup = db->state == DB_UP;

	db_errmsg(msg, sizeof(msg), "database", why);
	/* The server's own word (e.g. "terminating connection due to
	 * administrator command") says more than libpq's. */
	if (db->res != NULL && PQresultStatus(db->res) == PGRES_FATAL_ERROR)
		db_errmsg(msg, sizeof(msg), "database",
		    PQresultErrorMessage(db->res));
	PQclear(db->res);
	db->res = NULL;
	if (db->ev_sock != NULL) {
		event_free(db->ev_sock);
		db->ev_sock = NULL;
	}
	evtimer_del(db->ev_timer);
	if (db->conn != NULL) {
		PQfinish(db->conn);
		db->conn = NULL;
	}
	db->state = DB_DOWN;
	if (db->backoff_ms == 0)
		db->backoff_ms = db->backoff_min_ms;
	else if ((db->backoff_ms *= 2) > db->backoff_max_ms)
		db->backoff_ms = db->backoff_max_ms;
	if (!db->warned) {
		log_warnx("%s; connecting again in %u ms", msg, db->backoff_ms);
		db->warned = 1;
	} else
		log_debug("%s; connecting again in %u ms", msg, db->backoff_ms);
	tv.tv_sec = db->backoff_ms / 1000;
	tv.tv_usec = (db->backoff_ms % 1000) * 1000;
	evtimer_add(db->ev_timer, &tv);

	if ((q = db->inflight) != NULL) {
		db->inflight = NULL;
		if ((q->flags & DB_IDEMPOTENT) && q->tries < DB_MAX_TRIES) {
			log_debug("database: query queued again (try %d of %d)",
			    q->tries + 1, DB_MAX_TRIES);
			TAILQ_INSERT_HEAD(&db->queue, q, entry);
		} else if (q->flags & DB_IDEMPOTENT) {
			snprintf(err, sizeof(err), "%s; given up after %d tries",
			    msg, q->tries);
			deliver(db, q, NULL, err);
		} else {
			snprintf(err, sizeof(err), "%s while the query ran; not "
			    "retried (not idempotent): it may or may not have "
			    "taken effect", msg);
			deliver(db, q, NULL, err);
		}
	}
	if (wasup && db->state_cb != NULL && !db->closing) {
		db->depth++;
		db->state_cb(0, msg, db->state_arg);
		db->depth--;
	}
}

struct db *
db_open(struct event_base *base, const char *conninfo, char *err,
    size_t errlen)
{
	struct db *db;
	PQconninfoOption *opts;
	struct timeval now = { 0, 0 };
	char	*perr = NULL;

	if ((opts = PQconninfoParse(conninfo, &perr)) == NULL) {
		db_errmsg(err, errlen, "conninfo", perr != NULL ? perr :
		    "out of memory");
		PQfreemem(perr);
		return NULL;
	}
	PQconninfoFree(opts);
	if ((db = calloc(1, sizeof(*db))) == NULL) {
		errbuf_set(err, errlen, "out of memory");
		return NULL;
	}
	db->base = base;
	TAILQ_INIT(&db->queue);
	db->backoff_min_ms = DB_BACKOFF_MIN_MS;
	db->backoff_max_ms = DB_BACKOFF_MAX_MS;
	db->connect_timeout = DB_CONNECT_TIMEOUT;
	db->state = DB_DOWN;
	if ((db->conninfo = strdup(conninfo)) == NULL ||
	    (db->ev_timer = evtimer_new(base, db_on_timer, db)) == NULL ||
	    (db->ev_kick = event_new(base, -1, 0, db_on_kick, db)) == NULL) {
		if (db->ev_timer != NULL)
			event_free(db->ev_timer);
		free(db->conninfo);
		free(db);
		errbuf_set(err, errlen, "out of memory");
		return NULL;
	}
	/* The first attempt from the loop, as every later one. */
	evtimer_add(db->ev_timer, &now);
	return db;
}

void
db_close(struct db *db)
{
	if (db == NULL)
		return;
	if (db->depth > 0)
		db->closing = 1;
	else
		db_free(db);
}

int
db_query(struct db *db, int flags, db_cb cb, void *arg, const char *sql,
    int nparams, const char *const *params)
{
	struct db_query *q;
	int	 i;

	/* The protocol counts parameters in 16 bits. */
	if (db->closing || nparams < 0 || nparams > 65535)
		return -1;
	if ((q = calloc(1, sizeof(*q))) == NULL)
		return -1;
	q->flags = flags;
	q->cb = cb;
	q->arg = arg;
	if ((q->sql = strdup(sql)) == NULL)
		goto fail;
	if (nparams > 0 &&
	    (q->params = calloc(nparams, sizeof(*q->params))) == NULL)
		goto fail;
	for (; q->nparams < nparams; q->nparams++) {
		i = q->nparams;
		if (params[i] != NULL &&
		    (q->params[i] = strdup(params[i])) == NULL)
			goto fail;
	}
	TAILQ_INSERT_TAIL(&db->queue, q, entry);
	db->npending++;
	kick(db);
	return 0;
fail:
	query_free(q);
	return -1;
}

void
db_set_state_cb(struct db *db, db_state_cb cb, void *arg)
{
	db->state_cb = cb;
	db->state_arg = arg;
}

void
db_set_backoff(struct db *db, unsigned min_ms, unsigned max_ms)
{
	db->backoff_min_ms = min_ms > 0 ? min_ms : 1;
	db->backoff_max_ms = max_ms > db->backoff_min_ms ? max_ms :
	    db->backoff_min_ms;
}

void
db_set_connect_timeout(struct db *db, unsigned sec)
{
	db->connect_timeout = sec;
}

int
db_isup(const struct db *db)
{
	return db->state == DB_UP;
}

unsigned
db_pending(const struct db *db)
{
	return db->npending;
}

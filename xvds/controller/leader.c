/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * controller/leader.c — leadership by advisory lock (controller/leader.h).
 *
 * The lock lives as long as the session that took it, so the session is
 * the controller's claim: whenever this side cannot show that its session
 * still holds the lock (the connection dropped, a check failed or came
 * late) it steps down and starts a new session, never trusting the old one
 * again.  The check asks pg_locks rather than merely pinging, so that a
 * lock lost any other way (pg_terminate_backend, an unlock by hand) is
 * noticed too.
 */
#include <config.h>

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <event2/event.h>

#include "controller/leader.h"
#include "controller/sql.h"
#include "db/db.h"
#include "common/log.h"

struct ctrl_leader {
	struct event_base *base;
	char		*conninfo;
	struct db	*db;
	struct event	*timer;
	ctrl_leader_cb	 cb;
	void		*arg;
	bool		 active;
	bool		 asking;	/* a query is out */
	bool		 said_standby;
	struct timespec	 asked;		/* when it went out */
	unsigned	 gen;		/* sessions: answers of an old one are dropped */
};

static void	leader_ask(struct ctrl_leader *);
static void	leader_state(int, const char *, void *);

static double
since_ms(const struct timespec *t)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (double)(now.tv_sec - t->tv_sec) * 1e3 +
	    (double)(now.tv_nsec - t->tv_nsec) / 1e6;
}

static void
arm(struct ctrl_leader *l, unsigned ms)
{
	struct timeval tv = { ms / 1000, (ms % 1000) * 1000 };

	evtimer_add(l->timer, &tv);
}

static int
session_open(struct ctrl_leader *l, char *err, size_t errlen)
{
	if ((l->db = db_open(l->base, l->conninfo, err, errlen)) == NULL)
		return -1;
	db_set_state_cb(l->db, leader_state, l);
	db_set_backoff(l->db, 250, 2000);
	db_set_connect_timeout(l->db, 5);
	l->gen++;
	l->asking = false;
	return 0;
}

/* Steps down (if active) and, with renew, drops the session for a new one. */
static void
step_down(struct ctrl_leader *l, const char *why, bool renew)
{
	char	 err[256];

	if (renew) {
		db_close(l->db);
		l->db = NULL;
		if (session_open(l, err, sizeof(err)) == -1)
			fatalx("leadership: %s", err);	/* it opened before */
	}
	if (l->active) {
		l->active = false;
		l->said_standby = false;
		log_warnx("leadership lost: %s; standing by", why);
		l->cb(0, why, l->arg);
	}
	arm(l, CTRL_LEADER_RETRY_MS);
}

struct answer {
	struct ctrl_leader *l;
	unsigned	 gen;
};

static void
leader_answer(PGresult *res, const char *err, void *arg)
{
	struct answer *a = arg;
	struct ctrl_leader *l = a->l;
	bool	 stale = a->gen != l->gen, held;
	char	 why[300];

	free(a);
	if (stale)
		return;
	l->asking = false;
	if (err != NULL) {
		snprintf(why, sizeof(why), "lock query failed: %s", err);
		if (l->active)
			step_down(l, why, true);
		else {
			log_debug("leadership: %s", why);
			arm(l, CTRL_LEADER_RETRY_MS);
		}
		return;
	}
	held = PQntuples(res) == 1 && strcmp(PQgetvalue(res, 0, 0), "t") == 0;
	if (l->active) {
		if (!held)
			step_down(l, "the session no longer holds the lock", true);
		else
			arm(l, CTRL_LEADER_CHECK_MS);
		return;
	}
	if (!held) {
		if (!l->said_standby)
			log_info("standby: another controller is active");
		l->said_standby = true;
		arm(l, CTRL_LEADER_RETRY_MS);
		return;
	}
	l->active = true;
	log_info("active: this controller holds the leadership lock");
	arm(l, CTRL_LEADER_CHECK_MS);
	l->cb(1, NULL, l->arg);
}

static void
leader_ask(struct ctrl_leader *l)
{
	struct answer *a;
	const char *params[1];
	char	 key[32];

	if (!db_isup(l->db))
		return;		/* leader_state asks when it is up */
	if ((a = malloc(sizeof(*a))) == NULL) {
		log_warn("%s", __func__);
		arm(l, CTRL_LEADER_RETRY_MS);
		return;
	}
	a->l = l;
	a->gen = l->gen;
	snprintf(key, sizeof(key), "%lld", (long long)CTRL_LEADER_KEY);
	params[0] = key;
	if (db_query(l->db, 0, leader_answer, a, l->active ?
	    sql_leader_holds_lock : sql_leader_try_lock, 1, params) == -1) {
		free(a);
		arm(l, CTRL_LEADER_RETRY_MS);
		return;
	}
	l->asking = true;
	clock_gettime(CLOCK_MONOTONIC, &l->asked);
}

static void
leader_timer(evutil_socket_t fd, short what, void *arg)
{
	struct ctrl_leader *l = arg;

	(void)fd;
	(void)what;
	if (l->asking) {
		/* A check that does not come back proves nothing. */
		if (l->active && since_ms(&l->asked) >= CTRL_LEADER_CHECK_MAX_MS) {
			step_down(l, "the lock check is not answered", true);
			return;
		}
		arm(l, 100);
		return;
	}
	leader_ask(l);
}

static void
leader_state(int up, const char *why, void *arg)
{
	struct ctrl_leader *l = arg;

	if (up) {
		if (!l->asking)
			leader_ask(l);
		return;
	}
	/* The session is gone and the lock with it. */
	l->gen++;
	l->asking = false;
	step_down(l, why != NULL ? why : "database connection lost", false);
}

struct ctrl_leader *
ctrl_leader_new(struct event_base *base, const char *conninfo,
    ctrl_leader_cb cb, void *arg, char *err, size_t errlen)
{
	struct ctrl_leader *l;

	if ((l = calloc(1, sizeof(*l))) == NULL ||
	    (l->conninfo = strdup(conninfo)) == NULL ||
	    (l->timer = evtimer_new(base, leader_timer, l)) == NULL) {
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	l->base = base;
	l->cb = cb;
	l->arg = arg;
	if (session_open(l, err, errlen) == -1)
		goto fail;
	arm(l, CTRL_LEADER_CHECK_MAX_MS);	/* in case it never comes up */
	return l;
fail:
	if (l != NULL) {
		if (l->timer != NULL)
			event_free(l->timer);
		free(l->conninfo);
		free(l);
	}
	return NULL;
}

void
ctrl_leader_free(struct ctrl_leader *l)
{
	if (l == NULL)
		return;
	l->gen++;
	db_close(l->db);
	event_free(l->timer);
	free(l->conninfo);
	free(l);
}

/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * controller/session.c — sessions' ends and their VMs' release
 * (controller/session.h).
 *
 * The database is the queue: a session that ends (logout, an operator,
 * a lapsed lease, its desktop gone) only gets "ended" set, in the
 * statement that ends it; the sweep here finds every ended session whose
 * VM is not yet "released" and resets the CVM or shuts the PVM down
 * through its host.  So a release survives a failover, and the VM is
 * never handed to anybody else before it (the broker's pick skips VMs
 * owed one).
 */
#include <config.h>

#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <event2/event.h>

#include "controller/agent.h"
#include "controller/conf.h"
#include "controller/session.h"
#include "controller/sql.h"
#include "db/db.h"
#include "common/log.h"

#define RELEASE_BATCH	100	/* sessions looked at a sweep */

/* A release the sweep has started or that failed lately. */
struct release {
	int64_t		 session;
	bool		 inflight;
	time_t		 retry_at;	/* failed: not before */
	unsigned	 failures;
	struct release	*next;
};

static struct {
	struct event_base *base;
	struct db	*db;
	struct event	*timer;
	unsigned	 grace_s;
	bool		 sweeping;	/* a sweep's queries are out */
	struct release	*releases;
	unsigned long	 generation;	/* bumped by stop: late answers dropped */
} session_state;

static struct release *
release_find(int64_t session, bool create)
{
	struct release *r;

	for (r = session_state.releases; r != NULL; r = r->next)
		if (r->session == session)
			return r;
	if (!create || (r = calloc(1, sizeof(*r))) == NULL)
		return NULL;
	r->session = session;
	r->next = session_state.releases;
	session_state.releases = r;
	return r;
}

static void
release_forget(int64_t session)
{
	struct release **rp, *r;

	for (rp = &session_state.releases; (r = *rp) != NULL; rp = &r->next)
		if (r->session == session) {
			*rp = r->next;
			free(r);
			return;
		}
}

static void
noted(PGresult *res, const char *err, void *arg)
{
	(void)res;
	if (err != NULL)
		log_warnx("sessions: %s: %s", (const char *)arg, err);
}

static void
mark_released(int64_t session, const char *how)
{
	char	 id[24];
	const char *p[2] = { id, how };

	snprintf(id, sizeof(id), "%" PRId64, session);
	if (session_state.db != NULL)
		db_query(session_state.db, DB_IDEMPOTENT, noted,
		    "release not recorded", sql_session_released, 2, p);
}

/* What an op's callback needs to find its release again. */
struct release_op {
	int64_t		 session;
	unsigned long	 generation;
	char		 vm[AGENT_VM_MAX + 1];
	const char	*how;
};

static void
release_done(const char *host, const struct agent_result *res, void *arg)
{
	struct release_op *ro = arg;
	struct release *r;
	char	 id[24];
	const char *p[4];

	if (ro->generation != session_state.generation ||
	    session_state.db == NULL) {
		free(ro);
		return;
	}
	if (res->ok) {
		log_info("sessions: %s %s on %s after session %" PRId64,
		    ro->vm, ro->how, host, ro->session);
		mark_released(ro->session, ro->how);
		release_forget(ro->session);
		free(ro);
		return;
	}
	if ((r = release_find(ro->session, true)) != NULL) {
		r->inflight = false;
		r->retry_at = time(NULL) + CTRL_SESSION_RETRY_S;
		/* Said once, not at every retry. */
		if (r->failures++ == 0) {
			snprintf(id, sizeof(id), "%" PRId64, ro->session);
			p[0] = id;
			p[1] = ro->vm;
			p[2] = res->code;
			p[3] = res->message;
			db_query(session_state.db, 0, noted,
			    "event not written", sql_session_failed, 4, p);
		}
	}
	log_warnx("sessions: %s not %s on %s: %s %s; trying again in %d s",
	    ro->vm, ro->how, host, res->code, res->message,
	    CTRL_SESSION_RETRY_S);
	free(ro);
}

/*
 * One owed release: done already by the host's own state, to do now, or
 * to wait for (a transient state, a host away).
 */
static void
release_one(int64_t session, const char *vm, const char *kind,
    const char *state, const char *host, bool host_up)
{
	struct release *r;
	struct release_op *ro;
	struct agent_op op;
	enum vm_state st = (enum vm_state)vm_state_from_name(state);
	bool	 pvm = strcmp(kind, "pvm") == 0;

	if ((r = release_find(session, false)) != NULL &&
	    (r->inflight || time(NULL) < r->retry_at))
		return;
	memset(&op, 0, sizeof(op));
	switch (st) {
	case VM_S_INACTIVE:
	case VM_S_RESETTING:
	case VM_S_STOPPING:
	case VM_S_SAVED:
		/* Gone, going, or kept as an image: nothing left to undo. */
		mark_released(session, "by its host");
		release_forget(session);
		return;
	case VM_S_READY:
	case VM_S_RUNNING:
	case VM_S_PAUSED:
		op.action = pvm ? AGENT_A_SHUTDOWN : AGENT_A_RESET;
		break;
	case VM_S_FAILED:
		op.action = pvm ? AGENT_A_DESTROY : AGENT_A_RESET;
		break;
	default:
		return;	/* on its way somewhere: the next sweep looks again */
	}
	if (host[0] == '\0') {
		mark_released(session, "no host");
		release_forget(session);
		return;
	}
	if (!host_up)
		return;		/* its host's return will tell */
	snprintf(op.vm, sizeof(op.vm), "%s", vm);
	if ((ro = calloc(1, sizeof(*ro))) == NULL ||
	    (r = release_find(session, true)) == NULL) {
		free(ro);
		return;
	}
	ro->session = session;
	ro->generation = session_state.generation;
	memcpy(ro->vm, op.vm, sizeof(ro->vm));
	ro->how = agent_action_names[op.action];
	if (ctrl_host_op(host, &op, 0, release_done, ro) == -1) {
		free(ro);
		return;		/* not connected: later */
	}
	r->inflight = true;
}

static void
owed(PGresult *res, const char *err, void *arg)
{
	int	 i;

	if ((unsigned long)(uintptr_t)arg != session_state.generation)
		return;
	session_state.sweeping = false;
	if (err != NULL) {
		log_warnx("sessions: releases owed: %s", err);
		return;
	}
	for (i = 0; i < PQntuples(res); i++)
		release_one(strtoll(PQgetvalue(res, i, 0), NULL, 10),
		    PQgetvalue(res, i, 1), PQgetvalue(res, i, 2),
		    PQgetvalue(res, i, 3), PQgetvalue(res, i, 4),
		    !PQgetisnull(res, i, 5) && PQgetvalue(res, i, 5)[0] == 't');
}

static void
lapsed(PGresult *res, const char *err, void *arg)
{
	(void)arg;
	if (err != NULL)
		log_warnx("sessions: lapsed leases: %s", err);
	else if (strcmp(PQgetvalue(res, 0, 0), "0") != 0)
		log_info("sessions: %s session(s) ended: lease lapsed",
		    PQgetvalue(res, 0, 0));
}

static void
sweep(evutil_socket_t fd, short what, void *arg)
{
	struct timeval tv = { CTRL_SESSION_SWEEP_S, 0 };
	char	 grace[16];
	const char *p[1] = { grace };

	(void)fd;
	(void)what;
	(void)arg;
	evtimer_add(session_state.timer, &tv);
	/* A database slower than the sweep: do not pile sweeps up. */
	if (session_state.sweeping || session_state.db == NULL ||
	    !db_isup(session_state.db))
		return;
	snprintf(grace, sizeof(grace), "%u", session_state.grace_s);
	if (db_query(session_state.db, DB_IDEMPOTENT, lapsed, NULL,
	    sql_session_lapse, 1, p) == -1)
		return;
	if (db_query(session_state.db, DB_IDEMPOTENT, owed,
	    (void *)(uintptr_t)session_state.generation, sql_session_owed, 0,
	    NULL) == 0)
		session_state.sweeping = true;
}

/*
 * A host reported vm gone from "from" to "to" (controller/agent.h).  A
 * desktop that was up (ready or running) and is now being reset, stopped,
 * gone or failed ended on its host (the guest's session was over for
 * longer than the host's grace, or the domain died): its open session ends.
 */
static void
vm_state_reported(const char *vm, enum vm_state from, enum vm_state to)
{
	const char *p[3];
	char	 why[48];

	if (session_state.db == NULL || (from != VM_S_READY &&
	    from != VM_S_RUNNING))
		return;
	if (to != VM_S_RESETTING && to != VM_S_STOPPING &&
	    to != VM_S_INACTIVE && to != VM_S_FAILED)
		return;
	snprintf(why, sizeof(why), "desktop-%s", vm_state_names[to]);
	p[0] = vm;
	p[1] = why;
	/* A failed desktop still owes its reset; the others are on their way. */
	p[2] = to == VM_S_FAILED ? "owed" : "released";
	db_query(session_state.db, DB_IDEMPOTENT, noted,
	    "a desktop's end not recorded", sql_session_vm_gone, 3, p);
}

int
ctrl_session_start(struct event_base *base, struct db *db,
    const struct ctrl_conf *conf)
{
	struct timeval tv = { CTRL_SESSION_SWEEP_S, 0 };

	if (session_state.timer != NULL)
		return 0;
	session_state.base = base;
	session_state.db = db;
	ctrl_agent_on_vm_state(vm_state_reported);
	session_state.grace_s = conf->session_grace;
	session_state.sweeping = false;
	if ((session_state.timer = evtimer_new(base, sweep, NULL)) == NULL) {
		log_warnx("sessions: cannot make the sweep's timer");
		session_state.db = NULL;
		return -1;
	}
	evtimer_add(session_state.timer, &tv);
	return 0;
}

void
ctrl_session_reconf(const struct ctrl_conf *conf)
{
	session_state.grace_s = conf->session_grace;
}

void
ctrl_session_stop(void)
{
	struct release *r;

	if (session_state.timer == NULL)
		return;
	event_free(session_state.timer);
	session_state.timer = NULL;
	session_state.db = NULL;
	session_state.generation++;
	while ((r = session_state.releases) != NULL) {
		session_state.releases = r->next;
		free(r);
	}
}

/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * controller/pool.c — the pools' upkeep (see controller/pool.h).  A tick is a
 * chain of queries answered in order: operators' retry events, missing rows
 * created, surplus rows removed, then every pool's VMs read at once; the
 * decisions are made in memory and carried out one VM at a time, each
 * claimed by a guarded statement before its op goes to the host.
 *
 * A pool's members are the rows named "<pool>-1" ... "<pool>-<size>";
 * any other CVM row of the pool is surplus.  What is in flight, and the
 * failure counts, are in memory only: a new active controller starts
 * afresh (its hosts' state reports tell it where things are).
 */
#include <config.h>

#include <sys/queue.h>

#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <event2/event.h>

#include "agent/msg.h"
#include "controller/agent.h"
#include "controller/cluster.h"
#include "controller/conf.h"
#include "controller/pool.h"
#include "controller/power.h"
#include "controller/sql.h"
#include "db/db.h"
#include "common/log.h"
#include "common/vm_fsm.h"

#define POOL_NAME_MAX	63

/* One CVM row as the tick reads it. */
struct row {
	char		 id[24];
	char		 name[AGENT_VM_MAX + 1];
	enum vm_state	 state;
	char		 host[AGENT_HOST_MAX + 1];	/* "" none */
	char		 pool_id[24];
	char		 pool[POOL_NAME_MAX + 1];
	char		 template[AGENT_TMPL_MAX + 1];
	unsigned	 mem_mib;
	long long	 idle_s;		/* since its state changed */
	bool		 session;	/* open, or its release owed: the broker's */
	bool		 surplus;
	bool		 migrating;	/* the balancer's */
	long		 target;
	long long	 idle_pause, idle_save;	/* -1: never */
};

/* A decision, carried out when the throttle allows. */
struct act {
	size_t		 row;
	enum agent_action action;
	enum vm_state	 mid;		/* the transient state claimed */
	const char	*why;
};

/* A power operation in flight. */
struct flight {
	TAILQ_ENTRY(flight) entry;
	char		 vm[AGENT_VM_MAX + 1];
	char		 host[AGENT_HOST_MAX + 1];
	char		 pool[POOL_NAME_MAX + 1];
	char		 template[AGENT_TMPL_MAX + 1];
	enum agent_action action;	/* the op the upkeep wants done */
	enum vm_state	 from, mid;
	bool		 defining;	/* the define before a start (or a
					   restore elsewhere) is out */
	bool		 placed;	/* the host was chosen for it */
	/* "" or the host a Saved VM is restored away from */
	char		 left[AGENT_HOST_MAX + 1];
};
TAILQ_HEAD(flights, flight);

/* Consecutive failures of a VM or a host. */
struct fail {
	TAILQ_ENTRY(fail) entry;
	bool		 host;
	char		 name[AGENT_VM_MAX + 1];
	unsigned	 n;
	bool		 given_up;
	bool		 seen_gone;	/* a host: disconnected since */
};
TAILQ_HEAD(fails, fail);

/*
 * A row seen Starting with no op of ours out for it: a controller that
 * died between its claim and its op leaves one, which no host may know.
 */
struct stale {
	TAILQ_ENTRY(stale) entry;
	char		 id[24];
	char		 name[AGENT_VM_MAX + 1];
	struct timespec	 since;
	bool		 seen;		/* in this tick's read */
};
TAILQ_HEAD(stales, stale);

static struct {
	struct event_base *base;
	struct db	*db;
	struct event	*timer;
	bool		 running;
	bool		 busy;		/* a tick under way */
	bool		 claiming;	/* a claim's answer awaited */
	unsigned	 interval, host_ops, cluster_ops, give_up;
	unsigned	 op_timeout;
	struct stales	 stales;
	long long	 last_event;	/* retry events read up to; -1 unknown */
	struct flights	 flights;
	struct fails	 fails;
	struct row	*rows;
	size_t		 nrows;
	struct act	*acts;
	size_t		 nacts, next_act;
} pool_state;

/* Queries. */

static void	tick_done(void);
static void	next_act(void);

static void
logged(PGresult *res, const char *err, void *arg)
{
	(void)res;
	if (err != NULL)
		log_warnx("pool: %s: %s", (const char *)arg, err);
}

static void
write_sql(const char *what, const char *sql, int n, const char *const *p)
{
	if (pool_state.db == NULL || !pool_state.running)
		return;
	if (db_query(pool_state.db, 0, logged, (void *)what, sql, n, p) == -1)
		log_warnx("pool: cannot queue %s", what);
}

/* Failures. */

static struct fail *
fail_find(bool host, const char *name, bool add)
{
	struct fail *f;

	TAILQ_FOREACH(f, &pool_state.fails, entry)
		if (f->host == host && strcmp(f->name, name) == 0)
			return f;
	if (!add || (f = calloc(1, sizeof(*f))) == NULL)
		return NULL;
	f->host = host;
	snprintf(f->name, sizeof(f->name), "%s", name);
	TAILQ_INSERT_TAIL(&pool_state.fails, f, entry);
	return f;
}

static void
fail_clear(bool host, const char *name, const char *why)
{
	struct fail *f;
	const char *p[3];

	if ((f = fail_find(host, name, false)) == NULL)
		return;
	if (f->given_up) {
		log_info("pool: %s %s: tried again (%s)", host ? "host" : "VM",
		    name, why);
		p[0] = host ? "host-retried" : "vm-retried";
		p[1] = name;
		p[2] = why;
		write_sql("a retry's event", sql_pool_note, 3, p);
		if (host)
			ctrl_cluster_exclude(name, false);
	}
	TAILQ_REMOVE(&pool_state.fails, f, entry);
	free(f);
}

static bool
given_up(bool host, const char *name)
{
	struct fail *f = fail_find(host, name, false);

	return f != NULL && f->given_up;
}

/* One more failure; the count. */
static unsigned
fail_bump(bool host, const char *name)
{
	struct fail *f;

	if ((f = fail_find(host, name, true)) == NULL)
		return 0;
	return ++f->n;
}

/* At the limit: given up, with its event. */
static void
fail_check(bool host, const char *name, const char *last)
{
	struct fail *f;
	const char *p[5];
	char	 n[16];

	if ((f = fail_find(host, name, false)) == NULL || f->given_up ||
	    f->n < pool_state.give_up)
		return;
	f->given_up = true;
	f->seen_gone = false;
	log_warnx("pool: %s %s given up after %u failures in a row",
	    host ? "host" : "VM", name, f->n);
	snprintf(n, sizeof(n), "%u", f->n);
	p[0] = host ? "host-given-up" : "vm-given-up";
	p[1] = name;
	p[2] = n;
	p[3] = last;
	p[4] = host ? "when its xvdsd connects again, or on an event "
	    "host-retry naming it" : "on an event vm-retry naming it";
	write_sql("a give-up's event", sql_pool_given_up, 5, p);
	if (host)
		ctrl_cluster_exclude(name, true);
}

/* A host given up is tried again once its agent has reconnected. */
static void
hosts_back(void)
{
	struct fail *f, *next;

	for (f = TAILQ_FIRST(&pool_state.fails); f != NULL; f = next) {
		next = TAILQ_NEXT(f, entry);
		if (!f->host || !f->given_up)
			continue;
		if (ctrl_host_figures(f->name) == NULL)
			f->seen_gone = true;
		else if (f->seen_gone)
			fail_clear(true, f->name, "its xvdsd connected again");
	}
}

/* Flights. */

static bool
in_flight(const char *vm)
{
	struct flight *f;

	TAILQ_FOREACH(f, &pool_state.flights, entry)
		if (strcmp(f->vm, vm) == 0)
			return true;
	return false;
}

static void	op_done(const char *, const struct agent_result *, void *);

static int
send_op(struct flight *f, enum agent_action action)
{
	struct agent_op op;

	memset(&op, 0, sizeof(op));
	snprintf(op.vm, sizeof(op.vm), "%s", f->vm);
	op.action = action;
	if (action == AGENT_A_DEFINE) {
		snprintf(op.template, sizeof(op.template), "%s", f->template);
		op.kind = VM_CVM;
	}
	f->defining = action == AGENT_A_DEFINE;
	return ctrl_host_op(f->host, &op, 0, op_done, f) == -1 ? -1 : 0;
}

static void
flight_failed(struct flight *f, const char *code, const char *msg)
{
	const char *p[8];
	char	 n[16], what[32];
	unsigned vmn, hostn;
	bool	 host_fault;

	if (f->placed && f->defining)
		ctrl_cluster_unplace(f->host, f->vm);
	snprintf(what, sizeof(what), "%s%s", f->defining ? "define for " : "",
	    agent_action_names[f->action]);
	/* The host's fault when it fails the op, not when it went away. */
	host_fault = strcmp(code, "disconnected") != 0 &&
	    strcmp(code, "stopped") != 0;
	vmn = fail_bump(false, f->vm);
	hostn = host_fault ? fail_bump(true, f->host) : 0;
	log_warnx("pool: %s on %s: %s failed: %s: %s (%u in a row; host %u)",
	    f->vm, f->host, what, code, msg, vmn, hostn);
	snprintf(n, sizeof(n), "%u", vmn);
	p[0] = f->vm;
	p[1] = vm_state_names[f->from];
	p[2] = vm_state_names[f->mid];
	p[3] = what;
	p[4] = f->host;
	p[5] = code;
	p[6] = msg;
	p[7] = n;
	write_sql("a failed op's event", sql_pool_failed, 8, p);
	fail_check(false, f->vm, code);
	if (host_fault)
		fail_check(true, f->host, code);
}

static void
flight_end(struct flight *f)
{
	TAILQ_REMOVE(&pool_state.flights, f, entry);
	ctrl_power_give(f->host);
	free(f);
	/* A slot freed: a tick waiting on the throttle may go on. */
	if (pool_state.running && pool_state.busy &&
	    pool_state.next_act < pool_state.nacts)
		next_act();
}

static void
op_done(const char *host, const struct agent_result *r, void *arg)
{
	struct flight *f = arg;

	(void)host;
	if (!pool_state.running) {
		TAILQ_REMOVE(&pool_state.flights, f, entry);
		ctrl_power_give(f->host);
		free(f);
		return;
	}
	if (f->defining && (r->ok || strcmp(r->code, "exists") == 0)) {
		if (send_op(f, f->action) == 0)
			return;
		flight_failed(f, "disconnected", "the host went away");
		flight_end(f);
		return;
	}
	if (!r->ok) {
		flight_failed(f, r->code[0] != '\0' ? r->code : "failed",
		    r->message);
		flight_end(f);
		return;
	}
	log_debug("pool: %s on %s: %s done", f->vm, f->host,
	    agent_action_names[f->action]);
	if (f->action == AGENT_A_RESTORE && f->left[0] != '\0' &&
	    strcmp(f->left, f->host) != 0)
		ctrl_host_forget(f->left, f->vm);
	fail_clear(false, f->vm, "an op on it succeeded");
	fail_clear(true, f->host, "an op on it succeeded");
	flight_end(f);
}

/* Decisions. */

static bool
host_ok(const char *host)
{
	return host[0] != '\0' && ctrl_cluster_load(host) >= 0 &&
	    !given_up(true, host);
}

/* A Saved VM's own host is the best for it unless the rule says no. */
static bool
restore_elsewhere(const struct row *r)
{
	enum policy_reason why;

	return !host_ok(r->host) ||
	    ctrl_cluster_admits(r->host, r->mem_mib, &why) == 0;
}

/* Free for the upkeep: no session, no migration, nothing in flight. */
static bool
free_row(const struct row *r)
{
	return !r->session && !r->migrating && !in_flight(r->name) &&
	    !given_up(false, r->name);
}

/*
 * A decision: the op, and the state its row is claimed in while it runs,
 * which common/vm_fsm.c's table gives (xvdsd's machine, the same op).
 */
static int
add_act(size_t row, enum agent_action action, const char *why)
{
	struct act *a;
	int	 mid;

	mid = vm_fsm_op_marks(VM_CVM, pool_state.rows[row].state,
	    (enum vm_event)ctrl_agent_action_event(action));
	if (mid < 0) {
		log_warnx("pool: %s: no %s from %s", pool_state.rows[row].name,
		    agent_action_names[action],
		    vm_state_names[pool_state.rows[row].state]);
		return -1;
	}
	if ((a = reallocarray(pool_state.acts, pool_state.nacts + 1,
	    sizeof(*a))) == NULL) {
		log_warn("%s", __func__);
		return -1;
	}
	pool_state.acts = a;
	a[pool_state.nacts].row = row;
	a[pool_state.nacts].action = action;
	a[pool_state.nacts].mid = (enum vm_state)mid;
	a[pool_state.nacts].why = why;
	pool_state.nacts++;
	return 0;
}

/*
 * Rows Starting with nothing of ours out for them, for twice the op
 * timeout: back to Inactive, so that upkeep starts them again.
 */
static void
sweep_stale(void)
{
	struct stale *st, *next;
	struct timespec now;
	const struct row *r;
	const char *p[2];
	char	 secs[16];
	size_t	 i;

	clock_gettime(CLOCK_MONOTONIC, &now);
	TAILQ_FOREACH(st, &pool_state.stales, entry)
		st->seen = false;
	for (i = 0; i < pool_state.nrows; i++) {
		r = &pool_state.rows[i];
		if (r->state != VM_S_STARTING || r->session ||
		    in_flight(r->name))
			continue;
		TAILQ_FOREACH(st, &pool_state.stales, entry)
			if (strcmp(st->id, r->id) == 0)
				break;
		if (st == NULL) {
			if ((st = calloc(1, sizeof(*st))) == NULL)
				continue;
			snprintf(st->id, sizeof(st->id), "%s", r->id);
			snprintf(st->name, sizeof(st->name), "%s", r->name);
			st->since = now;
			TAILQ_INSERT_TAIL(&pool_state.stales, st, entry);
		}
		st->seen = true;
	}
	for (st = TAILQ_FIRST(&pool_state.stales); st != NULL; st = next) {
		next = TAILQ_NEXT(st, entry);
		if (st->seen && now.tv_sec - st->since.tv_sec <
		    2 * (time_t)pool_state.op_timeout)
			continue;
		if (st->seen) {
			log_warnx("pool: %s: starting with no op out for it; "
			    "back to inactive", st->name);
			snprintf(secs, sizeof(secs), "%lld",
			    (long long)(now.tv_sec - st->since.tv_sec));
			p[0] = st->id;
			p[1] = secs;
			write_sql("a stale row", sql_pool_stale, 2, p);
		}
		TAILQ_REMOVE(&pool_state.stales, st, entry);
		free(st);
	}
}

/* The rows [from, to) are one pool's, oldest change first. */
static void
decide_pool(size_t from, size_t to)
{
	const struct row *r;
	long	 ready = 0, coming = 0, need, pausable;
	bool	*up;
	size_t	 i;

	if ((up = calloc(to - from, sizeof(*up))) == NULL)
		return;
	for (i = from; i < to; i++) {
		r = &pool_state.rows[i];
		if (r->surplus || r->session)
			continue;
		if (r->state == VM_S_READY)
			ready++;
		else if (r->state == VM_S_STARTING ||
		    r->state == VM_S_UNPAUSING || r->state == VM_S_RESTORING)
			coming++;
	}
	/* The Ready target first: paused ones come back fastest. */
	need = pool_state.rows[from].target - ready - coming;
	for (i = from; i < to && need > 0; i++) {
		r = &pool_state.rows[i];
		if (!r->surplus && r->state == VM_S_PAUSED && free_row(r) &&
		    add_act(i, AGENT_A_UNPAUSE,
		    "ready-target") == 0) {
			up[i - from] = true;
			need--;
		}
	}
	for (i = from; i < to && need > 0; i++) {
		r = &pool_state.rows[i];
		if (!r->surplus && r->state == VM_S_SAVED && free_row(r) &&
		    add_act(i, AGENT_A_RESTORE,
		    "ready-target") == 0) {
			up[i - from] = true;
			need--;
		}
	}
	/* Every member is up (Ready) after it is made. */
	for (i = from; i < to; i++) {
		r = &pool_state.rows[i];
		if (!r->surplus && r->state == VM_S_INACTIVE && free_row(r))
			add_act(i, AGENT_A_START, "member");
	}
	/* Idle: beyond the Ready target, the longest idle first. */
	pausable = ready - pool_state.rows[from].target;
	for (i = from; i < to && pausable > 0; i++) {
		r = &pool_state.rows[i];
		if (r->idle_pause < 0)
			break;
		if (!r->surplus && r->state == VM_S_READY && free_row(r) &&
		    r->idle_s >= r->idle_pause &&
		    add_act(i, AGENT_A_PAUSE, "idle") == 0)
			pausable--;
	}
	for (i = from; i < to; i++) {
		r = &pool_state.rows[i];
		if (r->idle_save < 0)
			break;
		if (!r->surplus && r->state == VM_S_PAUSED && free_row(r) &&
		    !up[i - from] && r->idle_s >= r->idle_save)
			add_act(i, AGENT_A_SAVE, "idle");
	}
	/* Surplus: the pool shrank. */
	for (i = from; i < to; i++) {
		r = &pool_state.rows[i];
		if (r->surplus && free_row(r) && (r->state == VM_S_READY ||
		    r->state == VM_S_PAUSED || r->state == VM_S_SAVED ||
		    r->state == VM_S_FAILED))
			add_act(i, AGENT_A_DESTROY, "surplus");
	}
	free(up);
}

static void
claimed(PGresult *res, const char *err, void *arg)
{
	struct flight *f = arg;

	pool_state.claiming = false;
	if (!pool_state.running) {
		free(f);
		return;
	}
	if (err != NULL || strcmp(PQgetvalue(res, 0, 0), "1") != 0) {
		/* Taken meanwhile (a login, a report): nothing was sent. */
		if (err != NULL)
			log_warnx("pool: %s: claim: %s", f->vm, err);
		if (f->placed)
			ctrl_cluster_unplace(f->host, f->vm);
		free(f);
		next_act();
		return;
	}
	TAILQ_INSERT_TAIL(&pool_state.flights, f, entry);
	/* Counted even past the limits, which the broker may have filled
	 * since the check: this VM is claimed already. */
	ctrl_power_take(f->host);
	if (send_op(f, f->action == AGENT_A_START || f->placed ?
	    AGENT_A_DEFINE : f->action) == -1) {
		flight_failed(f, "disconnected", "the host is not connected");
		TAILQ_REMOVE(&pool_state.flights, f, entry);
		ctrl_power_give(f->host);
		free(f);
	}
	next_act();
}

static const char *const event_kinds[AGENT_A__COUNT] = {
	[AGENT_A_START] = "pool-start",
	[AGENT_A_PAUSE] = "pool-pause",
	[AGENT_A_UNPAUSE] = "pool-unpause",
	[AGENT_A_SAVE] = "pool-save",
	[AGENT_A_RESTORE] = "pool-restore",
	[AGENT_A_DESTROY] = "pool-destroy",
};

/*
 * The next decision the throttle allows, claimed; the tick ends when
 * none is left.  A decision whose host is at its limit waits for a later
 * tick; at the cluster's limit the tick waits for a slot.
 */
static void
next_act(void)
{
	const struct act *a;
	const struct row *r;
	struct flight *f;
	enum policy_reason why;
	const char *p[8];
	bool	 place;

	if (pool_state.claiming)
		return;		/* claimed() calls again */
	while (pool_state.next_act < pool_state.nacts) {
		if (ctrl_power_inflight(NULL) >= pool_state.cluster_ops)
			return;		/* flight_end calls again */
		a = &pool_state.acts[pool_state.next_act++];
		r = &pool_state.rows[a->row];
		if (!free_row(r))
			continue;
		if ((f = calloc(1, sizeof(*f))) == NULL) {
			log_warn("%s", __func__);
			continue;
		}
		snprintf(f->vm, sizeof(f->vm), "%s", r->name);
		snprintf(f->pool, sizeof(f->pool), "%s", r->pool);
		snprintf(f->template, sizeof(f->template), "%s", r->template);
		f->action = a->action;
		f->from = r->state;
		f->mid = a->mid;
		/*
		 * A VM not yet made, or whose host is gone, goes elsewhere;
		 * so does a Saved one whose host the placement rule would
		 * not pick now, its image being on the shared store (xvdsd
		 * defines it there as Saved; controller/login.c does the same).
		 */
		place = (a->action == AGENT_A_START && !host_ok(r->host)) ||
		    (a->action == AGENT_A_RESTORE && restore_elsewhere(r));
		if (place) {
			if (ctrl_cluster_place(r->name, r->mem_mib, f->host,
			    &why) == -1) {
				log_debug("pool: %s: no host: %s", r->name,
				    policy_reason_names[why]);
				free(f);
				continue;
			}
			f->placed = true;
			if (a->action == AGENT_A_RESTORE)
				snprintf(f->left, sizeof(f->left), "%s",
				    r->host);
		} else if (!host_ok(r->host)) {
			free(f);
			continue;
		} else
			snprintf(f->host, sizeof(f->host), "%s", r->host);
		if (ctrl_power_inflight(f->host) >= pool_state.host_ops) {
			if (f->placed)
				ctrl_cluster_unplace(f->host, f->vm);
			free(f);
			continue;
		}
		p[0] = r->id;
		p[1] = vm_state_names[r->state];
		p[2] = vm_state_names[a->mid];
		p[3] = f->placed ? f->host : NULL;
		p[4] = event_kinds[a->action];
		p[5] = r->pool;
		p[6] = f->host;
		p[7] = a->why;
		if (db_query(pool_state.db, 0, claimed, f, sql_pool_claim, 8,
		    p) == -1) {
			log_warnx("pool: %s: cannot queue its claim", r->name);
			if (f->placed)
				ctrl_cluster_unplace(f->host, f->vm);
			free(f);
			continue;
		}
		pool_state.claiming = true;
		return;		/* claimed() goes on */
	}
	tick_done();
}

/* The tick's chain. */

static void
copy_field(char *dst, size_t len, PGresult *res, int i, int j)
{
	snprintf(dst, len, "%s", PQgetvalue(res, i, j));
}

static void
read_done(PGresult *res, const char *err, void *arg)
{
	struct row *r;
	size_t	 i, from;
	int	 n, st;

	(void)arg;
	if (!pool_state.running)
		return;
	if (err != NULL) {
		log_warnx("pool: cannot read the pools: %s", err);
		tick_done();
		return;
	}
	n = PQntuples(res);
	free(pool_state.rows);
	pool_state.rows = NULL;
	pool_state.nrows = 0;
	if (n > 0 && (pool_state.rows = calloc((size_t)n,
	    sizeof(*pool_state.rows))) == NULL) {
		log_warn("%s", __func__);
		tick_done();
		return;
	}
	for (i = 0; i < (size_t)n; i++) {
		r = &pool_state.rows[pool_state.nrows];
		copy_field(r->id, sizeof(r->id), res, (int)i, 0);
		copy_field(r->name, sizeof(r->name), res, (int)i, 1);
		if ((st = vm_state_from_name(PQgetvalue(res, (int)i, 2))) < 0)
			continue;
		r->state = (enum vm_state)st;
		copy_field(r->host, sizeof(r->host), res, (int)i, 3);
		copy_field(r->pool_id, sizeof(r->pool_id), res, (int)i, 4);
		copy_field(r->pool, sizeof(r->pool), res, (int)i, 5);
		copy_field(r->template, sizeof(r->template), res, (int)i, 6);
		r->mem_mib = (unsigned)strtoul(PQgetvalue(res, (int)i, 7), NULL,
		    10);
		r->idle_s = strtoll(PQgetvalue(res, (int)i, 8), NULL, 10);
		r->session = PQgetvalue(res, (int)i, 9)[0] == 't';
		r->surplus = PQgetvalue(res, (int)i, 10)[0] == 't';
		r->migrating = PQgetvalue(res, (int)i, 11)[0] == 't';
		r->target = strtol(PQgetvalue(res, (int)i, 12), NULL, 10);
		r->idle_pause = strtoll(PQgetvalue(res, (int)i, 13), NULL, 10);
		r->idle_save = strtoll(PQgetvalue(res, (int)i, 14), NULL, 10);
		pool_state.nrows++;
	}
	free(pool_state.acts);
	pool_state.acts = NULL;
	pool_state.nacts = pool_state.next_act = 0;
	sweep_stale();
	for (from = i = 0; i <= pool_state.nrows; i++)
		if (i == pool_state.nrows || strcmp(pool_state.rows[i].pool_id,
		    pool_state.rows[from].pool_id) != 0) {
			if (i > from)
				decide_pool(from, i);
			from = i;
		}
	next_act();
}

static void
removed_done(PGresult *res, const char *err, void *arg)
{
	(void)arg;
	if (!pool_state.running)
		return;
	if (err != NULL)
		log_warnx("pool: cannot remove surplus rows: %s", err);
	else if (strcmp(PQcmdTuples(res), "0") != 0)
		log_info("pool: %s surplus VM row(s) removed", PQcmdTuples(res));
	if (db_query(pool_state.db, DB_IDEMPOTENT, read_done, NULL,
	    sql_pool_read, 0, NULL) == -1)
		tick_done();
}

/* The VMs with an op of ours out, a name a line; NULL if out of memory. */
static char *
flight_names(void)
{
	struct flight *f;
	size_t	 n = 1, len = 0;
	char	*names;

	TAILQ_FOREACH(f, &pool_state.flights, entry)
		n += strlen(f->vm) + 1;
	if ((names = malloc(n)) == NULL)
		return NULL;
	TAILQ_FOREACH(f, &pool_state.flights, entry)
		len += (size_t)snprintf(names + len, n - len, "%s%s",
		    len > 0 ? "\n" : "", f->vm);
	names[len] = '\0';
	return names;
}

static void
created_done(PGresult *res, const char *err, void *arg)
{
	const char *p[1];
	char	*names;

	(void)arg;
	if (!pool_state.running)
		return;
	if (err != NULL)
		log_warnx("pool: cannot create the pools' rows: %s", err);
	else if (strcmp(PQgetvalue(res, 0, 0), "0") != 0)
		log_info("pool: %s VM row(s) created", PQgetvalue(res, 0, 0));
	if ((p[0] = names = flight_names()) == NULL ||
	    db_query(pool_state.db, 0, removed_done, NULL, sql_pool_remove, 1,
	    p) == -1)
		tick_done();
	free(names);
}

static void
closed_done(PGresult *res, const char *err, void *arg)
{
	(void)arg;
	if (!pool_state.running)
		return;
	if (err != NULL)
		log_warnx("pool: cannot read the hosts' states: %s", err);
	else
		ctrl_cluster_set_closed(PQgetvalue(res, 0, 0));
	if (db_query(pool_state.db, 0, created_done, NULL, sql_pool_create, 0,
	    NULL) == -1)
		tick_done();
}

static void
retries_done(PGresult *res, const char *err, void *arg)
{
	long long id;
	int	 i;

	(void)arg;
	if (!pool_state.running)
		return;
	if (err != NULL)
		log_warnx("pool: cannot read retry events: %s", err);
	else {
		for (i = 0; i < PQntuples(res); i++) {
			id = strtoll(PQgetvalue(res, i, 0), NULL, 10);
			if (pool_state.last_event >= 0 && !PQgetisnull(res, i,
			    2)) {
				if (strcmp(PQgetvalue(res, i, 1), "vm-retry") == 0)
					fail_clear(false, PQgetvalue(res, i, 2),
					    "an operator's vm-retry");
				else
					fail_clear(true, PQgetvalue(res, i, 2),
					    "an operator's host-retry");
			}
			if (id > pool_state.last_event)
				pool_state.last_event = id;
		}
		if (pool_state.last_event < 0)
			pool_state.last_event = 0;
	}
	hosts_back();
	if (db_query(pool_state.db, DB_IDEMPOTENT, closed_done, NULL,
	    sql_pool_closed, 0,
	    NULL) == -1)
		tick_done();
}

static void
tick(evutil_socket_t fd, short what, void *arg)
{
	const char *p[1];
	char	 last[24];

	(void)fd;
	(void)what;
	(void)arg;
	if (pool_state.busy || !db_isup(pool_state.db))
		return;
	pool_state.busy = true;
	snprintf(last, sizeof(last), "%lld", pool_state.last_event);
	p[0] = last;
	if ((pool_state.last_event < 0 ? db_query(pool_state.db, DB_IDEMPOTENT,
	    retries_done,
	    NULL, sql_pool_retry_init, 0, NULL) : db_query(pool_state.db,
	    DB_IDEMPOTENT,
	    retries_done, NULL, sql_pool_retry, 1, p)) == -1)
		pool_state.busy = false;
}

static void
tick_done(void)
{
	pool_state.busy = false;
}

/* API. */

int
ctrl_pool_start(struct event_base *base, struct db *db,
    const struct ctrl_conf *conf)
{
	struct timeval tv = { conf->upkeep_interval, 0 };

	if (pool_state.running)
		return 0;
	if (pool_state.flights.tqh_last == NULL) {
		TAILQ_INIT(&pool_state.flights);
		TAILQ_INIT(&pool_state.fails);
		TAILQ_INIT(&pool_state.stales);
	}
	pool_state.base = base;
	pool_state.db = db;
	pool_state.interval = conf->upkeep_interval;
	pool_state.host_ops = conf->upkeep_host_ops;
	pool_state.cluster_ops = conf->upkeep_cluster_ops;
	ctrl_power_limits(pool_state.host_ops, pool_state.cluster_ops);
	pool_state.give_up = conf->upkeep_give_up;
	pool_state.op_timeout = conf->op_timeout;
	pool_state.last_event = -1;
	pool_state.busy = false;
	pool_state.claiming = false;
	if ((pool_state.timer = event_new(base, -1, EV_PERSIST, tick,
	    NULL)) == NULL ||
	    event_add(pool_state.timer, &tv) == -1) {
		log_warnx("pool: cannot arm the upkeep's timer");
		if (pool_state.timer != NULL)
			event_free(pool_state.timer);
		pool_state.timer = NULL;
		return -1;
	}
	pool_state.running = true;
	log_info("pool: upkeep every %u s; at most %u ops a host, %u in all; "
	    "given up after %u failures", pool_state.interval,
	    pool_state.host_ops, pool_state.cluster_ops, pool_state.give_up);
	return 0;
}

void
ctrl_pool_reconf(const struct ctrl_conf *conf)
{
	struct timeval tv = { conf->upkeep_interval, 0 };

	if (!pool_state.running)
		return;
	pool_state.host_ops = conf->upkeep_host_ops;
	pool_state.cluster_ops = conf->upkeep_cluster_ops;
	ctrl_power_limits(pool_state.host_ops, pool_state.cluster_ops);
	pool_state.give_up = conf->upkeep_give_up;
	pool_state.op_timeout = conf->op_timeout;
	if (pool_state.interval != conf->upkeep_interval) {
		pool_state.interval = conf->upkeep_interval;
		event_del(pool_state.timer);
		event_add(pool_state.timer, &tv);
	}
	log_info("pool: upkeep every %u s; at most %u ops a host, %u in all; "
	    "given up after %u failures", pool_state.interval,
	    pool_state.host_ops, pool_state.cluster_ops, pool_state.give_up);
}

void
ctrl_pool_stop(void)
{
	struct fail *f;
	struct stale *st;

	if (!pool_state.running)
		return;
	pool_state.running = false;
	while ((st = TAILQ_FIRST(&pool_state.stales)) != NULL) {
		TAILQ_REMOVE(&pool_state.stales, st, entry);
		free(st);
	}
	event_free(pool_state.timer);
	pool_state.timer = NULL;
	pool_state.db = NULL;
	/* Flights and claims end through their callbacks, which free them. */
	while ((f = TAILQ_FIRST(&pool_state.fails)) != NULL) {
		if (f->host && f->given_up)
			ctrl_cluster_exclude(f->name, false);
		TAILQ_REMOVE(&pool_state.fails, f, entry);
		free(f);
	}
	free(pool_state.rows);
	free(pool_state.acts);
	pool_state.rows = NULL;
	pool_state.acts = NULL;
	pool_state.nrows = pool_state.nacts = pool_state.next_act = 0;
}

/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * controller/balance.c — balancing (see controller/balance.h).  A tick plans
 * and then executes: the plan's rows are queued first, so the executor's claim,
 * answered after them, sees them.  The migrations table is the hand-over
 * between the two, so that an operator's row ('planned', reason
 * 'operator') is carried out the same way, and its unique index keeps a
 * VM to one migration at a time whoever plans it.
 *
 * A migration's op goes to the source host's xvdsd with the destination's
 * migration listener (hosts.migration_peer, or its address at port 8002);
 * the hosts authenticate each other with their shared key-file
 * (xvds.conf(5)), which the controller never sees.
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
#include "controller/balance.h"
#include "controller/cluster.h"
#include "controller/conf.h"
#include "controller/sql.h"
#include "db/db.h"
#include "common/log.h"
#include "policy/policy.h"

struct mig {
	TAILQ_ENTRY(mig) entry;
	char		 id[24];
	char		 vm[AGENT_VM_MAX + 1];
	char		 from[AGENT_HOST_MAX + 1];
	char		 to[AGENT_HOST_MAX + 1];
};
TAILQ_HEAD(migs, mig);

/*
 * A candidate given up, remembered so that a host hot for an hour does
 * not write the same event every tick: again only after GIVEN_UP_QUIET
 * seconds, or when the reason or the source changes.
 */
#define GIVEN_UP_QUIET	300
struct gup {
	TAILQ_ENTRY(gup) entry;
	char		 vm[AGENT_VM_MAX + 1];
	char		 from[AGENT_HOST_MAX + 1];
	enum policy_reason why;
	time_t		 at;
};
TAILQ_HEAD(gups, gup);

static struct {
	struct db	*db;
	struct event	*timer;
	bool		 running;
	bool		 claiming;
	struct policy_params params;
	char		 name[16];	/* the policy's, "3B" */
	struct migs	 migs;		/* under way */
	unsigned	 nmigs;
	struct gups	 gups;
} balance_state;

static void	execute(void);

static void
logged(PGresult *res, const char *err, void *arg)
{
	(void)res;
	if (err != NULL)
		log_warnx("balance: %s: %s", (const char *)arg, err);
}

static void
record_end(struct mig *m, bool ok, const char *code, const char *msg)
{
	const char *p[4];

	p[0] = m->id;
	p[1] = ok ? "done" : "failed";
	p[2] = code;
	p[3] = msg;
	if (balance_state.running && db_query(balance_state.db, 0, logged,
	    (void *)"a migration's end", sql_balance_end, 4, p) == -1)
		log_warnx("balance: cannot queue a migration's end");
}

static void
mig_free(struct mig *m)
{
	TAILQ_REMOVE(&balance_state.migs, m, entry);
	balance_state.nmigs--;
	free(m);
}

static void
migrated(const char *host, const struct agent_result *r, void *arg)
{
	struct mig *m = arg;

	(void)host;
	if (r->ok)
		log_info("balance: %s moved from %s to %s", m->vm, m->from, m->to);
	else
		log_warnx("balance: %s from %s to %s failed: %s: %s", m->vm,
		    m->from, m->to, r->code, r->message);
	record_end(m, r->ok, r->code, r->message);
	mig_free(m);
}

static void
claimed(PGresult *res, const char *err, void *arg)
{
	struct agent_op op;
	struct mig *m;
	int	 i;

	(void)arg;
	balance_state.claiming = false;
	if (!balance_state.running)
		return;
	if (err != NULL) {
		log_warnx("balance: cannot claim planned migrations: %s", err);
		return;
	}
	for (i = 0; i < PQntuples(res); i++) {
		if ((m = calloc(1, sizeof(*m))) == NULL) {
			log_warn("%s", __func__);
			return;
		}
		snprintf(m->id, sizeof(m->id), "%s", PQgetvalue(res, i, 0));
		snprintf(m->vm, sizeof(m->vm), "%s", PQgetvalue(res, i, 1));
		snprintf(m->from, sizeof(m->from), "%s", PQgetvalue(res, i, 2));
		snprintf(m->to, sizeof(m->to), "%s", PQgetvalue(res, i, 3));
		TAILQ_INSERT_TAIL(&balance_state.migs, m, entry);
		balance_state.nmigs++;
		memset(&op, 0, sizeof(op));
		snprintf(op.vm, sizeof(op.vm), "%s", m->vm);
		op.action = AGENT_A_MIGRATE;
		op.live = true;
		if (strlen(PQgetvalue(res, i, 4)) >= sizeof(op.host)) {
			record_end(m, false, "invalid", "the destination's "
			    "migration peer is too long");
			mig_free(m);
			continue;
		}
		snprintf(op.host, sizeof(op.host), "%s", PQgetvalue(res, i, 4));
		log_info("balance: %s from %s to %s (%s)", m->vm, m->from, m->to,
		    op.host);
		if (ctrl_host_op(m->from, &op, 0, migrated, m) == -1) {
			record_end(m, false, "disconnected",
			    "the source host is not connected");
			mig_free(m);
		}
	}
}

static void
execute(void)
{
	const char *p[2];
	char	 n[16], port[16];

	if (balance_state.claiming ||
	    balance_state.nmigs >= CTRL_BALANCE_RUNNING_MAX)
		return;
	snprintf(n, sizeof(n), "%u",
	    CTRL_BALANCE_RUNNING_MAX - balance_state.nmigs);
	snprintf(port, sizeof(port), "%u", CTRL_BALANCE_MIGRATION_PORT);
	p[0] = n;
	p[1] = port;
	if (db_query(balance_state.db, 0, claimed, NULL, sql_balance_claim, 2,
	    p) == -1)
		log_warnx("balance: cannot queue the claim of migrations");
	else
		balance_state.claiming = true;
}

/* Was this given up, for the same reason, lately?  Remembers it if not. */
static bool
said_lately(const char *vm, const char *from, enum policy_reason why)
{
	struct gup *g, *next;
	time_t	 now = time(NULL);

	for (g = TAILQ_FIRST(&balance_state.gups); g != NULL; g = next) {
		next = TAILQ_NEXT(g, entry);
		if (now - g->at >= GIVEN_UP_QUIET || now < g->at) {
			TAILQ_REMOVE(&balance_state.gups, g, entry);
			free(g);
		} else if (strcmp(g->vm, vm) == 0) {
			if (strcmp(g->from, from) == 0 && g->why == why)
				return true;
			TAILQ_REMOVE(&balance_state.gups, g, entry);
			free(g);
		}
	}
	if ((g = calloc(1, sizeof(*g))) == NULL)
		return false;
	snprintf(g->vm, sizeof(g->vm), "%s", vm);
	snprintf(g->from, sizeof(g->from), "%s", from);
	g->why = why;
	g->at = now;
	TAILQ_INSERT_TAIL(&balance_state.gups, g, entry);
	return false;
}

/* Writes one tick's plan. */
static void
write_plan(const struct policy_cluster *c, const struct policy_plan *plan)
{
	const struct policy_move *mv;
	const char *p[7];
	char	 reason[128], cpu[32], fl[32], tl[32];
	size_t	 i;

	for (i = 0; i < plan->n; i++) {
		mv = &plan->moves[i];
		p[0] = c->vms[mv->vm].id;
		p[1] = c->hosts[mv->from].id;
		if (mv->to < 0) {
			if (said_lately(p[0], p[1], mv->why))
				continue;
			p[2] = mv->tried >= 0 ? c->hosts[mv->tried].id : NULL;
			p[3] = policy_reason_names[mv->why];
			p[4] = balance_state.name;
			db_query(balance_state.db, 0, logged,
			    (void *)"a given-up migration",
			    sql_balance_given_up, 5, p);
			continue;
		}
		snprintf(reason, sizeof(reason), "policy %s: %s at %.0f%% "
		    "(threshold %.0f)", balance_state.name,
		    c->hosts[mv->from].id, mv->from_load,
		    balance_state.params.threshold);
		snprintf(cpu, sizeof(cpu), "%.2f", mv->cpu);
		snprintf(fl, sizeof(fl), "%.2f", mv->from_load);
		snprintf(tl, sizeof(tl), "%.2f", mv->to_load);
		p[2] = c->hosts[mv->to].id;
		p[3] = reason;
		p[4] = cpu;
		p[5] = fl;
		p[6] = tl;
		log_info("balance: plan %s from %s to %s (%s)", p[0], p[1], p[2],
		    reason);
		db_query(balance_state.db, 0, logged,
		    (void *)"a planned migration", sql_balance_plan, 7, p);
	}
}

static void
tick(evutil_socket_t fd, short what, void *arg)
{
	struct policy_cluster c;
	struct policy_plan plan;

	(void)fd;
	(void)what;
	(void)arg;
	if (!db_isup(balance_state.db))
		return;
	memset(&plan, 0, sizeof(plan));
	if (balance_state.params.guest != POLICY_G_NONE &&
	    ctrl_cluster_view(&c) == 0) {
		/* One VM at a time: not one already under way. */
		if (policy_tick(&c, &balance_state.params, &plan) == 0) {
			ctrl_cluster_keep(&c);
			write_plan(&c, &plan);
		} else
			log_warnx("balance: the policy ran out of memory");
		policy_plan_free(&plan);
		ctrl_cluster_view_free(&c);
	}
	execute();
}

int
ctrl_balance_start(struct event_base *base, struct db *db,
    const struct ctrl_conf *conf)
{
	struct timeval tv = { conf->sample_interval, 0 };

	if (balance_state.running)
		return 0;
	if (balance_state.migs.tqh_last == NULL) {
		TAILQ_INIT(&balance_state.migs);
		TAILQ_INIT(&balance_state.gups);
	}
	balance_state.db = db;
	balance_state.params = conf->policy;
	policy_name(&balance_state.params, balance_state.name,
	    sizeof(balance_state.name));
	balance_state.claiming = false;
	if ((balance_state.timer = event_new(base, -1, EV_PERSIST, tick,
	    NULL)) == NULL ||
	    event_add(balance_state.timer, &tv) == -1) {
		log_warnx("balance: cannot arm the timer");
		if (balance_state.timer != NULL)
			event_free(balance_state.timer);
		balance_state.timer = NULL;
		return -1;
	}
	balance_state.running = true;
	db_query(db, 0, logged, (void *)"failing orphaned migrations",
	    sql_balance_orphans, 0, NULL);
	log_info("balance: policy %s threshold %g every %u s",
	    balance_state.name, balance_state.params.threshold,
	    conf->sample_interval);
	return 0;
}

void
ctrl_balance_reconf(const struct ctrl_conf *conf)
{
	struct timeval tv = { conf->sample_interval, 0 };

	if (!balance_state.running)
		return;
	balance_state.params = conf->policy;
	policy_name(&balance_state.params, balance_state.name,
	    sizeof(balance_state.name));
	event_del(balance_state.timer);
	event_add(balance_state.timer, &tv);
	log_info("balance: policy %s threshold %g every %u s",
	    balance_state.name, balance_state.params.threshold,
	    conf->sample_interval);
}

void
ctrl_balance_stop(void)
{
	struct gup *g;

	if (!balance_state.running)
		return;
	balance_state.running = false;
	while ((g = TAILQ_FIRST(&balance_state.gups)) != NULL) {
		TAILQ_REMOVE(&balance_state.gups, g, entry);
		free(g);
	}
	event_free(balance_state.timer);
	balance_state.timer = NULL;
	/* Under way: their callbacks (the agents' stop) free them. */
	balance_state.db = NULL;
}

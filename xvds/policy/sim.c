/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * policy/sim.c — the paper's experiment on simulated hosts (see policy/sim.h).
 * Time runs in whole seconds.  A VM's load holds from one load event to the
 * next; a host's sample is its VMs' load summed and averaged over the
 * MIGRATE_TERM, as hostd/sample.c measures a real host's CPU time.  Every
 * creation request is placed by policy_place or denied, never retried.
 */
#include <config.h>

#include <stdbool.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "policy/sim.h"

/* The VM's life, beside the policy's view of it (same index). */
struct life {
	unsigned	 loads_left;
	unsigned	 next_load;	/* second of the next load event */
};

struct run {
	const struct sim_params *s;
	const struct policy_params *p;
	uint64_t	 rng;
	struct policy_cluster c;
	struct life	*life;
	double		*acc;		/* per host: load summed over the term */
	struct sim_result *r;
};

/* splitmix64: small, fast, and the same on every machine. */
static uint64_t
next(struct run *u)
{
	uint64_t z = (u->rng += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

/* Uniform in [0, 1). */
static double
uniform(struct run *u)
{
	return (double)(next(u) >> 11) / 9007199254740992.0;
}

/* Uniform integer in [0, n]. */
static unsigned
upto(struct run *u, unsigned n)
{
	return (unsigned)(next(u) % ((uint64_t)n + 1));
}

void
sim_defaults(struct sim_params *s)
{
	memset(s, 0, sizeof(*s));
	s->hosts = 30;
	s->hostmem = 4096;
	s->guests = 400;
	s->guestmem = 368;
	s->migrate_term = 5;
	s->maxload = 50;
	s->loadterm = 3;
	s->minloadterm = 3;
	s->create_term = 1;
	s->min_create_term = 1;
	/* Not in the paper: xvds-sim(1) says why 70. */
	s->maxloadcount = 70;
}

int
sim_set(struct sim_params *s, const char *name, const char *v)
{
	static const struct {
		const char	*name;
		size_t		 off;
		unsigned	 min;
	} u[] = {
		{ "HOSTS", offsetof(struct sim_params, hosts), 1 },
		{ "HOSTMEM", offsetof(struct sim_params, hostmem), 1 },
		{ "GUESTS", offsetof(struct sim_params, guests), 0 },
		{ "GUESTMEM", offsetof(struct sim_params, guestmem), 1 },
		{ "MIGRATE_TERM", offsetof(struct sim_params, migrate_term), 1 },
		{ "LOADTERM", offsetof(struct sim_params, loadterm), 0 },
		{ "MINLOADTERM", offsetof(struct sim_params, minloadterm), 1 },
		{ "GUEST_CREATE_TERM", offsetof(struct sim_params, create_term), 0 },
		{ "MIN_GUEST_CREATE_TERM",
		    offsetof(struct sim_params, min_create_term), 1 },
		{ "MAXLOADCOUNT", offsetof(struct sim_params, maxloadcount), 1 },
		{ "TICKS", offsetof(struct sim_params, ticks), 0 },
	};
	char	*end;
	unsigned long n;
	size_t	 i;

	if (strcasecmp(name, "MAXLOAD") == 0) {
		s->maxload = strtod(v, &end);
		return end != v && *end == '\0' && s->maxload >= 0 ? 0 : -1;
	}
	for (i = 0; i < sizeof(u) / sizeof(u[0]); i++) {
		if (strcasecmp(name, u[i].name) != 0)
			continue;
		if (*v < '0' || *v > '9')
			return -1;
		n = strtoul(v, &end, 10);
		/* Bounded so that a run's seconds fit an unsigned. */
		if (*end != '\0' || n < u[i].min || n > 1000000)
			return -1;
		*(unsigned *)(void *)((char *)s + u[i].off) = (unsigned)n;
		return 0;
	}
	return -1;
}

static void
create(struct run *u, unsigned now)
{
	const struct sim_params *s = u->s;
	enum policy_reason why;
	struct policy_vm *vm;
	long	 h;

	u->r->requests++;
	if ((h = policy_place(&u->c, u->p, s->guestmem, &why)) == -1) {
		if (why == POLICY_R_CPU)
			u->r->deny_cpu++;
		else
			u->r->deny_mem++;
		return;
	}
	vm = &u->c.vms[u->c.nvms];
	memset(vm, 0, sizeof(*vm));
	vm->host = (size_t)h;
	vm->mem_mb = s->guestmem;
	/* Its first load now; the rest at random intervals. */
	vm->cpu = uniform(u) * s->maxload;
	u->life[u->c.nvms].loads_left = upto(u, s->maxloadcount - 1);
	u->life[u->c.nvms].next_load = now + s->minloadterm + upto(u, s->loadterm);
	u->c.hosts[h].mem_used_mb += s->guestmem;
	u->c.nvms++;
	if (u->c.nvms > u->r->max_users)
		u->r->max_users = (unsigned)u->c.nvms;
}

/* The VMs' load events of second now: a new load, or the end. */
static void
loads(struct run *u, unsigned now)
{
	const struct sim_params *s = u->s;
	size_t	 i = 0;

	while (i < u->c.nvms) {
		struct policy_vm *vm = &u->c.vms[i];
		struct life *l = &u->life[i];

		if (l->next_load != now) {
			i++;
			continue;
		}
		if (l->loads_left == 0) {
			/* Ended: the last VM takes its place. */
			u->c.hosts[vm->host].mem_used_mb -= vm->mem_mb;
			*vm = u->c.vms[--u->c.nvms];
			*l = u->life[u->c.nvms];
			continue;
		}
		l->loads_left--;
		vm->cpu = uniform(u) * s->maxload;
		l->next_load = now + s->minloadterm + upto(u, s->loadterm);
		i++;
	}
}

static int
sample(struct run *u, struct policy_plan *plan)
{
	size_t	 h;

	for (h = 0; h < u->c.nhosts; h++) {
		double	 load = u->acc[h] / u->s->migrate_term;

		/* Demand, not capped: 120 is a host whose users wait. */
		policy_host_sample(&u->c.hosts[h], load);
		if (load >= 100)
			u->r->hot++;
		u->acc[h] = 0;
	}
	u->r->ticks++;
	if (u->p->guest == POLICY_G_NONE)
		return 0;
	if (policy_tick(&u->c, u->p, plan) == -1)
		return -1;
	u->r->migrations += (unsigned)plan->migrations;
	/* A candidate held back by a safety limit was not given up. */
	for (h = 0; h < plan->n; h++)
		if (plan->moves[h].to < 0) {
			if (plan->moves[h].why == POLICY_R_LIMIT)
				u->r->limited++;
			else
				u->r->given_up++;
		}
	policy_apply(&u->c, u->p, plan);
	return 0;
}

int
sim_run(const struct sim_params *s, const struct policy_params *p,
    uint64_t seed, struct sim_result *r)
{
	struct policy_plan plan = { 0 };
	struct run u;
	unsigned now, next_create = 0;
	size_t	 h, v;
	int	 rc = -1;

	memset(r, 0, sizeof(*r));
	memset(&u, 0, sizeof(u));
	u.s = s;
	u.p = p;
	u.r = r;
	u.rng = seed;
	u.c.nhosts = s->hosts;
	u.c.hosts = calloc(s->hosts, sizeof(*u.c.hosts));
	/* No more VMs than requests, and no more than memory holds. */
	u.c.vms = calloc(s->guests + 1, sizeof(*u.c.vms));
	u.life = calloc(s->guests + 1, sizeof(*u.life));
	u.acc = calloc(s->hosts, sizeof(*u.acc));
	if (u.c.hosts == NULL || u.c.vms == NULL || u.life == NULL ||
	    u.acc == NULL)
		goto out;
	for (h = 0; h < s->hosts; h++) {
		u.c.hosts[h].mem_mb = s->hostmem;
		/* Idle hosts, measured so: placement needs a figure. */
		policy_host_sample(&u.c.hosts[h], 0);
	}
	for (now = 0;; now++) {
		if (s->ticks > 0 && r->ticks >= s->ticks)
			break;
		if (s->ticks == 0 && r->requests >= s->guests && u.c.nvms == 0)
			break;
		loads(&u, now);
		if (r->requests < s->guests && now == next_create) {
			create(&u, now);
			next_create = now + s->min_create_term +
			    upto(&u, s->create_term);
		}
		for (v = 0; v < u.c.nvms; v++)
			u.acc[u.c.vms[v].host] += u.c.vms[v].cpu;
		if ((now + 1) % s->migrate_term == 0 && sample(&u, &plan) == -1)
			goto out;
	}
	rc = 0;
out:
	policy_plan_free(&plan);
	free(u.c.hosts);
	free(u.c.vms);
	free(u.life);
	free(u.acc);
	return rc;
}

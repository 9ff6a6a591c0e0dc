/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * policy/sim.h — the paper's experiment (xvds-sim(1)): simulated hosts and PVMs
 * created, loaded and ended at random, the cluster sampled every
 * MIGRATE_TERM and handed to the policy (policy/policy.c, the controller's own
 * code).  Nothing here is real: no hypervisor, no guests.
 */
#ifndef XVDS_POLICY_SIM_H
#define XVDS_POLICY_SIM_H

#include <stdint.h>

#include "policy/policy.h"

struct sim_params {
	unsigned	 hosts;		/* HOSTS */
	unsigned	 hostmem;	/* HOSTMEM, MB */
	unsigned	 guests;	/* GUESTS: creation requests in a run */
	unsigned	 guestmem;	/* GUESTMEM, MB */
	unsigned	 migrate_term;	/* MIGRATE_TERM, s */
	double		 maxload;	/* MAXLOAD: a load is uniform in [0, it] */
	unsigned	 loadterm;	/* LOADTERM: random part of the load interval */
	unsigned	 minloadterm;	/* MINLOADTERM */
	unsigned	 create_term;	/* GUEST_CREATE_TERM */
	unsigned	 min_create_term;	/* MIN_GUEST_CREATE_TERM */
	unsigned	 maxloadcount;	/* MAXLOADCOUNT: loads a VM makes, 1 to it */
	unsigned	 ticks;		/* 0: until every VM has ended */
};

struct sim_result {
	unsigned	 requests;
	unsigned	 deny_cpu;
	unsigned	 deny_mem;
	unsigned	 migrations;
	unsigned	 given_up;	/* for memory, CPU or want of a host */
	unsigned	 limited;	/* held back by a safety limit */
	unsigned	 max_users;	/* VMs running at once, the most */
	unsigned	 hot;		/* host samples at 100% or more: saturated */
	unsigned	 ticks;
};

void	sim_defaults(struct sim_params *);
/* One parameter by its paper name; 0, or -1 for a bad name or value. */
int	sim_set(struct sim_params *, const char *name, const char *value);
/* One run; 0, or -1 when out of memory. */
int	sim_run(const struct sim_params *, const struct policy_params *,
	    uint64_t seed, struct sim_result *);

#endif

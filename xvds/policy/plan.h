/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * policy/plan.h — the dry-run planner: a cluster snapshot (JSON,
 * xvds-policy(7)) in, the plan the policy would make out, with its reasons.
 */
#ifndef XVDS_POLICY_PLAN_H
#define XVDS_POLICY_PLAN_H

#include <stdio.h>

#include "policy/policy.h"

/*
 * Reads the snapshot at path into c (arrays allocated, freed by
 * plan_snapshot_free) and applies its "params" to p.  0, or -1 with the
 * reason in err.
 */
int	plan_snapshot_load(const char *path, struct policy_cluster *c,
	    struct policy_params *p, char *err, size_t errlen);
void	plan_snapshot_free(struct policy_cluster *);
/* Prints the hosts, then the plan with its reasons. */
void	plan_print(FILE *, const struct policy_cluster *,
	    const struct policy_params *, const struct policy_plan *);

/* plan [-p policy] [-t threshold] [-o name=value]... file */
int	ctl_policy_plan(int argc, char **argv);

#endif

/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * cli/policy.c — xvdsctl's policy commands: the dry-run planner over a
 * cluster snapshot (policy/plan.c, xvds-policy(7)).  Offline: no daemon is
 * asked.
 */
#include <config.h>

#include "policy/plan.h"
#include "cli/xvdsctl.h"

int
ctl_policy_plan_cmd(struct ctl *ctl, const struct ctl_cmd *cmd, int argc,
    char *argv[])
{
	(void)ctl;
	(void)cmd;
	return ctl_policy_plan(argc, argv);
}

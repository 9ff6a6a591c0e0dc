/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * ctl_policy.c — xvdsctl's policy commands: the dry-run planner over a
 * cluster snapshot (plan.c, xvds-policy(7)).  Offline: no daemon is asked.
 */
#include <config.h>

#include "plan.h"
#include "xvdsctl.h"

int
ctl_policy_plan_cmd(struct ctl *ctl, const struct ctl_cmd *cmd, int argc,
    char *argv[])
{
	(void)ctl;
	(void)cmd;
	return ctl_policy_plan(argc, argv);
}

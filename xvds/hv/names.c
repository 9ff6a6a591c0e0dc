/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * hv/names.c — the words for hv/hv.h's enums, shared by both hypervisor
 * backends and everything that prints them.
 */
#include <config.h>

#include "hv/hv.h"

const char *const hv_dom_state_names[] = {
	[HV_DOM_RUNNING] = "running",
	[HV_DOM_BLOCKED] = "blocked",
	[HV_DOM_PAUSED] = "paused",
	[HV_DOM_SHUTDOWN] = "shutdown",
	[HV_DOM_DYING] = "dying",
};

const char *const hv_death_names[] = {
	[HV_DEATH_POWEROFF] = "poweroff",
	[HV_DEATH_REBOOT] = "reboot",
	[HV_DEATH_SUSPEND] = "suspend",
	[HV_DEATH_CRASH] = "crash",
	[HV_DEATH_WATCHDOG] = "watchdog",
	[HV_DEATH_GONE] = "gone",
};

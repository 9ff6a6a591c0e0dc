/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * cli/cluster_pool.c — what xvdsctl's template, pool and personal desktop
 * commands (rows of cli/cluster_table.c, on the controller, xvds-admin(7))
 * do besides their request: pvm create's name check and pool show's text.
 * They write the rows only: the pools' upkeep in the controller makes the
 * CVMs exist and keeps the targets, and the broker starts a PVM at its
 * user's login.
 */
#include <config.h>

#include <stdio.h>
#include <string.h>

#include <jansson.h>

#include "common/log.h"
#include "common/template.h"
#include "cli/xvdsctl.h"

/* A name xvdsd would refuse when the broker defines it: said now. */
int
ctl_cluster_pvm_name_check(struct ctl *ctl, const struct ctl_cmd *cmd,
    json_t *req)
{
	const char *name = json_string_value(json_object_get(req, "name"));

	(void)ctl;
	(void)cmd;
	if (name != NULL && !template_vm_name_ok(name)) {
		log_warnx("pvm create: --name %s: not a VM name (letters, "
		    "digits, \"_\", \".\" and \"-\", a letter first)", name);
		return CTL_EXIT_USAGE;
	}
	return CTL_EXIT_OK;
}

static void
seconds(const char *label, const json_t *v)
{
	if (json_is_integer(v))
		printf("%-14s %" JSON_INTEGER_FORMAT " s\n", label,
		    json_integer_value(v));
	else
		printf("%-14s never\n", label);
}

void
ctl_cluster_pool_text(const json_t *r, const json_t *req)
{
	const char *state;
	char	 cell[256];
	json_t	*n;

	(void)req;
	printf("%-14s %s\n", "name", json_string_value(json_object_get(r,
	    "name")));
	printf("%-14s %s\n", "template", json_string_value(json_object_get(r,
	    "template")));
	printf("%-14s %" JSON_INTEGER_FORMAT "\n", "size",
	    json_integer_value(json_object_get(r, "size")));
	printf("%-14s %" JSON_INTEGER_FORMAT "\n", "ready target",
	    json_integer_value(json_object_get(r, "ready_target")));
	seconds("idle pause", json_object_get(r, "idle_pause"));
	seconds("idle save", json_object_get(r, "idle_save"));
	ctl_cluster_cell(json_object_get(r, "groups"), cell, sizeof(cell));
	printf("%-14s %s\n", "groups", cell);
	printf("%-14s %" JSON_INTEGER_FORMAT "\n", "open sessions",
	    json_integer_value(json_object_get(r, "sessions")));
	printf("%-14s %" JSON_INTEGER_FORMAT, "vms",
	    json_integer_value(json_object_get(r, "vms")));
	json_object_foreach(json_object_get(r, "states"), state, n)
		printf(" %s %" JSON_INTEGER_FORMAT, state,
		    json_integer_value(n));
	printf("\n");
}

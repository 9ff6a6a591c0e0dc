/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * cli/cluster_pool.c — xvdsctl's template, pool and personal desktop
 * commands, on the controller (xvds-admin(7)).  They write the rows only:
 * the pools' upkeep in the controller makes the CVMs exist and keeps the
 * targets, and the broker starts a PVM at its user's login.
 */
#include <config.h>

#include <stdio.h>
#include <string.h>

#include <jansson.h>

#include "common/log.h"
#include "common/template.h"
#include "cli/xvdsctl.h"

/* An optional whole-number option into args as key. */
static int
opt_int(const struct ctl_cmd *cmd, json_t *args, const char *key,
    const char *what, const char *s)
{
	json_int_t v;
	int	 rc;

	if (s == NULL)
		return CTL_EXIT_OK;
	if ((rc = ctl_cluster_int(cmd, what, s, &v)) != CTL_EXIT_OK)
		return rc;
	json_object_set_new(args, key, json_integer(v));
	return CTL_EXIT_OK;
}

int
ctl_cluster_template_add(struct ctl *ctl, const struct ctl_cmd *cmd,
    int argc, char *argv[])
{
	const char *vcpus = NULL;
	const struct ctl_opt opts[] = {
		{ "vcpus", 0, &vcpus, NULL }, { NULL, 0, NULL, NULL },
	};
	char	*pos[2];
	json_t	*a;
	int	 rc;

	if ((rc = ctl_cluster_args(cmd, argc, argv, opts, 2, 2, pos,
	    NULL)) != CTL_EXIT_OK)
		return rc;
	a = json_pack("{ss}", "name", pos[0]);
	if ((rc = opt_int(cmd, a, "memory_mib", "MEMORY_MIB", pos[1])) !=
	    CTL_EXIT_OK || (rc = opt_int(cmd, a, "vcpus", "--vcpus", vcpus)) !=
	    CTL_EXIT_OK) {
		json_decref(a);
		return rc;
	}
	snprintf(ctl->what, sizeof(ctl->what), "template add %.64s", pos[0]);
	return ctl_cluster_do(ctl, "template.add", a);
}

int
ctl_cluster_pvm_create(struct ctl *ctl, const struct ctl_cmd *cmd,
    int argc, char *argv[])
{
	const char *name = NULL;
	const struct ctl_opt opts[] = {
		{ "name", 0, &name, NULL }, { NULL, 0, NULL, NULL },
	};
	char	*pos[2];
	json_t	*a;
	int	 rc;

	if ((rc = ctl_cluster_args(cmd, argc, argv, opts, 2, 2, pos,
	    NULL)) != CTL_EXIT_OK)
		return rc;
	/* A name xvdsd would refuse when the broker defines it: said now. */
	if (name != NULL && !template_vm_name_ok(name)) {
		log_warnx("pvm create: --name %s: not a VM name (letters, "
		    "digits, \"_\", \".\" and \"-\", a letter first)", name);
		return CTL_EXIT_USAGE;
	}
	a = json_pack("{ssss}", "user", pos[0], "template", pos[1]);
	if (name != NULL)
		json_object_set_new(a, "name", json_string(name));
	snprintf(ctl->what, sizeof(ctl->what), "pvm create %.64s", pos[0]);
	return ctl_cluster_do(ctl, "pvm.create", a);
}

int
ctl_cluster_template_list(struct ctl *ctl, const struct ctl_cmd *cmd,
    int argc, char *argv[])
{
	static const struct ctl_col cols[] = {
		{ "NAME", "name", 0 }, { "MEMORY", "memory_mib", 1 },
		{ "VCPUS", "vcpus", 1 }, { "POOLS", "pools", 1 },
		{ "CREATED", "created", 0 }, { NULL, NULL, 0 },
	};
	int	 json, rc;

	if ((rc = ctl_cluster_json_only(cmd, argc, argv, &json)) != CTL_EXIT_OK)
		return rc;
	snprintf(ctl->what, sizeof(ctl->what), "template list");
	return ctl_cluster_list(ctl, "template.list", NULL, json, cols);
}

int
ctl_cluster_pool_create(struct ctl *ctl, const struct ctl_cmd *cmd,
    int argc, char *argv[])
{
	const char *ready = NULL, *pause = NULL, *save = NULL;
	const struct ctl_opt opts[] = {
		{ "ready", 0, &ready, NULL }, { "idle-pause", 0, &pause, NULL },
		{ "idle-save", 0, &save, NULL }, { NULL, 0, NULL, NULL },
	};
	char	*pos[3];
	json_t	*a;
	int	 rc;

	if ((rc = ctl_cluster_args(cmd, argc, argv, opts, 3, 3, pos,
	    NULL)) != CTL_EXIT_OK)
		return rc;
	a = json_pack("{ssss}", "name", pos[0], "template", pos[1]);
	if ((rc = opt_int(cmd, a, "size", "SIZE", pos[2])) != CTL_EXIT_OK ||
	    (rc = opt_int(cmd, a, "ready", "--ready", ready)) != CTL_EXIT_OK ||
	    (rc = opt_int(cmd, a, "idle_pause", "--idle-pause", pause)) !=
	    CTL_EXIT_OK ||
	    (rc = opt_int(cmd, a, "idle_save", "--idle-save", save)) !=
	    CTL_EXIT_OK) {
		json_decref(a);
		return rc;
	}
	snprintf(ctl->what, sizeof(ctl->what), "pool create %.64s", pos[0]);
	return ctl_cluster_do(ctl, "pool.create", a);
}

int
ctl_cluster_pool_resize(struct ctl *ctl, const struct ctl_cmd *cmd,
    int argc, char *argv[])
{
	const char *ready = NULL;
	const struct ctl_opt opts[] = {
		{ "ready", 0, &ready, NULL }, { NULL, 0, NULL, NULL },
	};
	char	*pos[2];
	json_t	*a;
	int	 rc;

	if ((rc = ctl_cluster_args(cmd, argc, argv, opts, 2, 2, pos,
	    NULL)) != CTL_EXIT_OK)
		return rc;
	a = json_pack("{ss}", "name", pos[0]);
	if ((rc = opt_int(cmd, a, "size", "SIZE", pos[1])) != CTL_EXIT_OK ||
	    (rc = opt_int(cmd, a, "ready", "--ready", ready)) != CTL_EXIT_OK) {
		json_decref(a);
		return rc;
	}
	snprintf(ctl->what, sizeof(ctl->what), "pool resize %.64s", pos[0]);
	return ctl_cluster_do(ctl, "pool.resize", a);
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

int
ctl_cluster_pool_show(struct ctl *ctl, const struct ctl_cmd *cmd, int argc,
    char *argv[])
{
	int	 json = 0, rc;
	const struct ctl_opt opts[] = {
		{ "json", 0, NULL, &json }, { NULL, 0, NULL, NULL },
	};
	const char *state;
	char	*pos[1], cell[256];
	json_t	*r, *n;

	if ((rc = ctl_cluster_args(cmd, argc, argv, opts, 1, 1, pos,
	    NULL)) != CTL_EXIT_OK)
		return rc;
	snprintf(ctl->what, sizeof(ctl->what), "pool show %.64s", pos[0]);
	if ((r = ctl_cluster_call(ctl, "pool.show", json_pack("{ss}", "name",
	    pos[0]), &rc)) == NULL)
		return rc;
	if (json) {
		ctl_print_json(r);
		json_decref(r);
		return CTL_EXIT_OK;
	}
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
	json_decref(r);
	return CTL_EXIT_OK;
}

int
ctl_cluster_pool_list(struct ctl *ctl, const struct ctl_cmd *cmd, int argc,
    char *argv[])
{
	static const struct ctl_col cols[] = {
		{ "NAME", "name", 0 }, { "TEMPLATE", "template", 0 },
		{ "SIZE", "size", 1 }, { "TARGET", "ready_target", 1 },
		{ "VMS", "vms", 1 }, { "READY", "ready", 1 },
		{ "RUNNING", "running", 1 }, { "PAUSE", "idle_pause", 1 },
		{ "SAVE", "idle_save", 1 }, { NULL, NULL, 0 },
	};
	int	 json, rc;

	if ((rc = ctl_cluster_json_only(cmd, argc, argv, &json)) != CTL_EXIT_OK)
		return rc;
	snprintf(ctl->what, sizeof(ctl->what), "pool list");
	return ctl_cluster_list(ctl, "pool.list", NULL, json, cols);
}

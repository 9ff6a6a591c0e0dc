/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * cli/cluster_table.c — the cluster commands that are nothing but a
 * request to the controller (xvds-admin(7)): for each, the request, the
 * member each argument and option fills, and how its result is printed
 * (xvdsctl(8)).  cli/cluster_form.c carries out any row; what a row
 * cannot say is a hook in the command group's file.
 */
#include <config.h>

#include <stddef.h>

#include "cli/xvdsctl.h"

/* A positional: a name, or a whole number named so in errors. */
#define NAME(key)		{ key, CTL_ARG_STRING, NULL, NULL }
#define NUMBER(key, label)	{ key, CTL_ARG_INT, NULL, label }
/* An option: --option VALUE, a whole number, or a flag. */
#define OPTION(option, key)	{ key, CTL_ARG_STRING, option, NULL }
#define OPTION_INT(option, key)	{ key, CTL_ARG_INT, option, NULL }
#define OPTION_FLAG(option, key) { key, CTL_ARG_FLAG, option, NULL }

/* The columns of `host info`, one row per host. */
static const struct ctl_col host_cols[] = {
	{ "NAME", "name", 0 }, { "STATE", "state", 0 },
	{ "RVM", "figures.rvm", 1 }, { "TCPU", "figures.tcpu", 1 },
	{ "FCPU", "figures.fcpu", 1 }, { "ACPU", "figures.acpu", 1 },
	{ "TMEM", "figures.tmem_mib", 1 }, { "FMEM", "figures.fmem_mib", 1 },
	{ "LAST-SEEN", "last_seen", 0 }, { NULL, NULL, 0 },
};

static const struct ctl_col vm_cols[] = {
	{ "NAME", "name", 0 }, { "KIND", "kind", 0 },
	{ "STATE", "state", 0 }, { "HOST", "host", 0 },
	{ "DOMID", "domid", 1 }, { "POOL", "pool", 0 },
	{ "OWNER", "owner", 0 }, { "ADDRESS", "address", 0 },
	{ "SESSION", "session", 1 }, { "USER", "user", 0 },
	{ NULL, NULL, 0 },
};

static const struct ctl_col template_cols[] = {
	{ "NAME", "name", 0 }, { "MEMORY", "memory_mib", 1 },
	{ "VCPUS", "vcpus", 1 }, { "POOLS", "pools", 1 },
	{ "CREATED", "created", 0 }, { NULL, NULL, 0 },
};

static const struct ctl_col pool_cols[] = {
	{ "NAME", "name", 0 }, { "TEMPLATE", "template", 0 },
	{ "SIZE", "size", 1 }, { "TARGET", "ready_target", 1 },
	{ "VMS", "vms", 1 }, { "READY", "ready", 1 },
	{ "RUNNING", "running", 1 }, { "PAUSE", "idle_pause", 1 },
	{ "SAVE", "idle_save", 1 }, { NULL, NULL, 0 },
};

static const struct ctl_col user_cols[] = {
	{ "NAME", "name", 0 }, { "DISABLED", "disabled", 0 },
	{ "SESSIONS", "sessions", 1 }, { "PVM", "pvm", 0 },
	{ "GROUPS", "groups", 0 }, { NULL, NULL, 0 },
};

static const struct ctl_col group_cols[] = {
	{ "NAME", "name", 0 }, { "POOLS", "pools", 0 },
	{ "MEMBERS", "members", 0 }, { NULL, NULL, 0 },
};

static const struct ctl_col session_cols[] = {
	{ "ID", "id", 1 }, { "USER", "user", 0 }, { "VM", "vm", 0 },
	{ "HOST", "host", 0 }, { "CLIENT", "client", 0 },
	{ "STARTED", "started", 0 }, { "LEASE", "lease_until", 0 },
	{ "ENDED", "ended", 0 }, { "REASON", "end_reason", 0 },
	{ NULL, NULL, 0 },
};

const struct ctl_form ctl_cluster_forms[] = {
	{ .group = "host", .name = "list", .request = "host.list",
	  .json = 1, .cols = host_cols },
	{ .group = "cluster", .name = "vms", .request = "vm.list",
	  .args = { OPTION("pool", "pool"), OPTION("host", "host") },
	  .json = 1, .cols = vm_cols },
	/* Planned, not done: the pool's executor carries it out. */
	{ .group = "cluster", .name = "migrate", .request = "vm.migrate",
	  .args = { NAME("vm"), NAME("host") }, .nwhat = 2,
	  .text = ctl_cluster_migrate_text },
	{ .group = "template", .name = "add", .request = "template.add",
	  .args = { NAME("name"), NUMBER("memory_mib", "MEMORY_MIB"),
	  OPTION_INT("vcpus", "vcpus") }, .nwhat = 1 },
	{ .group = "template", .name = "list", .request = "template.list",
	  .json = 1, .cols = template_cols },
	{ .group = "pvm", .name = "create", .request = "pvm.create",
	  .args = { NAME("user"), NAME("template"), OPTION("name", "name") },
	  .nwhat = 1, .prepare = ctl_cluster_pvm_name_check },
	{ .group = "pool", .name = "create", .request = "pool.create",
	  .args = { NAME("name"), NAME("template"), NUMBER("size", "SIZE"),
	  OPTION_INT("ready", "ready"),
	  OPTION_INT("idle-pause", "idle_pause"),
	  OPTION_INT("idle-save", "idle_save") }, .nwhat = 1 },
	{ .group = "pool", .name = "resize", .request = "pool.resize",
	  .args = { NAME("name"), NUMBER("size", "SIZE"),
	  OPTION_INT("ready", "ready") }, .nwhat = 1 },
	{ .group = "pool", .name = "show", .request = "pool.show",
	  .args = { NAME("name") }, .nwhat = 1, .json = 1,
	  .text = ctl_cluster_pool_text },
	{ .group = "pool", .name = "list", .request = "pool.list",
	  .json = 1, .cols = pool_cols },
	/* Only the password's hash is sent (cli/cluster_user.c). */
	{ .group = "user", .name = "add", .request = "user.add",
	  .args = { NAME("name") }, .nwhat = 1,
	  .prepare = ctl_cluster_user_pwhash },
	{ .group = "user", .name = "passwd", .request = "user.passwd",
	  .args = { NAME("name") }, .nwhat = 1,
	  .prepare = ctl_cluster_user_pwhash },
	{ .group = "user", .name = "disable", .request = "user.disable",
	  .args = { NAME("name") }, .nwhat = 1 },
	{ .group = "user", .name = "enable", .request = "user.enable",
	  .args = { NAME("name") }, .nwhat = 1 },
	{ .group = "user", .name = "list", .request = "user.list",
	  .json = 1, .cols = user_cols },
	{ .group = "group", .name = "add", .request = "group.add",
	  .args = { NAME("name") }, .nwhat = 1 },
	{ .group = "group", .name = "permit", .request = "group.permit",
	  .args = { NAME("group"), NAME("pool") }, .nwhat = 2 },
	{ .group = "group", .name = "revoke", .request = "group.revoke",
	  .args = { NAME("group"), NAME("pool") }, .nwhat = 2 },
	{ .group = "group", .name = "list", .request = "group.list",
	  .json = 1, .cols = group_cols },
	{ .group = "session", .name = "list", .request = "session.list",
	  .args = { OPTION_FLAG("all", "all") }, .json = 1,
	  .cols = session_cols },
	{ .group = "policy", .name = "show", .request = "policy.show",
	  .json = 1, .text = ctl_cluster_policy_text },
	{ .group = "policy", .name = "snapshot", .request = "policy.snapshot",
	  .text = ctl_cluster_json_text },
};

const size_t ctl_cluster_nforms = sizeof(ctl_cluster_forms) /
    sizeof(ctl_cluster_forms[0]);

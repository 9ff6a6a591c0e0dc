/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * cli/cluster_table.c — xvdsctl's cluster commands, asked of the
 * controller (xvds-admin(7)): for each, its usage and help as
 * cli/cmdtable.c's rows, and for those that are nothing but a request, the
 * request, the member each argument and option fills, and how its result
 * is printed (xvdsctl(8)).  ctl_cluster_run() (cli/cluster_form.c)
 * carries out such a row; what a row cannot say is a hook in the command
 * group's file, and the few with a function of their own name it.
 */
#include <config.h>

#include <stddef.h>

#include "cli/xvdsctl.h"

#define NOEV	VM_EV__COUNT
/* A row ctl_cluster_run() carries out, or one with its own function. */
#define RUN(group, name, usage, help) \
	{ group, name, ctl_cluster_run, NOEV, usage, help }
#define OWN(group, name, fn, usage, help) { group, name, fn, NOEV, usage, help }
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
	{ "CLIENT-SAID", "logout_reason", 0 }, { NULL, NULL, 0 },
};

/* In the order help lists them, after cli/cmdtable.c's. */
const struct ctl_form ctl_cluster_forms[] = {
	{ .cmd = OWN("policy", "plan", ctl_cluster_policy_plan,
	  "[-p POLICY] [-t THRESHOLD] [-o NAME=VALUE]... [SNAPSHOT]",
	  "Print the plan the migration policy makes for a cluster snapshot "
	  "(the controller's live one when no file is named).") },
	{ .cmd = RUN("policy", "show", "[--json]",
	  "Show the controller's migration policy and its parameters."),
	  .request = "policy.show", .json = 1,
	  .text = ctl_cluster_policy_text },
	{ .cmd = RUN("policy", "snapshot", "",
	  "Print the live cluster as a snapshot file for policy plan."),
	  .request = "policy.snapshot", .text = ctl_cluster_json_text },
	{ .cmd = RUN("host", "list", "[--json]",
	  "List the cluster's hosts with their latest figures."),
	  .request = "host.list", .json = 1, .cols = host_cols },
	{ .cmd = RUN("cluster", "vms", "[--pool POOL] [--host HOST] [--json]",
	  "List the cluster's VMs, their hosts, pools and sessions."),
	  .request = "vm.list", .json = 1, .cols = vm_cols,
	  .args = { OPTION("pool", "pool"), OPTION("host", "host") } },
	{ .cmd = RUN("cluster", "migrate", "VM HOST",
	  "Plan the migration of a VM to another host."),
	  .request = "vm.migrate", .text = ctl_cluster_migrate_text,
	  .args = { NAME("vm"), NAME("host") }, .nwhat = 2 },
	{ .cmd = RUN("template", "add", "NAME MEMORY_MIB [--vcpus N]",
	  "Add a template to the catalog."),
	  .request = "template.add", .nwhat = 1,
	  .args = { NAME("name"), NUMBER("memory_mib", "MEMORY_MIB"),
	  OPTION_INT("vcpus", "vcpus") } },
	{ .cmd = RUN("template", "list", "[--json]", "List the templates."),
	  .request = "template.list", .json = 1, .cols = template_cols },
	{ .cmd = RUN("pvm", "create", "USER TEMPLATE [--name NAME]",
	  "Give a user a personal desktop, started at the user's login."),
	  .request = "pvm.create", .prepare = ctl_cluster_pvm_name_check,
	  .args = { NAME("user"), NAME("template"), OPTION("name", "name") },
	  .nwhat = 1 },
	{ .cmd = RUN("pool", "create", "NAME TEMPLATE SIZE [--ready N] "
	  "[--idle-pause SECS] [--idle-save SECS]", "Create a CVM pool."),
	  .request = "pool.create", .nwhat = 1,
	  .args = { NAME("name"), NAME("template"), NUMBER("size", "SIZE"),
	  OPTION_INT("ready", "ready"), OPTION_INT("idle-pause", "idle_pause"),
	  OPTION_INT("idle-save", "idle_save") } },
	{ .cmd = RUN("pool", "resize", "NAME SIZE [--ready N]",
	  "Change a pool's size and Ready target."),
	  .request = "pool.resize", .nwhat = 1,
	  .args = { NAME("name"), NUMBER("size", "SIZE"),
	  OPTION_INT("ready", "ready") } },
	{ .cmd = RUN("pool", "show", "NAME [--json]",
	  "Show a pool's settings and its VMs by state."),
	  .request = "pool.show", .json = 1, .text = ctl_cluster_pool_text,
	  .args = { NAME("name") }, .nwhat = 1 },
	{ .cmd = RUN("pool", "list", "[--json]", "List the pools."),
	  .request = "pool.list", .json = 1, .cols = pool_cols },
	/* Only the password's hash is sent (cli/cluster_user.c). */
	{ .cmd = RUN("user", "add", "NAME",
	  "Add a user; the password is read from standard input."),
	  .request = "user.add", .prepare = ctl_cluster_user_pwhash,
	  .args = { NAME("name") }, .nwhat = 1 },
	{ .cmd = RUN("user", "passwd", "NAME",
	  "Set a user's password, read from standard input."),
	  .request = "user.passwd", .prepare = ctl_cluster_user_pwhash,
	  .args = { NAME("name") }, .nwhat = 1 },
	{ .cmd = RUN("user", "disable", "NAME",
	  "Refuse the user's logins from now on."),
	  .request = "user.disable", .args = { NAME("name") }, .nwhat = 1 },
	{ .cmd = RUN("user", "enable", "NAME",
	  "Accept the user's logins again."),
	  .request = "user.enable", .args = { NAME("name") }, .nwhat = 1 },
	{ .cmd = RUN("user", "list", "[--json]", "List the users."),
	  .request = "user.list", .json = 1, .cols = user_cols },
	{ .cmd = RUN("group", "add", "NAME", "Add a group."),
	  .request = "group.add", .args = { NAME("name") }, .nwhat = 1 },
	{ .cmd = OWN("group", "member", ctl_cluster_group_member,
	  "add|remove GROUP USER", "Add a user to a group, or remove one.") },
	{ .cmd = RUN("group", "permit", "GROUP POOL",
	  "Let the group's members log in to the pool's desktops."),
	  .request = "group.permit", .nwhat = 2,
	  .args = { NAME("group"), NAME("pool") } },
	{ .cmd = RUN("group", "revoke", "GROUP POOL",
	  "Take the pool away from the group."),
	  .request = "group.revoke", .nwhat = 2,
	  .args = { NAME("group"), NAME("pool") } },
	{ .cmd = RUN("group", "list", "[--json]",
	  "List the groups, their pools and members."),
	  .request = "group.list", .json = 1, .cols = group_cols },
	{ .cmd = RUN("session", "list", "[--all] [--json]",
	  "List the open sessions (--all: the ended ones too)."),
	  .request = "session.list", .json = 1, .cols = session_cols,
	  .args = { OPTION_FLAG("all", "all") } },
	{ .cmd = OWN("session", "end", ctl_cluster_session_end, "ID",
	  "End a session; its desktop is released.") },
	{ .cmd = OWN("events", "tail", ctl_cluster_events_tail,
	  "[-n N] [-f] [--json]",
	  "Print the last events of the audit trail (-f: and follow it).") },
};

const size_t ctl_cluster_nforms = sizeof(ctl_cluster_forms) /
    sizeof(ctl_cluster_forms[0]);

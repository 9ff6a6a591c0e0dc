/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * controller/admin_cmd.c — the admin socket's commands (xvds-admin(7)): each
 * one's arguments, checked strictly, and its SQL (controller/sql/admin.sql,
 * built in as sql_admin_*).
 *
 * Every command is one statement, as the broker's steps are: the work
 * connection is shared and runs one query at a time, so a BEGIN ... COMMIT
 * over several queued queries would interleave with the agents'.  A change
 * and its events row are written by data-modifying CTEs, which are one
 * transaction.  Each statement returns one row: an error name and its
 * message (NULL when it went well), and the result as JSON text, so that
 * "no such pool" is decided in the same snapshot as the change.
 *
 * The database's constraints are the last word on what is valid (a
 * negative size, a ready target above the size, a second migration of a
 * VM); their violations come back by constraint name and are said here
 * in the operator's words.
 */
#include <config.h>

#include <limits.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "agent/msg.h"
#include "controller/admin_cmd.h"
#include "controller/agent.h"
#include "controller/cluster.h"
#include "controller/conf.h"
#include "controller/sql.h"
#include "db/db.h"
#include "common/log.h"
#include "linesrv/cmd.h"
#include "policy/policy.h"

#define ARGS_MAX	LINESRV_CMD_ARGS_MAX
#define ARG_STR_MAX	255	/* bytes: names, and argon2id hashes */

/* An argument's type; an ARG_INT's bounds are its min and max. */
enum arg_type { ARG_STR, ARG_INT, ARG_BOOL };

#define CMD_WRITE	0x01	/* changes rows: not resent, the uid appended */

/*
 * A command: the shape both command sockets share, whose handler, if any,
 * runs instead of sql; and shape, if any, finishes sql's result.
 */
struct admin_cmd {
	struct linesrv_cmd spec;
	const char	*sql;
	void		(*shape)(struct admin_req *, json_t *);
};
_Static_assert(offsetof(struct admin_cmd, spec) == 0,
    "admin_cmd_find takes a row for its spec");

#define I32	INT32_MIN, INT32_MAX	/* the database's CHECKs decide */

static void	refuse(struct admin_req *, const char *, const char *, ...)
		    __attribute__((format(printf, 3, 4)));
static void	host_shape(struct admin_req *, json_t *);
static void	snapshot_shape(struct admin_req *, json_t *);
static void	policy_show(void *);

#define NAME(k)		{ k, ARG_STR, 1, 0, 0 }
#define OPTSTR(k)	{ k, ARG_STR, 0, 0, 0 }
#define ARGS(...)	{ __VA_ARGS__ }

/* One row: name, arguments, flags, SQL, shape of the result, help. */
#define CMD(name, args, flags, sql, shape, help) \
	{ { name, args, NULL, flags, help }, sql, shape }
#define NO_ARGS		{ { 0 } }

static const struct admin_cmd cmds[] = {
	CMD("host.list", NO_ARGS, 0, sql_admin_host_list, host_shape,
	    "the hosts, with the connected ones' figures"),
	CMD("vm.list", ARGS(OPTSTR("pool"), OPTSTR("host")), 0, sql_admin_vm_list,
	    NULL, "the VMs, of a pool or a host"),
	CMD("vm.migrate", ARGS(NAME("vm"), NAME("host")), CMD_WRITE,
	    sql_admin_vm_migrate, NULL, "plans a VM's migration to a host"),
	CMD("template.add", ARGS(NAME("name"),
	    { "memory_mib", ARG_INT, 1, I32 }, { "vcpus", ARG_INT, 0, I32 }),
	    CMD_WRITE, sql_admin_template_add, NULL, "adds a template"),
	CMD("template.list", NO_ARGS, 0, sql_admin_template_list, NULL,
	    "the templates"),
	CMD("pvm.create", ARGS(NAME("user"), NAME("template"),
	    OPTSTR("name")), CMD_WRITE, sql_admin_pvm_create, NULL,
	    "gives a user a personal desktop"),
	CMD("pool.create", ARGS(NAME("name"), NAME("template"),
	    { "size", ARG_INT, 1, I32 }, { "ready", ARG_INT, 0, I32 },
	    { "idle_pause", ARG_INT, 0, I32 }, { "idle_save", ARG_INT, 0, I32 }),
	    CMD_WRITE, sql_admin_pool_create, NULL, "creates a pool of CVMs"),
	CMD("pool.resize", ARGS(NAME("name"), { "size", ARG_INT, 1, I32 },
	    { "ready", ARG_INT, 0, I32 }), CMD_WRITE, sql_admin_pool_resize, NULL,
	    "changes a pool's size and ready target"),
	CMD("pool.show", ARGS(NAME("name")), 0, sql_admin_pool_show, NULL,
	    "one pool"),
	CMD("pool.list", NO_ARGS, 0, sql_admin_pool_list, NULL, "the pools"),
	CMD("user.add", ARGS(NAME("name"), NAME("pwhash")), CMD_WRITE,
	    sql_admin_user_add, NULL, "adds a user with an argon2id hash"),
	CMD("user.passwd", ARGS(NAME("name"), NAME("pwhash")), CMD_WRITE,
	    sql_admin_user_passwd, NULL, "replaces a user's password hash"),
	CMD("user.disable", ARGS(NAME("name")), CMD_WRITE, sql_admin_user_disable,
	    NULL, "refuses a user's logins"),
	CMD("user.enable", ARGS(NAME("name")), CMD_WRITE, sql_admin_user_enable,
	    NULL, "takes a user's logins again"),
	CMD("user.list", NO_ARGS, 0, sql_admin_user_list, NULL, "the users"),
	CMD("group.add", ARGS(NAME("name")), CMD_WRITE, sql_admin_group_add, NULL,
	    "adds a group"),
	CMD("group.member-add", ARGS(NAME("group"), NAME("user")), CMD_WRITE,
	    sql_admin_group_member_add, NULL, "puts a user in a group"),
	CMD("group.member-remove", ARGS(NAME("group"), NAME("user")),
	    CMD_WRITE, sql_admin_group_member_remove, NULL,
	    "takes a user out of a group"),
	CMD("group.permit", ARGS(NAME("group"), NAME("pool")), CMD_WRITE,
	    sql_admin_group_permit, NULL, "lets a group's users log in to a pool"),
	CMD("group.revoke", ARGS(NAME("group"), NAME("pool")), CMD_WRITE,
	    sql_admin_group_revoke, NULL, "no longer lets a group use a pool"),
	CMD("group.list", NO_ARGS, 0, sql_admin_group_list, NULL,
	    "the groups, their members and pools"),
	CMD("session.list", ARGS({ "all", ARG_BOOL, 0, 0, 0 }), 0,
	    sql_admin_session_list, NULL, "the open sessions, or all"),
	CMD("session.end", ARGS({ "session", ARG_INT, 1, 1, INT64_MAX }),
	    CMD_WRITE, sql_admin_session_end, NULL, "ends a session"),
	CMD("events.tail", ARGS({ "n", ARG_INT, 0, 1, 10000 },
	    { "after", ARG_INT, 0, 0, INT64_MAX }), 0, sql_admin_events_tail, NULL,
	    "the latest events"),
	{ { "policy.show", NO_ARGS, policy_show, 0,
	    "the balancing policy's parameters" }, NULL, NULL },
	CMD("policy.snapshot", NO_ARGS, 0, sql_admin_policy_snapshot, snapshot_shape,
	    "the cluster as the policy sees it"),
};

/* Constraint violations, in the operator's words. */
static const struct {
	const char	*constraint;
	const char	*error;
	const char	*message;
} violations[] = {
	{ "templates_name_key", "exists", "a template of that name exists" },
	{ "pools_name_key", "exists", "a pool of that name exists" },
	{ "users_name_key", "exists", "a user of that name exists" },
	{ "vms_name_key", "exists", "a VM of that name exists" },
	{ "vms_one_pvm_per_user", "exists", "the user has a personal desktop "
	  "already" },
	{ "groups_name_key", "exists", "a group of that name exists" },
	{ "memberships_pkey", "exists", "the user is a member of the group "
	  "already" },
	{ "permissions_pkey", "exists", "the group has the pool already" },
	{ "migrations_one_live_per_vm", "conflict", "a migration of that VM "
	  "is planned or running already" },
	{ "migrations_check", "conflict", "the VM is on that host already" },
	{ "pools_size", "invalid", "a pool's size must be 0 or more" },
	{ "pools_ready_target", "invalid", "the ready target must be from 0 "
	  "to the pool's size, and the size 0 or more" },
	{ "pools_idle_pause", "invalid", "the idle time before a pause must "
	  "be 1 second or more" },
	{ "pools_idle_save", "invalid", "the idle time before a save must be "
	  "1 second or more" },
	{ "templates_memory_mib_check", "invalid", "a template's memory must "
	  "be 1 MiB or more" },
	{ "templates_vcpus_check", "invalid", "a template needs 1 vCPU or "
	  "more" },
	{ "users_pwhash_check", "invalid", "the password hash is not an "
	  "argon2id hash" },
	{ "templates_name_check", "invalid", "a name must not be empty" },
	{ "pools_name_check", "invalid", "a name must not be empty" },
	{ "users_name_check", "invalid", "a name must not be empty" },
	{ "groups_name_check", "invalid", "a name must not be empty" },
};

/* The error reply, error the xvds-admin(7) name and then the message. */
static void
refuse(struct admin_req *q, const char *error, const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	q->hooks->reply_error(q, error, fmt, ap);
	va_end(ap);
}

const struct admin_cmd *
admin_cmd_find(const char *name)
{
	/* spec comes first: the row is where its spec is. */
	return (const struct admin_cmd *)linesrv_cmd_find(cmds,
	    sizeof(cmds) / sizeof(cmds[0]), sizeof(cmds[0]), name);
}

static void
sql_failed(struct admin_req *q, PGresult *res, const char *err)
{
	const char *state = NULL, *con = NULL;
	size_t	 i;

	if (res != NULL) {
		state = PQresultErrorField(res, PG_DIAG_SQLSTATE);
		con = PQresultErrorField(res, PG_DIAG_CONSTRAINT_NAME);
	}
	if (res == NULL && q->hooks->db() == NULL) {
		refuse(q, "standby", "standby: this controller "
		    "stepped down while the request was under way");
		return;
	}
	if (res == NULL) {
		log_warnx("admin: %s: %s", q->cmd->spec.name, err);
		if (q->cmd->spec.flags & CMD_WRITE)
			refuse(q, "internal", "the database "
			    "connection was lost: the change may or may not "
			    "have been made; look before trying again");
		else
			refuse(q, "internal", "the database is "
			    "unreachable; try again later");
		return;
	}
	for (i = 0; con != NULL && i < sizeof(violations) /
	    sizeof(violations[0]); i++)
		if (strcmp(con, violations[i].constraint) == 0) {
			refuse(q, violations[i].error, "%s",
			    violations[i].message);
			return;
		}
	/* Class 22: a value the column's type cannot hold. */
	if (state != NULL && strncmp(state, "22", 2) == 0) {
		refuse(q, "invalid", "a value out of range");
		return;
	}
	log_warnx("admin: %s: %s", q->cmd->spec.name, err);
	refuse(q, "internal", "the database refused: %s", err);
}

static void
sql_done(PGresult *res, const char *err, void *arg)
{
	struct admin_req *q = arg;
	json_error_t jerr;
	json_t	*result;

	if (err != NULL) {
		sql_failed(q, res, err);
		return;
	}
	if (PQntuples(res) != 1 || PQnfields(res) != 3) {
		log_warnx("admin: %s: %d rows of %d columns", q->cmd->spec.name,
		    PQntuples(res), PQnfields(res));
		refuse(q, "internal", "unexpected answer from the "
		    "database");
		return;
	}
	if (!PQgetisnull(res, 0, 0)) {
		refuse(q, PQgetvalue(res, 0, 0), "%s",
		    PQgetvalue(res, 0, 1));
		return;
	}
	if (PQgetisnull(res, 0, 2) || (result = json_loads(PQgetvalue(res,
	    0, 2), JSON_DECODE_ANY, &jerr)) == NULL) {
		log_warnx("admin: %s: no result", q->cmd->spec.name);
		refuse(q, "internal", "unexpected answer from the "
		    "database");
		return;
	}
	if (q->cmd->shape != NULL)
		q->cmd->shape(q, result);
	else
		q->hooks->reply(q, result);
}

/* Strings: UTF-8 (jansson's), no control characters, not too long. */
static int
str_ok(const char *s)
{
	size_t	 n = strlen(s);

	if (n == 0 || n > ARG_STR_MAX)
		return 0;
	for (; *s != '\0'; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return 0;
	return 1;
}

/* The SQL parameter of one argument's value v; NULL if v is bad. */
static const char *
arg_param(const struct linesrv_arg *a, json_t *v, char *num, size_t numlen)
{
	switch (a->type) {
	case ARG_STR:
		if (!json_is_string(v) || !str_ok(json_string_value(v)))
			return NULL;
		return json_string_value(v);
	case ARG_INT:
		if (!json_is_integer(v) || json_integer_value(v) < a->min ||
		    json_integer_value(v) > a->max)
			return NULL;
		snprintf(num, numlen, "%lld", (long long)json_integer_value(v));
		return num;
	case ARG_BOOL:
		if (!json_is_boolean(v))
			return NULL;
		return json_is_true(v) ? "true" : "false";
	}
	return NULL;
}

static void
arg_refused(struct admin_req *q, const struct linesrv_arg *a)
{
	log_warnx("admin: uid %s: %s: bad \"%s\"", q->uid, q->cmd->spec.name,
	    a->member);
	if (a->type == ARG_STR)
		refuse(q, "invalid", "\"%s\" must be a string of 1 "
		    "to %d characters, none a control character", a->member,
		    ARG_STR_MAX);
	else if (a->type == ARG_INT)
		refuse(q, "invalid", "\"%s\" must be an integer "
		    "from %lld to %lld", a->member, a->min, a->max);
	else
		refuse(q, "invalid", "\"%s\" must be true or false",
		    a->member);
}

/*
 * The request's arguments as SQL parameters (NULL: not given), in the
 * order of the command's; their count, or -1 (replied).
 */
static int
args_params(struct admin_req *q, const char **params, char num[][24])
{
	const struct linesrv_cmd *spec = &q->cmd->spec;
	const char *key;
	json_t	*v;
	int	 n, nargs = (int)linesrv_cmd_nargs(spec);

	if ((key = linesrv_cmd_unknown_member(spec, q->msg)) != NULL) {
		log_warnx("admin: uid %s: %s: unknown argument", q->uid,
		    spec->name);
		refuse(q, "invalid", "%s takes no argument "
		    "\"%.64s\"", spec->name, key);
		return -1;
	}
	for (n = 0; n < nargs; n++) {
		const struct linesrv_arg *a = &spec->args[n];

		params[n] = NULL;
		if ((v = json_object_get(q->msg, a->member)) == NULL) {
			if (!a->required)
				continue;
			refuse(q, "invalid", "%s needs \"%s\"",
			    spec->name, a->member);
			return -1;
		}
		if ((params[n] = arg_param(a, v, num[n], sizeof(num[n]))) ==
		    NULL) {
			arg_refused(q, a);
			return -1;
		}
	}
	return n;
}

void
admin_cmd_run(struct admin_req *q)
{
	const struct admin_cmd *c = q->cmd;
	const char *params[ARGS_MAX + 1];
	char	 num[ARGS_MAX][24];
	int	 n;

	if ((n = args_params(q, params, num)) == -1)
		return;
	if (c->spec.handler != NULL) {
		c->spec.handler(q);
		return;
	}
	if (c->spec.flags & CMD_WRITE)
		params[n++] = q->uid;
	if (db_query(q->hooks->db(),
	    c->spec.flags & CMD_WRITE ? 0 : DB_IDEMPOTENT, sql_done, q, c->sql,
	    n, params) == -1)
		refuse(q, "internal", "the database queue refused "
		    "the request");
}

static json_t *
figures_json(const struct agent_sample *s)
{
	return json_pack("{sIsIsIsIsIsIsI}", "time", (json_int_t)s->time,
	    "rvm", (json_int_t)s->rvm, "tcpu", (json_int_t)s->tcpu,
	    "fcpu", (json_int_t)s->fcpu, "acpu", (json_int_t)s->acpu,
	    "tmem_mib", (json_int_t)s->tmem_mib,
	    "fmem_mib", (json_int_t)s->fmem_mib);
}

/* The database's hosts, with the latest figures of the connected ones. */
static void
host_shape(struct admin_req *q, json_t *hosts)
{
	const struct agent_sample *s;
	json_t	*h;
	size_t	 i;

	json_array_foreach(hosts, i, h) {
		s = ctrl_host_figures(json_string_value(json_object_get(h,
		    "name")));
		json_object_set_new(h, "figures", s != NULL ? figures_json(s) :
		    json_null());
	}
	q->hooks->reply(q, hosts);
}

/* The configured policy, in the names xvds-policy(7)'s snapshots take. */
static json_t *
params_json(const struct ctrl_conf *c)
{
	const struct policy_params *p = &c->policy;
	json_t	*o = json_object();

	json_object_set_new(o, "policy", json_string(c->policy_name));
	json_object_set_new(o, "threshold", json_real(p->threshold));
	json_object_set_new(o, "WINDOW_SIZE", json_integer(p->window));
	json_object_set_new(o, "LOWER_RATE_GUEST",
	    json_real(p->lower_rate_guest));
	json_object_set_new(o, "UPPER_RATE_GUEST",
	    json_real(p->upper_rate_guest));
	json_object_set_new(o, "UNDER_RATE_HOST",
	    json_real(p->under_rate_host));
	json_object_set_new(o, "HOST_MIN_MEM", json_integer(p->host_min_mem));
	json_object_set_new(o, "round",
	    json_string(policy_round_names[p->round]));
	json_object_set_new(o, "sources", json_integer(p->sources));
	json_object_set_new(o, "cpu_limit", p->cpu_limit < 0 ?
	    json_string("threshold") : json_real(p->cpu_limit));
	json_object_set_new(o, "history",
	    json_string(p->move_history ? "move" : "keep"));
	json_object_set_new(o, "sustain", json_integer(p->sustain));
	json_object_set_new(o, "max_per_tick", json_integer(p->max_per_tick));
	json_object_set_new(o, "max_per_host", json_integer(p->max_per_host));
	json_object_set_new(o, "cooldown", json_integer(p->cooldown));
	return o;
}

static void
policy_show(void *call)
{
	struct admin_req *q = call;
	const struct ctrl_conf *c = q->hooks->conf();

	q->hooks->reply(q, json_pack("{sosIsI}", "params", params_json(c),
	    "sample_interval", (json_int_t)c->sample_interval,
	    "window_seconds", (json_int_t)c->policy.window *
	    (json_int_t)c->sample_interval));
}

static int
host_cmp(const void *a, const void *b)
{
	return strcmp((*(const struct policy_host *const *)a)->id,
	    (*(const struct policy_host *const *)b)->id);
}

/*
 * xvds-policy(7)'s snapshot of the live cluster, as the balancer sees it
 * (ctrl_cluster_view): each host's CPU window, oldest sample first, its
 * memory in use with the placements reserved on it, and the VMs of its
 * latest sample with their CPU.  The hosts up that the view lacks (no
 * sample yet, or given up) are named apart.  Hosts in name order, so that
 * two snapshots of the same cluster read the same.
 */
static void
snapshot_shape(struct admin_req *q, json_t *up)
{
	struct policy_cluster c;
	const struct agent_sample *s;
	const struct policy_host *ph, **order = NULL;
	json_t	*hosts, *missing, *h, *samples, *vms, *name;
	size_t	 i, k;
	unsigned n;

	if (ctrl_cluster_view(&c) == -1 || (c.nhosts > 0 &&
	    (order = calloc(c.nhosts, sizeof(*order))) == NULL)) {
		ctrl_cluster_view_free(&c);
		json_decref(up);
		refuse(q, "internal", "out of memory");
		return;
	}
	for (i = 0; i < c.nhosts; i++)
		order[i] = &c.hosts[i];
	if (c.nhosts > 1)
		qsort(order, c.nhosts, sizeof(*order), host_cmp);
	hosts = json_array();
	for (i = 0; i < c.nhosts; i++) {
		ph = order[i];
		samples = json_array();
		for (n = ph->nsamples; n > 0; n--)
			json_array_append_new(samples, json_real(ph->ring[
			    (ph->next + POLICY_WINDOW_MAX - n) %
			    POLICY_WINDOW_MAX]));
		vms = json_array();
		for (k = 0; k < c.nvms; k++)
			if (&c.hosts[c.vms[k].host] == ph)
				json_array_append_new(vms, json_pack("{sssIsf}",
				    "id", c.vms[k].id, "mem_mb",
				    (json_int_t)c.vms[k].mem_mb, "cpu",
				    c.vms[k].cpu));
		h = json_pack("{sssIsIsoso}", "id", ph->id, "mem_mb",
		    (json_int_t)ph->mem_mb, "mem_used_mb",
		    (json_int_t)ph->mem_used_mb, "samples", samples, "vms", vms);
		if ((s = ctrl_host_figures(ph->id)) != NULL)
			json_object_set_new(h, "time", json_integer(s->time));
		json_array_append_new(hosts, h);
	}
	missing = json_array();
	json_array_foreach(up, i, name) {
		for (k = 0; k < c.nhosts; k++)
			if (json_is_string(name) &&
			    strcmp(c.hosts[k].id, json_string_value(name)) == 0)
				break;
		if (k == c.nhosts)
			json_array_append(missing, name);
	}
	free(order);
	ctrl_cluster_view_free(&c);
	json_decref(up);
	q->hooks->reply(q, json_pack("{sIsososo}", "time",
	    (json_int_t)time(NULL), "params", params_json(q->hooks->conf()),
	    "hosts", hosts, "hosts_without_figures", missing));
}

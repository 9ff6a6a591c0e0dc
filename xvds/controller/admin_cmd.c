/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * controller/admin_cmd.c — the admin socket's commands (xvds-admin(7)): each
 * one's arguments, checked strictly, and its SQL.
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
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "agent/msg.h"
#include "controller/admin.h"
#include "controller/agent.h"
#include "controller/cluster.h"
#include "controller/conf.h"
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

/* Timestamps as the operator reads them, in UTC. */
#define TS(c)	"to_char(" c " AT TIME ZONE 'UTC', " \
		"'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')"
#define I32	INT32_MIN, INT32_MAX	/* the database's CHECKs decide */

/* An operator's event: kind, subject and detail from the CTE named. */
#define EVENT(kind, subject, detail, from) \
	"ev AS (INSERT INTO events (kind, actor, subject, detail) SELECT '" \
	kind "', 'operator', " subject ", " detail " FROM " from ")"

static const char host_list_sql[] =
    "SELECT NULL, NULL, coalesce(jsonb_agg(jsonb_build_object('name', name, "
    "'state', state, 'address', address, 'cpus', cpus, 'memory_mib', "
    "memory_mib, 'last_seen', " TS("last_seen") ") ORDER BY name), "
    "'[]')::text FROM hosts";

static const char vm_list_sql[] =
    "WITH miss AS (SELECT CASE WHEN $1::text IS NOT NULL AND NOT EXISTS "
    "(SELECT 1 FROM pools WHERE name = $1::text) THEN 'no such pool: ' || $1 "
    "WHEN $2::text IS NOT NULL AND NOT EXISTS (SELECT 1 FROM hosts WHERE "
    "name = $2::text) THEN 'no such host: ' || $2 END AS m) "
    "SELECT CASE WHEN m IS NOT NULL THEN 'not-found' END, m, "
    "(SELECT coalesce(jsonb_agg(jsonb_build_object('name', v.name, 'kind', "
    "v.kind, 'state', v.state, 'host', h.name, 'domid', v.domid, 'pool', "
    "p.name, 'owner', o.name, 'address', v.address, 'session', s.id, "
    "'user', su.name, 'memory_mib', v.memory_mib, 'changed', "
    TS("v.changed") ") ORDER BY v.name), '[]') FROM vms v "
    "LEFT JOIN hosts h ON h.id = v.host_id "
    "LEFT JOIN pools p ON p.id = v.pool_id "
    "LEFT JOIN users o ON o.id = v.owner_id "
    "LEFT JOIN sessions s ON s.vm_id = v.id AND s.ended IS NULL "
    "LEFT JOIN users su ON su.id = s.user_id "
    "WHERE ($1::text IS NULL OR p.name = $1::text) AND "
    "($2::text IS NULL OR h.name = $2::text))::text FROM miss";

/*
 * The migration's checks in the order an operator would want them told;
 * the unique index refuses a second live migration of the VM.
 */
static const char vm_migrate_sql[] =
    "WITH v AS (SELECT v.id, v.host_id, h.name AS host FROM vms v "
    "LEFT JOIN hosts h ON h.id = v.host_id WHERE v.name = $1::text), "
    "h AS (SELECT id, state FROM hosts WHERE name = $2::text), "
    "why AS (SELECT CASE "
    "WHEN NOT EXISTS (SELECT 1 FROM v) THEN 'not-found/no such VM: ' || $1 "
    "WHEN NOT EXISTS (SELECT 1 FROM h) THEN 'not-found/no such host: ' || $2 "
    "WHEN (SELECT host_id FROM v) IS NULL THEN 'conflict/VM ' || $1 || "
    "' is on no host' "
    "WHEN (SELECT host_id FROM v) = (SELECT id FROM h) THEN 'conflict/VM ' "
    "|| $1 || ' is on host ' || $2 || ' already' "
    "WHEN (SELECT state FROM h) <> 'up' THEN 'conflict/host ' || $2 || "
    "' is ' || (SELECT state FROM h)::text || ', not up' END AS w), "
    "m AS (INSERT INTO migrations (vm_id, from_host, to_host, state, reason) "
    "SELECT v.id, v.host_id, h.id, 'planned', 'operator' FROM v, h, why "
    "WHERE why.w IS NULL RETURNING id), "
    EVENT("migrate-planned", "$1", "jsonb_build_object('uid', $3::bigint, "
    "'migration', m.id, 'from', (SELECT host FROM v), 'to', $2::text)", "m")
    " SELECT split_part(w, '/', 1), substr(w, strpos(w, '/') + 1), "
    "(SELECT jsonb_build_object('id', m.id, 'vm', $1::text, 'from', "
    "(SELECT host FROM v), 'to', $2::text, 'state', 'planned') FROM m)::text "
    "FROM why";

static const char template_add_sql[] =
    "WITH t AS (INSERT INTO templates (name, memory_mib, vcpus) VALUES "
    "($1, $2::integer, coalesce($3::integer, 1)) RETURNING name, memory_mib, "
    "vcpus), "
    EVENT("template-add", "t.name", "jsonb_build_object('uid', $4::bigint, "
    "'memory_mib', t.memory_mib, 'vcpus', t.vcpus)", "t")
    " SELECT NULL, NULL, jsonb_build_object('name', name, 'memory_mib', "
    "memory_mib, 'vcpus', vcpus)::text FROM t";

/*
 * A user's own desktop (PVM): its row only; the broker places, defines
 * and starts it at the user's first login.  $1 user, $2 template, $3 name
 * or NULL ("pvm-" and the user's name, in the VM names' alphabet), $4 uid.
 */
static const char pvm_create_sql[] =
    "WITH miss AS (SELECT CASE WHEN NOT EXISTS (SELECT 1 FROM users WHERE "
    "name = $1) THEN 'no such user: ' || $1 WHEN NOT EXISTS (SELECT 1 FROM "
    "templates WHERE name = $2) THEN 'no such template: ' || $2 END AS m), "
    "v AS (INSERT INTO vms (name, kind, template_id, owner_id, memory_mib) "
    "SELECT coalesce($3, 'pvm-' || regexp_replace(u.name, '[^A-Za-z0-9_.-]', "
    "'-', 'g')), 'pvm', t.id, u.id, t.memory_mib FROM users u, templates t "
    "WHERE u.name = $1 AND t.name = $2 RETURNING name, memory_mib), "
    EVENT("pvm-create", "v.name", "jsonb_build_object('uid', $4::bigint, "
    "'user', $1::text, 'template', $2::text)", "v")
    " SELECT CASE WHEN (SELECT m FROM miss) IS NOT NULL THEN 'not-found' "
    "END, (SELECT m FROM miss), (SELECT jsonb_build_object('name', name, "
    "'user', $1::text, 'template', $2::text, 'memory_mib', memory_mib) "
    "FROM v)::text";

static const char template_list_sql[] =
    "SELECT NULL, NULL, coalesce(jsonb_agg(jsonb_build_object('name', "
    "t.name, 'memory_mib', t.memory_mib, 'vcpus', t.vcpus, 'pools', "
    "(SELECT count(*) FROM pools p WHERE p.template_id = t.id), 'created', "
    TS("t.created") ") ORDER BY t.name), '[]')::text FROM templates t";

static const char pool_create_sql[] =
    "WITH t AS (SELECT id FROM templates WHERE name = $2::text), "
    "p AS (INSERT INTO pools (name, template_id, size, ready_target, "
    "idle_pause, idle_save) SELECT $1, t.id, $3::integer, "
    "coalesce($4::integer, 0), make_interval(secs => $5::integer), "
    "make_interval(secs => $6::integer) FROM t "
    "RETURNING name, size, ready_target), "
    EVENT("pool-create", "p.name", "jsonb_build_object('uid', $7::bigint, "
    "'template', $2::text, 'size', p.size, 'ready', p.ready_target, "
    "'idle_pause', $5::integer, 'idle_save', $6::integer)", "p")
    " SELECT CASE WHEN NOT EXISTS (SELECT 1 FROM t) THEN 'not-found' END, "
    "'no such template: ' || $2, (SELECT jsonb_build_object('name', name, "
    "'template', $2::text, 'size', size, 'ready_target', ready_target, "
    "'idle_pause', $5::integer, 'idle_save', $6::integer) FROM p)::text";

static const char pool_resize_sql[] =
    "WITH old AS (SELECT id, size, ready_target FROM pools "
    "WHERE name = $1::text FOR UPDATE), "
    "p AS (UPDATE pools SET size = $2::integer, ready_target = "
    "coalesce($3::integer, pools.ready_target) FROM old "
    "WHERE pools.id = old.id RETURNING pools.name, pools.size, "
    "pools.ready_target, old.size AS old_size, "
    "old.ready_target AS old_ready), "
    EVENT("pool-resize", "p.name", "jsonb_build_object('uid', $4::bigint, "
    "'size', p.size, 'ready', p.ready_target, 'old_size', p.old_size, "
    "'old_ready', p.old_ready)", "p")
    " SELECT CASE WHEN NOT EXISTS (SELECT 1 FROM old) THEN 'not-found' END, "
    "'no such pool: ' || $1, (SELECT jsonb_build_object('name', name, "
    "'size', size, 'ready_target', ready_target, 'old_size', old_size, "
    "'old_ready_target', old_ready) FROM p)::text";

static const char pool_show_sql[] =
    "SELECT CASE WHEN p.id IS NULL THEN 'not-found' END, "
    "'no such pool: ' || $1, jsonb_build_object('name', p.name, "
    "'template', t.name, 'size', p.size, 'ready_target', p.ready_target, "
    "'idle_pause', extract(epoch FROM p.idle_pause)::bigint, "
    "'idle_save', extract(epoch FROM p.idle_save)::bigint, "
    "'created', " TS("p.created") ", "
    "'vms', (SELECT count(*) FROM vms v WHERE v.pool_id = p.id), "
    "'states', coalesce((SELECT jsonb_object_agg(state, n) FROM "
    "(SELECT state, count(*) AS n FROM vms v WHERE v.pool_id = p.id "
    "GROUP BY state) s), '{}'), "
    "'sessions', (SELECT count(*) FROM sessions s JOIN vms v ON "
    "v.id = s.vm_id WHERE v.pool_id = p.id AND s.ended IS NULL), "
    "'groups', coalesce((SELECT jsonb_agg(g.name ORDER BY g.name) FROM "
    "permissions pe JOIN groups g ON g.id = pe.group_id "
    "WHERE pe.pool_id = p.id), '[]'))::text "
    "FROM (SELECT 1) AS one LEFT JOIN pools p ON p.name = $1::text "
    "LEFT JOIN templates t ON t.id = p.template_id";

static const char pool_list_sql[] =
    "SELECT NULL, NULL, coalesce(jsonb_agg(jsonb_build_object('name', "
    "p.name, 'template', t.name, 'size', p.size, 'ready_target', "
    "p.ready_target, 'idle_pause', extract(epoch FROM p.idle_pause)::bigint, "
    "'idle_save', extract(epoch FROM p.idle_save)::bigint, "
    "'vms', (SELECT count(*) FROM vms v WHERE v.pool_id = p.id), "
    "'ready', (SELECT count(*) FROM vms v WHERE v.pool_id = p.id AND "
    "v.state = 'ready'), 'running', (SELECT count(*) FROM vms v WHERE "
    "v.pool_id = p.id AND v.state = 'running')) ORDER BY p.name), "
    "'[]')::text FROM pools p JOIN templates t ON t.id = p.template_id";

static const char user_add_sql[] =
    "WITH u AS (INSERT INTO users (name, pwhash) VALUES ($1, $2) "
    "RETURNING name), "
    EVENT("user-add", "u.name", "jsonb_build_object('uid', $3::bigint)",
    "u")
    " SELECT NULL, NULL, jsonb_build_object('name', name)::text FROM u";

/* The hash is never echoed, nor written to the events. */
static const char user_passwd_sql[] =
    "WITH u AS (UPDATE users SET pwhash = $2 WHERE name = $1::text "
    "RETURNING name), "
    EVENT("user-passwd", "u.name", "jsonb_build_object('uid', $3::bigint)",
    "u")
    " SELECT CASE WHEN NOT EXISTS (SELECT 1 FROM u) THEN 'not-found' END, "
    "'no such user: ' || $1, (SELECT jsonb_build_object('name', name) "
    "FROM u)::text";

#define USER_FLAG_SQL(kind, value) \
    "WITH u AS (UPDATE users SET disabled = " value " WHERE name = $1::text " \
    "RETURNING name, disabled), " \
    EVENT(kind, "u.name", "jsonb_build_object('uid', $2::bigint)", "u") \
    " SELECT CASE WHEN NOT EXISTS (SELECT 1 FROM u) THEN 'not-found' END, " \
    "'no such user: ' || $1, (SELECT jsonb_build_object('name', name, " \
    "'disabled', disabled) FROM u)::text"

/*
 * Disabling a user also ends the user's open sessions, in the same
 * statement: the session module then releases their desktops (a CVM's
 * reset, a PVM's shutdown) as after any end.
 */
static const char user_disable_sql[] =
    "WITH u AS (UPDATE users SET disabled = true WHERE name = $1::text "
    "RETURNING id, name, disabled), "
    "s AS (UPDATE sessions SET ended = now(), end_reason = 'user-disabled' "
    "FROM u WHERE sessions.user_id = u.id AND sessions.ended IS NULL "
    "RETURNING sessions.id, sessions.vm_id), "
    EVENT("user-disable", "u.name", "jsonb_build_object('uid', $2::bigint, "
    "'sessions_ended', (SELECT count(*) FROM s))", "u") ", "
    "es AS (INSERT INTO events (kind, actor, subject, detail) SELECT "
    "'session-end', 'operator', u.name, jsonb_build_object('uid', "
    "$2::bigint, 'session', s.id, 'vm', v.name, 'why', 'user-disabled') "
    "FROM s JOIN vms v ON v.id = s.vm_id, u)"
    " SELECT CASE WHEN NOT EXISTS (SELECT 1 FROM u) THEN 'not-found' END, "
    "'no such user: ' || $1, (SELECT jsonb_build_object('name', name, "
    "'disabled', disabled, 'sessions_ended', (SELECT count(*) FROM s)) "
    "FROM u)::text";

static const char user_list_sql[] =
    "SELECT NULL, NULL, coalesce(jsonb_agg(jsonb_build_object('name', "
    "u.name, 'disabled', u.disabled, 'created', " TS("u.created") ", "
    "'groups', coalesce((SELECT jsonb_agg(g.name ORDER BY g.name) FROM "
    "memberships m JOIN groups g ON g.id = m.group_id WHERE m.user_id = "
    "u.id), '[]'), 'sessions', (SELECT count(*) FROM sessions s WHERE "
    "s.user_id = u.id AND s.ended IS NULL), 'pvm', (SELECT v.name FROM vms "
    "v WHERE v.owner_id = u.id AND v.kind = 'pvm')) ORDER BY u.name), "
    "'[]')::text FROM users u";

static const char group_add_sql[] =
    "WITH g AS (INSERT INTO groups (name) VALUES ($1) RETURNING name), "
    EVENT("group-add", "g.name", "jsonb_build_object('uid', $2::bigint)",
    "g")
    " SELECT NULL, NULL, jsonb_build_object('name', name)::text FROM g";

/* A link between a group ($1) and a user or a pool ($2). */
#define LINK_MISS(table, what) \
    "WITH g AS (SELECT id FROM groups WHERE name = $1::text), " \
    "o AS (SELECT id FROM " table " WHERE name = $2::text), " \
    "miss AS (SELECT CASE WHEN NOT EXISTS (SELECT 1 FROM g) THEN " \
    "'no such group: ' || $1 WHEN NOT EXISTS (SELECT 1 FROM o) THEN " \
    "'no such " what ": ' || $2 END AS m), "
#define LINK_END(kind, what, none) \
    EVENT(kind, "$1", "jsonb_build_object('uid', $3::bigint, '" what "', " \
    "$2::text)", "l") \
    " SELECT CASE WHEN m IS NOT NULL OR NOT EXISTS (SELECT 1 FROM l) THEN " \
    "'not-found' END, coalesce(m, " none "), (SELECT jsonb_build_object(" \
    "'group', $1::text, '" what "', $2::text) FROM l LIMIT 1)::text FROM miss"

static const char member_add_sql[] =
    LINK_MISS("users", "user")
    "l AS (INSERT INTO memberships (user_id, group_id) SELECT o.id, g.id "
    "FROM g, o RETURNING user_id), "
    LINK_END("group-member-add", "user", "''");

static const char member_remove_sql[] =
    LINK_MISS("users", "user")
    "l AS (DELETE FROM memberships m USING g, o WHERE m.group_id = g.id "
    "AND m.user_id = o.id RETURNING m.user_id), "
    LINK_END("group-member-remove", "user", "$2 || ' is not a member of ' "
    "|| $1");

static const char permit_sql[] =
    LINK_MISS("pools", "pool")
    "l AS (INSERT INTO permissions (group_id, pool_id) SELECT g.id, o.id "
    "FROM g, o RETURNING pool_id), "
    LINK_END("group-permit", "pool", "''");

static const char revoke_sql[] =
    LINK_MISS("pools", "pool")
    "l AS (DELETE FROM permissions pe USING g, o WHERE pe.group_id = g.id "
    "AND pe.pool_id = o.id RETURNING pe.pool_id), "
    LINK_END("group-revoke", "pool", "'group ' || $1 || ' has no "
    "permission on pool ' || $2");

static const char group_list_sql[] =
    "SELECT NULL, NULL, coalesce(jsonb_agg(jsonb_build_object('name', "
    "g.name, 'members', coalesce((SELECT jsonb_agg(u.name ORDER BY u.name) "
    "FROM memberships m JOIN users u ON u.id = m.user_id WHERE m.group_id = "
    "g.id), '[]'), 'pools', coalesce((SELECT jsonb_agg(p.name ORDER BY "
    "p.name) FROM permissions pe JOIN pools p ON p.id = pe.pool_id WHERE "
    "pe.group_id = g.id), '[]')) ORDER BY g.name), '[]')::text FROM groups g";

static const char session_list_sql[] =
    "SELECT NULL, NULL, coalesce(jsonb_agg(jsonb_build_object('id', s.id, "
    "'user', u.name, 'vm', v.name, 'host', h.name, 'address', v.address, "
    "'client', s.client, 'started', " TS("s.started") ", 'lease_until', "
    TS("s.lease_until") ", 'ended', " TS("s.ended") ", 'end_reason', "
    "s.end_reason) ORDER BY s.id), '[]')::text FROM sessions s "
    "JOIN users u ON u.id = s.user_id JOIN vms v ON v.id = s.vm_id "
    "LEFT JOIN hosts h ON h.id = v.host_id "
    "WHERE s.ended IS NULL OR coalesce($1::boolean, false)";

/*
 * Ends the session and nothing more: the session module releases the VM
 * of every ended session by itself (reset or shutdown).
 */
static const char session_end_sql[] =
    "WITH s AS (UPDATE sessions SET ended = now(), end_reason = 'operator' "
    "WHERE id = $1::bigint AND ended IS NULL RETURNING id, vm_id, user_id), "
    EVENT("session-end", "u.name", "jsonb_build_object('uid', $2::bigint, "
    "'session', s.id, 'vm', v.name)", "s JOIN vms v ON v.id = s.vm_id "
    "JOIN users u ON u.id = s.user_id")
    " SELECT CASE WHEN EXISTS (SELECT 1 FROM s) THEN NULL WHEN EXISTS "
    "(SELECT 1 FROM sessions WHERE id = $1::bigint) THEN 'conflict' ELSE "
    "'not-found' END, CASE WHEN EXISTS (SELECT 1 FROM sessions WHERE id = "
    "$1::bigint) THEN 'session ' || $1 || ' has ended already' ELSE "
    "'no such session: ' || $1 END, (SELECT jsonb_build_object('id', s.id, "
    "'vm', v.name, 'user', u.name, 'end_reason', 'operator') FROM s "
    "JOIN vms v ON v.id = s.vm_id JOIN users u ON u.id = s.user_id)::text";

/* The last n, or (after) the first n after an id: oldest first. */
static const char events_tail_sql[] =
    "SELECT NULL, NULL, coalesce(jsonb_agg(jsonb_build_object('id', id, "
    "'at', to_char(at AT TIME ZONE 'UTC', "
    "'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"'), 'kind', kind, 'actor', actor, "
    "'subject', subject, 'detail', detail) ORDER BY id), '[]')::text FROM "
    "(SELECT * FROM events WHERE $2::bigint IS NULL OR id > $2::bigint "
    "ORDER BY CASE WHEN $2::bigint IS NULL THEN -id ELSE id END "
    "LIMIT coalesce($1::integer, 20)) e";

/* The hosts up, for policy.snapshot to say which have no figures yet. */
static const char snapshot_sql[] =
    "SELECT NULL, NULL, coalesce(jsonb_agg(name ORDER BY name), '[]')::text "
    "FROM hosts WHERE state = 'up'";

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
	CMD("host.list", NO_ARGS, 0, host_list_sql, host_shape,
	    "the hosts, with the connected ones' figures"),
	CMD("vm.list", ARGS(OPTSTR("pool"), OPTSTR("host")), 0, vm_list_sql,
	    NULL, "the VMs, of a pool or a host"),
	CMD("vm.migrate", ARGS(NAME("vm"), NAME("host")), CMD_WRITE,
	    vm_migrate_sql, NULL, "plans a VM's migration to a host"),
	CMD("template.add", ARGS(NAME("name"),
	    { "memory_mib", ARG_INT, 1, I32 }, { "vcpus", ARG_INT, 0, I32 }),
	    CMD_WRITE, template_add_sql, NULL, "adds a template"),
	CMD("template.list", NO_ARGS, 0, template_list_sql, NULL,
	    "the templates"),
	CMD("pvm.create", ARGS(NAME("user"), NAME("template"),
	    OPTSTR("name")), CMD_WRITE, pvm_create_sql, NULL,
	    "gives a user a personal desktop"),
	CMD("pool.create", ARGS(NAME("name"), NAME("template"),
	    { "size", ARG_INT, 1, I32 }, { "ready", ARG_INT, 0, I32 },
	    { "idle_pause", ARG_INT, 0, I32 }, { "idle_save", ARG_INT, 0, I32 }),
	    CMD_WRITE, pool_create_sql, NULL, "creates a pool of CVMs"),
	CMD("pool.resize", ARGS(NAME("name"), { "size", ARG_INT, 1, I32 },
	    { "ready", ARG_INT, 0, I32 }), CMD_WRITE, pool_resize_sql, NULL,
	    "changes a pool's size and ready target"),
	CMD("pool.show", ARGS(NAME("name")), 0, pool_show_sql, NULL,
	    "one pool"),
	CMD("pool.list", NO_ARGS, 0, pool_list_sql, NULL, "the pools"),
	CMD("user.add", ARGS(NAME("name"), NAME("pwhash")), CMD_WRITE,
	    user_add_sql, NULL, "adds a user with an argon2id hash"),
	CMD("user.passwd", ARGS(NAME("name"), NAME("pwhash")), CMD_WRITE,
	    user_passwd_sql, NULL, "replaces a user's password hash"),
	CMD("user.disable", ARGS(NAME("name")), CMD_WRITE, user_disable_sql,
	    NULL, "refuses a user's logins"),
	CMD("user.enable", ARGS(NAME("name")), CMD_WRITE,
	    USER_FLAG_SQL("user-enable", "false"), NULL,
	    "takes a user's logins again"),
	CMD("user.list", NO_ARGS, 0, user_list_sql, NULL, "the users"),
	CMD("group.add", ARGS(NAME("name")), CMD_WRITE, group_add_sql, NULL,
	    "adds a group"),
	CMD("group.member-add", ARGS(NAME("group"), NAME("user")), CMD_WRITE,
	    member_add_sql, NULL, "puts a user in a group"),
	CMD("group.member-remove", ARGS(NAME("group"), NAME("user")),
	    CMD_WRITE, member_remove_sql, NULL, "takes a user out of a group"),
	CMD("group.permit", ARGS(NAME("group"), NAME("pool")), CMD_WRITE,
	    permit_sql, NULL, "lets a group's users log in to a pool"),
	CMD("group.revoke", ARGS(NAME("group"), NAME("pool")), CMD_WRITE,
	    revoke_sql, NULL, "no longer lets a group use a pool"),
	CMD("group.list", NO_ARGS, 0, group_list_sql, NULL,
	    "the groups, their members and pools"),
	CMD("session.list", ARGS({ "all", ARG_BOOL, 0, 0, 0 }), 0,
	    session_list_sql, NULL, "the open sessions, or all"),
	CMD("session.end", ARGS({ "session", ARG_INT, 1, 1, INT64_MAX }),
	    CMD_WRITE, session_end_sql, NULL, "ends a session"),
	CMD("events.tail", ARGS({ "n", ARG_INT, 0, 1, 10000 },
	    { "after", ARG_INT, 0, 0, INT64_MAX }), 0, events_tail_sql, NULL,
	    "the latest events"),
	{ { "policy.show", NO_ARGS, policy_show, 0,
	    "the balancing policy's parameters" }, NULL, NULL },
	CMD("policy.snapshot", NO_ARGS, 0, snapshot_sql, snapshot_shape,
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
	if (res == NULL && admin_db() == NULL) {
		admin_reply_error(q, "standby", "standby: this controller "
		    "stepped down while the request was under way");
		return;
	}
	if (res == NULL) {
		log_warnx("admin: %s: %s", q->cmd->spec.name, err);
		if (q->cmd->spec.flags & CMD_WRITE)
			admin_reply_error(q, "internal", "the database "
			    "connection was lost: the change may or may not "
			    "have been made; look before trying again");
		else
			admin_reply_error(q, "internal", "the database is "
			    "unreachable; try again later");
		return;
	}
	for (i = 0; con != NULL && i < sizeof(violations) /
	    sizeof(violations[0]); i++)
		if (strcmp(con, violations[i].constraint) == 0) {
			admin_reply_error(q, violations[i].error, "%s",
			    violations[i].message);
			return;
		}
	/* Class 22: a value the column's type cannot hold. */
	if (state != NULL && strncmp(state, "22", 2) == 0) {
		admin_reply_error(q, "invalid", "a value out of range");
		return;
	}
	log_warnx("admin: %s: %s", q->cmd->spec.name, err);
	admin_reply_error(q, "internal", "the database refused: %s", err);
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
		admin_reply_error(q, "internal", "unexpected answer from the "
		    "database");
		return;
	}
	if (!PQgetisnull(res, 0, 0)) {
		admin_reply_error(q, PQgetvalue(res, 0, 0), "%s",
		    PQgetvalue(res, 0, 1));
		return;
	}
	if (PQgetisnull(res, 0, 2) || (result = json_loads(PQgetvalue(res,
	    0, 2), JSON_DECODE_ANY, &jerr)) == NULL) {
		log_warnx("admin: %s: no result", q->cmd->spec.name);
		admin_reply_error(q, "internal", "unexpected answer from the "
		    "database");
		return;
	}
	if (q->cmd->shape != NULL)
		q->cmd->shape(q, result);
	else
		admin_reply(q, result);
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
		admin_reply_error(q, "invalid", "\"%s\" must be a string of 1 "
		    "to %d characters, none a control character", a->member,
		    ARG_STR_MAX);
	else if (a->type == ARG_INT)
		admin_reply_error(q, "invalid", "\"%s\" must be an integer "
		    "from %lld to %lld", a->member, a->min, a->max);
	else
		admin_reply_error(q, "invalid", "\"%s\" must be true or false",
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
		admin_reply_error(q, "invalid", "%s takes no argument "
		    "\"%.64s\"", spec->name, key);
		return -1;
	}
	for (n = 0; n < nargs; n++) {
		const struct linesrv_arg *a = &spec->args[n];

		params[n] = NULL;
		if ((v = json_object_get(q->msg, a->member)) == NULL) {
			if (!a->required)
				continue;
			admin_reply_error(q, "invalid", "%s needs \"%s\"",
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
	if (db_query(admin_db(), c->spec.flags & CMD_WRITE ? 0 : DB_IDEMPOTENT,
	    sql_done, q, c->sql, n, params) == -1)
		admin_reply_error(q, "internal", "the database queue refused "
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
	admin_reply(q, hosts);
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
	const struct ctrl_conf *c = admin_conf();

	admin_reply(q, json_pack("{sosIsI}", "params", params_json(c),
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
		admin_reply_error(q, "internal", "out of memory");
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
	admin_reply(q, json_pack("{sIsososo}", "time", (json_int_t)time(NULL),
	    "params", params_json(admin_conf()), "hosts", hosts,
	    "hosts_without_figures", missing));
}

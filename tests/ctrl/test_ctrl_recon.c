/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * test_ctrl_recon.c — reconciliation after a host's agent (re)connects
 * (xvds-controller(8), RECONCILIATION) against a real PostgreSQL
 * (tests/ctrl/recon.test starts it) and real mutual TLS on loopback: fake
 * hosts report the VMs they have and "resynced"; the test reads what the
 * controller made of it in the database: VMs gone from their host made
 * inactive with their sessions ended, VMs the database does not know and
 * copies on a second host recorded as events and nothing else, and a
 * reconnect that finds everything as recorded writing nothing.
 *
 *   test_ctrl_recon CONNINFO PKI-DIR
 */
#include <config.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>
#include <event2/event.h>
#include <libpq-fe.h>

#include "agent_fake.h"
#include "agent/tls.h"
#include "controller/agent.h"
#include "controller/conf.h"
#include "controller/session.h"
#include "db/db.h"
#include "pg_check.h"
#include "run_loop.h"
#include "pg_loop.h"

#define STATES_MAX	8

static const char *conninfo, *pki;
static struct event_base *base;
static struct db *db;
static struct ctrl_conf *conf;
static PGconn *pg;

/* A fake host: after each welcome, its states and "resynced". */
struct fake {
	const char	*name;
	struct agent_client *cli;
	int		 welcomed, ops;
	int		 nstates;
	struct agent_state states[STATES_MAX];
	int		 count_delta;	/* added to the count resynced says */
	const char	*on_welcome;	/* SQL run before the states, or NULL */
};

static char *
file(const char *name, const char *ext)
{
	static char buf[4][512];
	static int i;

	i = (i + 1) % 4;
	snprintf(buf[i], sizeof(buf[i]), "%s/%s.%s", pki, name, ext);
	return buf[i];
}

static void
send_msg(struct agent_conn *c, struct agent_msg *m)
{
	assert_int_equal(agent_conn_send(c, m), 0);
}

static void
fake_connected(struct agent_conn *c, const char *id, void *arg)
{
	struct fake *f = arg;
	struct agent_msg m;

	(void)id;
	fake_hello(&m, f->name, 8, 16384);
	send_msg(c, &m);
}

static void
fake_message(struct agent_conn *c, const struct agent_msg *in, void *arg)
{
	struct fake *f = arg;
	struct agent_msg m;
	int	 i;

	switch (in->type) {
	case AGENT_M_WELCOME:
		if (f->on_welcome != NULL)
			pg_exec_ok(pg, f->on_welcome);
		for (i = 0; i < f->nstates; i++) {
			memset(&m, 0, sizeof(m));
			m.type = AGENT_M_STATE;
			m.u.state = f->states[i];
			send_msg(c, &m);
		}
		fake_resynced(&m, (uint32_t)(f->nstates + f->count_delta));
		send_msg(c, &m);
		f->welcomed++;
		break;
	case AGENT_M_PING:
		fake_pong(&m, in->u.seq);
		send_msg(c, &m);
		break;
	case AGENT_M_RESULT:
		break;		/* refused: the controller closes */
	case AGENT_M_OP:
		/* Releases: the host does as asked. */
		f->ops++;
		fake_result(&m, in->u.op.id, true);
		send_msg(c, &m);
		break;
	default:
		fail_msg("unexpected %s", agent_msg_names[in->type]);
	}
}

static void
fake_closed(struct agent_conn *c, const char *why, void *arg)
{
	(void)c;
	(void)why;
	(void)arg;
}

static const struct agent_tls_cbs fake_cbs = {
	fake_connected, fake_message, fake_closed, NULL,
};

static void
has(struct fake *f, const char *vm, enum vm_state st, uint32_t domid)
{
	assert_true(f->nstates < STATES_MAX);
	memset(&f->states[f->nstates], 0, sizeof(f->states[0]));
	snprintf(f->states[f->nstates].vm, sizeof(f->states[0].vm), "%s", vm);
	f->states[f->nstates].state = st;
	f->states[f->nstates].domid = domid;
	f->nstates++;
}

/* Connects f and waits for its welcome (and a little for what follows). */
static void
connect_fake(struct fake *f)
{
	struct agent_tls_conf tls;
	int	 want = f->welcomed + 1;

	memset(&tls, 0, sizeof(tls));
	tls.ca_file = file("ca", "pem");
	tls.cert_file = file(f->name, "pem");
	tls.key_file = file(f->name, "key");
	tls.server_name = "127.0.0.1";
	tls.backoff_min_ms = 30000;
	tls.backoff_max_ms = 30000;
	f->cli = agent_client_new(base, &tls, "127.0.0.1", ctrl_agent_port(),
	    &fake_cbs, f);
	assert_non_null(f->cli);
	assert_int_equal(run_until(base, &f->welcomed, want, PG_WAIT_MS), 0);
}

static void
disconnect_fake(struct fake *f)
{
	agent_client_free(f->cli);
	f->cli = NULL;
}

/* Lets the controller's queries drain: every query answered. */
static void
settle(void)
{
	double	 until = now_ms() + PG_WAIT_MS;

	run_for(base, 50);
	while (db_pending(db) > 0 && now_ms() < until)
		run_for(base, 10);
	assert_int_equal(db_pending(db), 0);
	run_for(base, 50);
}

static const char row_sql[] = "SELECT v.state || ' ' || coalesce(v.domid::text,"
    " '-') || ' ' || coalesce(h.name, '-') FROM vms v LEFT JOIN hosts h ON "
    "h.id = v.host_id WHERE v.name = '%s'";

static const char *
row(const char *vm)
{
	char	 sql[512];

	snprintf(sql, sizeof(sql), row_sql, vm);
	return pg_value(pg, sql);
}

/* The reconciliation's own events and the state changes. */
static const char events_sql[] = "SELECT count(*) FROM events WHERE kind IN "
    "('vm-reconciled', 'vm-unknown', 'vm-duplicate', 'vm-state', "
    "'session-end', 'vm-released')";

static int
setup(void **state)
{
	char	 text[2048], err[512];

	(void)state;
	assert_non_null(base = event_base_new());
	assert_non_null(pg = PQconnectdb(conninfo));
	assert_int_equal(PQstatus(pg), CONNECTION_OK);
	pg_exec_ok(pg, "INSERT INTO templates (name, memory_mib) "
	    "VALUES ('desk', 2048)");
	pg_exec_ok(pg, "INSERT INTO pools (name, template_id, size) "
	    "VALUES ('lab', 1, 8)");
	pg_exec_ok(pg, "INSERT INTO users (name, pwhash) VALUES "
	    "('alice', '$argon2id$x'), ('bob', '$argon2id$x')");
	/* The hosts as a previous controller left them. */
	pg_exec_ok(pg, "INSERT INTO hosts (name, address, state, cpus, "
	    "memory_mib) VALUES ('host-a', '127.0.0.1', 'down', 8, 16384), "
	    "('host-b', '127.0.0.1', 'down', 8, 16384)");
	pg_exec_ok(pg, "INSERT INTO vms (name, kind, template_id, pool_id, "
	    "memory_mib, state, host_id, domid, changed) VALUES "
	    "('lab-01', 'cvm', 1, 1, 2048, 'running', 1, 5, now() - interval '1h'),"
	    "('lab-02', 'cvm', 1, 1, 2048, 'ready', 1, 6, now() - interval '1h'),"
	    "('lab-03', 'cvm', 1, 1, 2048, 'inactive', 1, NULL, now() - interval '1h'),"
	    "('lab-04', 'cvm', 1, 1, 2048, 'ready', 1, 8, now() - interval '1h'),"
	    "('lab-05', 'cvm', 1, 1, 2048, 'ready', 2, 3, now() - interval '1h'),"
	    "('lab-06', 'cvm', 1, 1, 2048, 'paused', 1, 9, now() - interval '1h'),"
	    "('lab-07', 'cvm', 1, 1, 2048, 'saved', 1, NULL, now() - interval '1h')");
	/* alice works on lab-01. */
	pg_exec_ok(pg, "INSERT INTO sessions (user_id, vm_id, lease_until) "
	    "VALUES (1, 1, now() + interval '1 hour')");
	/* lab-04 is on its way to host-b. */
	pg_exec_ok(pg, "INSERT INTO migrations (vm_id, from_host, to_host, "
	    "state, reason, started) VALUES (4, 1, 2, 'running', 'test', now())");
	snprintf(text, sizeof(text), "agent listen 127.0.0.1\n"
	    "ca-file \"%s\"\ncert-file \"%s\"\nkey-file \"%s\"\n",
	    file("ca", "pem"), file("controller", "pem"),
	    file("controller", "key"));
	conf = ctrl_conf_parse(text, "test", err, sizeof(err));
	if (conf == NULL)
		fail_msg("%s", err);
	conf->agent_port = 0;
	assert_non_null(db = db_open(base, conninfo, err, sizeof(err)));
	assert_int_equal(ctrl_agent_start(base, db, conf), 0);
	assert_int_equal(ctrl_session_start(base, db, conf), 0);
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	ctrl_session_stop();
	ctrl_agent_stop("test over");
	db_close(db);
	ctrl_conf_free(conf);
	PQfinish(pg);
	event_base_free(base);
	return 0;
}

static struct fake a = { .name = "host-a" };
static struct fake b = { .name = "host-b" };

/*
 * host-a comes back with lab-02 (as recorded), lab-06 changed (paused to
 * ready), lab-07's saved record, lab-05 running (the database has it on
 * host-b) and stray-9 (unknown); lab-01 (alice's desktop) is gone.
 */
static void
test_host_comes_back(void **state)
{
	double	 t0;

	(void)state;
	has(&a, "lab-02", VM_S_READY, 6);
	has(&a, "lab-06", VM_S_READY, 9);
	has(&a, "lab-07", VM_S_SAVED, AGENT_NODOMAIN);
	has(&a, "lab-05", VM_S_RUNNING, 12);
	has(&a, "stray-9", VM_S_READY, 13);
	t0 = now_ms();
	connect_fake(&a);
	/* (a) gone: inactive, no domid, its host kept. */
	pg_wait(pg, base, "SELECT state FROM vms WHERE name = 'lab-01'", "inactive",
	    PG_WAIT_MS);
	print_message("# welcome to reconciled: %.1f ms\n", now_ms() - t0);
	settle();
	assert_string_equal(row("lab-01"), "inactive - host-a");
	assert_string_equal(pg_value(pg, "SELECT count(*) || ' ' || min(actor) || ' ' || "
	    "min(detail->'believed'->>'state') || ' ' || "
	    "min(detail->'believed'->>'domid') || ' ' || "
	    "min(detail->'is'->>'state') || ' ' || min(detail->>'host') "
	    "FROM events WHERE kind = 'vm-reconciled' AND subject = 'lab-01'"),
	    "1 controller running 5 inactive host-a");
	/* Its session is kept, not ended on the host's word: an alarm. */
	assert_string_equal(pg_value(pg, "SELECT (ended IS NULL) FROM sessions "
	    "WHERE vm_id = 1"), "t");
	assert_string_equal(pg_value(pg, "SELECT count(*) || ' ' || min(subject) "
	    "|| ' ' || min(detail->>'vm') || ' ' || min(detail->>'believed') "
	    "|| ' ' || min(detail->>'host') FROM events "
	    "WHERE kind = 'session-desktop-lost'"), "1 alice lab-01 running host-a");
	assert_string_equal(pg_value(pg, "SELECT count(*) FROM events WHERE "
	    "kind = 'session-end'"), "0");
	/* Reported as recorded: untouched; a change: the usual vm-state. */
	assert_string_equal(row("lab-02"), "ready 6 host-a");
	assert_string_equal(row("lab-06"), "ready 9 host-a");
	assert_string_equal(pg_value(pg, "SELECT count(*) FROM events WHERE "
	    "kind = 'vm-state' AND subject = 'lab-06'"), "1");
	assert_string_equal(row("lab-07"), "saved - host-a");
	/* Not reported but inactive already, or migrating: untouched. */
	assert_string_equal(row("lab-03"), "inactive - host-a");
	assert_string_equal(row("lab-04"), "ready 8 host-a");
	/* (b) unknown: an event, no row. */
	assert_string_equal(pg_value(pg, "SELECT count(*) || ' ' || min(actor) || ' ' || "
	    "min(detail->>'state') || ' ' || min(detail->>'domid') FROM events "
	    "WHERE kind = 'vm-unknown' AND subject = 'stray-9'"),
	    "1 agent:host-a ready 13");
	assert_string_equal(pg_value(pg, "SELECT count(*) FROM vms "
	    "WHERE name = 'stray-9'"), "0");
	/* (c) a copy on another host: not moved, an event. */
	assert_string_equal(row("lab-05"), "ready 3 host-b");
	assert_string_equal(pg_value(pg, "SELECT count(*) || ' ' || min(detail->>'host') "
	    "|| ' ' || min(detail->>'domid') || ' ' || min(detail->>'db_host') "
	    "|| ' ' || min(detail->>'db_state') FROM events "
	    "WHERE kind = 'vm-duplicate' AND subject = 'lab-05'"),
	    "1 host-a 12 host-b ready");
	assert_string_equal(pg_value(pg, "SELECT count(*) FROM events WHERE "
	    "kind IN ('vm-reconciled', 'vm-state') AND subject = 'lab-05'"), "0");
	/* Nothing else was reconciled. */
	assert_string_equal(pg_value(pg, "SELECT count(*) FROM events WHERE "
	    "kind = 'vm-reconciled'"), "1");
	/* The duplicate's later reports, on this connection: said once. */
	{
		struct agent_msg m;

		fake_state(&m, "lab-05", VM_S_PAUSED, 12, "");
		send_msg(agent_client_conn(a.cli), &m);
		settle();
		assert_string_equal(row("lab-05"), "ready 3 host-b");
		assert_string_equal(pg_value(pg, "SELECT count(*) FROM events "
		    "WHERE kind = 'vm-duplicate'"), "1");
	}
	disconnect_fake(&a);
	pg_wait(pg, base, "SELECT state FROM hosts WHERE name = 'host-a'", "down",
	    PG_WAIT_MS);
}

/*
 * host-b has what the database says (lab-05 ready, domid 3, and lab-04
 * arriving); it connects twice: no reconciliation event either time.
 */
static void
test_nothing_changed(void **state)
{
	char	 before[32];
	int	 i;

	(void)state;
	has(&b, "lab-05", VM_S_READY, 3);
	snprintf(before, sizeof(before), "%s", pg_value(pg, events_sql));
	for (i = 0; i < 2; i++) {
		connect_fake(&b);
		settle();
		assert_string_equal(pg_value(pg, events_sql), before);
		assert_string_equal(row("lab-05"), "ready 3 host-b");
		assert_string_equal(row("lab-04"), "ready 8 host-a");
		disconnect_fake(&b);
		pg_wait(pg, base, "SELECT state FROM hosts WHERE name = 'host-b'", "down",
		    PG_WAIT_MS);
	}
	/* The host-up events say it was there. */
	assert_string_equal(pg_value(pg, "SELECT count(*) FROM events "
	    "WHERE kind = 'host-up' AND subject = 'host-b'"), "2");
}

/*
 * host-a again, lab-02 gone, but: a count that does not match the
 * states (nothing reconciled); then the right count, with lab-02's row
 * changed, or named by an event, after the registration (an op the list
 * may predate: spared), and then neither.
 */
static void
test_guards(void **state)
{
	(void)state;
	a.nstates = 0;
	has(&a, "lab-06", VM_S_READY, 9);
	has(&a, "lab-07", VM_S_SAVED, AGENT_NODOMAIN);
	a.count_delta = 1;
	connect_fake(&a);
	settle();
	assert_string_equal(row("lab-02"), "ready 6 host-a");
	disconnect_fake(&a);
	pg_wait(pg, base, "SELECT state FROM hosts WHERE name = 'host-a'", "down",
	    PG_WAIT_MS);

	a.count_delta = 0;
	a.on_welcome = "UPDATE vms SET state = 'starting', changed = now() "
	    "WHERE name = 'lab-02'";
	connect_fake(&a);
	settle();
	assert_string_equal(row("lab-02"), "starting 6 host-a");
	disconnect_fake(&a);
	pg_wait(pg, base, "SELECT state FROM hosts WHERE name = 'host-a'", "down",
	    PG_WAIT_MS);

	/* The pool's claims leave "changed" alone; their event spares it. */
	a.on_welcome = "INSERT INTO events (kind, actor, subject) "
	    "VALUES ('pool-start', 'controller', 'lab-02')";
	pg_exec_ok(pg, "UPDATE vms SET changed = now() - interval '1h' "
	    "WHERE name = 'lab-02'");
	connect_fake(&a);
	settle();
	assert_string_equal(row("lab-02"), "starting 6 host-a");
	disconnect_fake(&a);
	pg_wait(pg, base, "SELECT state FROM hosts WHERE name = 'host-a'", "down",
	    PG_WAIT_MS);

	a.on_welcome = NULL;
	connect_fake(&a);
	pg_wait(pg, base, "SELECT state FROM vms WHERE name = 'lab-02'", "inactive",
	    PG_WAIT_MS);
	settle();
	assert_string_equal(row("lab-02"), "inactive - host-a");
	assert_string_equal(pg_value(pg, "SELECT detail->'believed'->>'state' FROM events "
	    "WHERE kind = 'vm-reconciled' AND subject = 'lab-02'"), "starting");
	/* No session on it: none ended. */
	assert_string_equal(pg_value(pg, "SELECT count(*) FROM events "
	    "WHERE kind = 'session-end'"), "0");
	disconnect_fake(&a);
	pg_wait(pg, base, "SELECT state FROM hosts WHERE name = 'host-a'", "down",
	    PG_WAIT_MS);
}

/*
 * host-b, a rogue with a certificate of the CA, reports lab-03 (host-a's,
 * inactive without a domain) and pvm-carol (placed nowhere yet) running
 * with a domain: neither row moves, each is a vm-duplicate.  lab-02,
 * whose last migration the controller sent to host-b and lost to a
 * take-over (failed), its source having said it is gone, does follow.
 */
static void
test_foreign_claim(void **state)
{
	(void)state;
	pg_exec_ok(pg, "INSERT INTO vms (name, kind, template_id, owner_id, "
	    "memory_mib) VALUES ('pvm-carol', 'pvm', 1, 2, 2048)");
	pg_exec_ok(pg, "INSERT INTO migrations (vm_id, from_host, to_host, "
	    "state, reason, started, finished) VALUES (2, 1, 2, 'failed', "
	    "'test', now(), now())");
	b.nstates = 0;
	has(&b, "lab-05", VM_S_READY, 3);
	has(&b, "lab-03", VM_S_READY, 21);
	has(&b, "pvm-carol", VM_S_READY, 22);
	has(&b, "lab-02", VM_S_READY, 23);
	connect_fake(&b);
	pg_wait(pg, base, "SELECT count(*) FROM events WHERE "
	    "kind = 'vm-duplicate' AND detail->>'host' = 'host-b'", "2",
	    PG_WAIT_MS);
	settle();
	assert_string_equal(row("lab-03"), "inactive - host-a");
	assert_string_equal(row("pvm-carol"), "inactive - -");
	assert_string_equal(pg_value(pg, "SELECT count(*) FROM vms WHERE "
	    "name IN ('lab-03', 'pvm-carol') AND address IS NOT NULL"), "0");
	assert_string_equal(pg_value(pg, "SELECT string_agg(subject || ' ' || "
	    "coalesce(detail->>'db_host', '-') || ' ' || (detail->>'domid'), "
	    "', ' ORDER BY subject) FROM events WHERE kind = 'vm-duplicate' "
	    "AND detail->>'host' = 'host-b'"), "lab-03 host-a 21, pvm-carol - 22");
	assert_string_equal(pg_value(pg, "SELECT count(*) FROM events WHERE "
	    "kind = 'vm-state' AND subject IN ('lab-03', 'pvm-carol')"), "0");
	assert_string_equal(row("lab-02"), "ready 23 host-b");
	disconnect_fake(&b);
	pg_wait(pg, base, "SELECT state FROM hosts WHERE name = 'host-b'", "down",
	    PG_WAIT_MS);
}

/*
 * Someone with host-a's certificate, host-a being away, says it has no
 * VM: bob's desktop lab-06 is inactive for the database, but his session
 * is not ended, an alarm says so; host-a itself comes back with lab-06
 * ready, which is running, as a desktop in a session is.
 */
static void
test_impostor_resync(void **state)
{
	static struct fake impostor = { .name = "host-a" };

	(void)state;
	pg_exec_ok(pg, "INSERT INTO sessions (user_id, vm_id, lease_until) "
	    "VALUES (2, 6, now() + interval '1 hour')");
	assert_string_equal(row("lab-06"), "ready 9 host-a");
	connect_fake(&impostor);
	pg_wait(pg, base, "SELECT state FROM vms WHERE name = 'lab-06'",
	    "inactive", PG_WAIT_MS);
	settle();
	assert_string_equal(pg_value(pg, "SELECT (ended IS NULL) FROM sessions "
	    "WHERE vm_id = 6"), "t");
	assert_string_equal(pg_value(pg, "SELECT count(*) FROM events WHERE "
	    "kind = 'session-end'"), "0");
	assert_string_equal(pg_value(pg, "SELECT count(*) || ' ' || min(detail->>'vm') "
	    "|| ' ' || min(detail->>'believed') FROM events WHERE "
	    "kind = 'session-desktop-lost' AND subject = 'bob'"), "1 lab-06 ready");
	disconnect_fake(&impostor);
	pg_wait(pg, base, "SELECT state FROM hosts WHERE name = 'host-a'", "down",
	    PG_WAIT_MS);

	a.nstates = 0;
	has(&a, "lab-06", VM_S_READY, 9);
	connect_fake(&a);
	pg_wait(pg, base, "SELECT state FROM vms WHERE name = 'lab-06'",
	    "running", PG_WAIT_MS);
	settle();
	assert_string_equal(row("lab-06"), "running 9 host-a");
	assert_string_equal(pg_value(pg, "SELECT (ended IS NULL) FROM sessions "
	    "WHERE vm_id = 6"), "t");
	disconnect_fake(&a);
}

int
main(int argc, char *argv[])
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_host_comes_back),
		cmocka_unit_test(test_nothing_changed),
		cmocka_unit_test(test_guards),
		cmocka_unit_test(test_foreign_claim),
		cmocka_unit_test(test_impostor_resync),
	};

	if (argc != 3) {
		fprintf(stderr, "usage: test_ctrl_recon CONNINFO PKI-DIR\n");
		return 2;
	}
	conninfo = argv[1];
	pki = argv[2];
	return cmocka_run_group_tests(tests, setup, teardown);
}

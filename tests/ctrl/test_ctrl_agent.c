/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * test_ctrl_agent.c — the controller's agent side (xvds/controller/agent.c)
 * against a real PostgreSQL (tests/ctrl/agent.test starts it) and real
 * mutual TLS on loopback: fake hosts made of agent/tls.h's client register,
 * sample, report VM states, answer (or ignore) ops, lie about who they are,
 * and go away; the test reads what reached the database.
 *
 *   test_ctrl_agent CONNINFO PKI-DIR
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

#include "agent/tls.h"
#include "controller/agent.h"
#include "controller/conf.h"
#include "agent_fake.h"
#include "db/db.h"
#include "pg_check.h"
#include "run_loop.h"
#include "pg_loop.h"

#define IMPOSTOR_TRIES	20

static const char *conninfo, *pki;
static struct event_base *base;
static struct db *db;
static struct ctrl_conf *conf;
static PGconn *pg;

/* A fake host. */
struct fake {
	const char	*cert;		/* host-a: host-a.pem, host-a.key */
	const char	*says;		/* the host its hello names */
	int		 answer;	/* answers ops */
	struct agent_client *cli;
	int		 connected, welcomed, refused, closed, ops;
	char		 code[AGENT_CODE_MAX + 1];
	struct agent_op	 last_op;
	struct timespec	 t_connected, t_welcomed;
	int		 pong;		/* answers pings */
	int		 pings;
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
	f->connected++;
	clock_gettime(CLOCK_MONOTONIC, &f->t_connected);
	fake_hello(&m, f->says, 8, 16384);
	send_msg(c, &m);
}

static void
fake_message(struct agent_conn *c, const struct agent_msg *in, void *arg)
{
	struct fake *f = arg;
	struct agent_msg m;

	switch (in->type) {
	case AGENT_M_WELCOME:
		assert_string_equal(in->u.welcome.host, f->says);
		assert_int_equal(in->u.welcome.sample_s, 5);
		clock_gettime(CLOCK_MONOTONIC, &f->t_welcomed);
		f->welcomed++;
		break;
	case AGENT_M_RESULT:
		assert_int_equal(in->u.result.id, 0);
		assert_false(in->u.result.ok);
		snprintf(f->code, sizeof(f->code), "%s", in->u.result.code);
		f->refused++;
		break;
	case AGENT_M_PING:
		f->pings++;
		if (!f->pong)
			break;
		fake_pong(&m, in->u.seq);
		send_msg(c, &m);
		break;
	case AGENT_M_OP:
		f->last_op = in->u.op;
		f->ops++;
		if (!f->answer)
			break;
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
	struct fake *f = arg;

	(void)c;
	(void)why;
	f->closed++;
}

static const struct agent_tls_cbs fake_cbs = {
	fake_connected, fake_message, fake_closed, NULL,
};

static void
fake_start(struct fake *f)
{
	struct agent_tls_conf tls;

	memset(&tls, 0, sizeof(tls));
	tls.ca_file = file("ca", "pem");
	tls.cert_file = file(f->cert, "pem");
	tls.key_file = file(f->cert, "key");
	tls.server_name = "127.0.0.1";
	/* Refused connections are not retried within a test's time. */
	tls.backoff_min_ms = 30000;
	tls.backoff_max_ms = 30000;
	f->cli = agent_client_new(base, &tls, "127.0.0.1", ctrl_agent_port(),
	    &fake_cbs, f);
	assert_non_null(f->cli);
}

static void
fake_send(struct fake *f, struct agent_msg *m)
{
	struct agent_conn *c = agent_client_conn(f->cli);

	assert_non_null(c);
	send_msg(c, m);
}

static void
report(struct fake *f, const char *vm, enum vm_state st, uint32_t domid)
{
	struct agent_msg m;

	fake_state(&m, vm, st, domid, "10.77.0.2");
	fake_send(f, &m);
}

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
	    "VALUES ('lab', 1, 4)");
	pg_exec_ok(pg, "INSERT INTO vms (name, kind, template_id, pool_id, "
	    "memory_mib) VALUES ('lab-01', 'cvm', 1, 1, 2048), "
	    "('lab-02', 'cvm', 1, 1, 2048)");
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
	assert_true(ctrl_agent_port() > 0);
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	ctrl_agent_stop("test over");
	db_close(db);
	ctrl_conf_free(conf);
	PQfinish(pg);
	event_base_free(base);
	return 0;
}

static struct fake a = { "host-a", "host-a", 1, NULL, 0, 0, 0, 0, 0, "", {0},
    {0, 0}, {0, 0}, 0, 0 };

static void
test_register(void **state)
{
	double	 ms;

	(void)state;
	fake_start(&a);
	assert_int_equal(run_until(base, &a.welcomed, 1, PG_WAIT_MS), 0);
	ms = (double)(a.t_welcomed.tv_sec - a.t_connected.tv_sec) * 1e3 +
	    (double)(a.t_welcomed.tv_nsec - a.t_connected.tv_nsec) / 1e6;
	print_message("# registration: hello to welcome in %.1f ms\n", ms);
	assert_string_equal(pg_value(pg, "SELECT state || ' ' || cpus || ' ' || "
	    "memory_mib || ' ' || address || ' ' || (last_seen IS NOT NULL) "
	    "FROM hosts WHERE name = 'host-a'"), "up 8 16384 127.0.0.1 true");
	assert_string_equal(pg_value(pg, "SELECT count(*) || ' ' || min(actor) || ' ' || "
	    "min(detail->>'hypervisor') FROM events WHERE kind = 'host-up' "
	    "AND subject = 'host-a'"), "1 agent:host-a fake");
	assert_int_equal(ctrl_agent_hosts(), 1);
}

static void
test_sample(void **state)
{
	const struct agent_sample *fig;
	struct agent_msg m;
	char	 before[64], sql[256];

	(void)state;
	assert_null(ctrl_host_figures("host-a"));
	snprintf(before, sizeof(before), "%s",
	    pg_value(pg, "SELECT last_seen FROM hosts WHERE name = 'host-a'"));
	fake_sample(&m, 1, 800, 16384, 14000);
	fake_send(&a, &m);
	snprintf(sql, sizeof(sql), "SELECT last_seen > '%s' FROM hosts "
	    "WHERE name = 'host-a'", before);
	pg_wait(pg, base, sql, "t", PG_WAIT_MS);
	assert_non_null(fig = ctrl_host_figures("host-a"));
	assert_int_equal(fig->tcpu, 800);
	assert_int_equal(fig->fmem_mib, 14000);
	assert_int_equal(fig->nvms, 0);
}

static void
test_state(void **state)
{
	static const char row[] = "SELECT v.state || ' ' || coalesce(v.domid, 0) "
	    "|| ' ' || coalesce(h.name, '-') || ' ' || coalesce(v.address, '-') "
	    "FROM vms v LEFT JOIN hosts h ON h.id = v.host_id "
	    "WHERE v.name = 'lab-01'";
	static const char nev[] = "SELECT count(*) FROM events "
	    "WHERE kind = 'vm-state' AND subject = 'lab-01'";

	(void)state;
	/* Placed there by the controller: a host's report moves no row. */
	pg_exec_ok(pg, "UPDATE vms SET host_id = (SELECT id FROM hosts "
	    "WHERE name = 'host-a')");
	report(&a, "lab-01", VM_S_READY, 5);
	pg_wait(pg, base, row, "ready 5 host-a 10.77.0.2", PG_WAIT_MS);
	assert_string_equal(pg_value(pg, nev), "1");
	assert_string_equal(pg_value(pg, "SELECT detail->>'from' || '>' || "
	    "(detail->>'to') || ' ' || actor FROM events WHERE kind = 'vm-state'"),
	    "inactive>ready agent:host-a");
	/* Said again: no new event. */
	report(&a, "lab-01", VM_S_READY, 5);
	report(&a, "lab-01", VM_S_RUNNING, 5);
	pg_wait(pg, base, row, "running 5 host-a 10.77.0.2", PG_WAIT_MS);
	assert_string_equal(pg_value(pg, nev), "2");
	/* lab-02 takes domid 5 (lab-01's is then stale); an unknown VM is
	 * not recorded. */
	report(&a, "nobody", VM_S_READY, 9);
	report(&a, "lab-02", VM_S_PAUSED, 5);
	pg_wait(pg, base, "SELECT state || ' ' || domid FROM vms WHERE name = 'lab-02'",
	    "paused 5", PG_WAIT_MS);
	pg_wait(pg, base, "SELECT coalesce(domid, 0) FROM vms WHERE name = 'lab-01'", "0",
	    PG_WAIT_MS);
	assert_string_equal(pg_value(pg, "SELECT count(*) FROM vms WHERE name = 'nobody'"),
	    "0");
	report(&a, "lab-01", VM_S_SAVED, AGENT_NODOMAIN);
	pg_wait(pg, base, row, "saved 0 host-a 10.77.0.2", PG_WAIT_MS);
	assert_string_equal(pg_value(pg, nev), "3");
}

struct got {
	int		 n;
	struct agent_result r;
	char		 host[AGENT_HOST_MAX + 1];
};

static void
op_done(const char *host, const struct agent_result *r, void *arg)
{
	struct got *g = arg;

	snprintf(g->host, sizeof(g->host), "%s", host);
	g->r = *r;
	g->n++;
}

static void
test_ops(void **state)
{
	struct agent_op op;
	struct got g;
	int64_t	 id, id2;
	double	 t0;

	(void)state;
	memset(&op, 0, sizeof(op));
	snprintf(op.vm, sizeof(op.vm), "lab-01");
	op.action = AGENT_A_RESTORE;

	/* Answered: the result comes back by id. */
	memset(&g, 0, sizeof(g));
	t0 = now_ms();
	id = ctrl_host_op("host-a", &op, 5, op_done, &g);
	assert_true(id > 0);
	assert_int_equal(g.n, 0);	/* never from within the call */
	assert_int_equal(run_until(base, &g.n, 1, PG_WAIT_MS), 0);
	print_message("# op round trip: %.1f ms\n", now_ms() - t0);
	assert_int_equal(a.last_op.id, id);
	assert_int_equal(a.last_op.action, AGENT_A_RESTORE);
	assert_string_equal(a.last_op.vm, "lab-01");
	assert_int_equal(g.r.id, id);
	assert_true(g.r.ok);
	assert_string_equal(g.host, "host-a");

	/* Unanswered: a timeout of the controller's making. */
	a.answer = 0;
	memset(&g, 0, sizeof(g));
	t0 = now_ms();
	id2 = ctrl_host_op("host-a", &op, 1, op_done, &g);
	assert_true(id2 > id);
	assert_int_equal(run_until(base, &g.n, 1, PG_WAIT_MS), 0);
	assert_true(now_ms() - t0 >= 990);
	assert_int_equal(g.r.id, id2);
	assert_false(g.r.ok);
	assert_string_equal(g.r.code, "timeout");
	/* Its late result is ignored. */
	run_for(base, 50);
	assert_int_equal(g.n, 1);

	/* A host that is not connected: refused at once, no callback. */
	memset(&g, 0, sizeof(g));
	assert_int_equal(ctrl_host_op("host-z", &op, 1, op_done, &g), -1);
	run_for(base, 20);
	assert_int_equal(g.n, 0);
}

/* Sends "pause lab-01" to host-a, to be answered in g. */
static void
pause_op(struct got *g)
{
	struct agent_op op;

	memset(&op, 0, sizeof(op));
	snprintf(op.vm, sizeof(op.vm), "lab-01");
	op.action = AGENT_A_PAUSE;
	memset(g, 0, sizeof(*g));
	assert_true(ctrl_host_op("host-a", &op, 30, op_done, g) > 0);
}

static void
test_disconnect(void **state)
{
	struct got g;

	(void)state;
	pause_op(&g);
	assert_int_equal(run_until(base, &a.ops, 3, PG_WAIT_MS), 0);
	agent_client_free(a.cli);
	a.cli = NULL;
	assert_int_equal(run_until(base, &g.n, 1, PG_WAIT_MS), 0);
	assert_false(g.r.ok);
	assert_string_equal(g.r.code, "disconnected");
	pg_wait(pg, base, "SELECT state FROM hosts WHERE name = 'host-a'", "down",
	    PG_WAIT_MS);
	assert_string_equal(pg_value(pg, "SELECT count(*) FROM events "
	    "WHERE kind = 'host-down' AND subject = 'host-a'"), "1");
	assert_int_equal(ctrl_agent_hosts(), 0);

	/* It comes back: up again, a second host-up event. */
	a.answer = 1;
	a.welcomed = 0;
	fake_start(&a);
	assert_int_equal(run_until(base, &a.welcomed, 1, PG_WAIT_MS), 0);
	print_message("# registration again: hello to welcome in %.1f ms\n",
	    (double)(a.t_welcomed.tv_sec - a.t_connected.tv_sec) * 1e3 +
	    (double)(a.t_welcomed.tv_nsec - a.t_connected.tv_nsec) / 1e6);
	pg_wait(pg, base, "SELECT state FROM hosts WHERE name = 'host-a'", "up",
	    PG_WAIT_MS);
	assert_string_equal(pg_value(pg, "SELECT count(*) FROM events "
	    "WHERE kind = 'host-up' AND subject = 'host-a'"), "2");
}

/* host-b's certificate, a hello that says host-a: refused and logged. */
static void
test_wrong_host(void **state)
{
	struct fake b = { "host-b", "host-a", 1, NULL, 0, 0, 0, 0, 0, "", {0},
	    {0, 0}, {0, 0}, 0, 0 };

	(void)state;
	fake_start(&b);
	assert_int_equal(run_until(base, &b.closed, 1, PG_WAIT_MS), 0);
	assert_int_equal(b.refused, 1);
	assert_int_equal(b.welcomed, 0);
	assert_string_equal(b.code, "identity");
	pg_wait(pg, base, "SELECT count(*) || ' ' || min(detail->>'hello_host') FROM events "
	    "WHERE kind = 'host-refused' AND subject = 'host-b'", "1 host-a",
	    PG_WAIT_MS);
	assert_string_equal(pg_value(pg, "SELECT count(*) FROM hosts "
	    "WHERE name = 'host-b'"), "0");
	/* host-a's own connection is untouched. */
	assert_int_equal(ctrl_agent_hosts(), 1);
	assert_string_equal(pg_value(pg, "SELECT state FROM hosts WHERE name = 'host-a'"),
	    "up");
	agent_client_free(b.cli);
}

/* Stopping (leadership lost) closes everything and writes nothing more. */
static void
test_stop(void **state)
{
	struct got g;

	(void)state;
	a.answer = 0;
	a.closed = 0;
	pause_op(&g);
	ctrl_agent_stop("test");
	assert_int_equal(g.n, 1);
	assert_string_equal(g.r.code, "stopped");
	assert_int_equal(run_until(base, &a.closed, 1, PG_WAIT_MS), 0);
	run_for(base, 200);
	/* Not marked down: that is for the next active controller to say. */
	assert_string_equal(pg_value(pg, "SELECT state FROM hosts WHERE name = 'host-a'"),
	    "up");
	assert_false(ctrl_agent_running());
	agent_client_free(a.cli);
	a.cli = NULL;
}

/*
 * A controller that takes over with a host recorded "up" that never comes
 * back marks it down after host-timeout; a connected host, silent as long,
 * stays up.
 */
static void
test_sweep(void **state)
{
	(void)state;
	pg_exec_ok(pg, "INSERT INTO hosts (name, address, state, cpus, memory_mib, "
	    "last_seen) VALUES ('ghost', '10.0.0.9', 'up', 4, 4096, "
	    "now() - interval '1 hour')");
	conf->host_timeout = 1;
	assert_int_equal(ctrl_agent_start(base, db, conf), 0);
	a.answer = 1;
	a.welcomed = 0;
	fake_start(&a);
	assert_int_equal(run_until(base, &a.welcomed, 1, PG_WAIT_MS), 0);
	pg_wait(pg, base, "SELECT state FROM hosts WHERE name = 'ghost'", "down",
	    PG_WAIT_MS);
	assert_string_equal(pg_value(pg, "SELECT count(*) || ' ' || min(actor) FROM events "
	    "WHERE kind = 'host-down' AND subject = 'ghost'"), "1 controller");
	run_for(base, 1500);
	assert_string_equal(pg_value(pg, "SELECT state FROM hosts WHERE name = 'host-a'"),
	    "up");
}

/*
 * Someone else with host-a's certificate connects while host-a's own
 * connection is open and answers pings: refused, with a host-conflict
 * event; host-a keeps its connection and its ops.
 */
static void
test_conflict(void **state)
{
	static struct fake a2 = { "host-a", "host-a", 1, NULL, 0, 0, 0, 0, 0, "",
	    {0}, {0, 0}, {0, 0}, 0, 0 };
	struct got g;
	double	 t0;
	int	 ops, i;

	(void)state;
	a.pong = 1;
	a.closed = 0;
	a.pings = 0;
	ops = a.ops;
	fake_start(&a2);
	assert_int_equal(run_until(base, &a2.closed, 1, PG_WAIT_MS), 0);
	assert_int_equal(a2.welcomed, 0);
	assert_int_equal(a2.refused, 1);
	assert_string_equal(a2.code, "conflict");
	assert_int_equal(a.pings, 1);
	assert_int_equal(a.closed, 0);
	assert_int_equal(ctrl_agent_hosts(), 1);
	pause_op(&g);
	assert_int_equal(run_until(base, &g.n, 1, PG_WAIT_MS), 0);
	assert_true(g.r.ok);
	assert_int_equal(a.ops, ops + 1);
	pg_wait(pg, base, "SELECT count(*) || ' ' || min(detail->>'address') || ' ' "
	    "|| min(detail->>'held_by') FROM events WHERE kind = 'host-conflict' "
	    "AND subject = 'host-a'", "1 127.0.0.1 127.0.0.1", PG_WAIT_MS);
	assert_string_equal(pg_value(pg, "SELECT state FROM hosts WHERE name = 'host-a'"),
	    "up");
	agent_client_free(a2.cli);

	/* An impostor that reconnects at once, again and again: never
	 * welcomed, host-a never closed, one event a minute. */
	t0 = now_ms();
	for (i = 0; i < IMPOSTOR_TRIES; i++) {
		a2.closed = 0;
		fake_start(&a2);
		assert_int_equal(run_until(base, &a2.closed, 1, PG_WAIT_MS), 0);
		agent_client_free(a2.cli);
	}
	print_message("# %d more tries of an impostor refused in %.0f ms\n",
	    IMPOSTOR_TRIES, now_ms() - t0);
	assert_int_equal(a2.welcomed, 0);
	assert_int_equal(a2.refused, IMPOSTOR_TRIES + 1);
	assert_int_equal(a.closed, 0);
	assert_int_equal(a.pings, IMPOSTOR_TRIES + 1);
	assert_int_equal(ctrl_agent_hosts(), 1);
	/* Every event's statement answered. */
	t0 = now_ms();
	while (db_pending(db) > 0 && now_ms() - t0 < PG_WAIT_MS)
		run_for(base, 10);
	assert_int_equal(db_pending(db), 0);
	assert_string_equal(pg_value(pg, "SELECT count(*) FROM events WHERE "
	    "kind = 'host-conflict'"), "1");
}

/*
 * host-a connects again while its old connection is still open but
 * silent (a host that rebooted before its old connection was seen to
 * end): after CTRL_AGENT_PROBE_S the new one replaces the old, with a
 * host-replaced event, the host stays up, and ops go to the new one.
 */
static void
test_replace(void **state)
{
	static struct fake a2 = { "host-a", "host-a", 1, NULL, 0, 0, 0, 0, 0, "",
	    {0}, {0, 0}, {0, 0}, 0, 0 };
	char	 downs[16];
	struct got g;
	double	 t0;

	(void)state;
	snprintf(downs, sizeof(downs), "%s", pg_value(pg, "SELECT count(*) FROM events "
	    "WHERE kind = 'host-down' AND subject = 'host-a'"));
	a.pong = 0;
	a.closed = 0;
	a.pings = 0;
	t0 = now_ms();
	fake_start(&a2);
	assert_int_equal(run_until(base, &a2.welcomed, 1, PG_WAIT_MS), 0);
	assert_int_equal(run_until(base, &a.closed, 1, PG_WAIT_MS), 0);
	assert_true(now_ms() - t0 >= CTRL_AGENT_PROBE_S * 1000 - 10);
	assert_int_equal(a.pings, 1);
	assert_int_equal(ctrl_agent_hosts(), 1);
	pause_op(&g);
	assert_int_equal(run_until(base, &g.n, 1, PG_WAIT_MS), 0);
	assert_true(g.r.ok);
	assert_int_equal(a2.ops, 1);
	pg_wait(pg, base, "SELECT count(*) FROM events WHERE "
	    "kind = 'host-replaced' AND subject = 'host-a'", "1", PG_WAIT_MS);
	run_for(base, 100);
	assert_string_equal(pg_value(pg, "SELECT state FROM hosts WHERE name = 'host-a'"),
	    "up");
	assert_string_equal(pg_value(pg, "SELECT count(*) FROM events "
	    "WHERE kind = 'host-down' AND subject = 'host-a'"), downs);
	agent_client_free(a.cli);
	a.cli = NULL;
	agent_client_free(a2.cli);
}

int
main(int argc, char *argv[])
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_register),
		cmocka_unit_test(test_sample),
		cmocka_unit_test(test_state),
		cmocka_unit_test(test_ops),
		cmocka_unit_test(test_wrong_host),
		cmocka_unit_test(test_disconnect),
		cmocka_unit_test(test_stop),
		cmocka_unit_test(test_sweep),
		cmocka_unit_test(test_conflict),
		cmocka_unit_test(test_replace),
	};

	if (argc != 3) {
		fprintf(stderr, "usage: test_ctrl_agent CONNINFO PKI-DIR\n");
		return 2;
	}
	conninfo = argv[1];
	pki = argv[2];
	return cmocka_run_group_tests(tests, setup, teardown);
}

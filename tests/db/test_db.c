/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * test_db.c — the asynchronous libpq layer (xvds/db/db.c) against the real
 * PostgreSQL that tests/db/async.test started, with the schema applied:
 * answers come from the loop, in order; parameters are stored verbatim;
 * errors are told; and across a server restart (the script restarts it
 * when told by SIGUSR1) idempotent queries are retried and succeed, a
 * non-idempotent one in flight fails clearly, queries queued meanwhile
 * run, and idle handles reconnect by themselves.  Also the schema's
 * enums against common/vm_fsm.c's names.
 */
#include <config.h>

#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>

#include <cmocka.h>
#include <event2/event.h>
#include <libpq-fe.h>

#include "db/db.h"
#include "db/schema.h"
#include "common/log.h"
#include "common/vm_fsm.h"
#include "run_loop.h"

#define SAFETY_MS	60000	/* as long as pg.sh waits for a server */

static const char *conninfo;
static struct event_base *base;

/* One query's answer, as the callback saw it. */
struct answer {
	int	 done;
	int	 order;		/* answers so far when this one came */
	char	 value[256];	/* first row, first column */
	char	 err[512];
	char	 sqlstate[8];
	int	 had_res;
	int	*counter;
};

static void
on_answer(PGresult *res, const char *err, void *arg)
{
	struct answer *a = arg;
	const char *s;

	a->done++;
	a->had_res = res != NULL;
	if (a->counter != NULL)
		a->order = (*a->counter)++;
	if (err != NULL)
		snprintf(a->err, sizeof(a->err), "%s", err);
	if (res != NULL && (s = PQresultErrorField(res, PG_DIAG_SQLSTATE)))
		snprintf(a->sqlstate, sizeof(a->sqlstate), "%s", s);
	if (err == NULL && res != NULL && PQntuples(res) > 0 &&
	    PQnfields(res) > 0)
		snprintf(a->value, sizeof(a->value), "%s",
		    PQgetisnull(res, 0, 0) ? "(null)" : PQgetvalue(res, 0, 0));
}

/* Connection ups and downs. */
struct updown {
	int	 ups, downs;
	char	 why[512];
};

static void
on_state(int isup, const char *why, void *arg)
{
	struct updown *u = arg;

	if (isup)
		u->ups++;
	else {
		u->downs++;
		snprintf(u->why, sizeof(u->why), "%s", why);
	}
}

static struct db *
open_db(struct updown *u)
{
	struct db *db;

	assert_non_null(db = db_open(base, conninfo, NULL, 0));
	db_set_backoff(db, 20, 200);
	if (u != NULL)
		db_set_state_cb(db, on_state, u);
	return db;
}

/* Runs one query to its answer. */
static void
ask(struct db *db, int flags, struct answer *a, const char *sql, int n,
    const char *const *params)
{
	memset(a, 0, sizeof(*a));
	assert_int_equal(db_query(db, flags, on_answer, a, sql, n, params), 0);
	assert_int_equal(run_until(base, &a->done, 1, SAFETY_MS), 0);
}

static int
setup(void **state)
{
	(void)state;
	assert_non_null(base = event_base_new());
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	event_base_free(base);
	return 0;
}

/* Every word of common/vm_fsm.c's names is a value of the schema's enums. */
static void
test_enum_names(void **state)
{
	PGconn	*conn;
	PGresult *res;
	char	 err[256];
	int	 i;

	(void)state;
	conn = db_connect_sync(conninfo, err, sizeof(err));
	assert_non_null(conn);
	res = PQexec(conn, "SELECT unnest(enum_range(NULL::vm_state))");
	assert_int_equal(PQresultStatus(res), PGRES_TUPLES_OK);
	assert_int_equal(PQntuples(res), VM_S__COUNT);
	for (i = 0; i < VM_S__COUNT; i++)
		assert_string_equal(PQgetvalue(res, i, 0), vm_state_names[i]);
	PQclear(res);
	res = PQexec(conn, "SELECT unnest(enum_range(NULL::vm_kind))");
	assert_int_equal(PQntuples(res), 2);
	assert_string_equal(PQgetvalue(res, 0, 0), vm_kind_names[VM_CVM]);
	assert_string_equal(PQgetvalue(res, 1, 0), vm_kind_names[VM_PVM]);
	PQclear(res);
	PQfinish(conn);
}

/* Answers come from the loop, never from db_query, and in order. */
static void
test_from_loop_in_order(void **state)
{
	struct db *db;
	struct answer a[40];
	char	 num[40][12];
	const char *p[1];
	int	 i, counter = 0;

	(void)state;
	db = open_db(NULL);
	memset(a, 0, sizeof(a));
	for (i = 0; i < 40; i++) {
		a[i].counter = &counter;
		snprintf(num[i], sizeof(num[i]), "%d", i);
		p[0] = num[i];
		assert_int_equal(db_query(db, DB_IDEMPOTENT, on_answer, &a[i],
		    "SELECT $1::int * 2", 1, p), 0);
	}
	assert_int_equal(counter, 0);
	assert_int_equal(db_pending(db), 40);
	assert_int_equal(run_until(base, &counter, 40, SAFETY_MS), 0);
	for (i = 0; i < 40; i++) {
		assert_int_equal(a[i].order, i);
		assert_null(a[i].err[0] ? a[i].err : NULL);
		assert_int_equal(atoi(a[i].value), 2 * i);
	}
	assert_int_equal(db_pending(db), 0);
	assert_true(db_isup(db));
	db_close(db);
}

/* A name full of SQL's special characters is a value, stored verbatim. */
static void
test_params_verbatim(void **state)
{
	static const char name[] =
	    "Robert'); DROP TABLE users; -- \"x\" \\ $1 ;\t'';";
	struct db *db;
	struct answer a;
	const char *p[2];

	(void)state;
	db = open_db(NULL);
	p[0] = name;
	p[1] = "{\"note\": \"it's; fine\"}";
	ask(db, 0, &a, "INSERT INTO events (kind, actor, subject, detail) "
	    "VALUES ('test', 'test_db', $1, $2::jsonb) RETURNING subject",
	    2, p);
	assert_string_equal(a.err, "");
	assert_string_equal(a.value, name);
	ask(db, DB_IDEMPOTENT, &a, "SELECT detail->>'note' FROM events "
	    "WHERE subject = $1", 1, p);
	assert_string_equal(a.value, "it's; fine");
	ask(db, DB_IDEMPOTENT, &a, "SELECT count(*) FROM users", 0, NULL);
	assert_string_equal(a.err, "");
	/* NULL is SQL NULL. */
	p[0] = NULL;
	ask(db, DB_IDEMPOTENT, &a, "SELECT $1::text", 1, p);
	assert_string_equal(a.value, "(null)");
	db_close(db);
}

/* A failed query is told with its SQLSTATE; the connection carries on. */
static void
test_errors(void **state)
{
	struct db *db;
	struct answer a;

	(void)state;
	db = open_db(NULL);
	ask(db, 0, &a, "UPDATE events SET actor = 'x'", 0, NULL);
	assert_true(a.had_res);
	assert_non_null(strstr(a.err, "append-only"));
	ask(db, 0, &a, "SELEC 1", 0, NULL);
	assert_string_equal(a.sqlstate, "42601");
	/* Refused at once: the protocol counts parameters in 16 bits. */
	assert_int_equal(db_query(db, 0, on_answer, &a, "SELECT 1", 70000,
	    NULL), -1);
	ask(db, DB_IDEMPOTENT, &a, "SELECT 'still here'", 0, NULL);
	assert_string_equal(a.err, "");
	assert_string_equal(a.value, "still here");
	db_close(db);
}

/* Closing fails what is pending; a callback may close its handle. */
static void
close_from_cb(PGresult *res, const char *err, void *arg)
{
	struct db **dbp = arg;

	(void)res;
	(void)err;
	db_close(*dbp);
	*dbp = NULL;
}

static void
test_close(void **state)
{
	struct db *db;
	struct answer a, b;
	int	 counter = 0;

	(void)state;
	db = open_db(NULL);
	memset(&a, 0, sizeof(a));
	a.counter = &counter;
	assert_int_equal(db_query(db, 0, on_answer, &a, "SELECT 1", 0, NULL),
	    0);
	db_close(db);
	assert_int_equal(a.done, 1);
	assert_string_equal(a.err, "closed");

	db = open_db(NULL);
	memset(&b, 0, sizeof(b));
	assert_int_equal(db_query(db, 0, close_from_cb, &db, "SELECT 1", 0,
	    NULL), 0);
	assert_int_equal(db_query(db, 0, on_answer, &b, "SELECT 2", 0, NULL),
	    0);
	assert_int_equal(run_until(base, &b.done, 1, SAFETY_MS), 0);
	assert_null(db);
	assert_string_equal(b.err, "closed");
}

/* No server there: the handle keeps trying, the query waits. */
static void
test_unreachable(void **state)
{
	struct db *db;
	struct answer a;
	struct updown u = { 0 };

	(void)state;
	assert_non_null(db = db_open(base,
	    "host=/nonexistent dbname=postgres user=postgres", NULL, 0));
	db_set_backoff(db, 10, 50);
	db_set_state_cb(db, on_state, &u);
	memset(&a, 0, sizeof(a));
	assert_int_equal(db_query(db, 0, on_answer, &a, "SELECT 1", 0, NULL),
	    0);
	run_for(base, 300);
	assert_int_equal(a.done, 0);
	assert_int_equal(u.ups, 0);
	assert_false(db_isup(db));
	db_close(db);
	assert_string_equal(a.err, "closed");
}

/* A conninfo that does not parse is refused at once. */
static void
test_bad_conninfo(void **state)
{
	char	 err[256] = "";

	(void)state;
	assert_null(db_open(base, "host=/tmp dbname", err, sizeof(err)));
	assert_non_null(strstr(err, "conninfo: "));
	print_message("# %s\n", err);
}

/*
 * A query that loses its own connection (it kills its backend): an
 * idempotent one is tried DB_MAX_TRIES times and then given up, a
 * non-idempotent one fails at once; the handle reconnects either way.
 */
static void
test_retry_cap(void **state)
{
	struct db *db;
	struct updown u = { 0 };
	struct answer a;

	(void)state;
	db = open_db(&u);
	ask(db, DB_IDEMPOTENT, &a,
	    "SELECT pg_terminate_backend(pg_backend_pid())", 0, NULL);
	assert_false(a.had_res);
	assert_non_null(strstr(a.err, "given up after"));
	assert_int_equal(u.downs, DB_MAX_TRIES);
	ask(db, 0, &a, "SELECT pg_terminate_backend(pg_backend_pid())", 0,
	    NULL);
	assert_non_null(strstr(a.err, "not idempotent"));
	assert_int_equal(u.downs, DB_MAX_TRIES + 1);
	ask(db, 0, &a, "SELECT 'back'", 0, NULL);
	assert_string_equal(a.value, "back");
	assert_int_equal(u.ups, DB_MAX_TRIES + 2);
	db_close(db);
}

/*
 * The server restarts under three handles: one with an idempotent query
 * in flight, one with a non-idempotent one, one idle.
 */
static void
test_restart(void **state)
{
	struct db *ia, *nb, *idle;
	struct updown ua = { 0 }, ub = { 0 }, uc = { 0 };
	struct answer a, b, c, d;
	const char *pid;

	(void)state;
	if ((pid = getenv("XVDS_TEST_RESTART_PID")) == NULL)
		skip();
	ia = open_db(&ua);
	nb = open_db(&ub);
	idle = open_db(&uc);
	ask(ia, 0, &a, "SELECT 1", 0, NULL);
	ask(nb, 0, &b, "SELECT 1", 0, NULL);
	ask(idle, 0, &c, "SELECT 1", 0, NULL);
	assert_int_equal(ua.ups + ub.ups + uc.ups, 3);

	memset(&a, 0, sizeof(a));
	memset(&b, 0, sizeof(b));
	memset(&c, 0, sizeof(c));
	assert_int_equal(db_query(ia, DB_IDEMPOTENT, on_answer, &a,
	    "SELECT 'retried' FROM pg_sleep(1)", 0, NULL), 0);
	assert_int_equal(db_query(nb, 0, on_answer, &b,
	    "INSERT INTO events (kind, actor) SELECT 'lost', 'test_db' "
	    "FROM pg_sleep(5) RETURNING id", 0, NULL), 0);
	/* Both in flight: the restart cuts them short (the second sleeps
	 * long so that a slow machine cannot let it finish first). */
	run_for(base, 300);
	assert_int_equal(a.done + b.done, 0);
	/* The script restarts the server (pg_stop; pg_start). */
	assert_int_equal(kill(atoi(pid), SIGUSR1), 0);

	/* Once down, the idle handle takes a non-idempotent query: it was
	 * never sent, so it runs once the server is back. */
	assert_int_equal(run_until(base, &uc.downs, 1, SAFETY_MS), 0);
	assert_int_equal(db_query(idle, 0, on_answer, &c,
	    "INSERT INTO events (kind, actor) VALUES ('queued', 'test_db') "
	    "RETURNING kind", 0, NULL), 0);

	assert_int_equal(run_until(base, &a.done, 1, SAFETY_MS), 0);
	assert_string_equal(a.err, "");
	assert_string_equal(a.value, "retried");

	assert_int_equal(run_until(base, &b.done, 1, SAFETY_MS), 0);
	assert_false(b.had_res);
	assert_non_null(strstr(b.err, "not idempotent"));
	print_message("# non-idempotent: %s\n", b.err);

	assert_int_equal(run_until(base, &c.done, 1, SAFETY_MS), 0);
	assert_string_equal(c.err, "");
	assert_string_equal(c.value, "queued");

	/* Every handle came back by itself. */
	assert_int_equal(run_until(base, &ub.ups, 2, SAFETY_MS), 0);
	assert_int_equal(run_until(base, &uc.ups, 2, SAFETY_MS), 0);
	assert_int_equal(ua.downs, 1);
	print_message("# down: %s\n", ua.why);
	ask(nb, 0, &d, "SELECT count(*) FROM events WHERE kind = 'lost'", 0,
	    NULL);
	assert_string_equal(d.err, "");
	assert_string_equal(d.value, "0");
	assert_true(db_isup(ia) && db_isup(nb) && db_isup(idle));
	db_close(ia);
	db_close(nb);
	db_close(idle);
}

int
main(int argc, char *argv[])
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_enum_names),
		cmocka_unit_test(test_from_loop_in_order),
		cmocka_unit_test(test_params_verbatim),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_close),
		cmocka_unit_test(test_unreachable),
		cmocka_unit_test(test_bad_conninfo),
		cmocka_unit_test(test_retry_cap),
		cmocka_unit_test(test_restart),
	};

	log_procname("test_db");
	log_init(1, LOG_USER);
	if (argc != 2) {
		fprintf(stderr, "usage: test_db CONNINFO\n");
		return 2;
	}
	conninfo = argv[1];
	return cmocka_run_group_tests(tests, setup, teardown);
}

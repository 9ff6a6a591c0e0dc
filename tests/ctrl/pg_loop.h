/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * pg_loop.h — for the controller's tests that run its loop themselves
 * (test_ctrl_agent.c, test_ctrl_recon.c): a query's one value, and a wait
 * for the database to say what the controller should have written.
 * Include after cmocka.h, libpq-fe.h, pg_check.h and run_loop.h.
 */
#ifndef XVDS_TEST_PG_LOOP_H
#define XVDS_TEST_PG_LOOP_H

#include <stdio.h>
#include <string.h>

/* The first value of sql's first row, or "" (none) or "ERROR ...". */
static const char *
pg_value(PGconn *pg, const char *sql)
{
	static char buf[1024];
	PGresult *r = PQexec(pg, sql);

	if (PQresultStatus(r) != PGRES_TUPLES_OK)
		snprintf(buf, sizeof(buf), "ERROR %s", PQresultErrorMessage(r));
	else if (PQntuples(r) == 0)
		buf[0] = '\0';
	else
		snprintf(buf, sizeof(buf), "%s", PQgetvalue(r, 0, 0));
	PQclear(r);
	return buf;
}

/* Runs base's loop until sql answers want; fails after ms. */
static void
pg_wait(PGconn *pg, struct event_base *base, const char *sql,
    const char *want, int ms)
{
	double	 until = now_ms() + ms;

	while (strcmp(pg_value(pg, sql), want) != 0) {
		if (now_ms() > until)
			fail_msg("%s: got \"%s\", want \"%s\"", sql,
			    pg_value(pg, sql), want);
		run_for(base, 10);
	}
}

#endif

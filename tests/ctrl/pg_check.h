/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * pg_check.h — for the controller's tests against PostgreSQL: a statement
 * that must succeed, the clock to time answers by (tests/clock.h), and how
 * long to wait for them at most.  Include after cmocka.h and libpq-fe.h.
 */
#ifndef XVDS_TEST_PG_CHECK_H
#define XVDS_TEST_PG_CHECK_H

#include "../clock.h"

/*
 * The bound of the waits for what the controller does: a wait ends as
 * soon as its condition holds, so a generous bound costs nothing, and a
 * loaded machine (the Xen lab beside the tests) may take seconds.
 */
#define PG_WAIT_MS	30000

static void
pg_exec_ok(PGconn *pg, const char *sql)
{
	PGresult *r = PQexec(pg, sql);

	if (PQresultStatus(r) != PGRES_COMMAND_OK &&
	    PQresultStatus(r) != PGRES_TUPLES_OK)
		fail_msg("%s: %s", sql, PQresultErrorMessage(r));
	PQclear(r);
}

#endif

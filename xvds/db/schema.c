/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * db/schema.c — the migration runner (db/schema.h, xvds-schema(7)).
 * Blocking libpq: it runs before any loop does, or in a tool.
 */
#include <config.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libpq-fe.h>

#include "db/schema.h"
#include "common/errbuf.h"
#include "common/log.h"

/*
 * "XVDS" and 1: the key of the advisory lock that serialises upgraders.
 * The controller's leadership lock must use another key.
 */
#define DB_SCHEMA_LOCK_SQL "SELECT pg_advisory_xact_lock(6365350246607749121)"

/* The runner's own table: it must exist before migration 1 can run. */
#define DB_SCHEMA_TABLE_SQL \
	"CREATE TABLE IF NOT EXISTS schema_version (" \
	" version integer PRIMARY KEY CHECK (version > 0)," \
	" name text NOT NULL," \
	" applied timestamptz NOT NULL DEFAULT now())"

int
db_schema_newest(void)
{
	return db_nmigrations == 0 ? 0 :
	    db_migrations[db_nmigrations - 1].version;
}

/* libpq's messages end in a newline (or several lines): keep the first. */
void
db_errmsg(char *err, size_t errlen, const char *what, const char *msg)
{
	size_t	 n;

	if (msg == NULL || *msg == '\0')
		msg = "unknown error";
	n = strcspn(msg, "\n");
	errbuf_set(err, errlen, "%s: %.*s", what, (int)n, msg);
}

void
db_notice(void *arg, const char *msg)
{
	(void)arg;
	log_debug("database: %.*s", (int)strcspn(msg, "\n"), msg);
}

PGconn *
db_connect_sync(const char *conninfo, char *err, size_t errlen)
{
	PGconn	*conn;

	if ((conn = PQconnectdb(conninfo)) == NULL) {
		errbuf_set(err, errlen, "connect: out of memory");
		return NULL;
	}
	if (PQstatus(conn) != CONNECTION_OK) {
		db_errmsg(err, errlen, "connect", PQerrorMessage(conn));
		PQfinish(conn);
		return NULL;
	}
	PQsetNoticeProcessor(conn, db_notice, NULL);
	return conn;
}

/*
 * Runs one statement (with parameters) or, when nparams is -1, a whole
 * script; *res_r (if not NULL) takes the result.
 */
static int
run(PGconn *conn, const char *what, const char *sql, int nparams,
    const char *const *params, PGresult **res_r, char *err, size_t errlen)
{
	PGresult *res;
	ExecStatusType st;

	if (nparams < 0)
		res = PQexec(conn, sql);
	else
		res = PQexecParams(conn, sql, nparams, NULL, params, NULL, NULL,
		    0);
	st = PQresultStatus(res);
	if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
		db_errmsg(err, errlen, what, res != NULL ?
		    PQresultErrorMessage(res) : PQerrorMessage(conn));
		PQclear(res);
		return -1;
	}
	if (res_r != NULL)
		*res_r = res;
	else
		PQclear(res);
	return 0;
}

int
db_schema_version(PGconn *conn, int *version_r, char *err, size_t errlen)
{
	PGresult *res;
	int	 rc;

	if (run(conn, "schema version",
	    "SELECT to_regclass('schema_version') IS NOT NULL", 0, NULL, &res,
	    err, errlen) == -1)
		return -1;
	rc = strcmp(PQgetvalue(res, 0, 0), "t") == 0;
	PQclear(res);
	if (!rc) {
		*version_r = 0;
		return 0;
	}
	if (run(conn, "schema version",
	    "SELECT coalesce(max(version), 0) FROM schema_version", 0, NULL,
	    &res, err, errlen) == -1)
		return -1;
	*version_r = atoi(PQgetvalue(res, 0, 0));
	PQclear(res);
	return 0;
}

/*
 * Reads the history and checks it is ours: versions 1..n, each named as
 * this build names it, none newer than the newest we know.
 */
static int
check_history(PGconn *conn, int *version_r, char *err, size_t errlen)
{
	PGresult *res;
	int	 i, n, v, newest = db_schema_newest();
	const char *name;

	if (run(conn, "schema history",
	    "SELECT version, name FROM schema_version ORDER BY version", 0,
	    NULL, &res, err, errlen) == -1)
		return -1;
	n = PQntuples(res);
	if (n > 0 && (v = atoi(PQgetvalue(res, n - 1, 0))) > newest) {
		errbuf_set(err, errlen, "the database's schema is at version "
		    "%d (%s), newer than this build's newest (%d): refusing "
		    "to run against it; use a newer xvds", v,
		    PQgetvalue(res, n - 1, 1), newest);
		goto bad;
	}
	for (i = 0; i < n; i++) {
		v = atoi(PQgetvalue(res, i, 0));
		name = PQgetvalue(res, i, 1);
		if (v != i + 1) {
			errbuf_set(err, errlen, "schema_version lacks "
			    "migration %d: not a history this build made", i + 1);
			goto bad;
		}
		if (strcmp(name, db_migrations[i].name) != 0) {
			errbuf_set(err, errlen, "the database's migration %d "
			    "is \"%s\", this build's is \"%s\": refusing to "
			    "run against it", v, name, db_migrations[i].name);
			goto bad;
		}
	}
	PQclear(res);
	*version_r = n;
	return 0;
bad:
	PQclear(res);
	return -1;
}

int
db_schema_upgrade(PGconn *conn, int *from_r, int *to_r, char *err,
    size_t errlen)
{
	const struct db_migration *m;
	char	 ver[16];
	const char *params[2];
	int	 cur, from = -1, newest = db_schema_newest();

	for (;;) {
		/* Each migration re-reads the version under the lock: another
		 * upgrader may have applied it meanwhile. */
		if (run(conn, "begin", "BEGIN", 0, NULL, NULL, err, errlen) == -1)
			return -1;
		if (run(conn, "schema lock", DB_SCHEMA_LOCK_SQL, 0, NULL, NULL,
		    err, errlen) == -1 ||
		    run(conn, "schema_version", DB_SCHEMA_TABLE_SQL, 0, NULL,
		    NULL, err, errlen) == -1 ||
		    check_history(conn, &cur, err, errlen) == -1)
			goto fail;
		if (from == -1)
			from = cur;
		if (cur == newest)
			break;
		m = &db_migrations[cur];
		snprintf(ver, sizeof(ver), "%d", m->version);
		params[0] = ver;
		params[1] = m->name;
		if (run(conn, m->name, m->sql, -1, NULL, NULL, err,
		    errlen) == -1 ||
		    run(conn, m->name, "INSERT INTO schema_version "
		    "(version, name) VALUES ($1, $2)", 2, params, NULL, err,
		    errlen) == -1 ||
		    run(conn, "commit", "COMMIT", 0, NULL, NULL, err,
		    errlen) == -1)
			goto fail;
		log_info("database schema: applied %s", m->name);
	}
	if (run(conn, "commit", "COMMIT", 0, NULL, NULL, err, errlen) == -1)
		goto fail;
	if (from_r != NULL)
		*from_r = from;
	if (to_r != NULL)
		*to_r = cur;
	return 0;
fail:
	PQclear(PQexec(conn, "ROLLBACK"));
	return -1;
}

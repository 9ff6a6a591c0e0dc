/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * db/schema.h — the PostgreSQL schema's migrations (schema/NNN_*.sql,
 * built into the binary by scripts/sql2c.sh) and the runner that applies
 * them, synchronously: the controller does it once at start-up, before its
 * loop runs, and `xvdsctl db upgrade` does it on request (xvds-schema(7)).
 */
#ifndef XVDS_DB_SCHEMA_H
#define XVDS_DB_SCHEMA_H

#include <stddef.h>

#include <libpq-fe.h>

struct db_migration {
	int		 version;	/* 1, 2, ... without a gap */
	const char	*name;		/* "001_initial" */
	const char	*sql;
};

/* The generated schema_sql.c. */
extern const struct db_migration db_migrations[];
extern const size_t db_nmigrations;

/* The version of the newest migration this build knows. */
int	db_schema_newest(void);

/*
 * Connects, blocking: for tools and start-up only.  conninfo may be "" to
 * take everything from PGHOST, PGDATABASE and the rest.  NULL, with why
 * in err, on failure.  Notices go to the debug log.
 */
PGconn	*db_connect_sync(const char *conninfo, char *err, size_t errlen);

/* The database's schema version (0: none yet), without changing it. */
int	db_schema_version(PGconn *, int *version_r, char *err, size_t errlen);

/*
 * Applies every migration the database lacks, in order, each in one
 * transaction that also records it in schema_version.  Idempotent; safe
 * against a concurrent upgrader (an advisory lock serialises them).
 * Refuses a database whose schema is newer than this build's, or whose
 * history names a migration differently.  *from_r and *to_r (may be NULL)
 * get the versions before and after.  -1 with why in err.
 */
int	db_schema_upgrade(PGconn *, int *from_r, int *to_r, char *err,
	    size_t errlen);

/* Shared with db/db.c: libpq's message, first line only, after what. */
void	db_errmsg(char *err, size_t errlen, const char *what, const char *msg);
/* libpq's notice processor: notices go to the debug log. */
void	db_notice(void *arg, const char *msg);

#endif

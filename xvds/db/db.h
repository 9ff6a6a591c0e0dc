/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * db/db.h — libpq on the libevent loop: one connection, made and remade
 * without blocking, and a queue of parameterised queries answered from
 * the loop, one at a time, in order (xvds-schema(7), "The connection").
 *
 * When the server goes away the handle reconnects by itself with
 * exponential back-off.  Queries still queued are sent once it is back.
 * A query that was in flight is sent again if it was marked
 * DB_IDEMPOTENT (up to DB_MAX_TRIES times); otherwise it fails, because it
 * may or may not have taken effect and only its caller can find out.
 */
#ifndef XVDS_DB_DB_H
#define XVDS_DB_DB_H

#include <stddef.h>

#include <libpq-fe.h>

struct event_base;
struct db;

#define DB_IDEMPOTENT	0x01	/* safe to run again after a lost connection */

#define DB_MAX_TRIES	5	/* sends of one idempotent query */

/*
 * A query's answer.  On success res is the result (PGRES_TUPLES_OK or
 * PGRES_COMMAND_OK) and err is NULL.  On failure err says why; res is the
 * server's error result (PQresultErrorField gives its SQLSTATE) or NULL
 * when there is none: the connection was lost, or the handle closed.
 * res belongs to the layer and is cleared when the callback returns.
 */
typedef void (*db_cb)(PGresult *res, const char *err, void *arg);

/* Told when the connection comes up (up 1) or goes down (why says why). */
typedef void (*db_state_cb)(int up, const char *why, void *arg);

/*
 * A handle connecting to conninfo ("" for PGHOST and the rest); the first
 * attempt is made from the loop.  NULL, with why in err, if conninfo does
 * not parse (no retry would help) or memory ran out.
 */
struct db *db_open(struct event_base *, const char *conninfo, char *err,
	    size_t errlen);

/*
 * Fails every query not yet answered (callbacks with err "closed") and
 * frees the handle.  May be called from a callback.
 */
void	db_close(struct db *);

/*
 * Queues sql (one statement, $1... for the nparams parameters, NULL for
 * SQL NULL; all text) with flags (DB_IDEMPOTENT).  Copies what it keeps.
 * cb is always called later, from the loop, never from db_query.  -1 if
 * the handle is closing or memory ran out.
 */
int	db_query(struct db *, int flags, db_cb cb, void *arg, const char *sql,
	    int nparams, const char *const *params);

void	db_set_state_cb(struct db *, db_state_cb, void *arg);
/* Back-off between connection attempts, doubling from min to max. */
void	db_set_backoff(struct db *, unsigned min_ms, unsigned max_ms);
/* Seconds an attempt to connect may take before it is abandoned. */
void	db_set_connect_timeout(struct db *, unsigned sec);

int	db_isup(const struct db *);
/* Queries queued or in flight. */
unsigned db_pending(const struct db *);

#endif

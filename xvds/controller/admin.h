/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * controller/admin.h — the controller's admin socket (xvds-admin(7)): a unix
 * socket on which xvdsctl(8)'s cluster commands ask for JSON lines, one
 * request at a time per connection, answered from the database.
 *
 * Unlike the agents' and the thin clients' listeners, this one is open
 * for the controller's whole life: a standby answers every request with
 * the "standby" error, so that an operator who reached the wrong
 * controller is told so instead of finding nobody there.
 */
#ifndef XVDS_CONTROLLER_ADMIN_H
#define XVDS_CONTROLLER_ADMIN_H

#include <jansson.h>
#include <libpq-fe.h>

#include "common/sockets.h"

struct event_base;
struct db;
struct ctrl_conf;

#define CTRL_ADMIN_PROTOCOL	SOCKETS_ADMIN_VERSION
#define CTRL_ADMIN_LINE_MAX	65536	/* a request's bytes, not its newline */
#define CTRL_ADMIN_CONNS_MAX	64
#define CTRL_ADMIN_IDLE_S	60	/* a client silent this long: closed */

/*
 * Listens on conf's admin-socket (mode 0600; a stale socket is removed, a
 * live one is not taken over).  conf must outlive the service.  -1,
 * logged.
 */
int	ctrl_admin_start(struct event_base *, const struct ctrl_conf *);
/* Serves requests through db (the active controller), or, NULL, refuses. */
void	ctrl_admin_serve(struct db *);
/* Closes the socket and every connection, and removes the socket. */
void	ctrl_admin_stop(void);
/* The configuration reloaded: conf replaces the one given to start (its
 * admin-socket is the same), and must outlive the service. */
void	ctrl_admin_reconf(const struct ctrl_conf *);

/*
 * The part shared with controller/admin_cmd.c: one request being answered.
 * Either reply function is called exactly once; both free the request.
 */
struct admin_cmd;
struct admin_req {
	struct aconn	*conn;		/* NULL: its client has gone */
	json_int_t	 id;
	int		 has_id;	/* 0: the reply's id is null */
	const struct admin_cmd *cmd;
	json_t		*msg;		/* the request, arguments included */
	char		 uid[24];	/* the client's, for the events */
};

/* Takes result. */
void	admin_reply(struct admin_req *, json_t *result);
void	admin_reply_error(struct admin_req *, const char *error,
	    const char *fmt, ...) __attribute__((format(printf, 3, 4)));
struct db *admin_db(void);
const struct ctrl_conf *admin_conf(void);

/* controller/admin_cmd.c */
const struct admin_cmd *admin_cmd_find(const char *name);
/* Checks the request's arguments (error reply if bad) and runs it. */
void	admin_cmd_run(struct admin_req *);

#endif

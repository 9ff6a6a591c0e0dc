/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * controller/admin_cmd.h — the admin socket's commands
 * (controller/admin_cmd.c, xvds-admin(7)), run for the socket
 * (controller/admin.c), which hands each its request and the ways to
 * answer it: the commands never call the socket by name.
 */
#ifndef XVDS_CONTROLLER_ADMIN_CMD_H
#define XVDS_CONTROLLER_ADMIN_CMD_H

#include <stdarg.h>

#include <jansson.h>

struct admin_cmd;
struct admin_req;
struct aconn;
struct ctrl_conf;
struct db;

/*
 * What the socket lends its commands.  Either reply function is called
 * exactly once a request; both free it.
 */
struct admin_cmd_hooks {
	/* Takes result. */
	void	(*reply)(struct admin_req *, json_t *result);
	void	(*reply_error)(struct admin_req *, const char *error,
		    const char *fmt, va_list);
	/* The database, live: NULL on a standby. */
	struct db *(*db)(void);
	const struct ctrl_conf *(*conf)(void);
};

/* One request being answered. */
struct admin_req {
	struct aconn	*conn;		/* NULL: its client has gone */
	json_int_t	 id;
	int		 has_id;	/* 0: the reply's id is null */
	const struct admin_cmd *cmd;
	json_t		*msg;		/* the request, arguments included */
	char		 uid[24];	/* the client's, for the events */
	const struct admin_cmd_hooks *hooks;
};

const struct admin_cmd *admin_cmd_find(const char *name);
/* Checks the request's arguments (error reply if bad) and runs it. */
void	admin_cmd_run(struct admin_req *);

#endif

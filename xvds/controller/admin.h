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

#endif

/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * controller/broker.h — the controller's broker service (xvds-broker(7)): the
 * TLS listener thin clients log in at, with a server certificate only,
 * and the login, renew and logout requests answered from the database.
 *
 * One per controller, and only while it is active, like the agents'
 * listener: ctrl_broker_start when it takes the lead, ctrl_broker_stop
 * when it loses it.
 */
#ifndef XVDS_CONTROLLER_BROKER_H
#define XVDS_CONTROLLER_BROKER_H

#include <stdint.h>

struct event_base;
struct db;
struct ctrl_conf;

/* A client that leaves a reply unread this long is dropped.  Its limits
 * are controller.conf's broker-connections (controller/conf.h). */
#define CTRL_BROKER_WRITE_S	30
/* Milliseconds the listener pauses after an accept error
 * (linesrv/conn_limit.h). */
#define CTRL_BROKER_PAUSE_MS	250

/*
 * Opens the listener of conf (broker listen, cert-file, key-file) and
 * answers through db, which must outlive the broker.  -1, logged.
 */
int	ctrl_broker_start(struct event_base *, struct db *,
	    const struct ctrl_conf *);
/*
 * Closes the listener and every connection; answers still awaited from
 * the database are dropped unsent.  Safe when not started.
 */
void	ctrl_broker_stop(const char *why);
/*
 * A reloaded session-lease, for the logins and renewals from now on, and
 * broker-connections, for the connections from now on.
 */
void	ctrl_broker_reconf(const struct ctrl_conf *);
int	ctrl_broker_running(void);
/* The port listened on (the configured one, or the one chosen for 0). */
uint16_t ctrl_broker_port(void);

#endif

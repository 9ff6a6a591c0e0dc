/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * controller/session.h — the ends of desktop sessions (xvds-controller(8),
 * "Sessions"): a lease that lapsed and stayed lapsed past the grace time,
 * a desktop that went away on its host, and the release every ended
 * session owes its VM (a CVM's reset, a PVM's shutdown), carried out by
 * whichever controller is active.
 *
 * One per controller, and only while it is active, like the broker.
 */
#ifndef XVDS_CONTROLLER_SESSION_H
#define XVDS_CONTROLLER_SESSION_H


struct event_base;
struct db;
struct ctrl_conf;

#define CTRL_SESSION_SWEEP_S	1	/* seconds between sweeps */
#define CTRL_SESSION_RETRY_S	10	/* after a release that failed */

/* Starts the sweeps through db, which must outlive them.  -1, logged. */
int	ctrl_session_start(struct event_base *, struct db *,
	    const struct ctrl_conf *);
/* Stops them; releases under way are forgotten (the next controller
 * finds them owed in the database).  Safe when not started. */
void	ctrl_session_stop(void);
/* A reloaded session-grace, from the next sweep.  Safe when not started. */
void	ctrl_session_reconf(const struct ctrl_conf *);

#endif

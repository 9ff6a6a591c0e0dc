/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * controller/leader.h — which controller is active (xvds-controller(8),
 * "Leadership"): the holder of a PostgreSQL session-level advisory lock,
 * taken and watched on a connection of its own.  The others try again
 * every second; the lock frees itself when the holder's session ends, so
 * a controller killed outright is replaced within about a second.
 */
#ifndef XVDS_CONTROLLER_LEADER_H
#define XVDS_CONTROLLER_LEADER_H

#include <stddef.h>

struct event_base;
struct ctrl_leader;

/* "XVDS" and 2: db/schema.c's upgrade lock is "XVDS" and 1. */
#define CTRL_LEADER_KEY		0x5856445300000002LL
#define CTRL_LEADER_RETRY_MS	1000	/* a standby's tries */
#define CTRL_LEADER_CHECK_MS	1000	/* the active one proves its lock */
#define CTRL_LEADER_CHECK_MAX_MS 3000	/* a proof later than this: step down */

/*
 * Told when this controller becomes active (1) or stops being so (0, why
 * says why), always from the loop.  After 0 it must stop acting at once:
 * another controller may be active already.
 */
typedef void (*ctrl_leader_cb)(int active, const char *why, void *arg);

struct ctrl_leader *ctrl_leader_new(struct event_base *, const char *conninfo,
	    ctrl_leader_cb, void *arg, char *err, size_t errlen);
/* Ends the session, which frees the lock; no callback. */
void	ctrl_leader_free(struct ctrl_leader *);

#endif

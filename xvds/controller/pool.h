/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * controller/pool.h — the pools' upkeep by the active controller
 * (xvds-controller(8), "Pool upkeep"): every pool has its size in CVM
 * rows, defined and started on the hosts the placement rule picks; its
 * Ready target is kept warm; idle CVMs are paused, then saved, on the
 * pool's timers; surplus ones are destroyed.  Power operations are
 * throttled per host and in all, and a VM or host that keeps failing is
 * given up (an event says so) until an operator says to retry.
 *
 * A VM with an open session is the broker's: upkeep never touches it.
 * Upkeep claims a VM by setting its row to the transient state in the
 * same statement that checks it is still free (FOR UPDATE SKIP LOCKED),
 * before the op is sent, so a concurrent login cannot take it too.
 */
#ifndef XVDS_CONTROLLER_POOL_H
#define XVDS_CONTROLLER_POOL_H

struct event_base;
struct db;
struct ctrl_conf;

/* Starts the ticks (upkeep interval); db and conf must outlive it. */
int	ctrl_pool_start(struct event_base *, struct db *,
	    const struct ctrl_conf *);
/* Stops ticking; ops still out end unrecorded.  Safe when not started. */
void	ctrl_pool_stop(void);
/* A reloaded upkeep and op-timeout, from the next tick.  Safe when not
 * started. */
void	ctrl_pool_reconf(const struct ctrl_conf *);

#endif

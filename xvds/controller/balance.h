/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * controller/balance.h — load balancing by the active controller
 * (xvds-controller(8), "Balancing"): every sample-interval
 * (xvds-policy(7)'s MIGRATE_TERM) the policy module looks at the live cluster
 * (controller/cluster.h) and its migrations are written to the migrations
 * table as planned, its given-up candidates as events; an executor
 * carries out the planned rows, the policy's and operators' alike,
 * through the source host's xvdsd.
 */
#ifndef XVDS_CONTROLLER_BALANCE_H
#define XVDS_CONTROLLER_BALANCE_H

struct event_base;
struct db;
struct ctrl_conf;

/* Migrations carried out at once, in all. */
#define CTRL_BALANCE_RUNNING_MAX	4
/* The port of a host's migration listener when hosts.migration_peer is NULL. */
#define CTRL_BALANCE_MIGRATION_PORT	8002

/*
 * Starts the ticks; rows a previous controller left running are failed
 * first (the hosts' state reports say where the VMs are).  db and conf
 * must outlive it.  -1, logged.
 */
int	ctrl_balance_start(struct event_base *, struct db *,
	    const struct ctrl_conf *);
/* Stops; migrations under way end unrecorded.  Safe when not started. */
void	ctrl_balance_stop(void);
/* A reloaded policy, threshold and sample-interval, from the next tick. */
void	ctrl_balance_reconf(const struct ctrl_conf *);

#endif

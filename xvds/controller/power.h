/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * controller/power.h — the boot-storm throttle: power operations (start,
 * unpause, restore, and upkeep's pause and save) under way, per host and
 * in all, counted for both of the controller's senders of them, the
 * pools' upkeep (controller/pool.c) and the broker's logins
 * (controller/login.c), so that the limits of `upkeep ... host-ops N
 * cluster-ops M` hold for both together (xvds-controller.conf(5)).
 */
#ifndef XVDS_CONTROLLER_POWER_H
#define XVDS_CONTROLLER_POWER_H

#include <stdbool.h>

/* The limits; 0 is no limit. */
void	ctrl_power_limits(unsigned host_ops, unsigned cluster_ops);
/* Takes a slot on host if both limits allow one: true, or false. */
bool	ctrl_power_try(const char *host);
/* Takes a slot whatever the limits (an op decided before they filled). */
void	ctrl_power_take(const char *host);
/* Gives a slot back. */
void	ctrl_power_give(const char *host);
/* Slots taken on host, or in all (NULL). */
unsigned ctrl_power_inflight(const char *host);

#endif

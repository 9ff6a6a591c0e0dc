/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * reportsim.h — simulated guest agents (reportsim.c) behind reportwatch.h,
 * for xvdsd on the simulated hypervisor.  Call before vm_init().
 */
#ifndef XVDS_REPORTSIM_H
#define XVDS_REPORTSIM_H

struct event_base;

void	reportsim_init(struct event_base *);

#endif

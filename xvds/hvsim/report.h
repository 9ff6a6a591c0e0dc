/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * hvsim/report.h — simulated guest agents (hvsim/report.c) behind
 * hv/reportwatch.h, for xvdsd on the simulated hypervisor.  Call before
 * vm_init().
 */
#ifndef XVDS_HVSIM_REPORT_H
#define XVDS_HVSIM_REPORT_H

struct event_base;

void	reportsim_init(struct event_base *);

#endif

/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * addrs.h — the guest's own IP addresses: collecting them and noticing
 * when they change.
 */
#ifndef XVDS_GUESTD_ADDRS_H
#define XVDS_GUESTD_ADDRS_H

#include "common/report.h"

/* Fills r->addr and r->n with the addresses of interfaces that are up. */
int	addrs_collect(struct report_addrs *);
/* True if the two lists hold the same addresses in the same order. */
int	addrs_equal(const struct report_addrs *, const struct report_addrs *);
/* A netlink socket that becomes readable when an address changes. */
int	addrs_monitor_open(void);
/* Reads and discards the pending notifications; -1 if the socket failed. */
int	addrs_monitor_drain(int);

#endif

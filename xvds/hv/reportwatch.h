/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * hv/reportwatch.h — dom0's xenstore watch over the guests' report records.
 * For each domain added it watches /local/domain/<id>/data/xvds, reads the
 * records when they change and hands them to common/reportstate.c, whose rules
 * decide what is accepted.  Poll reportwatch_fd(); call
 * reportwatch_dispatch() when it is readable.  Callbacks must not add or
 * remove domains.
 */
#ifndef XVDS_HV_REPORTWATCH_H
#define XVDS_HV_REPORTWATCH_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "common/reportstate.h"

struct reportwatch;

/* max_skew: seconds a guest's clock may run ahead of dom0's. */
struct reportwatch *reportwatch_open(report_cb, void *arg, unsigned max_skew);
void	reportwatch_close(struct reportwatch *);
int	reportwatch_fd(struct reportwatch *);
/* See reportstate_init() for not_before and old_boot_id. */
int	reportwatch_add(struct reportwatch *, uint32_t domid, time_t not_before,
	    const char *old_boot_id);
int	reportwatch_remove(struct reportwatch *, uint32_t domid);
const struct report_domain *reportwatch_get(struct reportwatch *, uint32_t domid);
/* The domains watched: fills up to max ids, returns how many there are. */
size_t	reportwatch_domains(struct reportwatch *, uint32_t *ids, size_t max);
/*
 * dom0's credential record for a domain's guest (common/report.h), at
 * /local/domain/<id>/xvds/credential: owned by dom0, readable by that
 * domain alone, written with its permissions in one transaction.  Remove
 * takes the whole xvds/ directory; an absent one is no error.  0 or -1.
 */
int	reportwatch_secret_put(struct reportwatch *, uint32_t domid,
	    const char *val, size_t len);
int	reportwatch_secret_remove(struct reportwatch *, uint32_t domid);
/* Handles the pending watch events; -1 if the xenstore connection failed. */
int	reportwatch_dispatch(struct reportwatch *);

#endif

/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * host.h — sampling of the host and its domains; host_view() is in xvdsd.h.
 */
#ifndef XVDS_HOST_H
#define XVDS_HOST_H

#include "hv.h"

struct event_base;

/* interval: seconds between samples; window: samples in the mean. */
int	host_init(struct event_base *, struct hv *, unsigned interval,
	    unsigned window);
void	host_reload(unsigned interval, unsigned window);
void	host_shutdown(void);

#endif

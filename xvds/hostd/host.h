/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * hostd/host.h — sampling of the host and its domains; host_view() is in
 * hostd/xvdsd.h.
 */
#ifndef XVDS_HOSTD_HOST_H
#define XVDS_HOSTD_HOST_H

#include "hv/hv.h"

struct event_base;

/* interval: seconds between samples; window: samples in the mean. */
int	host_init(struct event_base *, struct hv *, unsigned interval,
	    unsigned window);
void	host_reload(unsigned interval, unsigned window);
void	host_shutdown(void);

#endif

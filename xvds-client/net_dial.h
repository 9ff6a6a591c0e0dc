/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * net_dial.h — a TCP connection to a name or an address, the first of
 * its addresses that answers; the broker's and the desktop's.
 */
#ifndef XVDS_CLIENT_NET_DIAL_H
#define XVDS_CLIENT_NET_DIAL_H

#include <stddef.h>
#include <stdint.h>

/*
 * The connected socket (close-on-exec, reads and writes timing out
 * after timeout_s), or -1 with why in err.
 */
int	net_dial(const char *server, uint16_t port, unsigned timeout_s,
	    char *err, size_t errlen);

#endif

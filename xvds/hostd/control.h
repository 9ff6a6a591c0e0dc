/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * hostd/control.h — xvdsd's local control socket (hostd/control.c): the
 * protocol of xvds-control(7) on a unix stream socket, for xvdsctl(8) and the
 * tests.  What a request may ask of the VMs and the host is in hostd/xvdsd.h.
 */
#ifndef XVDS_HOSTD_CONTROL_H
#define XVDS_HOSTD_CONTROL_H

#include "common/sockets.h"

#define CONTROL_VERSION		SOCKETS_CONTROL_VERSION
#define CONTROL_LINE_MAX	65536		/* bytes in a request, without newline */
#define CONTROL_CLIENTS_MAX	64		/* accept pauses beyond this */
#define CONTROL_PENDING_MAX	256		/* requests awaiting a VM, per client */
#define CONTROL_DEFAULT_SOCKET	SOCKETS_CONTROL_PATH

struct event_base;

/*
 * Listens on path (made 0600, its directory 0700 if control_init creates
 * it).  A stale socket is removed; a live one, answered by another daemon,
 * makes control_init fail.  Ignores SIGPIPE: a client that goes away must
 * not take the daemon with it.  Returns 0, or -1 (logged).
 */
int	control_init(struct event_base *, const char *path);
/*
 * Closes every client and the socket and unlinks it.  Requests still with
 * the VMs are orphaned, not freed: hostd/vm.c's reply callback frees them.
 */
void	control_close(void);

#endif

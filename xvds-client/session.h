/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * session.h — a desktop's session after the login: the viewer started
 * (unless the viewer is "none"), the lease renewed while it runs, the
 * end told to the broker and on the status lines (xvds-client(1)).
 */
#ifndef XVDS_CLIENT_SESSION_H
#define XVDS_CLIENT_SESSION_H

#include "broker_ask.h"
#include "rdp_conf.h"

/*
 * Blocks SIGINT, SIGTERM, SIGHUP and SIGCHLD, which then only wake the
 * session's wait.  Before the login: a signal during it is kept.
 */
void	session_signals(void);
/* Runs the session; its exit status.  The desktop's secrets are wiped. */
int	session_run(const struct broker_target *, const struct rdp_conf *,
	    struct broker_desktop *);

#endif

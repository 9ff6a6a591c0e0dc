/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * broker_ask.h — one request to the broker on a connection of its own
 * (the broker closes idle ones), and its failures and refusals as the
 * status lines' error codes (status.h).
 */
#ifndef XVDS_CLIENT_BROKER_ASK_H
#define XVDS_CLIENT_BROKER_ASK_H

#include "broker_client.h"
#include "status.h"

struct broker_target {
	const char	*server, *ca_file;
	uint16_t	 port;
};

/*
 * 0 with the reply in rep, or -1: the broker was not reached or not
 * trusted (*why), the reason on stderr.
 */
int	broker_ask(const struct broker_target *, const struct broker_request *,
	    unsigned timeout_s, struct broker_reply *, enum status_error *why);
/* An error reply: its status line and message; the exit status. */
int	broker_refused(const struct broker_reply *);

#endif

/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * broker_client.h — the thin client's side of the broker protocol
 * (xvds-broker(7)): one TLS connection to the controller, the server's
 * certificate checked against a CA file and the name the client dialled,
 * one request and its reply at a time.  Blocking: the thin client has
 * nothing else to do while it waits.
 */
#ifndef XVDS_BROKER_CLIENT_H
#define XVDS_BROKER_CLIENT_H

#include <stddef.h>
#include <stdint.h>

#include "common/broker_msg.h"

#define BROKER_CLIENT_PORT	8443
/* A login may boot a desktop: allow it the controller's op timeout. */
#define BROKER_CLIENT_LOGIN_S	300
#define BROKER_CLIENT_REQUEST_S	30

struct broker_client;

/*
 * Connects to server (a name or an address) and port, and checks the
 * certificate against ca_file (NULL: the system's trust store).  NULL
 * with why in err.
 */
struct broker_client *broker_client_open(const char *server, uint16_t port,
	    const char *ca_file, char *err, size_t errlen);
void	broker_client_close(struct broker_client *);

/* A login's progress, as the broker tells it (xvds-broker(7), PROGRESS). */
typedef void broker_client_progress_fn(enum broker_progress, void *arg);

/*
 * From now on, logins sent on c ask for progress and fn hears each step
 * before broker_client_ask returns; NULL: they do not (the default).
 */
void	broker_client_set_progress(struct broker_client *,
	    broker_client_progress_fn *fn, void *arg);

/*
 * Sends req and reads its reply, waiting at most timeout_s seconds in
 * all (progress messages included).  0, or -1 with why in err (the
 * connection is then unusable).  The request (a login's password) is
 * wiped from the line sent.
 */
int	broker_client_ask(struct broker_client *, const struct broker_request *,
	    unsigned timeout_s, struct broker_reply *, char *err, size_t errlen);

#endif

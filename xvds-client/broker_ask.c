/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * broker_ask.c — one request to the broker, its failures as status codes
 * (broker_ask.h).
 */
#include <config.h>

#include <stdio.h>
#include <string.h>

#include "broker_ask.h"

/*
 * The broker's steps a user waits through (xvds-broker(7), PROGRESS), as
 * status lines; the quick ones (the address, the credential) say nothing
 * the user can tell from "progress login".
 */
static void
on_progress(enum broker_progress step, void *arg)
{
	(void)arg;
	if (step == BROKER_P_WAKING || step == BROKER_P_BOOTING ||
	    step == BROKER_P_QUEUED)
		status_progress(broker_progress_names[step], NULL);
}

int
broker_ask(const struct broker_target *t, const struct broker_request *req,
    unsigned timeout_s, struct broker_reply *rep, enum status_error *why)
{
	struct broker_client *c;
	char	 err[512];
	int	 rc;

	*why = STATUS_E_BROKER_UNREACHABLE;
	if ((c = broker_client_open(t->server, t->port, t->ca_file, err,
	    sizeof(err))) == NULL) {
		/* broker_client_open() names the certificate when it failed
		 * the check against the CA file. */
		if (strstr(err, "certificate") != NULL)
			*why = STATUS_E_BROKER_UNTRUSTED;
		fprintf(stderr, "xvds-client: %s\n", err);
		return -1;
	}
	if (req->type == BROKER_LOGIN)
		broker_client_set_progress(c, on_progress, NULL);
	rc = broker_client_ask(c, req, timeout_s, rep, err, sizeof(err));
	broker_client_close(c);
	if (rc == -1)
		fprintf(stderr, "xvds-client: %s\n", err);
	return rc;
}

int
broker_refused(const struct broker_reply *rep)
{
	char	 text[BROKER_TEXT_MAX + 64];

	switch (rep->code) {
	case BROKER_E_AUTH_FAILED:
		return status_error(STATUS_E_AUTH, rep->message);
	case BROKER_E_RATE_LIMITED:
		snprintf(text, sizeof(text), "%s (try again in %u s)",
		    rep->message, rep->retry_after);
		return status_error(STATUS_E_RATE_LIMITED, text);
	case BROKER_E_NO_DESKTOP:
		snprintf(text, sizeof(text), "%s (%s)", rep->message,
		    broker_reason_names[rep->reason]);
		return status_error(rep->reason == BROKER_NR_DISABLED ?
		    STATUS_E_AUTH : STATUS_E_NO_DESKTOP, text);
	case BROKER_E_BAD_SESSION:
		fprintf(stderr, "xvds-client: %s\n", rep->message);
		return STATUS_EXIT_SESSION_GONE;
	default:
		return status_error(STATUS_E_INTERNAL, rep->message);
	}
}

/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * status.h — what xvds-client tells its caller: one ASCII line per event
 * on the status descriptor (--status-fd, xvds-client(1) STATUS LINES), a
 * plain message for the user on stderr, and the exit status each outcome
 * calls for.  Never a secret.
 */
#ifndef XVDS_CLIENT_STATUS_H
#define XVDS_CLIENT_STATUS_H

enum status_exit {
	STATUS_EXIT_OK = 0,		/* logoff, closed, signal */
	STATUS_EXIT_INTERNAL = 1,
	STATUS_EXIT_USAGE = 2,
	STATUS_EXIT_AUTH = 3,		/* auth, rate-limited */
	STATUS_EXIT_NO_DESKTOP = 4,
	STATUS_EXIT_SESSION_GONE = 5,	/* lease */
	STATUS_EXIT_BROKER = 6,		/* unreachable or untrusted */
	STATUS_EXIT_DESKTOP = 7,	/* unreachable, lost */
	STATUS_EXIT_UNTRUSTED = 8,	/* the desktop's certificate */
	STATUS_EXIT_RDP_AUTH = 9,
};

/* The codes of "error CODE TEXT". */
enum status_error {
	STATUS_E_AUTH,
	STATUS_E_RATE_LIMITED,
	STATUS_E_NO_DESKTOP,
	STATUS_E_BROKER_UNREACHABLE,
	STATUS_E_BROKER_UNTRUSTED,
	STATUS_E_DESKTOP_UNREACHABLE,
	STATUS_E_DESKTOP_UNTRUSTED,
	STATUS_E_RDP_AUTH,
	STATUS_E_INTERNAL,
};

/* The reasons of "ended REASON". */
enum status_end {
	STATUS_END_LOGOFF,
	STATUS_END_CLOSED,
	STATUS_END_LOST,
	STATUS_END_LEASE,
	STATUS_END_SIGNAL,
};

/* The status descriptor (-1: none), marked close-on-exec. */
int	status_open(int fd);
/* "progress WHAT[ ARG]". */
void	status_progress(const char *what, const char *arg);
void	status_connected(void);
/* The last line, and the user's message on stderr; the exit status. */
int	status_error(enum status_error, const char *text);
int	status_ended(enum status_end);

#endif

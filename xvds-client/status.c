/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * status.c — the status lines and the user's messages (status.h).  The
 * reader is the greeter: a line is written whole, with one write(2).
 */
#include <config.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "status.h"

static int status_fd = -1;

static const struct {
	const char	*code;
	enum status_exit exit;
} errors[] = {
	[STATUS_E_AUTH] = { "auth", STATUS_EXIT_AUTH },
	[STATUS_E_RATE_LIMITED] = { "rate-limited", STATUS_EXIT_AUTH },
	[STATUS_E_NO_DESKTOP] = { "no-desktop", STATUS_EXIT_NO_DESKTOP },
	[STATUS_E_BROKER_UNREACHABLE] = { "broker-unreachable",
	    STATUS_EXIT_BROKER },
	[STATUS_E_BROKER_UNTRUSTED] = { "broker-untrusted",
	    STATUS_EXIT_BROKER },
	[STATUS_E_DESKTOP_UNREACHABLE] = { "desktop-unreachable",
	    STATUS_EXIT_DESKTOP },
	[STATUS_E_DESKTOP_UNTRUSTED] = { "desktop-untrusted",
	    STATUS_EXIT_UNTRUSTED },
	[STATUS_E_RDP_AUTH] = { "rdp-auth", STATUS_EXIT_RDP_AUTH },
	[STATUS_E_INTERNAL] = { "internal", STATUS_EXIT_INTERNAL },
};

static const struct {
	const char	*reason, *message;
	enum status_exit exit;
} ends[] = {
	[STATUS_END_LOGOFF] = { "logoff", "you logged off", STATUS_EXIT_OK },
	[STATUS_END_CLOSED] = { "closed", "the desktop's window was closed",
	    STATUS_EXIT_OK },
	[STATUS_END_LOST] = { "lost", "the connection to the desktop was "
	    "lost", STATUS_EXIT_DESKTOP },
	[STATUS_END_LEASE] = { "lease", "the session was ended by the "
	    "server", STATUS_EXIT_SESSION_GONE },
	[STATUS_END_SIGNAL] = { "signal", "the session was stopped",
	    STATUS_EXIT_OK },
};

int
status_open(int fd)
{
	if (fd != -1 && fcntl(fd, F_SETFD, FD_CLOEXEC) == -1)
		return -1;
	status_fd = fd;
	return 0;
}

/* One line: printable ASCII only, whatever the broker or viewer said. */
static void
put_line(const char *a, const char *b, const char *c)
{
	char	 line[512];
	size_t	 i, n;

	if (status_fd == -1)
		return;
	n = (size_t)snprintf(line, sizeof(line) - 1, "%s%s%s%s%s", a,
	    b != NULL ? " " : "", b != NULL ? b : "", c != NULL ? " " : "",
	    c != NULL ? c : "");
	if (n >= sizeof(line) - 1)
		n = sizeof(line) - 2;
	for (i = 0; i < n; i++)
		if (line[i] < ' ' || line[i] > '~')
			line[i] = '?';
	line[n++] = '\n';
	while (write(status_fd, line, n) == -1 && errno == EINTR)
		;
}

void
status_progress(const char *what, const char *arg)
{
	put_line("progress", what, arg);
}

void
status_connected(void)
{
	put_line("connected", NULL, NULL);
}

int
status_error(enum status_error e, const char *text)
{
	fprintf(stderr, "xvds-client: %s\n", text);
	put_line("error", errors[e].code, text);
	return errors[e].exit;
}

int
status_ended(enum status_end e)
{
	fprintf(stderr, "xvds-client: %s\n", ends[e].message);
	put_line("ended", ends[e].reason, NULL);
	return ends[e].exit;
}

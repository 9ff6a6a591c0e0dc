/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * viewer.h — FreeRDP's own client as the session's viewer: started
 * without a shell, the one-time password on a pipe that is its stdin
 * (/from-stdin:force), the desktop's certificate pinned to the broker's
 * fingerprint (/cert:deny,fingerprint:sha256:HEX); its exit status read
 * as the session's end (xvds-client(1) EXIT STATUS).
 */
#ifndef XVDS_CLIENT_VIEWER_H
#define XVDS_CLIENT_VIEWER_H

#include <sys/types.h>

#include <stdbool.h>

#include "broker_client.h"
#include "rdp_conf.h"
#include "status.h"

struct viewer {
	pid_t	 pid;
	int	 log_fd;	/* its stdout and stderr: a terminal's master */
	bool	 connected;	/* its log said the session is up */
	char	 line[512];	/* a log line not yet whole */
	size_t	 len;
};

/* Starts the viewer: 0, or -1 with why in err. */
int	viewer_start(struct viewer *, const struct rdp_conf *,
	    const struct broker_desktop *, char *err, size_t errlen);
/*
 * Reads what the viewer logged (a terminal: EIO once it exited), copies it to stderr, and sets connected
 * when the session is up.  0; -1 at the end of its output.
 */
int	viewer_read_log(struct viewer *);

enum viewer_outcome {
	VIEWER_ENDED,		/* then *end says why */
	VIEWER_FAILED,		/* then *error says why */
};

/* What the viewer's wait status means. */
enum viewer_outcome viewer_outcome(const struct viewer *, int wstatus,
	    enum status_end *end, enum status_error *error);

#endif

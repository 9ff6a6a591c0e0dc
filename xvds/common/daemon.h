/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * common/daemon.h — what every XVDS daemon does the same way before its loop
 * runs: the options -d -f -h -n -v (xvdsd(8), xvds-controller(8)), logging
 * set up from them, and the signals that stop or reload it taken into the
 * libevent loop.
 */
#ifndef XVDS_COMMON_DAEMON_H
#define XVDS_COMMON_DAEMON_H

#include <event2/event.h>

struct daemon_opts {
	const char	*conf_path;	/* -f, else the default given */
	int		 foreground;	/* -d */
	int		 checkonly;	/* -n */
	int		 verbose;	/* -v, counted */
};

/*
 * Parses -d, -f file, -n and -v; -h or --help prints "usage: name [-dhnv]
 * [-f file]" to stdout and exits 0, anything else prints it to stderr and
 * exits 2.  Then logs as name: to stderr with -d or -n, else to syslog.
 */
void	daemon_options(int argc, char *argv[], const char *name,
	    const char *conf_path, struct daemon_opts *);

/* What the signals do; reload NULL: SIGHUP is logged and ignored. */
struct daemon_signal_cbs {
	void	(*reload)(void *arg);			/* SIGHUP */
	void	(*stop)(const char *signame, void *arg);	/* SIGTERM, SIGINT */
};

/*
 * SIGHUP, SIGTERM and SIGINT to cbs on the loop, each logged; SIGPIPE
 * ignored.  One set a process.  Fatal if the loop refuses them.
 */
void	daemon_signals(struct event_base *, const struct daemon_signal_cbs *,
	    void *arg, struct event *sigs_r[3]);
void	daemon_signals_free(struct event *sigs[3]);

#endif

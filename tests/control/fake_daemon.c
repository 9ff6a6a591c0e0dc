/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * fake_daemon.c — fake-xvdsd: xvdsd's real control socket (hostd/control.c)
 * over the fake VMs of fake_xvdsd.c, for xvdsctl.test.
 *
 *   fake-xvdsd [-v] [-d delay-ms] -s socket
 *
 * Runs in the foreground until SIGTERM or SIGINT; exits 1 if control_init
 * fails (another daemon on the socket, say).
 */
#include <config.h>

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <syslog.h>
#include <unistd.h>

#include <event2/event.h>

#include "hostd/control.h"
#include "fake_xvdsd.h"
#include "common/log.h"

static void
on_signal(evutil_socket_t sig, short what, void *arg)
{
	(void)sig;
	(void)what;
	event_base_loopbreak(arg);
}

int
main(int argc, char *argv[])
{
	struct event_base *base;
	struct event *ev_term, *ev_int;
	const char *path = NULL;
	unsigned delay = 50;
	int	 ch, verbose = 0;

	while ((ch = getopt(argc, argv, "d:s:v")) != -1) {
		switch (ch) {
		case 'd':
			delay = (unsigned)strtoul(optarg, NULL, 10);
			break;
		case 's':
			path = optarg;
			break;
		case 'v':
			verbose++;
			break;
		default:
			fprintf(stderr, "usage: fake-xvdsd [-v] [-d delay-ms] "
			    "-s socket\n");
			return 2;
		}
	}
	if (path == NULL || optind != argc) {
		fprintf(stderr, "usage: fake-xvdsd [-v] [-d delay-ms] -s socket\n");
		return 2;
	}
	log_procname("fake-xvdsd");
	log_init(1, LOG_DAEMON);
	log_setverbose(verbose);
	if ((base = event_base_new()) == NULL)
		fatalx("event_base_new");
	fake_init(base, delay);
	if (control_init(base, path) == -1) {
		fake_fini();
		event_base_free(base);
		return 1;
	}
	ev_term = evsignal_new(base, SIGTERM, on_signal, base);
	ev_int = evsignal_new(base, SIGINT, on_signal, base);
	evsignal_add(ev_term, NULL);
	evsignal_add(ev_int, NULL);
	event_base_dispatch(base);
	/* Clients first: the requests still under way become orphans. */
	control_close();
	fake_fini();
	event_free(ev_term);
	event_free(ev_int);
	event_base_free(base);
	log_info("stopped");
	return 0;
}

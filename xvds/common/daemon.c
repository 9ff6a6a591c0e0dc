/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * common/daemon.c — the start-up every XVDS daemon shares (common/daemon.h).
 */
#include <config.h>

#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <syslog.h>
#include <unistd.h>

#include "common/daemon.h"
#include "common/log.h"

static struct {
	const char	*name;
	const struct daemon_signal_cbs *cbs;
	void		*arg;
} daemon_state;

/* -h and --help: asked for, so to stdout and a success. */
static _Noreturn void
usage(const char *name, FILE *f, int status)
{
	fprintf(f, "usage: %s [-dhnv] [-f file]\n", name);
	exit(status);
}

void
daemon_options(int argc, char *argv[], const char *name, const char *conf_path,
    struct daemon_opts *o)
{
	static const struct option longopts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int	 ch;

	o->conf_path = conf_path;
	o->foreground = o->checkonly = o->verbose = 0;
	while ((ch = getopt_long(argc, argv, "df:hnv", longopts, NULL)) != -1) {
		switch (ch) {
		case 'd':
			o->foreground = 1;
			break;
		case 'f':
			o->conf_path = optarg;
			break;
		case 'h':
			usage(name, stdout, 0);
		case 'n':
			o->checkonly = 1;
			break;
		case 'v':
			o->verbose++;
			break;
		default:
			usage(name, stderr, 2);
		}
	}
	if (optind != argc)
		usage(name, stderr, 2);
	daemon_state.name = name;
	log_procname(name);
	log_init(o->foreground || o->checkonly, LOG_DAEMON);
	log_setverbose(o->verbose);
}

static void
on_signal(evutil_socket_t sig, short what, void *arg)
{
	(void)what;
	(void)arg;
	if (sig == SIGHUP) {
		if (daemon_state.cbs->reload != NULL)
			daemon_state.cbs->reload(daemon_state.arg);
		else
			log_info("SIGHUP: the configuration is read at start "
			    "only; restart %s to change it", daemon_state.name);
		return;
	}
	log_info("stopping on %s", sig == SIGTERM ? "SIGTERM" : "SIGINT");
	daemon_state.cbs->stop(sig == SIGTERM ? "SIGTERM" : "SIGINT",
	    daemon_state.arg);
}

void
daemon_signals(struct event_base *base, const struct daemon_signal_cbs *cbs,
    void *arg, struct event *sigs[3])
{
	static const int which[3] = { SIGHUP, SIGTERM, SIGINT };
	int	 i;

	daemon_state.cbs = cbs;
	daemon_state.arg = arg;
	for (i = 0; i < 3; i++)
		if ((sigs[i] = evsignal_new(base, which[i], on_signal, NULL)) == NULL ||
		    evsignal_add(sigs[i], NULL) == -1)
			fatalx("cannot handle signals");
	/* TLS and libpq write straight to their sockets. */
	signal(SIGPIPE, SIG_IGN);
}

void
daemon_signals_free(struct event *sigs[3])
{
	int	 i;

	for (i = 0; i < 3; i++)
		event_free(sigs[i]);
}

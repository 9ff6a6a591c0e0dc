/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * controller.c — xvds-controller, the XVDS controller daemon: it applies
 * the database schema, competes for leadership (ctrl_leader.c) and, while
 * it is the active controller, serves the hosts' agents (ctrl_agent.c).
 * See xvds-controller(8).
 */
#include <config.h>

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#include <event2/event.h>

#include "ctrl_agent.h"
#include "ctrl_conf.h"
#include "ctrl_leader.h"
#include "db.h"
#include "db_schema.h"
#include "log.h"

static struct {
	struct event_base *base;
	struct ctrl_conf *conf;
	struct ctrl_leader *leader;
	struct db	*db;		/* the work connection, while active */
} C;

static _Noreturn void
usage(void)
{
	fprintf(stderr, "usage: xvds-controller [-dnv] [-f file]\n");
	exit(2);
}

static void
noted(PGresult *res, const char *err, void *arg)
{
	(void)res;
	(void)arg;
	if (err != NULL)
		log_warnx("controller-active event not written: %s", err);
}

static void
on_leader(int active, const char *why, void *arg)
{
	static const char event_sql[] = "INSERT INTO events (kind, actor, "
	    "subject, detail) VALUES ('controller-active', 'controller', $1, "
	    "jsonb_build_object('pid', $2::integer))";
	const char *p[2];
	char	 err[256], host[256], pid[16];

	(void)arg;
	if (!active) {
		/* Another controller may be active already: stop acting. */
		ctrl_agent_stop(why);
		db_close(C.db);
		C.db = NULL;
		return;
	}
	if ((C.db = db_open(C.base, C.conf->database, err, sizeof(err))) == NULL)
		fatalx("database: %s", err);
	db_set_backoff(C.db, 250, 2000);
	if (gethostname(host, sizeof(host)) == -1)
		snprintf(host, sizeof(host), "unknown");
	host[sizeof(host) - 1] = '\0';
	snprintf(pid, sizeof(pid), "%ld", (long)getpid());
	p[0] = host;
	p[1] = pid;
	db_query(C.db, 0, noted, NULL, event_sql, 2, p);
	/* Holding the lock without serving would leave the hosts orphaned:
	 * exit, which frees the lock for a standby (systemd restarts us). */
	if (ctrl_agent_start(C.base, C.db, C.conf) == -1)
		fatalx("cannot listen for agents on %s port %u",
		    C.conf->agent_addr, (unsigned)C.conf->agent_port);
}

static void
on_signal(evutil_socket_t sig, short what, void *arg)
{
	(void)what;
	(void)arg;
	switch (sig) {
	case SIGHUP:
		log_info("SIGHUP: reloading is not supported yet; restart "
		    "xvds-controller to change its configuration");
		break;
	case SIGTERM:
	case SIGINT:
		log_info("stopping on %s", sig == SIGTERM ? "SIGTERM" : "SIGINT");
		event_base_loopexit(C.base, NULL);
		break;
	}
}

/*
 * The schema, before anything else; the database may still be starting
 * (the unit is ordered after postgresql, not after it is ready), so keep
 * trying, once a second.
 */
static void
schema_upgrade(void)
{
	PGconn	*conn;
	char	 err[512];
	int	 from, to, warned = 0;

	for (;;) {
		if ((conn = db_connect_sync(C.conf->database, err,
		    sizeof(err))) != NULL) {
			if (db_schema_upgrade(conn, &from, &to, err,
			    sizeof(err)) == 0) {
				PQfinish(conn);
				break;
			}
			/* A schema newer than this build, or foreign: no retry
			 * will help; a connection lost on the way, it may. */
			if (PQstatus(conn) == CONNECTION_OK)
				fatalx("database schema: %s", err);
			PQfinish(conn);
		}
		if (!warned++)
			log_warnx("%s; trying again every second", err);
		sleep(1);
	}
	if (from == to)
		log_info("database schema version %d: up to date", to);
	else
		log_info("database schema version %d: upgraded from %d", to, from);
}

int
main(int argc, char *argv[])
{
	struct event *sigs[3];
	const char *path = CTRL_CONF_PATH;
	char	 err[CTRL_CONF_ERR_MAX];
	int	 ch, foreground = 0, checkonly = 0, verbose = 0;
	size_t	 i;

	while ((ch = getopt(argc, argv, "df:nv")) != -1) {
		switch (ch) {
		case 'd':
			foreground = 1;
			break;
		case 'f':
			path = optarg;
			break;
		case 'n':
			checkonly = 1;
			break;
		case 'v':
			verbose++;
			break;
		default:
			usage();
		}
	}
	if (optind != argc)
		usage();

	log_procname("xvds-controller");
	log_init(foreground || checkonly, LOG_DAEMON);
	log_setverbose(verbose);

	if ((C.conf = ctrl_conf_load(path, err, sizeof(err))) == NULL)
		fatalx("%s", err);
	if (checkonly) {
		if (verbose && ctrl_conf_print(C.conf, stdout) == -1)
			fatal("stdout");
		fprintf(stderr, "configuration OK\n");
		ctrl_conf_free(C.conf);
		return 0;
	}
	if (!foreground && daemon(0, 0) == -1)
		fatal("daemon");
	signal(SIGPIPE, SIG_IGN);

	schema_upgrade();

	if ((C.base = event_base_new()) == NULL)
		fatalx("cannot make the event loop");
	sigs[0] = evsignal_new(C.base, SIGHUP, on_signal, NULL);
	sigs[1] = evsignal_new(C.base, SIGTERM, on_signal, NULL);
	sigs[2] = evsignal_new(C.base, SIGINT, on_signal, NULL);
	for (i = 0; i < 3; i++)
		if (sigs[i] == NULL || evsignal_add(sigs[i], NULL) == -1)
			fatalx("cannot handle signals");
	if ((C.leader = ctrl_leader_new(C.base, C.conf->database, on_leader,
	    NULL, err, sizeof(err))) == NULL)
		fatalx("database: %s", err);
	log_info("started, configuration %s; waiting for leadership", path);

	event_base_dispatch(C.base);

	ctrl_agent_stop("stopping");
	db_close(C.db);
	ctrl_leader_free(C.leader);	/* frees the lock at once */
	for (i = 0; i < 3; i++)
		event_free(sigs[i]);
	event_base_free(C.base);
	ctrl_conf_free(C.conf);
	log_info("stopped");
	return 0;
}

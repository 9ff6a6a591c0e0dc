/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * controller/main.c — xvds-controller, the XVDS controller daemon: it applies
 * the database schema, competes for leadership (controller/leader.c) and, while
 * it is the active controller, serves the hosts' agents (controller/agent.c)
 * and the thin clients' logins (controller/broker.c, controller/login.c), and
 * ends sessions and releases their desktops (controller/session.c).  Its admin
 * socket (controller/admin.c) is open all along, a standby refusing what it is
 * asked.  SIGHUP reloads the configuration (reload()).
 * See xvds-controller(8).
 */
#include <config.h>

#include <sys/resource.h>

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include "agent/tls.h"
#include "controller/admin.h"
#include "controller/agent.h"
#include "controller/balance.h"
#include "controller/broker.h"
#include "controller/cluster.h"
#include "controller/conf.h"
#include "controller/leader.h"
#include "controller/session.h"
#include "controller/pool.h"
#include "controller/sql.h"
#include "common/daemon.h"
#include "db/db.h"
#include "db/schema.h"
#include "common/log.h"
#include "common/wipe.h"

static struct {
	struct event_base *base;
	const char	*conf_path;
	struct ctrl_conf *conf;
	struct ctrl_leader *leader;
	struct db	*db;		/* the work connection, while active */
} controller_state;

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
	const char *p[2];
	char	 err[256], host[256], pid[16];

	(void)arg;
	if (!active) {
		/* Another controller may be active already: stop acting. */
		ctrl_admin_serve(NULL);
		ctrl_broker_stop(why);
		ctrl_session_stop();
		ctrl_pool_stop();
		ctrl_balance_stop();
		ctrl_agent_stop(why);
		ctrl_cluster_stop();
		db_close(controller_state.db);
		controller_state.db = NULL;
		return;
	}
	if ((controller_state.db = db_open(controller_state.base,
	    controller_state.conf->database, err, sizeof(err))) == NULL)
		fatalx("database: %s", err);
	db_set_backoff(controller_state.db, 250, 2000);
	if (gethostname(host, sizeof(host)) == -1)
		snprintf(host, sizeof(host), "unknown");
	host[sizeof(host) - 1] = '\0';
	snprintf(pid, sizeof(pid), "%ld", (long)getpid());
	p[0] = host;
	p[1] = pid;
	db_query(controller_state.db, 0, noted, NULL,
	    sql_main_controller_active, 2, p);
	ctrl_cluster_start(controller_state.db, &controller_state.conf->policy);
	/* Holding the lock without serving would leave the hosts orphaned:
	 * exit, which frees the lock for a standby (systemd restarts us). */
	if (ctrl_agent_start(controller_state.base, controller_state.db,
	    controller_state.conf) == -1)
		fatalx("cannot listen for agents on %s port %u",
		    controller_state.conf->agent_addr,
		    (unsigned)controller_state.conf->agent_port);
	if (ctrl_broker_start(controller_state.base, controller_state.db,
	    controller_state.conf) == -1)
		fatalx("cannot listen for logins on %s port %u",
		    controller_state.conf->broker_addr,
		    (unsigned)controller_state.conf->broker_port);
	if (ctrl_session_start(controller_state.base, controller_state.db,
	    controller_state.conf) == -1)
		fatalx("cannot start the sessions' sweep");
	ctrl_admin_serve(controller_state.db);
	if (ctrl_pool_start(controller_state.base, controller_state.db,
	    controller_state.conf) == -1)
		fatalx("cannot start the pools' upkeep");
	if (ctrl_balance_start(controller_state.base, controller_state.db,
	    controller_state.conf) == -1)
		fatalx("cannot start balancing");
}

/* Descriptors beside the connections: the database's, the log's, libevent's. */
#define CTRL_FDS_SPARE	64

/*
 * The descriptors the connection caps need (xvds-broker(7), CONNECTION
 * LIMITS): a soft RLIMIT_NOFILE below them (1,024 is the usual default)
 * would run out at the first flood, long before the caps bite.  Raised up
 * to the hard limit; if that is lower, said, and the listeners pause
 * when they run out (linesrv/conn_limit.h).
 */
static void
fd_limit(const struct ctrl_conf *conf)
{
	struct rlimit rl;
	rlim_t	 need = (rlim_t)conf->broker_conns_max + AGENT_CONNS_MAX +
	    CTRL_ADMIN_CONNS_MAX + CTRL_FDS_SPARE;

	if (getrlimit(RLIMIT_NOFILE, &rl) == -1) {
		log_warn("getrlimit");
		return;
	}
	if (rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur < need) {
		rl.rlim_cur = rl.rlim_max == RLIM_INFINITY || rl.rlim_max >
		    need ? need : rl.rlim_max;
		if (setrlimit(RLIMIT_NOFILE, &rl) == -1)
			log_warn("setrlimit RLIMIT_NOFILE %llu",
			    (unsigned long long)rl.rlim_cur);
		else
			log_info("open files limit raised to %llu",
			    (unsigned long long)rl.rlim_cur);
	}
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY &&
	    rl.rlim_cur < need)
		log_warnx("only %llu open files allowed, %llu needed by the "
		    "connection limits (broker-connections max %u, %d agents, "
		    "%d admin clients): a flood will run out of them first; "
		    "raise LimitNOFILE", (unsigned long long)rl.rlim_cur,
		    (unsigned long long)need, conf->broker_conns_max,
		    AGENT_CONNS_MAX, CTRL_ADMIN_CONNS_MAX);
}

/*
 * SIGHUP: controller.conf again.  A file with an error changes nothing.
 * What a running controller cannot change (ctrl_conf_keep_fixed) keeps
 * its running value, and the log says a restart is needed for it; the
 * rest takes effect in every service, running or not (those that start
 * later read controller_state.conf).
 */
static void
reload(void *arg)
{
	struct ctrl_conf *conf, *old = controller_state.conf;
	char	 err[CTRL_CONF_ERR_MAX], fixed[256];
	int	 n;

	(void)arg;
	if ((conf = ctrl_conf_load(controller_state.conf_path, err,
	    sizeof(err))) == NULL) {
		log_warnx("reload refused, the running configuration is kept: "
		    "%s", err);
		return;
	}
	if ((n = ctrl_conf_keep_fixed(conf, old, fixed, sizeof(fixed))) == -1) {
		log_warnx("reload refused: out of memory");
		ctrl_conf_free(conf);
		return;
	}
	if (n > 0)
		log_warnx("reload: %s changed: kept as running until a restart "
		    "of xvds-controller", fixed);
	controller_state.conf = conf;
	fd_limit(conf);
	ctrl_admin_reconf(conf);
	ctrl_cluster_reconf(&conf->policy);
	ctrl_agent_reconf(conf);
	ctrl_broker_reconf(conf);
	ctrl_session_reconf(conf);
	ctrl_pool_reconf(conf);
	ctrl_balance_reconf(conf);
	ctrl_conf_free(old);
	log_info("reloaded %s: policy %s threshold %g, sample-interval %u, "
	    "op-timeout %u, host-timeout %u, session-lease %u, "
	    "session-grace %u, upkeep interval %u", controller_state.conf_path,
	    conf->policy_name, conf->policy.threshold, conf->sample_interval,
	    conf->op_timeout, conf->host_timeout, conf->session_lease,
	    conf->session_grace, conf->upkeep_interval);
}

static void
on_stop(const char *signame, void *arg)
{
	(void)signame;
	(void)arg;
	event_base_loopexit(controller_state.base, NULL);
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
		if ((conn = db_connect_sync(controller_state.conf->database,
		    err,
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
	static const struct daemon_signal_cbs sigcbs = { reload, on_stop };
	struct event *sigs[3];
	struct daemon_opts o;
	static char conf_path[PATH_MAX];
	char	 err[CTRL_CONF_ERR_MAX];

	/* Before libevent or jansson allocates: secrets pass through both. */
	wipe_init();
	daemon_options(argc, argv, "xvds-controller", CTRL_CONF_PATH, &o);
	/* daemon() goes to /: a reload must find the same file. */
	controller_state.conf_path = realpath(o.conf_path,
	    conf_path) != NULL ? conf_path :
	    o.conf_path;
	if ((controller_state.conf = ctrl_conf_load(o.conf_path, err,
	    sizeof(err))) == NULL)
		fatalx("%s", err);
	if (o.checkonly) {
		if (o.verbose && ctrl_conf_print(controller_state.conf,
		    stdout) == -1)
			fatal("stdout");
		fprintf(stderr, "configuration OK\n");
		ctrl_conf_free(controller_state.conf);
		return 0;
	}
	if (!o.foreground && daemon(0, 0) == -1)
		fatal("daemon");
	fd_limit(controller_state.conf);

	schema_upgrade();

	if ((controller_state.base = event_base_new()) == NULL)
		fatalx("cannot make the event loop");
	daemon_signals(controller_state.base, &sigcbs, NULL, sigs);
	if (ctrl_admin_start(controller_state.base,
	    controller_state.conf) == -1)
		fatalx("cannot listen for admin requests on %s",
		    controller_state.conf->admin_socket);
	if ((controller_state.leader = ctrl_leader_new(controller_state.base,
	    controller_state.conf->database, on_leader,
	    NULL, err, sizeof(err))) == NULL)
		fatalx("database: %s", err);
	log_info("started, configuration %s; waiting for leadership",
	    o.conf_path);

	event_base_dispatch(controller_state.base);

	ctrl_admin_stop();
	ctrl_broker_stop("stopping");
	ctrl_session_stop();
	ctrl_pool_stop();
	ctrl_balance_stop();
	ctrl_agent_stop("stopping");
	ctrl_cluster_stop();
	db_close(controller_state.db);
	/* Frees the lock at once. */
	ctrl_leader_free(controller_state.leader);
	daemon_signals_free(sigs);
	event_base_free(controller_state.base);
	ctrl_conf_free(controller_state.conf);
	log_info("stopped");
	return 0;
}

/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * cli/db.c — xvdsctl's database commands: `db upgrade` brings the
 * controller's database to this build's schema (xvds-schema(7)).  It talks
 * to PostgreSQL directly, not to a daemon.
 */
#include <config.h>

#include <stdio.h>
#include <unistd.h>

#include <libpq-fe.h>

#include "cli/db.h"
#include "db/schema.h"
#include "common/log.h"

/* xvdsctl(8)'s exit statuses (cli/xvdsctl.h's enum ctl_exit). */
#define EXIT_OK		0
#define EXIT_FAILED	1
#define EXIT_USAGE	2
#define EXIT_UNREACHABLE 3

static int
upgrade_usage(void)
{
	fprintf(stderr, "usage: xvdsctl db upgrade [-n] [-d CONNINFO]\n");
	return EXIT_USAGE;
}

int
ctl_db_upgrade(int argc, char **argv)
{
	PGconn	*conn;
	const char *conninfo = "";
	char	 err[512];
	int	 ch, dry = 0, from, to, rc = EXIT_OK;

	optind = 1;
	while ((ch = getopt(argc, argv, "d:n")) != -1) {
		switch (ch) {
		case 'd':
			conninfo = optarg;
			break;
		case 'n':
			dry = 1;
			break;
		default:
			return upgrade_usage();
		}
	}
	if (optind != argc)
		return upgrade_usage();

	if ((conn = db_connect_sync(conninfo, err, sizeof(err))) == NULL) {
		log_warnx("db upgrade: %s", err);
		return EXIT_UNREACHABLE;
	}
	if (dry) {
		if (db_schema_version(conn, &from, err, sizeof(err)) == -1) {
			log_warnx("db upgrade: %s", err);
			rc = EXIT_FAILED;
		} else
			printf("schema version %d, this build's newest %d%s\n",
			    from, db_schema_newest(), from < db_schema_newest() ?
			    ": an upgrade is due" : from > db_schema_newest() ?
			    ": newer than this build" : "");
	} else if (db_schema_upgrade(conn, &from, &to, err,
	    sizeof(err)) == -1) {
		log_warnx("db upgrade: %s", err);
		rc = EXIT_FAILED;
	} else if (from == to)
		printf("schema version %d: up to date\n", to);
	else
		printf("schema version %d: upgraded from %d\n", to, from);
	PQfinish(conn);
	return rc;
}

int
ctl_db_upgrade_cmd(struct ctl *ctl, const struct ctl_cmd *cmd, int argc,
    char *argv[])
{
	(void)ctl;
	(void)cmd;
	return ctl_db_upgrade(argc, argv);
}

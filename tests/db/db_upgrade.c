/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * db_upgrade.c — for tests: `xvdsctl db upgrade` alone (ctl_db.c), until
 * xvdsctl's command table carries it.  Usage as xvdsctl db upgrade's.
 */
#include <config.h>

#include <syslog.h>

#include "ctl_db.h"
#include "log.h"

int
main(int argc, char *argv[])
{
	log_procname("xvdsctl");
	log_init(1, LOG_USER);
	argv[0] = "upgrade";
	return ctl_db_upgrade(argc, argv);
}

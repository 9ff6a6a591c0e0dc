/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * cli/db.h — xvdsctl's database commands (cli/db.c).
 */
#ifndef XVDS_CLI_DB_H
#define XVDS_CLI_DB_H

struct ctl;
struct ctl_cmd;

/* xvdsctl db upgrade [-n] [-d CONNINFO]: argv[0] is "upgrade". */
int	ctl_db_upgrade(int argc, char **argv);
/* The same, as a row of xvdsctl's command table calls it. */
int	ctl_db_upgrade_cmd(struct ctl *, const struct ctl_cmd *, int, char *[]);

#endif

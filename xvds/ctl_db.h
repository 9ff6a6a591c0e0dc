/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * ctl_db.h — xvdsctl's database commands (ctl_db.c).
 */
#ifndef XVDS_CTL_DB_H
#define XVDS_CTL_DB_H

struct ctl;
struct ctl_cmd;

/* xvdsctl db upgrade [-n] [-d CONNINFO]: argv[0] is "upgrade". */
int	ctl_db_upgrade(int argc, char **argv);
/* The same, as a row of xvdsctl's command table calls it. */
int	ctl_db_upgrade_cmd(struct ctl *, const struct ctl_cmd *, int, char *[]);

#endif

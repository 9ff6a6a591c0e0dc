/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * greeter/config.h — xvds-greeter's configuration, /etc/xvds/greeter.conf
 * (xvds-greeter(1), FILES): the broker, the desktops a user may choose
 * and how xvds-client is run.
 */
#ifndef XVDS_GREETER_CONFIG_H
#define XVDS_GREETER_CONFIG_H

#include <glib.h>

#define GREETER_CONF_PATH	"/etc/xvds/greeter.conf"

/* A desktop the user may choose: its label, kind and pool. */
struct greeter_desktop {
	char	*label;
	char	*kind;		/* "cvm" or "pvm" */
	char	*pool;		/* NULL: any pool the user may use */
};

struct greeter_config {
	char		*server;
	unsigned	 port;		/* 0: xvds-client's default */
	char		*ca_file;	/* NULL: the system's CAs */
	char		*client;	/* the path of xvds-client */
	GPtrArray	*viewer_args;	/* char *, passed as written */
	GPtrArray	*desktops;	/* struct greeter_desktop * */
};

/* The configuration in path, or NULL with a message naming the line. */
struct greeter_config *greeter_config_load(const char *path, GError **);
void	greeter_config_free(struct greeter_config *);

#endif

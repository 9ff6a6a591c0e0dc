/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * greeter/child.h — one login: xvds-client run as a child, the password
 * written to its standard input, its status lines read from fd 3
 * (xvds-client(1), STATUS LINES).
 */
#ifndef XVDS_GREETER_CHILD_H
#define XVDS_GREETER_CHILD_H

#include <gtk/gtk.h>

#include "config.h"
#include "status.h"

struct greeter_child_hooks {
	/* Each status line but the last. */
	void	(*status)(const struct greeter_status *, void *);
	/* Once both the status pipe and the child are done: the last line
	 * (NULL if none came) and the child's wait status. */
	void	(*done)(const struct greeter_status *, int wait_status, void *);
	void	*arg;
};

/* Starts xvds-client for user on desktop (NULL: none chosen).  The
 * password is written from GTK's own buffer, which is then emptied
 * (xvds-greeter(1), SECURITY CONSIDERATIONS).  False with a message if it
 * could not start; the buffer is emptied in any case. */
gboolean greeter_child_start(const struct greeter_config *,
	    const char *user, const struct greeter_desktop *,
	    GtkEntryBuffer *password, const struct greeter_child_hooks *,
	    GError **);
/* Asks a running child to end its session (SIGTERM). */
void	greeter_child_stop(void);

#endif

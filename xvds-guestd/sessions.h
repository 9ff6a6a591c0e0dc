/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * sessions.h — whether a desktop session is on in this guest: an
 * established TCP connection to the RDP server's port, whatever the
 * server (xrdp, freerdp-shadow, gnome-remote-desktop).
 */
#ifndef XVDS_GUESTD_SESSIONS_H
#define XVDS_GUESTD_SESSIONS_H

#include <stddef.h>

#define SESSIONS_PORT_DEFAULT	3389

/*
 * Counts the established connections to local port in the text of a
 * /proc/net/tcp or /proc/net/tcp6 table; -1 if the text is not such a
 * table.
 */
int	sessions_count_text(const char *text, size_t len, unsigned port);
/* The same over both tables of this guest; -1 if neither can be read. */
int	sessions_count(unsigned port);

#endif

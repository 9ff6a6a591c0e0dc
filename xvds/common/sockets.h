/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * common/sockets.h — where the local sockets are and which protocol
 * version they speak: xvdsd's control socket (xvds-control(7)) and the
 * controller's admin socket (xvds-admin(7)).  Below every program, so
 * that xvdsctl(8) knows them without including a daemon's headers.
 */
#ifndef XVDS_COMMON_SOCKETS_H
#define XVDS_COMMON_SOCKETS_H

#define SOCKETS_CONTROL_PATH	"/run/xvds/xvdsd.sock"
#define SOCKETS_CONTROL_VERSION	1	/* xvds-control(7)'s "v" */
#define SOCKETS_ADMIN_PATH	"/run/xvds/controller.sock"
#define SOCKETS_ADMIN_VERSION	1	/* xvds-admin(7)'s "v" */

#endif

/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * apply.h — how xvds-guestd applies a one-time RDP credential: a command
 * (-c, by default the apply-credential script installed with it) that
 * reads "user:password\n" on its standard input, chpasswd(8)'s format,
 * and exits 0 once the account takes it.
 */
#ifndef XVDS_GUESTD_APPLY_H
#define XVDS_GUESTD_APPLY_H

#define APPLY_TIMEOUT	20	/* seconds; dom0 waits 30 by default */

/*
 * Runs cmd (a path, no shell, no arguments) with the credential on its
 * stdin, and waits at most timeout_s seconds before killing it.  0 if it
 * exited 0; -1 otherwise (logged, never with the password).  The caller
 * ignores SIGPIPE: a command may exit without reading.
 */
int	apply_credential(const char *cmd, const char *user, const char *password,
	    unsigned timeout_s);

#endif

/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * publish.h — xvds-guestd's side of xenstore: connect, write the records,
 * notice when they vanish (a restored domain starts with an empty data/).
 */
#ifndef XVDS_GUESTD_PUBLISH_H
#define XVDS_GUESTD_PUBLISH_H

#include <stdbool.h>
#include <stddef.h>

struct xs_handle;

/* NULL, with errno set, if xenstore cannot be reached (yet). */
struct xs_handle *publish_connect(void);
void	publish_close(struct xs_handle *);
/*
 * Writes the records in one transaction, boot-complete last; session may
 * be NULL (not watched).  0 or -1.
 */
int	publish_records(struct xs_handle *, const char *boot, const char *addrs,
	    const char *session);
/* Writes one record: the addrs or the session; 0 or -1. */
int	publish_addrs(struct xs_handle *, const char *addrs);
int	publish_session(struct xs_handle *, const char *session);
/* The fd to poll for watch events. */
int	publish_fd(struct xs_handle *);
/*
 * Consumes pending watch events.  Returns 1 if a record is missing and
 * must be written again, 0 if not, -1 if the connection failed; *cred_r
 * says whether dom0's credential key (xvds/credential) changed.
 */
int	publish_check(struct xs_handle *, bool *cred_r);
/*
 * Reads dom0's credential record into buf (NUL-terminated): its length,
 * 0 if there is none, -2 if it does not fit, -1 if xenstore failed.
 * Wipe buf after use.
 */
int	publish_read_secret(struct xs_handle *, char *buf, size_t len);
/* Writes the acknowledgement (data/xvds/credential); 0 or -1. */
int	publish_credential(struct xs_handle *, const char *ack);

#endif

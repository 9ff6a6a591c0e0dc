/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * common/reportstate.h — what dom0 believes of one guest's reports, and the
 * rules that change it.  Pure: fed the raw values of the guest's two keys, it
 * decides what to accept or refuse and says so through a callback, so that
 * the rules are tested without xenstore (hv/reportwatch.c does the I/O).
 */
#ifndef XVDS_COMMON_REPORTSTATE_H
#define XVDS_COMMON_REPORTSTATE_H

#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include "common/report.h"

enum report_event {
	REPORT_EV_BOOT,		/* a new valid boot-complete record */
	REPORT_EV_ADDRS,	/* a new valid addrs record (boot is valid too) */
	REPORT_EV_SESSION,	/* a new valid session record (boot is valid too) */
	REPORT_EV_CREDENTIAL,	/* a new valid credential acknowledgement (idem) */
	REPORT_EV_REJECTED,	/* a record was refused; reason says why */
	REPORT_EV_GONE,		/* a record that was valid has been removed */
};

/* The accepted view of a domain's reports. */
struct report_domain {
	uint32_t	 domid;
	bool		 have_boot;
	bool		 have_addrs;
	bool		 have_session;
	bool		 have_credential;
	struct report_boot boot;
	struct report_addrs addrs;
	struct report_session session;
	struct report_credential credential;
};

/*
 * key is REPORT_KEY_BOOT, _ADDRS, _SESSION or _CREDENTIAL; reason is NULL unless the
 * event is REPORT_EV_REJECTED.
 */
typedef void (*report_cb)(void *arg, enum report_event, const char *key,
    const struct report_domain *, const char *reason);

#define REPORTSTATE_REJECT_WINDOW 60	/* seconds */
#define REPORTSTATE_REJECT_BURST 5	/* rejections passed on per window */

/* The last raw value seen at a key, to tell a real change from a repeat. */
struct report_raw {
	bool		 known;		/* read at least once */
	char		*val;		/* NULL: absent */
	unsigned	 len;
};

struct reportstate {
	struct report_domain dom;
	time_t		 not_before;
	char		 old_boot_id[REPORT_BOOT_ID_LEN + 1];	/* "" if none */
	unsigned	 max_skew;
	struct report_raw raw_boot;
	struct report_raw raw_addrs;
	struct report_raw raw_session;
	struct report_raw raw_credential;
	time_t		 reject_window;
	unsigned	 reject_count;
	unsigned	 suppressed;
	report_cb	 cb;
	void		*arg;
};

/*
 * not_before: when the domain started (0 if not known); old_boot_id, if
 * not NULL, a previous boot's identifier that a new record must not carry;
 * max_skew: seconds the guest's clock may run ahead of dom0's.
 */
void	reportstate_init(struct reportstate *, uint32_t domid, time_t not_before,
	    const char *old_boot_id, unsigned max_skew, report_cb, void *arg);
void	reportstate_free(struct reportstate *);
/* The raw values of a domain's keys as read (val NULL: absent). */
struct report_values {
	const char	*boot;
	unsigned	 boot_len;
	const char	*addrs;
	unsigned	 addrs_len;
	const char	*session;
	unsigned	 session_len;
	const char	*credential;
	unsigned	 credential_len;
};

/*
 * Feeds the current values of the keys, as read at time now.  Returns -1
 * only if memory ran out.
 */
int	reportstate_update(struct reportstate *, const struct report_values *,
	    time_t now);

#endif

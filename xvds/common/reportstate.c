/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * common/reportstate.c — the rules by which dom0 accepts a guest's reports.
 * A guest's xenstore area is hostile input: a record is accepted only if
 * it parses, is not stale, and (for addrs) belongs to the boot that the
 * accepted boot-complete record names.  A refused record leaves the last
 * accepted one in force.  Refusals reach the callback at a bounded rate,
 * so that a guest cannot flood dom0's log.
 */
#include <config.h>

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/reportstate.h"

void
reportstate_init(struct reportstate *rs, uint32_t domid, time_t not_before,
    const char *old_boot_id, unsigned max_skew, report_cb cb, void *arg)
{
	memset(rs, 0, sizeof(*rs));
	rs->dom.domid = domid;
	rs->not_before = not_before;
	if (old_boot_id != NULL)
		snprintf(rs->old_boot_id, sizeof(rs->old_boot_id), "%s", old_boot_id);
	rs->max_skew = max_skew;
	rs->cb = cb;
	rs->arg = arg;
}

static void
raw_clear(struct report_raw *r)
{
	free(r->val);
	memset(r, 0, sizeof(*r));
}

void
reportstate_free(struct reportstate *rs)
{
	raw_clear(&rs->raw_boot);
	raw_clear(&rs->raw_addrs);
	raw_clear(&rs->raw_session);
	raw_clear(&rs->raw_credential);
}

/* Stores val in r; 1 if it differs from what r held, 0 if not, -1 on ENOMEM. */
static int
raw_set(struct report_raw *r, const char *val, unsigned len)
{
	char	*copy = NULL;

	if (r->known && ((val == NULL && r->val == NULL) ||
	    (val != NULL && r->val != NULL && len == r->len &&
	    memcmp(val, r->val, len) == 0)))
		return 0;
	if (val != NULL) {
		if ((copy = malloc(len ? len : 1)) == NULL)
			return -1;
		memcpy(copy, val, len);
	}
	free(r->val);
	r->known = true;
	r->val = copy;
	r->len = val != NULL ? len : 0;
	return 1;
}

static void
reject(struct reportstate *rs, const char *key, const char *reason, time_t now)
{
	char	 msg[REPORT_ERR_MAX + 64];

	if (now - rs->reject_window >= REPORTSTATE_REJECT_WINDOW) {
		rs->reject_window = now;
		rs->reject_count = 0;
	}
	if (rs->reject_count++ >= REPORTSTATE_REJECT_BURST) {
		rs->suppressed++;
		return;
	}
	if (rs->suppressed > 0) {
		snprintf(msg, sizeof(msg), "%s (%u earlier rejections of this "
		    "domain not shown)", reason, rs->suppressed);
		rs->suppressed = 0;
		reason = msg;
	}
	rs->cb(rs->arg, REPORT_EV_REJECTED, key, &rs->dom, reason);
}

/* Returns true if a new valid boot record was accepted. */
static bool
update_boot(struct reportstate *rs, time_t now)
{
	struct report_boot b;
	char	 err[REPORT_ERR_MAX];

	if (rs->raw_boot.val == NULL) {
		if (rs->dom.have_boot) {
			rs->dom.have_boot = false;
			rs->cb(rs->arg, REPORT_EV_GONE, REPORT_KEY_BOOT, &rs->dom, NULL);
		}
		return false;
	}
	if (report_boot_parse(rs->raw_boot.val, rs->raw_boot.len, &b, err,
	    sizeof(err)) == -1 ||
	    report_boot_check(&b, now, rs->not_before, rs->max_skew,
	    rs->old_boot_id[0] != '\0' ? rs->old_boot_id : NULL, err,
	    sizeof(err)) == -1) {
		reject(rs, REPORT_KEY_BOOT, err, now);
		return false;
	}
	/* A new boot: the old boot's addresses and session no longer count. */
	if (rs->dom.have_boot && strcmp(b.boot_id, rs->dom.boot.boot_id) != 0) {
		rs->dom.have_addrs = false;
		rs->dom.have_session = false;
	}
	rs->dom.boot = b;
	rs->dom.have_boot = true;
	rs->cb(rs->arg, REPORT_EV_BOOT, REPORT_KEY_BOOT, &rs->dom, NULL);
	return true;
}

static void
update_addrs(struct reportstate *rs, bool boot_changed, time_t now)
{
	struct report_addrs a;
	char	 err[REPORT_ERR_MAX];

	if (rs->raw_addrs.val == NULL) {
		if (rs->dom.have_addrs) {
			rs->dom.have_addrs = false;
			rs->cb(rs->arg, REPORT_EV_GONE, REPORT_KEY_ADDRS, &rs->dom, NULL);
		}
		return;
	}
	if (report_addrs_parse(rs->raw_addrs.val, rs->raw_addrs.len, &a, err,
	    sizeof(err)) == -1) {
		reject(rs, REPORT_KEY_ADDRS, err, now);
		return;
	}
	if (!rs->dom.have_boot) {
		reject(rs, REPORT_KEY_ADDRS, "no valid boot-complete record to "
		    "go with it", now);
		return;
	}
	if (strcmp(a.boot_id, rs->dom.boot.boot_id) != 0) {
		reject(rs, REPORT_KEY_ADDRS, "boot id differs from the "
		    "boot-complete record's: stale record", now);
		return;
	}
	if (rs->dom.have_addrs && !boot_changed && a.seq < rs->dom.addrs.seq) {
		snprintf(err, sizeof(err), "seq went backwards (%" PRIu64
		    " after %" PRIu64 ")", a.seq, rs->dom.addrs.seq);
		reject(rs, REPORT_KEY_ADDRS, err, now);
		return;
	}
	rs->dom.addrs = a;
	rs->dom.have_addrs = true;
	rs->cb(rs->arg, REPORT_EV_ADDRS, REPORT_KEY_ADDRS, &rs->dom, NULL);
}

static void
update_session(struct reportstate *rs, bool boot_changed, time_t now)
{
	struct report_session ss;
	char	 err[REPORT_ERR_MAX];

	if (rs->raw_session.val == NULL) {
		if (rs->dom.have_session) {
			rs->dom.have_session = false;
			rs->cb(rs->arg, REPORT_EV_GONE, REPORT_KEY_SESSION, &rs->dom,
			    NULL);
		}
		return;
	}
	if (report_session_parse(rs->raw_session.val, rs->raw_session.len, &ss,
	    err, sizeof(err)) == -1) {
		reject(rs, REPORT_KEY_SESSION, err, now);
		return;
	}
	if (!rs->dom.have_boot) {
		reject(rs, REPORT_KEY_SESSION, "no valid boot-complete record to "
		    "go with it", now);
		return;
	}
	if (strcmp(ss.boot_id, rs->dom.boot.boot_id) != 0) {
		reject(rs, REPORT_KEY_SESSION, "boot id differs from the "
		    "boot-complete record's: stale record", now);
		return;
	}
	if (rs->dom.have_session && !boot_changed && ss.seq < rs->dom.session.seq) {
		snprintf(err, sizeof(err), "seq went backwards (%" PRIu64
		    " after %" PRIu64 ")", ss.seq, rs->dom.session.seq);
		reject(rs, REPORT_KEY_SESSION, err, now);
		return;
	}
	rs->dom.session = ss;
	rs->dom.have_session = true;
	rs->cb(rs->arg, REPORT_EV_SESSION, REPORT_KEY_SESSION, &rs->dom, NULL);
}

/*
 * An acknowledgement counts only for the boot dom0 accepted; which
 * delivery it answers (seq) is the VM's business, not a rule here.
 * Looked at only when its bytes change: one answer, one event.
 */
static void
update_credential(struct reportstate *rs, time_t now)
{
	struct report_credential c;
	char	 err[REPORT_ERR_MAX];

	if (rs->raw_credential.val == NULL) {
		if (rs->dom.have_credential) {
			rs->dom.have_credential = false;
			rs->cb(rs->arg, REPORT_EV_GONE, REPORT_KEY_CREDENTIAL,
			    &rs->dom, NULL);
		}
		return;
	}
	if (report_credential_parse(rs->raw_credential.val,
	    rs->raw_credential.len, &c, err, sizeof(err)) == -1) {
		reject(rs, REPORT_KEY_CREDENTIAL, err, now);
		return;
	}
	if (!rs->dom.have_boot) {
		reject(rs, REPORT_KEY_CREDENTIAL, "no valid boot-complete record "
		    "to go with it", now);
		return;
	}
	if (strcmp(c.boot_id, rs->dom.boot.boot_id) != 0) {
		reject(rs, REPORT_KEY_CREDENTIAL, "boot id differs from the "
		    "boot-complete record's: stale record", now);
		return;
	}
	rs->dom.credential = c;
	rs->dom.have_credential = true;
	rs->cb(rs->arg, REPORT_EV_CREDENTIAL, REPORT_KEY_CREDENTIAL, &rs->dom,
	    NULL);
}

int
reportstate_update(struct reportstate *rs, const struct report_values *v,
    time_t now)
{
	int	 boot_new, addrs_new, session_new, credential_new;
	bool	 boot_changed = false;

	if ((boot_new = raw_set(&rs->raw_boot, v->boot, v->boot_len)) == -1 ||
	    (addrs_new = raw_set(&rs->raw_addrs, v->addrs, v->addrs_len)) == -1 ||
	    (session_new = raw_set(&rs->raw_session, v->session,
	    v->session_len)) == -1 ||
	    (credential_new = raw_set(&rs->raw_credential, v->credential,
	    v->credential_len)) == -1)
		return -1;
	if (boot_new)
		boot_changed = update_boot(rs, now);
	/* A new boot may make the same bytes valid, or stale. */
	if (addrs_new || boot_changed)
		update_addrs(rs, boot_changed, now);
	if (session_new || boot_changed)
		update_session(rs, boot_changed, now);
	if (boot_changed)
		rs->dom.have_credential = false;
	if (credential_new)
		update_credential(rs, now);
	return 0;
}

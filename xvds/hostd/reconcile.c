/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * hostd/reconcile.c — resuming after a restart (see hostd/reconcile.h).
 */
#include <config.h>

#include "hostd/reconcile.h"

enum vm_state
reconcile_state(enum vm_kind kind, enum vm_state recorded,
    const struct reconcile_seen *s, bool *reap_r, bool *resume_r)
{
	*reap_r = false;
	*resume_r = false;
	if (!s->has_domain) {
		/* No domain: saved if the image is whole, else nothing runs. */
		switch (recorded) {
		case VM_S_SAVING:
		case VM_S_SAVED:
		case VM_S_RESTORING:
			return s->has_image ? VM_S_SAVED : VM_S_INACTIVE;
		case VM_S_FAILED:
			return VM_S_FAILED;
		default:
			return VM_S_INACTIVE;
		}
	}

	/*
	 * A save cut short (or a clean image's, which never counts as a saved
	 * image): the guest was suspended.  If its image was
	 * made whole (written, synced, renamed) only the destroy was
	 * missing: the save stands.  Otherwise the guest goes on.
	 */
	if (s->dom_state == HV_DOM_SHUTDOWN && s->suspended &&
	    (recorded == VM_S_SAVING || recorded == VM_S_SNAPSHOTTING)) {
		if (s->has_image) {
			*reap_r = true;
			return VM_S_SAVED;
		}
		*resume_r = true;
		return VM_S_READY;	/* the save had unpaused it */
	}
	switch (s->dom_state) {
	case HV_DOM_SHUTDOWN:
	case HV_DOM_DYING:
		/* It stopped while we were away: reap it. */
		*reap_r = true;
		return VM_S_INACTIVE;
	case HV_DOM_PAUSED:
		/* A failed VM's domain stays for the operator to look at. */
		if (recorded == VM_S_FAILED)
			return VM_S_FAILED;
		if (kind == VM_CVM && recorded != VM_S_STARTING &&
		    recorded != VM_S_RESETTING)
			return VM_S_PAUSED;
		/* A paused PVM, or a half-made domain: not worth keeping. */
		*reap_r = true;
		return VM_S_INACTIVE;
	default:
		break;
	}

	/* Running. */
	switch (recorded) {
	case VM_S_RUNNING:
	case VM_S_MIGRATING:	/* the migration did not finish: it is here */
		return VM_S_RUNNING;
	case VM_S_STARTING:
	case VM_S_RESETTING:
		/* The boot report comes again when the watch is set. */
		return VM_S_STARTING;
	case VM_S_STOPPING:
		/* Asked to stop: stop it for good. */
		*reap_r = true;
		return VM_S_INACTIVE;
	case VM_S_FAILED:
		return VM_S_FAILED;
	default:
		/* Ready, or any move away from or back to it. */
		return VM_S_READY;
	}
}

void
reconcile_migration(enum reconcile_mig phase, enum vm_state prev,
    const struct reconcile_seen *s, struct reconcile_mig_plan *p)
{
	bool	 alive = s->has_domain && (s->suspended ||
	    (s->dom_state != HV_DOM_SHUTDOWN && s->dom_state != HV_DOM_DYING));

	p->state = VM_S_INACTIVE;
	p->resume = p->unpause = p->reap = p->ask_peer = p->forget = false;
	switch (phase) {
	case RECONCILE_MIG_SENDING:
		/* The receiver drops its copy when the connection goes. */
		if (!alive) {
			p->reap = s->has_domain;
			return;
		}
		p->state = prev;
		p->resume = s->suspended;
		p->unpause = s->dom_state == HV_DOM_PAUSED;
		return;
	case RECONCILE_MIG_COMMITTING:
		if (!s->has_domain) {
			/* Destroyed once the receiver had it; only the record was left. */
			p->forget = true;
			return;
		}
		p->state = VM_S_MIGRATING;
		p->ask_peer = true;
		return;
	case RECONCILE_MIG_INCOMING:
		/* The sender resumes its own copy when the connection goes. */
		p->reap = s->has_domain;
		p->forget = true;
		return;
	case RECONCILE_MIG_COMMITTED:
		if (!alive) {
			p->reap = s->has_domain;
			return;
		}
		p->state = prev;
		p->unpause = s->dom_state == HV_DOM_PAUSED;
		return;
	}
}

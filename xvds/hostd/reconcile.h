/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * hostd/reconcile.h — after a crash or a restart, what state a VM is in, from
 * what the daemon had recorded and what the hypervisor shows now.  Pure,
 * so that every case is checked by a table in the unit tests.
 */
#ifndef XVDS_HOSTD_RECONCILE_H
#define XVDS_HOSTD_RECONCILE_H

#include <stdbool.h>

#include "hv/hv.h"
#include "common/vm_fsm.h"

struct reconcile_seen {
	bool		 has_domain;	/* a domain carrying this VM's identity */
	enum hv_dom_state dom_state;	/* if has_domain */
	bool		 has_image;	/* a whole saved image on the store */
	bool		 suspended;	/* shut down by a save that never ended */
};

/*
 * The state to resume in.  A half-done transition is finished where the
 * hypervisor shows it finished, rolled back where it shows it did not
 * happen; a transient state is never resumed except starting (the boot
 * report is awaited again).  *reap_r is set when the domain that is
 * there must be destroyed: it shut down, or the VM resumes inactive.  A
 * failed VM keeps its domain for the operator to look at.  A domain that
 * a save suspended and left (the daemon died mid-save) sets *resume_r: it
 * is resumed, not reaped, and the VM goes on as before the save; unless
 * the image was already whole, and then the save stands.
 */
enum vm_state reconcile_state(enum vm_kind, enum vm_state recorded,
	    const struct reconcile_seen *, bool *reap_r, bool *resume_r);

/* Where a migration stood when the daemon stopped (its record says). */
enum reconcile_mig {
	RECONCILE_MIG_SENDING,		/* sender, before "go" */
	RECONCILE_MIG_COMMITTING,	/* sender, "go" maybe said */
	RECONCILE_MIG_INCOMING,		/* receiver, before "go" */
	RECONCILE_MIG_COMMITTED,	/* receiver, "go" made durable */
};

/* What to do about it. */
struct reconcile_mig_plan {
	enum vm_state	 state;
	bool		 resume;	/* the suspended copy here runs on */
	bool		 unpause;	/* the paused copy here runs on */
	bool		 reap;		/* destroy the copy here */
	bool		 ask_peer;	/* only the receiver knows: ask it */
	bool		 forget;	/* the VM is no longer this host's */
};

/*
 * The two-phase rule after a restart: before the commit point the
 * sender's copy is the one (the receiver drops its own), after it the
 * receiver's; a sender that cannot know asks.  prev is where the VM was
 * before the migration.
 */
void	reconcile_migration(enum reconcile_mig, enum vm_state prev,
	    const struct reconcile_seen *, struct reconcile_mig_plan *);

#endif

/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * test_reconcile.c — resuming after a restart (xvds/hostd/reconcile.c): every
 * recorded state against what the hypervisor may show.
 */
#include <config.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "hostd/reconcile.h"

/* What the hypervisor shows. */
enum seen {
	NONE,		/* no domain, no image */
	IMAGE,		/* no domain, a whole saved image */
	RUN,		/* a running domain */
	PAUSE,		/* a paused domain */
	DOWN,		/* a shut-down domain */
	SEEN__COUNT,
};

struct row {
	enum vm_state	 recorded;
	enum vm_state	 cvm[SEEN__COUNT];
	enum vm_state	 pvm[SEEN__COUNT];
};

#define I VM_S_INACTIVE
#define S VM_S_STARTING
#define R VM_S_READY
#define U VM_S_RUNNING
#define P VM_S_PAUSED
#define V VM_S_SAVED
#define F VM_S_FAILED

/*
 * recorded          CVM: none image run pause down   PVM: none image run pause down
 * (a "down" domain, and a paused one that is not kept, are reaped)
 */
static const struct row table[] = {
	{ VM_S_INACTIVE,  { I, I, R, P, I }, { I, I, R, I, I } },
	{ VM_S_STARTING,  { I, I, S, I, I }, { I, I, S, I, I } },
	{ VM_S_READY,     { I, I, R, P, I }, { I, I, R, I, I } },
	{ VM_S_RUNNING,   { I, I, U, P, I }, { I, I, U, I, I } },
	{ VM_S_PAUSING,   { I, I, R, P, I }, { I, I, R, I, I } },
	{ VM_S_PAUSED,    { I, I, R, P, I }, { I, I, R, I, I } },
	{ VM_S_UNPAUSING, { I, I, R, P, I }, { I, I, R, I, I } },
	{ VM_S_SAVING,    { I, V, R, P, I }, { I, V, R, I, I } },
	{ VM_S_SAVED,     { I, V, R, P, I }, { I, V, R, I, I } },
	{ VM_S_RESTORING, { I, V, R, P, I }, { I, V, R, I, I } },
	{ VM_S_RESETTING, { I, I, S, I, I }, { I, I, S, I, I } },
	{ VM_S_SNAPSHOTTING, { I, I, R, P, I }, { I, I, R, I, I } },
	{ VM_S_STOPPING,  { I, I, I, P, I }, { I, I, I, I, I } },
	{ VM_S_MIGRATING, { I, I, U, P, I }, { I, I, U, I, I } },
	/* Never without a migration phase in the record; were it so: */
	{ VM_S_INCOMING,  { I, I, R, P, I }, { I, I, R, I, I } },
	{ VM_S_FAILED,    { F, F, F, F, I }, { F, F, F, F, I } },
};

static void
seen_for(enum seen s, struct reconcile_seen *r)
{
	r->has_domain = s == RUN || s == PAUSE || s == DOWN;
	r->dom_state = s == PAUSE ? HV_DOM_PAUSED : s == DOWN ? HV_DOM_SHUTDOWN :
	    HV_DOM_RUNNING;
	r->has_image = s == IMAGE;
	r->suspended = false;
}

static void
test_every_case(void **state)
{
	size_t	 i;
	int	 k, s;

	(void)state;
	assert_int_equal(sizeof(table) / sizeof(table[0]), VM_S__COUNT);
	for (i = 0; i < sizeof(table) / sizeof(table[0]); i++)
	for (k = 0; k < 2; k++)
	for (s = 0; s < SEEN__COUNT; s++) {
		struct reconcile_seen seen;
		enum vm_state want = k == 0 ? table[i].cvm[s] : table[i].pvm[s];
		enum vm_state got;
		bool	 reap, want_reap, resume;

		seen_for((enum seen)s, &seen);
		got = reconcile_state((enum vm_kind)k, table[i].recorded, &seen, &reap,
		    &resume);
		assert_false(resume);	/* no domain here is a save's leftover */
		if (got != want)
			fail_msg("%s recorded %s, seen %d: %s, expected %s",
			    vm_kind_names[k], vm_state_names[table[i].recorded], s,
			    vm_state_names[got], vm_state_names[want]);
		/* A domain is reaped exactly when it is there and not kept. */
		want_reap = seen.has_domain && (s == DOWN || want == VM_S_INACTIVE);
		if (reap != want_reap)
			fail_msg("%s recorded %s, seen %d: reap %d, expected %d",
			    vm_kind_names[k], vm_state_names[table[i].recorded], s,
			    reap, want_reap);
	}
}

/* Only a domain that a save suspended, recorded as saving, is resumed. */
static void
test_save_cut_short(void **state)
{
	struct reconcile_seen seen = { true, HV_DOM_SHUTDOWN, false, true };
	bool	 reap, resume;
	int	 s;

	(void)state;
	assert_int_equal(reconcile_state(VM_CVM, VM_S_SAVING, &seen, &reap,
	    &resume), VM_S_READY);
	assert_true(resume);
	assert_false(reap);
	/* Cut short after the image was whole: the save stands. */
	seen.has_image = true;
	assert_int_equal(reconcile_state(VM_CVM, VM_S_SAVING, &seen, &reap,
	    &resume), VM_S_SAVED);
	assert_false(resume);
	assert_true(reap);
	seen.has_image = false;
	/* Recorded otherwise, a suspended domain is not ours to resume. */
	/* So is a clean image's save. */
	assert_int_equal(reconcile_state(VM_CVM, VM_S_SNAPSHOTTING, &seen, &reap,
	    &resume), VM_S_READY);
	assert_true(resume);
	for (s = 0; s < VM_S__COUNT; s++) {
		if (s == VM_S_SAVING || s == VM_S_SNAPSHOTTING)
			continue;
		reconcile_state(VM_CVM, (enum vm_state)s, &seen, &reap, &resume);
		assert_false(resume);
		assert_true(reap);
	}
}

/*
 * A migration cut short, for each phase against what the hypervisor
 * shows: the copy before the commit point is the sender's, after it the
 * receiver's, and a sender that said "go" asks.
 */
static void
test_migration(void **state)
{
	enum sh { GONE, RUNS, PAUSED, DOWN_, SUSP, SH__COUNT };
	static const struct {
		enum reconcile_mig phase;
		enum sh		 seen;
		enum vm_state	 state;
		const char	*flags;	/* r resume, u unpause, x reap, a ask, f forget */
	} rows[] = {
		{ RECONCILE_MIG_SENDING,    GONE,   I, "" },
		{ RECONCILE_MIG_SENDING,    RUNS,   U, "" },
		{ RECONCILE_MIG_SENDING,    PAUSED, U, "u" },
		{ RECONCILE_MIG_SENDING,    DOWN_,  I, "x" },
		{ RECONCILE_MIG_SENDING,    SUSP,   U, "r" },
		{ RECONCILE_MIG_COMMITTING, GONE,   I, "f" },
		{ RECONCILE_MIG_COMMITTING, RUNS,   VM_S_MIGRATING, "a" },
		{ RECONCILE_MIG_COMMITTING, PAUSED, VM_S_MIGRATING, "a" },
		{ RECONCILE_MIG_COMMITTING, DOWN_,  VM_S_MIGRATING, "a" },
		{ RECONCILE_MIG_COMMITTING, SUSP,   VM_S_MIGRATING, "a" },
		{ RECONCILE_MIG_INCOMING,   GONE,   I, "f" },
		{ RECONCILE_MIG_INCOMING,   RUNS,   I, "xf" },
		{ RECONCILE_MIG_INCOMING,   PAUSED, I, "xf" },
		{ RECONCILE_MIG_INCOMING,   DOWN_,  I, "xf" },
		{ RECONCILE_MIG_INCOMING,   SUSP,   I, "xf" },
		{ RECONCILE_MIG_COMMITTED,  GONE,   I, "" },
		{ RECONCILE_MIG_COMMITTED,  RUNS,   U, "" },
		{ RECONCILE_MIG_COMMITTED,  PAUSED, U, "u" },
		{ RECONCILE_MIG_COMMITTED,  DOWN_,  I, "x" },
		{ RECONCILE_MIG_COMMITTED,  SUSP,   U, "" },
	};
	size_t	 i;

	(void)state;
	assert_int_equal(sizeof(rows) / sizeof(rows[0]), 4 * SH__COUNT);
	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		struct reconcile_seen seen = { rows[i].seen != GONE,
		    rows[i].seen == PAUSED ? HV_DOM_PAUSED : rows[i].seen == DOWN_ ||
		    rows[i].seen == SUSP ? HV_DOM_SHUTDOWN : HV_DOM_RUNNING, false,
		    rows[i].seen == SUSP };
		struct reconcile_mig_plan p;
		char	 got[8];
		size_t	 n = 0;

		/* Before it left, the VM was running (a session was on). */
		reconcile_migration(rows[i].phase, VM_S_RUNNING, &seen, &p);
		if (p.resume)
			got[n++] = 'r';
		if (p.unpause)
			got[n++] = 'u';
		if (p.reap)
			got[n++] = 'x';
		if (p.ask_peer)
			got[n++] = 'a';
		if (p.forget)
			got[n++] = 'f';
		got[n] = '\0';
		if (p.state != rows[i].state || strcmp(got, rows[i].flags) != 0)
			fail_msg("row %zu: %s, \"%s\"; expected %s, \"%s\"", i,
			    vm_state_names[p.state], got,
			    vm_state_names[rows[i].state], rows[i].flags);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_every_case),
		cmocka_unit_test(test_save_cut_short),
		cmocka_unit_test(test_migration),
	};

	return cmocka_run_group_tests_name("reconcile", tests, NULL, NULL);
}

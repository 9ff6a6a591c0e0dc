/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * common/vm_fsm.c — the CVM and PVM state machines as tables (see
 * common/vm_fsm.h).
 *
 * Reading guide.  A pair (state, event) not in a table is refused: the
 * request gets an "illegal in this state" error and nothing changes.  A row
 * whose next state is its own state with no action is an event that is
 * expected there and deliberately ignored (a repeated boot record, say).
 * Failure has three shapes: FAILED (the action undid itself: back to the
 * state before it), LOST (the domain is gone or unknown: FAILED, cleaned
 * up) and TIMEOUT.  The death of a domain during an action that itself ends
 * the domain (save, reset, migrate) is the action's business, not an event.
 */
#include <config.h>

#include <stddef.h>
#include <string.h>

#include "common/vm_fsm.h"

const char *const vm_kind_names[] = {
	[VM_CVM] = "cvm",
	[VM_PVM] = "pvm",
};

const char *const vm_state_names[] = {
	[VM_S_INACTIVE] = "inactive",
	[VM_S_STARTING] = "starting",
	[VM_S_READY] = "ready",
	[VM_S_RUNNING] = "running",
	[VM_S_PAUSING] = "pausing",
	[VM_S_PAUSED] = "paused",
	[VM_S_UNPAUSING] = "unpausing",
	[VM_S_SAVING] = "saving",
	[VM_S_SAVED] = "saved",
	[VM_S_RESTORING] = "restoring",
	[VM_S_RESETTING] = "resetting",
	[VM_S_SNAPSHOTTING] = "snapshotting",
	[VM_S_STOPPING] = "stopping",
	[VM_S_MIGRATING] = "migrating",
	[VM_S_INCOMING] = "incoming",
	[VM_S_FAILED] = "failed",
	[VM_S_PREV] = "prev",
};

const char *const vm_event_names[] = {
	[VM_EV_START] = "start",
	[VM_EV_BOOTED] = "booted",
	[VM_EV_SESSION_START] = "session-start",
	[VM_EV_SESSION_END] = "session-end",
	[VM_EV_PAUSE] = "pause",
	[VM_EV_UNPAUSE] = "unpause",
	[VM_EV_SAVE] = "save",
	[VM_EV_RESTORE] = "restore",
	[VM_EV_RESET] = "reset",
	[VM_EV_SHUTDOWN] = "shutdown",
	[VM_EV_DESTROY] = "destroy",
	[VM_EV_MIGRATE] = "migrate",
	[VM_EV_DONE] = "done",
	[VM_EV_FAILED] = "failed",
	[VM_EV_LOST] = "lost",
	[VM_EV_TIMEOUT] = "timeout",
	[VM_EV_DIED] = "died",
	[VM_EV_SNAPSHOT] = "snapshot",
};

const char *const vm_action_names[] = {
	[VM_A_NONE] = "none",
	[VM_A_CREATE] = "create",
	[VM_A_PAUSE] = "pause",
	[VM_A_UNPAUSE] = "unpause",
	[VM_A_SAVE] = "save",
	[VM_A_RESTORE] = "restore",
	[VM_A_RESET] = "reset",
	[VM_A_SHUTDOWN] = "shutdown",
	[VM_A_DESTROY] = "destroy",
	[VM_A_DISCARD] = "discard",
	[VM_A_MIGRATE] = "migrate",
	[VM_A_SNAPSHOT] = "snapshot",
};

#define T(from, ev, act, to) \
	{ VM_S_##from, VM_EV_##ev, VM_A_##act, VM_S_##to }

/* Rows both machines share: booting, stopping, migrating, failure. */
#define COMMON_ROWS \
	T(INACTIVE,  START,         CREATE,   STARTING), \
	\
	T(STARTING,  DONE,          NONE,     STARTING),	/* domain made; guest boots */ \
	T(STARTING,  BOOTED,        NONE,     READY), \
	T(STARTING,  FAILED,        NONE,     FAILED),	/* create cleaned up after itself */ \
	T(STARTING,  LOST,          DESTROY,  FAILED), \
	T(STARTING,  TIMEOUT,       DESTROY,  FAILED),	/* the guest never reported */ \
	T(STARTING,  DIED,          DESTROY,  FAILED), \
	T(STARTING,  SHUTDOWN,      SHUTDOWN, STOPPING),	/* login given up while booting */ \
	T(STARTING,  DESTROY,       DESTROY,  INACTIVE), \
	\
	T(READY,     BOOTED,        NONE,     READY),	/* records written again */ \
	T(READY,     SESSION_START, NONE,     RUNNING), \
	T(READY,     SHUTDOWN,      SHUTDOWN, STOPPING), \
	T(READY,     DESTROY,       DESTROY,  INACTIVE), \
	T(READY,     MIGRATE,       MIGRATE,  MIGRATING), \
	T(READY,     DIED,          DESTROY,  INACTIVE),	/* reap what is left */ \
	\
	T(RUNNING,   BOOTED,        NONE,     RUNNING), \
	T(RUNNING,   SESSION_START, NONE,     RUNNING),	/* the user reconnected */ \
	T(RUNNING,   SHUTDOWN,      SHUTDOWN, STOPPING), \
	T(RUNNING,   DESTROY,       DESTROY,  INACTIVE), \
	T(RUNNING,   MIGRATE,       MIGRATE,  MIGRATING), \
	T(RUNNING,   DIED,          DESTROY,  INACTIVE), \
	\
	T(STOPPING,  DONE,          DESTROY,  INACTIVE),	/* reap the shut-down domain */ \
	T(STOPPING,  DIED,          DESTROY,  INACTIVE), \
	T(STOPPING,  FAILED,        DESTROY,  STOPPING),	/* no clean shutdown: force it */ \
	T(STOPPING,  TIMEOUT,       DESTROY,  STOPPING), \
	T(STOPPING,  LOST,          DESTROY,  INACTIVE), \
	T(STOPPING,  DESTROY,       DESTROY,  INACTIVE), \
	T(STOPPING,  SESSION_END,   NONE,     STOPPING), \
	T(STOPPING,  BOOTED,        NONE,     STOPPING), \
	\
	/* Exactly one copy survives: the migration protocol decides which. */ \
	T(MIGRATING, DONE,          NONE,     INACTIVE),	/* it lives on the other host */ \
	T(MIGRATING, FAILED,        NONE,     PREV),	/* it still lives here */ \
	T(MIGRATING, LOST,          DESTROY,  FAILED), \
	T(MIGRATING, DIED,          NONE,     MIGRATING), \
	T(MIGRATING, BOOTED,        NONE,     MIGRATING), \
	T(MIGRATING, SESSION_START, NONE,     MIGRATING), \
	T(MIGRATING, TIMEOUT,       NONE,     MIGRATING),	/* never destroy the only copy */ \
	/* Made here by the migration listener (hostd/migrate.c), \
	 * never by a request. */ \
	T(INCOMING,  DONE,          NONE,     PREV),	/* committed: it lives here now */ \
	T(INCOMING,  FAILED,        DESTROY,  INACTIVE),	/* aborted: the sender keeps it */ \
	T(INCOMING,  LOST,          DESTROY,  FAILED), \
	T(INCOMING,  DIED,          NONE,     INCOMING), \
	T(INCOMING,  BOOTED,        NONE,     INCOMING), \
	T(INCOMING,  SESSION_START, NONE,     INCOMING), \
	T(INCOMING,  TIMEOUT,       NONE,     INCOMING), \
	\
	T(FAILED,    DESTROY,       DESTROY,  INACTIVE), \
	T(FAILED,    DIED,          NONE,     FAILED), \
	T(FAILED,    BOOTED,        NONE,     FAILED)

static const struct vm_transition cvm_table[] = {
	COMMON_ROWS,

	/* A login takes a Ready CVM; its session's end resets it. */
	T(READY,     SESSION_END,   NONE,     READY),	/* assigned, never connected */
	T(READY,     PAUSE,         PAUSE,    PAUSING),	/* idle */
	T(READY,     RESET,         RESET,    RESETTING),
	T(RUNNING,   SESSION_END,   RESET,    RESETTING),
	T(RUNNING,   RESET,         RESET,    RESETTING),

	T(PAUSING,   DONE,          NONE,     PAUSED),
	T(PAUSING,   FAILED,        NONE,     READY),
	T(PAUSING,   LOST,          DESTROY,  FAILED),
	T(PAUSING,   TIMEOUT,       NONE,     FAILED),
	T(PAUSING,   DIED,          DESTROY,  INACTIVE),

	T(PAUSED,    UNPAUSE,       UNPAUSE,  UNPAUSING),	/* login, no Ready one left */
	T(PAUSED,    SAVE,          SAVE,     SAVING),	/* idle for longer */
	T(PAUSED,    RESET,         RESET,    RESETTING),
	T(PAUSED,    SHUTDOWN,      SHUTDOWN, STOPPING),
	T(PAUSED,    DESTROY,       DESTROY,  INACTIVE),
	T(PAUSED,    DIED,          DESTROY,  INACTIVE),

	T(UNPAUSING, DONE,          NONE,     READY),
	T(UNPAUSING, FAILED,        NONE,     PAUSED),
	T(UNPAUSING, LOST,          DESTROY,  FAILED),
	T(UNPAUSING, TIMEOUT,       NONE,     FAILED),
	T(UNPAUSING, DIED,          DESTROY,  INACTIVE),

	T(SAVING,    DONE,          NONE,     SAVED),
	T(SAVING,    FAILED,        NONE,     PAUSED),
	T(SAVING,    LOST,          DESTROY,  FAILED),
	T(SAVING,    TIMEOUT,       NONE,     FAILED),
	T(SAVING,    DIED,          NONE,     SAVING),	/* a save ends the domain */

	T(SAVED,     RESTORE,       RESTORE,  RESTORING),	/* login, nothing warmer left */
	T(SAVED,     DESTROY,       DISCARD,  INACTIVE),

	T(RESTORING, DONE,          NONE,     READY),
	T(RESTORING, FAILED,        NONE,     SAVED),	/* the image is still there */
	T(RESTORING, LOST,          DESTROY,  FAILED),
	T(RESTORING, TIMEOUT,       NONE,     FAILED),
	T(RESTORING, BOOTED,        NONE,     RESTORING),	/* the agent writes again */
	T(RESTORING, DIED,          DESTROY,  FAILED),

	T(RESETTING, DONE,          NONE,     READY),
	T(RESETTING, FAILED,        DESTROY,  FAILED),	/* both ways failed */
	T(RESETTING, LOST,          DESTROY,  FAILED),
	T(RESETTING, TIMEOUT,       NONE,     FAILED),
	T(RESETTING, BOOTED,        NONE,     RESETTING),
	T(RESETTING, DIED,          NONE,     RESETTING),	/* a reset ends the old domain */
	T(RESETTING, SESSION_END,   NONE,     RESETTING),

	T(FAILED,    RESET,         RESET,    RESETTING),

	/*
	 * The clean image a fast reset restores: taken once the fresh CVM is
	 * ready, by a save and a restore from what was saved.
	 */
	T(READY,     SNAPSHOT,      SNAPSHOT, SNAPSHOTTING),
	T(SNAPSHOTTING, DONE,       NONE,     READY),
	T(SNAPSHOTTING, FAILED,     NONE,     READY),	/* no clean image; it runs on */
	T(SNAPSHOTTING, LOST,       DESTROY,  FAILED),
	T(SNAPSHOTTING, TIMEOUT,    NONE,     FAILED),
	T(SNAPSHOTTING, DIED,       NONE,     SNAPSHOTTING),	/* a save ends the domain */
	T(SNAPSHOTTING, BOOTED,     NONE,     SNAPSHOTTING),
	T(SNAPSHOTTING, SESSION_END, NONE,    SNAPSHOTTING),
};

static const struct vm_transition pvm_table[] = {
	COMMON_ROWS,

	/* A PVM lives for one session: never paused, saved or reset. */
	T(READY,     SESSION_END,   SHUTDOWN, STOPPING),	/* logout before the session formed */
	T(RUNNING,   SESSION_END,   SHUTDOWN, STOPPING),
};

#undef T
#undef COMMON_ROWS

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

static int
name_lookup(const char *const *names, int n, const char *name)
{
	int	 i;

	for (i = 0; i < n; i++)
		if (names[i] != NULL && strcmp(names[i], name) == 0)
			return i;
	return -1;
}

int
vm_state_from_name(const char *name)
{
	return name_lookup(vm_state_names, VM_S__COUNT, name);
}

int
vm_event_from_name(const char *name)
{
	return name_lookup(vm_event_names, VM_EV__COUNT, name);
}

int
vm_action_from_name(const char *name)
{
	return name_lookup(vm_action_names, VM_A__COUNT, name);
}

int
vm_kind_from_name(const char *name)
{
	return name_lookup(vm_kind_names, 2, name);
}

int
vm_state_transient(enum vm_state s)
{
	switch (s) {
	case VM_S_STARTING:
	case VM_S_PAUSING:
	case VM_S_UNPAUSING:
	case VM_S_SAVING:
	case VM_S_RESTORING:
	case VM_S_RESETTING:
	case VM_S_SNAPSHOTTING:
	case VM_S_STOPPING:
	case VM_S_MIGRATING:
	case VM_S_INCOMING:
		return 1;
	default:
		return 0;
	}
}

const struct vm_transition *
vm_fsm_lookup(enum vm_kind kind, enum vm_state state, enum vm_event ev)
{
	const struct vm_transition *t;
	size_t	 i, n;

	t = kind == VM_CVM ? cvm_table : pvm_table;
	n = kind == VM_CVM ? NELEM(cvm_table) : NELEM(pvm_table);
	for (i = 0; i < n; i++)
		if (t[i].from == state && t[i].event == ev)
			return &t[i];
	return NULL;
}

const char *
vm_fsm_state_name(int state)
{
	return state < 0 || state >= VM_S__COUNT ? NULL : vm_state_names[state];
}

int
vm_fsm_op_marks(enum vm_kind kind, enum vm_state from, enum vm_event ev)
{
	const struct vm_transition *t;

	if ((t = vm_fsm_lookup(kind, from, ev)) == NULL)
		return -1;
	return t->to == VM_S_PREV ? (int)from : (int)t->to;
}

/*
 * What a login asks of a VM, warmest first: a session on a guest that is
 * up (a reconnect included), else the rows the tables mark "login".
 */
static const enum vm_event login_events[] = {
	VM_EV_SESSION_START, VM_EV_UNPAUSE, VM_EV_RESTORE, VM_EV_START,
};

int
vm_fsm_login_event(enum vm_kind kind, enum vm_state state)
{
	const struct vm_transition *t;
	size_t	 i;

	for (i = 0; i < NELEM(login_events); i++) {
		t = vm_fsm_lookup(kind, state, login_events[i]);
		/* Not a row that ignores it (a session on a migrating VM). */
		if (t != NULL && (t->action != VM_A_NONE ||
		    t->to == VM_S_RUNNING))
			return (int)login_events[i];
	}
	return -1;
}

int
vm_fsm_login_marks(enum vm_kind kind, enum vm_state state)
{
	int	 ev = vm_fsm_login_event(kind, state);

	return ev < 0 ? -1 : vm_fsm_op_marks(kind, state, (enum vm_event)ev);
}

int
vm_fsm_step(struct vm_fsm *m, enum vm_event ev, enum vm_action *action_r)
{
	const struct vm_transition *t;
	enum vm_state next;

	if ((t = vm_fsm_lookup(m->kind, m->state, ev)) == NULL)
		return -1;
	next = t->to == VM_S_PREV ? m->prev : t->to;
	/* Remember where a transient state was entered from, for PREV. */
	if (vm_state_transient(next) && !vm_state_transient(m->state))
		m->prev = m->state;
	m->state = next;
	*action_r = t->action;
	return 0;
}

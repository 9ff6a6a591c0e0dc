/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * common/vm_fsm.h — the CVM and PVM lifecycle state machines (xvdsd(8),
 * LIFECYCLES; doc/architecture.md), as transition tables:
 * state × event → action, next state.  Pure: the daemon carries out the
 * action and feeds its outcome back as an event (done, failed, lost).
 */
#ifndef XVDS_COMMON_VM_FSM_H
#define XVDS_COMMON_VM_FSM_H

enum vm_kind {
	VM_CVM,		/* common VM: pooled, reset to its golden image after use */
	VM_PVM,		/* private VM: one user's, shut down after use */
};

enum vm_state {
	VM_S_INACTIVE,	/* defined, no domain */
	VM_S_STARTING,	/* domain being created, guest booting */
	VM_S_READY,	/* booted, no session */
	VM_S_RUNNING,	/* a session is on */
	VM_S_PAUSING,
	VM_S_PAUSED,
	VM_S_UNPAUSING,
	VM_S_SAVING,
	VM_S_SAVED,	/* image on the shared store, no domain */
	VM_S_RESTORING,
	VM_S_RESETTING,	/* back to the golden image */
	VM_S_SNAPSHOTTING,	/* a CVM's clean image for fast resets is taken */
	VM_S_STOPPING,	/* clean shutdown, destroy after a timeout */
	VM_S_MIGRATING,	/* leaving for another host */
	VM_S_INCOMING,	/* arriving from another host, not yet committed */
	VM_S_FAILED,	/* an action failed; the operator destroys or resets */
	VM_S__COUNT,
	VM_S_PREV = VM_S__COUNT,	/* table only: the state before the transient one */
};

enum vm_event {
	VM_EV_START,		/* request: create and boot */
	VM_EV_BOOTED,		/* the guest's boot-complete record was validated */
	VM_EV_SESSION_START,	/* the RDP session formed */
	VM_EV_SESSION_END,	/* logout, lapsed lease, or the guest says it ended */
	VM_EV_PAUSE,		/* idle timer or request */
	VM_EV_UNPAUSE,		/* login or request */
	VM_EV_SAVE,		/* idle timer or request */
	VM_EV_RESTORE,		/* login or request */
	VM_EV_RESET,		/* request: back to the golden image */
	VM_EV_SHUTDOWN,		/* request: clean shutdown */
	VM_EV_DESTROY,		/* request: destroy now (and discard a saved image) */
	VM_EV_MIGRATE,		/* request: live migration to another host */
	VM_EV_DONE,		/* the current action succeeded */
	VM_EV_FAILED,		/* it failed, the domain left as it was before */
	VM_EV_LOST,		/* it failed, the domain gone or in an unknown state */
	VM_EV_TIMEOUT,		/* the transient state's deadline passed */
	VM_EV_DIED,		/* the domain shut down or crashed on its own */
	VM_EV_SNAPSHOT,		/* a fresh CVM without a clean image: take one */
	VM_EV__COUNT,
};

enum vm_action {
	VM_A_NONE,
	VM_A_CREATE,
	VM_A_PAUSE,
	VM_A_UNPAUSE,
	VM_A_SAVE,		/* to the shared store; the domain goes away */
	VM_A_RESTORE,
	VM_A_RESET,		/* restore the clean image over a fresh disk, or reboot cold */
	VM_A_SHUTDOWN,
	VM_A_DESTROY,
	VM_A_DISCARD,		/* delete the saved image */
	VM_A_MIGRATE,
	VM_A_SNAPSHOT,		/* save the clean image, restore from it */
	VM_A__COUNT,
};

struct vm_transition {
	enum vm_state	 from;
	enum vm_event	 event;
	enum vm_action	 action;
	enum vm_state	 to;		/* may be VM_S_PREV */
};

/* The names every program and log uses. */
extern const char *const vm_kind_names[];
extern const char *const vm_state_names[];
extern const char *const vm_event_names[];
extern const char *const vm_action_names[];

/* Name to value; -1 if unknown. */
int	vm_state_from_name(const char *);
int	vm_event_from_name(const char *);
int	vm_action_from_name(const char *);
int	vm_kind_from_name(const char *);

/* True for the states in which an action is under way. */
int	vm_state_transient(enum vm_state);

/* The row for (kind, state, event), or NULL: the event is refused there. */
const struct vm_transition *vm_fsm_lookup(enum vm_kind, enum vm_state, enum vm_event);

/* The name of a state; NULL for no state (-1) or one out of range. */
const char *vm_fsm_state_name(int state);

/*
 * The state a VM in `from` is in once `ev` is taken there: the transient
 * state its action runs in, or the state it goes to at once (a destroy's
 * inactive); VM_S_PREV is `from` itself.  -1 if `ev` is refused in
 * `from`.  The controller marks its row so while the op runs.
 */
int	vm_fsm_op_marks(enum vm_kind, enum vm_state from, enum vm_event ev);

/*
 * The event a login sends a VM in `state`: session-start where its guest
 * is up, else the request that brings it up (unpause, restore, start);
 * -1 if the VM is busy there (on its way somewhere, or failed).
 */
int	vm_fsm_login_event(enum vm_kind, enum vm_state state);

/* The state a login marks a VM in `state`; -1 if it is busy. */
int	vm_fsm_login_marks(enum vm_kind, enum vm_state state);

/* A VM's position in its machine. */
struct vm_fsm {
	enum vm_kind	 kind;
	enum vm_state	 state;
	enum vm_state	 prev;		/* the state before the last transient one */
};

/*
 * Applies an event: on success sets *action_r, moves the machine and
 * returns 0; returns -1, unchanged, if the event is refused in this state.
 */
int	vm_fsm_step(struct vm_fsm *, enum vm_event, enum vm_action *action_r);

#endif

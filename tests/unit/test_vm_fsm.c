/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * test_vm_fsm.c — checks both state machines (xvds/common/vm_fsm.c) against the
 * transition table kept as test data (vm_fsm.table): every state × event,
 * the expected next state and action, or refusal.
 */
#include <config.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "common/vm_fsm.h"

struct expect {
	int		 listed;
	enum vm_state	 to;
	enum vm_action	 action;
	int		 line;
};

/* [kind][state][event] */
static struct expect table[2][VM_S__COUNT][VM_EV__COUNT];

static void
load_table(void)
{
	const char *srcdir = getenv("top_srcdir");
	char	 path[1024], line[256];
	FILE	*f;
	int	 lineno = 0;

	snprintf(path, sizeof(path), "%s/tests/unit/vm_fsm.table",
	    srcdir ? srcdir : ".");
	if ((f = fopen(path, "r")) == NULL)
		fail_msg("cannot open %s", path);
	memset(table, 0, sizeof(table));
	while (fgets(line, sizeof(line), f) != NULL) {
		char	 kind[16], from[16], ev[16], arrow[4], to[16], act[16];
		int	 k, s, e, t, a, kk;

		lineno++;
		if (line[0] == '#' || line[0] == '\n')
			continue;
		if (sscanf(line, "%15s %15s %15s %3s %15s %15s", kind, from, ev,
		    arrow, to, act) != 6 || strcmp(arrow, "->") != 0)
			fail_msg("vm_fsm.table:%d: cannot parse", lineno);
		s = vm_state_from_name(from);
		e = vm_event_from_name(ev);
		t = strcmp(to, "prev") == 0 ? VM_S_PREV : vm_state_from_name(to);
		a = vm_action_from_name(act);
		if (s < 0 || e < 0 || t < 0 || a < 0)
			fail_msg("vm_fsm.table:%d: unknown name", lineno);
		k = strcmp(kind, "both") == 0 ? -1 : vm_kind_from_name(kind);
		if (k < 0 && strcmp(kind, "both") != 0)
			fail_msg("vm_fsm.table:%d: unknown kind", lineno);
		for (kk = 0; kk < 2; kk++) {
			struct expect *x = &table[kk][s][e];

			if (k >= 0 && kk != k)
				continue;
			if (x->listed)
				fail_msg("vm_fsm.table:%d: %s %s listed twice (line %d)",
				    lineno, from, ev, x->line);
			x->listed = 1;
			x->to = (enum vm_state)t;
			x->action = (enum vm_action)a;
			x->line = lineno;
		}
	}
	fclose(f);
}

static void
test_every_state_and_event(void **state)
{
	int	 k, s, e, listed = 0, refused = 0;

	(void)state;
	load_table();
	for (k = 0; k < 2; k++)
	for (s = 0; s < VM_S__COUNT; s++)
	for (e = 0; e < VM_EV__COUNT; e++) {
		const struct expect *x = &table[k][s][e];
		const struct vm_transition *t;

		t = vm_fsm_lookup((enum vm_kind)k, (enum vm_state)s,
		    (enum vm_event)e);
		if (!x->listed) {
			if (t != NULL)
				fail_msg("%s %s %s: accepted (-> %s), the table "
				    "refuses it", vm_kind_names[k], vm_state_names[s],
				    vm_event_names[e], vm_state_names[t->to]);
			refused++;
			continue;
		}
		if (t == NULL)
			fail_msg("%s %s %s: refused, table line %d accepts it",
			    vm_kind_names[k], vm_state_names[s],
			    vm_event_names[e], x->line);
		if (t->to != x->to || t->action != x->action)
			fail_msg("%s %s %s: -> %s %s, table line %d says %s %s",
			    vm_kind_names[k], vm_state_names[s], vm_event_names[e],
			    vm_state_names[t->to], vm_action_names[t->action],
			    x->line, vm_state_names[x->to],
			    vm_action_names[x->action]);
		listed++;
	}
	/* Guard against an empty or unread table passing vacuously. */
	assert_true(listed > 100);
	assert_true(refused > 100);
}

/* Applying an event moves the machine exactly as its row says. */
static void
test_step_follows_rows(void **state)
{
	int	 k, s, e;

	(void)state;
	for (k = 0; k < 2; k++)
	for (s = 0; s < VM_S__COUNT; s++)
	for (e = 0; e < VM_EV__COUNT; e++) {
		const struct vm_transition *t;
		struct vm_fsm m = { (enum vm_kind)k, (enum vm_state)s, VM_S_RUNNING };
		enum vm_action a = VM_A__COUNT;
		int	 r;

		t = vm_fsm_lookup((enum vm_kind)k, (enum vm_state)s, (enum vm_event)e);
		r = vm_fsm_step(&m, (enum vm_event)e, &a);
		if (t == NULL) {
			assert_int_equal(r, -1);
			assert_int_equal(m.state, s);	/* refused: unchanged */
			assert_int_equal(a, VM_A__COUNT);
			continue;
		}
		assert_int_equal(r, 0);
		assert_int_equal(a, t->action);
		assert_int_equal(m.state, t->to == VM_S_PREV ? VM_S_RUNNING : t->to);
	}
}

struct walk {
	enum vm_event	 ev;
	enum vm_action	 action;
	enum vm_state	 to;
};

static void
run_walk(enum vm_kind kind, const struct walk *w, size_t n)
{
	struct vm_fsm m = { kind, VM_S_INACTIVE, VM_S_INACTIVE };
	size_t	 i;

	for (i = 0; i < n; i++) {
		enum vm_action a;

		if (vm_fsm_step(&m, w[i].ev, &a) != 0)
			fail_msg("step %zu: %s refused in %s", i,
			    vm_event_names[w[i].ev], vm_state_names[m.state]);
		assert_int_equal(a, w[i].action);
		if (m.state != w[i].to)
			fail_msg("step %zu: %s -> %s, expected %s", i,
			    vm_event_names[w[i].ev], vm_state_names[m.state],
			    vm_state_names[w[i].to]);
	}
}

/* The CVM's life as xvdsd(8), LIFECYCLES, tells it. */
static void
test_cvm_lifecycle(void **state)
{
	static const struct walk w[] = {
		{ VM_EV_START, VM_A_CREATE, VM_S_STARTING },
		{ VM_EV_DONE, VM_A_NONE, VM_S_STARTING },
		{ VM_EV_BOOTED, VM_A_NONE, VM_S_READY },
		{ VM_EV_PAUSE, VM_A_PAUSE, VM_S_PAUSING },	/* idle */
		{ VM_EV_DONE, VM_A_NONE, VM_S_PAUSED },
		{ VM_EV_SAVE, VM_A_SAVE, VM_S_SAVING },		/* idle for longer */
		{ VM_EV_DIED, VM_A_NONE, VM_S_SAVING },
		{ VM_EV_DONE, VM_A_NONE, VM_S_SAVED },
		{ VM_EV_RESTORE, VM_A_RESTORE, VM_S_RESTORING },	/* a login */
		{ VM_EV_BOOTED, VM_A_NONE, VM_S_RESTORING },
		{ VM_EV_DONE, VM_A_NONE, VM_S_READY },
		{ VM_EV_SESSION_START, VM_A_NONE, VM_S_RUNNING },
		{ VM_EV_MIGRATE, VM_A_MIGRATE, VM_S_MIGRATING },
		{ VM_EV_FAILED, VM_A_NONE, VM_S_RUNNING },	/* still here, still used */
		{ VM_EV_SESSION_END, VM_A_RESET, VM_S_RESETTING },
		{ VM_EV_DONE, VM_A_NONE, VM_S_READY },
		{ VM_EV_PAUSE, VM_A_PAUSE, VM_S_PAUSING },
		{ VM_EV_DONE, VM_A_NONE, VM_S_PAUSED },
		{ VM_EV_UNPAUSE, VM_A_UNPAUSE, VM_S_UNPAUSING },	/* a login */
		{ VM_EV_DONE, VM_A_NONE, VM_S_READY },
		{ VM_EV_SHUTDOWN, VM_A_SHUTDOWN, VM_S_STOPPING },
		{ VM_EV_TIMEOUT, VM_A_DESTROY, VM_S_STOPPING },
		{ VM_EV_DIED, VM_A_DESTROY, VM_S_INACTIVE },
	};

	(void)state;
	run_walk(VM_CVM, w, sizeof(w) / sizeof(w[0]));
}

static void
test_pvm_lifecycle(void **state)
{
	static const struct walk w[] = {
		{ VM_EV_START, VM_A_CREATE, VM_S_STARTING },
		{ VM_EV_DONE, VM_A_NONE, VM_S_STARTING },
		{ VM_EV_BOOTED, VM_A_NONE, VM_S_READY },
		{ VM_EV_SESSION_START, VM_A_NONE, VM_S_RUNNING },
		{ VM_EV_MIGRATE, VM_A_MIGRATE, VM_S_MIGRATING },
		{ VM_EV_FAILED, VM_A_NONE, VM_S_RUNNING },
		{ VM_EV_SESSION_END, VM_A_SHUTDOWN, VM_S_STOPPING },
		{ VM_EV_DONE, VM_A_DESTROY, VM_S_INACTIVE },
		{ VM_EV_START, VM_A_CREATE, VM_S_STARTING },
		{ VM_EV_TIMEOUT, VM_A_DESTROY, VM_S_FAILED },	/* never booted */
		{ VM_EV_DESTROY, VM_A_DESTROY, VM_S_INACTIVE },
	};
	struct vm_fsm m = { VM_PVM, VM_S_READY, VM_S_INACTIVE };
	enum vm_action a;

	(void)state;
	run_walk(VM_PVM, w, sizeof(w) / sizeof(w[0]));
	/* Never paused, saved or reset. */
	assert_int_equal(vm_fsm_step(&m, VM_EV_PAUSE, &a), -1);
	assert_int_equal(vm_fsm_step(&m, VM_EV_RESET, &a), -1);
	m.state = VM_S_PAUSED;
	assert_int_equal(vm_fsm_step(&m, VM_EV_SAVE, &a), -1);
}

static void
test_names_round_trip(void **state)
{
	int	 i;

	(void)state;
	for (i = 0; i < VM_S__COUNT; i++)
		assert_int_equal(vm_state_from_name(vm_state_names[i]), i);
	for (i = 0; i < VM_EV__COUNT; i++)
		assert_int_equal(vm_event_from_name(vm_event_names[i]), i);
	for (i = 0; i < VM_A__COUNT; i++)
		assert_int_equal(vm_action_from_name(vm_action_names[i]), i);
	assert_int_equal(vm_state_from_name("bogus"), -1);
}

/* What an op marks is the row's next state, PREV being where it was. */
static void
test_op_marks(void **state)
{
	const struct vm_transition *t;
	int	 k, s, e, want;

	(void)state;
	for (k = 0; k < 2; k++)
		for (s = 0; s < VM_S__COUNT; s++)
			for (e = 0; e < VM_EV__COUNT; e++) {
				t = vm_fsm_lookup(k, s, e);
				want = t == NULL ? -1 :
				    t->to == VM_S_PREV ? s : (int)t->to;
				assert_int_equal(vm_fsm_op_marks(k, s, e), want);
			}
	/* A destroy has no transient state: straight to inactive. */
	assert_int_equal(vm_fsm_op_marks(VM_CVM, VM_S_READY, VM_EV_DESTROY),
	    VM_S_INACTIVE);
	assert_int_equal(vm_fsm_op_marks(VM_CVM, VM_S_READY, VM_EV_PAUSE),
	    VM_S_PAUSING);
	assert_null(vm_fsm_state_name(-1));
	assert_null(vm_fsm_state_name(VM_S__COUNT));
	assert_string_equal(vm_fsm_state_name(VM_S_SAVED), "saved");
}

/* What a login does in each state, as the controller's broker did. */
static void
test_login(void **state)
{
	static const struct { int kind, from, ev, marks; } cases[] = {
		{ VM_CVM, VM_S_READY, VM_EV_SESSION_START, VM_S_RUNNING },
		{ VM_CVM, VM_S_RUNNING, VM_EV_SESSION_START, VM_S_RUNNING },
		{ VM_CVM, VM_S_PAUSED, VM_EV_UNPAUSE, VM_S_UNPAUSING },
		{ VM_CVM, VM_S_SAVED, VM_EV_RESTORE, VM_S_RESTORING },
		{ VM_CVM, VM_S_INACTIVE, VM_EV_START, VM_S_STARTING },
		{ VM_PVM, VM_S_READY, VM_EV_SESSION_START, VM_S_RUNNING },
		{ VM_PVM, VM_S_RUNNING, VM_EV_SESSION_START, VM_S_RUNNING },
		{ VM_PVM, VM_S_INACTIVE, VM_EV_START, VM_S_STARTING },
		{ VM_PVM, VM_S_PAUSED, -1, -1 },	/* never a PVM's state */
		{ VM_CVM, VM_S_STARTING, -1, -1 },
		{ VM_CVM, VM_S_MIGRATING, -1, -1 },
		{ VM_CVM, VM_S_INCOMING, -1, -1 },
		{ VM_CVM, VM_S_STOPPING, -1, -1 },
		{ VM_CVM, VM_S_RESETTING, -1, -1 },
		{ VM_CVM, VM_S_FAILED, -1, -1 },
		{ VM_PVM, VM_S_FAILED, -1, -1 },
	};
	size_t	 i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		assert_int_equal(vm_fsm_login_event(cases[i].kind,
		    cases[i].from), cases[i].ev);
		assert_int_equal(vm_fsm_login_marks(cases[i].kind,
		    cases[i].from), cases[i].marks);
	}
	assert_int_equal(vm_fsm_login_marks(VM_CVM, -1), -1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_every_state_and_event),
		cmocka_unit_test(test_step_follows_rows),
		cmocka_unit_test(test_cvm_lifecycle),
		cmocka_unit_test(test_pvm_lifecycle),
		cmocka_unit_test(test_names_round_trip),
		cmocka_unit_test(test_op_marks),
		cmocka_unit_test(test_login),
	};

	return cmocka_run_group_tests_name("vm_fsm", tests, NULL, NULL);
}

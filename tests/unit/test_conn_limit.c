/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * test_conn_limit.c — a listener's connection table (xvds/linesrv/conn_limit.c):
 * an address at its cap gives way by its own oldest idle connection, a
 * full table by the oldest idle of all, busy ones never; unkeyed ones
 * count in all only; addresses are forgotten with their last connection,
 * over many of them.
 */
#include <config.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "linesrv/conn_limit.h"

#define N	8

/* Owners are the addresses of own[i]: victims name their index. */
static int own[1000];

static int
victim_index(void *v)
{
	return v == NULL ? -1 : (int)((int *)v - own);
}

static void
test_per_key(void **state)
{
	struct conn_limit *l = conn_limit_new(100, 3);
	struct conn_slot *s[N];
	void	*v;
	int	 i;

	(void)state;
	assert_non_null(l);
	for (i = 0; i < 3; i++) {
		assert_int_equal(conn_limit_admit(l, "a", &v), CONN_ADMIT);
		assert_non_null(s[i] = conn_limit_add(l, "a", &own[i]));
	}
	assert_int_equal(conn_limit_count(l, "a"), 3);
	/* Another address is not concerned. */
	assert_int_equal(conn_limit_admit(l, "b", &v), CONN_ADMIT);
	/* "a" gives way by its oldest idle connection... */
	assert_int_equal(conn_limit_admit(l, "a", &v), CONN_EVICT);
	assert_int_equal(victim_index(v), 0);
	/* ...not a busy one... */
	conn_limit_busy(s[0]);
	assert_int_equal(conn_limit_admit(l, "a", &v), CONN_EVICT);
	assert_int_equal(victim_index(v), 1);
	/* ...and one idle again is the youngest. */
	conn_limit_busy(s[1]);
	conn_limit_idle(s[1]);
	assert_int_equal(conn_limit_admit(l, "a", &v), CONN_EVICT);
	assert_int_equal(victim_index(v), 2);
	conn_limit_busy(s[1]);
	conn_limit_busy(s[2]);
	assert_int_equal(conn_limit_admit(l, "a", &v), CONN_REFUSE);
	assert_null(v);
	conn_limit_remove(s[2]);
	assert_int_equal(conn_limit_admit(l, "a", &v), CONN_ADMIT);
	conn_limit_remove(s[0]);
	conn_limit_remove(s[1]);
	assert_int_equal(conn_limit_count(l, "a"), 0);
	assert_int_equal(conn_limit_total(l), 0);
	conn_limit_free(l);
}

static void
test_full(void **state)
{
	struct conn_limit *l = conn_limit_new(4, 3);
	struct conn_slot *s[N];
	const char *keys[] = { "a", "b", "a", "c" };
	void	*v;
	int	 i;

	(void)state;
	for (i = 0; i < 4; i++)
		assert_non_null(s[i] = conn_limit_add(l, keys[i], &own[i]));
	/* Full: a newcomer from anywhere takes the oldest idle place. */
	assert_int_equal(conn_limit_admit(l, "d", &v), CONN_EVICT);
	assert_int_equal(victim_index(v), 0);
	conn_limit_busy(s[0]);
	conn_limit_busy(s[1]);
	assert_int_equal(conn_limit_admit(l, "d", &v), CONN_EVICT);
	assert_int_equal(victim_index(v), 2);
	conn_limit_remove(s[2]);
	assert_int_equal(conn_limit_admit(l, "d", &v), CONN_ADMIT);
	assert_non_null(s[4] = conn_limit_add(l, "d", &own[4]));
	conn_limit_busy(s[3]);
	conn_limit_busy(s[4]);
	assert_int_equal(conn_limit_admit(l, "e", &v), CONN_REFUSE);
	/* Limits changed: for the newcomers. */
	conn_limit_set(l, 5, 1);
	assert_int_equal(conn_limit_admit(l, "e", &v), CONN_ADMIT);
	assert_int_equal(conn_limit_admit(l, "a", &v), CONN_REFUSE);
	conn_limit_idle(s[0]);
	assert_int_equal(conn_limit_admit(l, "a", &v), CONN_EVICT);
	assert_int_equal(victim_index(v), 0);
	for (i = 0; i < 5; i++)
		if (i != 2)
			conn_limit_remove(s[i]);
	assert_int_equal(conn_limit_total(l), 0);
	conn_limit_free(l);
}

static void
test_unkey(void **state)
{
	struct conn_limit *l = conn_limit_new(3, 2);
	struct conn_slot *s[N];
	void	*v;
	int	 i;

	(void)state;
	for (i = 0; i < 2; i++)
		assert_non_null(s[i] = conn_limit_add(l, "a", &own[i]));
	conn_limit_unkey(s[0]);
	assert_int_equal(conn_limit_count(l, "a"), 1);
	assert_int_equal(conn_limit_total(l), 2);
	assert_int_equal(conn_limit_admit(l, "a", &v), CONN_ADMIT);
	assert_non_null(s[2] = conn_limit_add(l, "a", &own[2]));
	/* Full: the unkeyed one is never the victim. */
	assert_int_equal(conn_limit_admit(l, "b", &v), CONN_EVICT);
	assert_int_equal(victim_index(v), 1);
	conn_limit_unkey(s[1]);
	conn_limit_unkey(s[2]);
	assert_int_equal(conn_limit_count(l, "a"), 0);
	assert_int_equal(conn_limit_admit(l, "b", &v), CONN_REFUSE);
	for (i = 0; i < 3; i++)
		conn_limit_remove(s[i]);
	conn_limit_free(l);
}

/* Full: the address with the most idle connections gives way. */
static void
test_heaviest(void **state)
{
	struct conn_limit *l = conn_limit_new(4, 10);
	struct conn_slot *s[N];
	const char *keys[] = { "client", "flood", "flood", "flood" };
	void	*v;
	int	 i;

	(void)state;
	for (i = 0; i < 4; i++)
		assert_non_null(s[i] = conn_limit_add(l, keys[i], &own[i]));
	/* The client's is the oldest, but it is alone. */
	assert_int_equal(conn_limit_admit(l, "other", &v), CONN_EVICT);
	assert_int_equal(victim_index(v), 1);
	/* Busy ones do not weigh: 1 idle each, the oldest goes. */
	conn_limit_busy(s[1]);
	conn_limit_busy(s[2]);
	assert_int_equal(conn_limit_admit(l, "other", &v), CONN_EVICT);
	assert_int_equal(victim_index(v), 0);
	conn_limit_busy(s[0]);
	conn_limit_idle(s[0]);
	assert_int_equal(conn_limit_admit(l, "other", &v), CONN_EVICT);
	assert_int_equal(victim_index(v), 3);
	for (i = 0; i < 4; i++)
		conn_limit_remove(s[i]);
	conn_limit_free(l);
}

/* Many addresses come and go: the tree holds those with a connection. */
static void
test_many(void **state)
{
	struct conn_limit *l = conn_limit_new(1000, 2);
	static struct conn_slot *s[1000];
	char	 key[32];
	void	*v;
	int	 i, round;

	(void)state;
	for (round = 0; round < 3; round++) {
		for (i = 0; i < 1000; i++) {
			snprintf(key, sizeof(key), "10.%d.%d.%d", round,
			    i / 2 / 256, i / 2 % 256);
			assert_int_not_equal(conn_limit_admit(l, key, &v),
			    CONN_REFUSE);
			assert_null(v);
			assert_non_null(s[i] = conn_limit_add(l, key, &own[i]));
		}
		assert_int_equal(conn_limit_total(l), 1000);
		assert_int_equal(conn_limit_count(l, "10.0.0.3"),
		    round == 0 ? 2 : 0);
		/* Full: the oldest idle, the first added. */
		assert_int_equal(conn_limit_admit(l, "192.0.2.1", &v),
		    CONN_EVICT);
		assert_int_equal(victim_index(v), 0);
		for (i = 999; i >= 0; i--)
			conn_limit_remove(s[i]);
		assert_int_equal(conn_limit_total(l), 0);
		assert_int_equal(conn_limit_count(l, "10.0.0.3"), 0);
	}
	conn_limit_free(l);
}

static void
test_params(void **state)
{
	(void)state;
	assert_null(conn_limit_new(0, 1));
	assert_null(conn_limit_new(1, 0));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_per_key),
		cmocka_unit_test(test_full),
		cmocka_unit_test(test_unkey),
		cmocka_unit_test(test_heaviest),
		cmocka_unit_test(test_many),
		cmocka_unit_test(test_params),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

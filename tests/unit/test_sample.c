/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * test_sample.c — windowed CPU means (xvds/hostd/sample.c), the figures the
 * migration policy reads: exact values from hand-made readings.
 */
#include <config.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "hostd/sample.h"

#define S	1000000000LL	/* one second in ns */

static void
test_mean_over_window(void **state)
{
	struct sample_window w;
	uint64_t cpu = 0;
	int64_t	 t = 5 * S;
	/* Per 5 s interval: CPU-seconds used. */
	static const double used[] = { 5, 2.5, 0, 10, 5, 5, 5, 5, 5, 5 };
	/* The mean of the last 3 samples, in percent of one CPU. */
	static const double mean[] = { 100, 75, 50, 83.333333, 100, 133.333333,
	    100, 100, 100, 100 };
	size_t	 i;

	(void)state;
	memset(&w, 0, sizeof(w));
	/* The first reading only sets the origin. */
	assert_true(sample_add(&w, 3, cpu, t) < 0);
	for (i = 0; i < sizeof(used) / sizeof(used[0]); i++) {
		t += 5 * S;
		cpu += (uint64_t)(used[i] * S);
		assert_float_equal(sample_add(&w, 3, cpu, t), mean[i], 1e-4);
	}
}

static void
test_restarts(void **state)
{
	struct sample_window w;

	(void)state;
	memset(&w, 0, sizeof(w));
	sample_add(&w, 7, 0, 1 * S);
	assert_float_equal(sample_add(&w, 7, 1 * S, 2 * S), 100, 1e-9);
	/* CPU time going backwards: another domain under the same id. */
	assert_true(sample_add(&w, 7, 10, 3 * S) < 0);
	assert_float_equal(sample_add(&w, 7, 10 + S / 2, 4 * S), 50, 1e-9);
	/* No time elapsed: nothing to divide by. */
	assert_true(sample_add(&w, 7, S, 4 * S) < 0);
	/* A new window size starts afresh. */
	assert_float_equal(sample_add(&w, 7, 2 * S, 5 * S), 100, 1e-9);
	assert_true(sample_add(&w, 2, 3 * S, 6 * S) < 0);
	assert_float_equal(sample_add(&w, 2, 3 * S + S / 4, 7 * S), 25, 1e-9);
	/* Window sizes out of range are clamped, not trusted. */
	assert_true(sample_add(&w, 0, 4 * S, 8 * S) < 0);
	assert_float_equal(sample_add(&w, 0, 4 * S, 9 * S), 0, 1e-9);
	assert_true(sample_add(&w, 1000, 4 * S, 10 * S) < 0);
	assert_float_equal(sample_add(&w, 1000, 6 * S, 11 * S), 200, 1e-9);
	assert_int_equal(w.size, SAMPLE_WINDOW_MAX);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_mean_over_window),
		cmocka_unit_test(test_restarts),
	};

	return cmocka_run_group_tests_name("sample", tests, NULL, NULL);
}

/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * test_sessions.c — counting RDP connections in the kernel's socket
 * tables (xvds-guestd/sessions.c), from tables as Linux writes them.
 */
#include <config.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "sessions.h"

/* Port 3389 is 0D3D: one listener (0A), two established (01), one closing (06). */
static const char tcp4[] =
"  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n"
"   0: 00000000:0D3D 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 1678 1 0 100 0 0 10 0\n"
"   1: 1500A8C0:0D3D 0100A8C0:C350 01 00000000:00000000 02:000AFC7B 00000000     0        0 1690 2 0 20 4 30 10 -1\n"
"   2: 1500A8C0:0D3D 0100A8C0:C351 01 00000000:00000000 02:000AFC7B 00000000     0        0 1691 2 0 20 4 30 10 -1\n"
"   3: 1500A8C0:0D3D 0100A8C0:C352 06 00000000:00000000 03:00001770 00000000     0        0 0 3 0\n"
"   4: 1500A8C0:1F90 0100A8C0:C353 01 00000000:00000000 02:000AFC7B 00000000     0        0 1692 2 0 20 4 30 10 -1\n";

static const char tcp6[] =
"  sl  local_address                         remote_address                        st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n"
"   0: 0000000000000000FFFF00001500A8C0:0D3D 0000000000000000FFFF00000100A8C0:D000 01 00000000:00000000 00:00000000 00000000     0        0 1700 1 0 20 4 30 10 -1\n";

static void
test_counts(void **state)
{
	(void)state;
	assert_int_equal(sessions_count_text(tcp4, strlen(tcp4), 3389), 2);
	assert_int_equal(sessions_count_text(tcp4, strlen(tcp4), 8080), 1);
	assert_int_equal(sessions_count_text(tcp4, strlen(tcp4), 22), 0);
	assert_int_equal(sessions_count_text(tcp6, strlen(tcp6), 3389), 1);
	/* A header alone: no connections. */
	assert_int_equal(sessions_count_text(tcp4, strchr(tcp4, '\n') + 1 - tcp4,
	    3389), 0);
}

static void
test_not_a_table(void **state)
{
	static const char junk[] = "hello\n   1: 1500A8C0:0D3D x 01\n";

	(void)state;
	assert_int_equal(sessions_count_text("", 0, 3389), -1);
	assert_int_equal(sessions_count_text(junk, strlen(junk), 3389), -1);
	/* Truncated and garbled lines are skipped, not trusted. */
	{
		char	 t[sizeof(tcp4)];

		memcpy(t, tcp4, sizeof(tcp4));
		t[strlen(t) - 40] = '\0';
		assert_true(sessions_count_text(t, strlen(t), 3389) >= 0);
	}
}

/* This machine's own tables parse (whatever they hold). */
static void
test_live_tables(void **state)
{
	(void)state;
	assert_true(sessions_count(3389) >= 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_counts),
		cmocka_unit_test(test_not_a_table),
		cmocka_unit_test(test_live_tables),
	};

	return cmocka_run_group_tests_name("sessions", tests, NULL, NULL);
}

/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * test_ratelimit.c — failed-login back-off (xvds/ratelimit.c) on a clock
 * the test turns: free failures, doubling delays and their cap, the
 * quiet window, what a success forgets, addresses shared by users, the
 * fixed memory under many addresses, and the keys of addresses.
 */
#include <config.h>

#include <sys/socket.h>
#include <sys/un.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "ratelimit.h"

#define T0	1000000		/* a monotonic clock's seconds */

static struct ratelimit *
defaults(void)
{
	struct ratelimit *rl;

	rl = ratelimit_new(&ratelimit_user_defaults, &ratelimit_addr_defaults);
	assert_non_null(rl);
	return rl;
}

static void
test_backoff(void **state)
{
	struct ratelimit *rl = defaults();
	int64_t	 now = T0;
	unsigned expect, i;

	(void)state;
	/* Five failures are free. */
	for (i = 0; i < 5; i++) {
		assert_int_equal(ratelimit_check(rl, "alice", "10.0.0.1", now), 0);
		ratelimit_failure(rl, "alice", "10.0.0.1", now);
	}
	assert_int_equal(ratelimit_check(rl, "alice", "10.0.0.1", now), 0);
	/* Then 1, 2, 4, ... seconds from each failure, at most 300. */
	for (expect = 1, i = 0; i < 40; i++) {
		ratelimit_failure(rl, "alice", "10.0.0.1", now);
		assert_int_equal(ratelimit_check(rl, "alice", "10.0.0.1", now),
		    expect);
		assert_int_equal(ratelimit_check(rl, "alice", "10.0.0.9", now),
		    expect);	/* the user, from anywhere */
		assert_int_equal(ratelimit_check(rl, "bob", "10.0.0.9", now), 0);
		assert_int_equal(ratelimit_check(rl, "alice", "10.0.0.1",
		    now + expect - 1), 1);
		now += expect;
		assert_int_equal(ratelimit_check(rl, "alice", "10.0.0.1", now), 0);
		expect = expect * 2 > 300 ? 300 : expect * 2;
	}
	assert_int_equal(expect, 300);
	ratelimit_free(rl);
}

static void
test_window(void **state)
{
	struct ratelimit *rl = defaults();
	unsigned i;

	(void)state;
	for (i = 0; i < 7; i++)
		ratelimit_failure(rl, "alice", "10.0.0.1", T0);
	assert_int_equal(ratelimit_check(rl, "alice", "10.0.0.1", T0), 2);
	/* Quiet for less than the window: the count goes on. */
	ratelimit_failure(rl, "alice", "10.0.0.1", T0 + 899);
	assert_int_equal(ratelimit_check(rl, "alice", "10.0.0.1", T0 + 899), 4);
	/* Quiet for the window: forgotten; five free failures again. */
	for (i = 0; i < 5; i++)
		ratelimit_failure(rl, "alice", "10.0.0.1", T0 + 899 + 900);
	assert_int_equal(ratelimit_check(rl, "alice", "10.0.0.1",
	    T0 + 899 + 900), 0);
	ratelimit_failure(rl, "alice", "10.0.0.1", T0 + 899 + 900);
	assert_int_equal(ratelimit_check(rl, "alice", "10.0.0.1",
	    T0 + 899 + 900), 1);
	ratelimit_free(rl);
}

static void
test_success(void **state)
{
	struct ratelimit *rl = defaults();
	size_t	 users, addrs;
	unsigned i;

	(void)state;
	for (i = 0; i < 6; i++)
		ratelimit_failure(rl, "alice", "10.0.0.1", T0);
	assert_int_equal(ratelimit_check(rl, "alice", "10.0.0.1", T0), 1);
	ratelimit_success(rl, "alice");
	ratelimit_success(rl, "nobody");
	assert_int_equal(ratelimit_check(rl, "alice", "10.0.0.1", T0), 0);
	ratelimit_size(rl, &users, &addrs);
	assert_int_equal(users, 0);
	assert_int_equal(addrs, 1);
	/* The address's count survives the success: 6 of its 20 free. */
	for (i = 0; i < 14; i++)
		ratelimit_failure(rl, "mallory", "10.0.0.1", T0);
	ratelimit_success(rl, "mallory");
	assert_int_equal(ratelimit_check(rl, "carol", "10.0.0.1", T0), 0);
	ratelimit_failure(rl, "carol", "10.0.0.1", T0);
	assert_int_equal(ratelimit_check(rl, "dave", "10.0.0.1", T0), 1);
	assert_int_equal(ratelimit_check(rl, "dave", "10.0.0.2", T0), 0);
	ratelimit_free(rl);
}

static void
test_clock_back(void **state)
{
	struct ratelimit *rl = defaults();
	unsigned i;

	(void)state;
	for (i = 0; i < 20; i++)
		ratelimit_failure(rl, "alice", NULL, T0);
	assert_int_equal(ratelimit_check(rl, "alice", NULL, T0), 300);
	/* A clock stepped back never waits longer than the cap. */
	assert_int_equal(ratelimit_check(rl, "alice", NULL, T0 - 100000), 300);
	ratelimit_failure(rl, "alice", NULL, T0 - 100000);
	assert_int_equal(ratelimit_check(rl, "alice", NULL, T0), 300);
	assert_int_equal(ratelimit_check(rl, "alice", NULL, T0 + 300), 0);
	ratelimit_free(rl);
}

static void
test_memory_bound(void **state)
{
	struct ratelimit_params p = ratelimit_addr_defaults;
	struct ratelimit *rl;
	char	 addr[32];
	size_t	 users, addrs;
	unsigned i;

	(void)state;
	p.free = 0;
	p.capacity = 1000;
	rl = ratelimit_new(&ratelimit_user_defaults, &p);
	assert_non_null(rl);
	/* 100,000 addresses, one second apart, each failing once. */
	for (i = 0; i < 100000; i++) {
		snprintf(addr, sizeof(addr), "10.%u.%u.%u", i >> 16, (i >> 8) & 255,
		    i & 255);
		ratelimit_failure(rl, NULL, addr, T0 + i);
		ratelimit_size(rl, &users, &addrs);
		assert_true(addrs <= 1000);
	}
	assert_int_equal(addrs, 1000);
	assert_int_equal(users, 0);
	/* The newest are held, the oldest went first. */
	assert_int_equal(ratelimit_check(rl, NULL, "10.1.134.159", T0 + 99999), 1);
	assert_int_equal(ratelimit_check(rl, NULL, "10.1.130.184", T0 + 99000), 1);
	assert_int_equal(ratelimit_check(rl, NULL, "10.1.130.183", T0 + 98999), 0);
	/* A blocked address is held while the spray goes on elsewhere. */
	ratelimit_failure(rl, NULL, "192.0.2.1", T0 + 100000);
	ratelimit_failure(rl, NULL, "192.0.2.1", T0 + 100000);
	for (i = 0; i < 998; i++) {
		snprintf(addr, sizeof(addr), "172.16.%u.%u", i >> 8, i & 255);
		ratelimit_failure(rl, NULL, addr, T0 + 100000);
	}
	assert_int_equal(ratelimit_check(rl, NULL, "192.0.2.1", T0 + 100000), 2);
	ratelimit_free(rl);
}

static void
test_long_keys(void **state)
{
	struct ratelimit *rl = defaults();
	char	 a[RATELIMIT_KEY_MAX + 10], b[RATELIMIT_KEY_MAX + 10];
	unsigned i;

	(void)state;
	memset(a, 'a', sizeof(a) - 1);
	a[sizeof(a) - 1] = '\0';
	memcpy(b, a, sizeof(b));
	b[RATELIMIT_KEY_MAX + 2] = 'b';
	for (i = 0; i < 6; i++)
		ratelimit_failure(rl, a, NULL, T0);
	/* Cut to the same key: limited together. */
	assert_int_equal(ratelimit_check(rl, b, NULL, T0), 1);
	ratelimit_free(rl);
}

static void
test_params(void **state)
{
	struct ratelimit_params p = ratelimit_user_defaults;
	const struct ratelimit_params *d = &ratelimit_user_defaults;

	(void)state;
	p.window = p.max - 1;
	assert_null(ratelimit_new(&p, d));
	p = *d;
	p.capacity = 0;
	assert_null(ratelimit_new(d, &p));
	p = *d;
	p.base = 0;
	assert_null(ratelimit_new(&p, d));
	p = *d;
	p.max = 0;
	assert_null(ratelimit_new(&p, d));
}

static void
test_addr_key(void **state)
{
	struct sockaddr_in sin;
	struct sockaddr_in6 sin6;
	struct sockaddr_un sun;
	char	 key[RATELIMIT_KEY_MAX + 1];

	(void)state;
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	inet_pton(AF_INET, "192.0.2.7", &sin.sin_addr);
	assert_int_equal(ratelimit_addr_key((struct sockaddr *)&sin, key), 0);
	assert_string_equal(key, "192.0.2.7");
	memset(&sin6, 0, sizeof(sin6));
	sin6.sin6_family = AF_INET6;
	inet_pton(AF_INET6, "2001:db8:1:2:aaaa:bbbb:cccc:dddd", &sin6.sin6_addr);
	assert_int_equal(ratelimit_addr_key((struct sockaddr *)&sin6, key), 0);
	assert_string_equal(key, "2001:db8:1:2::/64");
	inet_pton(AF_INET6, "::ffff:192.0.2.7", &sin6.sin6_addr);
	assert_int_equal(ratelimit_addr_key((struct sockaddr *)&sin6, key), 0);
	assert_string_equal(key, "192.0.2.7");
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	assert_int_equal(ratelimit_addr_key((struct sockaddr *)&sun, key), -1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_backoff),
		cmocka_unit_test(test_window),
		cmocka_unit_test(test_success),
		cmocka_unit_test(test_clock_back),
		cmocka_unit_test(test_memory_bound),
		cmocka_unit_test(test_long_keys),
		cmocka_unit_test(test_params),
		cmocka_unit_test(test_addr_key),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

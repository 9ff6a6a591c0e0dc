/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * test_ratelimit.c — the limits on password guessing (xvds/common/ratelimit.c)
 * on a clock the test turns: free failures, doubling delays and their
 * cap, guesses sent at once, the quiet window, what a success forgets,
 * a user slowed but never locked out, full tables, and the keys of
 * addresses.
 */
#include <config.h>

#include <sys/socket.h>
#include <sys/un.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "common/ratelimit.h"

#define T0	1000000		/* a monotonic clock's seconds */

static struct ratelimit *
defaults(void)
{
	struct ratelimit *rl;

	rl = ratelimit_new(&ratelimit_pair_defaults, &ratelimit_addr_defaults,
	    &ratelimit_user_defaults);
	assert_non_null(rl);
	return rl;
}

/* One attempt with its verdict: what ratelimit_admit said. */
static unsigned
attempt(struct ratelimit *rl, const char *user, const char *addr,
    int64_t now, enum ratelimit_verdict v)
{
	struct ratelimit_ticket t;
	unsigned wait;

	if ((wait = ratelimit_admit(rl, user, addr, now, &t)) == 0)
		ratelimit_settle(rl, user, addr, &t, v, now);
	return wait;
}

/* Admitted then failed: 0, else the wait. */
static unsigned
failure(struct ratelimit *rl, const char *user, const char *addr,
    int64_t now)
{
	return attempt(rl, user, addr, now, RATELIMIT_FAILED);
}

/* What an attempt would be told now, settled undecided if admitted. */
static unsigned
peek(struct ratelimit *rl, const char *user, const char *addr, int64_t now)
{
	return attempt(rl, user, addr, now, RATELIMIT_UNDECIDED);
}

/*
 * One user from one address: five failures are free, then 1, 2, 4 ...
 * seconds, at most 300; the same user from another address, and another
 * user from the same, are not held.
 */
static void
test_backoff(void **state)
{
	struct ratelimit *rl = defaults();
	int64_t	 now = T0;
	unsigned expect, i;

	(void)state;
	for (i = 0; i < 5; i++)
		assert_int_equal(failure(rl, "alice", "10.0.0.1", now), 0);
	assert_int_equal(peek(rl, "alice", "10.0.0.1", now), 0);
	for (expect = 1, i = 0; i < 40; i++) {
		assert_int_equal(failure(rl, "alice", "10.0.0.1", now), 0);
		assert_int_equal(peek(rl, "alice", "10.0.0.1", now), expect);
		assert_int_equal(peek(rl, "alice", "10.0.0.1",
		    now + expect - 1), 1);
		/* Not the user from elsewhere, nor the address for others
		 * (5 + i + 1 of its 20 free failures, 1 more each round). */
		assert_int_equal(peek(rl, "alice", "10.0.0.9", now), 0);
		if (i < 14)
			assert_int_equal(peek(rl, "bob", "10.0.0.1", now), 0);
		/* Then the next failure is admitted, at once. */
		now += expect;
		expect = expect * 2 > 300 ? 300 : expect * 2;
	}
	assert_int_equal(expect, 300);
	ratelimit_free(rl);
}

/*
 * Guesses sent at once are admitted no more than guesses sent one by
 * one: the free allowance and one more, then one at a time, blocked.
 */
static void
test_concurrent(void **state)
{
	struct ratelimit *rl = defaults();
	struct ratelimit_ticket t[300];
	bool	 in[300];
	char	 user[32];
	unsigned i, admitted = 0, sequential = 0;

	(void)state;
	/* One by one: bob from 10.0.0.2. */
	while (failure(rl, "bob", "10.0.0.2", T0) == 0)
		sequential++;
	/* At once: 300 for alice from 10.0.0.1, none settled yet. */
	for (i = 0; i < 300; i++)
		if ((in[i] = ratelimit_admit(rl, "alice", "10.0.0.1", T0,
		    &t[i]) == 0))
			admitted++;
	printf("# one user, one address: %u of 300 sent at once admitted, "
	    "%u sent one by one\n", admitted, sequential);
	assert_int_equal(sequential, 6);
	assert_int_equal(admitted, 6);
	assert_int_equal(ratelimit_admit(rl, "alice", "10.0.0.1", T0 + 10,
	    &t[0]), 1);	/* still in flight: the verdicts decide */
	for (i = 0; i < 300; i++)
		if (in[i])
			ratelimit_settle(rl, "alice", "10.0.0.1", &t[i],
			    RATELIMIT_FAILED, T0);
	assert_int_equal(peek(rl, "alice", "10.0.0.1", T0), 1);
	/* Then one at a time: the next two at once, one admitted. */
	assert_int_equal(ratelimit_admit(rl, "alice", "10.0.0.1", T0 + 1,
	    &t[0]), 0);
	assert_int_equal(ratelimit_admit(rl, "alice", "10.0.0.1", T0 + 1,
	    &t[1]), 1);
	ratelimit_settle(rl, "alice", "10.0.0.1", &t[0], RATELIMIT_FAILED,
	    T0 + 1);
	assert_int_equal(peek(rl, "alice", "10.0.0.1", T0 + 1), 2);

	/* 300 names at once from one address: its 20 and one more. */
	for (admitted = 0, i = 0; i < 300; i++) {
		snprintf(user, sizeof(user), "user%u", i);
		if ((in[i] = ratelimit_admit(rl, user, "10.0.0.3", T0,
		    &t[i]) == 0))
			admitted++;
	}
	printf("# one address, 300 names: %u admitted at once\n", admitted);
	assert_int_equal(admitted, 21);
	for (i = 0; i < 300; i++) {
		snprintf(user, sizeof(user), "user%u", i);
		if (in[i])
			ratelimit_settle(rl, user, "10.0.0.3", &t[i],
			    RATELIMIT_FAILED, T0);
	}
	assert_int_equal(peek(rl, "carol", "10.0.0.3", T0), 1);
	ratelimit_free(rl);
}

/* A verdict that never came (the client left, the database failed):
 * the attempt no longer counts, and costs nothing. */
static void
test_undecided(void **state)
{
	struct ratelimit *rl = defaults();
	unsigned i;

	(void)state;
	for (i = 0; i < 100; i++)
		assert_int_equal(peek(rl, "alice", "10.0.0.1", T0), 0);
	for (i = 0; i < 5; i++)
		assert_int_equal(failure(rl, "alice", "10.0.0.1", T0), 0);
	assert_int_equal(peek(rl, "alice", "10.0.0.1", T0), 0);
	ratelimit_free(rl);
}

static void
test_window(void **state)
{
	struct ratelimit *rl = defaults();
	unsigned i;

	(void)state;
	for (i = 0; i < 7; i++)
		ratelimit_settle(rl, "alice", "10.0.0.1", &(struct
		    ratelimit_ticket){ 0 }, RATELIMIT_FAILED, T0);
	assert_int_equal(peek(rl, "alice", "10.0.0.1", T0), 0);	/* none */
	for (i = 0; i < 7; i++)
		assert_int_equal(failure(rl, "alice", "10.0.0.1", T0 + i * 2),
		    0);
	assert_int_equal(peek(rl, "alice", "10.0.0.1", T0 + 12), 2);
	/* Quiet for less than the window: the count goes on. */
	assert_int_equal(failure(rl, "alice", "10.0.0.1", T0 + 899), 0);
	assert_int_equal(peek(rl, "alice", "10.0.0.1", T0 + 899), 4);
	/* Quiet for the window: forgotten; five free failures again. */
	for (i = 0; i < 5; i++)
		assert_int_equal(failure(rl, "alice", "10.0.0.1",
		    T0 + 899 + 900), 0);
	assert_int_equal(peek(rl, "alice", "10.0.0.1", T0 + 899 + 900), 0);
	assert_int_equal(failure(rl, "alice", "10.0.0.1", T0 + 899 + 900), 0);
	assert_int_equal(peek(rl, "alice", "10.0.0.1", T0 + 899 + 900), 1);
	ratelimit_free(rl);
}

/*
 * A success forgets its pair's failures, not its address's; and a user
 * known at an address is not held by that address's block (a NAT's
 * other users' failures).
 */
static void
test_success(void **state)
{
	struct ratelimit *rl = defaults();
	char	 user[32];
	unsigned i;

	(void)state;
	for (i = 0; i < 6; i++)
		assert_int_equal(failure(rl, "alice", "10.0.0.1", T0), 0);
	assert_int_equal(peek(rl, "alice", "10.0.0.1", T0), 1);
	assert_int_equal(attempt(rl, "alice", "10.0.0.1", T0 + 1,
	    RATELIMIT_SUCCEEDED), 0);
	for (i = 0; i < 3; i++)
		assert_int_equal(failure(rl, "alice", "10.0.0.1", T0 + 1), 0);
	assert_int_equal(peek(rl, "alice", "10.0.0.1", T0 + 1), 0);
	/* The address's count survives: 9 failures; its 20 free and one
	 * more, then blocked. */
	for (i = 0; i < 12; i++) {
		snprintf(user, sizeof(user), "m%u", i);
		assert_int_equal(failure(rl, user, "10.0.0.1", T0 + 1), 0);
	}
	assert_int_equal(peek(rl, "carol", "10.0.0.1", T0 + 1), 1);
	assert_int_equal(peek(rl, "carol", "10.0.0.2", T0 + 1), 0);
	/* alice logged in there: her neighbours' failures do not hold her. */
	assert_int_equal(attempt(rl, "alice", "10.0.0.1", T0 + 1,
	    RATELIMIT_SUCCEEDED), 0);
	ratelimit_free(rl);
}

/*
 * Anyone can fail as alice: from other addresses, past ten failures of
 * hers, their attempts are slowed (one each 1, 2, 4, 8 s, never longer),
 * never blocked; alice from her own address is not slowed, and gets in.
 */
static void
test_no_lockout(void **state)
{
	struct ratelimit *rl = defaults();
	char	 addr[32];
	unsigned i, admitted = 0, w, worst = 0;
	int64_t	 now;

	(void)state;
	/* 200 addresses, each failing as alice until held, every second. */
	for (now = T0; now < T0 + 60; now++)
		for (i = 0; i < 200; i++) {
			snprintf(addr, sizeof(addr), "198.51.%u.%u", i / 100,
			    i % 100);
			if ((w = failure(rl, "alice", addr, now)) == 0)
				admitted++;
			else if (w > worst && w < 300)
				worst = w;
			/* Her own address: never held, never slowed. */
			if (i % 50 == 0)
				assert_int_equal(peek(rl, "alice", "10.0.0.1",
				    now), 0);
		}
	printf("# 200 addresses guessing for 60 s: %u guesses admitted\n",
	    admitted);
	/* Each address's first, then one a slowed delay apart. */
	assert_true(admitted <= 200 + 60);
	assert_int_equal(worst, 8);
	assert_int_equal(attempt(rl, "alice", "10.0.0.1", now,
	    RATELIMIT_SUCCEEDED), 0);
	/* Others for whom she is slowed: one wait, bounded. */
	w = peek(rl, "alice", "203.0.113.1", now);
	assert_true(w <= 8);
	ratelimit_free(rl);
}

/*
 * A full table never drops a key that holds failures (a 300 s block
 * stays, whatever else fails); newcomers that find no room share the
 * overflow, limited as one key.  Memory stays as created.
 */
static void
test_full(void **state)
{
	struct ratelimit_params pair = ratelimit_pair_defaults,
	    addr = ratelimit_addr_defaults, user = ratelimit_user_defaults;
	struct ratelimit *rl;
	struct ratelimit_size sz;
	char	 name[32], a[32];
	unsigned i, w, admitted = 0;
	int64_t	 now = T0;

	(void)state;
	pair.capacity = addr.capacity = user.capacity = 1000;
	assert_non_null(rl = ratelimit_new(&pair, &addr, &user));
	/* mallory blocked 300 s at his address. */
	for (i = 0; (w = failure(rl, "mallory", "192.0.2.1", now)) != 0 ||
	    peek(rl, "mallory", "192.0.2.1", now) < 300; i++) {
		assert_true(i < 100);
		now += w;
	}
	/* 4,096 other names from as many addresses, one failure each. */
	for (i = 0; i < 4096; i++) {
		snprintf(name, sizeof(name), "n%u", i);
		snprintf(a, sizeof(a), "10.1.%u.%u", i >> 8, i & 255);
		if (failure(rl, name, a, now + 1) == 0)
			admitted++;
		ratelimit_size(rl, &sz);
		assert_true(sz.pairs <= 1000 && sz.addrs <= 1000 &&
		    sz.users <= 1000);
	}
	printf("# full tables: %u of 4096 newcomers admitted in one "
	    "second\n", admitted);
	assert_int_equal(peek(rl, "mallory", "192.0.2.1", now + 1), 299);
	/* Room for 999 (mallory holds one key of each table), then the
	 * overflow's allowance, as one pair: 5 and 1 more. */
	assert_int_equal(admitted, 999 + 6);
	/* Once the newcomers' failures are quiet, their keys make room. */
	assert_int_equal(failure(rl, "n5000", "10.9.9.9", now + 1 + 900), 0);
	ratelimit_free(rl);
}

static void
test_clock_back(void **state)
{
	struct ratelimit *rl = defaults();
	unsigned i;

	(void)state;
	for (i = 0; i < 20; i++)
		(void)failure(rl, "alice", "10.0.0.1", T0 + i * 300);
	assert_int_equal(peek(rl, "alice", "10.0.0.1", T0 + 19 * 300), 300);
	/* A clock stepped back never waits longer than the cap. */
	assert_int_equal(peek(rl, "alice", "10.0.0.1", T0 - 100000), 300);
	assert_int_equal(peek(rl, "alice", "10.0.0.1", T0 + 20 * 300), 0);
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
		assert_int_equal(failure(rl, a, "10.0.0.1", T0), 0);
	/* Cut to the same key: limited together. */
	assert_int_equal(peek(rl, b, "10.0.0.1", T0), 1);
	ratelimit_free(rl);
}

static void
test_params(void **state)
{
	struct ratelimit_params p = ratelimit_user_defaults;
	const struct ratelimit_params *d = &ratelimit_user_defaults;

	(void)state;
	p.window = p.max - 1;
	assert_null(ratelimit_new(&p, d, d));
	p = *d;
	p.capacity = 0;
	assert_null(ratelimit_new(d, &p, d));
	p = *d;
	p.base = 0;
	assert_null(ratelimit_new(d, d, &p));
	p = *d;
	p.max = 0;
	assert_null(ratelimit_new(&p, d, d));
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
		cmocka_unit_test(test_concurrent),
		cmocka_unit_test(test_undecided),
		cmocka_unit_test(test_window),
		cmocka_unit_test(test_success),
		cmocka_unit_test(test_no_lockout),
		cmocka_unit_test(test_full),
		cmocka_unit_test(test_clock_back),
		cmocka_unit_test(test_long_keys),
		cmocka_unit_test(test_params),
		cmocka_unit_test(test_addr_key),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

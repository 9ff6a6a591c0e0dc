/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * test_passwd_pool.c — argon2id checks on worker threads
 * (xvds/controller/passwd_pool.c): verdicts come back on the loop, the loop is
 * free while they run, a full queue refuses, and freeing the pool cancels
 * every job not yet called back, exactly once each.
 */
#include <config.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>
#include <event2/event.h>

#include "controller/passwd_pool.h"
#include "run_loop.h"

#define PASSWORD	"correct horse battery staple"

struct verdicts {
	int	 calls, match, mismatch, badhash, cancelled;
};

static void
count(enum passwd_result r, const char *why, bool cancelled, void *arg)
{
	struct verdicts *v = arg;

	(void)why;
	v->calls++;
	if (cancelled)
		v->cancelled++;
	else if (r == PASSWD_MATCH)
		v->match++;
	else if (r == PASSWD_MISMATCH)
		v->mismatch++;
	else
		v->badhash++;
}

static char hash[PASSWD_HASH_MAX];

static int
setup(void **state)
{
	char	 err[128];

	(void)state;
	return passwd_hash(PASSWORD, hash, err, sizeof(err));
}

static void
test_verdicts(void **state)
{
	struct event_base *base = event_base_new();
	struct passwd_pool *p;
	struct verdicts v = { 0 };
	char	 big[PASSWD_MAX + 2];

	(void)state;
	assert_non_null(base);
	assert_non_null(p = passwd_pool_new(base, 2));
	assert_int_equal(passwd_pool_verify(p, "10.0.0.1", hash, PASSWORD, count, &v), 0);
	assert_int_equal(passwd_pool_verify(p, "10.0.0.1", hash, "wrong", count, &v), 0);
	assert_int_equal(passwd_pool_verify(p, "10.0.0.2", NULL, PASSWORD, count, &v), 0);
	assert_int_equal(passwd_pool_verify(p, "10.0.0.3", "$2b$10$notargon", PASSWORD,
	    count, &v), 0);
	/* One byte too long, whose first PASSWD_MAX bytes would match a
	 * password of that length: refused, never cut short. */
	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	assert_int_equal(passwd_pool_verify(p, "10.0.0.1", hash, big, count, &v), 0);
	/* Nothing is called back before the loop runs. */
	assert_int_equal(v.calls, 0);
	assert_int_equal(run_until(base, &v.calls, 5, 10000), 0);
	assert_int_equal(v.match, 1);
	assert_int_equal(v.mismatch, 3);
	assert_int_equal(v.badhash, 1);
	assert_int_equal(v.cancelled, 0);
	assert_int_equal(passwd_pool_pending(p), 0);
	/* Each once: nothing more comes. */
	run_for(base, 50);
	assert_int_equal(v.calls, 5);
	passwd_pool_free(p);
	event_base_free(base);
}

/* While two workers hash, the loop's timers keep firing. */
static void
tick(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	(*(int *)arg)++;
}

static void
test_loop_free(void **state)
{
	struct event_base *base = event_base_new();
	struct timeval tv = { 0, 1000 };
	struct passwd_pool *p;
	struct verdicts v = { 0 };
	struct event *t;
	char	 client[32];
	int	 i, ticks = 0;

	(void)state;
	assert_non_null(p = passwd_pool_new(base, 2));
	/* From three clients: 20 are more than one client's share. */
	for (i = 0; i < 20; i++) {
		snprintf(client, sizeof(client), "10.0.0.%d", i % 3);
		assert_int_equal(passwd_pool_verify(p, client, hash, PASSWORD,
		    count, &v), 0);
	}
	assert_non_null(t = event_new(base, -1, EV_PERSIST, tick, &ticks));
	evtimer_add(t, &tv);
	assert_int_equal(run_until(base, &v.calls, 20, 20000), 0);
	assert_int_equal(v.match, 20);
	/* 20 checks of about 13 ms on two threads take 100 ms or more;
	 * a loop that hashed itself would have ticked once per check. */
	printf("# 20 checks: %d ticks of 1 ms meanwhile\n", ticks);
	assert_true(ticks > 20);
	event_free(t);
	passwd_pool_free(p);
	event_base_free(base);
}

/*
 * Bounded in all and per client: a client past its share is refused at
 * once, others are not; a full pool refuses everyone.  Freed with the
 * loop never run: every job called back, once, cancelled.
 */
static void
test_full_and_cancelled(void **state)
{
	struct event_base *base = event_base_new();
	struct passwd_pool *p;
	struct verdicts v = { 0 };
	char	 client[32];
	int	 i;

	(void)state;
	assert_non_null(p = passwd_pool_new(base, 1));
	for (i = 0; i < PASSWD_POOL_CLIENT_MAX; i++)
		assert_int_equal(passwd_pool_verify(p, "10.0.0.1", hash,
		    PASSWORD, count, &v), 0);
	assert_int_equal(passwd_pool_verify(p, "10.0.0.1", hash, PASSWORD,
	    count, &v), -1);
	assert_int_equal(passwd_pool_client_pending(p, "10.0.0.1"),
	    PASSWD_POOL_CLIENT_MAX);
	for (i = PASSWD_POOL_CLIENT_MAX; i < PASSWD_POOL_QUEUE_MAX; i++) {
		snprintf(client, sizeof(client), "10.1.%d.%d", i / 256,
		    i % 256);
		assert_int_equal(passwd_pool_verify(p, client, hash, PASSWORD,
		    count, &v), 0);
	}
	assert_int_equal(passwd_pool_verify(p, "10.0.0.2", hash, PASSWORD,
	    count, &v), -1);
	assert_int_equal(passwd_pool_pending(p), PASSWD_POOL_QUEUE_MAX);
	passwd_pool_free(p);
	assert_int_equal(v.calls, PASSWD_POOL_QUEUE_MAX);
	assert_int_equal(v.cancelled, PASSWD_POOL_QUEUE_MAX);
	event_base_free(base);
}

/* The order verdicts come back in: each one's client's letter. */
static char seen[64];
static int seen_n;

static void
record(enum passwd_result r, const char *why, bool cancelled, void *arg)
{
	(void)r;
	(void)why;
	(void)cancelled;
	seen[seen_n++] = *(const char *)arg;
}

/*
 * The clients take turns: one client's checks queued first do not hold
 * another's back behind all of them.  One worker; a's share queued, then
 * b's one: b's comes back within the first few, not last.
 */
static void
test_turns(void **state)
{
	struct event_base *base = event_base_new();
	struct passwd_pool *p;
	static char a = 'a', b = 'b';
	int	 i, b_at;

	(void)state;
	assert_non_null(p = passwd_pool_new(base, 1));
	for (i = 0; i < PASSWD_POOL_CLIENT_MAX; i++)
		assert_int_equal(passwd_pool_verify(p, "10.0.0.1", hash,
		    PASSWORD, record, &a), 0);
	assert_int_equal(passwd_pool_verify(p, "10.0.0.2", hash, PASSWORD,
	    record, &b), 0);
	assert_int_equal(run_until(base, &seen_n, PASSWD_POOL_CLIENT_MAX + 1,
	    20000), 0);
	b_at = (int)(strchr(seen, 'b') - seen);
	printf("# verdicts in the order %s: b's %d of %d\n", seen, b_at + 1,
	    seen_n);
	/* In turns, b's comes second or third (a's first may have been
	 * taken before b's was queued); first come first served, last.
	 * Half the queue is room for a slow test machine. */
	assert_true(b_at < PASSWD_POOL_CLIENT_MAX / 2);
	passwd_pool_free(p);
	event_base_free(base);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_verdicts),
		cmocka_unit_test(test_loop_free),
		cmocka_unit_test(test_full_and_cancelled),
		cmocka_unit_test(test_turns),
	};

	return cmocka_run_group_tests(tests, setup, NULL);
}

/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * test_timer_at.c — timer_at() on a real libevent loop: a timer for an
 * absolute time fires no earlier than that time, also when it is armed at
 * the end of a callback that ran long (as libxl arms its device waits at
 * the end of a synchronous domain build).  The checks are lower bounds:
 * a timer may fire late on a busy machine, never early.
 */
#include <config.h>

#include <sys/time.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <cmocka.h>
#include <event2/event.h>

#include "hv/timer_at.h"

struct probe {
	struct event_base *base;
	struct event	*timer;
	struct timeval	 armed;		/* when timer_at() was called */
	struct timeval	 deadline;	/* the absolute time asked for */
	struct timeval	 fired;
	int		 nfired;
	long		 busy_ms;	/* how long the arming callback runs first */
	long		 in_ms;		/* the deadline, from the arming */
};

static long
ms_between(const struct timeval *a, const struct timeval *b)
{
	struct timeval d;

	timersub(b, a, &d);
	return (long)d.tv_sec * 1000 + (long)d.tv_usec / 1000;
}

static void
fired(evutil_socket_t fd, short what, void *arg)
{
	struct probe *p = arg;

	(void)fd;
	(void)what;
	gettimeofday(&p->fired, NULL);
	p->nfired++;
}

/* Sleeps through busy_ms (the synchronous work), then arms the timer. */
static void
arm_late(evutil_socket_t fd, short what, void *arg)
{
	struct probe *p = arg;
	struct timespec busy = { p->busy_ms / 1000, (p->busy_ms % 1000) * 1000000 };
	struct timeval in = { p->in_ms / 1000, (p->in_ms % 1000) * 1000 };

	(void)fd;
	(void)what;
	while (nanosleep(&busy, &busy) == -1)
		continue;
	gettimeofday(&p->armed, NULL);
	timeradd(&p->armed, &in, &p->deadline);
	assert_int_equal(timer_at(p->base, p->timer, p->deadline), 0);
}

static void
run(struct probe *p)
{
	struct event *start;

	p->base = event_base_new();
	assert_non_null(p->base);
	p->timer = evtimer_new(p->base, fired, p);
	start = event_new(p->base, -1, 0, arm_late, p);
	assert_non_null(p->timer);
	assert_non_null(start);
	event_active(start, EV_TIMEOUT, 0);
	while (p->nfired == 0)
		assert_int_not_equal(event_base_loop(p->base, EVLOOP_ONCE), -1);
	event_free(start);
	event_free(p->timer);
	event_base_free(p->base);
}

/* Armed after 1 s of work in its callback: still its whole 500 ms. */
static void
test_armed_late_in_a_long_callback(void **state)
{
	struct probe p = { .busy_ms = 1000, .in_ms = 500 };

	(void)state;
	run(&p);
	assert_int_equal(p.nfired, 1);
	assert_true(timercmp(&p.fired, &p.deadline, >=));
	assert_true(ms_between(&p.armed, &p.fired) >= 500);
}

/* Armed at once: fires at its time, not before. */
static void
test_armed_at_once(void **state)
{
	struct probe p = { .busy_ms = 0, .in_ms = 300 };

	(void)state;
	run(&p);
	assert_int_equal(p.nfired, 1);
	assert_true(timercmp(&p.fired, &p.deadline, >=));
}

/* A time already past: fires at the loop's next turn. */
static void
test_past_fires_at_once(void **state)
{
	struct probe p = { .busy_ms = 0, .in_ms = 0 };
	struct event_base *base;
	struct event *timer;
	struct timeval now, past = { 5, 0 };

	(void)state;
	base = event_base_new();
	timer = evtimer_new(base, fired, &p);
	assert_non_null(timer);
	gettimeofday(&now, NULL);
	timersub(&now, &past, &past);
	assert_int_equal(timer_at(base, timer, past), 0);
	assert_int_equal(event_base_loop(base, EVLOOP_ONCE), 0);
	assert_int_equal(p.nfired, 1);
	event_free(timer);
	event_base_free(base);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_armed_late_in_a_long_callback),
		cmocka_unit_test(test_armed_at_once),
		cmocka_unit_test(test_past_fires_at_once),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

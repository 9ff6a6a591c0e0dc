/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * run_loop.h — for unit tests on a libevent loop: run it until a counter
 * reaches a value, or for a while.  Include after cmocka.h.
 */
#ifndef XVDS_TEST_RUN_LOOP_H
#define XVDS_TEST_RUN_LOOP_H

#include <event2/event.h>

static void
run_loop_expire(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	*(int *)arg = 1;
}

/* Runs the loop until *counter reaches want, or ms pass: 0 if it did. */
static int
run_until(struct event_base *base, const int *counter, int want, int ms)
{
	struct timeval tv = { ms / 1000, (ms % 1000) * 1000 };
	struct event *t;
	int	 expired = 0;

	t = evtimer_new(base, run_loop_expire, &expired);
	assert_non_null(t);
	evtimer_add(t, &tv);
	while (*counter < want && !expired)
		event_base_loop(base, EVLOOP_ONCE);
	event_free(t);
	return *counter >= want ? 0 : -1;
}

static void
run_for(struct event_base *base, int ms)
{
	int	 never = 0;

	(void)run_until(base, &never, 1, ms);
}

#endif

/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * hv/timer_at.c — see hv/timer_at.h.
 */
#include <config.h>

#include <sys/time.h>

#include <event2/event.h>

#include "hv/timer_at.h"

int
timer_at(struct event_base *base, struct event *ev, struct timeval abs)
{
	struct timeval now, rel = { 0, 0 };

	/* Now, not when the loop woke: see hv/timer_at.h. */
	if (event_base_update_cache_time(base) == -1)
		return -1;
	gettimeofday(&now, NULL);
	if (timercmp(&abs, &now, >))
		timersub(&abs, &now, &rel);
	return evtimer_add(ev, &rel);
}

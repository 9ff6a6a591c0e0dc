/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * hv/timer_at.h — arm a libevent timer for an absolute wall-clock time, as
 * libxl asks for its timeouts (libxl_event.h, timeout_register).
 */
#ifndef XVDS_HV_TIMER_AT_H
#define XVDS_HV_TIMER_AT_H

#include <sys/time.h>

struct event;
struct event_base;

/*
 * Arms ev (a timer of base) to fire at abs, or at once if abs has passed.
 * Right even when called late in a long callback: libevent counts a new
 * timer from the time it cached when the loop last woke, so a timer armed
 * after, say, ten seconds of a synchronous domain build would otherwise
 * fire ten seconds early.  Returns 0, or -1 if libevent refused it.
 */
int	timer_at(struct event_base *base, struct event *ev, struct timeval abs);

#endif

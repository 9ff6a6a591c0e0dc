/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * hostd/sample.c — windowed CPU means (see hostd/sample.h).
 */
#include <config.h>

#include <string.h>

#include "hostd/sample.h"

/* Starts afresh from this reading. */
static double
restart(struct sample_window *w, unsigned window, uint64_t cpu_ns,
    int64_t now_ns)
{
	memset(w, 0, sizeof(*w));
	w->size = window;
	w->last_cpu_ns = cpu_ns;
	w->last_ns = now_ns;
	return -1;
}

double
sample_add(struct sample_window *w, unsigned window, uint64_t cpu_ns,
    int64_t now_ns)
{
	double	 sum = 0;
	unsigned i;

	/* The configuration bounds it; a bad value must not overrun the ring. */
	if (window == 0)
		window = 1;
	if (window > SAMPLE_WINDOW_MAX)
		window = SAMPLE_WINDOW_MAX;
	if (w->last_ns == 0 || cpu_ns < w->last_cpu_ns || now_ns <= w->last_ns ||
	    w->size != window)
		return restart(w, window, cpu_ns, now_ns);
	w->ring[w->next] = 100.0 * (double)(cpu_ns - w->last_cpu_ns) /
	    (double)(now_ns - w->last_ns);
	w->next = (w->next + 1) % window;
	if (w->n < window)
		w->n++;
	w->last_cpu_ns = cpu_ns;
	w->last_ns = now_ns;
	for (i = 0; i < w->n; i++)
		sum += w->ring[i];
	return sum / w->n;
}

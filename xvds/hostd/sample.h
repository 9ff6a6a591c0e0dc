/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * hostd/sample.h — a domain's CPU use as xvds-policy(7) measures it: every
 * sample interval (MIGRATE_TERM) the growth of its CPU time over the wall time
 * elapsed, and its load the mean of the last window (WINDOW_SIZE) samples.
 * Pure arithmetic, so that the unit tests check it exactly.
 */
#ifndef XVDS_HOSTD_SAMPLE_H
#define XVDS_HOSTD_SAMPLE_H

#include <stdint.h>

#define SAMPLE_WINDOW_MAX	64

struct sample_window {
	uint64_t	 last_cpu_ns;
	int64_t		 last_ns;	/* monotonic; 0: nothing seen yet */
	double		 ring[SAMPLE_WINDOW_MAX];	/* percent, 100 = one CPU */
	unsigned	 size;		/* the window the ring was filled for */
	unsigned	 n;		/* samples in the ring */
	unsigned	 next;
};

/*
 * Adds the reading (cpu_ns of CPU time at now_ns) and returns the mean of
 * the last window samples in percent, or -1 when there is no interval to
 * measure yet: the first reading, one that went backwards (a new domain
 * under a reused id, or a clock step), or a new window size, each of which
 * starts afresh.
 */
double	sample_add(struct sample_window *, unsigned window, uint64_t cpu_ns,
	    int64_t now_ns);

#endif

/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * clock.h — the tests' and benchmarks' one clock to time things by:
 * monotonic milliseconds, as a double for sub-millisecond figures.
 */
#ifndef XVDS_TEST_CLOCK_H
#define XVDS_TEST_CLOCK_H

#include <time.h>

static inline double
now_ms(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec * 1e3 + (double)t.tv_nsec / 1e6;
}

#endif

/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * rng.h — xorshift64 for tests and benchmarks: random clusters that are
 * the same on every machine and every run, whatever libc's rand() does.
 */
#ifndef XVDS_TESTS_RNG_H
#define XVDS_TESTS_RNG_H

#include <stdint.h>

/* Uniform in [0, 1); *state must not be 0. */
static inline double
rng_uniform(uint64_t *state)
{
	*state ^= *state << 13;
	*state ^= *state >> 7;
	*state ^= *state << 17;
	return (double)(*state >> 11) / 9007199254740992.0;
}

#endif

/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * common/wipe.c — see common/wipe.h.
 */
#include <config.h>

#include <malloc.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>
#include <jansson.h>

#include "common/wipe.h"

void
wipe_free(void *p)
{
	if (p == NULL)
		return;
	/* The whole block: a buffer may have held more than it holds now. */
	explicit_bzero(p, malloc_usable_size(p));
	free(p);
}

static void *
wipe_malloc(size_t n)
{
	return malloc(n);
}

/* realloc() would free the old block unwiped when it moves it. */
static void *
wipe_realloc(void *p, size_t n)
{
	size_t	 have;
	void	*q;

	if (p == NULL)
		return malloc(n);
	if (n == 0) {
		wipe_free(p);
		return NULL;
	}
	if (n <= (have = malloc_usable_size(p)))
		return p;
	if ((q = malloc(n)) == NULL)
		return NULL;
	memcpy(q, p, have);
	wipe_free(p);
	return q;
}

void
wipe_init(void)
{
	json_set_alloc_funcs(wipe_malloc, wipe_free);
	event_set_mem_functions(wipe_malloc, wipe_realloc, wipe_free);
}

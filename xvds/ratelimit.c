/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * ratelimit.c — failed-login back-off per user and per address
 * (ratelimit.h): two fixed tables of keys, scanned.
 */
#include <config.h>

#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ratelimit.h"

#define CAPACITY_MAX	(1U << 20)

const struct ratelimit_params ratelimit_user_defaults = {
	.free = 5, .base = 1, .max = 300, .window = 900, .capacity = 4096,
};
const struct ratelimit_params ratelimit_addr_defaults = {
	.free = 20, .base = 1, .max = 300, .window = 900, .capacity = 4096,
};

struct entry {
	char		 key[RATELIMIT_KEY_MAX + 1];
	unsigned	 failures;	/* since the key was last quiet */
	int64_t		 last;		/* the last failure */
	int64_t		 until;		/* blocked before this */
};

/* Entries [0, n) are in use; order does not matter. */
struct table {
	struct ratelimit_params p;
	struct entry	*e;
	size_t		 n;
};

struct ratelimit {
	struct table	 user, addr;
};

static bool
params_ok(const struct ratelimit_params *p)
{
	/* A key forgotten while blocked would be unblocked early. */
	return p->base >= 1 && p->max >= p->base && p->window >= p->max &&
	    p->capacity >= 1 && p->capacity <= CAPACITY_MAX;
}

static int
table_init(struct table *t, const struct ratelimit_params *p)
{
	t->p = *p;
	t->n = 0;
	t->e = calloc(p->capacity, sizeof(*t->e));
	return t->e == NULL ? -1 : 0;
}

struct ratelimit *
ratelimit_new(const struct ratelimit_params *user,
    const struct ratelimit_params *addr)
{
	struct ratelimit *rl;

	if (!params_ok(user) || !params_ok(addr) ||
	    (rl = calloc(1, sizeof(*rl))) == NULL)
		return NULL;
	if (table_init(&rl->user, user) == -1 ||
	    table_init(&rl->addr, addr) == -1) {
		ratelimit_free(rl);
		return NULL;
	}
	return rl;
}

void
ratelimit_free(struct ratelimit *rl)
{
	if (rl == NULL)
		return;
	free(rl->user.e);
	free(rl->addr.e);
	free(rl);
}

static struct entry *
lookup(const struct table *t, const char *key)
{
	size_t	 i;

	for (i = 0; i < t->n; i++)
		if (strncmp(t->e[i].key, key, RATELIMIT_KEY_MAX) == 0)
			return &t->e[i];
	return NULL;
}

static bool
quiet(const struct table *t, const struct entry *e, int64_t now)
{
	/* A clock that went back counts as no time gone. */
	return now > e->last && now - e->last >= (int64_t)t->p.window;
}

static unsigned
wait_for(const struct table *t, const char *key, int64_t now)
{
	const struct entry *e;

	if (key == NULL || (e = lookup(t, key)) == NULL || quiet(t, e, now) ||
	    now >= e->until)
		return 0;
	if (e->until - now > (int64_t)t->p.max)
		return t->p.max;
	return (unsigned)(e->until - now);
}

unsigned
ratelimit_check(const struct ratelimit *rl, const char *user, const char *addr,
    int64_t now)
{
	unsigned u = wait_for(&rl->user, user, now);
	unsigned a = wait_for(&rl->addr, addr, now);

	return u > a ? u : a;
}

/* The key's entry; a new one takes the place of the longest quiet. */
static struct entry *
take(struct table *t, const char *key)
{
	struct entry *e, *old;
	size_t	 i;

	if ((e = lookup(t, key)) != NULL)
		return e;
	if (t->n < t->p.capacity)
		e = &t->e[t->n++];
	else {
		for (old = &t->e[0], i = 1; i < t->n; i++)
			if (t->e[i].last < old->last)
				old = &t->e[i];
		e = old;
	}
	memset(e, 0, sizeof(*e));
	snprintf(e->key, sizeof(e->key), "%s", key);
	return e;
}

static void
fail(struct table *t, const char *key, int64_t now)
{
	struct entry *e;
	unsigned k, delay;

	if (key == NULL)
		return;
	e = take(t, key);
	if (e->failures > 0 && quiet(t, e, now))
		e->failures = 0;
	if (e->failures < UINT32_MAX)
		e->failures++;
	if (now > e->last)
		e->last = now;
	if (e->failures <= t->p.free)
		return;
	k = e->failures - t->p.free - 1;	/* doublings */
	delay = k >= 31 || (t->p.base << k) > t->p.max ? t->p.max :
	    t->p.base << k;
	e->until = e->last + delay;
}

void
ratelimit_failure(struct ratelimit *rl, const char *user, const char *addr,
    int64_t now)
{
	fail(&rl->user, user, now);
	fail(&rl->addr, addr, now);
}

void
ratelimit_success(struct ratelimit *rl, const char *user)
{
	struct table *t = &rl->user;
	struct entry *e;

	if (user == NULL || (e = lookup(t, user)) == NULL)
		return;
	*e = t->e[--t->n];
}

void
ratelimit_size(const struct ratelimit *rl, size_t *users_r, size_t *addrs_r)
{
	*users_r = rl->user.n;
	*addrs_r = rl->addr.n;
}

int
ratelimit_addr_key(const struct sockaddr *sa, char *key)
{
	const struct sockaddr_in *sin;
	const struct sockaddr_in6 *sin6;
	struct in6_addr a;
	char	 buf[INET6_ADDRSTRLEN];

	switch (sa->sa_family) {
	case AF_INET:
		sin = (const struct sockaddr_in *)(const void *)sa;
		inet_ntop(AF_INET, &sin->sin_addr, key, RATELIMIT_KEY_MAX + 1);
		return 0;
	case AF_INET6:
		sin6 = (const struct sockaddr_in6 *)(const void *)sa;
		if (IN6_IS_ADDR_V4MAPPED(&sin6->sin6_addr)) {
			/* The same client as over IPv4. */
			inet_ntop(AF_INET, &sin6->sin6_addr.s6_addr[12], key,
			    RATELIMIT_KEY_MAX + 1);
			return 0;
		}
		a = sin6->sin6_addr;
		memset(&a.s6_addr[8], 0, 8);
		inet_ntop(AF_INET6, &a, buf, sizeof(buf));
		snprintf(key, RATELIMIT_KEY_MAX + 1, "%s/64", buf);
		return 0;
	default:
		return -1;
	}
}

/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * common/ratelimit.c — the limits on password guessing (common/ratelimit.h):
 * three fixed tables of keys (pair, address, user), each with an overflow key,
 * found through a parallel array of the keys' hashes.
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

#include "common/ratelimit.h"

#define CAPACITY_MAX	(1U << 20)
/* A key: the user's or the address's part; a pair's has both. */
#define PART		(RATELIMIT_KEY_MAX + 1)

const struct ratelimit_params ratelimit_pair_defaults = {
	.free = 5, .base = 1, .max = 300, .window = 900, .capacity = 4096,
};
const struct ratelimit_params ratelimit_addr_defaults = {
	.free = 20, .base = 1, .max = 300, .window = 900, .capacity = 4096,
};
const struct ratelimit_params ratelimit_user_defaults = {
	.free = 10, .base = 1, .max = 8, .window = 900, .capacity = 4096,
};

enum { T_PAIR, T_ADDR, T_USER, T__COUNT };

struct key {
	char		 s[2 * PART];	/* zero-padded: compared whole */
};

struct entry {
	struct key	 key;
	unsigned	 failures;	/* since the key was last quiet */
	unsigned	 inflight;	/* admitted, not settled */
	int64_t		 last;		/* the last failure */
	int64_t		 until;		/* pair, address: blocked before this */
	int64_t		 next;		/* user: its next slowed attempt */
	int64_t		 good;		/* pair: its last success, or 0 */
};

/* Entries [0, n) are in use, their hashes in h; order does not matter. */
struct table {
	struct ratelimit_params p;
	struct entry	*e;
	uint64_t	*h;
	size_t		 n;
	struct entry	 over;		/* those that found no room */
};

struct ratelimit {
	struct table	 t[T__COUNT];
};

static bool
params_ok(const struct ratelimit_params *p)
{
	/* A key forgotten while blocked would be unblocked early. */
	return p->base >= 1 && p->max >= p->base && p->window >= p->max &&
	    p->capacity >= 1 && p->capacity <= CAPACITY_MAX;
}

struct ratelimit *
ratelimit_new(const struct ratelimit_params *pair,
    const struct ratelimit_params *addr, const struct ratelimit_params *user)
{
	const struct ratelimit_params *p[T__COUNT] = { pair, addr, user };
	struct ratelimit *rl;
	int	 i;

	for (i = 0; i < T__COUNT; i++)
		if (!params_ok(p[i]))
			return NULL;
	if ((rl = calloc(1, sizeof(*rl))) == NULL)
		return NULL;
	for (i = 0; i < T__COUNT; i++) {
		rl->t[i].p = *p[i];
		rl->t[i].e = calloc(p[i]->capacity, sizeof(*rl->t[i].e));
		rl->t[i].h = calloc(p[i]->capacity, sizeof(*rl->t[i].h));
		if (rl->t[i].e == NULL || rl->t[i].h == NULL) {
			ratelimit_free(rl);
			return NULL;
		}
	}
	return rl;
}

void
ratelimit_free(struct ratelimit *rl)
{
	int	 i;

	if (rl == NULL)
		return;
	for (i = 0; i < T__COUNT; i++) {
		free(rl->t[i].e);
		free(rl->t[i].h);
	}
	free(rl);
}

static void
make_key(struct key *k, const char *a, const char *b)
{
	memset(k, 0, sizeof(*k));
	if (a != NULL)
		strncpy(k->s, a, RATELIMIT_KEY_MAX);
	if (b != NULL)
		strncpy(k->s + PART, b, RATELIMIT_KEY_MAX);
}

/* FNV-1a: a collision costs a comparison, nothing more. */
static uint64_t
hash(const struct key *k)
{
	uint64_t h = 14695981039346656037ULL;
	size_t	 i;

	for (i = 0; i < sizeof(k->s); i++)
		h = (h ^ (unsigned char)k->s[i]) * 1099511628211ULL;
	return h;
}

static bool
quiet(const struct table *t, const struct entry *e, int64_t now)
{
	/* A clock that went back counts as no time gone. */
	return now > e->last && now - e->last >= (int64_t)t->p.window;
}

/* Failures in the window. */
static unsigned
failures(const struct table *t, const struct entry *e, int64_t now)
{
	return e->failures > 0 && quiet(t, e, now) ? 0 : e->failures;
}

static bool
trusted(const struct table *t, const struct entry *e, int64_t now)
{
	return e->good != 0 && (now <= e->good ||
	    now - e->good < (int64_t)t->p.window);
}

/*
 * Worth nothing now: no failure in the window, nothing in flight.  Of
 * those, a pair known by a success is worth a little more (rank 1).
 */
static int
rank(const struct table *t, const struct entry *e, int64_t now)
{
	if (e->inflight > 0 || failures(t, e, now) > 0 || now < e->until)
		return -1;
	return trusted(t, e, now) ? 1 : 0;
}

/*
 * The key's entry if held (*fresh false); else the entry it would take
 * (*fresh true): a free one, else the worth-nothing one of lowest rank
 * whose last failure or success is the oldest, else the overflow.
 */
static struct entry *
find(const struct table *t, const struct key *k, uint64_t h, int64_t now,
    bool *fresh)
{
	const struct entry *best = NULL;
	int	 r, best_rank = 2;
	size_t	 i;

	*fresh = false;
	for (i = 0; i < t->n; i++)
		if (t->h[i] == h && memcmp(&t->e[i].key, k, sizeof(*k)) == 0)
			return &t->e[i];
	*fresh = true;
	if (t->n < t->p.capacity)
		return &t->e[t->n];
	for (i = 0; i < t->n; i++) {
		if ((r = rank(t, &t->e[i], now)) < 0 || r > best_rank)
			continue;
		if (best == NULL || r < best_rank ||
		    (t->e[i].last > t->e[i].good ? t->e[i].last : t->e[i].good) <
		    (best->last > best->good ? best->last : best->good)) {
			best = &t->e[i];
			best_rank = r;
		}
	}
	if (best != NULL)
		return (struct entry *)best;
	*fresh = false;
	return (struct entry *)&t->over;
}

/* Takes the place find chose for k. */
static void
claim(struct table *t, struct entry *e, const struct key *k, uint64_t h)
{
	size_t	 i = (size_t)(e - t->e);

	if (i == t->n)
		t->n++;
	memset(e, 0, sizeof(*e));
	e->key = *k;
	t->h[i] = h;
}

/*
 * Seconds the attempt must wait for a blocking table (pair, address):
 * blocked; or past the free allowance with an attempt in flight, whose
 * verdict decides.
 */
static unsigned
block_wait(const struct table *t, const struct entry *e, int64_t now)
{
	unsigned f = failures(t, e, now);

	if (f > 0 && now < e->until)
		return e->until - now > (int64_t)t->p.max ? t->p.max :
		    (unsigned)(e->until - now);
	if (f + e->inflight > t->p.free && e->inflight > 0)
		return 1;
	return 0;
}

/* The user's delay between slowed attempts; 0: not slowed. */
static unsigned
slow_delay(const struct table *t, const struct entry *e, int64_t now)
{
	unsigned f = failures(t, e, now), k;

	if (f < t->p.free)
		return 0;
	k = f - t->p.free;	/* doublings */
	return k >= 31 || (t->p.base << k) > t->p.max ? t->p.max :
	    t->p.base << k;
}

unsigned
ratelimit_admit(struct ratelimit *rl, const char *user, const char *addr,
    int64_t now, struct ratelimit_ticket *ticket)
{
	struct key k[T__COUNT];
	uint64_t h[T__COUNT];
	struct entry *e[T__COUNT];
	bool	 fresh[T__COUNT], slowed = false;
	unsigned w, wait = 0;
	int	 i;

	make_key(&k[T_PAIR], user, addr);
	make_key(&k[T_ADDR], NULL, addr);
	make_key(&k[T_USER], user, NULL);
	for (i = 0; i < T__COUNT; i++) {
		h[i] = hash(&k[i]);
		e[i] = find(&rl->t[i], &k[i], h[i], now, &fresh[i]);
	}
#define ST(i)	(fresh[i] ? NULL : e[i])	/* its state; NULL: none yet */
	if (ST(T_PAIR) != NULL)
		wait = block_wait(&rl->t[T_PAIR], e[T_PAIR], now);
	/* A user known at this address is not held by its neighbours. */
	if (ST(T_ADDR) != NULL && (ST(T_PAIR) == NULL ||
	    !trusted(&rl->t[T_PAIR], e[T_PAIR], now)) &&
	    (w = block_wait(&rl->t[T_ADDR], e[T_ADDR], now)) > wait)
		wait = w;
	if (ST(T_USER) != NULL && slow_delay(&rl->t[T_USER], e[T_USER],
	    now) > 0) {
		/* Slowed unless from a pair that did not fail, at an address
		 * that did not fail or where the user logged in lately. */
		slowed = ST(T_PAIR) != NULL && (e[T_PAIR]->inflight > 0 ||
		    failures(&rl->t[T_PAIR], e[T_PAIR], now) > 0);
		if (!slowed && ST(T_ADDR) != NULL &&
		    failures(&rl->t[T_ADDR], e[T_ADDR], now) > 0)
			slowed = ST(T_PAIR) == NULL ||
			    !trusted(&rl->t[T_PAIR], e[T_PAIR], now);
		/* A clock that went back waits no longer than the cap. */
		if (slowed && now < e[T_USER]->next && (w = e[T_USER]->next -
		    now > (int64_t)rl->t[T_USER].p.max ? rl->t[T_USER].p.max :
		    (unsigned)(e[T_USER]->next - now)) > wait)
			wait = w;
	}
#undef ST
	if (wait > 0)
		return wait;
	ticket->over = 0;
	for (i = 0; i < T__COUNT; i++) {
		if (fresh[i])
			claim(&rl->t[i], e[i], &k[i], h[i]);
		if (e[i] == &rl->t[i].over)
			ticket->over |= 1U << i;
		e[i]->inflight++;
	}
	if (slowed)
		e[T_USER]->next = now + slow_delay(&rl->t[T_USER], e[T_USER],
		    now);
	return 0;
}

/* The entry an admitted attempt was counted in: in flight, never taken. */
static struct entry *
counted(struct table *t, int i, const struct ratelimit_ticket *ticket,
    const struct key *k)
{
	uint64_t h = hash(k);
	size_t	 j;

	if (ticket->over & (1U << i))
		return &t->over;
	for (j = 0; j < t->n; j++)
		if (t->h[j] == h && memcmp(&t->e[j].key, k, sizeof(*k)) == 0)
			return &t->e[j];
	return NULL;
}

static void
fail(struct table *t, struct entry *e, bool blocks, int64_t now)
{
	unsigned k, delay;

	if (e->failures > 0 && quiet(t, e, now))
		e->failures = 0;
	if (e->failures < UINT32_MAX)
		e->failures++;
	if (now > e->last)
		e->last = now;
	if (!blocks || e->failures <= t->p.free)
		return;
	k = e->failures - t->p.free - 1;	/* doublings */
	delay = k >= 31 || (t->p.base << k) > t->p.max ? t->p.max :
	    t->p.base << k;
	e->until = e->last + delay;
}

void
ratelimit_settle(struct ratelimit *rl, const char *user, const char *addr,
    const struct ratelimit_ticket *ticket, enum ratelimit_verdict v,
    int64_t now)
{
	struct key k;
	struct entry *e;
	int	 i;

	for (i = 0; i < T__COUNT; i++) {
		make_key(&k, i == T_ADDR ? NULL : user, i == T_USER ? NULL :
		    addr);
		if ((e = counted(&rl->t[i], i, ticket, &k)) == NULL ||
		    e->inflight == 0)
			continue;	/* not admitted: nothing to settle */
		e->inflight--;
		if (v == RATELIMIT_FAILED)
			fail(&rl->t[i], e, i != T_USER, now);
		else if (v == RATELIMIT_SUCCEEDED && i == T_PAIR &&
		    e != &rl->t[i].over) {
			e->failures = 0;
			e->until = 0;
			e->good = now > 0 ? now : 1;
		}
	}
}

void
ratelimit_size(const struct ratelimit *rl, struct ratelimit_size *s)
{
	s->pairs = rl->t[T_PAIR].n;
	s->addrs = rl->t[T_ADDR].n;
	s->users = rl->t[T_USER].n;
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

/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * linesrv/conn_limit.c — a listener's connection table (linesrv/conn_limit.h): a
 * count per address in a tsearch(3) tree, holding only the addresses with a
 * connection, and the idle connections in two queues, of all and of
 * their address, oldest first; and the pause after accept errors.
 */
#include <config.h>

#include <sys/queue.h>

#include <search.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <event2/event.h>
#include <event2/listener.h>
#include <event2/util.h>

#include "linesrv/conn_limit.h"
#include "common/log.h"
#include "common/ratelimit.h"

struct ckey {
	char		 key[RATELIMIT_KEY_MAX + 1];
	size_t		 n;		/* keyed slots */
	size_t		 nidle;		/* of them idle */
	TAILQ_HEAD(, conn_slot) idle;
};

struct conn_slot {
	struct conn_limit *l;
	struct ckey	*k;		/* NULL once unkeyed */
	void		*owner;
	bool		 idle;
	unsigned long long since;	/* l->seq when made idle */
	TAILQ_ENTRY(conn_slot) all_entry;	/* l->idle, while idle */
	TAILQ_ENTRY(conn_slot) key_entry;	/* k->idle, while idle */
};

struct conn_limit {
	size_t		 max, per_key, n;
	unsigned long long seq;		/* idleness begun, in all */
	time_t		 noted;		/* monotonic seconds: the last note */
	unsigned	 evicted, refused;	/* since */
	void		*keys;		/* tsearch(3) root of struct ckey */
	TAILQ_HEAD(, conn_slot) idle;
};

static int
key_cmp(const void *a, const void *b)
{
	return strcmp(((const struct ckey *)a)->key,
	    ((const struct ckey *)b)->key);
}

static struct ckey *
key_find(const struct conn_limit *l, const char *key)
{
	struct ckey want;
	void	*const *p;

	snprintf(want.key, sizeof(want.key), "%s", key);
	p = tfind(&want, &l->keys, key_cmp);
	return p != NULL ? *(struct ckey *const *)p : NULL;
}

struct conn_limit *
conn_limit_new(size_t max, size_t per_key)
{
	struct conn_limit *l;

	if (max == 0 || per_key == 0 || (l = calloc(1, sizeof(*l))) == NULL)
		return NULL;
	l->max = max;
	l->per_key = per_key;
	TAILQ_INIT(&l->idle);
	return l;
}

void
conn_limit_free(struct conn_limit *l)
{
	/* Empty when every slot is gone: the keys went with their last. */
	free(l);
}

void
conn_limit_set(struct conn_limit *l, size_t max, size_t per_key)
{
	if (max > 0)
		l->max = max;
	if (per_key > 0)
		l->per_key = per_key;
}

/* twalk_r(3)'s: the key with the most idle slots, the oldest on a tie. */
static void
heaviest(const void *node, VISIT v, void *arg)
{
	const struct ckey *k = *(const struct ckey *const *)node;
	const struct ckey **best = arg;
	const struct conn_slot *a, *b;

	if ((v != postorder && v != leaf) || k->nidle == 0)
		return;
	if (*best == NULL || k->nidle > (*best)->nidle)
		*best = k;
	else if (k->nidle == (*best)->nidle) {
		a = TAILQ_FIRST(&k->idle);
		b = TAILQ_FIRST(&(*best)->idle);
		if (a->since < b->since)
			*best = k;
	}
}

enum conn_admit
conn_limit_admit(const struct conn_limit *l, const char *key, void **victim)
{
	struct ckey *k = key_find(l, key);
	const struct ckey *best = NULL;
	struct conn_slot *s;

	*victim = NULL;
	if (k != NULL && k->n >= l->per_key)
		s = TAILQ_FIRST(&k->idle);
	else if (l->n >= l->max) {
		/*
		 * The address holding the most idle connections gives one up:
		 * a flooder's many, not a client's one still in its handshake,
		 * however fast the flooder reconnects.
		 */
		twalk_r(l->keys, heaviest, &best);
		s = best != NULL ? TAILQ_FIRST(&best->idle) :
		    TAILQ_FIRST(&l->idle);
	} else
		return CONN_ADMIT;
	if (s == NULL)
		return CONN_REFUSE;
	*victim = s->owner;
	return CONN_EVICT;
}

static void
unqueue(struct conn_slot *s)
{
	if (!s->idle)
		return;
	TAILQ_REMOVE(&s->l->idle, s, all_entry);
	if (s->k != NULL) {
		TAILQ_REMOVE(&s->k->idle, s, key_entry);
		s->k->nidle--;
	}
	s->idle = false;
}

struct conn_slot *
conn_limit_add(struct conn_limit *l, const char *key, void *owner)
{
	struct conn_slot *s;
	struct ckey *k;
	void	*p;

	if ((s = calloc(1, sizeof(*s))) == NULL)
		return NULL;
	if ((k = key_find(l, key)) == NULL) {
		if ((k = calloc(1, sizeof(*k))) == NULL) {
			free(s);
			return NULL;
		}
		snprintf(k->key, sizeof(k->key), "%s", key);
		TAILQ_INIT(&k->idle);
		if ((p = tsearch(k, &l->keys, key_cmp)) == NULL) {
			free(k);
			free(s);
			return NULL;
		}
	}
	s->l = l;
	s->k = k;
	s->owner = owner;
	k->n++;
	l->n++;
	conn_limit_idle(s);
	return s;
}

/* Its address forgets s, and is forgotten with its last connection. */
static void
unkey(struct conn_slot *s)
{
	struct ckey *k = s->k;

	if (k == NULL)
		return;
	s->k = NULL;
	if (--k->n == 0) {
		tdelete(k, &s->l->keys, key_cmp);
		free(k);
	}
}

void
conn_limit_remove(struct conn_slot *s)
{
	if (s == NULL)
		return;
	unqueue(s);
	unkey(s);
	s->l->n--;
	free(s);
}

void
conn_limit_busy(struct conn_slot *s)
{
	unqueue(s);
}

void
conn_limit_idle(struct conn_slot *s)
{
	unqueue(s);
	TAILQ_INSERT_TAIL(&s->l->idle, s, all_entry);
	if (s->k != NULL) {
		TAILQ_INSERT_TAIL(&s->k->idle, s, key_entry);
		s->k->nidle++;
	}
	s->since = s->l->seq++;
	s->idle = true;
}

void
conn_limit_unkey(struct conn_slot *s)
{
	unqueue(s);
	unkey(s);
}

void
conn_limit_note(struct conn_limit *l, const char *name, const char *key,
    enum conn_admit what)
{
	struct timespec ts;

	if (what == CONN_EVICT)
		l->evicted++;
	else if (what == CONN_REFUSE)
		l->refused++;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	if (l->noted != 0 && ts.tv_sec - l->noted < CONN_LIMIT_NOTE_S)
		return;
	log_warnx("%s: at the connection limits (%zu in all, %zu from %s, "
	    "the last newcomer's address): %u idle connections closed for "
	    "newcomers, %u newcomers refused, since the last note", name,
	    l->n, conn_limit_count(l, key), key, l->evicted, l->refused);
	/* 0 is "never": a clock that starts at 0 notes again at once. */
	l->noted = ts.tv_sec != 0 ? ts.tv_sec : 1;
	l->evicted = l->refused = 0;
}

size_t
conn_limit_total(const struct conn_limit *l)
{
	return l->n;
}

size_t
conn_limit_count(const struct conn_limit *l, const char *key)
{
	struct ckey *k = key_find(l, key);

	return k != NULL ? k->n : 0;
}

/* The pause. */

struct listen_pause {
	struct evconnlistener *l;
	struct event	*timer;
	char		 name[32];
	unsigned	 ms;
	unsigned	 pauses;	/* in this run of errors */
};

static void
pause_over(evutil_socket_t fd, short what, void *arg)
{
	struct listen_pause *p = arg;

	(void)fd;
	(void)what;
	evconnlistener_enable(p->l);
}

struct listen_pause *
listen_pause_new(struct event_base *base, struct evconnlistener *l,
    const char *name, unsigned ms)
{
	struct listen_pause *p;

	if ((p = calloc(1, sizeof(*p))) == NULL)
		return NULL;
	if ((p->timer = evtimer_new(base, pause_over, p)) == NULL) {
		free(p);
		return NULL;
	}
	p->l = l;
	p->ms = ms;
	snprintf(p->name, sizeof(p->name), "%s", name);
	return p;
}

void
listen_pause_free(struct listen_pause *p)
{
	if (p == NULL)
		return;
	event_free(p->timer);
	free(p);
}

void
listen_pause_hit(struct listen_pause *p, int error)
{
	struct timeval tv = { p->ms / 1000, (p->ms % 1000) * 1000 };

	if (p->pauses++ % 60 == 0)
		log_warnx("%s: accept: %s: pausing accepts for %u ms%s", p->name,
		    evutil_socket_error_to_string(error), p->ms,
		    p->pauses > 1 ? " (still)" : "");
	evconnlistener_disable(p->l);
	evtimer_add(p->timer, &tv);
}

void
listen_pause_ok(struct listen_pause *p)
{
	if (p->pauses == 0)
		return;
	log_warnx("%s: accepting again, after %u pause%s", p->name,
	    p->pauses, p->pauses > 1 ? "s" : "");
	p->pauses = 0;
}

/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * linesrv/conn_limit.h — a listener's defences against connection floods
 * (xvds-broker(7), xvds-agent(7), CONNECTION LIMITS): who may hold its
 * connections, and a pause after accept errors.
 *
 * The table counts a listener's connections, at most max in all and at
 * most per_key from one client address (its ratelimit_addr_key: IPv6 by
 * its /64).  A connection is idle while it owes the server its next
 * request or its handshake; one with a request under way is busy.  When
 * a limit is reached a newcomer takes the place of an idle connection:
 * its own address's oldest if that address is at its cap, else the
 * oldest of the address holding the most idle connections; it is refused
 * only if there is none.  So whoever holds idle connections, from one
 * address or from many, cannot keep anyone else out: newcomers push out
 * the flooder's, not a client's one connection still in its handshake.
 *
 * Pure but for the pause: the table knows nothing of sockets, and its
 * tests play it alone.
 */
#ifndef XVDS_AGENT_CONN_LIMIT_H
#define XVDS_AGENT_CONN_LIMIT_H

#include <stddef.h>

struct conn_limit;
struct conn_slot;
struct event_base;
struct evconnlistener;

enum conn_admit {
	CONN_ADMIT,		/* there is room */
	CONN_EVICT,		/* room once *victim is closed (and removed) */
	CONN_REFUSE,		/* full of busy connections */
};

/* NULL if out of memory or a limit is 0. */
struct conn_limit *conn_limit_new(size_t max, size_t per_key);
/* Every slot must have been removed. */
void	conn_limit_free(struct conn_limit *);
/* New limits, for the newcomers from now on. */
void	conn_limit_set(struct conn_limit *, size_t max, size_t per_key);

/*
 * May one more connection come from key?  For CONN_EVICT, *victim is the
 * owner of the connection to close first: the oldest idle one of key if
 * key is at its cap, else the oldest idle one of the key with the most
 * idle ones (of those, the one idle the longest).  It walks the keys when
 * the table is full: 4,096 of them take some 30 us, less than the
 * newcomer's TLS handshake.
 */
enum conn_admit conn_limit_admit(const struct conn_limit *, const char *key,
	    void **victim);
/*
 * Takes a place for owner, idle from now on (even past a limit: ask
 * conn_limit_admit first).  NULL out of memory.
 */
struct conn_slot *conn_limit_add(struct conn_limit *, const char *key,
	    void *owner);
void	conn_limit_remove(struct conn_slot *);
/* A request under way: never evicted. */
void	conn_limit_busy(struct conn_slot *);
/* Idle again, the youngest idle one. */
void	conn_limit_idle(struct conn_slot *);
/*
 * No longer counted against its address, and never evicted: a peer that
 * proved who it is (an agent's certificate).  It still counts in all.
 */
void	conn_limit_unkey(struct conn_slot *);

/*
 * A newcomer refused or an idle connection closed for one (what): counted,
 * and logged with the counts at most every CONN_LIMIT_NOTE_S, not once
 * each, under a flood.  name is the listener's, key the newcomer's.
 */
#define CONN_LIMIT_NOTE_S	10
void	conn_limit_note(struct conn_limit *, const char *name, const char *key,
	    enum conn_admit what);

size_t	conn_limit_total(const struct conn_limit *);
size_t	conn_limit_count(const struct conn_limit *, const char *key);

/*
 * The pause: a listener that cannot accept (out of descriptors, mostly)
 * would be called again at once by the loop, and again, spinning on the
 * connection it cannot take.  listen_pause_hit, from the listener's error
 * callback, disables it for ms milliseconds instead.  Logged once when a
 * run of errors begins, every 60th pause while it lasts, and once when an
 * accept works again (listen_pause_ok, from the accept callback).
 */
struct listen_pause;

struct listen_pause *listen_pause_new(struct event_base *,
	    struct evconnlistener *, const char *name, unsigned ms);
void	listen_pause_free(struct listen_pause *);
void	listen_pause_hit(struct listen_pause *, int error);
void	listen_pause_ok(struct listen_pause *);

#endif

/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * ratelimit.h — back-off after failed logins, per user and per client
 * address.  Pure: the caller passes the time (seconds of a monotonic
 * clock), so that the tests play minutes in microseconds.
 *
 * Each key (a user name, an address) has a count of failures.  The first
 * `free` failures cost nothing; each further one blocks the key for
 * base, 2 base, 4 base, ... seconds, at most `max`, counted from that
 * failure.  A key with no failure for `window` seconds is forgotten.  A
 * login goes ahead only if neither its user nor its address is blocked;
 * a blocked attempt is not checked and not counted.
 *
 * A success forgets the user's failures, not the address's: otherwise
 * whoever holds one account could wipe his address's count between
 * guesses at others.
 *
 * Memory is fixed at creation: each table holds at most its capacity,
 * and a new key takes the place of the key whose last failure is the
 * oldest, so that an attacker with many names or addresses cannot grow
 * it; he can only push out keys older than his own.  Lookups scan the
 * tables: with both full (4,096 keys each) a check and a failure take
 * about 60 us together, a small part of an argon2id verify (13 ms).
 */
#ifndef XVDS_RATELIMIT_H
#define XVDS_RATELIMIT_H

#include <stddef.h>
#include <stdint.h>

#define RATELIMIT_KEY_MAX	64	/* longer keys are cut: their limits merge */

struct ratelimit_params {
	unsigned	 free;		/* failures without delay */
	unsigned	 base;		/* seconds of the first delay */
	unsigned	 max;		/* longest delay, seconds */
	unsigned	 window;	/* seconds of quiet that forget a key */
	size_t		 capacity;	/* keys held at most */
};

/* 5 free failures, 1 s doubling to 5 min, forgotten after 15 min quiet. */
extern const struct ratelimit_params ratelimit_user_defaults;
/* An address may be shared (NAT): 20 free failures, otherwise the same. */
extern const struct ratelimit_params ratelimit_addr_defaults;

struct ratelimit;

/* NULL if a parameter is out of range or memory is short. */
struct ratelimit *ratelimit_new(const struct ratelimit_params *user,
	    const struct ratelimit_params *addr);
void	ratelimit_free(struct ratelimit *);

/* 0 if the attempt may proceed, else the seconds to wait (at least 1). */
unsigned ratelimit_check(const struct ratelimit *, const char *user,
	    const char *addr, int64_t now);
/* The attempt failed (unknown user or wrong password alike). */
void	ratelimit_failure(struct ratelimit *, const char *user, const char *addr,
	    int64_t now);
/* The attempt succeeded: the user's failures are forgotten. */
void	ratelimit_success(struct ratelimit *, const char *user);

/* Keys held now (for tests and statistics). */
void	ratelimit_size(const struct ratelimit *, size_t *users_r,
	    size_t *addrs_r);

/*
 * The key of a client address: IPv4 as it is, IPv6 cut to its /64, which
 * is what one subscriber gets (RFC 6177) and so what one attacker holds.
 * Writes into key (RATELIMIT_KEY_MAX + 1 bytes); -1 for another family.
 */
struct sockaddr;
int	ratelimit_addr_key(const struct sockaddr *, char *key);

#endif

/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * common/ratelimit.h — the limits on password guessing (xvds-broker(7)
 * "Limits").  Pure: the caller passes the time (seconds of a monotonic
 * clock), so that the tests play minutes in microseconds.
 *
 * Who pays for a failure.  Three tables of keys:
 *
 *   pair     (user, client address): the guesser.  The first `free`
 *            failures cost nothing; each further one blocks the pair for
 *            base, 2 base, 4 base, ... seconds, at most `max`, counted
 *            from that failure.
 *   address  the same, with a larger allowance (an address may be a NAT
 *            of many users): it bounds one address's guesses at many
 *            names.  A pair that logged in within the window (a user
 *            known at that address) is not held by its address's block,
 *            so that one guesser behind a NAT does not lock out his
 *            neighbours.
 *   user     never blocks: the real user must still get in from her own
 *            address while she is attacked from others.  Past `free`
 *            failures of a user from everywhere, the attempts that come
 *            from a pair or address that failed lately are slowed: one
 *            such attempt every base, 2 base, ... seconds (at most
 *            `max`) for that user, the others told when to come back.
 *            An attempt from a pair with no failure, from an address with
 *            none (or where the user logged in lately), is not slowed.
 *
 * A key with no failure for `window` seconds starts afresh.  A success
 * forgets its pair's failures, not its address's (whoever holds one
 * account could otherwise wipe his address's count between guesses at
 * others) nor its user's (others' guesses at the name go on regardless).
 *
 * In-flight attempts count.  An attempt is admitted (ratelimit_admit)
 * before its password is checked and counted in each table as in flight
 * until its verdict (ratelimit_settle): while failures and attempts in
 * flight together are within the free allowance, attempts go on at once;
 * past it, only one at a time, and only when not blocked.  So N guesses
 * sent at once are admitted no more than N sent one by one.
 *
 * Memory is fixed at creation: each table holds at most its capacity.
 * A new key takes the place only of a key that is worth nothing (no
 * failure in the window, nothing in flight, not blocked), the quiet and
 * the unknown first; a key with failures is never dropped for a new one,
 * which would give its guesser a fresh allowance.  When no key may go,
 * the newcomer is counted in its table's overflow, one more key shared by
 * all that found no room, with the same limits: a flood of names or
 * addresses slows itself down, it never lets anyone through unlimited.
 * Lookups scan each table's array of key hashes, then compare the key:
 * with all three full (4,096 keys each) an attempt costs about 40 us,
 * admitted and settled, a small part of an argon2id check (13 ms).
 */
#ifndef XVDS_COMMON_RATELIMIT_H
#define XVDS_COMMON_RATELIMIT_H

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

/* 5 free failures, then 1 s doubling to 5 min; 15 min quiet forgets. */
extern const struct ratelimit_params ratelimit_pair_defaults;
/* An address may be a NAT: 20 free failures, otherwise the same. */
extern const struct ratelimit_params ratelimit_addr_defaults;
/* Slowed past 10 failures from everywhere: 1 s doubling to 8 s. */
extern const struct ratelimit_params ratelimit_user_defaults;

struct ratelimit;

/* Where an admitted attempt is counted: each table's key or overflow. */
struct ratelimit_ticket {
	unsigned char	 over;	/* bit per table: counted in its overflow */
};

enum ratelimit_verdict {
	RATELIMIT_FAILED,	/* a wrong password or an unknown user */
	RATELIMIT_SUCCEEDED,
	RATELIMIT_UNDECIDED,	/* no verdict reached the client */
};

/* NULL if a parameter is out of range or memory is short. */
struct ratelimit *ratelimit_new(const struct ratelimit_params *pair,
	    const struct ratelimit_params *addr,
	    const struct ratelimit_params *user);
void	ratelimit_free(struct ratelimit *);

/*
 * 0 if the attempt may proceed: it is counted as in flight until
 * ratelimit_settle with the same user, addr and ticket, which must
 * follow, once.  Else the seconds to wait (at least 1), nothing counted.
 */
unsigned ratelimit_admit(struct ratelimit *, const char *user,
	    const char *addr, int64_t now, struct ratelimit_ticket *);
void	ratelimit_settle(struct ratelimit *, const char *user,
	    const char *addr, const struct ratelimit_ticket *,
	    enum ratelimit_verdict, int64_t now);

/* Keys held now (for tests and statistics), overflows apart. */
struct ratelimit_size {
	size_t	 pairs, addrs, users;
};
void	ratelimit_size(const struct ratelimit *, struct ratelimit_size *);

/*
 * The key of a client address: IPv4 as it is, IPv6 cut to its /64, which
 * is what one subscriber gets (RFC 6177) and so what one attacker holds.
 * Writes into key (RATELIMIT_KEY_MAX + 1 bytes); -1 for another family.
 */
struct sockaddr;
int	ratelimit_addr_key(const struct sockaddr *, char *key);

#endif

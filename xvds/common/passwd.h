/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * common/passwd.h — users' login passwords as argon2id hashes (libsodium's
 * encoded form, "$argon2id$v=19$m=...,t=...,p=1$salt$hash").  Pure
 * computation: the broker reads and writes the strings in the database.
 *
 * Cost (RFC 9106 and OWASP's first argon2id choice): 19 MiB of memory and
 * 2 passes.  A login costs about 13 ms of one core with it, so a boot
 * storm of 1,000 logins in 10 s (`make bench-broker`) needs a fraction of
 * a few cores and 19 MiB per login hashed at once, while a stolen hash
 * still costs an attacker 19 MiB and two passes per guess.  Raising the
 * constants later is safe: passwd_needs_rehash() tells the broker to
 * re-hash at the user's next successful login.
 *
 * Policy: the empty password is no password.  passwd_hash() refuses it
 * and passwd_verify() never accepts it (no user can be left open by an
 * empty field).  Passwords are at most PASSWD_MAX bytes, so that a login
 * message bounds the work it causes.
 */
#ifndef XVDS_COMMON_PASSWD_H
#define XVDS_COMMON_PASSWD_H

#include <stdbool.h>
#include <stddef.h>

#define PASSWD_OPSLIMIT		2ULL		/* passes */
#define PASSWD_MEMLIMIT		(19456U * 1024U)	/* bytes: 19 MiB */
#define PASSWD_MAX		1024		/* bytes of a password */
#define PASSWD_HASH_MAX		128		/* crypto_pwhash_STRBYTES, NUL included */

/*
 * A stored hash whose cost is above these is refused unverified: a
 * tampered row must not make one login cost seconds or gigabytes.
 */
#define PASSWD_OPSLIMIT_CEIL	16ULL
#define PASSWD_MEMLIMIT_CEIL	(256U * 1024U * 1024U)

enum passwd_result {
	PASSWD_MATCH,
	PASSWD_MISMATCH,	/* wrong (or empty, or too long) password */
	PASSWD_BADHASH,		/* the stored string is not an argon2id hash we take */
};

/* Hashes password into out (PASSWD_HASH_MAX bytes); 0, or -1 and err. */
int	passwd_hash(const char *password, char *out, char *err, size_t errlen);

/*
 * Checks password against stored in constant time for a given hash.  A
 * stored string of another algorithm (argon2i, bcrypt, crypt(3)'s), of
 * bad syntax or above the cost ceilings is PASSWD_BADHASH, with err.
 */
enum passwd_result passwd_verify(const char *stored, const char *password,
	    char *err, size_t errlen);

/*
 * Costs as much as passwd_verify() of a real user and always fails: the
 * broker calls it for an unknown user, so that the answer's time does
 * not tell which users exist.
 */
void	passwd_verify_dummy(const char *password);

/* True if stored is not argon2id with exactly today's costs. */
bool	passwd_needs_rehash(const char *stored);

#endif

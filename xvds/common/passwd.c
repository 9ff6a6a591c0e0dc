/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * common/passwd.c — argon2id password hashes through libsodium
 * (common/passwd.h).
 */
#include <config.h>

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include <sodium.h>

#include "common/errbuf.h"
#include "common/passwd.h"

#define ARGON2ID_PREFIX		"$argon2id$v=19$m="

_Static_assert(PASSWD_HASH_MAX == crypto_pwhash_STRBYTES,
    "PASSWD_HASH_MAX is libsodium's string size");
_Static_assert(PASSWD_MEMLIMIT >= crypto_pwhash_MEMLIMIT_MIN &&
    PASSWD_OPSLIMIT >= crypto_pwhash_OPSLIMIT_MIN, "costs below libsodium's");

struct cost {
	uint64_t	 m;	/* KiB */
	uint64_t	 t;
	uint64_t	 p;
};

static bool
sodium_ready(void)
{
	/* Idempotent and thread-safe; -1 only if there is no entropy source. */
	return sodium_init() >= 0;
}

/* Reads decimal digits at *sp up to stop; no sign, no overflow. */
static bool
number(const char **sp, char stop, uint64_t *v)
{
	const char *s = *sp;

	*v = 0;
	if (*s < '0' || *s > '9' || (s[0] == '0' && s[1] != stop))
		return false;
	for (; *s >= '0' && *s <= '9'; s++) {
		if (*v > (UINT64_MAX - 9) / 10)
			return false;
		*v = *v * 10 + (uint64_t)(*s - '0');
	}
	if (*s != stop)
		return false;
	*sp = s + 1;
	return true;
}

/*
 * Checks the encoded form's syntax up to the salt and reads its costs;
 * libsodium checks the rest (salt and hash in base64) when it verifies.
 */
static int
parse(const char *stored, struct cost *c, char *err, size_t errlen)
{
	const char *s = stored;
	size_t	 n = strnlen(stored, PASSWD_HASH_MAX);

	if (n == PASSWD_HASH_MAX) {
		errbuf_set(err, errlen, "stored hash too long");
		return -1;
	}
	if (strncmp(s, ARGON2ID_PREFIX, strlen(ARGON2ID_PREFIX)) != 0) {
		errbuf_set(err, errlen, "stored hash is not argon2id v=19");
		return -1;
	}
	s += strlen(ARGON2ID_PREFIX);
	if (!number(&s, ',', &c->m) || strncmp(s, "t=", 2) != 0 ||
	    (s += 2, !number(&s, ',', &c->t)) || strncmp(s, "p=", 2) != 0 ||
	    (s += 2, !number(&s, '$', &c->p))) {
		errbuf_set(err, errlen, "stored hash: bad cost parameters");
		return -1;
	}
	if (c->p != 1 || c->t == 0 || c->t > PASSWD_OPSLIMIT_CEIL ||
	    c->m < crypto_pwhash_MEMLIMIT_MIN / 1024 ||
	    c->m > PASSWD_MEMLIMIT_CEIL / 1024) {
		errbuf_set(err, errlen, "stored hash: costs out of range "
		    "(m=%llu KiB, t=%llu, p=%llu)", (unsigned long long)c->m,
		    (unsigned long long)c->t, (unsigned long long)c->p);
		return -1;
	}
	if (strchr(s, '$') == NULL) {
		errbuf_set(err, errlen, "stored hash: no hash after the salt");
		return -1;
	}
	return 0;
}

int
passwd_hash(const char *password, char *out, char *err, size_t errlen)
{
	size_t	 n = strnlen(password, PASSWD_MAX + 1);

	if (n == 0) {
		errbuf_set(err, errlen, "empty password");
		return -1;
	}
	if (n > PASSWD_MAX) {
		errbuf_set(err, errlen, "password longer than %d bytes", PASSWD_MAX);
		return -1;
	}
	if (!sodium_ready()) {
		errbuf_set(err, errlen, "libsodium cannot start");
		return -1;
	}
	if (crypto_pwhash_str_alg(out, password, n, PASSWD_OPSLIMIT,
	    PASSWD_MEMLIMIT, crypto_pwhash_ALG_ARGON2ID13) != 0) {
		errbuf_set(err, errlen, "argon2id: out of memory");
		return -1;
	}
	return 0;
}

enum passwd_result
passwd_verify(const char *stored, const char *password, char *err,
    size_t errlen)
{
	struct cost c;
	size_t	 n;

	if (parse(stored, &c, err, errlen) == -1)
		return PASSWD_BADHASH;
	n = strnlen(password, PASSWD_MAX + 1);
	if (n == 0 || n > PASSWD_MAX || !sodium_ready())
		return PASSWD_MISMATCH;
	/*
	 * libsodium answers -1 for a wrong password and for a salt or hash
	 * that is not base64 alike; the syntax above being right, take it as
	 * a mismatch.
	 */
	if (crypto_pwhash_argon2id_str_verify(stored, password, n) != 0)
		return PASSWD_MISMATCH;
	return PASSWD_MATCH;
}

void
passwd_verify_dummy(const char *password)
{
	static const unsigned char salt[crypto_pwhash_SALTBYTES];
	unsigned char out[32];
	size_t	 n = strnlen(password, PASSWD_MAX + 1);

	if (n == 0 || n > PASSWD_MAX || !sodium_ready())
		return;
	/* One derivation at today's costs: what a real verify does. */
	if (crypto_pwhash(out, sizeof(out), password, n, salt, PASSWD_OPSLIMIT,
	    PASSWD_MEMLIMIT, crypto_pwhash_ALG_ARGON2ID13) != 0)
		return;
	sodium_memzero(out, sizeof(out));
}

bool
passwd_needs_rehash(const char *stored)
{
	struct cost c;

	if (parse(stored, &c, NULL, 0) == -1)
		return true;
	return crypto_pwhash_argon2id_str_needs_rehash(stored, PASSWD_OPSLIMIT,
	    PASSWD_MEMLIMIT) != 0;
}

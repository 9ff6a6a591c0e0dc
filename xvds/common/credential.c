/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * common/credential.c — one-time RDP credentials and session tokens, and the
 * digests stored for them (common/credential.h).
 */
#include <config.h>

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include <sodium.h>

#include "common/credential.h"

#define LOWER	"abcdefghijkmnpqrstuvwxyz"	/* no l, o */
#define UPPER	"ABCDEFGHJKLMNPQRSTUVWXYZ"	/* no I, O */
#define DIGITS	"23456789"			/* no 0, 1 */

static const char user_alphabet[] = "abcdefghjkmnpqrstuvwxyz" DIGITS; /* no i */
static const char secret_alphabet[] = UPPER LOWER DIGITS;

_Static_assert(sizeof(CREDENTIAL_USER_PREFIX) - 1 + 8 == CREDENTIAL_USER_LEN,
    "a user name is the prefix and 8 random characters");
_Static_assert(sizeof(secret_alphabet) - 1 == 56, "56 symbols");

/* Contexts of the digests, by enum credential_kind. */
static const char *const contexts[] = {
	[CREDENTIAL_RDP] = "xvds rdp credential v1",
	[CREDENTIAL_TOKEN] = "xvds session token v1",
};

/* n characters drawn uniformly from alphabet (no modulo bias). */
static void
draw(char *out, size_t n, const char *alphabet)
{
	uint32_t len = (uint32_t)strlen(alphabet);
	size_t	 i;

	for (i = 0; i < n; i++)
		out[i] = alphabet[randombytes_uniform(len)];
	out[n] = '\0';
}

static bool
has_one_of(const char *s, const char *set)
{
	return strpbrk(s, set) != NULL;
}

int
credential_new(struct credential *c)
{
	size_t	 pre = strlen(CREDENTIAL_USER_PREFIX);

	if (sodium_init() < 0)
		return -1;
	memcpy(c->user, CREDENTIAL_USER_PREFIX, pre);
	draw(c->user + pre, CREDENTIAL_USER_LEN - pre, user_alphabet);
	/*
	 * Drawn again until every class is in: uniform over the passwords a
	 * complexity rule takes; about 1 draw in 35 is thrown away.
	 */
	do
		draw(c->password, CREDENTIAL_PASSWORD_LEN, secret_alphabet);
	while (!has_one_of(c->password, UPPER) ||
	    !has_one_of(c->password, LOWER) || !has_one_of(c->password, DIGITS));
	return 0;
}

void
credential_wipe(struct credential *c)
{
	sodium_memzero(c->password, sizeof(c->password));
}

/* n characters, each in alphabet; no NUL before the end. */
static bool
shape_ok(const char *s, size_t n, const char *alphabet)
{
	return strnlen(s, n + 1) == n && strspn(s, alphabet) == n;
}

bool
credential_user_ok(const char *s)
{
	size_t	 pre = strlen(CREDENTIAL_USER_PREFIX);

	return s != NULL && strncmp(s, CREDENTIAL_USER_PREFIX, pre) == 0 &&
	    shape_ok(s + pre, CREDENTIAL_USER_LEN - pre, user_alphabet);
}

bool
credential_password_ok(const char *s)
{
	return s != NULL &&
	    shape_ok(s, CREDENTIAL_PASSWORD_LEN, secret_alphabet);
}

int
credential_token(char token[CREDENTIAL_TOKEN_LEN + 1])
{
	if (sodium_init() < 0)
		return -1;
	draw(token, CREDENTIAL_TOKEN_LEN, secret_alphabet);
	return 0;
}

static void
digest(enum credential_kind kind, const char *secret,
    unsigned char out[crypto_generichash_BYTES])
{
	crypto_generichash_state st;
	const char *ctx = contexts[kind];

	/* The context's NUL separates it from the secret. */
	crypto_generichash_init(&st, NULL, 0, crypto_generichash_BYTES);
	crypto_generichash_update(&st, (const unsigned char *)ctx,
	    strlen(ctx) + 1);
	crypto_generichash_update(&st, (const unsigned char *)secret,
	    strlen(secret));
	crypto_generichash_final(&st, out, crypto_generichash_BYTES);
}

void
credential_digest(enum credential_kind kind, const char *secret,
    char hex[CREDENTIAL_DIGEST_LEN + 1])
{
	unsigned char d[crypto_generichash_BYTES];

	digest(kind, secret, d);
	sodium_bin2hex(hex, CREDENTIAL_DIGEST_LEN + 1, d, sizeof(d));
}

bool
credential_match(enum credential_kind kind, const char *stored_hex,
    const char *secret)
{
	unsigned char want[crypto_generichash_BYTES], got[sizeof(want)];
	size_t	 n;

	if (strnlen(stored_hex, CREDENTIAL_DIGEST_LEN + 1) !=
	    CREDENTIAL_DIGEST_LEN || sodium_hex2bin(want, sizeof(want),
	    stored_hex, CREDENTIAL_DIGEST_LEN, NULL, &n, NULL) != 0 ||
	    n != sizeof(want))
		return false;
	digest(kind, secret, got);
	return sodium_memcmp(want, got, sizeof(want)) == 0;
}

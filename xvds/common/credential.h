/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * common/credential.h — the secrets the controller hands out: the one-time RDP
 * credential of a session (delivered into the guest, never stored in
 * clear) and the session token the client renews its lease and logs out
 * with.  Pure computation over libsodium's random source.
 *
 * Alphabets leave out what reads alike (0 O o, 1 I l), and hold no
 * symbols: nothing a keyboard layout, a shell, FreeRDP's "/p:" argument,
 * chpasswd's "user:password" line or an xrdp/Windows policy could bend.
 *
 *   user      "xvds-" and 8 of [a-km-np-z2-9]: 13 characters, within
 *             Windows' 20 and Linux's 32, lower case for useradd(8);
 *             not secret, 31^8 (39.6 bits) against collisions.
 *   password  23 of [A-HJ-NP-Za-km-np-z2-9] (56 symbols), at least one
 *             upper, one lower and one digit (Windows' complexity rule):
 *             about 133 bits.
 *   token     32 of the password's alphabet: about 186 bits.
 *
 * Being random and that long, these need no slow hash: what is stored is
 * a BLAKE2b-256 digest (crypto_generichash), hex, of a context word and
 * the secret; guessing a preimage is out of reach, so argon2id's cost
 * would buy nothing but latency at every renew.
 */
#ifndef XVDS_COMMON_CREDENTIAL_H
#define XVDS_COMMON_CREDENTIAL_H

#include <stdbool.h>

#define CREDENTIAL_USER_PREFIX	"xvds-"
#define CREDENTIAL_USER_LEN	13
#define CREDENTIAL_PASSWORD_LEN	23
#define CREDENTIAL_TOKEN_LEN	32
#define CREDENTIAL_DIGEST_LEN	64	/* hex of 32 bytes */

struct credential {
	char		 user[CREDENTIAL_USER_LEN + 1];
	char		 password[CREDENTIAL_PASSWORD_LEN + 1];
};

/* What a digest is of: a secret of one kind never matches another's. */
enum credential_kind {
	CREDENTIAL_RDP,		/* the RDP password */
	CREDENTIAL_TOKEN,	/* a session token */
};

/* A new credential; -1 only if libsodium cannot start. */
int	credential_new(struct credential *);
/* Forgets the password. */
void	credential_wipe(struct credential *);
/*
 * Whether a string is of a credential's shape: the length and the
 * alphabet above (the password's character classes are not required, so
 * that an operator may set one by hand).  For what crosses a trust
 * boundary: the agent channel, the control socket, xenstore.
 */
bool	credential_user_ok(const char *);
bool	credential_password_ok(const char *);
/* A new session token; -1 only if libsodium cannot start. */
int	credential_token(char token[CREDENTIAL_TOKEN_LEN + 1]);

/* The digest to store for a secret. */
void	credential_digest(enum credential_kind, const char *secret,
	    char hex[CREDENTIAL_DIGEST_LEN + 1]);
/*
 * Whether secret is the one whose digest was stored, in a time that
 * does not depend on where they differ.  A malformed stored digest never
 * matches.
 */
bool	credential_match(enum credential_kind, const char *stored_hex,
	    const char *secret);

#endif

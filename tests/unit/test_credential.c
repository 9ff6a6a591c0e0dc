/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * test_credential.c — one-time RDP credentials and session tokens
 * (xvds/common/credential.c): their forms and alphabets, that they differ, and
 * the digests stored for them: matching, of one kind only, malformed.
 */
#include <config.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "common/credential.h"

#define SECRET_ALPHABET	"ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnpqrstuvwxyz23456789"
#define ROUNDS		2000

static void
test_forms(void **state)
{
	struct credential c;
	char	 tok[CREDENTIAL_TOKEN_LEN + 1];
	unsigned seen[256], i;
	const char *p;

	(void)state;
	memset(seen, 0, sizeof(seen));
	for (i = 0; i < ROUNDS; i++) {
		assert_int_equal(credential_new(&c), 0);
		assert_int_equal(strlen(c.user), CREDENTIAL_USER_LEN);
		assert_int_equal(strncmp(c.user, "xvds-", 5), 0);
		assert_int_equal(strspn(c.user + 5,
		    "abcdefghjkmnpqrstuvwxyz23456789"), 8);
		assert_int_equal(strlen(c.password), CREDENTIAL_PASSWORD_LEN);
		assert_int_equal(strspn(c.password, SECRET_ALPHABET),
		    CREDENTIAL_PASSWORD_LEN);
		assert_non_null(strpbrk(c.password, "ABCDEFGHJKLMNPQRSTUVWXYZ"));
		assert_non_null(strpbrk(c.password, "abcdefghijkmnpqrstuvwxyz"));
		assert_non_null(strpbrk(c.password, "23456789"));
		for (p = c.password; *p != '\0'; p++)
			seen[(unsigned char)*p]++;
		credential_wipe(&c);
		assert_int_equal(c.password[0], '\0');
		assert_int_equal(credential_token(tok), 0);
		assert_int_equal(strlen(tok), CREDENTIAL_TOKEN_LEN);
		assert_int_equal(strspn(tok, SECRET_ALPHABET), CREDENTIAL_TOKEN_LEN);
	}
	/*
	 * Every symbol drawn, none far from its share (46,000 draws, about
	 * 821 each): a gross bias or a dropped symbol would show.
	 */
	for (p = SECRET_ALPHABET; *p != '\0'; p++) {
		assert_in_range(seen[(unsigned char)*p], 600, 1100);
	}
}

static void
test_unique(void **state)
{
	struct credential a, b;
	char	 t1[CREDENTIAL_TOKEN_LEN + 1], t2[CREDENTIAL_TOKEN_LEN + 1];

	(void)state;
	assert_int_equal(credential_new(&a), 0);
	assert_int_equal(credential_new(&b), 0);
	assert_string_not_equal(a.user, b.user);
	assert_string_not_equal(a.password, b.password);
	assert_int_equal(credential_token(t1), 0);
	assert_int_equal(credential_token(t2), 0);
	assert_string_not_equal(t1, t2);
}

static void
test_digest(void **state)
{
	char	 hex[CREDENTIAL_DIGEST_LEN + 1], other[CREDENTIAL_DIGEST_LEN + 1];
	char	 bad[CREDENTIAL_DIGEST_LEN + 2];

	(void)state;
	credential_digest(CREDENTIAL_RDP, "Secret234", hex);
	assert_int_equal(strlen(hex), CREDENTIAL_DIGEST_LEN);
	assert_int_equal(strspn(hex, "0123456789abcdef"), CREDENTIAL_DIGEST_LEN);
	/* Fixed: the digest of a secret is the same tomorrow. */
	credential_digest(CREDENTIAL_RDP, "Secret234", other);
	assert_string_equal(hex, other);
	assert_true(credential_match(CREDENTIAL_RDP, hex, "Secret234"));
	assert_false(credential_match(CREDENTIAL_RDP, hex, "Secret235"));
	assert_false(credential_match(CREDENTIAL_RDP, hex, "Secret23"));
	assert_false(credential_match(CREDENTIAL_RDP, hex, ""));
	/* A token's digest is not an RDP password's. */
	assert_false(credential_match(CREDENTIAL_TOKEN, hex, "Secret234"));
	credential_digest(CREDENTIAL_TOKEN, "Secret234", other);
	assert_string_not_equal(hex, other);
	assert_true(credential_match(CREDENTIAL_TOKEN, other, "Secret234"));
	/* Malformed stored digests never match. */
	assert_false(credential_match(CREDENTIAL_RDP, "", "Secret234"));
	snprintf(bad, sizeof(bad), "%.*s", CREDENTIAL_DIGEST_LEN - 1, hex);
	assert_false(credential_match(CREDENTIAL_RDP, bad, "Secret234"));
	snprintf(bad, sizeof(bad), "%s0", hex);
	assert_false(credential_match(CREDENTIAL_RDP, bad, "Secret234"));
	snprintf(bad, sizeof(bad), "%s", hex);
	bad[10] = 'g';
	assert_false(credential_match(CREDENTIAL_RDP, bad, "Secret234"));
	/* BLAKE2b-256 of "xvds rdp credential v1\0" "Secret234", by b2sum. */
	assert_string_equal(hex, "63670837dacf55c69124465fec4d8d5e"
	    "c6f8db4a147c8df523e3e26fd34eabb3");
}

/* What the agent channel, the control socket and xenstore carry. */
static void
test_validators(void **state)
{
	static const char *const bad_users[] = {
		"", "xvds-", "xvds-abcdefg", "xvds-abcdefghj", "XVDS-abcdefgh",
		"xvds-abcdefgi", "xvds-abcdefgl", "xvds-abcdefg0", "xvds-abcdefg1",
		"xvds-abcdefgA", "xvds-abcdef h", "xvds-abcdefg:", "xvds_abcdefgh",
		"root", "xvds-abcdefg\n", "yvds-abcdefgh",
	};
	static const char *const bad_passwords[] = {
		"", "ABCDEFGHJKLMNPQRSTUVWX", "ABCDEFGHJKLMNPQRSTUVWXYZ",
		"ABCDEFGHJKLMNPQRSTUVWXO", "ABCDEFGHJKLMNPQRSTUVWXI",
		"ABCDEFGHJKLMNPQRSTUVWX0", "ABCDEFGHJKLMNPQRSTUVWXl",
		"ABCDEFGHJKLMNPQRSTUVWX:", "ABCDEFGHJKLMNPQRSTUVWX ",
		"ABCDEFGHJKLMNPQRSTUVWX\n", "ABCDEFGHJKLMNPQRSTUVW\xc3\xa9",
	};
	struct credential c;
	size_t	 i;

	(void)state;
	for (i = 0; i < 200; i++) {
		assert_int_equal(credential_new(&c), 0);
		assert_true(credential_user_ok(c.user));
		assert_true(credential_password_ok(c.password));
		/* The user is no password, nor the other way round. */
		assert_false(credential_password_ok(c.user));
		assert_false(credential_user_ok(c.password));
	}
	assert_true(credential_user_ok("xvds-abcdefgh"));
	assert_true(credential_user_ok("xvds-23456789"));
	assert_true(credential_password_ok("ABCDEFGHJKLMNPQRSTUVWXY"));
	assert_true(credential_password_ok("zzzzzzzzzzzzzzzzzzzzzzz"));
	for (i = 0; i < sizeof(bad_users) / sizeof(bad_users[0]); i++)
		assert_false(credential_user_ok(bad_users[i]));
	for (i = 0; i < sizeof(bad_passwords) / sizeof(bad_passwords[0]); i++)
		assert_false(credential_password_ok(bad_passwords[i]));
	assert_false(credential_user_ok(NULL));
	assert_false(credential_password_ok(NULL));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_forms),
		cmocka_unit_test(test_unique),
		cmocka_unit_test(test_digest),
		cmocka_unit_test(test_validators),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * test_passwd.c — argon2id password hashes (xvds/common/passwd.c): the right
 * and the wrong password, the empty-password policy, hashes of other
 * algorithms and malformed or too costly stored strings refused without
 * a crash, and when to re-hash.
 */
#include <config.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>
#include <sodium.h>

#include "common/passwd.h"

static char stored[PASSWD_HASH_MAX];

static int
setup(void **state)
{
	char	 err[128];

	(void)state;
	return passwd_hash("correct horse", stored, err, sizeof(err));
}

static void
test_right_and_wrong(void **state)
{
	char	 err[128] = "", other[PASSWD_HASH_MAX];

	(void)state;
	assert_int_equal(strncmp(stored, "$argon2id$v=19$m=19456,t=2,p=1$", 31), 0);
	assert_int_equal(passwd_verify(stored, "correct horse", err, sizeof(err)),
	    PASSWD_MATCH);
	assert_int_equal(passwd_verify(stored, "correct horsE", err, sizeof(err)),
	    PASSWD_MISMATCH);
	assert_int_equal(passwd_verify(stored, "correct horse ", err,
	    sizeof(err)), PASSWD_MISMATCH);
	assert_string_equal(err, "");
	/* A new salt every time: equal passwords, different hashes. */
	assert_int_equal(passwd_hash("correct horse", other, err, sizeof(err)), 0);
	assert_string_not_equal(stored, other);
	assert_int_equal(passwd_verify(other, "correct horse", err, sizeof(err)),
	    PASSWD_MATCH);
	/* Not ASCII: bytes, as they came. */
	assert_int_equal(passwd_hash("비밀번호", other, err, sizeof(err)), 0);
	assert_int_equal(passwd_verify(other, "비밀번호", err, sizeof(err)),
	    PASSWD_MATCH);
	passwd_verify_dummy("correct horse");
}

static void
test_empty_and_long(void **state)
{
	char	 err[128], out[PASSWD_HASH_MAX], pw[PASSWD_MAX + 2];

	(void)state;
	assert_int_equal(passwd_hash("", out, err, sizeof(err)), -1);
	assert_string_equal(err, "empty password");
	assert_int_equal(passwd_verify(stored, "", err, sizeof(err)),
	    PASSWD_MISMATCH);
	memset(pw, 'x', PASSWD_MAX);
	pw[PASSWD_MAX] = '\0';
	assert_int_equal(passwd_hash(pw, out, err, sizeof(err)), 0);
	assert_int_equal(passwd_verify(out, pw, err, sizeof(err)), PASSWD_MATCH);
	pw[PASSWD_MAX] = 'x';
	pw[PASSWD_MAX + 1] = '\0';
	assert_int_equal(passwd_hash(pw, out, err, sizeof(err)), -1);
	assert_string_equal(err, "password longer than 1024 bytes");
	assert_int_equal(passwd_verify(stored, pw, err, sizeof(err)),
	    PASSWD_MISMATCH);
	passwd_verify_dummy("");
	passwd_verify_dummy(pw);
}

static void
test_other_algorithms(void **state)
{
	char	 err[128], argon2i[crypto_pwhash_STRBYTES];
	const char *others[] = {
		/* crypt(3): SHA-512, bcrypt, yescrypt; scrypt as libsodium writes it */
		"$6$saltsalt$qFmFH.bQmmtXzyBY0s9v7Oicd2z4XSIecDzlB5KiA2/jctKu9YterLp"
		    "8wwnSq.qc.eoxqOmSuNp2xS0ktL3nh/",
		"$2b$12$GhvMmNVjRW29ulnudl.LbuAnUtN/LRfe1JsBm1Xu6LE3059z5Tr8m",
		"$y$j9T$F5Jx5fExrKuPp53xLKQ..1$X3DX6M94c7o.9agCG9G317fhZg9SqC.5i5rd.RhAtQ7",
		"$7$C6..../....SodiumChloride$kBGj9fHznVYFQMEn/qDCfrDevf9YDtcDdKvEqHJLV8D",
	};
	size_t	 i;

	(void)state;
	for (i = 0; i < sizeof(others) / sizeof(others[0]); i++) {
		err[0] = '\0';
		assert_int_equal(passwd_verify(others[i], "x", err, sizeof(err)),
		    PASSWD_BADHASH);
		assert_string_equal(err, "stored hash is not argon2id v=19");
		assert_true(passwd_needs_rehash(others[i]));
	}
	/* argon2i (3 passes at least), which libsodium's generic verify takes. */
	assert_int_equal(crypto_pwhash_str_alg(argon2i, "pw", 2, 3, 19456 * 1024,
	    crypto_pwhash_ALG_ARGON2I13), 0);
	assert_int_equal(passwd_verify(argon2i, "pw", err, sizeof(err)),
	    PASSWD_BADHASH);
	assert_true(passwd_needs_rehash(argon2i));
}

static void
test_malformed(void **state)
{
	char	 err[128], buf[PASSWD_HASH_MAX + 8];
	const char *bad[] = {
		"", "$", "$argon2id", "$argon2id$", "$argon2id$v=19$",
		"$argon2id$v=18$m=19456,t=2,p=1$c2FsdHNhbHRzYWx0$aGFzaA",
		"$argon2id$v=19$m=,t=2,p=1$c2FsdA$aGFzaA",
		"$argon2id$v=19$m=-1,t=2,p=1$c2FsdA$aGFzaA",
		"$argon2id$v=19$m=019456,t=2,p=1$c2FsdA$aGFzaA",
		"$argon2id$v=19$m=19456,t=2$c2FsdA$aGFzaA",
		"$argon2id$v=19$m=19456,p=1,t=2$c2FsdA$aGFzaA",
		"$argon2id$v=19$m=19456,t=2,p=1",
		"$argon2id$v=19$m=19456,t=2,p=1$c2FsdA",
		"$argon2id$v=19$m=99999999999999999999999,t=2,p=1$c2FsdA$aGFzaA",
		/* Costs a tampered row might ask for. */
		"$argon2id$v=19$m=4194304,t=2,p=1$c2FsdHNhbHRzYWx0$aGFzaA",
		"$argon2id$v=19$m=19456,t=1000,p=1$c2FsdHNhbHRzYWx0$aGFzaA",
		"$argon2id$v=19$m=19456,t=0,p=1$c2FsdHNhbHRzYWx0$aGFzaA",
		"$argon2id$v=19$m=19456,t=2,p=4$c2FsdHNhbHRzYWx0$aGFzaA",
	};
	size_t	 i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = '\0';
		assert_int_equal(passwd_verify(bad[i], "correct horse", err,
		    sizeof(err)), PASSWD_BADHASH);
		assert_true(err[0] != '\0');
		assert_true(passwd_needs_rehash(bad[i]));
	}
	/* Right syntax, wrong base64 or truncated hash: libsodium says no. */
	assert_int_equal(passwd_verify("$argon2id$v=19$m=19456,t=2,p=1$!!!!$????",
	    "correct horse", err, sizeof(err)), PASSWD_MISMATCH);
	snprintf(buf, sizeof(buf), "%.*s", (int)strlen(stored) - 5, stored);
	assert_int_equal(passwd_verify(buf, "correct horse", err, sizeof(err)),
	    PASSWD_MISMATCH);
	/* Too long, and not terminated within the size a hash may have. */
	memset(buf, 'a', sizeof(buf));
	memcpy(buf, stored, strlen(stored));
	buf[sizeof(buf) - 1] = '\0';
	assert_int_equal(passwd_verify(buf, "correct horse", err, sizeof(err)),
	    PASSWD_BADHASH);
	assert_string_equal(err, "stored hash too long");
}

static void
test_needs_rehash(void **state)
{
	char	 old[crypto_pwhash_STRBYTES];

	(void)state;
	assert_false(passwd_needs_rehash(stored));
	assert_int_equal(crypto_pwhash_str_alg(old, "pw", 2, 1, 8192 * 1024,
	    crypto_pwhash_ALG_ARGON2ID13), 0);
	assert_int_equal(passwd_verify(old, "pw", NULL, 0), PASSWD_MATCH);
	assert_true(passwd_needs_rehash(old));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_right_and_wrong),
		cmocka_unit_test(test_empty_and_long),
		cmocka_unit_test(test_other_algorithms),
		cmocka_unit_test(test_malformed),
		cmocka_unit_test(test_needs_rehash),
	};

	return cmocka_run_group_tests(tests, setup, NULL);
}

/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * test_rdpcert.c — xvds-guestd's fingerprint of the RDP server's
 * certificate (xvds-guestd/rdpcert.c) against what OpenSSL says of the
 * same certificate (`openssl x509 -noout -fingerprint -sha256`), and its
 * refusals.
 */
#include <config.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <sodium.h>

#include "rdpcert.h"

/* A throwaway self-signed P-256 certificate, CN "xvds test rdp". */
static const char pem[] =
    "-----BEGIN CERTIFICATE-----\n"
    "MIIBhDCCASugAwIBAgIUPp1qf+z0xRFoPm4PN8XpSe0iXGgwCgYIKoZIzj0EAwIw\n"
    "GDEWMBQGA1UEAwwNeHZkcyB0ZXN0IHJkcDAeFw0yNjExMjIxMDE1MzFaFw0zNjEx\n"
    "MTkxMDE1MzFaMBgxFjAUBgNVBAMMDXh2ZHMgdGVzdCByZHAwWTATBgcqhkjOPQIB\n"
    "BggqhkjOPQMBBwNCAARsEsLulx0QAUnZ7euuLshoev9rE9vQg1dthSQml1DjADJg\n"
    "GoL3KZJGhVBUzKK3EvYKmfPc86iiJSJwJRDfAQ5vo1MwUTAdBgNVHQ4EFgQUU6D9\n"
    "enWc0EF7CBJC0N48eBg/0twwHwYDVR0jBBgwFoAUU6D9enWc0EF7CBJC0N48eBg/\n"
    "0twwDwYDVR0TAQH/BAUwAwEB/zAKBggqhkjOPQQDAgNHADBEAiAcnlQkprvOaw9R\n"
    "uzhedbmqRSgnQkmrJCXNFtteysDX5AIgXiDQkgCF9R4jr8xGMa0a4XhQmBld8f3D\n"
    "SNXkUschiSs=\n"
    "-----END CERTIFICATE-----\n";
static const char want[] =
    "dce47910af87039fbb0fa9f35c4206f734fd08553abb03de2914b32a24761b33";

static void
test_fingerprint(void **state)
{
	char	 hex[RDPCERT_HEX_LEN + 1], err[256], path[] = "/tmp/rdpcertXXXXXX";
	int	 fd;

	(void)state;
	assert_int_equal(rdpcert_sha256_pem(pem, strlen(pem), hex, err,
	    sizeof(err)), 0);
	assert_string_equal(hex, want);
	/* From a file, a key before it as xrdp's may have. */
	assert_true((fd = mkstemp(path)) >= 0);
	assert_true(write(fd, "# key first\n", 12) == 12);
	assert_true(write(fd, pem, strlen(pem)) == (ssize_t)strlen(pem));
	close(fd);
	assert_int_equal(rdpcert_sha256(path, hex, err, sizeof(err)), 0);
	assert_string_equal(hex, want);
	unlink(path);
}

static void
test_refusals(void **state)
{
	char	 hex[RDPCERT_HEX_LEN + 1], err[256], *cut;

	(void)state;
	assert_int_equal(rdpcert_sha256("/nonexistent/cert.pem", hex, err,
	    sizeof(err)), -1);
	assert_non_null(strstr(err, "/nonexistent/cert.pem"));
	assert_int_equal(rdpcert_sha256_pem("hello", 5, hex, err, sizeof(err)),
	    -1);
	assert_non_null(strstr(err, "no certificate"));
	/* Cut before its end. */
	assert_int_equal(rdpcert_sha256_pem(pem, 100, hex, err, sizeof(err)),
	    -1);
	assert_non_null(strstr(err, "without its end"));
	/* Not base64 inside. */
	assert_non_null(cut = strdup(pem));
	cut[40] = '!';
	assert_int_equal(rdpcert_sha256_pem(cut, strlen(cut), hex, err,
	    sizeof(err)), -1);
	assert_non_null(strstr(err, "base64"));
	free(cut);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fingerprint),
		cmocka_unit_test(test_refusals),
	};

	if (sodium_init() == -1)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}

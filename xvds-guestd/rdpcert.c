/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * rdpcert.c — a PEM certificate's SHA-256 (rdpcert.h), with libsodium's
 * base64 decoder and hash: the agent needs no X.509 parser to say which
 * certificate its RDP server shows.
 */
#include <config.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "rdpcert.h"

#define PEM_BEGIN	"-----BEGIN CERTIFICATE-----"
#define PEM_END		"-----END CERTIFICATE-----"

int
rdpcert_sha256_pem(const char *pem, size_t len, char hex[RDPCERT_HEX_LEN + 1],
    char *err, size_t errlen)
{
	unsigned char der[RDPCERT_FILE_MAX], sum[crypto_hash_sha256_BYTES];
	const char *b, *e;
	size_t	 n;

	if ((b = memmem(pem, len, PEM_BEGIN, strlen(PEM_BEGIN))) == NULL) {
		snprintf(err, errlen, "no certificate (no \"%s\")", PEM_BEGIN);
		return -1;
	}
	b += strlen(PEM_BEGIN);
	if ((e = memmem(b, len - (size_t)(b - pem), PEM_END,
	    strlen(PEM_END))) == NULL) {
		snprintf(err, errlen, "a certificate without its end");
		return -1;
	}
	if (sodium_base642bin(der, sizeof(der), b, (size_t)(e - b), "\r\n\t ",
	    &n, NULL, sodium_base64_VARIANT_ORIGINAL) != 0 || n == 0) {
		snprintf(err, errlen, "a certificate that is not base64");
		return -1;
	}
	crypto_hash_sha256(sum, der, n);
	sodium_bin2hex(hex, RDPCERT_HEX_LEN + 1, sum, sizeof(sum));
	return 0;
}

int
rdpcert_sha256(const char *path, char hex[RDPCERT_HEX_LEN + 1], char *err,
    size_t errlen)
{
	char	 buf[RDPCERT_FILE_MAX];
	ssize_t	 r;
	size_t	 len = 0;
	int	 fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)) == -1) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	while (len < sizeof(buf) && (r = read(fd, buf + len,
	    sizeof(buf) - len)) != 0) {
		if (r == -1) {
			if (errno == EINTR)
				continue;
			snprintf(err, errlen, "%s: %s", path, strerror(errno));
			close(fd);
			return -1;
		}
		len += (size_t)r;
	}
	close(fd);
	if (rdpcert_sha256_pem(buf, len, hex, err, errlen) == -1) {
		/* Say which file, keeping why. */
		char	 why[128];

		snprintf(why, sizeof(why), "%s", err);
		snprintf(err, errlen, "%s: %s", path, why);
		return -1;
	}
	return 0;
}

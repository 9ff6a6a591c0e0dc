/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * rdpcert.h — the fingerprint of the desktop's RDP server certificate,
 * which the thin client checks the server it reaches against
 * (xvds-guestd(8), -r): the SHA-256 of the first certificate of a PEM
 * file, over its DER bytes, as `openssl x509 -fingerprint -sha256` says.
 */
#ifndef XVDS_GUESTD_RDPCERT_H
#define XVDS_GUESTD_RDPCERT_H

#include <stddef.h>

#define RDPCERT_FILE_MAX	65536	/* bytes of a PEM file read */
#define RDPCERT_HEX_LEN		64

/* 0 and the lowercase hex in hex, or -1 with why in err. */
int	rdpcert_sha256(const char *path, char hex[RDPCERT_HEX_LEN + 1],
	    char *err, size_t errlen);
/* The same from a PEM text of len bytes. */
int	rdpcert_sha256_pem(const char *pem, size_t len,
	    char hex[RDPCERT_HEX_LEN + 1], char *err, size_t errlen);

#endif

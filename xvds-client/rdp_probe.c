/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * rdp_probe.c — the desktop's certificate, fetched as an RDP client
 * starts (rdp_probe.h): a TPKT-framed X.224 Connection Request asking
 * for TLS or CredSSP, the Connection Confirm, then a TLS handshake whose
 * peer certificate's DER is hashed with SHA-256, as FreeRDP hashes it for
 * the viewer's /cert:fingerprint pin (lower-case hex, no separators).
 */
#include <config.h>

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "net_dial.h"
#include "rdp_probe.h"

/* TPKT, X.224 CR, RDP_NEG_REQ with PROTOCOL_SSL | PROTOCOL_HYBRID. */
static const unsigned char connection_request[] = {
	0x03, 0x00, 0x00, 0x13,
	0x0e, 0xe0, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x01, 0x00, 0x08, 0x00, 0x03, 0x00, 0x00, 0x00,
};
#define NEG_RSP_TYPE	0x02
#define CONFIRM_LEN	19

/* The X.224 exchange: 0 if the server agreed to TLS or CredSSP. */
static int
negotiate(int fd, char *err, size_t errlen)
{
	unsigned char cc[CONFIRM_LEN];
	size_t	 got = 0;
	ssize_t	 n;

	if (write(fd, connection_request, sizeof(connection_request)) !=
	    (ssize_t)sizeof(connection_request)) {
		snprintf(err, errlen, "cannot send: %s", strerror(errno));
		return -1;
	}
	while (got < sizeof(cc)) {
		if ((n = read(fd, cc + got, sizeof(cc) - got)) <= 0) {
			snprintf(err, errlen, "no RDP answer: %s", n == 0 ?
			    "connection closed" : strerror(errno));
			return -1;
		}
		got += (size_t)n;
	}
	if (cc[0] != 0x03 || cc[5] != 0xd0 || cc[11] != NEG_RSP_TYPE ||
	    (cc[15] & 0x03) == 0) {
		snprintf(err, errlen, "the server does not offer TLS");
		return -1;
	}
	return 0;
}

/* The peer certificate's SHA-256 into seen. */
static int
fingerprint(SSL *ssl, char seen[RDP_PROBE_FP_LEN + 1])
{
	X509	*x;
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int len = 0, i;
	int	 rc = -1;

	if ((x = SSL_get1_peer_certificate(ssl)) == NULL)
		return -1;
	if (X509_digest(x, EVP_sha256(), md, &len) == 1 &&
	    len * 2 == RDP_PROBE_FP_LEN) {
		for (i = 0; i < len; i++)
			snprintf(seen + 2 * i, 3, "%02x", md[i]);
		rc = 0;
	}
	X509_free(x);
	return rc;
}

/* The handshake: no verification here, the pin is the check. */
static int
handshake(int fd, char seen[RDP_PROBE_FP_LEN + 1], char *err, size_t errlen)
{
	SSL_CTX	*ctx;
	SSL	*ssl = NULL;
	int	 rc = -1;

	if ((ctx = SSL_CTX_new(TLS_client_method())) == NULL ||
	    (ssl = SSL_new(ctx)) == NULL || SSL_set_fd(ssl, fd) != 1)
		snprintf(err, errlen, "TLS cannot start");
	else if (SSL_connect(ssl) != 1)
		snprintf(err, errlen, "no TLS handshake");
	else if (fingerprint(ssl, seen) == -1)
		snprintf(err, errlen, "no certificate");
	else
		rc = 0;
	if (ssl != NULL && rc == 0)
		(void)SSL_shutdown(ssl);
	SSL_free(ssl);
	SSL_CTX_free(ctx);
	return rc;
}

enum rdp_probe_result
rdp_probe(const char *address, uint16_t port, const char *want,
    char seen[RDP_PROBE_FP_LEN + 1], char *err, size_t errlen)
{
	enum rdp_probe_result r = RDP_PROBE_UNREACHABLE;
	int	 fd;

	seen[0] = '\0';
	if ((fd = net_dial(address, port, RDP_PROBE_TIMEOUT_S, err,
	    errlen)) == -1)
		return r;
	if (negotiate(fd, err, errlen) == 0 &&
	    handshake(fd, seen, err, errlen) == 0) {
		r = strcmp(seen, want) == 0 ? RDP_PROBE_OK : RDP_PROBE_MISMATCH;
		if (r == RDP_PROBE_MISMATCH)
			snprintf(err, errlen, "the certificate's SHA-256 is %s, "
			    "not %s", seen, want[0] != '\0' ? want : "known");
	}
	close(fd);
	return r;
}

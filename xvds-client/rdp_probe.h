/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * rdp_probe.h — before the viewer gets the credential: is the desktop's
 * RDP server there, and is its certificate the one the broker vouched
 * for?  One X.224 negotiation and TLS handshake, no credential sent, so
 * that a mismatch is told from an unreachable desktop and refused before
 * anything is connected (xvds-client(1) SECURITY).
 */
#ifndef XVDS_CLIENT_RDP_PROBE_H
#define XVDS_CLIENT_RDP_PROBE_H

#include <stddef.h>
#include <stdint.h>

#define RDP_PROBE_TIMEOUT_S	10
#define RDP_PROBE_FP_LEN	64	/* SHA-256, lower-case hex */

enum rdp_probe_result {
	RDP_PROBE_OK,
	RDP_PROBE_UNREACHABLE,	/* no connection, no RDP, no TLS */
	RDP_PROBE_MISMATCH,	/* TLS, with another certificate */
};

/*
 * Connects to address port and compares the server certificate's SHA-256
 * with want (lower-case hex).  The fingerprint seen goes into seen (""
 * if none), why a failure into err.
 */
enum rdp_probe_result rdp_probe(const char *address, uint16_t port,
	    const char *want, char seen[RDP_PROBE_FP_LEN + 1], char *err,
	    size_t errlen);

#endif

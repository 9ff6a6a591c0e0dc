/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * rdp_headless.h — an RDP session the thin client runs itself, with
 * libfreerdp3 and no display: the desktop's certificate checked against
 * the pin the broker returned (its SHA-256, as xvds-guestd computes it,
 * xvds-guestd(8)), NLA with the one-time credential, the framebuffer in
 * memory.  Used to check a desktop before the viewer starts and to
 * measure a login (tests/bench).  Blocking: a session is opened, waits
 * for its first frame, runs until told to stop or until it ends, and is
 * closed, all on the caller's thread.
 */
#ifndef XVDS_RDP_HEADLESS_H
#define XVDS_RDP_HEADLESS_H

#include <signal.h>
#include <stddef.h>
#include <stdint.h>

#define RDP_SHA256_HEX_LEN	64

struct rdp_target {
	const char	*host;
	uint16_t	 port;
	const char	*user;
	const char	*password;	/* wiped from FreeRDP once connected */
	const char	*cert_sha256;	/* lower-case hex, 64 digits */
	unsigned	 timeout_ms;	/* TCP connect, and the first frame */
};

enum rdp_outcome {
	RDP_OK,
	RDP_UNREACHABLE,	/* no TLS with the desktop: nothing listens */
	RDP_UNTRUSTED,		/* its certificate is not the pinned one */
	RDP_AUTH_FAILED,	/* TLS was reached, the credential refused */
	RDP_FAILED		/* anything else; err says what */
};

/* Why a session that was up ended. */
enum rdp_end {
	RDP_END_STOPPED,	/* the caller's *stop */
	RDP_END_LOGOFF,		/* the server logged the user off */
	RDP_END_DISCONNECTED,	/* the server ended it otherwise (errinfo) */
	RDP_END_LOST		/* the connection broke */
};

struct rdp_timing {
	double	 connect_ms;	/* freerdp_connect: TCP, TLS, NLA, activation */
	double	 first_frame_ms;	/* from connected to the first pixels */
};

struct rdp_session;

extern const char *const rdp_outcome_names[];
extern const char *const rdp_end_names[];

/*
 * TLS only: connects, records the certificate the desktop shows in seen
 * (its SHA-256, lower-case hex) and refuses to go further.  RDP_OK when
 * it is the pinned one; RDP_UNTRUSTED (both fingerprints in err) when
 * not; RDP_UNREACHABLE when no certificate was shown.
 */
enum rdp_outcome rdp_headless_check_cert(const struct rdp_target *,
	    char seen[RDP_SHA256_HEX_LEN + 1], char *err, size_t errlen);

/*
 * Connects with NLA after checking the pin; timing->connect_ms is set.
 * RDP_OK with *out set, or the outcome with why in err.  seen (may be
 * NULL) gets the certificate's fingerprint whenever TLS was reached.
 */
enum rdp_outcome rdp_session_open(const struct rdp_target *,
	    struct rdp_session **out, struct rdp_timing *timing,
	    char seen[RDP_SHA256_HEX_LEN + 1], char *err, size_t errlen);

/*
 * Runs the session until the first EndPaint that drew pixels, at most
 * the target's timeout_ms; sets timing->first_frame_ms.  0, or -1 with
 * why in err.
 */
int	rdp_session_first_frame(struct rdp_session *, struct rdp_timing *,
	    char *err, size_t errlen);

/* The framebuffer as a binary PPM (P6) at path.  0, or -1 with err. */
int	rdp_session_save_ppm(struct rdp_session *, const char *path,
	    char *err, size_t errlen);

/*
 * Runs the session until *stop is set (checked every 100 ms) or the
 * server or the network ends it; says which, details in err.
 */
enum rdp_end rdp_session_run(struct rdp_session *,
	    volatile sig_atomic_t *stop, char *err, size_t errlen);

/* Disconnects (if still connected) and frees. */
void	rdp_session_close(struct rdp_session *);

#endif

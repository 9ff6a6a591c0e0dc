/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * common/broker_msg.h — the broker API's messages between the thin client
 * (xvds-client) and the controller, version 1 (xvds-broker(7)): login,
 * renew and logout requests; a desktop, a renewed lease, a plain "ok" or
 * an error in reply, and before a login's reply the progress messages its
 * client asked for.  JSON, parsed strictly (exact members, no
 * duplicates, every string's length and characters checked), at most
 * BROKER_MSG_MAX bytes.  No I/O, so that the fuzzer and the unit tests
 * take it alone.
 */
#ifndef XVDS_COMMON_BROKER_MSG_H
#define XVDS_COMMON_BROKER_MSG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/passwd.h"
#include "common/template.h"
#include "common/vm_fsm.h"

#define BROKER_VERSION		1
#define BROKER_MSG_MAX		8192	/* bytes of one message */
#define BROKER_USER_MAX		64	/* [A-Za-z0-9][A-Za-z0-9._@-]* */
#define BROKER_PASSWORD_MAX	PASSWD_MAX	/* any UTF-8 but NUL */
#define BROKER_POOL_MAX		TEMPLATE_NAME_MAX
#define BROKER_SESSION_MAX	64	/* [A-Za-z0-9-]+ */
#define BROKER_TOKEN_MIN	16	/* [A-Za-z0-9]: at least 16 */
#define BROKER_TOKEN_MAX	64
#define BROKER_ADDRESS_MAX	253	/* an IP address or a DNS name */
#define BROKER_RDP_USER_MAX	32
#define BROKER_RDP_PASSWORD_MAX	128	/* printable ASCII, no space */
#define BROKER_FINGERPRINT_LEN	64	/* SHA-256, lower-case hex */
#define BROKER_TEXT_MAX		256	/* an error's message */
#define BROKER_SECONDS_MAX	86400	/* leases and retry_after */

enum broker_request_type {
	BROKER_LOGIN,
	BROKER_RENEW,
	BROKER_LOGOUT,
};

/*
 * Why a client logs out, a fixed set (xvds-broker(7)); BROKER_LR_NONE:
 * not said, the message as older clients send it.
 */
enum broker_logout_reason {
	BROKER_LR_NONE,
	BROKER_LR_LOGOFF,	/* the user logged off inside the desktop */
	BROKER_LR_CLOSED,	/* the user closed the viewer */
	BROKER_LR_LOST,		/* connection lost beyond auto-reconnect */
	BROKER_LR_UNTRUSTED,	/* the desktop's certificate did not match */
	BROKER_LR_UNREACHABLE,	/* the desktop could not be reached */
	BROKER_LR_RDP_AUTH,	/* the desktop refused the credential */
	BROKER_LR_SIGNAL,	/* the client was stopped */
};
#define BROKER_LR_COUNT		(BROKER_LR_SIGNAL + 1)

struct broker_request {
	enum broker_request_type type;
	/* login */
	char		 user[BROKER_USER_MAX + 1];
	char		 password[BROKER_PASSWORD_MAX + 1];
	enum vm_kind	 kind;
	char		 pool[BROKER_POOL_MAX + 1];	/* "": the user's default */
	bool		 progress;	/* progress messages before the reply */
	/* renew, logout */
	char		 session[BROKER_SESSION_MAX + 1];
	char		 token[BROKER_TOKEN_MAX + 1];
	enum broker_logout_reason reason;	/* logout only */
};

enum broker_reply_type {
	BROKER_R_DESKTOP,	/* login: ok, with the desktop */
	BROKER_R_RENEWED,	/* renew: ok, with the new lease */
	BROKER_R_DONE,		/* logout: ok */
	BROKER_R_ERROR,
	BROKER_R_PROGRESS,	/* login: not yet, at this step */
};

/*
 * A login's steps that take time, in the order they may come
 * (controller/login.h, enum login_step); each is sent once at most.
 */
enum broker_progress {
	BROKER_P_QUEUED,	/* waiting for a power slot (boot storm) */
	BROKER_P_WAKING,	/* a paused or saved desktop woken */
	BROKER_P_BOOTING,	/* a desktop defined and booted */
	BROKER_P_STARTING,	/* up: its address awaited */
	BROKER_P_CREDENTIAL,	/* the one-time credential applied in it */
};
#define BROKER_P_COUNT		(BROKER_P_CREDENTIAL + 1)

/*
 * The error codes, a fixed set that says no more than the client may
 * know: an unknown user and a wrong password are both "auth-failed".
 */
enum broker_error {
	BROKER_E_AUTH_FAILED,
	BROKER_E_RATE_LIMITED,	/* with retry_after */
	BROKER_E_NO_DESKTOP,	/* with a reason */
	BROKER_E_BAD_SESSION,	/* renew, logout: no such session or token */
	BROKER_E_BAD_REQUEST,
	BROKER_E_INTERNAL,
};
#define BROKER_E_COUNT		(BROKER_E_INTERNAL + 1)

/* Why a signed-in user got no desktop. */
enum broker_reason {
	BROKER_NR_NONE,		/* not a no-desktop error */
	BROKER_NR_NO_POOL,	/* no such pool, or not the user's */
	BROKER_NR_POOL_EMPTY,	/* no Ready, Paused or Saved CVM */
	BROKER_NR_NO_CAPACITY,	/* no host has the memory for the PVM */
	BROKER_NR_BUSY,		/* power operations throttled (boot storm) */
	BROKER_NR_BOOT_FAILED,	/* the desktop did not come up */
	BROKER_NR_DISABLED,	/* the user's account is disabled */
};
#define BROKER_NR_COUNT		(BROKER_NR_DISABLED + 1)

extern const char *const broker_request_names[];
extern const char *const broker_error_names[];
extern const char *const broker_reason_names[];
extern const char *const broker_logout_reason_names[];
extern const char *const broker_progress_names[];

struct broker_desktop {
	char		 address[BROKER_ADDRESS_MAX + 1];
	uint16_t	 port;
	char		 rdp_user[BROKER_RDP_USER_MAX + 1];
	char		 rdp_password[BROKER_RDP_PASSWORD_MAX + 1];
	char		 cert_fingerprint[BROKER_FINGERPRINT_LEN + 1];	/* "": unknown */
	char		 session[BROKER_SESSION_MAX + 1];
	char		 token[BROKER_TOKEN_MAX + 1];
	unsigned	 lease_seconds;
};

struct broker_reply {
	enum broker_reply_type type;
	struct broker_desktop desktop;		/* BROKER_R_DESKTOP */
	unsigned	 lease_seconds;		/* BROKER_R_RENEWED */
	/* BROKER_R_ERROR */
	enum broker_error code;
	char		 message[BROKER_TEXT_MAX + 1];
	unsigned	 retry_after;		/* rate-limited only */
	enum broker_reason reason;		/* no-desktop only */
	enum broker_progress step;		/* BROKER_R_PROGRESS */
};

/*
 * Decoders: 0, or -1 with why in err.  buf need not be NUL-terminated;
 * more than BROKER_MSG_MAX bytes are refused unread.  A decoded login
 * holds the password in clear: the caller wipes the request
 * (sodium_memzero) once the password is checked.
 */
int	broker_request_decode(const char *buf, size_t len,
	    struct broker_request *, char *err, size_t errlen);
int	broker_reply_decode(const char *buf, size_t len, struct broker_reply *,
	    char *err, size_t errlen);

/*
 * Fills an error reply: message (cut to BROKER_TEXT_MAX bytes), and
 * retry_after and reason as given; the encoder refuses them where the
 * code takes none.
 */
void	broker_reply_error(struct broker_reply *, enum broker_error,
	    const char *message, unsigned retry_after, enum broker_reason);

/*
 * Encoders: one line of compact JSON without its newline, to free(3);
 * NULL with why in err if the message would not decode on the other
 * side (a field out of its range or alphabet).
 */
char	*broker_request_encode(const struct broker_request *, char *err,
	    size_t errlen);
char	*broker_reply_encode(const struct broker_reply *, char *err,
	    size_t errlen);

#endif

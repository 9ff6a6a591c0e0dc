/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * common/broker_msg.c — the broker API's messages, version 1
 * (common/broker_msg.h, xvds-broker(7)): a strict decoder and an encoder for
 * each direction.  Every encoder runs its message back through the decoder, so
 * that this side never sends what the other side must refuse.
 */
#include <config.h>

#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "common/broker_msg.h"
#include "common/errbuf.h"
#include "common/jsonerr.h"

#define ALNUM	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
#define ALPHA	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"

const char *const broker_request_names[] = {
	[BROKER_LOGIN] = "login",
	[BROKER_RENEW] = "renew",
	[BROKER_LOGOUT] = "logout",
};

const char *const broker_error_names[] = {
	[BROKER_E_AUTH_FAILED] = "auth-failed",
	[BROKER_E_RATE_LIMITED] = "rate-limited",
	[BROKER_E_NO_DESKTOP] = "no-desktop",
	[BROKER_E_BAD_SESSION] = "bad-session",
	[BROKER_E_BAD_REQUEST] = "bad-request",
	[BROKER_E_INTERNAL] = "internal",
};

const char *const broker_reason_names[] = {
	[BROKER_NR_NONE] = "",
	[BROKER_NR_NO_POOL] = "no-pool",
	[BROKER_NR_POOL_EMPTY] = "pool-empty",
	[BROKER_NR_NO_CAPACITY] = "no-capacity",
	[BROKER_NR_BUSY] = "busy",
	[BROKER_NR_BOOT_FAILED] = "boot-failed",
	[BROKER_NR_DISABLED] = "disabled",
};

const char *const broker_logout_reason_names[] = {
	[BROKER_LR_NONE] = "",
	[BROKER_LR_LOGOFF] = "logoff",
	[BROKER_LR_CLOSED] = "closed",
	[BROKER_LR_LOST] = "lost",
	[BROKER_LR_UNTRUSTED] = "desktop-untrusted",
	[BROKER_LR_UNREACHABLE] = "desktop-unreachable",
	[BROKER_LR_RDP_AUTH] = "rdp-auth",
	[BROKER_LR_SIGNAL] = "signal",
};

const char *const broker_progress_names[] = {
	[BROKER_P_QUEUED] = "queued",
	[BROKER_P_WAKING] = "waking",
	[BROKER_P_BOOTING] = "booting",
	[BROKER_P_STARTING] = "starting",
	[BROKER_P_CREDENTIAL] = "credential",
};

static int
lookup(const char *const names[], int n, const char *s)
{
	int	 i;

	for (i = 0; i < n; i++)
		if (names[i][0] != '\0' && strcmp(names[i], s) == 0)
			return i;
	return -1;
}

/* Whether s has min to max bytes, the first from first, the rest from rest. */
static bool
chars_ok(const char *s, size_t min, size_t max, const char *first,
    const char *rest)
{
	size_t	 n = strlen(s);

	if (n < min || n > max)
		return false;
	if (n == 0)
		return true;
	return strchr(first, s[0]) != NULL && strspn(s + 1, rest) == n - 1;
}

static bool
printable_ascii(const char *s, size_t max, bool space)
{
	size_t	 n = strlen(s);
	size_t	 i;

	if (n == 0 || n > max)
		return false;
	for (i = 0; i < n; i++)
		if (s[i] < (space ? 0x20 : 0x21) || s[i] > 0x7e)
			return false;
	return true;
}

/* An error's message: UTF-8 (jansson saw to it), no control characters. */
static bool
text_ok(const char *s)
{
	const unsigned char *p;

	if (s[0] == '\0' || strlen(s) > BROKER_TEXT_MAX)
		return false;
	for (p = (const unsigned char *)s; *p != '\0'; p++)
		if (*p < 0x20 || *p == 0x7f)
			return false;
	return true;
}

/* An IPv4 or IPv6 address, or a DNS name of letters, digits and hyphens. */
static bool
address_ok(const char *s)
{
	unsigned char buf[sizeof(struct in6_addr)];
	const char *label, *dot;
	size_t	 n;

	if (strlen(s) > BROKER_ADDRESS_MAX || s[0] == '\0')
		return false;
	if (inet_pton(AF_INET, s, buf) == 1 || inet_pton(AF_INET6, s, buf) == 1)
		return true;
	for (label = s;; label = dot + 1) {
		dot = strchr(label, '.');
		n = dot != NULL ? (size_t)(dot - label) : strlen(label);
		if (n == 0 || n > 63 || label[0] == '-' || label[n - 1] == '-' ||
		    strspn(label, ALNUM "-") < n)
			return false;
		if (dot == NULL)
			return true;
	}
}

static bool
user_ok(const char *s)
{
	return chars_ok(s, 1, BROKER_USER_MAX, ALNUM, ALNUM "._@-");
}

static bool
pool_ok(const char *s)
{
	return chars_ok(s, 1, BROKER_POOL_MAX, ALPHA, ALNUM "_-");
}

static bool
session_ok(const char *s)
{
	return chars_ok(s, 1, BROKER_SESSION_MAX, ALNUM, ALNUM "-");
}

static bool
token_ok(const char *s)
{
	return chars_ok(s, BROKER_TOKEN_MIN, BROKER_TOKEN_MAX, ALNUM, ALNUM);
}

static bool
seconds_ok(json_int_t v)
{
	return v >= 1 && v <= BROKER_SECONDS_MAX;
}

/*
 * Parses buf and reads the members every message has: v, which must be
 * ours, and msg.  The object's reference is the caller's.
 */
static json_t *
envelope(const char *what, const char *buf, size_t len, const char **msg_r,
    char *err, size_t errlen)
{
	json_error_t jerr;
	json_t	*j;
	json_int_t v;

	if (len > BROKER_MSG_MAX) {
		errbuf_set(err, errlen, "%s: longer than %d bytes", what,
		    BROKER_MSG_MAX);
		return NULL;
	}
	if ((j = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &jerr)) == NULL) {
		errbuf_set(err, errlen, "%s: not JSON: %s", what, jsonerr(&jerr));
		return NULL;
	}
	if (!json_is_object(j))
		errbuf_set(err, errlen, "%s: not a JSON object", what);
	else if (json_unpack_ex(j, &jerr, 0, "{s:I, s:s}", "v", &v, "msg",
	    msg_r) == -1)
		errbuf_set(err, errlen, "%s: %s", what, jsonerr(&jerr));
	else if (v != BROKER_VERSION)
		errbuf_set(err, errlen, "%s: version %lld not spoken here (%d is)",
		    what, (long long)v, BROKER_VERSION);
	else
		return j;
	json_decref(j);
	return NULL;
}

static int
decode_login(json_t *j, struct broker_request *r, char *err, size_t errlen)
{
	json_error_t jerr;
	const char *type, *user, *password, *kind, *pool = NULL;
	json_int_t v;
	int	 k, progress = 0;

	if (json_unpack_ex(j, &jerr, JSON_STRICT, "{s:I, s:s, s:s, s:s, s:s, "
	    "s?s, s?b}", "v", &v, "msg", &type, "user", &user, "password",
	    &password, "kind", &kind, "pool", &pool, "progress",
	    &progress) == -1) {
		errbuf_set(err, errlen, "login: %s", jsonerr(&jerr));
		return -1;
	}
	if (!user_ok(user)) {
		errbuf_set(err, errlen, "login: bad user name (1 to %d of A-Z a-z "
		    "0-9 . _ @ -, the first a letter or digit)", BROKER_USER_MAX);
		return -1;
	}
	if (password[0] == '\0' || strlen(password) > BROKER_PASSWORD_MAX) {
		errbuf_set(err, errlen, "login: the password must have 1 to %d "
		    "bytes", BROKER_PASSWORD_MAX);
		return -1;
	}
	if ((k = vm_kind_from_name(kind)) < 0) {
		errbuf_set(err, errlen, "login: kind is cvm or pvm");
		return -1;
	}
	if (pool != NULL && !pool_ok(pool)) {
		errbuf_set(err, errlen, "login: bad pool name (1 to %d of A-Z a-z "
		    "0-9 _ -, the first a letter)", BROKER_POOL_MAX);
		return -1;
	}
	snprintf(r->user, sizeof(r->user), "%s", user);
	snprintf(r->password, sizeof(r->password), "%s", password);
	r->kind = (enum vm_kind)k;
	if (pool != NULL)
		snprintf(r->pool, sizeof(r->pool), "%s", pool);
	r->progress = progress != 0;
	return 0;
}

/* renew and logout: a session and its token; a logout's reason. */
static int
decode_session(json_t *j, const char *what, struct broker_request *r,
    char *err, size_t errlen)
{
	json_error_t jerr;
	const char *type, *session, *token, *reason = NULL;
	json_int_t v;
	int	 lr = BROKER_LR_NONE;

	if (json_unpack_ex(j, &jerr, JSON_STRICT, "{s:I, s:s, s:s, s:s, s?s}",
	    "v", &v, "msg", &type, "session", &session, "token", &token,
	    "reason", &reason) == -1) {
		errbuf_set(err, errlen, "%s: %s", what, jsonerr(&jerr));
		return -1;
	}
	if (reason != NULL && r->type != BROKER_LOGOUT) {
		errbuf_set(err, errlen, "%s: reason comes with logout only",
		    what);
		return -1;
	}
	if (reason != NULL && (lr = lookup(broker_logout_reason_names,
	    BROKER_LR_COUNT, reason)) < 0) {
		errbuf_set(err, errlen, "%s: reason is logoff, closed, lost, "
		    "desktop-untrusted, desktop-unreachable, rdp-auth or signal",
		    what);
		return -1;
	}
	if (!session_ok(session)) {
		errbuf_set(err, errlen, "%s: bad session (1 to %d of A-Z a-z "
		    "0-9 -)", what, BROKER_SESSION_MAX);
		return -1;
	}
	if (!token_ok(token)) {
		errbuf_set(err, errlen, "%s: bad token (%d to %d of A-Z a-z 0-9)",
		    what, BROKER_TOKEN_MIN, BROKER_TOKEN_MAX);
		return -1;
	}
	snprintf(r->session, sizeof(r->session), "%s", session);
	snprintf(r->token, sizeof(r->token), "%s", token);
	r->reason = (enum broker_logout_reason)lr;
	return 0;
}

int
broker_request_decode(const char *buf, size_t len, struct broker_request *r,
    char *err, size_t errlen)
{
	json_t	*j;
	const char *type;
	int	 t, rc;

	memset(r, 0, sizeof(*r));
	if ((j = envelope("request", buf, len, &type, err, errlen)) == NULL)
		return -1;
	if ((t = lookup(broker_request_names, BROKER_LOGOUT + 1, type)) < 0) {
		errbuf_set(err, errlen, "request: msg is login, renew or logout");
		json_decref(j);
		return -1;
	}
	r->type = (enum broker_request_type)t;
	if (r->type == BROKER_LOGIN)
		rc = decode_login(j, r, err, errlen);
	else
		rc = decode_session(j, type, r, err, errlen);
	json_decref(j);
	if (rc == -1)
		memset(r, 0, sizeof(*r));
	return rc;
}

static int
decode_desktop(json_t *j, struct broker_desktop *d, char *err, size_t errlen)
{
	json_error_t jerr;
	const char *type, *addr, *ruser, *rpass, *fp = NULL, *session, *token;
	json_int_t v, port, lease;

	if (json_unpack_ex(j, &jerr, JSON_STRICT, "{s:I, s:s, s:{s:s, s:I, s:s, "
	    "s:s, s?s, s:s, s:s, s:I}}", "v", &v, "msg", &type, "desktop",
	    "address", &addr, "port", &port, "rdp_user", &ruser, "rdp_password",
	    &rpass, "cert_fingerprint", &fp, "session", &session, "token", &token,
	    "lease_seconds", &lease) == -1)
		errbuf_set(err, errlen, "desktop: %s", jsonerr(&jerr));
	else if (!address_ok(addr))
		errbuf_set(err, errlen, "desktop: bad address (an IP address or "
		    "a DNS name of at most %d bytes)", BROKER_ADDRESS_MAX);
	else if (port < 1 || port > 65535)
		errbuf_set(err, errlen, "desktop: port out of range");
	else if (!chars_ok(ruser, 1, BROKER_RDP_USER_MAX, ALNUM "_",
	    ALNUM "._-"))
		errbuf_set(err, errlen, "desktop: bad rdp_user (1 to %d of A-Z "
		    "a-z 0-9 . _ -)", BROKER_RDP_USER_MAX);
	else if (!printable_ascii(rpass, BROKER_RDP_PASSWORD_MAX, false))
		errbuf_set(err, errlen, "desktop: bad rdp_password (1 to %d "
		    "printable ASCII characters, no space)", BROKER_RDP_PASSWORD_MAX);
	else if (fp != NULL && !chars_ok(fp, BROKER_FINGERPRINT_LEN,
	    BROKER_FINGERPRINT_LEN, "0123456789abcdef", "0123456789abcdef"))
		errbuf_set(err, errlen, "desktop: cert_fingerprint is %d "
		    "lower-case hex digits", BROKER_FINGERPRINT_LEN);
	else if (!session_ok(session))
		errbuf_set(err, errlen, "desktop: bad session (1 to %d of A-Z "
		    "a-z 0-9 -)", BROKER_SESSION_MAX);
	else if (!token_ok(token))
		errbuf_set(err, errlen, "desktop: bad token (%d to %d of A-Z a-z "
		    "0-9)", BROKER_TOKEN_MIN, BROKER_TOKEN_MAX);
	else if (!seconds_ok(lease))
		errbuf_set(err, errlen, "desktop: lease_seconds out of range "
		    "(1 to %d)", BROKER_SECONDS_MAX);
	else {
		snprintf(d->address, sizeof(d->address), "%s", addr);
		d->port = (uint16_t)port;
		snprintf(d->rdp_user, sizeof(d->rdp_user), "%s", ruser);
		snprintf(d->rdp_password, sizeof(d->rdp_password), "%s", rpass);
		if (fp != NULL)
			snprintf(d->cert_fingerprint, sizeof(d->cert_fingerprint),
			    "%s", fp);
		snprintf(d->session, sizeof(d->session), "%s", session);
		snprintf(d->token, sizeof(d->token), "%s", token);
		d->lease_seconds = (unsigned)lease;
		return 0;
	}
	return -1;
}

static int
decode_error(json_t *j, struct broker_reply *r, char *err, size_t errlen)
{
	json_error_t jerr;
	const char *type, *code, *text, *reason = NULL;
	json_int_t v, retry = 0;
	int	 c, nr = BROKER_NR_NONE;
	bool	 has_retry;

	if (json_unpack_ex(j, &jerr, JSON_STRICT, "{s:I, s:s, s:{s:s, s:s, s?I, "
	    "s?s}}", "v", &v, "msg", &type, "error", "code", &code, "message",
	    &text, "retry_after", &retry, "reason", &reason) == -1) {
		errbuf_set(err, errlen, "error: %s", jsonerr(&jerr));
		return -1;
	}
	has_retry = json_object_get(json_object_get(j, "error"),
	    "retry_after") != NULL;
	if ((c = lookup(broker_error_names, BROKER_E_COUNT, code)) < 0)
		errbuf_set(err, errlen, "error: unknown code");
	else if (!text_ok(text))
		errbuf_set(err, errlen, "error: the message must have 1 to %d "
		    "bytes and no control characters", BROKER_TEXT_MAX);
	else if ((c == BROKER_E_RATE_LIMITED) != has_retry)
		errbuf_set(err, errlen, "error: retry_after comes with "
		    "rate-limited, and only with it");
	else if (has_retry && !seconds_ok(retry))
		errbuf_set(err, errlen, "error: retry_after out of range (1 to %d)",
		    BROKER_SECONDS_MAX);
	else if ((c == BROKER_E_NO_DESKTOP) != (reason != NULL))
		errbuf_set(err, errlen, "error: reason comes with no-desktop, "
		    "and only with it");
	else if (reason != NULL &&
	    (nr = lookup(broker_reason_names, BROKER_NR_COUNT, reason)) < 0)
		errbuf_set(err, errlen, "error: unknown reason");
	else {
		r->code = (enum broker_error)c;
		snprintf(r->message, sizeof(r->message), "%s", text);
		r->retry_after = (unsigned)retry;
		r->reason = (enum broker_reason)nr;
		return 0;
	}
	return -1;
}

static int
decode_progress(json_t *j, struct broker_reply *r, char *err, size_t errlen)
{
	json_error_t jerr;
	const char *type, *step;
	json_int_t v;
	int	 p;

	if (json_unpack_ex(j, &jerr, JSON_STRICT, "{s:I, s:s, s:s}", "v", &v,
	    "msg", &type, "step", &step) == -1) {
		errbuf_set(err, errlen, "progress: %s", jsonerr(&jerr));
		return -1;
	}
	if ((p = lookup(broker_progress_names, BROKER_P_COUNT, step)) < 0) {
		errbuf_set(err, errlen, "progress: step is queued, waking, "
		    "booting, starting or credential");
		return -1;
	}
	r->step = (enum broker_progress)p;
	return 0;
}

int
broker_reply_decode(const char *buf, size_t len, struct broker_reply *r,
    char *err, size_t errlen)
{
	json_error_t jerr;
	json_t	*j;
	const char *type;
	json_int_t v, lease;
	int	 rc = -1;

	memset(r, 0, sizeof(*r));
	if ((j = envelope("reply", buf, len, &type, err, errlen)) == NULL)
		return -1;
	if (strcmp(type, "error") == 0) {
		r->type = BROKER_R_ERROR;
		rc = decode_error(j, r, err, errlen);
	} else if (strcmp(type, "progress") == 0) {
		r->type = BROKER_R_PROGRESS;
		rc = decode_progress(j, r, err, errlen);
	} else if (strcmp(type, "ok") != 0)
		errbuf_set(err, errlen, "reply: msg is ok or error, or progress");
	else if (json_object_get(j, "desktop") != NULL) {
		r->type = BROKER_R_DESKTOP;
		rc = decode_desktop(j, &r->desktop, err, errlen);
	} else if (json_object_get(j, "lease_seconds") != NULL) {
		r->type = BROKER_R_RENEWED;
		if (json_unpack_ex(j, &jerr, JSON_STRICT, "{s:I, s:s, s:I}", "v",
		    &v, "msg", &type, "lease_seconds", &lease) == -1)
			errbuf_set(err, errlen, "renewed: %s", jsonerr(&jerr));
		else if (!seconds_ok(lease))
			errbuf_set(err, errlen, "renewed: lease_seconds out of "
			    "range (1 to %d)", BROKER_SECONDS_MAX);
		else {
			r->lease_seconds = (unsigned)lease;
			rc = 0;
		}
	} else if (json_object_size(j) != 2)
		errbuf_set(err, errlen, "reply: ok has desktop, lease_seconds "
		    "or nothing else");
	else {
		r->type = BROKER_R_DONE;
		rc = 0;
	}
	json_decref(j);
	if (rc == -1)
		memset(r, 0, sizeof(*r));
	return rc;
}

/*
 * Dumps j (its reference taken) and runs the text through decode, so
 * that what leaves here is what the other side takes.
 */
static char *
finish(json_t *j, int (*check)(const char *, size_t, void *, char *, size_t),
    void *scratch, char *err, size_t errlen)
{
	char	*s;

	if (j == NULL || (s = json_dumps(j, JSON_COMPACT)) == NULL) {
		json_decref(j);
		errbuf_set(err, errlen, "cannot encode: out of memory or bad UTF-8");
		return NULL;
	}
	json_decref(j);
	if (check(s, strlen(s), scratch, err, errlen) == -1) {
		explicit_bzero(s, strlen(s));
		free(s);
		s = NULL;
	}
	return s;
}

static int
check_request(const char *s, size_t len, void *scratch, char *err,
    size_t errlen)
{
	return broker_request_decode(s, len, scratch, err, errlen);
}

static int
check_reply(const char *s, size_t len, void *scratch, char *err, size_t errlen)
{
	return broker_reply_decode(s, len, scratch, err, errlen);
}

/* j with key set to v; NULL (both freed) if either is or it fails. */
static json_t *
set_or_drop(json_t *j, const char *key, json_t *v)
{
	if (j == NULL) {
		json_decref(v);
		return NULL;
	}
	if (json_object_set_new(j, key, v) == -1) {
		json_decref(j);
		return NULL;
	}
	return j;
}

static json_t *
pack_login(const struct broker_request *r)
{
	json_t	*j;

	j = json_pack("{s:i, s:s, s:s, s:s, s:s}", "v", BROKER_VERSION, "msg",
	    "login", "user", r->user, "password", r->password, "kind",
	    vm_kind_names[r->kind]);
	if (r->pool[0] != '\0')
		j = set_or_drop(j, "pool", json_string(r->pool));
	return j;
}

char *
broker_request_encode(const struct broker_request *r, char *err, size_t errlen)
{
	struct broker_request back;
	json_t	*j;
	char	*s;

	if (r->type > BROKER_LOGOUT || (r->type == BROKER_LOGIN &&
	    r->kind != VM_CVM && r->kind != VM_PVM)) {
		errbuf_set(err, errlen, "cannot encode: bad request type or kind");
		return NULL;
	}
	if (r->reason >= BROKER_LR_COUNT) {
		errbuf_set(err, errlen, "cannot encode: bad logout reason");
		return NULL;
	}
	if (r->type == BROKER_LOGIN)
		j = pack_login(r);
	else
		j = json_pack("{s:i, s:s, s:s, s:s}", "v", BROKER_VERSION, "msg",
		    broker_request_names[r->type], "session", r->session,
		    "token", r->token);
	/* Optional members only when set, so that an older broker takes
	 * what it knows; where they do not belong, the check refuses them. */
	if (r->progress)
		j = set_or_drop(j, "progress", json_true());
	if (r->reason != BROKER_LR_NONE)
		j = set_or_drop(j, "reason", json_string(
		    broker_logout_reason_names[r->reason]));
	s = finish(j, check_request, &back, err, errlen);
	/* The check's copy of the password or the token. */
	explicit_bzero(&back, sizeof(back));
	return s;
}

static json_t *
pack_desktop(const struct broker_desktop *d)
{
	json_t	*o;

	o = json_pack("{s:s, s:i, s:s, s:s, s:s, s:s, s:I}", "address",
	    d->address, "port", (int)d->port, "rdp_user", d->rdp_user,
	    "rdp_password", d->rdp_password, "session", d->session, "token",
	    d->token, "lease_seconds", (json_int_t)d->lease_seconds);
	if (o != NULL && d->cert_fingerprint[0] != '\0' &&
	    json_object_set_new(o, "cert_fingerprint",
	    json_string(d->cert_fingerprint)) == -1) {
		json_decref(o);
		o = NULL;
	}
	return o;
}

static json_t *
pack_error(const struct broker_reply *r)
{
	json_t	*o;
	int	 rc = 0;

	o = json_pack("{s:s, s:s}", "code", broker_error_names[r->code],
	    "message", r->message);
	if (o == NULL)
		return NULL;
	if (r->code == BROKER_E_RATE_LIMITED)
		rc = json_object_set_new(o, "retry_after",
		    json_integer((json_int_t)r->retry_after));
	else if (r->code == BROKER_E_NO_DESKTOP)
		rc = json_object_set_new(o, "reason",
		    json_string(broker_reason_names[r->reason]));
	if (rc == -1) {
		json_decref(o);
		return NULL;
	}
	return o;
}

char *
broker_reply_encode(const struct broker_reply *r, char *err, size_t errlen)
{
	struct broker_reply back;
	json_t	*j = NULL;
	char	*s;

	if (r->type > BROKER_R_PROGRESS || (r->type == BROKER_R_ERROR &&
	    (r->code >= BROKER_E_COUNT || r->reason >= BROKER_NR_COUNT)) ||
	    (r->type == BROKER_R_PROGRESS && r->step >= BROKER_P_COUNT)) {
		errbuf_set(err, errlen, "cannot encode: bad reply type or code");
		return NULL;
	}
	switch (r->type) {
	case BROKER_R_DESKTOP:
		j = json_pack("{s:i, s:s, s:o}", "v", BROKER_VERSION, "msg", "ok",
		    "desktop", pack_desktop(&r->desktop));
		break;
	case BROKER_R_RENEWED:
		j = json_pack("{s:i, s:s, s:I}", "v", BROKER_VERSION, "msg", "ok",
		    "lease_seconds", (json_int_t)r->lease_seconds);
		break;
	case BROKER_R_DONE:
		j = json_pack("{s:i, s:s}", "v", BROKER_VERSION, "msg", "ok");
		break;
	case BROKER_R_ERROR:
		j = json_pack("{s:i, s:s, s:o}", "v", BROKER_VERSION, "msg",
		    "error", "error", pack_error(r));
		break;
	case BROKER_R_PROGRESS:
		j = json_pack("{s:i, s:s, s:s}", "v", BROKER_VERSION, "msg",
		    "progress", "step", broker_progress_names[r->step]);
		break;
	}
	s = finish(j, check_reply, &back, err, errlen);
	/* The check's copy of the credential and the token. */
	explicit_bzero(&back, sizeof(back));
	return s;
}

void
broker_reply_error(struct broker_reply *r, enum broker_error code,
    const char *message, unsigned retry_after, enum broker_reason reason)
{
	memset(r, 0, sizeof(*r));
	r->type = BROKER_R_ERROR;
	r->code = code;
	snprintf(r->message, sizeof(r->message), "%s", message);
	r->retry_after = retry_after;
	r->reason = reason;
}

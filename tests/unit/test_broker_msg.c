/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * test_broker_msg.c — the broker API's messages (xvds/common/broker_msg.c):
 * every request and reply encoded and decoded back, the exact text on
 * the wire, every malformed message refused with its reason, and
 * encoders that refuse what the other side would.
 */
#include <config.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "common/broker_msg.h"

#define TOKEN	"Zk7Qm2xR9pLw4TnB8vHc3JdF6gYs5Ke2"
#define FP	"3f1c0b2a9e8d7c6b5a4f3e2d1c0b9a8f7e6d5c4b3a2f1e0d9c8b7a6f5e4d3c2b"

static struct broker_request
login(const char *user, const char *password, enum vm_kind kind,
    const char *pool)
{
	struct broker_request r;

	memset(&r, 0, sizeof(r));
	r.type = BROKER_LOGIN;
	snprintf(r.user, sizeof(r.user), "%s", user);
	snprintf(r.password, sizeof(r.password), "%s", password);
	r.kind = kind;
	snprintf(r.pool, sizeof(r.pool), "%s", pool);
	return r;
}

static struct broker_request
session_req(enum broker_request_type type, const char *session,
    const char *token)
{
	struct broker_request r;

	memset(&r, 0, sizeof(r));
	r.type = type;
	snprintf(r.session, sizeof(r.session), "%s", session);
	snprintf(r.token, sizeof(r.token), "%s", token);
	return r;
}

static struct broker_reply
desktop(const char *address, const char *fp)
{
	struct broker_reply r;
	struct broker_desktop *d = &r.desktop;

	memset(&r, 0, sizeof(r));
	r.type = BROKER_R_DESKTOP;
	snprintf(d->address, sizeof(d->address), "%s", address);
	d->port = 3389;
	snprintf(d->rdp_user, sizeof(d->rdp_user), "xvds-k3m9p2qa");
	snprintf(d->rdp_password, sizeof(d->rdp_password),
	    "Hq7ZpR3mKx9TvW2nBc4Ld6S");
	snprintf(d->cert_fingerprint, sizeof(d->cert_fingerprint), "%s", fp);
	snprintf(d->session, sizeof(d->session),
	    "6f9619ff-8b86-d011-b42d-00c04fc964ff");
	snprintf(d->token, sizeof(d->token), TOKEN);
	d->lease_seconds = 120;
	return r;
}

static struct broker_reply
error_reply(enum broker_error code, const char *text, unsigned retry,
    enum broker_reason reason)
{
	struct broker_reply r;

	broker_reply_error(&r, code, text, retry, reason);
	return r;
}

/* Encodes, checks the text if given, decodes, and compares. */
static void
request_roundtrip(const struct broker_request *r, const char *expect)
{
	struct broker_request back;
	char	 err[256] = "", *s;

	s = broker_request_encode(r, err, sizeof(err));
	if (s == NULL)
		fail_msg("encode: %s", err);
	if (expect != NULL)
		assert_string_equal(s, expect);
	if (broker_request_decode(s, strlen(s), &back, err, sizeof(err)) != 0)
		fail_msg("decode %s: %s", s, err);
	assert_memory_equal(r, &back, sizeof(back));
	free(s);
}

static void
reply_roundtrip(const struct broker_reply *r, const char *expect)
{
	struct broker_reply back;
	char	 err[256] = "", *s;

	s = broker_reply_encode(r, err, sizeof(err));
	if (s == NULL)
		fail_msg("encode: %s", err);
	if (expect != NULL)
		assert_string_equal(s, expect);
	if (broker_reply_decode(s, strlen(s), &back, err, sizeof(err)) != 0)
		fail_msg("decode %s: %s", s, err);
	assert_memory_equal(r, &back, sizeof(back));
	free(s);
}

static void
test_request_roundtrip(void **state)
{
	struct broker_request r;
	char	 pw[BROKER_PASSWORD_MAX + 1], user[BROKER_USER_MAX + 1];

	(void)state;
	r = login("alice", "correct horse", VM_CVM, "lab");
	request_roundtrip(&r, "{\"v\":1,\"msg\":\"login\",\"user\":\"alice\","
	    "\"password\":\"correct horse\",\"kind\":\"cvm\",\"pool\":\"lab\"}");
	r = login("bob.kim@lab-2", "비밀 \"번호\"\\\t", VM_PVM, "");
	request_roundtrip(&r, "{\"v\":1,\"msg\":\"login\",\"user\":"
	    "\"bob.kim@lab-2\",\"password\":\"비밀 \\\"번호\\\"\\\\\\t\","
	    "\"kind\":\"pvm\"}");
	/* The longest of everything. */
	memset(pw, 1, BROKER_PASSWORD_MAX);	/* escaped as \u0001: 6 bytes each */
	pw[BROKER_PASSWORD_MAX] = '\0';
	memset(user, 'u', BROKER_USER_MAX);
	user[BROKER_USER_MAX] = '\0';
	r = login(user, pw, VM_CVM, "p234567890123456789012345678901");
	request_roundtrip(&r, NULL);
	r = session_req(BROKER_RENEW, "6f9619ff-8b86-d011-b42d-00c04fc964ff",
	    TOKEN);
	request_roundtrip(&r, "{\"v\":1,\"msg\":\"renew\",\"session\":"
	    "\"6f9619ff-8b86-d011-b42d-00c04fc964ff\",\"token\":\"" TOKEN "\"}");
	r = session_req(BROKER_LOGOUT, "42", TOKEN);
	request_roundtrip(&r, "{\"v\":1,\"msg\":\"logout\",\"session\":\"42\","
	    "\"token\":\"" TOKEN "\"}");
}

/* The optional members: sent only when set, taken back as they were. */
static void
test_request_options(void **state)
{
	const char *no_progress = "{\"v\":1,\"msg\":\"login\",\"user\":\"a\","
	    "\"password\":\"p\",\"kind\":\"pvm\",\"progress\":false}";
	struct broker_request r;
	char	 err[256];
	int	 i;

	(void)state;
	r = login("alice", "pw", VM_CVM, "lab");
	r.progress = true;
	request_roundtrip(&r, "{\"v\":1,\"msg\":\"login\",\"user\":\"alice\","
	    "\"password\":\"pw\",\"kind\":\"cvm\",\"pool\":\"lab\","
	    "\"progress\":true}");
	r = session_req(BROKER_LOGOUT, "42", TOKEN);
	r.reason = BROKER_LR_UNTRUSTED;
	request_roundtrip(&r, "{\"v\":1,\"msg\":\"logout\",\"session\":\"42\","
	    "\"token\":\"" TOKEN "\",\"reason\":\"desktop-untrusted\"}");
	for (i = BROKER_LR_NONE; i < BROKER_LR_COUNT; i++) {
		r.reason = (enum broker_logout_reason)i;
		request_roundtrip(&r, NULL);
	}
	/* false is as good as absent. */
	if (broker_request_decode(no_progress, strlen(no_progress), &r, err,
	    sizeof(err)) != 0)
		fail_msg("%s", err);
	assert_false(r.progress);
}

static void
test_reply_roundtrip(void **state)
{
	struct broker_reply r;

	(void)state;
	r = desktop("10.77.0.12", FP);
	reply_roundtrip(&r, "{\"v\":1,\"msg\":\"ok\",\"desktop\":{\"address\":"
	    "\"10.77.0.12\",\"port\":3389,\"rdp_user\":\"xvds-k3m9p2qa\","
	    "\"rdp_password\":\"Hq7ZpR3mKx9TvW2nBc4Ld6S\",\"session\":"
	    "\"6f9619ff-8b86-d011-b42d-00c04fc964ff\",\"token\":\"" TOKEN "\","
	    "\"lease_seconds\":120,\"cert_fingerprint\":\"" FP "\"}}");
	r = desktop("2001:db8::12", "");
	reply_roundtrip(&r, NULL);
	r = desktop("desk-12.lab.example", "");
	reply_roundtrip(&r, NULL);
	memset(&r, 0, sizeof(r));
	r.type = BROKER_R_RENEWED;
	r.lease_seconds = 120;
	reply_roundtrip(&r, "{\"v\":1,\"msg\":\"ok\",\"lease_seconds\":120}");
	memset(&r, 0, sizeof(r));
	r.type = BROKER_R_DONE;
	reply_roundtrip(&r, "{\"v\":1,\"msg\":\"ok\"}");
	r = error_reply(BROKER_E_AUTH_FAILED, "wrong user name or password", 0,
	    BROKER_NR_NONE);
	reply_roundtrip(&r, "{\"v\":1,\"msg\":\"error\",\"error\":{\"code\":"
	    "\"auth-failed\",\"message\":\"wrong user name or password\"}}");
	r = error_reply(BROKER_E_RATE_LIMITED, "too many failed logins", 32,
	    BROKER_NR_NONE);
	reply_roundtrip(&r, "{\"v\":1,\"msg\":\"error\",\"error\":{\"code\":"
	    "\"rate-limited\",\"message\":\"too many failed logins\","
	    "\"retry_after\":32}}");
	r = error_reply(BROKER_E_NO_DESKTOP, "pool lab has no free desktop", 0,
	    BROKER_NR_POOL_EMPTY);
	reply_roundtrip(&r, "{\"v\":1,\"msg\":\"error\",\"error\":{\"code\":"
	    "\"no-desktop\",\"message\":\"pool lab has no free desktop\","
	    "\"reason\":\"pool-empty\"}}");
	r = error_reply(BROKER_E_BAD_SESSION, "no such session", 0,
	    BROKER_NR_NONE);
	reply_roundtrip(&r, NULL);
	r = error_reply(BROKER_E_BAD_REQUEST, "login: kind is cvm or pvm", 0,
	    BROKER_NR_NONE);
	reply_roundtrip(&r, NULL);
	r = error_reply(BROKER_E_INTERNAL, "database unavailable; try later",
	    0, BROKER_NR_NONE);
	reply_roundtrip(&r, NULL);
}

static void
test_progress_roundtrip(void **state)
{
	struct broker_reply r;
	int	 i;

	(void)state;
	memset(&r, 0, sizeof(r));
	r.type = BROKER_R_PROGRESS;
	r.step = BROKER_P_WAKING;
	reply_roundtrip(&r, "{\"v\":1,\"msg\":\"progress\",\"step\":"
	    "\"waking\"}");
	for (i = 0; i < BROKER_P_COUNT; i++) {
		r.step = (enum broker_progress)i;
		reply_roundtrip(&r, NULL);
	}
}

struct bad {
	const char	*json;
	const char	*err;	/* what the message says */
};

static const struct bad bad_requests[] = {
	{ "", "request: not JSON: " },
	{ "[1]", "request: not a JSON object" },
	{ "{\"v\":1,\"msg\":\"login\"} x", "request: not JSON: more after the value at byte 23" },
	{ "{\"msg\":\"renew\"}", "request: Object item not found: v" },
	{ "{\"v\":\"1\",\"msg\":\"renew\"}", "request: Expected integer, got string" },
	{ "{\"v\":1.0,\"msg\":\"renew\"}", "request: Expected integer, got real" },
	{ "{\"v\":2,\"msg\":\"renew\"}", "request: version 2 not spoken here (1 is)" },
	{ "{\"v\":1}", "request: Object item not found: msg" },
	{ "{\"v\":1,\"msg\":\"hello\"}", "request: msg is login, renew or logout" },
	{ "{\"v\":1,\"v\":1,\"msg\":\"renew\"}", "request: not JSON: a duplicate member" },
	{ "{\"v\":1,\"msg\":\"login\",\"user\":\"alice\",\"password\":\"pw\"}",
	  "login: Object item not found: kind" },
	{ "{\"v\":1,\"msg\":\"login\",\"user\":\"alice\",\"password\":\"pw\","
	  "\"kind\":\"cvm\",\"admin\":true}", "login: an unknown member" },
	{ "{\"v\":1,\"msg\":\"login\",\"user\":\"alice\",\"password\":\"pw\","
	  "\"kind\":\"cvm\",\"pool\":null}", "login: Expected string, got null" },
	{ "{\"v\":1,\"msg\":\"login\",\"user\":\"alice\",\"password\":\"pw\","
	  "\"kind\":\"cvm\",\"pool\":\"\"}", "login: bad pool name" },
	{ "{\"v\":1,\"msg\":\"login\",\"user\":\"alice\",\"password\":\"pw\","
	  "\"kind\":\"cvm\",\"pool\":\"9lab\"}", "login: bad pool name" },
	{ "{\"v\":1,\"msg\":\"login\",\"user\":\"alice\",\"password\":\"pw\","
	  "\"kind\":\"cvm\",\"pool\":\"p2345678901234567890123456789012\"}",
	  "login: bad pool name" },
	{ "{\"v\":1,\"msg\":\"login\",\"user\":\"alice\",\"password\":\"pw\","
	  "\"kind\":\"vm\"}", "login: kind is cvm or pvm" },
	{ "{\"v\":1,\"msg\":\"login\",\"user\":\"\",\"password\":\"pw\","
	  "\"kind\":\"cvm\"}", "login: bad user name" },
	{ "{\"v\":1,\"msg\":\"login\",\"user\":\"-alice\",\"password\":\"pw\","
	  "\"kind\":\"cvm\"}", "login: bad user name" },
	{ "{\"v\":1,\"msg\":\"login\",\"user\":\"al ice\",\"password\":\"pw\","
	  "\"kind\":\"cvm\"}", "login: bad user name" },
	{ "{\"v\":1,\"msg\":\"login\",\"user\":\"al/../ice\",\"password\":\"pw\","
	  "\"kind\":\"cvm\"}", "login: bad user name" },
	{ "{\"v\":1,\"msg\":\"login\",\"user\":\"ali\\u00e7e\",\"password\":\"pw\","
	  "\"kind\":\"cvm\"}", "login: bad user name" },
	{ "{\"v\":1,\"msg\":\"login\",\"user\":\"u234567890123456789012345678901"
	  "2345678901234567890123456789012345\",\"password\":\"pw\",\"kind\":\"cvm\"}",
	  "login: bad user name" },
	{ "{\"v\":1,\"msg\":\"login\",\"user\":\"alice\",\"password\":\"\","
	  "\"kind\":\"cvm\"}", "login: the password must have 1 to 1024 bytes" },
	{ "{\"v\":1,\"msg\":\"login\",\"user\":\"alice\",\"password\":\"p\\u0000w\","
	  "\"kind\":\"cvm\"}", "request: not JSON: a NUL character" },
	{ "{\"v\":1,\"msg\":\"login\",\"user\":\"alice\",\"password\":\"\xff\","
	  "\"kind\":\"cvm\"}", "request: not JSON: invalid UTF-8" },
	{ "{\"v\":1,\"msg\":\"renew\",\"session\":\"42\"}",
	  "renew: Object item not found: token" },
	{ "{\"v\":1,\"msg\":\"renew\",\"session\":\"42\",\"token\":\"" TOKEN "\","
	  "\"user\":\"alice\"}", "renew: an unknown member" },
	{ "{\"v\":1,\"msg\":\"logout\",\"session\":\"4 2\",\"token\":\"" TOKEN "\"}",
	  "logout: bad session" },
	{ "{\"v\":1,\"msg\":\"logout\",\"session\":\"\",\"token\":\"" TOKEN "\"}",
	  "logout: bad session" },
	{ "{\"v\":1,\"msg\":\"logout\",\"session\":\"42\",\"token\":\"short\"}",
	  "logout: bad token (16 to 64 of A-Z a-z 0-9)" },
	{ "{\"v\":1,\"msg\":\"logout\",\"session\":\"42\",\"token\":\"" TOKEN "+\"}",
	  "logout: bad token" },
	{ "{\"v\":1,\"msg\":\"logout\",\"session\":42,\"token\":\"" TOKEN "\"}",
	  "logout: Expected string, got integer" },
	{ "{\"v\":1,\"msg\":\"login\",\"user\":\"alice\",\"password\":\"pw\","
	  "\"kind\":\"cvm\",\"progress\":1}",
	  "login: Expected true or false, got integer" },
	{ "{\"v\":1,\"msg\":\"login\",\"user\":\"alice\",\"password\":\"pw\","
	  "\"kind\":\"cvm\",\"progress\":\"yes\"}",
	  "login: Expected true or false, got string" },
	{ "{\"v\":1,\"msg\":\"login\",\"user\":\"alice\",\"password\":\"pw\","
	  "\"kind\":\"cvm\",\"reason\":\"closed\"}", "login: an unknown member" },
	{ "{\"v\":1,\"msg\":\"renew\",\"session\":\"42\",\"token\":\"" TOKEN "\","
	  "\"progress\":true}", "renew: an unknown member" },
	{ "{\"v\":1,\"msg\":\"renew\",\"session\":\"42\",\"token\":\"" TOKEN "\","
	  "\"reason\":\"closed\"}", "renew: reason comes with logout only" },
	{ "{\"v\":1,\"msg\":\"logout\",\"session\":\"42\",\"token\":\"" TOKEN "\","
	  "\"reason\":\"bored\"}", "logout: reason is logoff, closed, lost, "
	  "desktop-untrusted, desktop-unreachable, rdp-auth or signal" },
	{ "{\"v\":1,\"msg\":\"logout\",\"session\":\"42\",\"token\":\"" TOKEN "\","
	  "\"reason\":\"\"}", "logout: reason is logoff" },
	{ "{\"v\":1,\"msg\":\"logout\",\"session\":\"42\",\"token\":\"" TOKEN "\","
	  "\"reason\":\"Closed\"}", "logout: reason is logoff" },
	{ "{\"v\":1,\"msg\":\"logout\",\"session\":\"42\",\"token\":\"" TOKEN "\","
	  "\"reason\":null}", "logout: Expected string, got null" },
	{ "{\"v\":1,\"msg\":\"logout\",\"session\":\"42\",\"token\":\"" TOKEN "\","
	  "\"reason\":\"lost\",\"reason\":\"closed\"}",
	  "request: not JSON: a duplicate member" },
};

#define DESK_HEAD "{\"v\":1,\"msg\":\"ok\",\"desktop\":{"
#define DESK_TAIL "\"rdp_user\":\"u\",\"rdp_password\":\"p\",\"session\":\"s\"," \
	"\"token\":\"" TOKEN "\",\"lease_seconds\":60}}"
#define ERR_HEAD "{\"v\":1,\"msg\":\"error\",\"error\":{"

static const struct bad bad_replies[] = {
	{ "{\"v\":1,\"msg\":\"login\"}", "reply: msg is ok or error" },
	{ "{\"v\":1,\"msg\":\"ok\",\"extra\":1}",
	  "reply: ok has desktop, lease_seconds or nothing else" },
	{ "{\"v\":1,\"msg\":\"ok\",\"lease_seconds\":0}",
	  "renewed: lease_seconds out of range (1 to 86400)" },
	{ "{\"v\":1,\"msg\":\"ok\",\"lease_seconds\":86401}",
	  "renewed: lease_seconds out of range" },
	{ "{\"v\":1,\"msg\":\"ok\",\"lease_seconds\":60,\"desktop\":null}",
	  "desktop: Expected object, got null" },
	{ "{\"v\":1,\"msg\":\"ok\",\"lease_seconds\":60,\"x\":1}",
	  "renewed: an unknown member" },
	{ DESK_HEAD "\"address\":\"10.0.0.1\",\"port\":3389," DESK_TAIL, NULL },
	{ DESK_HEAD "\"address\":\"10.0.0.1\",\"port\":0," DESK_TAIL,
	  "desktop: port out of range" },
	{ DESK_HEAD "\"address\":\"10.0.0.1\",\"port\":65536," DESK_TAIL,
	  "desktop: port out of range" },
	{ DESK_HEAD "\"address\":\"10.0.0.1\"," DESK_TAIL,
	  "desktop: Object item not found: port" },
	{ DESK_HEAD "\"address\":\"\",\"port\":3389," DESK_TAIL,
	  "desktop: bad address" },
	{ DESK_HEAD "\"address\":\"host..lab\",\"port\":3389," DESK_TAIL,
	  "desktop: bad address" },
	{ DESK_HEAD "\"address\":\"-host\",\"port\":3389," DESK_TAIL,
	  "desktop: bad address" },
	{ DESK_HEAD "\"address\":\"[2001:db8::1]\",\"port\":3389," DESK_TAIL,
	  "desktop: bad address" },
	{ DESK_HEAD "\"address\":\"a;rm -rf\",\"port\":3389," DESK_TAIL,
	  "desktop: bad address" },
	{ DESK_HEAD "\"address\":\"h\",\"port\":1,\"cert_fingerprint\":\"AB\","
	  DESK_TAIL, "desktop: cert_fingerprint is 64 lower-case hex digits" },
	{ DESK_HEAD "\"address\":\"h\",\"port\":1,\"cert_fingerprint\":\""
	  FP "\",\"extra\":1," DESK_TAIL,
	  "desktop: an unknown member" },
	{ DESK_HEAD "\"address\":\"h\",\"port\":1,\"rdp_user\":\"-u\","
	  "\"rdp_password\":\"p\",\"session\":\"s\",\"token\":\"" TOKEN "\","
	  "\"lease_seconds\":60}}", "desktop: bad rdp_user" },
	{ DESK_HEAD "\"address\":\"h\",\"port\":1,\"rdp_user\":\"u\","
	  "\"rdp_password\":\"p w\",\"session\":\"s\",\"token\":\"" TOKEN "\","
	  "\"lease_seconds\":60}}", "desktop: bad rdp_password" },
	{ DESK_HEAD "\"address\":\"h\",\"port\":1,\"rdp_user\":\"u\","
	  "\"rdp_password\":\"p\",\"session\":\"s\",\"token\":\"" TOKEN "\","
	  "\"lease_seconds\":-1}}", "desktop: lease_seconds out of range" },
	{ ERR_HEAD "\"code\":\"auth-failed\"}}",
	  "error: Object item not found: message" },
	{ ERR_HEAD "\"code\":\"no-such-user\",\"message\":\"m\"}}",
	  "error: unknown code" },
	{ ERR_HEAD "\"code\":\"internal\",\"message\":\"\"}}",
	  "error: the message must have 1 to 256 bytes and no control characters" },
	{ ERR_HEAD "\"code\":\"internal\",\"message\":\"a\\nb\"}}",
	  "error: the message must have" },
	{ ERR_HEAD "\"code\":\"rate-limited\",\"message\":\"m\"}}",
	  "error: retry_after comes with rate-limited, and only with it" },
	{ ERR_HEAD "\"code\":\"auth-failed\",\"message\":\"m\",\"retry_after\":-1}}",
	  "error: retry_after comes with rate-limited" },
	{ ERR_HEAD "\"code\":\"rate-limited\",\"message\":\"m\",\"retry_after\":0}}",
	  "error: retry_after out of range (1 to 86400)" },
	{ ERR_HEAD "\"code\":\"no-desktop\",\"message\":\"m\"}}",
	  "error: reason comes with no-desktop, and only with it" },
	{ ERR_HEAD "\"code\":\"internal\",\"message\":\"m\",\"reason\":\"busy\"}}",
	  "error: reason comes with no-desktop" },
	{ ERR_HEAD "\"code\":\"no-desktop\",\"message\":\"m\",\"reason\":\"\"}}",
	  "error: unknown reason" },
	{ ERR_HEAD "\"code\":\"no-desktop\",\"message\":\"m\",\"reason\":\"full\"}}",
	  "error: unknown reason" },
	{ ERR_HEAD "\"code\":\"internal\",\"message\":\"m\",\"why\":1}}",
	  "error: an unknown member" },
	{ "{\"v\":1,\"msg\":\"progress\",\"step\":\"booting\"}", NULL },
	{ "{\"v\":1,\"msg\":\"progress\"}",
	  "progress: Object item not found: step" },
	{ "{\"v\":1,\"msg\":\"progress\",\"step\":\"dozing\"}",
	  "progress: step is queued, waking, booting, starting or credential" },
	{ "{\"v\":1,\"msg\":\"progress\",\"step\":\"\"}",
	  "progress: step is queued" },
	{ "{\"v\":1,\"msg\":\"progress\",\"step\":3}",
	  "progress: Expected string, got integer" },
	{ "{\"v\":1,\"msg\":\"progress\",\"step\":\"waking\",\"percent\":5}",
	  "progress: an unknown member" },
	{ "{\"v\":2,\"msg\":\"progress\",\"step\":\"waking\"}",
	  "reply: version 2 not spoken here (1 is)" },
};

static void
test_bad_requests(void **state)
{
	struct broker_request r, zero;
	char	 err[256];
	size_t	 i;

	(void)state;
	memset(&zero, 0, sizeof(zero));
	for (i = 0; i < sizeof(bad_requests) / sizeof(bad_requests[0]); i++) {
		err[0] = '\0';
		memset(&r, 0xa5, sizeof(r));
		if (broker_request_decode(bad_requests[i].json,
		    strlen(bad_requests[i].json), &r, err, sizeof(err)) != -1)
			fail_msg("taken: %s", bad_requests[i].json);
		if (strncmp(err, bad_requests[i].err,
		    strlen(bad_requests[i].err)) != 0)
			fail_msg("%s: said \"%s\", not \"%s\"", bad_requests[i].json,
			    err, bad_requests[i].err);
		/* Nothing half-decoded (a password) is left behind. */
		assert_memory_equal(&r, &zero, sizeof(r));
	}
}

/*
 * Malformed requests around a secret: the error text (logged, and sent
 * back) names the fault and its place, never a byte of the input; jansson's
 * own text would quote "near '...'" and list unknown members' names.
 */
#define SECRET "Sekr1tPassw0rd"
static const char *const secret_requests[] = {
	"{\"v\":1,\"msg\":\"login\",\"user\":\"alice\",\"password\":" SECRET "}",
	"{\"v\":1,\"msg\":\"login\",\"user\":\"alice\",\"password\":\"" SECRET,
	"{\"v\":1,\"msg\":\"login\",\"user\":\"alice\",\"password\":\"x\"} " SECRET,
	"{\"v\":1,\"msg\":\"login\",\"user\":\"alice\",\"" SECRET "\":1,"
	"\"password\":\"x\",\"kind\":\"cvm\"}",
	"{\"v\":1,\"msg\":\"login\",\"user\":\"alice\",\"" SECRET "\":1,"
	"\"" SECRET "\":2}",
	"{\"v\":1,\"msg\":\"login\",\"user\":\"alice\",\"password\":\"" SECRET
	"\xff\",\"kind\":\"cvm\"}",
	"{\"v\":1,\"msg\":\"login\",\"user\":\"alice\",\"password\":\"" SECRET
	"\\u0000\",\"kind\":\"cvm\"}",
	"{\"v\":1,\"msg\":\"logout\",\"session\":\"1\",\"token\":\"" SECRET "\","
	"\"" SECRET "\":\"x\"}",
	"{\"v\":1,\"msg\":\"" SECRET "\"}",
	"{\"v\":1,\"msg\":\"login\",\"user\":\"" SECRET "!\",\"password\":\"x\","
	"\"kind\":\"cvm\"}",
	"{\"v\":1,\"msg\":\"login\",\"user\":\"alice\",\"password\":\"x\","
	"\"kind\":\"" SECRET "\"}",
	"{\"v\":1,\"msg\":\"login\",\"user\":\"alice\",\"password\":[\"" SECRET
	"\"],\"kind\":\"cvm\"}",
};

static void
test_secrets_not_quoted(void **state)
{
	struct broker_request r;
	char	 err[256];
	size_t	 i;

	(void)state;
	for (i = 0; i < sizeof(secret_requests) / sizeof(secret_requests[0]);
	    i++) {
		err[0] = '\0';
		if (broker_request_decode(secret_requests[i],
		    strlen(secret_requests[i]), &r, err, sizeof(err)) != -1)
			fail_msg("taken: %s", secret_requests[i]);
		/* No piece of it: jansson quotes a few bytes of a token. */
		if (strstr(err, "Sekr") != NULL || strstr(err, "Passw") != NULL ||
		    strstr(err, "0rd") != NULL)
			fail_msg("%s: said \"%s\"", secret_requests[i], err);
	}
}

static void
test_bad_replies(void **state)
{
	struct broker_reply r;
	char	 err[256];
	size_t	 i;
	int	 rc;

	(void)state;
	for (i = 0; i < sizeof(bad_replies) / sizeof(bad_replies[0]); i++) {
		err[0] = '\0';
		rc = broker_reply_decode(bad_replies[i].json,
		    strlen(bad_replies[i].json), &r, err, sizeof(err));
		if (bad_replies[i].err == NULL) {
			/* The good one the bad ones are made from. */
			if (rc != 0)
				fail_msg("refused: %s: %s", bad_replies[i].json, err);
			continue;
		}
		if (rc != -1)
			fail_msg("taken: %s", bad_replies[i].json);
		if (strncmp(err, bad_replies[i].err,
		    strlen(bad_replies[i].err)) != 0)
			fail_msg("%s: said \"%s\", not \"%s\"", bad_replies[i].json,
			    err, bad_replies[i].err);
	}
}

static void
test_size_limit(void **state)
{
	struct broker_request r;
	char	*buf, err[256];
	size_t	 n;

	(void)state;
	/* A valid login padded with white space to the limit, then past it. */
	buf = malloc(BROKER_MSG_MAX + 2);
	assert_non_null(buf);
	n = (size_t)snprintf(buf, BROKER_MSG_MAX + 2, "{\"v\":1,\"msg\":\"login\","
	    "\"user\":\"alice\",\"password\":\"pw\",\"kind\":\"cvm\"}");
	memset(buf + n, ' ', BROKER_MSG_MAX + 1 - n);
	assert_int_equal(broker_request_decode(buf, BROKER_MSG_MAX, &r, err,
	    sizeof(err)), 0);
	assert_string_equal(r.user, "alice");
	assert_int_equal(broker_request_decode(buf, BROKER_MSG_MAX + 1, &r, err,
	    sizeof(err)), -1);
	assert_string_equal(err, "request: longer than 8192 bytes");
	/* Not NUL-terminated: only len bytes are read. */
	assert_int_equal(broker_request_decode(buf, n, &r, err, sizeof(err)), 0);
	free(buf);
}

static void
test_encode_refuses(void **state)
{
	struct broker_request q;
	struct broker_reply r;
	char	 err[256];

	(void)state;
	q = login("alice", "", VM_CVM, "");
	assert_null(broker_request_encode(&q, err, sizeof(err)));
	assert_string_equal(err, "login: the password must have 1 to 1024 bytes");
	q = login("alice", "pw", (enum vm_kind)7, "");
	assert_null(broker_request_encode(&q, err, sizeof(err)));
	assert_string_equal(err, "cannot encode: bad request type or kind");
	q = session_req((enum broker_request_type)9, "42", TOKEN);
	assert_null(broker_request_encode(&q, err, sizeof(err)));
	q = session_req(BROKER_RENEW, "42", "");
	assert_null(broker_request_encode(&q, err, sizeof(err)));
	assert_string_equal(err, "renew: bad token (16 to 64 of A-Z a-z 0-9)");
	r = desktop("10.0.0.1", "");
	r.desktop.port = 0;
	assert_null(broker_reply_encode(&r, err, sizeof(err)));
	assert_string_equal(err, "desktop: port out of range");
	r = error_reply(BROKER_E_RATE_LIMITED, "slow down", 0, BROKER_NR_NONE);
	assert_null(broker_reply_encode(&r, err, sizeof(err)));
	assert_string_equal(err, "error: retry_after out of range (1 to 86400)");
	r = error_reply(BROKER_E_NO_DESKTOP, "none", 0, BROKER_NR_NONE);
	assert_null(broker_reply_encode(&r, err, sizeof(err)));
	assert_string_equal(err, "error: unknown reason");
	r = error_reply((enum broker_error)BROKER_E_COUNT, "x", 0, BROKER_NR_NONE);
	assert_null(broker_reply_encode(&r, err, sizeof(err)));
	assert_string_equal(err, "cannot encode: bad reply type or code");
	r = error_reply(BROKER_E_NO_DESKTOP, "x", 0,
	    (enum broker_reason)BROKER_NR_COUNT);
	assert_null(broker_reply_encode(&r, err, sizeof(err)));
	q = session_req(BROKER_LOGOUT, "42", TOKEN);
	q.reason = (enum broker_logout_reason)BROKER_LR_COUNT;
	assert_null(broker_request_encode(&q, err, sizeof(err)));
	assert_string_equal(err, "cannot encode: bad logout reason");
	q = session_req(BROKER_RENEW, "42", TOKEN);
	q.reason = BROKER_LR_CLOSED;
	assert_null(broker_request_encode(&q, err, sizeof(err)));
	assert_string_equal(err, "renew: reason comes with logout only");
	q = session_req(BROKER_LOGOUT, "42", TOKEN);
	q.progress = true;
	assert_null(broker_request_encode(&q, err, sizeof(err)));
	assert_string_equal(err, "logout: an unknown member");
	q = login("alice", "pw", VM_CVM, "");
	q.reason = BROKER_LR_LOST;
	assert_null(broker_request_encode(&q, err, sizeof(err)));
	assert_string_equal(err, "login: an unknown member");
	memset(&r, 0, sizeof(r));
	r.type = BROKER_R_PROGRESS;
	r.step = (enum broker_progress)BROKER_P_COUNT;
	assert_null(broker_reply_encode(&r, err, sizeof(err)));
	assert_string_equal(err, "cannot encode: bad reply type or code");
	/* Not UTF-8: jansson will not make a string of it. */
	r = error_reply(BROKER_E_INTERNAL, "\xc3", 0, BROKER_NR_NONE);
	assert_null(broker_reply_encode(&r, err, sizeof(err)));
	assert_string_equal(err, "cannot encode: out of memory or bad UTF-8");
}

static void
test_names(void **state)
{
	int	 i;

	(void)state;
	for (i = 0; i < BROKER_E_COUNT; i++)
		assert_non_null(broker_error_names[i]);
	for (i = 1; i < BROKER_NR_COUNT; i++)
		assert_non_null(broker_reason_names[i]);
	for (i = 1; i < BROKER_LR_COUNT; i++)
		assert_non_null(broker_logout_reason_names[i]);
	for (i = 0; i < BROKER_P_COUNT; i++)
		assert_non_null(broker_progress_names[i]);
	assert_string_equal(broker_error_names[BROKER_E_AUTH_FAILED],
	    "auth-failed");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_request_roundtrip),
		cmocka_unit_test(test_request_options),
		cmocka_unit_test(test_reply_roundtrip),
		cmocka_unit_test(test_progress_roundtrip),
		cmocka_unit_test(test_bad_requests),
		cmocka_unit_test(test_bad_replies),
		cmocka_unit_test(test_secrets_not_quoted),
		cmocka_unit_test(test_size_limit),
		cmocka_unit_test(test_encode_refuses),
		cmocka_unit_test(test_names),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

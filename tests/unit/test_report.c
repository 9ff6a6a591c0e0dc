/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * test_report.c — the guest report protocol (xvds/common/report.c): formatting,
 * parsing, dom0's checks, and refusal of malformed and oversized records.
 */
#include <config.h>

#include <sys/socket.h>
#include <arpa/inet.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "common/report.h"

#define BOOT_ID	"0123456789abcdef0123456789abcdef"
#define BOOT_ID2 "fedcba9876543210fedcba9876543210"

static struct report_addr
mkaddr(const char *ifname, const char *host, unsigned prefix)
{
	struct report_addr a;

	memset(&a, 0, sizeof(a));
	snprintf(a.ifname, sizeof(a.ifname), "%s", ifname);
	a.family = strchr(host, ':') ? AF_INET6 : AF_INET;
	assert_int_equal(inet_pton(a.family, host, a.addr), 1);
	a.prefix = prefix;
	return a;
}

static int
parse_boot(const char *s, struct report_boot *b, char *err)
{
	return report_boot_parse(s, strlen(s), b, err, REPORT_ERR_MAX);
}

static int
parse_addrs(const char *s, struct report_addrs *a, char *err)
{
	return report_addrs_parse(s, strlen(s), a, err, REPORT_ERR_MAX);
}

static void
test_boot_roundtrip(void **state)
{
	struct report_boot b, out;
	char	 buf[REPORT_BOOT_MAX + 1], err[REPORT_ERR_MAX];
	int	 n;

	(void)state;
	memset(&b, 0, sizeof(b));
	strcpy(b.boot_id, BOOT_ID);
	b.time = 1795000000;
	strcpy(b.agent, "0.1.0");
	n = report_boot_format(&b, buf, sizeof(buf));
	assert_int_equal(n, (int)strlen(buf));
	assert_string_equal(buf, "v=1 boot=" BOOT_ID " time=1795000000 agent=0.1.0");
	assert_int_equal(report_boot_parse(buf, (size_t)n, &out, err, sizeof(err)), 0);
	assert_int_equal(out.version, 1);
	assert_string_equal(out.boot_id, BOOT_ID);
	assert_int_equal(out.time, 1795000000);
	assert_string_equal(out.agent, "0.1.0");
}

/* The RDP server certificate's SHA-256: optional, strict when there. */
static void
test_boot_rdp(void **state)
{
	static const char sha[] = "0123456789abcdef0123456789abcdef"
	    "0123456789abcdef0123456789abcdef";
	static const char *const bad[] = {
		"v=1 boot=" BOOT_ID " time=1 agent=a rdp=0123",
		"v=1 boot=" BOOT_ID " time=1 agent=a rdp=0123456789ABCDEF0123456789"
		    "abcdef0123456789abcdef0123456789abcdef",
		"v=1 boot=" BOOT_ID " time=1 agent=a rdp=0123456789abcdef0123456789"
		    "abcdef0123456789abcdef0123456789abcdefff",
		"v=1 boot=" BOOT_ID " time=1 agent=a rdp=0123456789abcdef0123456789"
		    "abcdef0123456789abcdef0123456789abcdeg",
		"v=1 boot=" BOOT_ID " time=1 agent=a rdp=",
	};
	struct report_boot b, out;
	char	 buf[REPORT_BOOT_MAX + 1], err[REPORT_ERR_MAX], dup[512];
	size_t	 i;
	int	 n;

	(void)state;
	memset(&b, 0, sizeof(b));
	strcpy(b.boot_id, BOOT_ID);
	b.time = 1795000000;
	strcpy(b.agent, "0.1.0");
	strcpy(b.rdp_sha256, sha);
	n = report_boot_format(&b, buf, sizeof(buf));
	assert_true(n > 0);
	assert_string_equal(buf, "v=1 boot=" BOOT_ID " time=1795000000 "
	    "agent=0.1.0 rdp=" "0123456789abcdef0123456789abcdef"
	    "0123456789abcdef0123456789abcdef");
	assert_int_equal(report_boot_parse(buf, (size_t)n, &out, err,
	    sizeof(err)), 0);
	assert_string_equal(out.rdp_sha256, sha);
	/* Absent: empty. */
	assert_int_equal(report_boot_parse("v=1 boot=" BOOT_ID " time=1 agent=a",
	    strlen("v=1 boot=" BOOT_ID " time=1 agent=a"), &out, err,
	    sizeof(err)), 0);
	assert_string_equal(out.rdp_sha256, "");
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(report_boot_parse(bad[i], strlen(bad[i]), &out,
		    err, sizeof(err)), -1);
		assert_non_null(strstr(err, "rdp"));
	}
	snprintf(dup, sizeof(dup), "%s rdp=%s", buf, sha);
	assert_int_equal(report_boot_parse(dup, strlen(dup), &out, err,
	    sizeof(err)), -1);
	assert_non_null(strstr(err, "twice"));
	/* Not formatted when malformed. */
	strcpy(b.rdp_sha256, "00");
	assert_int_equal(report_boot_format(&b, buf, sizeof(buf)), -1);
}

static void
test_boot_format_refuses_invalid(void **state)
{
	struct report_boot b;
	char	 buf[REPORT_BOOT_MAX + 1], small[16];

	(void)state;
	memset(&b, 0, sizeof(b));
	strcpy(b.boot_id, BOOT_ID);
	b.time = 1;
	strcpy(b.agent, "1.0");
	assert_int_equal(report_boot_format(&b, small, sizeof(small)), -1);
	strcpy(b.agent, "1 0");
	assert_int_equal(report_boot_format(&b, buf, sizeof(buf)), -1);
	strcpy(b.agent, "1.0");
	strcpy(b.boot_id, "XYZ");
	assert_int_equal(report_boot_format(&b, buf, sizeof(buf)), -1);
	strcpy(b.boot_id, BOOT_ID);
	b.time = 0;
	assert_int_equal(report_boot_format(&b, buf, sizeof(buf)), -1);
}

/* Each malformed boot-complete value and a word its refusal must contain. */
static const struct {
	const char *value;
	const char *reason;
} bad_boot[] = {
	{ "", "empty" },
	{ "v=1", "missing field boot" },
	{ "v=1 boot=" BOOT_ID " time=5", "missing field agent" },
	{ "v=1 boot=" BOOT_ID " agent=1", "missing field time" },
	{ "boot=" BOOT_ID " v=1 time=5 agent=1", "first field" },
	{ "v=99 boot=" BOOT_ID " time=5 agent=1", "version 99 not supported" },
	{ "v=01 boot=" BOOT_ID " time=5 agent=1", "not a version" },
	{ "v=x boot=" BOOT_ID " time=5 agent=1", "not a version" },
	{ "v=1 boot=zz time=5 agent=1", "boot: expected 32" },
	{ "v=1 boot=0123456789ABCDEF0123456789ABCDEF time=5 agent=1", "boot: expected" },
	{ "v=1 boot=" BOOT_ID "0 time=5 agent=1", "boot: expected" },
	{ "v=1 boot=" BOOT_ID " time=-5 agent=1", "time:" },
	{ "v=1 boot=" BOOT_ID " time=0 agent=1", "time:" },
	{ "v=1 boot=" BOOT_ID " time=007 agent=1", "time:" },
	{ "v=1 boot=" BOOT_ID " time=99999999999999999999999 agent=1", "time:" },
	{ "v=1 boot=" BOOT_ID " time=9007199254740993 agent=1", "time:" },
	{ "v=1 boot=" BOOT_ID " time=5 agent=a;b", "agent:" },
	{ "v=1 boot=" BOOT_ID " time=5 agent=0123456789012345678901234567890123", "agent:" },
	{ "v=1 boot=" BOOT_ID " boot=" BOOT_ID " time=5 agent=1", "appears twice" },
	{ "v=1 boot=" BOOT_ID " time=5 agent=1 v=1", "appears twice" },
	{ "v=1  boot=" BOOT_ID " time=5 agent=1", "empty field" },
	{ " v=1 boot=" BOOT_ID " time=5 agent=1", "empty field" },
	{ "v=1 boot=" BOOT_ID " time=5 agent=1 ", "empty field" },
	{ "v=1 boot=" BOOT_ID " time=5 agent=1\n", "non-printable" },
	{ "v=1 boot=" BOOT_ID " time=5 agent=\xc3\xa9", "non-printable" },
	{ "v=1 boot=" BOOT_ID " time=5 agent", "no '='" },
	{ "v=1 boot=" BOOT_ID " time=5 =1", "invalid key" },
	{ "v=1 boot=" BOOT_ID " time=5 Agent=1", "invalid key" },
	{ "v=1 boot=" BOOT_ID " time=5 agent=", "empty value" },
};

static void
test_boot_malformed(void **state)
{
	struct report_boot b;
	char	 err[REPORT_ERR_MAX];
	size_t	 i;

	(void)state;
	for (i = 0; i < sizeof(bad_boot) / sizeof(bad_boot[0]); i++) {
		err[0] = '\0';
		if (parse_boot(bad_boot[i].value, &b, err) != -1)
			fail_msg("accepted: \"%s\"", bad_boot[i].value);
		if (strstr(err, bad_boot[i].reason) == NULL)
			fail_msg("\"%s\": reason \"%s\" lacks \"%s\"",
			    bad_boot[i].value, err, bad_boot[i].reason);
	}
}

static void
test_boot_nul_byte(void **state)
{
	static const char v[] = "v=1 boot=" BOOT_ID " time=5 agent=1\0junk";
	struct report_boot b;
	char	 err[REPORT_ERR_MAX];

	(void)state;
	assert_int_equal(report_boot_parse(v, sizeof(v) - 1, &b, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "NUL byte"));
	/* Without the tail the same bytes are a valid record. */
	assert_int_equal(report_boot_parse(v, strlen(v), &b, err, sizeof(err)), 0);
}

static void
test_boot_oversized(void **state)
{
	struct report_boot b;
	char	 err[REPORT_ERR_MAX];
	char	*v;
	int	 n;

	(void)state;
	v = malloc(4096);
	assert_non_null(v);
	n = snprintf(v, 4096, "v=1 boot=" BOOT_ID " time=5 agent=1 pad=");
	memset(v + n, 'x', 3000);
	v[n + 3000] = '\0';
	assert_int_equal(parse_boot(v, &b, err), -1);
	assert_non_null(strstr(err, "more than 256"));
	free(v);
}

static void
test_boot_unknown_fields_ignored(void **state)
{
	struct report_boot b;
	char	 err[REPORT_ERR_MAX];

	(void)state;
	assert_int_equal(parse_boot("v=1 future-key=x boot=" BOOT_ID
	    " time=5 agent=1", &b, err), 0);
	assert_string_equal(b.boot_id, BOOT_ID);
}

static void
test_too_many_fields(void **state)
{
	struct report_boot b;
	char	 v[REPORT_BOOT_MAX + 1], err[REPORT_ERR_MAX];
	size_t	 off;
	int	 i;

	(void)state;
	off = (size_t)snprintf(v, sizeof(v), "v=1");
	for (i = 0; i < REPORT_FIELDS_MAX; i++)
		off += (size_t)snprintf(v + off, sizeof(v) - off, " x=1");
	assert_true(off < REPORT_BOOT_MAX);
	assert_int_equal(parse_boot(v, &b, err), -1);
	assert_non_null(strstr(err, "more than 32 fields"));
}

static void
test_addrs_roundtrip(void **state)
{
	struct report_addrs a, out;
	char	 buf[REPORT_ADDRS_MAX + 1], err[REPORT_ERR_MAX];
	int	 n;

	(void)state;
	memset(&a, 0, sizeof(a));
	strcpy(a.boot_id, BOOT_ID);
	a.seq = 7;
	a.addr[a.n++] = mkaddr("eth0", "10.77.0.2", 24);
	a.addr[a.n++] = mkaddr("eth0", "2001:db8::2", 64);
	n = report_addrs_format(&a, buf, sizeof(buf));
	assert_true(n > 0);
	assert_string_equal(buf, "v=1 boot=" BOOT_ID " seq=7 "
	    "ip=eth0,10.77.0.2/24 ip=eth0,2001:db8::2/64");
	assert_int_equal(report_addrs_parse(buf, (size_t)n, &out, err, sizeof(err)), 0);
	assert_int_equal(out.seq, 7);
	assert_int_equal(out.n, 2);
	assert_memory_equal(&out.addr[0], &a.addr[0], sizeof(a.addr[0]));
	assert_memory_equal(&out.addr[1], &a.addr[1], sizeof(a.addr[1]));
}

static void
test_addrs_empty_list(void **state)
{
	struct report_addrs a;
	char	 err[REPORT_ERR_MAX];

	(void)state;
	assert_int_equal(parse_addrs("v=1 boot=" BOOT_ID " seq=0", &a, err), 0);
	assert_int_equal(a.n, 0);
	assert_int_equal(report_addrs_pick(&a), -1);
}

static const struct {
	const char *value;
	const char *reason;
} bad_addrs[] = {
	{ "v=1 seq=1", "missing field boot" },
	{ "v=1 boot=" BOOT_ID, "missing field seq" },
	{ "v=1 boot=" BOOT_ID " seq=-1", "seq:" },
	{ "v=1 boot=" BOOT_ID " seq=1 seq=2", "appears twice" },
	{ "v=2 boot=" BOOT_ID " seq=1", "version 2 not supported" },
	{ "v=1 boot=" BOOT_ID " seq=1 ip=10.0.0.1/8", "expected <ifname>" },
	{ "v=1 boot=" BOOT_ID " seq=1 ip=eth0,10.0.0.1", "expected <ifname>" },
	{ "v=1 boot=" BOOT_ID " seq=1 ip=eth0,10.0.0.300/8", "bad address" },
	{ "v=1 boot=" BOOT_ID " seq=1 ip=eth0,10.0.0/8", "bad address" },
	{ "v=1 boot=" BOOT_ID " seq=1 ip=eth0,/8", "bad address" },
	{ "v=1 boot=" BOOT_ID " seq=1 ip=eth0,10.0.0.1/33", "bad prefix" },
	{ "v=1 boot=" BOOT_ID " seq=1 ip=eth0,10.0.0.1/", "bad prefix" },
	{ "v=1 boot=" BOOT_ID " seq=1 ip=eth0,10.0.0.1/08", "bad prefix" },
	{ "v=1 boot=" BOOT_ID " seq=1 ip=eth0,fe80::1/129", "bad prefix" },
	{ "v=1 boot=" BOOT_ID " seq=1 ip=eth0,fe80:::1/64", "bad address" },
	{ "v=1 boot=" BOOT_ID " seq=1 ip=,10.0.0.1/8", "interface name" },
	{ "v=1 boot=" BOOT_ID " seq=1 ip=eth0/x,10.0.0.1/8", "expected <ifname>" },
	{ "v=1 boot=" BOOT_ID " seq=1 ip=averyveryverylongname,10.0.0.1/8", "interface name" },
	{ "v=1 boot=" BOOT_ID " seq=1 ip=eth$,10.0.0.1/8", "interface name" },
	{ "v=1 boot=" BOOT_ID " seq=1 ip=eth0,0123456789012345678901234567890123456789012345678901/8",
	  "bad address" },
};

static void
test_addrs_malformed(void **state)
{
	struct report_addrs a;
	char	 err[REPORT_ERR_MAX];
	size_t	 i;

	(void)state;
	for (i = 0; i < sizeof(bad_addrs) / sizeof(bad_addrs[0]); i++) {
		err[0] = '\0';
		if (parse_addrs(bad_addrs[i].value, &a, err) != -1)
			fail_msg("accepted: \"%s\"", bad_addrs[i].value);
		if (strstr(err, bad_addrs[i].reason) == NULL)
			fail_msg("\"%s\": reason \"%s\" lacks \"%s\"",
			    bad_addrs[i].value, err, bad_addrs[i].reason);
	}
}

static void
test_addrs_limits(void **state)
{
	struct report_addrs a;
	char	 v[REPORT_ADDRS_MAX + 512], err[REPORT_ERR_MAX];
	size_t	 off;
	int	 i;

	(void)state;
	/* Exactly the maximum number of addresses is fine... */
	off = (size_t)snprintf(v, sizeof(v), "v=1 boot=" BOOT_ID " seq=1");
	for (i = 0; i < REPORT_ADDRS_N; i++)
		off += (size_t)snprintf(v + off, sizeof(v) - off,
		    " ip=eth%d,10.0.%d.1/24", i, i);
	assert_int_equal(parse_addrs(v, &a, err), 0);
	assert_int_equal(a.n, REPORT_ADDRS_N);
	/* ...one more is not. */
	snprintf(v + off, sizeof(v) - off, " ip=eth99,10.0.99.1/24");
	assert_int_equal(parse_addrs(v, &a, err), -1);
	assert_non_null(strstr(err, "more than 16 addresses"));
	/* Nor is a value over the size limit, whatever it holds. */
	off = (size_t)snprintf(v, sizeof(v), "v=1 boot=" BOOT_ID " seq=1 pad=");
	memset(v + off, 'y', REPORT_ADDRS_MAX);
	v[off + REPORT_ADDRS_MAX] = '\0';
	assert_int_equal(parse_addrs(v, &a, err), -1);
	assert_non_null(strstr(err, "more than 2048"));
}

static void
test_addrs_format_limits(void **state)
{
	struct report_addrs a;
	char	 buf[REPORT_ADDRS_MAX + 1];

	(void)state;
	memset(&a, 0, sizeof(a));
	strcpy(a.boot_id, BOOT_ID);
	a.addr[0] = mkaddr("eth0", "10.0.0.1", 8);
	a.n = REPORT_ADDRS_N + 1;
	assert_int_equal(report_addrs_format(&a, buf, sizeof(buf)), -1);
	a.n = 1;
	strcpy(a.addr[0].ifname, "e th");
	assert_int_equal(report_addrs_format(&a, buf, sizeof(buf)), -1);
	strcpy(a.addr[0].ifname, "eth0");
	assert_int_equal(report_addrs_format(&a, buf, 20), -1);
	assert_true(report_addrs_format(&a, buf, sizeof(buf)) > 0);
}

static void
test_boot_check(void **state)
{
	struct report_boot b;
	char	 err[REPORT_ERR_MAX];

	(void)state;
	memset(&b, 0, sizeof(b));
	strcpy(b.boot_id, BOOT_ID);
	b.time = 1000;
	assert_int_equal(report_boot_check(&b, 1000, 990, 60, NULL, err, sizeof(err)), 0);
	/* Clock skew within the allowance, either way. */
	assert_int_equal(report_boot_check(&b, 950, 1040, 60, NULL, err, sizeof(err)), 0);
	/* From the future. */
	assert_int_equal(report_boot_check(&b, 900, 0, 60, NULL, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "100 s in the future"));
	/* Written before the domain started: a previous life's record. */
	assert_int_equal(report_boot_check(&b, 2000, 1100, 60, NULL, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "stale"));
	/* The previous boot's identifier. */
	assert_int_equal(report_boot_check(&b, 1000, 0, 60, BOOT_ID, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "previous boot"));
	assert_int_equal(report_boot_check(&b, 1000, 0, 60, BOOT_ID2, err, sizeof(err)), 0);
}

static void
test_scope_sort_pick(void **state)
{
	struct report_addrs a;

	(void)state;
	memset(&a, 0, sizeof(a));
	a.addr[a.n++] = mkaddr("eth0", "fe80::216:3eff:fe00:2", 64);
	a.addr[a.n++] = mkaddr("eth0", "2001:db8::5", 64);
	a.addr[a.n++] = mkaddr("eth0", "127.0.0.2", 8);
	a.addr[a.n++] = mkaddr("eth1", "10.0.0.9", 24);
	a.addr[a.n++] = mkaddr("eth0", "10.0.0.2", 24);
	a.addr[a.n++] = mkaddr("eth0", "169.254.3.3", 16);
	assert_int_equal(report_addr_scope(&a.addr[0]), REPORT_SCOPE_LINK);
	assert_int_equal(report_addr_scope(&a.addr[1]), REPORT_SCOPE_GLOBAL6);
	assert_int_equal(report_addr_scope(&a.addr[2]), REPORT_SCOPE_HOST);
	assert_int_equal(report_addr_scope(&a.addr[5]), REPORT_SCOPE_LINK);
	/* dom0 picks the first global IPv4 address whatever the order. */
	assert_int_equal(report_addrs_pick(&a), 3);
	report_addrs_sort(&a);
	assert_string_equal(a.addr[0].ifname, "eth1");	/* stable */
	assert_int_equal(a.addr[1].addr[3], 2);
	assert_int_equal(report_addr_scope(&a.addr[2]), REPORT_SCOPE_GLOBAL6);
	assert_int_equal(report_addr_scope(&a.addr[5]), REPORT_SCOPE_HOST);
	assert_int_equal(report_addrs_pick(&a), 0);

	/* Only loopback and multicast: nothing to reach the guest at. */
	memset(&a, 0, sizeof(a));
	a.addr[a.n++] = mkaddr("lo", "::1", 128);
	a.addr[a.n++] = mkaddr("eth0", "ff02::1", 128);
	a.addr[a.n++] = mkaddr("eth0", "::ffff:10.0.0.1", 128);
	assert_int_equal(report_addrs_pick(&a), -1);
}

static void
test_session_roundtrip(void **state)
{
	struct report_session r, out;
	char	 buf[REPORT_SESSION_MAX + 1], err[REPORT_ERR_MAX];
	int	 n;

	(void)state;
	memset(&r, 0, sizeof(r));
	strcpy(r.boot_id, BOOT_ID);
	r.seq = 4;
	r.active = 1;
	n = report_session_format(&r, buf, sizeof(buf));
	assert_string_equal(buf, "v=1 boot=" BOOT_ID " seq=4 state=active");
	assert_int_equal(report_session_parse(buf, (size_t)n, &out, err,
	    sizeof(err)), 0);
	assert_int_equal(out.seq, 4);
	assert_int_equal(out.active, 1);
	r.active = 0;
	n = report_session_format(&r, buf, sizeof(buf));
	assert_string_equal(buf, "v=1 boot=" BOOT_ID " seq=4 state=none");
	assert_int_equal(report_session_parse(buf, (size_t)n, &out, err,
	    sizeof(err)), 0);
	assert_int_equal(out.active, 0);
	strcpy(r.boot_id, "nothex");
	assert_int_equal(report_session_format(&r, buf, sizeof(buf)), -1);
}

static const struct {
	const char *value;
	const char *reason;
} bad_session[] = {
	{ "v=1 boot=" BOOT_ID " seq=1", "missing field state" },
	{ "v=1 boot=" BOOT_ID " state=none", "missing field seq" },
	{ "v=1 seq=1 state=none", "missing field boot" },
	{ "v=1 boot=" BOOT_ID " seq=1 state=busy", "state: expected active or none" },
	{ "v=1 boot=" BOOT_ID " seq=1 state=ACTIVE", "state: expected" },
	{ "v=1 boot=" BOOT_ID " seq=1 state=none state=none", "appears twice" },
	{ "v=1 boot=" BOOT_ID " seq=1 seq=2 state=none", "appears twice" },
	{ "v=1 boot=" BOOT_ID " boot=" BOOT_ID " seq=1 state=none", "appears twice" },
	{ "v=1 boot=xyz seq=1 state=none", "boot: expected 32" },
	{ "v=1 boot=" BOOT_ID " seq=x state=none", "seq:" },
	{ "v=3 boot=" BOOT_ID " seq=1 state=none", "version 3 not supported" },
};

static void
test_session_malformed(void **state)
{
	struct report_session r;
	char	 err[REPORT_ERR_MAX], big[400];
	size_t	 i;

	(void)state;
	for (i = 0; i < sizeof(bad_session) / sizeof(bad_session[0]); i++) {
		err[0] = '\0';
		if (report_session_parse(bad_session[i].value,
		    strlen(bad_session[i].value), &r, err, sizeof(err)) != -1)
			fail_msg("accepted: \"%s\"", bad_session[i].value);
		if (strstr(err, bad_session[i].reason) == NULL)
			fail_msg("\"%s\": reason \"%s\" lacks \"%s\"",
			    bad_session[i].value, err, bad_session[i].reason);
	}
	memset(big, 'x', sizeof(big));
	memcpy(big, "v=1 pad=", 8);
	assert_int_equal(report_session_parse(big, sizeof(big), &r, err,
	    sizeof(err)), -1);
	assert_non_null(strstr(err, "more than 256"));
}

/* The guest's acknowledgement of a credential: hostile input. */
static const struct {
	const char *value;
	const char *reason;
} bad_credential[] = {
	{ "v=1 boot=" BOOT_ID " seq=1", "missing field state" },
	{ "v=1 boot=" BOOT_ID " state=applied", "missing field seq" },
	{ "v=1 seq=1 state=applied", "missing field boot" },
	{ "v=1 boot=" BOOT_ID " seq=1 state=done", "state: expected applied or failed" },
	{ "v=1 boot=" BOOT_ID " seq=1 state=APPLIED", "state: expected" },
	{ "v=1 boot=" BOOT_ID " seq=1 state=applie", "state: expected" },
	{ "v=1 boot=" BOOT_ID " seq=1 state=appliedx", "state: expected" },
	{ "v=1 boot=" BOOT_ID " seq=1 state=failed state=applied", "appears twice" },
	{ "v=1 boot=" BOOT_ID " seq=1 seq=2 state=applied", "appears twice" },
	{ "v=1 v=1 boot=" BOOT_ID " seq=1 state=applied", "appears twice" },
	{ "v=1 boot=" BOOT_ID " seq=-1 state=applied", "seq:" },
	{ "v=1 boot=" BOOT_ID " seq=01 state=applied", "seq:" },
	{ "v=1 boot=" BOOT_ID " seq=9007199254740993 state=applied", "seq:" },
	{ "v=1 boot=" BOOT_ID " seq=99999999999999999999999 state=applied", "seq:" },
	{ "v=1 boot=" BOOT_ID "0 seq=1 state=applied", "boot: expected 32" },
	{ "v=2 boot=" BOOT_ID " seq=1 state=applied", "version 2 not supported" },
	{ "v=1  boot=" BOOT_ID " seq=1 state=applied", "empty field" },
	{ "v=1 boot=" BOOT_ID " seq=1 state=applied ", "empty field" },
	{ "v=1 boot=" BOOT_ID " seq=1\tstate=applied", "non-printable" },
	{ "v=1 boot=" BOOT_ID " seq=1 state=applied\n", "non-printable" },
	{ "", "is empty" },
};

static void
test_credential_ack(void **state)
{
	struct report_credential r, out;
	char	 buf[REPORT_CREDENTIAL_MAX + 1], err[REPORT_ERR_MAX], big[400];
	int	 n;
	size_t	 i;

	(void)state;
	memset(&r, 0, sizeof(r));
	strcpy(r.boot_id, BOOT_ID);
	r.seq = 9007199254740992ULL;
	r.applied = 1;
	n = report_credential_format(&r, buf, sizeof(buf));
	assert_string_equal(buf, "v=1 boot=" BOOT_ID " seq=9007199254740992 "
	    "state=applied");
	assert_int_equal(report_credential_parse(buf, (size_t)n, &out, err,
	    sizeof(err)), 0);
	assert_int_equal(out.seq, r.seq);
	assert_int_equal(out.applied, 1);
	assert_string_equal(out.boot_id, BOOT_ID);
	r.applied = 0;
	r.seq = 0;
	n = report_credential_format(&r, buf, sizeof(buf));
	assert_string_equal(buf, "v=1 boot=" BOOT_ID " seq=0 state=failed");
	assert_int_equal(report_credential_parse(buf, (size_t)n, &out, err,
	    sizeof(err)), 0);
	assert_int_equal(out.applied, 0);
	/* Not NUL-terminated: only len bytes count. */
	assert_int_equal(report_credential_parse(buf, (size_t)n - 3, &out, err,
	    sizeof(err)), -1);
	/* Unknown fields are a later version's: ignored, as elsewhere. */
	assert_int_equal(report_credential_parse("v=1 boot=" BOOT_ID
	    " seq=3 state=applied why=x", strlen("v=1 boot=" BOOT_ID
	    " seq=3 state=applied why=x"), &out, err, sizeof(err)), 0);
	r.seq = 9007199254740993ULL;
	assert_int_equal(report_credential_format(&r, buf, sizeof(buf)), -1);
	for (i = 0; i < sizeof(bad_credential) / sizeof(bad_credential[0]); i++) {
		err[0] = '\0';
		if (report_credential_parse(bad_credential[i].value,
		    strlen(bad_credential[i].value), &out, err, sizeof(err)) != -1)
			fail_msg("accepted: \"%s\"", bad_credential[i].value);
		if (strstr(err, bad_credential[i].reason) == NULL)
			fail_msg("\"%s\": reason \"%s\" lacks \"%s\"",
			    bad_credential[i].value, err, bad_credential[i].reason);
	}
	memset(big, 'x', sizeof(big));
	memcpy(big, "v=1 pad=", 8);
	assert_int_equal(report_credential_parse(big, sizeof(big), &out, err,
	    sizeof(err)), -1);
	assert_non_null(strstr(err, "more than 256"));
	assert_int_equal(report_credential_parse("v=1 boot=" BOOT_ID
	    " seq=1\0state=applied", strlen("v=1 boot=" BOOT_ID) + 21, &out,
	    err, sizeof(err)), -1);
	assert_non_null(strstr(err, "NUL"));
}

/* dom0's credential record: exact, and its refusals never quote it. */
static void
test_secret_record(void **state)
{
	static const char *const bad[] = {
		"v=1 seq=1 user=xvds-abcdefgh",
		"v=1 seq=1 user=xvds-abcdefgh password=SECRETpw2 x=1",
		"v=1 user=xvds-abcdefgh seq=1 password=SECRETpw2",
		"v=1 seq=1 user=xvds-abcdefgh password=SECRET:pw2",
		"v=1 seq=1 user=xvds-abcdefgh password=SECRET;pw2",
		"v=1 seq=1 user=xvds-abcdefgh password=SECRET=pw2",
		"v=1 seq=1 user=-xvds password=SECRETpw2",
		"v=1 seq=1 user=root:x password=SECRETpw2",
		"v=1 seq=1 user=../etc password=SECRETpw2",
		"v=1 seq=x user=xvds-abcdefgh password=SECRETpw2",
		"v=2 seq=1 user=xvds-abcdefgh password=SECRETpw2",
		"v=1 seq=1 user=aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa password=SECRETpw2",
		"v=1 seq=1 user=xvds-abcdefgh password=SECRET"
		    "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
		"v=1 seq=1 user=xvds-abcdefgh password=SECRET\xc3\xa9",
		/* A password split by a space: its second piece a key. */
		"v=1 seq=1 user=xvds-abcdefgh password=SECRET secret=",
	};
	struct report_secret r, out;
	char	 buf[REPORT_SECRET_MAX + 1], err[REPORT_ERR_MAX];
	int	 n;
	size_t	 i;

	(void)state;
	memset(&r, 0, sizeof(r));
	r.seq = 77;
	strcpy(r.user, "xvds-abcdefgh");
	strcpy(r.password, "ABCDEFGHJKLMNPQRSTUVWX2");
	n = report_secret_format(&r, buf, sizeof(buf));
	assert_string_equal(buf, "v=1 seq=77 user=xvds-abcdefgh "
	    "password=ABCDEFGHJKLMNPQRSTUVWX2");
	assert_int_equal(report_secret_parse(buf, (size_t)n, &out, err,
	    sizeof(err)), 0);
	assert_int_equal(out.seq, 77);
	assert_string_equal(out.user, r.user);
	assert_string_equal(out.password, r.password);
	strcpy(r.password, "pass word");
	assert_int_equal(report_secret_format(&r, buf, sizeof(buf)), -1);
	strcpy(r.password, "x");
	strcpy(r.user, "a:b");
	assert_int_equal(report_secret_format(&r, buf, sizeof(buf)), -1);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = '\0';
		if (report_secret_parse(bad[i], strlen(bad[i]), &out, err,
		    sizeof(err)) != -1)
			fail_msg("accepted: \"%s\"", bad[i]);
		assert_true(err[0] != '\0');
		if (strcasestr(err, "SECRET") != NULL)
			fail_msg("\"%s\": the reason quotes it: %s", bad[i], err);
		assert_int_equal(out.password[0], '\0');
	}
}

/*
 * Random and mutated input: the parsers must never crash, must terminate
 * their outputs, and must give a reason whenever they refuse.  Run under
 * the sanitizers in CI.
 */
static void
test_parsers_random_input(void **state)
{
	static const char seed[] = "v=1 boot=" BOOT_ID " seq=3 ip=eth0,10.77.0.2/24 "
	    "ip=eth0,fe80::1/64 time=5 agent=1";
	static const char alphabet[] = "v=1 boot,./:0123456789abcdefip\0x\xff";
	struct report_boot b;
	struct report_addrs a;
	struct report_session sess;
	struct report_credential cred;
	char	 buf[REPORT_ADDRS_MAX + 8], err[REPORT_ERR_MAX];
	unsigned seedval = 12345;
	int	 i, accepted = 0;

	(void)state;
	srand(seedval);
	for (i = 0; i < 20000; i++) {
		size_t	 len, k;

		if (i % 2 == 0) {
			/* Mutate a valid record in a few places. */
			len = sizeof(seed) - 1;
			memcpy(buf, seed, len);
			for (k = 0; k < 1 + (size_t)(rand() % 3); k++)
				buf[rand() % (int)len] =
				    alphabet[rand() % (int)(sizeof(alphabet) - 1)];
		} else {
			len = (size_t)(rand() % (int)sizeof(buf));
			for (k = 0; k < len; k++)
				buf[k] = (char)(rand() % 256);
		}
		err[0] = '\0';
		if (report_addrs_parse(buf, len, &a, err, sizeof(err)) == 0) {
			accepted++;
			assert_true(a.n <= REPORT_ADDRS_N);
			assert_int_equal(strlen(a.boot_id), REPORT_BOOT_ID_LEN);
		} else
			assert_true(err[0] != '\0');
		err[0] = '\0';
		if (report_boot_parse(buf, len, &b, err, sizeof(err)) == 0)
			assert_true(strlen(b.agent) <= REPORT_AGENT_MAX);
		else
			assert_true(err[0] != '\0');
		err[0] = '\0';
		if (report_session_parse(buf, len, &sess, err, sizeof(err)) == 0)
			assert_true(sess.active == 0 || sess.active == 1);
		else
			assert_true(err[0] != '\0');
		err[0] = '\0';
		if (report_credential_parse(buf, len, &cred, err, sizeof(err)) == 0)
			assert_true(cred.applied == 0 || cred.applied == 1);
		else
			assert_true(err[0] != '\0');
	}
	/* Some mutations (e.g. inside an unknown field) leave a valid record. */
	assert_true(accepted > 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_boot_roundtrip),
		cmocka_unit_test(test_boot_rdp),
		cmocka_unit_test(test_boot_format_refuses_invalid),
		cmocka_unit_test(test_boot_malformed),
		cmocka_unit_test(test_boot_nul_byte),
		cmocka_unit_test(test_boot_oversized),
		cmocka_unit_test(test_boot_unknown_fields_ignored),
		cmocka_unit_test(test_too_many_fields),
		cmocka_unit_test(test_addrs_roundtrip),
		cmocka_unit_test(test_addrs_empty_list),
		cmocka_unit_test(test_addrs_malformed),
		cmocka_unit_test(test_addrs_limits),
		cmocka_unit_test(test_addrs_format_limits),
		cmocka_unit_test(test_boot_check),
		cmocka_unit_test(test_scope_sort_pick),
		cmocka_unit_test(test_session_roundtrip),
		cmocka_unit_test(test_session_malformed),
		cmocka_unit_test(test_credential_ack),
		cmocka_unit_test(test_secret_record),
		cmocka_unit_test(test_parsers_random_input),
	};

	return cmocka_run_group_tests_name("report", tests, NULL, NULL);
}

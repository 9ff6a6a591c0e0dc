/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * common/report.c — format, parse and check the guest report records (protocol
 * version 1, see common/report.h and xvds-guestd(8)).  Pure code: no xenstore,
 * no I/O, so that the unit tests and fuzzers can drive it directly.
 */
#include <config.h>

#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "common/errbuf.h"
#include "common/report.h"

#define KEY_MAX		16	/* characters in a field's key */

struct field {
	const char	*key;
	size_t		 klen;
	const char	*val;
	size_t		 vlen;
};

static bool
key_is(const struct field *f, const char *key)
{
	return f->klen == strlen(key) && memcmp(f->key, key, f->klen) == 0;
}

/*
 * Splits a value into its fields.  Refuses NUL and non-printable bytes,
 * empty fields (leading, trailing or doubled spaces), keys outside
 * [a-z][a-z0-9-]* and empty values.
 */
static int
split_fields(const char *s, size_t len, struct field *f, size_t *nf_r,
    char *err, size_t errlen)
{
	size_t	 i, start, nf = 0;

	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c == '\0') {
			errbuf_set(err, errlen, "contains a NUL byte at offset %zu", i);
			return -1;
		}
		if (c < 0x20 || c > 0x7e) {
			errbuf_set(err, errlen, "contains a non-printable byte 0x%02x "
			    "at offset %zu", c, i);
			return -1;
		}
	}
	if (len == 0) {
		errbuf_set(err, errlen, "is empty");
		return -1;
	}

	for (start = 0; start <= len; start = i + 1) {
		const char *eq;
		size_t	 toklen, k;

		for (i = start; i < len && s[i] != ' '; i++)
			;
		toklen = i - start;
		if (toklen == 0) {
			errbuf_set(err, errlen, "has an empty field at offset %zu "
			    "(leading, trailing or double space)", start);
			return -1;
		}
		if (nf == REPORT_FIELDS_MAX) {
			errbuf_set(err, errlen, "has more than %d fields",
			    REPORT_FIELDS_MAX);
			return -1;
		}
		eq = memchr(s + start, '=', toklen);
		if (eq == NULL) {
			errbuf_set(err, errlen, "field %zu has no '='", nf + 1);
			return -1;
		}
		f[nf].key = s + start;
		f[nf].klen = (size_t)(eq - (s + start));
		f[nf].val = eq + 1;
		f[nf].vlen = toklen - f[nf].klen - 1;
		if (f[nf].klen == 0 || f[nf].klen > KEY_MAX ||
		    f[nf].key[0] < 'a' || f[nf].key[0] > 'z') {
			errbuf_set(err, errlen, "field %zu has an invalid key", nf + 1);
			return -1;
		}
		for (k = 1; k < f[nf].klen; k++) {
			char c = f[nf].key[k];

			if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
			    c == '-')) {
				errbuf_set(err, errlen, "field %zu has an invalid key",
				    nf + 1);
				return -1;
			}
		}
		if (f[nf].vlen == 0) {
			errbuf_set(err, errlen, "field '%.*s' has an empty value",
			    (int)f[nf].klen, f[nf].key);
			return -1;
		}
		nf++;
	}
	*nf_r = nf;
	return 0;
}

/* Decimal without sign or leading zeros, at most max. */
static int
parse_uint(const char *s, size_t len, uint64_t max, uint64_t *v_r)
{
	uint64_t v = 0;
	size_t	 i;

	if (len == 0 || len > 20 || (len > 1 && s[0] == '0'))
		return -1;
	for (i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		if (v > (max - (uint64_t)(s[i] - '0')) / 10)
			return -1;
		v = v * 10 + (uint64_t)(s[i] - '0');
	}
	*v_r = v;
	return 0;
}

/* Exactly n lowercase hex digits. */
static bool
valid_hex(const char *s, size_t len, size_t n)
{
	size_t	 i;

	if (len != n)
		return false;
	for (i = 0; i < len; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return false;
	return true;
}

static bool
valid_boot_id(const char *s, size_t len)
{
	return valid_hex(s, len, REPORT_BOOT_ID_LEN);
}

/* 1 to max characters: letters, digits and those in extra. */
static bool
valid_word(const char *s, size_t len, size_t max, const char *extra)
{
	size_t	 i;

	if (len == 0 || len > max)
		return false;
	for (i = 0; i < len; i++) {
		char c = s[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || (c != '\0' && strchr(extra, c))))
			return false;
	}
	return true;
}

static bool
valid_agent(const char *s, size_t len)
{
	return valid_word(s, len, REPORT_AGENT_MAX, "._+~-");
}

static bool
valid_ifname(const char *s, size_t len)
{
	return valid_word(s, len, REPORT_IFNAME_MAX, "._-");
}

/* Splits a record and checks its size and its leading version field. */
static int
parse_common(const char *s, size_t len, size_t max, struct field *f,
    size_t *nf_r, unsigned *version_r, char *err, size_t errlen)
{
	uint64_t v;

	if (len > max) {
		errbuf_set(err, errlen, "value is %zu bytes, more than %zu", len, max);
		return -1;
	}
	if (split_fields(s, len, f, nf_r, err, errlen) == -1)
		return -1;
	if (!key_is(&f[0], "v")) {
		errbuf_set(err, errlen, "first field is not v=<version>");
		return -1;
	}
	if (parse_uint(f[0].val, f[0].vlen, 999999, &v) == -1) {
		errbuf_set(err, errlen, "v: not a version number");
		return -1;
	}
	if (v != REPORT_VERSION) {
		errbuf_set(err, errlen, "protocol version %" PRIu64 " not supported "
		    "(dom0 speaks %d)", v, REPORT_VERSION);
		return -1;
	}
	*version_r = (unsigned)v;
	return 0;
}

/* Any field but those a record may repeat (ip) at most once. */
static int
field_twice(const struct field *f, char *err, size_t errlen)
{
	errbuf_set(err, errlen, "field '%.*s' appears twice", (int)f->klen, f->key);
	return -1;
}

/* boot=<32 hex digits>, at most once. */
static int
field_boot(const struct field *f, bool *seen, char *out, char *err,
    size_t errlen)
{
	if (*seen)
		return field_twice(f, err, errlen);
	if (!valid_boot_id(f->val, f->vlen)) {
		errbuf_set(err, errlen, "boot: expected %d lowercase hex digits",
		    REPORT_BOOT_ID_LEN);
		return -1;
	}
	memcpy(out, f->val, f->vlen);
	out[f->vlen] = '\0';
	*seen = true;
	return 0;
}

/* The fields that name a report's boot and place in it: boot and seq. */
struct boot_seq {
	char		*boot_id;
	uint64_t	*seq;
	bool		 have_boot, have_seq;
};

/* f if it is boot, seq (each at most once) or a second v: 1 (taken), -1
 * (refused) or 0 (not one of them). */
static int
field_boot_seq(const struct field *f, struct boot_seq *bs, char *err,
    size_t errlen)
{
	if (key_is(f, "boot"))
		return field_boot(f, &bs->have_boot, bs->boot_id, err, errlen) ==
		    -1 ? -1 : 1;
	if (key_is(f, "v") || (key_is(f, "seq") && bs->have_seq))
		return field_twice(f, err, errlen);
	if (!key_is(f, "seq"))
		return 0;
	/* seq=<decimal> */
	if (parse_uint(f->val, f->vlen, REPORT_INT_MAX, bs->seq) == -1) {
		errbuf_set(err, errlen, "seq: expected a decimal number");
		return -1;
	}
	bs->have_seq = true;
	return 1;
}

/* 0, or -1 naming the first of boot and seq missing. */
static int
boot_seq_missing(const struct boot_seq *bs, char *err, size_t errlen)
{
	if (bs->have_boot && bs->have_seq)
		return 0;
	errbuf_set(err, errlen, "missing field %s", !bs->have_boot ? "boot" :
	    "seq");
	return -1;
}

int
report_boot_parse(const char *s, size_t len, struct report_boot *b,
    char *err, size_t errlen)
{
	struct field f[REPORT_FIELDS_MAX];
	size_t	 nf, i;
	bool	 have_boot = false, have_time = false, have_agent = false,
		 have_rdp = false;
	uint64_t t;

	memset(b, 0, sizeof(*b));
	if (parse_common(s, len, REPORT_BOOT_MAX, f, &nf, &b->version,
	    err, errlen) == -1)
		return -1;
	for (i = 1; i < nf; i++) {
		if (key_is(&f[i], "boot")) {
			if (field_boot(&f[i], &have_boot, b->boot_id, err,
			    errlen) == -1)
				return -1;
		} else if (key_is(&f[i], "time")) {
			if (have_time)
				return field_twice(&f[i], err, errlen);
			if (parse_uint(f[i].val, f[i].vlen, REPORT_INT_MAX, &t) == -1
			    || t == 0) {
				errbuf_set(err, errlen, "time: expected seconds since "
				    "1970 as a positive decimal number");
				return -1;
			}
			b->time = (int64_t)t;
			have_time = true;
		} else if (key_is(&f[i], "agent")) {
			if (have_agent)
				return field_twice(&f[i], err, errlen);
			if (!valid_agent(f[i].val, f[i].vlen)) {
				errbuf_set(err, errlen, "agent: expected 1 to %d of "
				    "[A-Za-z0-9._+~-]", REPORT_AGENT_MAX);
				return -1;
			}
			memcpy(b->agent, f[i].val, f[i].vlen);
			have_agent = true;
		} else if (key_is(&f[i], "rdp")) {
			if (have_rdp)
				return field_twice(&f[i], err, errlen);
			if (!valid_hex(f[i].val, f[i].vlen, REPORT_SHA256_LEN)) {
				errbuf_set(err, errlen, "rdp: expected %d lowercase "
				    "hex digits", REPORT_SHA256_LEN);
				return -1;
			}
			memcpy(b->rdp_sha256, f[i].val, f[i].vlen);
			have_rdp = true;
		} else if (key_is(&f[i], "v"))
			return field_twice(&f[i], err, errlen);
		/* Other keys: ignored, so that version 1 can grow fields. */
	}
	if (!have_boot || !have_time || !have_agent) {
		errbuf_set(err, errlen, "missing field %s", !have_boot ? "boot" :
		    !have_time ? "time" : "agent");
		return -1;
	}
	return 0;
}

/* "<ifname>,<address>/<prefix length>" */
static int
parse_ip(const char *s, size_t len, struct report_addr *a, char *err,
    size_t errlen)
{
	const char *comma, *slash;
	char	 host[INET6_ADDRSTRLEN];
	size_t	 hlen;
	uint64_t prefix;

	memset(a, 0, sizeof(*a));
	comma = memchr(s, ',', len);
	slash = memchr(s, '/', len);
	if (comma == NULL || slash == NULL || slash < comma) {
		errbuf_set(err, errlen, "ip: expected <ifname>,<address>/<prefix>");
		return -1;
	}
	if (!valid_ifname(s, (size_t)(comma - s))) {
		errbuf_set(err, errlen, "ip: interface name must be 1 to %d of "
		    "[A-Za-z0-9._-]", REPORT_IFNAME_MAX);
		return -1;
	}
	memcpy(a->ifname, s, (size_t)(comma - s));
	hlen = (size_t)(slash - comma - 1);
	if (hlen == 0 || hlen >= sizeof(host)) {
		errbuf_set(err, errlen, "ip: bad address on %s", a->ifname);
		return -1;
	}
	memcpy(host, comma + 1, hlen);
	host[hlen] = '\0';
	a->family = memchr(host, ':', hlen) != NULL ? AF_INET6 : AF_INET;
	if (inet_pton(a->family, host, a->addr) != 1) {
		errbuf_set(err, errlen, "ip: bad address on %s", a->ifname);
		return -1;
	}
	if (parse_uint(slash + 1, (size_t)(s + len - slash - 1),
	    a->family == AF_INET ? 32 : 128, &prefix) == -1) {
		errbuf_set(err, errlen, "ip: bad prefix length on %s", a->ifname);
		return -1;
	}
	a->prefix = (unsigned)prefix;
	return 0;
}

int
report_addrs_parse(const char *s, size_t len, struct report_addrs *r,
    char *err, size_t errlen)
{
	struct field f[REPORT_FIELDS_MAX];
	struct boot_seq bs = { r->boot_id, &r->seq, false, false };
	size_t	 nf, i;
	int	 taken;

	memset(r, 0, sizeof(*r));
	if (parse_common(s, len, REPORT_ADDRS_MAX, f, &nf, &r->version,
	    err, errlen) == -1)
		return -1;
	for (i = 1; i < nf; i++) {
		if ((taken = field_boot_seq(&f[i], &bs, err, errlen)) != 0) {
			if (taken == -1)
				return -1;
		} else if (key_is(&f[i], "ip")) {
			if (r->n == REPORT_ADDRS_N) {
				errbuf_set(err, errlen, "more than %d addresses",
				    REPORT_ADDRS_N);
				return -1;
			}
			if (parse_ip(f[i].val, f[i].vlen, &r->addr[r->n], err,
			    errlen) == -1)
				return -1;
			r->n++;
		}
	}
	return boot_seq_missing(&bs, err, errlen);
}

/*
 * The records of one two-valued state: v, boot, seq and state=yes|no
 * (the session's active|none, the credential's applied|failed).
 */
static int
parse_state_record(const char *s, size_t len, size_t max, unsigned *version,
    char *boot_id, uint64_t *seq, const char *yes, const char *no, int *flag,
    char *err, size_t errlen)
{
	struct field f[REPORT_FIELDS_MAX];
	struct boot_seq bs = { boot_id, seq, false, false };
	size_t	 nf, i;
	bool	 have_state = false;
	int	 taken;

	if (parse_common(s, len, max, f, &nf, version, err, errlen) == -1)
		return -1;
	for (i = 1; i < nf; i++) {
		if ((taken = field_boot_seq(&f[i], &bs, err, errlen)) != 0) {
			if (taken == -1)
				return -1;
		} else if (key_is(&f[i], "state")) {
			if (have_state)
				return field_twice(&f[i], err, errlen);
			if (f[i].vlen == strlen(yes) &&
			    memcmp(f[i].val, yes, f[i].vlen) == 0)
				*flag = 1;
			else if (f[i].vlen == strlen(no) &&
			    memcmp(f[i].val, no, f[i].vlen) == 0)
				*flag = 0;
			else {
				errbuf_set(err, errlen, "state: expected %s or %s",
				    yes, no);
				return -1;
			}
			have_state = true;
		}
	}
	if (boot_seq_missing(&bs, err, errlen) == -1)
		return -1;
	if (!have_state) {
		errbuf_set(err, errlen, "missing field state");
		return -1;
	}
	return 0;
}

/* snprintf's n if the record it wrote fits both buf's len and max. */
static int
formatted(int n, size_t len, int max)
{
	return n < 0 || (size_t)n >= len || n > max ? -1 : n;
}

/* A record of parse_state_record()'s shape, state=word. */
static int
format_state_record(const char *boot_id, uint64_t seq, const char *word,
    int max, char *buf, size_t len)
{
	if (!valid_boot_id(boot_id, strlen(boot_id)) || seq > REPORT_INT_MAX)
		return -1;
	return formatted(snprintf(buf, len, "v=%d boot=%s seq=%" PRIu64
	    " state=%s", REPORT_VERSION, boot_id, seq, word), len, max);
}

int
report_session_parse(const char *s, size_t len, struct report_session *r,
    char *err, size_t errlen)
{
	memset(r, 0, sizeof(*r));
	return parse_state_record(s, len, REPORT_SESSION_MAX, &r->version,
	    r->boot_id, &r->seq, "active", "none", &r->active, err, errlen);
}

int
report_session_format(const struct report_session *r, char *buf, size_t len)
{
	return format_state_record(r->boot_id, r->seq, r->active ? "active" :
	    "none", REPORT_SESSION_MAX, buf, len);
}

int
report_credential_parse(const char *s, size_t len, struct report_credential *r,
    char *err, size_t errlen)
{
	memset(r, 0, sizeof(*r));
	return parse_state_record(s, len, REPORT_CREDENTIAL_MAX, &r->version,
	    r->boot_id, &r->seq, "applied", "failed", &r->applied, err, errlen);
}

int
report_credential_format(const struct report_credential *r, char *buf,
    size_t len)
{
	return format_state_record(r->boot_id, r->seq, r->applied ? "applied" :
	    "failed", REPORT_CREDENTIAL_MAX, buf, len);
}

/*
 * dom0's credential record.  Strict, and exactly these four fields: what
 * a guest's agent acts on as root leaves no room for extras.  Reasons
 * name fields, never their values.
 */
int
report_secret_parse(const char *s, size_t len, struct report_secret *r,
    char *err, size_t errlen)
{
	struct field f[REPORT_FIELDS_MAX];
	size_t	 nf;

	memset(r, 0, sizeof(*r));
	if (len > REPORT_SECRET_MAX) {
		errbuf_set(err, errlen, "value is %zu bytes, more than %d", len,
		    REPORT_SECRET_MAX);
		return -1;
	}
	/* Not parse_common's reason: a key it names may be a piece of a
	 * password split by a space. */
	if (parse_common(s, len, REPORT_SECRET_MAX, f, &nf, &r->version, err,
	    errlen) == -1 || nf != 4 || !key_is(&f[1], "seq") ||
	    !key_is(&f[2], "user") || !key_is(&f[3], "password")) {
		errbuf_set(err, errlen, "expected the fields v, seq, user, password");
		return -1;
	}
	if (parse_uint(f[1].val, f[1].vlen, REPORT_INT_MAX, &r->seq) == -1) {
		errbuf_set(err, errlen, "seq: expected a decimal number");
		return -1;
	}
	if (!valid_word(f[2].val, f[2].vlen, REPORT_SECRET_USER_MAX, "-") ||
	    f[2].val[0] == '-') {
		errbuf_set(err, errlen, "user: expected letters, digits and '-'");
		return -1;
	}
	if (!valid_word(f[3].val, f[3].vlen, REPORT_SECRET_PASS_MAX, "-")) {
		memset(r, 0, sizeof(*r));
		errbuf_set(err, errlen, "password: expected letters, digits "
		    "and '-'");
		return -1;
	}
	memcpy(r->user, f[2].val, f[2].vlen);
	memcpy(r->password, f[3].val, f[3].vlen);
	return 0;
}

int
report_secret_format(const struct report_secret *r, char *buf, size_t len)
{
	int	 n;

	if (r->seq > REPORT_INT_MAX ||
	    !valid_word(r->user, strlen(r->user), REPORT_SECRET_USER_MAX, "-") ||
	    r->user[0] == '-' || !valid_word(r->password, strlen(r->password),
	    REPORT_SECRET_PASS_MAX, "-"))
		return -1;
	n = snprintf(buf, len, "v=%d seq=%" PRIu64 " user=%s password=%s",
	    REPORT_VERSION, r->seq, r->user, r->password);
	return formatted(n, len, REPORT_SECRET_MAX);
}

int
report_boot_format(const struct report_boot *b, char *buf, size_t len)
{
	int	 n;

	if (!valid_boot_id(b->boot_id, strlen(b->boot_id)) || b->time <= 0 ||
	    (uint64_t)b->time > REPORT_INT_MAX ||
	    !valid_agent(b->agent, strlen(b->agent)) ||
	    (b->rdp_sha256[0] != '\0' && !valid_hex(b->rdp_sha256,
	    strlen(b->rdp_sha256), REPORT_SHA256_LEN)))
		return -1;
	n = snprintf(buf, len, "v=%d boot=%s time=%" PRId64 " agent=%s%s%s",
	    REPORT_VERSION, b->boot_id, b->time, b->agent,
	    b->rdp_sha256[0] != '\0' ? " rdp=" : "", b->rdp_sha256);
	return formatted(n, len, REPORT_BOOT_MAX);
}

int
report_addrs_format(const struct report_addrs *r, char *buf, size_t len)
{
	char	 ip[REPORT_ADDR_STRLEN];
	size_t	 i, off;
	int	 n;

	if (!valid_boot_id(r->boot_id, strlen(r->boot_id)) ||
	    r->seq > REPORT_INT_MAX || r->n > REPORT_ADDRS_N)
		return -1;
	n = snprintf(buf, len, "v=%d boot=%s seq=%" PRIu64, REPORT_VERSION,
	    r->boot_id, r->seq);
	if (n < 0 || (size_t)n >= len)
		return -1;
	off = (size_t)n;
	for (i = 0; i < r->n; i++) {
		if (!valid_ifname(r->addr[i].ifname, strlen(r->addr[i].ifname)) ||
		    report_addr_str(&r->addr[i], ip, sizeof(ip)) == NULL)
			return -1;
		n = snprintf(buf + off, len - off, " ip=%s", ip);
		if (n < 0 || (size_t)n >= len - off)
			return -1;
		off += (size_t)n;
	}
	if (off > REPORT_ADDRS_MAX)
		return -1;
	return (int)off;
}

int
report_boot_check(const struct report_boot *b, time_t now, time_t not_before,
    unsigned max_skew, const char *old_boot_id, char *err, size_t errlen)
{
	if (b->time > (int64_t)now + max_skew) {
		errbuf_set(err, errlen, "time is %" PRId64 " s in the future "
		    "(more than the %u s allowed for clock skew)",
		    b->time - (int64_t)now, max_skew);
		return -1;
	}
	if (not_before > 0 && b->time + max_skew < (int64_t)not_before) {
		errbuf_set(err, errlen, "time is %" PRId64 " s before the domain "
		    "started: stale record", (int64_t)not_before - b->time);
		return -1;
	}
	if (old_boot_id != NULL && strcmp(old_boot_id, b->boot_id) == 0) {
		errbuf_set(err, errlen, "boot id %s is the previous boot's: "
		    "stale record", b->boot_id);
		return -1;
	}
	return 0;
}

enum report_scope
report_addr_scope(const struct report_addr *a)
{
	const unsigned char *p = a->addr;
	static const unsigned char zero[16];

	if (a->family == AF_INET) {
		if (p[0] == 127 || p[0] == 0 || p[0] >= 224)
			return REPORT_SCOPE_HOST;
		if (p[0] == 169 && p[1] == 254)
			return REPORT_SCOPE_LINK;
		return REPORT_SCOPE_GLOBAL4;
	}
	if (memcmp(p, zero, 15) == 0 && (p[15] == 0 || p[15] == 1))
		return REPORT_SCOPE_HOST;		/* :: and ::1 */
	if (p[0] == 0xff)
		return REPORT_SCOPE_HOST;		/* multicast */
	if (memcmp(p, zero, 10) == 0 && p[10] == 0xff && p[11] == 0xff)
		return REPORT_SCOPE_HOST;		/* v4-mapped: not an interface's */
	if (p[0] == 0xfe && (p[1] & 0xc0) == 0x80)
		return REPORT_SCOPE_LINK;
	return REPORT_SCOPE_GLOBAL6;
}

const char *
report_addr_ntop(const struct report_addr *a, char *buf, size_t len)
{
	if (a->family != AF_INET && a->family != AF_INET6)
		return NULL;
	return inet_ntop(a->family, a->addr, buf, (socklen_t)len);
}

const char *
report_addr_str(const struct report_addr *a, char *buf, size_t len)
{
	char	 host[INET6_ADDRSTRLEN];
	int	 n;

	if (report_addr_ntop(a, host, sizeof(host)) == NULL)
		return NULL;
	n = snprintf(buf, len, "%s,%s/%u", a->ifname, host, a->prefix);
	if (n < 0 || (size_t)n >= len)
		return NULL;
	return buf;
}

void
report_addrs_sort(struct report_addrs *r)
{
	size_t	 i, j;

	/* Insertion sort: stable, and n is at most REPORT_ADDRS_N. */
	for (i = 1; i < r->n; i++) {
		struct report_addr tmp = r->addr[i];
		enum report_scope s = report_addr_scope(&tmp);

		for (j = i; j > 0 && report_addr_scope(&r->addr[j - 1]) > s; j--)
			r->addr[j] = r->addr[j - 1];
		r->addr[j] = tmp;
	}
}

int
report_addrs_pick(const struct report_addrs *r)
{
	enum report_scope best = REPORT_SCOPE_HOST;
	int	 pick = -1;
	size_t	 i;

	for (i = 0; i < r->n; i++) {
		enum report_scope s = report_addr_scope(&r->addr[i]);

		if (s < best) {
			best = s;
			pick = (int)i;
		}
	}
	return pick;
}

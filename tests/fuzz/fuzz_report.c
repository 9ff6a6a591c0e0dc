/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * fuzz_report.c — libFuzzer target for everything dom0 reads from a
 * guest: the record parsers (boot, addrs, session, the credential's
 * acknowledgement; and dom0's credential record, which the guest reads)
 * and the acceptance rules fed with them.
 * Built and run by tests/fuzz/run.sh (clang, -fsanitize=fuzzer).
 */
#include <config.h>

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/report.h"
#include "common/reportstate.h"

int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static void
ignore(void *arg, enum report_event ev, const char *key,
    const struct report_domain *d, const char *reason)
{
	(void)arg;
	(void)key;
	/* Invariants the rest of dom0 relies on. */
	if ((ev == REPORT_EV_REJECTED) != (reason != NULL))
		abort();
	if (d->have_addrs && (!d->have_boot ||
	    strcmp(d->addrs.boot_id, d->boot.boot_id) != 0))
		abort();
	if (d->have_session && (!d->have_boot ||
	    strcmp(d->session.boot_id, d->boot.boot_id) != 0))
		abort();
	if (d->addrs.n > REPORT_ADDRS_N)
		abort();
	if (d->have_credential && (!d->have_boot ||
	    strcmp(d->credential.boot_id, d->boot.boot_id) != 0))
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct report_boot b;
	struct report_addrs a;
	struct reportstate rs;
	char	 err[REPORT_ERR_MAX], out[REPORT_ADDRS_MAX + 1];
	const char *s = (const char *)data;
	const uint8_t *split;
	size_t	 first;

	if (report_boot_parse(s, size, &b, err, sizeof(err)) == 0) {
		/* What parses formats back to the same grammar. */
		if (report_boot_format(&b, out, sizeof(out)) < 0 ||
		    report_boot_parse(out, strlen(out), &b, err, sizeof(err)) != 0)
			abort();
	}
	if (report_addrs_parse(s, size, &a, err, sizeof(err)) == 0) {
		if (report_addrs_format(&a, out, sizeof(out)) < 0 ||
		    report_addrs_parse(out, strlen(out), &a, err, sizeof(err)) != 0)
			abort();
		report_addrs_sort(&a);
		(void)report_addrs_pick(&a);
	}

	{
		struct report_session ss;

		if (report_session_parse(s, size, &ss, err, sizeof(err)) == 0 &&
		    (report_session_format(&ss, out, sizeof(out)) < 0 ||
		    report_session_parse(out, strlen(out), &ss, err,
		    sizeof(err)) != 0))
			abort();
	}

	{
		struct report_credential c;

		if (report_credential_parse(s, size, &c, err, sizeof(err)) == 0 &&
		    (report_credential_format(&c, out, sizeof(out)) < 0 ||
		    report_credential_parse(out, strlen(out), &c, err,
		    sizeof(err)) != 0 || (c.applied != 0 && c.applied != 1)))
			abort();
	}
	{
		struct report_secret sec;

		/* What dom0 writes, read by the guest's agent as root. */
		if (report_secret_parse(s, size, &sec, err, sizeof(err)) == 0 &&
		    (report_secret_format(&sec, out, sizeof(out)) < 0 ||
		    strchr(sec.user, ':') != NULL ||
		    strchr(sec.password, '\n') != NULL))
			abort();
	}

	/* Input split at the first 0xff: boot value, then addrs value. */
	split = memchr(data, 0xff, size);
	first = split ? (size_t)(split - data) : size;
	reportstate_init(&rs, 1, 0, NULL, 300, ignore, NULL);
	{
		struct report_values v = { s, (unsigned)first,
		    split ? s + first + 1 : NULL,
		    split ? (unsigned)(size - first - 1) : 0,
		    split ? s + first + 1 : NULL,
		    split ? (unsigned)(size - first - 1) : 0,
		    split ? s + first + 1 : NULL,
		    split ? (unsigned)(size - first - 1) : 0 };

		if (reportstate_update(&rs, &v, 1800000000) != 0)
			abort();
	}
	reportstate_free(&rs);
	return 0;
}

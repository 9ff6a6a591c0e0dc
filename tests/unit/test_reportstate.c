/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * test_reportstate.c — dom0's rules for accepting a guest's reports
 * (xvds/common/reportstate.c): what is accepted, refused, forgotten, and how
 * fast refusals are passed on.
 */
#include <config.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "common/reportstate.h"

#define ID_A	"0123456789abcdef0123456789abcdef"
#define ID_B	"fedcba9876543210fedcba9876543210"
#define NOW	1800000000
#define BOOT_A	"v=1 boot=" ID_A " time=1800000000 agent=0.1.0"
#define BOOT_B	"v=1 boot=" ID_B " time=1800000100 agent=0.1.0"
#define ADDRS_A1 "v=1 boot=" ID_A " seq=1 ip=eth0,10.77.0.2/24"
#define ADDRS_A2 "v=1 boot=" ID_A " seq=2 ip=eth0,10.77.0.2/24 ip=eth0,10.77.0.12/24"
#define ADDRS_B0 "v=1 boot=" ID_B " seq=0 ip=eth0,10.77.0.3/24"

/* Every event the rules emit, in order. */
struct log {
	int		 n;
	enum report_event ev[64];
	char		 key[64][16];
	char		 reason[64][REPORT_ERR_MAX + 64];
};

static void
record(void *arg, enum report_event ev, const char *key,
    const struct report_domain *d, const char *reason)
{
	struct log *l = arg;

	assert_int_equal(d->domid, 7);
	assert_true(l->n < 64);
	l->ev[l->n] = ev;
	snprintf(l->key[l->n], sizeof(l->key[0]), "%s", key);
	snprintf(l->reason[l->n], sizeof(l->reason[0]), "%s", reason ? reason : "");
	/* Only rejections carry a reason. */
	assert_true((ev == REPORT_EV_REJECTED) == (reason != NULL));
	l->n++;
}

static void
feed3(struct reportstate *rs, const char *boot, const char *addrs,
    const char *session, time_t now)
{
	struct report_values v = {
		boot, boot ? (unsigned)strlen(boot) : 0,
		addrs, addrs ? (unsigned)strlen(addrs) : 0,
		session, session ? (unsigned)strlen(session) : 0,
		NULL, 0,
	};

	assert_int_equal(reportstate_update(rs, &v, now), 0);
}

static void
feed(struct reportstate *rs, const char *boot, const char *addrs, time_t now)
{
	feed3(rs, boot, addrs, NULL, now);
}

static void
expect(struct log *l, int i, enum report_event ev, const char *key,
    const char *reason_part)
{
	assert_true(i < l->n);
	assert_int_equal(l->ev[i], ev);
	assert_string_equal(l->key[i], key);
	if (reason_part != NULL && strstr(l->reason[i], reason_part) == NULL)
		fail_msg("reason \"%s\" lacks \"%s\"", l->reason[i], reason_part);
}

static void
test_accept_then_repeat(void **state)
{
	struct reportstate rs;
	struct log l = { 0 };

	(void)state;
	reportstate_init(&rs, 7, NOW - 10, NULL, 60, record, &l);
	feed(&rs, BOOT_A, ADDRS_A1, NOW);
	assert_int_equal(l.n, 2);
	expect(&l, 0, REPORT_EV_BOOT, REPORT_KEY_BOOT, NULL);
	expect(&l, 1, REPORT_EV_ADDRS, REPORT_KEY_ADDRS, NULL);
	assert_true(rs.dom.have_boot && rs.dom.have_addrs);
	assert_string_equal(rs.dom.boot.boot_id, ID_A);
	assert_int_equal(rs.dom.addrs.n, 1);
	/* The same bytes again (a repeated watch event): nothing new. */
	feed(&rs, BOOT_A, ADDRS_A1, NOW + 1);
	assert_int_equal(l.n, 2);
	/* An address added. */
	feed(&rs, BOOT_A, ADDRS_A2, NOW + 2);
	assert_int_equal(l.n, 3);
	expect(&l, 2, REPORT_EV_ADDRS, REPORT_KEY_ADDRS, NULL);
	assert_int_equal(rs.dom.addrs.n, 2);
	assert_int_equal(rs.dom.addrs.seq, 2);
	reportstate_free(&rs);
}

static void
test_malformed_keeps_last_valid(void **state)
{
	struct reportstate rs;
	struct log l = { 0 };

	(void)state;
	reportstate_init(&rs, 7, 0, NULL, 60, record, &l);
	feed(&rs, BOOT_A, ADDRS_A1, NOW);
	feed(&rs, "v=1 boot=zz time=-5", "v=1 boot=" ID_A " seq=3 ip=eth0,10.0.0.300/24", NOW);
	assert_int_equal(l.n, 4);
	expect(&l, 2, REPORT_EV_REJECTED, REPORT_KEY_BOOT, "boot: expected 32");
	expect(&l, 3, REPORT_EV_REJECTED, REPORT_KEY_ADDRS, "bad address");
	assert_true(rs.dom.have_boot && rs.dom.have_addrs);
	assert_string_equal(rs.dom.boot.boot_id, ID_A);
	assert_int_equal(rs.dom.addrs.seq, 1);
	reportstate_free(&rs);
}

static void
test_addrs_rules(void **state)
{
	struct reportstate rs;
	struct log l = { 0 };

	(void)state;
	reportstate_init(&rs, 7, 0, NULL, 60, record, &l);
	/* Addresses alone prove nothing. */
	feed(&rs, NULL, ADDRS_A1, NOW);
	assert_int_equal(l.n, 1);
	expect(&l, 0, REPORT_EV_REJECTED, REPORT_KEY_ADDRS, "no valid boot-complete");
	assert_false(rs.dom.have_addrs);
	/* Once the boot is valid, the same addrs bytes are accepted. */
	feed(&rs, BOOT_A, ADDRS_A1, NOW);
	expect(&l, 1, REPORT_EV_BOOT, REPORT_KEY_BOOT, NULL);
	expect(&l, 2, REPORT_EV_ADDRS, REPORT_KEY_ADDRS, NULL);
	/* Another boot's addresses. */
	feed(&rs, BOOT_A, ADDRS_B0, NOW);
	expect(&l, 3, REPORT_EV_REJECTED, REPORT_KEY_ADDRS, "stale");
	/* seq going backwards within a boot. */
	feed(&rs, BOOT_A, ADDRS_A2, NOW);
	expect(&l, 4, REPORT_EV_ADDRS, REPORT_KEY_ADDRS, NULL);
	feed(&rs, BOOT_A, ADDRS_A1, NOW);
	expect(&l, 5, REPORT_EV_REJECTED, REPORT_KEY_ADDRS, "seq went backwards (1 after 2)");
	assert_int_equal(rs.dom.addrs.seq, 2);
	reportstate_free(&rs);
}

static void
test_reboot_and_removal(void **state)
{
	struct reportstate rs;
	struct log l = { 0 };

	(void)state;
	reportstate_init(&rs, 7, 0, NULL, 600, record, &l);
	feed(&rs, BOOT_A, ADDRS_A2, NOW);
	/* A new boot written before its addresses: the old ones go stale. */
	feed(&rs, BOOT_B, ADDRS_A2, NOW + 100);
	expect(&l, 2, REPORT_EV_BOOT, REPORT_KEY_BOOT, NULL);
	expect(&l, 3, REPORT_EV_REJECTED, REPORT_KEY_ADDRS, "stale");
	assert_false(rs.dom.have_addrs);
	/* The new boot's first addresses, seq 0, are fine after seq 2. */
	feed(&rs, BOOT_B, ADDRS_B0, NOW + 100);
	expect(&l, 4, REPORT_EV_ADDRS, REPORT_KEY_ADDRS, NULL);
	assert_int_equal(rs.dom.addrs.seq, 0);
	/* Records removed (dom0 cleared the area, or the guest did). */
	feed(&rs, NULL, NULL, NOW + 101);
	assert_int_equal(l.n, 7);
	expect(&l, 5, REPORT_EV_GONE, REPORT_KEY_BOOT, NULL);
	expect(&l, 6, REPORT_EV_GONE, REPORT_KEY_ADDRS, NULL);
	assert_false(rs.dom.have_boot || rs.dom.have_addrs);
	reportstate_free(&rs);
}

static void
test_stale_boot(void **state)
{
	struct reportstate rs;
	struct log l = { 0 };

	(void)state;
	/* The previous boot's identifier must have changed. */
	reportstate_init(&rs, 7, 0, ID_A, 60, record, &l);
	feed(&rs, BOOT_A, ADDRS_A1, NOW);
	expect(&l, 0, REPORT_EV_REJECTED, REPORT_KEY_BOOT, "previous boot");
	expect(&l, 1, REPORT_EV_REJECTED, REPORT_KEY_ADDRS, "no valid boot-complete");
	feed(&rs, BOOT_B, ADDRS_B0, NOW + 100);
	expect(&l, 2, REPORT_EV_BOOT, REPORT_KEY_BOOT, NULL);
	expect(&l, 3, REPORT_EV_ADDRS, REPORT_KEY_ADDRS, NULL);
	reportstate_free(&rs);

	/* Written long before the domain started. */
	memset(&l, 0, sizeof(l));
	reportstate_init(&rs, 7, NOW + 1000, NULL, 60, record, &l);
	feed(&rs, BOOT_A, NULL, NOW + 1000);
	expect(&l, 0, REPORT_EV_REJECTED, REPORT_KEY_BOOT, "before the domain started");
	reportstate_free(&rs);

	/* From the future. */
	memset(&l, 0, sizeof(l));
	reportstate_init(&rs, 7, 0, NULL, 60, record, &l);
	feed(&rs, BOOT_A, NULL, NOW - 3600);
	expect(&l, 0, REPORT_EV_REJECTED, REPORT_KEY_BOOT, "3600 s in the future");
	assert_false(rs.dom.have_boot);
	reportstate_free(&rs);
}

static void
test_rejections_rate_limited(void **state)
{
	struct reportstate rs;
	struct log l = { 0 };
	char	 bad[64];
	int	 i;

	(void)state;
	reportstate_init(&rs, 7, 0, NULL, 60, record, &l);
	/* A guest rewriting garbage as fast as it can. */
	for (i = 0; i < 20; i++) {
		snprintf(bad, sizeof(bad), "v=1 garbage-%d", i);
		feed(&rs, bad, NULL, NOW);
	}
	assert_int_equal(l.n, REPORTSTATE_REJECT_BURST);
	/* The window passes: the next refusal says how many were not shown. */
	feed(&rs, "v=1 garbage-last", NULL, NOW + REPORTSTATE_REJECT_WINDOW);
	assert_int_equal(l.n, REPORTSTATE_REJECT_BURST + 1);
	expect(&l, l.n - 1, REPORT_EV_REJECTED, REPORT_KEY_BOOT,
	    "(15 earlier rejections of this domain not shown)");
	/* Valid records are never held back. */
	feed(&rs, BOOT_A, ADDRS_A1, NOW + REPORTSTATE_REJECT_WINDOW);
	expect(&l, l.n - 2, REPORT_EV_BOOT, REPORT_KEY_BOOT, NULL);
	expect(&l, l.n - 1, REPORT_EV_ADDRS, REPORT_KEY_ADDRS, NULL);
	reportstate_free(&rs);
}

static void
test_session(void **state)
{
	struct reportstate rs;
	struct log l = { 0 };

	(void)state;
	reportstate_init(&rs, 7, 0, NULL, 60, record, &l);
	feed3(&rs, BOOT_A, ADDRS_A1, "v=1 boot=" ID_A " seq=0 state=none", NOW);
	assert_int_equal(l.n, 3);
	expect(&l, 2, REPORT_EV_SESSION, REPORT_KEY_SESSION, NULL);
	assert_true(rs.dom.have_session && !rs.dom.session.active);
	feed3(&rs, BOOT_A, ADDRS_A1, "v=1 boot=" ID_A " seq=1 state=active", NOW);
	expect(&l, 3, REPORT_EV_SESSION, REPORT_KEY_SESSION, NULL);
	assert_true(rs.dom.session.active);
	/* Stale, backwards, malformed: refused, the last one stays. */
	feed3(&rs, BOOT_A, ADDRS_A1, "v=1 boot=" ID_B " seq=5 state=none", NOW);
	expect(&l, 4, REPORT_EV_REJECTED, REPORT_KEY_SESSION, "stale");
	feed3(&rs, BOOT_A, ADDRS_A1, "v=1 boot=" ID_A " seq=0 state=none", NOW);
	expect(&l, 5, REPORT_EV_REJECTED, REPORT_KEY_SESSION, "backwards");
	feed3(&rs, BOOT_A, ADDRS_A1, "v=1 boot=" ID_A " seq=2 state=maybe", NOW);
	expect(&l, 6, REPORT_EV_REJECTED, REPORT_KEY_SESSION, "active or none");
	assert_true(rs.dom.session.active);
	/* A new boot forgets the old session. */
	feed3(&rs, BOOT_B, ADDRS_B0, NULL, NOW + 100);
	assert_false(rs.dom.have_session);
	reportstate_free(&rs);
}

static void
feed_cred(struct reportstate *rs, const char *boot, const char *cred, time_t now)
{
	struct report_values v = {
		boot, boot ? (unsigned)strlen(boot) : 0,
		ADDRS_A1, (unsigned)strlen(ADDRS_A1),
		NULL, 0,
		cred, cred ? (unsigned)strlen(cred) : 0,
	};

	assert_int_equal(reportstate_update(rs, &v, now), 0);
}

/* A credential acknowledgement: of the accepted boot only; once per change. */
static void
test_credential(void **state)
{
	struct reportstate rs;
	struct log l = { 0 };

	(void)state;
	reportstate_init(&rs, 7, 0, NULL, 60, record, &l);
	/* Before any boot-complete: refused. */
	feed_cred(&rs, NULL, "v=1 boot=" ID_A " seq=5 state=applied", NOW);
	expect(&l, l.n - 1, REPORT_EV_REJECTED, REPORT_KEY_CREDENTIAL,
	    "no valid boot-complete");
	assert_false(rs.dom.have_credential);
	l.n = 0;
	feed_cred(&rs, BOOT_A, "v=1 boot=" ID_A " seq=6 state=applied", NOW);
	expect(&l, l.n - 1, REPORT_EV_CREDENTIAL, REPORT_KEY_CREDENTIAL, NULL);
	assert_true(rs.dom.have_credential);
	assert_int_equal(rs.dom.credential.seq, 6);
	assert_int_equal(rs.dom.credential.applied, 1);
	/* The same bytes: no second event. */
	l.n = 0;
	feed_cred(&rs, BOOT_A, "v=1 boot=" ID_A " seq=6 state=applied", NOW + 1);
	assert_int_equal(l.n, 0);
	/* Another boot's: stale. */
	feed_cred(&rs, BOOT_A, "v=1 boot=" ID_B " seq=7 state=applied", NOW + 2);
	expect(&l, 0, REPORT_EV_REJECTED, REPORT_KEY_CREDENTIAL, "stale");
	assert_int_equal(rs.dom.credential.seq, 6);
	/* Malformed: refused, the last valid one stays. */
	feed_cred(&rs, BOOT_A, "v=1 boot=" ID_A " seq=8 state=maybe", NOW + 3);
	expect(&l, 1, REPORT_EV_REJECTED, REPORT_KEY_CREDENTIAL, "state:");
	feed_cred(&rs, BOOT_A, "v=1 boot=" ID_A " seq=9 state=failed", NOW + 4);
	expect(&l, 2, REPORT_EV_CREDENTIAL, REPORT_KEY_CREDENTIAL, NULL);
	assert_int_equal(rs.dom.credential.applied, 0);
	/* A new boot forgets the old boot's answer. */
	l.n = 0;
	feed_cred(&rs, BOOT_B, "v=1 boot=" ID_A " seq=9 state=failed", NOW + 100);
	assert_false(rs.dom.have_credential);
	reportstate_free(&rs);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_accept_then_repeat),
		cmocka_unit_test(test_malformed_keeps_last_valid),
		cmocka_unit_test(test_addrs_rules),
		cmocka_unit_test(test_reboot_and_removal),
		cmocka_unit_test(test_stale_boot),
		cmocka_unit_test(test_rejections_rate_limited),
		cmocka_unit_test(test_session),
		cmocka_unit_test(test_credential),
	};

	return cmocka_run_group_tests_name("reportstate", tests, NULL, NULL);
}

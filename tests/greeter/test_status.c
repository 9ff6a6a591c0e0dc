/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * test_status.c — xvds-client's status lines as the greeter reads them
 * (xvds-client/greeter/status.c): every line of the contract, malformed
 * ones refused, and the plain words for every progress step, end reason
 * and error code.
 */
#include <config.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/wait.h>

#include <cmocka.h>
#include <glib.h>

#include "status.h"

static void
test_contract_lines(void **state)
{
	struct greeter_status	 st;

	(void)state;
	assert_true(greeter_status_parse("progress login", &st));
	assert_int_equal(st.kind, GREETER_STATUS_PROGRESS);
	assert_string_equal(st.word, "login");
	assert_false(greeter_status_final(&st));
	assert_true(greeter_status_parse("progress connecting 10.0.0.5", &st));
	assert_string_equal(st.word, "connecting");
	assert_string_equal(st.text, "10.0.0.5");
	assert_true(greeter_status_parse("connected", &st));
	assert_int_equal(st.kind, GREETER_STATUS_CONNECTED);
	assert_true(greeter_status_parse("ended logoff", &st));
	assert_int_equal(st.kind, GREETER_STATUS_ENDED);
	assert_true(greeter_status_final(&st));
	assert_true(greeter_status_parse("error rate-limited Wait 2 minutes.",
	    &st));
	assert_int_equal(st.kind, GREETER_STATUS_ERROR);
	assert_string_equal(st.word, "rate-limited");
	assert_string_equal(st.text, "Wait 2 minutes.");
	assert_true(greeter_status_final(&st));
}

static void
test_malformed(void **state)
{
	static const char *const bad[] = {
		"", "progress", "ended", "error", "connected now", "hello x",
		" progress login", "progress  login", "error auth\tx",
		"error auth caf\xc3\xa9",
		"ended aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",	/* too long */
	};
	struct greeter_status	 st;
	size_t			 i;

	(void)state;
	for (i = 0; i < G_N_ELEMENTS(bad); i++)
		if (greeter_status_parse(bad[i], &st))
			fail_msg("accepted \"%s\"", bad[i]);
}

/* Each step has its own words, not the fallback's. */
static void
test_progress_words(void **state)
{
	static const char *const steps[] =
	    { "login", "waking", "booting", "connecting" };
	struct greeter_status	 st;
	size_t			 i;

	(void)state;
	assert_true(greeter_status_parse("progress later", &st));
	assert_string_equal(greeter_status_progress_words(&st),
	    "Please wait\u2026");
	for (i = 0; i < G_N_ELEMENTS(steps); i++) {
		char *line = g_strdup_printf("progress %s", steps[i]);

		assert_true(greeter_status_parse(line, &st));
		assert_string_not_equal(greeter_status_progress_words(&st),
		    "Please wait\u2026");
		g_free(line);
	}
	assert_true(greeter_status_parse("progress login", &st));
	assert_string_equal(greeter_status_progress_words(&st),
	    "Finding your desktop\u2026");
}

static char *
outcome(const char *line)
{
	struct greeter_status	 st;

	assert_true(greeter_status_parse(line, &st));
	return greeter_status_outcome_words(&st);
}

/* Every CODE of the contract has words of its own; TEXT follows them. */
static void
test_error_words(void **state)
{
	static const char *const codes[] = { "auth", "rate-limited",
	    "no-desktop", "broker-unreachable", "broker-untrusted",
	    "desktop-unreachable", "desktop-untrusted", "rdp-auth" };
	char	*fallback = outcome("error unknown-code"), *words;
	size_t	 i;

	(void)state;
	for (i = 0; i < G_N_ELEMENTS(codes); i++) {
		char *line = g_strdup_printf("error %s", codes[i]);

		words = outcome(line);
		assert_string_not_equal(words, fallback);
		g_free(words);
		g_free(line);
	}
	words = outcome("error auth Account disabled.");
	assert_string_equal(words,
	    "Wrong user name or password.\nAccount disabled.");
	g_free(words);
	g_free(fallback);
}

/* The user's own ends say nothing; the others say what happened. */
static void
test_ended_words(void **state)
{
	static const char *const quiet[] = { "logoff", "closed", "signal" };
	char	*words;
	size_t	 i;

	(void)state;
	for (i = 0; i < G_N_ELEMENTS(quiet); i++) {
		char *line = g_strdup_printf("ended %s", quiet[i]);

		assert_null(outcome(line));
		g_free(line);
	}
	words = outcome("ended lost");
	assert_non_null(strstr(words, "connection"));
	g_free(words);
	words = outcome("ended lease");
	assert_non_null(words);
	g_free(words);
}

static void
test_exit_words(void **state)
{
	char	*words = greeter_status_exit_words(7 << 8);

	(void)state;
	assert_true(WIFEXITED(7 << 8));
	assert_non_null(strstr(words, "status 7"));
	g_free(words);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_contract_lines),
		cmocka_unit_test(test_malformed),
		cmocka_unit_test(test_progress_words),
		cmocka_unit_test(test_error_words),
		cmocka_unit_test(test_ended_words),
		cmocka_unit_test(test_exit_words),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

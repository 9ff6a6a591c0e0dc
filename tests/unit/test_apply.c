/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * test_apply.c — xvds-guestd's apply command (xvds-guestd/apply.c) with
 * real commands: what it reads on stdin, its exit status, a command that
 * is missing, one that hangs (killed at the deadline), one that does not
 * read; and the shipped apply-credential script's refusals (it is not run
 * on a valid user here: it would create an account on this machine).
 */
#include <config.h>

#include <sys/stat.h>

#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "apply.h"
#include "common/log.h"

static char dir[64];

static void
script(const char *name, const char *body, char *path, size_t len)
{
	FILE	*f;

	snprintf(path, len, "%s/%s", dir, name);
	assert_non_null(f = fopen(path, "w"));
	fprintf(f, "#!/bin/sh\n%s\n", body);
	assert_int_equal(fclose(f), 0);
	assert_int_equal(chmod(path, 0700), 0);
}

static int
setup(void **state)
{
	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/xvds-test-apply.XXXXXX");
	assert_non_null(mkdtemp(dir));
	signal(SIGPIPE, SIG_IGN);
	log_init(1, 0);
	return 0;
}

static int
teardown(void **state)
{
	char	 cmd[128];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	assert_int_equal(system(cmd), 0);
	return 0;
}

static void
test_stdin_and_status(void **state)
{
	char	 ok[128], fail[128], out[128], buf[128], missing[128];
	FILE	*f;
	size_t	 n;

	(void)state;
	snprintf(out, sizeof(out), "%s/got", dir);
	setenv("APPLY_OUT", out, 1);
	/* What chpasswd would read, with no arguments at all. */
	script("ok", "[ $# -eq 0 ] || exit 9; cat > \"$APPLY_OUT\"", ok,
	    sizeof(ok));
	assert_int_equal(apply_credential(ok, "xvds-abcdefgh",
	    "ABCDEFGHJKLMNPQRSTUVWX2", 5), 0);
	assert_non_null(f = fopen(out, "r"));
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	assert_string_equal(buf, "xvds-abcdefgh:ABCDEFGHJKLMNPQRSTUVWX2\n");

	script("fail", "cat >/dev/null; exit 3", fail, sizeof(fail));
	assert_int_equal(apply_credential(fail, "xvds-abcdefgh",
	    "ABCDEFGHJKLMNPQRSTUVWX2", 5), -1);
	snprintf(missing, sizeof(missing), "%s/none", dir);
	assert_int_equal(apply_credential(missing, "xvds-abcdefgh",
	    "ABCDEFGHJKLMNPQRSTUVWX2", 5), -1);
	/* Exits before reading: its status counts, and guestd lives on. */
	script("early", "exit 0", fail, sizeof(fail));
	assert_int_equal(apply_credential(fail, "xvds-abcdefgh",
	    "ABCDEFGHJKLMNPQRSTUVWX2", 5), 0);
}

static void
test_deadline(void **state)
{
	char	 hang[128];
	time_t	 t0;

	(void)state;
	script("hang", "exec sleep 30", hang, sizeof(hang));
	t0 = time(NULL);
	assert_int_equal(apply_credential(hang, "xvds-abcdefgh",
	    "ABCDEFGHJKLMNPQRSTUVWX2", 1), -1);
	assert_true(time(NULL) - t0 <= 3);
}

/* The shipped script refuses what is not an XVDS user, before any use. */
static void
test_default_script_refuses(void **state)
{
	static const char *const bad[] = {
		"root", "-o", "../etc", "xvds-abcdefg", "xvds-abcdefghj",
		"xvds-abcdefgI", "xvds-abc;efgh", "",
	};
	const char *top = getenv("top_srcdir");
	char	 path[512];
	size_t	 i;

	(void)state;
	snprintf(path, sizeof(path), "%s/xvds-guestd/apply-credential",
	    top != NULL ? top : ".");
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (apply_credential(path, bad[i], "ABCDEFGHJKLMNPQRSTUVWX2",
		    5) != -1)
			fail_msg("apply-credential took \"%s\"", bad[i]);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_stdin_and_status),
		cmocka_unit_test(test_deadline),
		cmocka_unit_test(test_default_script_refuses),
	};

	return cmocka_run_group_tests_name("apply", tests, setup, teardown);
}

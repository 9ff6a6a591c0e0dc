/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * test_qcow2.c — the copy-on-write overlay (xvds/hostd/qcow2.c), checked by
 * QEMU's own tools: qemu-img must find it consistent, with the right
 * size and backing file, and qemu-io must read the golden image's bytes
 * through it; writes land in the overlay, never in the golden image, and
 * a fresh overlay reads the golden bytes again.  (qemu-utils is a test
 * dependency; its absence fails the test.)
 */
#include <config.h>

#include <sys/stat.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "hostd/qcow2.h"

static char dir[64];

static int
run(const char *fmt, ...)
    __attribute__((format(printf, 1, 2)));

static int
run(const char *fmt, ...)
{
	char	 cmd[1024];
	va_list	 ap;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	return system(cmd);
}

static int
setup(void **state)
{
	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/xvds-test-qcow2.XXXXXX");
	assert_non_null(mkdtemp(dir));
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	assert_int_equal(run("rm -rf '%s'", dir), 0);
	return 0;
}

static void
test_overlay_reads_through_and_resets(void **state)
{
	char	 golden[128], overlay[128], err[256];

	(void)state;
	snprintf(golden, sizeof(golden), "%s/golden.raw", dir);
	snprintf(overlay, sizeof(overlay), "%s/xvda.qcow2", dir);
	/* A 1 GiB golden image with a pattern at 1 MiB. */
	assert_int_equal(run("truncate -s 1G %s && qemu-io -f raw -c 'write -P 0xab "
	    "1M 64k' %s >/dev/null", golden, golden), 0);
	assert_int_equal(qcow2_create_overlay(overlay, golden, err, sizeof(err)), 0);
	assert_int_equal(run("qemu-img check -q %s", overlay), 0);
	assert_int_equal(run("qemu-img info --output=json %s | grep -q "
	    "'\"virtual-size\": 1073741824'", overlay), 0);
	assert_int_equal(run("qemu-img info --output=json %s | grep -q "
	    "'\"backing-filename\": \"%s\"'", overlay, golden), 0);
	assert_int_equal(run("qemu-img info --output=json %s | grep -q "
	    "'\"backing-filename-format\": \"raw\"'", overlay), 0);
	/* Reads fall through to the golden image. */
	assert_int_equal(run("qemu-io -f qcow2 -c 'read -P 0xab 1M 64k' %s "
	    "| grep -q 'read 65536'", overlay), 0);
	/* Writes stay in the overlay. */
	assert_int_equal(run("qemu-io -f qcow2 -c 'write -P 0xcd 1M 4k' %s "
	    ">/dev/null", overlay), 0);
	assert_int_equal(run("qemu-io -f qcow2 -c 'read -P 0xcd 1M 4k' %s "
	    "| grep -q 'read 4096'", overlay), 0);
	assert_int_equal(run("qemu-io -f raw -c 'read -P 0xab 1M 64k' %s "
	    "| grep -q 'read 65536'", golden), 0);
	assert_int_equal(run("qemu-img check -q %s", overlay), 0);
	/* A fresh overlay over the old one: back to the golden bytes. */
	assert_int_equal(qcow2_create_overlay(overlay, golden, err, sizeof(err)), 0);
	assert_int_equal(run("qemu-io -f qcow2 -c 'read -P 0xab 1M 4k' %s "
	    "| grep -q 'read 4096'", overlay), 0);
}

static void
test_refusals(void **state)
{
	char	 golden[128], overlay[128], err[256];
	struct stat st;

	(void)state;
	snprintf(golden, sizeof(golden), "%s/odd.raw", dir);
	snprintf(overlay, sizeof(overlay), "%s/x.qcow2", dir);
	assert_int_equal(qcow2_create_overlay(overlay, "/nonexistent/golden.raw",
	    err, sizeof(err)), -1);
	assert_non_null(strstr(err, "/nonexistent/golden.raw"));
	assert_int_equal(run("truncate -s 1000 %s", golden), 0);
	assert_int_equal(qcow2_create_overlay(overlay, golden, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "multiple of 512"));
	assert_int_equal(qcow2_create_overlay(overlay, dir, err, sizeof(err)), -1);
	/* Nothing is left behind by a refusal. */
	assert_int_equal(stat(overlay, &st), -1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_overlay_reads_through_and_resets,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_refusals, setup, teardown),
	};

	return cmocka_run_group_tests_name("qcow2", tests, NULL, NULL);
}

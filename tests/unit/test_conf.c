/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * test_conf.c — xvds.conf(5) (xvds/common/conf.c) and the instantiation of its
 * templates (xvds/common/template.c).  Good fixtures are checked field by field
 * and must survive conf_print() and a second parse unchanged; every bad
 * fixture (tests/unit/conf/bad-*.conf) states on its first line the line
 * and the words of its error:
 *
 *	# error: <line or ->: <substring of the message>
 */
#include <config.h>

#include <sys/stat.h>

#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "common/conf.h"
#include "common/template.h"

static char	 fixtures[1024];

static const char *
fixture(const char *name)
{
	static char path[2048];

	snprintf(path, sizeof(path), "%s/%s", fixtures, name);
	return path;
}

static struct xvds_conf *
load_ok(const char *name)
{
	struct xvds_conf *c;
	char	 err[CONF_ERR_MAX];

	if ((c = conf_load(fixture(name), err, sizeof(err))) == NULL)
		fail_msg("%s refused: %s", name, err);
	return c;
}

static char *
print_to_string(const struct xvds_conf *c)
{
	char	*buf = NULL;
	size_t	 len = 0;
	FILE	*f;

	f = open_memstream(&buf, &len);
	assert_non_null(f);
	assert_int_equal(conf_print(c, f), 0);
	fclose(f);
	return buf;
}

/* A file in a private temporary directory, removed by cleanup_tmp(). */
static char	 tmpdir[64];

static const char *
write_tmp(const char *name, const char *buf, size_t len)
{
	static char path[128];
	FILE	*f;

	if (tmpdir[0] == '\0') {
		const char *t = getenv("TMPDIR");

		snprintf(tmpdir, sizeof(tmpdir), "%s/test_conf.XXXXXX",
		    t != NULL && strlen(t) < 32 ? t : "/tmp");
		assert_non_null(mkdtemp(tmpdir));
	}
	snprintf(path, sizeof(path), "%s/%s", tmpdir, name);
	f = fopen(path, "w");
	assert_non_null(f);
	assert_int_equal(fwrite(buf, 1, len, f), len);
	assert_int_equal(fclose(f), 0);
	return path;
}

static void
cleanup_tmp(void)
{
	DIR	*d;
	struct dirent *de;
	char	 path[256];

	if (tmpdir[0] == '\0' || (d = opendir(tmpdir)) == NULL)
		return;
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		if (snprintf(path, sizeof(path), "%s/%s", tmpdir,
		    de->d_name) < (int)sizeof(path))
			unlink(path);
	}
	closedir(d);
	rmdir(tmpdir);
}

static struct xvds_conf *
parse_str(const char *s, char *err, size_t errlen)
{
	return conf_parse("test.conf", s, strlen(s), err, errlen);
}

/*
 * Good files.
 */

static void
test_good_full(void **state)
{
	struct xvds_conf *c;
	const struct conf_settings *s;
	const struct conf_template *t;
	const struct conf_pool *p;

	(void)state;
	c = load_ok("good-full.conf");
	s = conf_settings(c);
	assert_string_equal(s->state_dir, "/var/lib/xvds");
	assert_string_equal(s->control_socket, "/run/xvds/xvdsd.sock");
	assert_string_equal(s->store, "/srv/xvds");
	assert_int_equal(s->sample_interval, 5);
	assert_int_equal(s->sample_window, 7);
	assert_int_equal(s->boot_timeout, 180);
	assert_int_equal(s->shutdown_timeout, 60);
	assert_int_equal(s->max_clock_skew, 300);
	assert_string_equal(s->migration_listen, "0.0.0.0");
	assert_int_equal(s->migration_port, 8002);
	assert_string_equal(s->migration_key_file, "/etc/xvds/migration.key");
	assert_true(s->controller);
	assert_string_equal(s->controller_address, "10.0.0.5");
	assert_int_equal(s->controller_port, 8004);
	assert_string_equal(s->controller_server_name, "ctl.xvds.example");
	assert_string_equal(s->controller_ca_file, "/etc/xvds/agent-ca.pem");
	assert_string_equal(s->controller_cert_file, "/etc/xvds/agent.pem");
	assert_string_equal(s->controller_key_file, "/etc/xvds/agent.key");

	assert_int_equal(conf_ntemplates(c), 1);
	t = conf_template(c, "desktop");
	assert_non_null(t);
	assert_ptr_equal(conf_template_at(c, 0), t);
	assert_null(conf_template_at(c, 1));
	assert_null(conf_template(c, "Desktop"));
	assert_string_equal(t->name, "desktop");
	assert_int_equal(t->type, VM_TYPE_PVH);
	assert_int_equal(t->vcpus, 1);
	assert_int_equal(t->max_vcpus, 2);
	assert_int_equal(t->memory_mib, 512);
	assert_int_equal(t->max_memory_mib, 1024);
	assert_string_equal(t->kernel, "/srv/xvds/golden/vmlinuz");
	assert_string_equal(t->ramdisk, "/srv/xvds/golden/initrd.img");
	assert_string_equal(t->cmdline, "root=/dev/xvda console=hvc0");
	assert_string_equal(t->bootloader, "");
	assert_int_equal(t->ndisks, 3);
	assert_string_equal(t->disks[0].vdev, "xvda");
	assert_int_equal(t->disks[0].mode, TEMPLATE_DISK_OVERLAY);
	assert_string_equal(t->disks[0].path, "/srv/xvds/golden/desktop.raw");
	assert_false(t->disks[0].readonly);
	assert_string_equal(t->disks[1].vdev, "xvdb");
	assert_int_equal(t->disks[1].mode, TEMPLATE_DISK_CLONE);
	assert_string_equal(t->disks[1].path, "/srv/xvds/golden/data.raw");
	assert_string_equal(t->disks[2].vdev, "xvdc");
	assert_int_equal(t->disks[2].mode, TEMPLATE_DISK_IMAGE);
	assert_string_equal(t->disks[2].path, "/srv/xvds/shared/apps.raw");
	assert_true(t->disks[2].readonly);
	assert_int_equal(t->nnics, 1);
	assert_string_equal(t->nics[0].bridge, "xenbr0");

	assert_int_equal(conf_npools(c), 1);
	p = conf_pool(c, "lab-a");
	assert_non_null(p);
	assert_ptr_equal(conf_pool_at(c, 0), p);
	assert_null(conf_pool_at(c, 1));
	assert_null(conf_pool(c, "lab-b"));
	assert_string_equal(p->name, "lab-a");
	assert_ptr_equal(p->tmpl, t);
	assert_int_equal(p->kind, VM_CVM);
	assert_int_equal(p->size, 10);
	assert_int_equal(p->ready, 2);
	assert_int_equal(p->idle_pause, 600);
	assert_int_equal(p->idle_save, 3600);
	conf_free(c);
}

static void
test_good_minimal(void **state)
{
	struct xvds_conf *c;
	const struct conf_settings *s;

	(void)state;
	c = load_ok("good-minimal.conf");
	s = conf_settings(c);
	assert_string_equal(s->state_dir, CONF_DEFAULT_STATE_DIR);
	assert_string_equal(s->control_socket, CONF_DEFAULT_CONTROL_SOCKET);
	assert_string_equal(s->store, "/srv/xvds");
	assert_int_equal(s->sample_interval, 5);
	assert_int_equal(s->sample_window, 7);
	assert_int_equal(s->boot_timeout, 180);
	assert_int_equal(s->shutdown_timeout, 60);
	assert_int_equal(s->max_clock_skew, 300);
	assert_string_equal(s->migration_listen, "0.0.0.0");
	assert_int_equal(s->migration_port, 8002);
	assert_string_equal(s->migration_key_file, "/etc/xvds/migration.key");
	/* No controller block: xvdsd runs alone. */
	assert_false(s->controller);
	assert_int_equal(s->controller_port, CONF_DEFAULT_AGENT_PORT);
	assert_string_equal(s->controller_ca_file, CONF_DEFAULT_AGENT_CA);
	assert_string_equal(s->controller_cert_file, CONF_DEFAULT_AGENT_CERT);
	assert_string_equal(s->controller_key_file, CONF_DEFAULT_AGENT_KEY);
	assert_int_equal(conf_ntemplates(c), 0);
	assert_int_equal(conf_npools(c), 0);
	assert_null(conf_template_at(c, 0));
	assert_null(conf_pool(c, "x"));
	conf_free(c);
}

static void
test_good_variety(void **state)
{
	struct xvds_conf *c;
	const struct conf_settings *s;
	const struct conf_template *t;
	const struct conf_pool *p;

	(void)state;
	c = load_ok("good-variety.conf");
	s = conf_settings(c);
	assert_string_equal(s->store, "/srv/xvds");
	assert_int_equal(s->max_clock_skew, 0);
	assert_int_equal(s->sample_interval, 90);
	assert_int_equal(s->boot_timeout, 3600);
	assert_int_equal(s->shutdown_timeout, 3600);
	assert_int_equal(s->sample_window, 30);
	assert_string_equal(s->migration_listen, "::1");
	assert_int_equal(s->migration_port, 8002);
	assert_string_equal(s->migration_key_file, "/etc/xvds/mig \"key\"\\file");

	assert_int_equal(conf_ntemplates(c), 3);
	t = conf_template_at(c, 0);
	assert_string_equal(t->name, "legacy");
	assert_int_equal(t->type, VM_TYPE_PV);
	assert_int_equal(t->vcpus, 1);		/* the default */
	assert_int_equal(t->max_vcpus, 1);
	assert_int_equal(t->memory_mib, 2048);
	assert_int_equal(t->max_memory_mib, 2048);
	assert_string_equal(t->kernel, "");
	assert_string_equal(t->bootloader, "/usr/lib/xen-4.17/bin/pygrub");
	assert_string_equal(t->cmdline, "quiet \"splash\" x=a\\b");
	assert_int_equal(t->ndisks, 1);
	assert_int_equal(t->disks[0].mode, TEMPLATE_DISK_CLONE);
	assert_int_equal(t->nnics, 4);
	assert_string_equal(t->nics[0].bridge, "xenbr0");
	assert_string_equal(t->nics[1].bridge, "xenbr1");
	assert_string_equal(t->nics[2].bridge, "xenbr0");
	assert_string_equal(t->nics[3].bridge, "vlan.42");

	t = conf_template(c, "windows");
	assert_int_equal(t->type, VM_TYPE_HVM);
	assert_int_equal(t->vcpus, 4);
	assert_int_equal(t->max_vcpus, 4);
	assert_int_equal(t->memory_mib, 4096);
	assert_string_equal(t->kernel, "");
	assert_int_equal(t->ndisks, 3);
	assert_string_equal(t->disks[2].vdev, "xvdz");
	assert_true(t->disks[2].readonly);
	assert_int_equal(t->nnics, 0);

	t = conf_template(c, "spare");
	assert_int_equal(t->memory_mib, 32);

	assert_int_equal(conf_npools(c), 2);
	p = conf_pool_at(c, 0);
	assert_string_equal(p->name, "pvms");
	assert_ptr_equal(p->tmpl, conf_template(c, "legacy"));
	assert_int_equal(p->kind, VM_PVM);
	assert_int_equal(p->size, 3);
	assert_int_equal(p->ready, 0);
	assert_int_equal(p->idle_pause, 0);
	assert_int_equal(p->idle_save, 0);
	p = conf_pool(c, "cvms");
	assert_ptr_equal(p->tmpl, conf_template(c, "windows"));
	assert_int_equal(p->kind, VM_CVM);
	assert_int_equal(p->size, 12);
	assert_int_equal(p->ready, 1);
	assert_int_equal(p->idle_pause, 0);
	conf_free(c);
}

/* conf_print()'s output parses back to the same configuration. */
static void
roundtrip(const char *name)
{
	struct xvds_conf *a, *b;
	char	*pa, *pb, err[CONF_ERR_MAX];
	size_t	 i;

	a = load_ok(name);
	pa = print_to_string(a);
	b = parse_str(pa, err, sizeof(err));
	if (b == NULL)
		fail_msg("%s: printed form refused: %s\n%s", name, err, pa);
	pb = print_to_string(b);
	assert_string_equal(pa, pb);
	/* Beyond the text: the structures themselves. */
	assert_memory_equal(conf_settings(a), conf_settings(b),
	    sizeof(struct conf_settings));
	assert_int_equal(conf_ntemplates(a), conf_ntemplates(b));
	for (i = 0; i < conf_ntemplates(a); i++)
		assert_memory_equal(conf_template_at(a, i), conf_template_at(b, i),
		    sizeof(struct conf_template));
	assert_int_equal(conf_npools(a), conf_npools(b));
	for (i = 0; i < conf_npools(a); i++) {
		const struct conf_pool *x = conf_pool_at(a, i), *y = conf_pool_at(b, i);

		assert_string_equal(x->name, y->name);
		assert_string_equal(x->tmpl->name, y->tmpl->name);
		assert_int_equal(x->kind, y->kind);
		assert_int_equal(x->size, y->size);
		assert_int_equal(x->ready, y->ready);
		assert_int_equal(x->idle_pause, y->idle_pause);
		assert_int_equal(x->idle_save, y->idle_save);
	}
	free(pa);
	free(pb);
	conf_free(a);
	conf_free(b);
}

static void
test_print_roundtrip(void **state)
{
	(void)state;
	roundtrip("good-full.conf");
	roundtrip("good-minimal.conf");
	roundtrip("good-variety.conf");
}

static void
test_print_format(void **state)
{
	struct xvds_conf *c;
	char	*s;

	(void)state;
	c = load_ok("good-full.conf");
	s = print_to_string(c);
	/* Durations and sizes in their largest exact unit. */
	assert_non_null(strstr(s, "\nboot-timeout 3m\n"));
	assert_non_null(strstr(s, "\n\tmemory 512M max 1G\n"));
	assert_non_null(strstr(s, "\n\tidle-save 1h\n"));
	assert_non_null(strstr(s, "\n\tdisk xvda golden "
	    "\"/srv/xvds/golden/desktop.raw\" overlay\n"));
	assert_non_null(strstr(s, "\n\tdisk xvdc \"/srv/xvds/shared/apps.raw\" "
	    "readonly\n"));
	assert_non_null(strstr(s, "\ncontroller {\n\taddress \"10.0.0.5\" port "
	    "8004\n\tserver-name \"ctl.xvds.example\"\n"));
	free(s);
	conf_free(c);
}

/*
 * Bad files.
 */

static int
check_bad(const char *name)
{
	struct xvds_conf *c;
	char	 line[512], err[CONF_ERR_MAX], prefix[2048], *msg, *colon;
	const char *path = fixture(name);
	FILE	*f;
	int	 n;

	if ((f = fopen(path, "r")) == NULL)
		fail_msg("cannot open %s", path);
	if (fgets(line, sizeof(line), f) == NULL)
		line[0] = '\0';
	fclose(f);
	line[strcspn(line, "\n")] = '\0';
	if (strncmp(line, "# error: ", 9) != 0 ||
	    (colon = strstr(line + 9, ": ")) == NULL)
		fail_msg("%s: first line is not \"# error: <line>: <text>\"", name);
	*colon = '\0';
	msg = colon + 2;
	if (strcmp(line + 9, "-") == 0)
		n = snprintf(prefix, sizeof(prefix), "%s: ", path);
	else
		n = snprintf(prefix, sizeof(prefix), "%s:%s: ", path, line + 9);
	if (n < 0 || (size_t)n >= sizeof(prefix))
		fail_msg("%s: path too long", name);

	err[0] = '\0';
	if ((c = conf_load(path, err, sizeof(err))) != NULL) {
		conf_free(c);
		fail_msg("%s: accepted", name);
	}
	if (strncmp(err, prefix, strlen(prefix)) != 0)
		fail_msg("%s: \"%s\" does not start with \"%s\"", name, err, prefix);
	if (strstr(err + strlen(prefix), msg) == NULL)
		fail_msg("%s: \"%s\" lacks \"%s\"", name, err, msg);
	return 0;
}

static void
test_bad_fixtures(void **state)
{
	DIR	*d;
	struct dirent *de;
	int	 n = 0;

	(void)state;
	if ((d = opendir(fixtures)) == NULL)
		fail_msg("cannot open %s", fixtures);
	while ((de = readdir(d)) != NULL) {
		size_t len = strlen(de->d_name);

		if (strncmp(de->d_name, "bad-", 4) != 0 || len < 9 ||
		    strcmp(de->d_name + len - 5, ".conf") != 0)
			continue;
		check_bad(de->d_name);
		n++;
	}
	closedir(d);
	/* The fixtures are the specification of the errors: keep them all. */
	assert_true(n >= 80);
	print_message("# %d bad fixtures refused with the expected message\n", n);
}

static void
test_file_errors(void **state)
{
	struct xvds_conf *c;
	char	 err[CONF_ERR_MAX], *big;
	const char *path;
	size_t	 len;

	(void)state;
	assert_null(conf_load(fixture("no-such-file.conf"), err, sizeof(err)));
	assert_non_null(strstr(err, "no-such-file.conf: cannot open: No such file"));
	assert_null(conf_load(fixtures, err, sizeof(err)));
	assert_non_null(strstr(err, ": not a regular file"));
	/* Errors without a buffer to go to are fine too. */
	assert_null(conf_load(fixtures, NULL, 0));
	assert_null(parse_str("bogus", NULL, 0));
	/* A buffer too small for the message: truncated, terminated. */
	assert_null(conf_load(fixture("bad-vcpus-range.conf"), err, 8));
	assert_int_equal(strlen(err), 7);

	/* Exactly 1 MiB is fine, one byte more is not. */
	big = malloc(CONF_FILE_MAX + 2);
	assert_non_null(big);
	len = (size_t)snprintf(big, 64, "store \"/srv/xvds\"\n");
	while (len < CONF_FILE_MAX) {
		size_t n = CONF_FILE_MAX - len > 80 ? 80 : CONF_FILE_MAX - len;

		memset(big + len, '#', n - 1);
		big[len + n - 1] = '\n';
		len += n;
	}
	path = write_tmp("big.conf", big, CONF_FILE_MAX);
	c = conf_load(path, err, sizeof(err));
	if (c == NULL)
		fail_msg("1 MiB refused: %s", err);
	conf_free(c);
	big[CONF_FILE_MAX] = '\n';
	path = write_tmp("big.conf", big, CONF_FILE_MAX + 1);
	assert_null(conf_load(path, err, sizeof(err)));
	assert_non_null(strstr(err, "big.conf: larger than 1048576 bytes (1 MiB)"));
	assert_null(conf_parse("mem", big, CONF_FILE_MAX + 1, err, sizeof(err)));
	assert_non_null(strstr(err, "mem: larger than"));
	free(big);
}

static void
test_limits(void **state)
{
	char	 err[CONF_ERR_MAX], *buf, line[CONF_LINE_MAX + 64];
	struct xvds_conf *c;
	size_t	 len, cap = 256 * 1024;
	int	 i;

	(void)state;
	/* A line of exactly 4096 bytes is fine... */
	len = (size_t)snprintf(line, sizeof(line), "store \"/srv/xvds\"\n#");
	memset(line + len, 'x', CONF_LINE_MAX - 1);
	line[len + CONF_LINE_MAX - 1] = '\0';
	c = parse_str(line, err, sizeof(err));
	if (c == NULL)
		fail_msg("4096-byte line refused: %s", err);
	conf_free(c);
	/* ...one more byte is not (bad-line-long.conf has the message). */
	strcat(line, "x");
	assert_null(parse_str(line, err, sizeof(err)));
	assert_string_equal(err, "test.conf:2: line is longer than 4096 bytes");

	/* 256 templates and 256 pools are fine, the 257th is not. */
	buf = malloc(cap);
	assert_non_null(buf);
	len = (size_t)snprintf(buf, cap, "store \"/srv/xvds\"\n");
	for (i = 0; i < CONF_TEMPLATES_MAX; i++)
		len += (size_t)snprintf(buf + len, cap - len, "template t%d {\n"
		    "\ttype pvh\n\tmemory 64M\n\tkernel /k\n}\n", i);
	for (i = 0; i < CONF_POOLS_MAX; i++)
		len += (size_t)snprintf(buf + len, cap - len, "pool p%d {\n"
		    "\ttemplate t%d\n\tkind pvm\n\tsize 1\n}\n", i, i);
	c = parse_str(buf, err, sizeof(err));
	if (c == NULL)
		fail_msg("256 templates and pools refused: %s", err);
	assert_int_equal(conf_ntemplates(c), 256);
	assert_int_equal(conf_npools(c), 256);
	conf_free(c);
	snprintf(buf + len, cap - len, "pool p256 {\n\ttemplate t0\n\tkind pvm\n"
	    "\tsize 1\n}\n");
	assert_null(parse_str(buf, err, sizeof(err)));
	assert_non_null(strstr(err, ": more than 256 pools"));
	snprintf(buf + len, cap - len, "template t256 {\n\ttype pvh\n"
	    "\tmemory 64M\n\tkernel /k\n}\n");
	assert_null(parse_str(buf, err, sizeof(err)));
	assert_non_null(strstr(err, ": more than 256 templates"));
	free(buf);

	/* A NUL byte anywhere. */
	assert_null(conf_parse("nul.conf", "store \"/srv\"\n#\0\n", 15, err,
	    sizeof(err)));
	assert_string_equal(err, "nul.conf:2: contains a NUL byte");
	/* An empty file has no store. */
	assert_null(conf_parse("empty.conf", "", 0, err, sizeof(err)));
	assert_non_null(strstr(err, "empty.conf: store is not set"));
}

/* Windows line ends, tabs and blank lines are only white space. */
static void
test_crlf(void **state)
{
	static const char s[] = "store \"/srv/xvds\"\r\n\r\n"
	    "template \"t\"\t{\r\n\ttype pvh\r\n\tmemory 1G\r\n\tkernel \"/k\"\r\n"
	    "}\r\n";
	struct xvds_conf *c;
	char	 err[CONF_ERR_MAX];

	(void)state;
	c = parse_str(s, err, sizeof(err));
	if (c == NULL)
		fail_msg("refused: %s", err);
	assert_string_equal(conf_template(c, "t")->kernel, "/k");
	conf_free(c);
}

static void
test_reload_check(void **state)
{
	struct xvds_conf *a, *b;
	char	 err[CONF_ERR_MAX], msg[CONF_ERR_MAX];

	(void)state;
	a = load_ok("good-full.conf");
	/* Pools, templates and timeouts may change on SIGHUP. */
	b = parse_str("store \"/srv/other\"\nboot-timeout 10m\n", err, sizeof(err));
	assert_non_null(b);
	assert_int_equal(conf_reload_check(a, b, msg, sizeof(msg)), 0);
	conf_free(b);

	b = parse_str("store \"/srv/xvds\"\nstate-dir \"/var/lib/xvds2\"\n", err,
	    sizeof(err));
	assert_non_null(b);
	assert_int_equal(conf_reload_check(a, b, msg, sizeof(msg)), -1);
	assert_string_equal(msg, "state-dir changed from \"/var/lib/xvds\" to "
	    "\"/var/lib/xvds2\": it takes a restart of xvdsd, not a reload");
	conf_free(b);

	b = parse_str("store \"/srv/xvds\"\ncontrol-socket \"/run/x.sock\"\n", err,
	    sizeof(err));
	assert_non_null(b);
	assert_int_equal(conf_reload_check(a, b, NULL, 0), -1);
	assert_int_equal(conf_reload_check(a, b, msg, sizeof(msg)), -1);
	assert_non_null(strstr(msg, "control-socket changed"));
	conf_free(b);

	/* The controller block may come, go or change: the link reconnects. */
	b = parse_str("store \"/srv/xvds\"\ncontroller {\n\taddress ::1 port 9\n"
	    "\tca-file /ca\n}\n", err, sizeof(err));
	assert_non_null(b);
	assert_int_equal(conf_reload_check(a, b, msg, sizeof(msg)), 0);
	assert_int_equal(conf_reload_check(b, a, msg, sizeof(msg)), 0);
	conf_free(b);
	b = parse_str("store \"/srv/xvds\"\n", err, sizeof(err));
	assert_non_null(b);
	assert_int_equal(conf_reload_check(a, b, msg, sizeof(msg)), 0);
	conf_free(b);
	conf_free(a);
}

/* Which strings are and are not values. */
static void
test_values(void **state)
{
	static const struct {
		const char *text;
		const char *error;	/* NULL: accepted */
		int	 line;		/* of the error, if not 2 */
	} v[] = {
		{ "sample-interval 1s", NULL, 2 },
		{ "sample-interval 3600s", NULL, 2 },
		{ "sample-interval 60m", NULL, 2 },
		{ "sample-interval 3601s", "more than 1h", 2 },
		{ "sample-interval 0", "less than 1s", 2 },
		{ "sample-interval 5 s", "a duration needs a unit", 2 },
		{ "sample-interval s", "expected a duration", 2 },
		{ "sample-interval -5s", "expected a duration", 2 },
		{ "sample-interval 99999999999999s", "expected a duration", 2 },
		{ "sample-interval 5S", "expected a duration", 2 },
		{ "max-clock-skew 0s", NULL, 2 },
		{ "max-clock-skew 0", NULL, 2 },
		{ "sample-window 1000", NULL, 2 },
		{ "sample-window 1001", "more than 1000", 2 },
		{ "sample-window 99999999999999999999", "more than 1000", 2 },
		{ "sample-window 7x", "not a number", 2 },
		{ "sample-window", "sample-window: missing a number", 2 },
		{ "sample-window {", "missing a number of samples before \"{\"", 2 },
		{ "migration {\n\tlisten \"2001:db8::1\" port 1\n}", NULL, 2 },
		{ "migration {\n\tlisten 10.0.0.1 port 0\n}", "port 0: less than 1", 3 },
		{ "migration {\n\tlisten 10.0.0.1 port\n}", "port: missing", 3 },
		{ "migration {\n\tlisten 10.0.0.1 8002\n}", "expected \"port\"", 3 },
		{ "migration {\n}", NULL, 2 },
		{ "migration { }", NULL, 2 },
		{ "migration { listen ::1\n}", "expected a newline after \"{\"", 2 },
		{ "migration", "expected \"{\", got the end of the file", 2 },
		{ "controller {\n\taddress 10.0.0.5\n}", NULL, 2 },
		{ "controller {\n\taddress \"2001:db8::5\" port 65535\n}", NULL, 2 },
		{ "controller {\n\taddress 10.0.0.5 port 65536\n}",
		    "port 65536: more than 65535", 3 },
		{ "controller {\n\taddress 10.0.0.5 8004\n}", "expected \"port\"", 3 },
		{ "controller {\n\taddress 10.0.0.5\n\tserver-name 10.0.0.5\n}",
		    NULL, 2 },
		{ "controller {\n\taddress 10.0.0.5\n\tserver-name -x\n}",
		    "not a DNS name", 4 },
		{ "controller {\n\taddress 10.0.0.5\n\tkey-file /k/\n}",
		    "must not end in '/'", 4 },
		{ "controller {\n\taddress 10.0.0.5\n\tca-fle /ca\n}",
		    "did you mean \"ca-file\"", 4 },
		{ "controller { }", "controller: address is not set", 2 },
		{ "controller", "expected \"{\", got the end of the file", 2 },
		{ "host-name xen-07", NULL, 2 },
		{ "host-name 7xen", "a name is 1 to", 2 },
		{ "host-name \"xen 7\"", "a name is 1 to", 2 },
		{ "host-name", "host-name: missing a name", 2 },
		{ "host-name a234567890123456789012345678901234", "a name is 1 to", 2 },
		{ "state-dir /", "must not end in '/'", 2 },
		{ "state-dir /a/..", "\"..\" is not allowed", 2 },
		{ "state-dir /a/..b", NULL, 2 },
		{ "state-dir \"/a b/c\"", NULL, 2 },
		{ "state-dir \"\"", "not an absolute path", 2 },
		{ "}", "without a block", 2 },
		{ "{", "unexpected \"{\"", 2 },
		{ "\"store\" /x", "expected a keyword, got \"store\"", 2 },
		{ "state-dir \"/x\" \"/y\"", "state-dir: unexpected \"/y\"", 2 },
		{ "state-dir \"/x", "newline in a string", 2 },
		{ "state-dir \"/x\\\n\"", "unknown escape in a string", 2 },
		{ "state-dir /x;", NULL, 2 },
		{ "state-dir\t/x # comment \"with quote", NULL, 2 },
		{ "state-dir /x\x7f", "unexpected byte 0x7f", 2 },
	};
	char	 buf[256], err[CONF_ERR_MAX], prefix[32];
	struct xvds_conf *c;
	size_t	 i;

	(void)state;
	for (i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		snprintf(buf, sizeof(buf), "store \"/srv/xvds\"\n%s\n", v[i].text);
		snprintf(prefix, sizeof(prefix), "test.conf:%d: ", v[i].line);
		err[0] = '\0';
		c = parse_str(buf, err, sizeof(err));
		if (v[i].error == NULL && c == NULL)
			fail_msg("\"%s\" refused: %s", v[i].text, err);
		if (v[i].error != NULL && c != NULL)
			fail_msg("\"%s\" accepted", v[i].text);
		if (v[i].error != NULL && (strncmp(err, prefix, strlen(prefix)) != 0
		    || strstr(err, v[i].error) == NULL))
			fail_msg("\"%s\": \"%s\" lacks %s and \"%s\"",
			    v[i].text, err, prefix, v[i].error);
		conf_free(c);
	}
}

/*
 * Templates.
 */

static void
test_instantiate(void **state)
{
	struct xvds_conf *c;
	const struct conf_template *t;
	struct vm_spec vm;
	char	 err[CONF_ERR_MAX];

	(void)state;
	c = load_ok("good-full.conf");
	t = conf_template(c, "desktop");
	assert_int_equal(template_instantiate(t, conf_settings(c)->store,
	    "lab-a-01", &vm, err, sizeof(err)), 0);
	assert_string_equal(vm.name, "lab-a-01");
	assert_int_equal(vm.type, VM_TYPE_PVH);
	assert_int_equal(vm.vcpus, 1);
	assert_int_equal(vm.max_vcpus, 2);
	assert_int_equal(vm.memory_mib, 512);
	assert_int_equal(vm.max_memory_mib, 1024);
	assert_string_equal(vm.kernel, "/srv/xvds/golden/vmlinuz");
	assert_string_equal(vm.ramdisk, "/srv/xvds/golden/initrd.img");
	assert_string_equal(vm.cmdline, "root=/dev/xvda console=hvc0");
	assert_string_equal(vm.bootloader, "");

	assert_int_equal(vm.ndisks, 3);
	assert_string_equal(vm.disks[0].vdev, "xvda");
	assert_string_equal(vm.disks[0].path, "/srv/xvds/vms/lab-a-01/xvda.qcow2");
	assert_int_equal(vm.disks[0].format, VM_DISK_QCOW2);
	assert_int_equal(vm.disks[0].backend, VM_DISK_QDISK);
	assert_false(vm.disks[0].readonly);
	assert_string_equal(vm.disks[1].vdev, "xvdb");
	assert_string_equal(vm.disks[1].path, "/srv/xvds/vms/lab-a-01/xvdb.raw");
	assert_int_equal(vm.disks[1].format, VM_DISK_RAW);
	assert_int_equal(vm.disks[1].backend, VM_DISK_PHY);
	assert_false(vm.disks[1].readonly);
	assert_string_equal(vm.disks[2].vdev, "xvdc");
	assert_string_equal(vm.disks[2].path, "/srv/xvds/shared/apps.raw");
	assert_int_equal(vm.disks[2].format, VM_DISK_RAW);
	assert_int_equal(vm.disks[2].backend, VM_DISK_PHY);
	assert_true(vm.disks[2].readonly);

	assert_int_equal(vm.nnics, 1);
	assert_string_equal(vm.nics[0].bridge, "xenbr0");
	assert_string_equal(vm.nics[0].mac, "00:16:3e:70:85:99");

	/* Where the daemon finds what to make the per-VM disks from. */
	assert_string_equal(template_disk_golden(t, "xvda"),
	    "/srv/xvds/golden/desktop.raw");
	assert_string_equal(template_disk_golden(t, "xvdb"),
	    "/srv/xvds/golden/data.raw");
	assert_null(template_disk_golden(t, "xvdc"));
	assert_null(template_disk_golden(t, "xvdd"));
	conf_free(c);
}

static void
test_instantiate_hvm_pv(void **state)
{
	struct xvds_conf *c;
	struct vm_spec vm;
	char	 err[CONF_ERR_MAX];

	(void)state;
	c = load_ok("good-variety.conf");
	assert_int_equal(template_instantiate(conf_template(c, "legacy"), "/st",
	    "pvms-03", &vm, err, sizeof(err)), 0);
	assert_int_equal(vm.type, VM_TYPE_PV);
	assert_string_equal(vm.kernel, "");
	assert_string_equal(vm.bootloader, "/usr/lib/xen-4.17/bin/pygrub");
	assert_string_equal(vm.disks[0].path, "/st/vms/pvms-03/xvdb.raw");
	assert_int_equal(vm.nnics, 4);
	/* Four NICs, four MACs, two on the same bridge. */
	assert_string_not_equal(vm.nics[0].mac, vm.nics[2].mac);
	assert_string_equal(vm.nics[0].bridge, vm.nics[2].bridge);

	assert_int_equal(template_instantiate(conf_template(c, "windows"), "/st",
	    "cvms-01", &vm, err, sizeof(err)), 0);
	assert_int_equal(vm.type, VM_TYPE_HVM);
	assert_int_equal(vm.ndisks, 3);
	assert_string_equal(vm.disks[0].path, "/st/vms/cvms-01/xvda.qcow2");
	assert_string_equal(vm.disks[1].path, "/srv/xvds/shared/tools.raw");
	assert_int_equal(vm.nnics, 0);
	conf_free(c);
}

static void
test_instantiate_errors(void **state)
{
	struct xvds_conf *c;
	const struct conf_template *t;
	struct vm_spec vm;
	char	 err[CONF_ERR_MAX], name[80], store[300];

	(void)state;
	c = load_ok("good-full.conf");
	t = conf_template(c, "desktop");

	memset(name, 'a', 64);
	name[64] = '\0';
	assert_int_equal(template_instantiate(t, "/srv", name, &vm, err,
	    sizeof(err)), -1);
	assert_non_null(strstr(err, "is longer than 63 characters"));
	name[63] = '\0';
	assert_int_equal(template_instantiate(t, "/srv", name, &vm, err,
	    sizeof(err)), 0);

	assert_int_equal(template_instantiate(t, "/srv", "", &vm, err,
	    sizeof(err)), -1);
	assert_non_null(strstr(err, "VM name \"\": expected"));
	assert_int_equal(template_instantiate(t, "/srv", "a/b", &vm, err,
	    sizeof(err)), -1);
	assert_int_equal(template_instantiate(t, "/srv", "-a", &vm, err,
	    sizeof(err)), -1);
	assert_int_equal(template_instantiate(t, "srv", "a", &vm, err,
	    sizeof(err)), -1);
	assert_non_null(strstr(err, "not an absolute path"));

	/* A store too long for the per-VM paths: nothing is half filled. */
	store[0] = '/';
	memset(store + 1, 's', 240);
	store[241] = '\0';
	assert_int_equal(template_instantiate(t, store, "lab-a-01", &vm, err,
	    sizeof(err)), -1);
	assert_non_null(strstr(err, "xvda: the VM's disk path"));
	assert_non_null(strstr(err, "longer than 255 bytes"));
	assert_string_equal(vm.name, "");
	assert_int_equal(vm.ndisks, 0);
	conf_free(c);
}

static void
test_vm_names(void **state)
{
	char	 buf[VMSPEC_NAME_MAX + 1], dir[VMSPEC_PATH_MAX + 1];

	(void)state;
	assert_int_equal(template_vm_name("lab-a", 1, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "lab-a-01");
	assert_int_equal(template_vm_name("lab-a", 10, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "lab-a-10");
	assert_int_equal(template_vm_name("lab-a", CONF_POOL_SIZE_MAX, buf,
	    sizeof(buf)), 0);
	assert_string_equal(buf, "lab-a-999");
	assert_int_equal(template_vm_name("p", 0, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "p-00");
	/* The longest pool name with the largest pool fits. */
	assert_int_equal(template_vm_name("a123456789012345678901234567890",
	    999, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "a123456789012345678901234567890-999");
	assert_int_equal(template_vm_name("lab-a", 1, buf, 8), -1);
	assert_int_equal(template_vm_name("1ab", 1, buf, sizeof(buf)), -1);
	assert_int_equal(template_vm_name("", 1, buf, sizeof(buf)), -1);
	assert_int_equal(template_vm_name("a.b", 1, buf, sizeof(buf)), -1);
	assert_int_equal(template_vm_name("a1234567890123456789012345678901",
	    1, buf, sizeof(buf)), -1);

	assert_int_equal(template_vm_dir("/srv/xvds", "lab-a-01", dir,
	    sizeof(dir)), 0);
	assert_string_equal(dir, "/srv/xvds/vms/lab-a-01");
	assert_int_equal(template_vm_dir("srv", "lab-a-01", dir, sizeof(dir)), -1);
	assert_int_equal(template_vm_dir("/srv", "../x", dir, sizeof(dir)), -1);
	assert_int_equal(template_vm_dir("/srv", "x", dir, 8), -1);
}

static void
check_mac_syntax(const char *mac)
{
	size_t	 i;

	assert_int_equal(strlen(mac), 17);
	assert_memory_equal(mac, "00:16:3e:", 9);
	for (i = 0; i < 17; i++) {
		if (i % 3 == 2)
			assert_int_equal(mac[i], ':');
		else
			assert_non_null(strchr("0123456789abcdef", mac[i]));
	}
}

static void
test_macs(void **state)
{
	char	 a[TEMPLATE_MAC_STRLEN], b[TEMPLATE_MAC_STRLEN];
	char	 vm[VMSPEC_NAME_MAX + 1];
	unsigned i, k, same = 0;

	(void)state;
	/*
	 * Pinned values: a new hash would give every VM a new MAC (and new
	 * DHCP leases) on upgrade.  Computed independently of
	 * common/template.c.
	 */
	assert_int_equal(template_mac("lab-a-01", 0, a, sizeof(a)), 0);
	assert_string_equal(a, "00:16:3e:70:85:99");
	assert_int_equal(template_mac("lab-a-01", 1, a, sizeof(a)), 0);
	assert_string_equal(a, "00:16:3e:70:83:39");
	assert_int_equal(template_mac("lab-a-02", 0, a, sizeof(a)), 0);
	assert_string_equal(a, "00:16:3e:fa:16:e0");
	assert_int_equal(template_mac("lab-a-02", 0, a, 17), -1);

	/* Stable across calls; unicast (00: the group bit is clear). */
	for (i = 1; i <= 200; i++) {
		assert_int_equal(template_vm_name("pool", i, vm, sizeof(vm)), 0);
		for (k = 0; k < VMSPEC_NICS_MAX; k++) {
			assert_int_equal(template_mac(vm, k, a, sizeof(a)), 0);
			assert_int_equal(template_mac(vm, k, b, sizeof(b)), 0);
			assert_string_equal(a, b);
			check_mac_syntax(a);
			if (k > 0) {
				template_mac(vm, k - 1, b, sizeof(b));
				same += strcmp(a, b) == 0;
			}
			template_mac("pool-other", k, b, sizeof(b));
			same += strcmp(a, b) == 0;
		}
	}
	/* 24 bits: no collision among so few is expected, and none occurs. */
	assert_int_equal(same, 0);

	/* The collision of bad-mac-collision.conf, that common/conf.c
	 * refuses. */
	assert_int_equal(template_mac_bits("lab-ck-14", 0),
	    template_mac_bits("lab-ae-23", 0));
}

static void
test_type_names(void **state)
{
	(void)state;
	assert_string_equal(vm_type_names[VM_TYPE_PV], "pv");
	assert_string_equal(vm_type_names[VM_TYPE_PVH], "pvh");
	assert_string_equal(vm_type_names[VM_TYPE_HVM], "hvm");
	assert_int_equal(template_type_from_name("pvh"), VM_TYPE_PVH);
	assert_int_equal(template_type_from_name("hvm"), VM_TYPE_HVM);
	assert_int_equal(template_type_from_name("PV"), -1);
	assert_int_equal(template_type_from_name(""), -1);
	assert_string_equal(template_disk_mode_names[TEMPLATE_DISK_OVERLAY],
	    "overlay");
}

/*
 * Random and mutated input: never a crash, never an error without a
 * message in "name:line: " form, and whatever is accepted prints and
 * parses back.  Run under the sanitizers in CI.
 */
static void
test_random_input(void **state)
{
	static const char alphabet[] = "{}\"\\#\n \t0123456789smhMGx/.-_"
	    "abcdefghijklmnopqrstuvwxyz\0\xff\r";
	char	 err[CONF_ERR_MAX], *seed, *buf, *printed;
	struct xvds_conf *c;
	FILE	*f;
	long	 seedlen;
	size_t	 len, k;
	int	 i, accepted = 0;

	(void)state;
	f = fopen(fixture("good-variety.conf"), "r");
	assert_non_null(f);
	fseek(f, 0, SEEK_END);
	seedlen = ftell(f);
	rewind(f);
	seed = malloc((size_t)seedlen);
	assert_non_null(seed);
	assert_int_equal(fread(seed, 1, (size_t)seedlen, f), (size_t)seedlen);
	fclose(f);
	buf = malloc((size_t)seedlen + 4096);
	assert_non_null(buf);

	srand(4242);
	for (i = 0; i < 20000; i++) {
		switch (i % 4) {
		case 0:
		case 1:
			/* A few bytes changed. */
			len = (size_t)seedlen;
			memcpy(buf, seed, len);
			for (k = 0; k < 1 + (size_t)(rand() % 4); k++)
				buf[rand() % (int)len] =
				    alphabet[rand() % (int)(sizeof(alphabet) - 1)];
			break;
		case 2:
			/* A piece cut out: blocks and statements left unfinished. */
			len = (size_t)seedlen;
			memcpy(buf, seed, len);
			k = (size_t)(rand() % (int)len);
			{
				size_t cut = (size_t)(rand() % 64);

				if (k + cut > len)
					cut = len - k;
				memmove(buf + k, buf + k + cut, len - k - cut);
				len -= cut;
			}
			break;
		default:
			/* Noise made of the grammar's own characters. */
			len = (size_t)(rand() % 4096);
			for (k = 0; k < len; k++)
				buf[k] = alphabet[rand() % (int)(sizeof(alphabet) - 1)];
			break;
		}
		err[0] = '\0';
		c = conf_parse("fuzz.conf", buf, len, err, sizeof(err));
		if (c == NULL) {
			assert_true(strncmp(err, "fuzz.conf:", 10) == 0);
			assert_true(strlen(err) > 12);
			continue;
		}
		accepted++;
		assert_true(conf_npools(c) <= CONF_POOLS_MAX);
		for (k = 0; k < conf_npools(c); k++)
			assert_non_null(conf_pool_at(c, k)->tmpl);
		printed = print_to_string(c);
		conf_free(c);
		c = parse_str(printed, err, sizeof(err));
		if (c == NULL)
			fail_msg("printed form refused: %s\n%s", err, printed);
		conf_free(c);
		free(printed);
	}
	/* Mutations inside comments and strings leave valid files. */
	assert_true(accepted > 0);
	free(buf);
	free(seed);
}

static int
group_teardown(void **state)
{
	(void)state;
	cleanup_tmp();
	return 0;
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_good_full),
		cmocka_unit_test(test_good_minimal),
		cmocka_unit_test(test_good_variety),
		cmocka_unit_test(test_print_roundtrip),
		cmocka_unit_test(test_print_format),
		cmocka_unit_test(test_bad_fixtures),
		cmocka_unit_test(test_file_errors),
		cmocka_unit_test(test_limits),
		cmocka_unit_test(test_crlf),
		cmocka_unit_test(test_reload_check),
		cmocka_unit_test(test_values),
		cmocka_unit_test(test_instantiate),
		cmocka_unit_test(test_instantiate_hvm_pv),
		cmocka_unit_test(test_instantiate_errors),
		cmocka_unit_test(test_vm_names),
		cmocka_unit_test(test_macs),
		cmocka_unit_test(test_type_names),
		cmocka_unit_test(test_random_input),
	};
	const char *srcdir = getenv("top_srcdir");

	snprintf(fixtures, sizeof(fixtures), "%s/tests/unit/conf",
	    srcdir != NULL ? srcdir : ".");
	return cmocka_run_group_tests_name("conf", tests, NULL, group_teardown);
}

/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * test_ctrl_conf.c — controller.conf (xvds/controller/conf.c): a full file, the
 * defaults, what is printed reads back the same, and errors that name the
 * line and the reason.
 */
#include <config.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "controller/conf.h"

static const char full[] =
    "# the controller\n"
    "database \"host=/run/postgresql dbname=xvds\"   # comment\n"
    "agent listen 10.0.0.1 port 9004\n"
    "ca-file \"/etc/xvds/ca.pem\"\n"
    "cert-file /etc/xvds/controller.pem\n"
    "key-file \"/etc/xvds/my key.pem\"\n"
    "\n"
    "broker listen :: port 9443\n"
    "policy 4C:30 threshold 70\n"
    "sample-interval 7\n"
    "op-timeout 30\n"
    "host-timeout 600\n"
    "upkeep give-up 4 interval 2 host-ops 3 cluster-ops 9\n"
    "broker-connections request-timeout 3 per-address 8\n";

static const char minimal[] =
    "ca-file ca.pem\ncert-file c.pem\nkey-file c.key\n";

static struct ctrl_conf *
parse(const char *text)
{
	char	 err[CTRL_CONF_ERR_MAX];
	struct ctrl_conf *c;

	c = ctrl_conf_parse(text, "t.conf", err, sizeof(err));
	if (c == NULL)
		fail_msg("%s", err);
	return c;
}

static void
test_full(void **state)
{
	struct ctrl_conf *c = parse(full);
	char	 name[16];

	(void)state;
	assert_string_equal(c->database, "host=/run/postgresql dbname=xvds");
	assert_string_equal(c->agent_addr, "10.0.0.1");
	assert_int_equal(c->agent_port, 9004);
	assert_string_equal(c->ca_file, "/etc/xvds/ca.pem");
	assert_string_equal(c->cert_file, "/etc/xvds/controller.pem");
	assert_string_equal(c->key_file, "/etc/xvds/my key.pem");
	assert_string_equal(c->broker_addr, "::");
	assert_int_equal(c->broker_port, 9443);
	assert_string_equal(policy_name(&c->policy, name, sizeof(name)), "4C");
	assert_true(c->policy.upper_rate_guest == 30);
	assert_string_equal(c->policy_name, "4C:30");
	assert_true(c->policy.threshold == 70);
	assert_int_equal(c->sample_interval, 7);
	assert_int_equal(c->op_timeout, 30);
	assert_int_equal(c->host_timeout, 600);
	assert_int_equal(c->upkeep_interval, 2);
	assert_int_equal(c->upkeep_host_ops, 3);
	assert_int_equal(c->upkeep_cluster_ops, 9);
	assert_int_equal(c->upkeep_give_up, 4);
	assert_int_equal(c->broker_conns_max, CTRL_BROKER_CONNS_MAX);
	assert_int_equal(c->broker_conns_per_addr, 8);
	assert_int_equal(c->broker_request_timeout, 3);
	ctrl_conf_free(c);
}

static void
test_defaults(void **state)
{
	struct ctrl_conf *c = parse(minimal);
	char	 name[16];

	(void)state;
	assert_string_equal(c->database, "");
	assert_string_equal(c->agent_addr, "::");
	assert_int_equal(c->agent_port, 8004);
	assert_int_equal(c->broker_port, CTRL_BROKER_PORT);
	assert_string_equal(policy_name(&c->policy, name, sizeof(name)), "3B");
	assert_true(c->policy.threshold == 80);
	assert_int_equal(c->sample_interval, 5);
	assert_int_equal(c->op_timeout, 120);
	assert_int_equal(c->host_timeout, 90);
	assert_int_equal(c->upkeep_interval, 5);
	assert_int_equal(c->upkeep_host_ops, 2);
	assert_int_equal(c->upkeep_cluster_ops, 20);
	assert_int_equal(c->upkeep_give_up, 3);
	assert_int_equal(c->broker_conns_max, 4096);
	assert_int_equal(c->broker_conns_per_addr, 256);
	assert_int_equal(c->broker_request_timeout, 10);
	ctrl_conf_free(c);
}

/* ctrl_conf_print's output parses to the same configuration. */
static void
test_print_reads_back(void **state)
{
	struct ctrl_conf *a = parse(full), *b;
	char	*buf = NULL, *buf2 = NULL;
	size_t	 len = 0, len2 = 0;
	FILE	*f;

	(void)state;
	assert_non_null(f = open_memstream(&buf, &len));
	assert_int_equal(ctrl_conf_print(a, f), 0);
	fclose(f);
	b = parse(buf);
	assert_non_null(f = open_memstream(&buf2, &len2));
	assert_int_equal(ctrl_conf_print(b, f), 0);
	fclose(f);
	assert_string_equal(buf, buf2);
	assert_string_equal(b->key_file, "/etc/xvds/my key.pem");
	assert_true(b->policy.upper_rate_guest == 30);
	assert_int_equal(b->upkeep_cluster_ops, 9);
	assert_int_equal(b->broker_conns_per_addr, 8);
	ctrl_conf_free(a);
	ctrl_conf_free(b);
	free(buf);
	free(buf2);
}

static void
test_errors(void **state)
{
	static const struct {
		const char *text, *want;
	} t[] = {
		{ "bogus 1\n", "t.conf:1: unknown keyword \"bogus\"" },
		{ "ca-file a\nca-file b\n", "t.conf:2: ca-file given twice" },
		{ "agent listen\n", "t.conf:1: usage: agent listen ADDRESS" },
		{ "agent bind x\n", "t.conf:1: agent: \"listen\" expected" },
		{ "agent listen x port 0\n", "t.conf:1: port: \"0\" is not a number from 1 to 65535" },
		{ "agent listen x port 65536\n", "is not a number from 1 to 65535" },
		{ "broker listen x pert 5\n", "\"port\" expected" },
		{ "policy 9Z\n", "t.conf:1: policy: unknown \"9Z\"" },
		{ "policy 3B threshold 101\n", "threshold: \"101\" is not a number from 1 to 100" },
		{ "policy 3B limit 80\n", "\"threshold\" expected" },
		{ "sample-interval 0\n", "sample-interval: \"0\" is not a number from 1 to 3600" },
		{ "sample-interval -5\n", "is not a number" },
		{ "sample-interval 5x\n", "is not a number" },
		{ "op-timeout\n", "usage: op-timeout SECONDS" },
		{ "op-timeout 3601\n", "from 1 to 3600" },
		{ "host-timeout 86401\n", "from 1 to 86400" },
		{ "database \"open\n", "t.conf:1: unterminated string" },
		{ "database \"a\"b\n", "text after a closing quote" },
		{ "database a\"b\n", "a quote inside a word" },
		{ "ca-file \"\"\n", "ca-file: an empty path" },
		{ "a b c d e f g h i j k\n", "too many words" },
		{ "upkeep\n", "usage: upkeep [interval N]" },
		{ "upkeep interval\n", "usage: upkeep" },
		{ "upkeep interval 0\n", "interval: \"0\" is not a number from 1 to 3600" },
		{ "upkeep host-ops 2 host-ops 3\n", "upkeep: host-ops given twice" },
		{ "upkeep speed 2\n", "upkeep: unknown \"speed\"" },
		{ "upkeep give-up x\n", "give-up: \"x\" is not a number" },
		{ "broker-connections\n", "usage: broker-connections [max N]" },
		{ "broker-connections max 0\n", "max: \"0\" is not a number from 1 to 65536" },
		{ "broker-connections per-address 1 per-address 2\n", "broker-connections: per-address given twice" },
		{ "broker-connections request-timeout 3601\n", "from 1 to 3600" },
		{ "broker-connections idle 5\n", "broker-connections: unknown \"idle\"" },
		{ "ca-file a\ncert-file b\n", "t.conf: ca-file, cert-file and key-file are required" },
	};
	char	 err[CTRL_CONF_ERR_MAX];
	size_t	 i;

	(void)state;
	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		err[0] = '\0';
		assert_null(ctrl_conf_parse(t[i].text, "t.conf", err, sizeof(err)));
		if (strstr(err, t[i].want) == NULL)
			fail_msg("%s: got \"%s\", want \"%s\"", t[i].text, err,
			    t[i].want);
	}
}

/* admin-socket (xvds-admin(7)): its default, a path, and its errors. */
static void
test_admin_socket(void **state)
{
	struct ctrl_conf *c = parse(minimal);
	char	 err[CTRL_CONF_ERR_MAX], *buf = NULL;
	size_t	 len = 0;
	FILE	*f;

	(void)state;
	assert_string_equal(c->admin_socket, CTRL_ADMIN_SOCKET_PATH);
	ctrl_conf_free(c);
	c = parse("ca-file a\ncert-file b\nkey-file c\n"
	    "admin-socket \"/tmp/x y/admin.sock\"\n");
	assert_string_equal(c->admin_socket, "/tmp/x y/admin.sock");
	assert_non_null(f = open_memstream(&buf, &len));
	assert_int_equal(ctrl_conf_print(c, f), 0);
	fclose(f);
	assert_non_null(strstr(buf, "admin-socket \"/tmp/x y/admin.sock\"\n"));
	free(buf);
	ctrl_conf_free(c);
	assert_null(ctrl_conf_parse("admin-socket run/a.sock\n", "t.conf", err,
	    sizeof(err)));
	assert_non_null(strstr(err, "t.conf:1: admin-socket: an absolute path"));
	assert_null(ctrl_conf_parse("admin-socket\n", "t.conf", err,
	    sizeof(err)));
	assert_non_null(strstr(err, "usage: admin-socket"));
	assert_null(ctrl_conf_parse("admin-socket /a\nadmin-socket /b\n",
	    "t.conf", err, sizeof(err)));
	assert_non_null(strstr(err, "t.conf:2: admin-socket given twice"));
}

static void
test_load(void **state)
{
	char	 err[CTRL_CONF_ERR_MAX], path[] = "/tmp/xvds-ctrl-conf-XXXXXX";
	struct ctrl_conf *c;
	FILE	*f;
	int	 fd;

	(void)state;
	assert_null(ctrl_conf_load("/nonexistent/controller.conf", err,
	    sizeof(err)));
	assert_non_null(strstr(err, "/nonexistent/controller.conf: cannot open: No such file"));
	assert_true((fd = mkstemp(path)) != -1);
	assert_non_null(f = fdopen(fd, "w"));
	fputs(minimal, f);
	fclose(f);
	assert_non_null(c = ctrl_conf_load(path, err, sizeof(err)));
	ctrl_conf_free(c);
	unlink(path);
}

/* A reload keeps what cannot change live, and says which. */
static void
test_keep_fixed(void **state)
{
	struct ctrl_conf *old = parse(full), *c;
	char	 changed[256];

	(void)state;
	/* The same file: nothing to keep. */
	c = parse(full);
	assert_int_equal(ctrl_conf_keep_fixed(c, old, changed, sizeof(changed)),
	    0);
	assert_string_equal(changed, "");
	ctrl_conf_free(c);
	/* Everything differs: the live settings are taken, the rest kept. */
	c = parse("database \"dbname=other\"\nagent listen 10.0.0.1 port 9005\n"
	    "ca-file ca.pem\ncert-file c.pem\nkey-file c.key\n"
	    "broker listen :: port 9443\npolicy 2A threshold 60\n"
	    "sample-interval 3\nadmin-socket /run/other.sock\n");
	assert_int_equal(ctrl_conf_keep_fixed(c, old, changed, sizeof(changed)),
	    6);
	assert_string_equal(changed, "database, agent listen, ca-file, "
	    "cert-file, key-file, admin-socket");
	assert_string_equal(c->database, "host=/run/postgresql dbname=xvds");
	assert_int_equal(c->agent_port, 9004);
	assert_string_equal(c->key_file, "/etc/xvds/my key.pem");
	assert_string_equal(c->admin_socket, old->admin_socket);
	assert_string_equal(c->policy_name, "2A");
	assert_true(c->policy.threshold == 60);
	assert_int_equal(c->sample_interval, 3);
	/* A short buffer: cut, never overrun. */
	ctrl_conf_free(c);
	c = parse(minimal);
	assert_int_equal(ctrl_conf_keep_fixed(c, old, changed, 12), 6);
	assert_string_equal(changed, "database, a");
	ctrl_conf_free(c);
	ctrl_conf_free(old);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_full),
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_print_reads_back),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_load),
		cmocka_unit_test(test_admin_socket),
		cmocka_unit_test(test_keep_fixed),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

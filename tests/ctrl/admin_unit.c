/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * admin_unit.c — the admin socket (xvds/controller/admin.c,
 * controller/admin_cmd.c) without a database, so that it runs under the
 * sanitizers with the unit tests: the socket's mode, a stale socket replaced
 * and a live one left alone, the standby's answer, the framing (long lines,
 * blank lines, several requests in one write), the strict decoding of every
 * kind of bad argument, policy.show (no SQL), and a request whose controller
 * steps down under it.  tests/ctrl/admin.test has the SQL.
 */
#include <config.h>

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <event2/event.h>
#include <jansson.h>

#include "controller/admin.h"
#include "controller/conf.h"
#include "db/db.h"
#include "run_loop.h"

static struct {
	struct event_base *base;
	struct ctrl_conf *conf;
	char	 dir[64];
	char	 path[96];
} T;

static int
setup(void **state)
{
	char	 err[CTRL_CONF_ERR_MAX], text[256];

	(void)state;
	snprintf(T.dir, sizeof(T.dir), "/tmp/xvds-admin-unit.XXXXXX");
	assert_non_null(mkdtemp(T.dir));
	snprintf(T.path, sizeof(T.path), "%s/run/c.sock", T.dir);
	snprintf(text, sizeof(text), "ca-file a\ncert-file b\nkey-file c\n"
	    "policy 4C:30 threshold 70\nsample-interval 4\n"
	    "admin-socket \"%s\"\n", T.path);
	assert_non_null(T.conf = ctrl_conf_parse(text, "t.conf", err,
	    sizeof(err)));
	assert_non_null(T.base = event_base_new());
	return 0;
}

static int
teardown(void **state)
{
	char	 run[160];

	(void)state;
	ctrl_admin_stop();
	event_base_free(T.base);
	ctrl_conf_free(T.conf);
	unlink(T.path);
	snprintf(run, sizeof(run), "%s/run", T.dir);
	rmdir(run);
	rmdir(T.dir);
	return 0;
}

static int
client(void)
{
	struct sockaddr_un sun;
	int	 fd;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", T.path);
	assert_int_not_equal(fd = socket(AF_UNIX, SOCK_STREAM, 0), -1);
	assert_int_equal(connect(fd, (struct sockaddr *)&sun, sizeof(sun)), 0);
	assert_int_equal(fcntl(fd, F_SETFL, O_NONBLOCK), 0);
	return fd;
}

/*
 * Sends text (whole) on a new connection and runs the loop until want
 * reply lines came back, into out; returns how many, -1 after a close.
 */
static int
ask(const char *text, size_t len, int want, char *out, size_t outlen)
{
	size_t	 off = 0, got = 0;
	ssize_t	 n;
	int	 fd = client(), lines = 0, closed = 0, i;

	out[0] = '\0';
	for (i = 0; i < 400 && lines < want && !closed; i++) {
		if (off < len && (n = write(fd, text + off, len - off)) > 0)
			off += (size_t)n;
		event_base_loop(T.base, EVLOOP_ONCE | EVLOOP_NONBLOCK);
		while ((n = read(fd, out + got, outlen - got - 1)) > 0) {
			got += (size_t)n;
			out[got] = '\0';
		}
		if (n == 0)
			closed = 1;
		lines = 0;
		for (const char *p = out; (p = strchr(p, '\n')) != NULL; p++)
			lines++;
		if (lines < want && !closed)
			poll(NULL, 0, 5);
	}
	close(fd);
	return closed && lines < want ? -1 : lines;
}

static json_t *
ask1(const char *line)
{
	char	 out[4096];
	json_t	*r;

	assert_int_equal(ask(line, strlen(line), 1, out, sizeof(out)), 1);
	r = json_loads(out, 0, NULL);
	if (r == NULL)
		fail_msg("not a JSON reply: %s", out);
	return r;
}

static void
assert_error(json_t *r, json_int_t id, const char *error, const char *msg)
{
	const char *m = json_string_value(json_object_get(r, "message"));

	assert_int_equal(json_integer_value(json_object_get(r, "v")), 1);
	if (id < 0)
		assert_true(json_is_null(json_object_get(r, "id")));
	else
		assert_int_equal(json_integer_value(json_object_get(r, "id")),
		    id);
	assert_true(json_is_false(json_object_get(r, "ok")));
	assert_string_equal(json_string_value(json_object_get(r, "error")),
	    error);
	if (m == NULL || strstr(m, msg) == NULL)
		fail_msg("message \"%s\", want \"%s\"", m ? m : "", msg);
	json_decref(r);
}

/* The socket: its mode, a stale one replaced, a live one left alone. */
static void
test_socket(void **state)
{
	struct sockaddr_un sun;
	struct stat st;
	char	 run[160];
	int	 fd;

	(void)state;
	snprintf(run, sizeof(run), "%s/run", T.dir);
	assert_int_equal(mkdir(run, 0700), 0);
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", T.path);
	/* Somebody listening: not taken over. */
	assert_int_not_equal(fd = socket(AF_UNIX, SOCK_STREAM, 0), -1);
	assert_int_equal(bind(fd, (struct sockaddr *)&sun, sizeof(sun)), 0);
	assert_int_equal(listen(fd, 1), 0);
	assert_int_equal(ctrl_admin_start(T.base, T.conf), -1);
	assert_int_equal(stat(T.path, &st), 0);
	/* Nobody listening any more: a stale socket, replaced. */
	close(fd);
	assert_int_equal(ctrl_admin_start(T.base, T.conf), 0);
	assert_int_equal(stat(T.path, &st), 0);
	assert_true(S_ISSOCK(st.st_mode));
	assert_int_equal(st.st_mode & 0777, 0600);
	ctrl_admin_stop();
	assert_int_equal(stat(T.path, &st), -1);
	/* A file that is not a socket is nobody's to remove. */
	assert_int_not_equal(fd = open(T.path, O_CREAT | O_WRONLY, 0600), -1);
	close(fd);
	assert_int_equal(ctrl_admin_start(T.base, T.conf), -1);
	assert_int_equal(unlink(T.path), 0);
}

static void
test_standby(void **state)
{
	(void)state;
	assert_int_equal(ctrl_admin_start(T.base, T.conf), 0);
	assert_error(ask1("{\"v\":1,\"id\":7,\"cmd\":\"host.list\"}\n"), 7,
	    "standby", "standby: not the active controller");
	/* Even for a command it would refuse: the operator asks elsewhere. */
	assert_error(ask1("{\"v\":1,\"id\":8,\"cmd\":\"no.such\"}\n"), 8,
	    "standby", "standby");
	/* What has no id is malformed first. */
	assert_error(ask1("{\"v\":1,\"cmd\":\"host.list\"}\n"), -1,
	    "invalid", "\"id\" must be an integer");
	assert_error(ask1("nonsense\n"), -1, "invalid", "not JSON");
}

/* Lines: too long, blank, several in one write, the last unfinished. */
static void
test_framing(void **state)
{
	char	*big, out[8192];
	size_t	 n = CTRL_ADMIN_LINE_MAX + 100;
	const char two[] = "\n   \n{\"v\":1,\"id\":1,\"cmd\":\"a\"}\n"
	    "{\"v\":1,\"id\":2,\"cmd\":\"b\"}\n{\"v\":1,";

	(void)state;
	assert_int_equal(ctrl_admin_start(T.base, T.conf), 0);
	assert_non_null(big = malloc(n + 1));
	memset(big, 'x', n);
	big[n] = '\0';
	assert_int_equal(ask(big, n, 2, out, sizeof(out)), -1);
	assert_non_null(strstr(out, "request longer than 65536 bytes"));
	/* Exactly the limit is a line, if a bad one. */
	big[CTRL_ADMIN_LINE_MAX] = '\n';
	assert_int_equal(ask(big, CTRL_ADMIN_LINE_MAX + 1, 1, out,
	    sizeof(out)), 1);
	assert_non_null(strstr(out, "not JSON"));
	free(big);
	/* A NUL byte is no white space. */
	assert_int_equal(ask(" \0 \n", 4, 1, out, sizeof(out)), 1);
	assert_non_null(strstr(out, "not JSON"));
	assert_int_equal(ask(two, sizeof(two) - 1, 2, out, sizeof(out)), 2);
	assert_non_null(strstr(out, "\"id\":1,"));
	assert_non_null(strstr(strchr(out, '\n'), "\"id\":2,"));
}

/* Serving, every kind of bad argument is refused before any SQL. */
static void
test_decoding(void **state)
{
	static const struct {
		const char *line, *msg;
	} bad[] = {
		{ "[]", "not a JSON object" },
		{ "{\"v\":1,\"id\":\"1\",\"cmd\":\"pool.list\"}", "\"id\" must" },
		{ "{\"v\":1,\"id\":1,\"id\":2,\"cmd\":\"pool.list\"}", "duplicate" },
		/* jansson refuses NUL in strings: the whole line is not JSON. */
		{ "{\"v\":1,\"id\":3,\"cmd\":\"pool.show\",\"name\":\"a\\u0000b\"}", "not JSON" },
		{ "{\"id\":3,\"cmd\":\"pool.list\"}", "\"v\" must be 1" },
		{ "{\"v\":2,\"id\":3,\"cmd\":\"pool.list\"}", "\"v\" must be 1" },
		{ "{\"v\":1.0,\"id\":3,\"cmd\":\"pool.list\"}", "\"v\" must be 1" },
		{ "{\"v\":1,\"id\":3}", "unknown command (none)" },
		{ "{\"v\":1,\"id\":3,\"cmd\":7}", "unknown command" },
		{ "{\"v\":1,\"id\":3,\"cmd\":\"pool.drop\"}", "unknown command pool.drop" },
		{ "{\"v\":1,\"id\":3,\"cmd\":\"pool.list\",\"all\":true}",
		  "pool.list takes no argument \"all\"" },
		{ "{\"v\":1,\"id\":3,\"cmd\":\"pool.show\"}", "pool.show needs \"name\"" },
		{ "{\"v\":1,\"id\":3,\"cmd\":\"pool.show\",\"name\":null}", "\"name\" must be a string" },
		{ "{\"v\":1,\"id\":3,\"cmd\":\"pool.show\",\"name\":\"\"}", "\"name\" must be a string" },
		{ "{\"v\":1,\"id\":3,\"cmd\":\"pool.show\",\"name\":\"a\\nb\"}", "no" },
		{ "{\"v\":1,\"id\":3,\"cmd\":\"pool.show\",\"name\":\"a\\u007fb\"}", "control" },
		{ "{\"v\":1,\"id\":3,\"cmd\":\"pool.resize\",\"name\":\"p\",\"size\":1.5}",
		  "\"size\" must be an integer" },
		{ "{\"v\":1,\"id\":3,\"cmd\":\"pool.resize\",\"name\":\"p\",\"size\":2147483648}",
		  "from -2147483648 to 2147483647" },
		{ "{\"v\":1,\"id\":3,\"cmd\":\"session.end\",\"session\":0}", "from 1 to" },
		{ "{\"v\":1,\"id\":3,\"cmd\":\"session.list\",\"all\":1}", "true or false" },
		{ "{\"v\":1,\"id\":3,\"cmd\":\"events.tail\",\"n\":10001}", "from 1 to 10000" },
		{ "{\"v\":1,\"id\":3,\"cmd\":\"events.tail\",\"after\":-1}", "from 0 to" },
	};
	char	 err[256], line[512];
	struct db *db;
	size_t	 i;

	(void)state;
	assert_int_equal(ctrl_admin_start(T.base, T.conf), 0);
	/* A database nobody answers: no request here must reach it. */
	assert_non_null(db = db_open(T.base, "host=/nonexistent connect_timeout=1",
	    err, sizeof(err)));
	ctrl_admin_serve(db);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(line, sizeof(line), "%s\n", bad[i].line);
		assert_error(ask1(line), i < 4 ? -1 : 3, "invalid", bad[i].msg);
	}
	assert_int_equal(db_pending(db), 0);
	ctrl_admin_serve(NULL);
	db_close(db);
}

/* policy.show needs no SQL: the configuration, as the snapshots name it. */
static void
test_policy_show(void **state)
{
	char	 err[256];
	struct db *db;
	json_t	*r, *p;

	(void)state;
	assert_int_equal(ctrl_admin_start(T.base, T.conf), 0);
	assert_non_null(db = db_open(T.base, "host=/nonexistent", err,
	    sizeof(err)));
	ctrl_admin_serve(db);
	r = ask1("{\"v\":1,\"id\":-5,\"cmd\":\"policy.show\"}\n");
	assert_int_equal(json_integer_value(json_object_get(r, "id")), -5);
	assert_true(json_is_true(json_object_get(r, "ok")));
	p = json_object_get(json_object_get(r, "result"), "params");
	assert_string_equal(json_string_value(json_object_get(p, "policy")),
	    "4C:30");
	assert_true(json_real_value(json_object_get(p, "threshold")) == 70);
	assert_true(json_real_value(json_object_get(p, "UPPER_RATE_GUEST")) ==
	    30);
	assert_int_equal(json_integer_value(json_object_get(json_object_get(r,
	    "result"), "sample_interval")), 4);
	json_decref(r);
	ctrl_admin_serve(NULL);
	db_close(db);
}

/* A request waiting for the database when the controller steps down. */
static void
test_step_down(void **state)
{
	const char req[] = "{\"v\":1,\"id\":9,\"cmd\":\"pool.list\"}\n";
	char	 err[256], out[1024];
	struct db *db;
	ssize_t	 n;
	size_t	 got = 0;
	int	 fd, i;

	(void)state;
	assert_int_equal(ctrl_admin_start(T.base, T.conf), 0);
	assert_non_null(db = db_open(T.base, "host=/nonexistent", err,
	    sizeof(err)));
	ctrl_admin_serve(db);
	fd = client();
	assert_int_equal(write(fd, req, sizeof(req) - 1),
	    (ssize_t)(sizeof(req) - 1));
	for (i = 0; i < 100 && db_pending(db) == 0; i++) {
		event_base_loop(T.base, EVLOOP_ONCE | EVLOOP_NONBLOCK);
		poll(NULL, 0, 2);
	}
	assert_int_equal(db_pending(db), 1);
	/* As controller/main.c does: refuse first, then close the
	 * connection. */
	ctrl_admin_serve(NULL);
	db_close(db);
	run_for(T.base, 50);
	while ((n = read(fd, out + got, sizeof(out) - got - 1)) > 0)
		got += (size_t)n;
	out[got] = '\0';
	close(fd);
	assert_non_null(strstr(out, "\"id\":9,\"ok\":false,\"error\":\"standby\""));
	assert_non_null(strstr(out, "stepped down"));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_socket, setup, teardown),
		cmocka_unit_test_setup_teardown(test_standby, setup, teardown),
		cmocka_unit_test_setup_teardown(test_framing, setup, teardown),
		cmocka_unit_test_setup_teardown(test_decoding, setup, teardown),
		cmocka_unit_test_setup_teardown(test_policy_show, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_step_down, setup,
		    teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

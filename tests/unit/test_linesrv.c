/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * test_linesrv.c — the line sockets' shared pieces (xvds/linesrv/): a
 * command table's lookup and unknown members; a line connection's framing
 * over a socketpair: lines in order, one request at a time until resumed,
 * a line too long, and the close once the last reply is written.
 */
#include <config.h>

#include <sys/socket.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <event2/event.h>
#include <jansson.h>

#include "linesrv/cmd.h"
#include "linesrv/linesrv.h"
#include "run_loop.h"

/* A table whose rows begin with the shared shape, as admin_cmd.c's do. */
struct row {
	struct linesrv_cmd spec;
	int	 extra;
};

static const struct row rows[] = {
	{ { "a.one", { { "name", 0, 1, 0, 0 } }, NULL, 0, "one" }, 1 },
	{ { "a.six", { { "1", 0, 0, 0, 0 }, { "2", 0, 0, 0, 0 },
	    { "3", 0, 0, 0, 0 }, { "4", 0, 0, 0, 0 }, { "5", 0, 0, 0, 0 },
	    { "6", 0, 0, 0, 0 } }, NULL, 0, "six" }, 2 },
};

static void
test_cmd_find(void **state)
{
	const struct linesrv_cmd *cmd;

	(void)state;
	cmd = linesrv_cmd_find(rows, 2, sizeof(rows[0]), "a.six");
	assert_ptr_equal(cmd, &rows[1].spec);
	assert_int_equal(((const struct row *)cmd)->extra, 2);
	assert_int_equal(linesrv_cmd_nargs(cmd), 6);
	assert_int_equal(linesrv_cmd_nargs(&rows[0].spec), 1);
	assert_null(linesrv_cmd_find(rows, 2, sizeof(rows[0]), "a.two"));
}

static void
test_cmd_unknown_member(void **state)
{
	json_t	*req;

	(void)state;
	req = json_pack("{sisiss}", "v", 1, "id", 3, "cmd", "a.one");
	assert_null(linesrv_cmd_unknown_member(&rows[0].spec, req));
	json_object_set_new(req, "name", json_string("x"));
	assert_null(linesrv_cmd_unknown_member(&rows[0].spec, req));
	json_object_set_new(req, "nmae", json_string("x"));
	assert_string_equal(linesrv_cmd_unknown_member(&rows[0].spec, req),
	    "nmae");
	json_decref(req);
}

/* What the connection's user saw. */
struct seen {
	struct linesrv_conn *conn;
	char	 lines[8][16];
	int	 nlines;
	int	 too_long;
	int	 closed;
	short	 close_what;
};

static void
on_line(void *arg, const char *line, size_t len)
{
	struct seen *s = arg;

	if (s->nlines < 8)
		snprintf(s->lines[s->nlines], sizeof(s->lines[0]), "%.*s",
		    (int)len, line);
	s->nlines++;
}

static void
on_too_long(void *arg)
{
	struct seen *s = arg;

	s->too_long++;
	linesrv_conn_send_line(s->conn, "too long");
	linesrv_conn_finish(s->conn, 0);
}

static void
on_close(void *arg, short what)
{
	struct seen *s = arg;

	s->closed++;
	s->close_what = what;
	linesrv_conn_free(s->conn);
	s->conn = NULL;
}

static const struct linesrv_conn_ops ops = {
	.on_line = on_line,
	.on_too_long = on_too_long,
	.on_close = on_close,
};

/* A connection on one end of a socketpair; the other end's descriptor. */
static int
conn_pair(struct event_base *base, const struct linesrv_conn_conf *conf,
    struct seen *s)
{
	int	 sv[2];

	memset(s, 0, sizeof(*s));
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	s->conn = linesrv_conn_new(base, sv[0], NULL, conf, &ops, s);
	assert_non_null(s->conn);
	return sv[1];
}

static void
test_conn_one_request(void **state)
{
	static const struct linesrv_conn_conf conf = { .line_max = 8,
	    .one_request = 1, .wipe = 1 };
	struct event_base *base = event_base_new();
	struct seen s;
	int	 peer = conn_pair(base, &conf, &s);

	(void)state;
	assert_int_equal(write(peer, "a\nbb\nccc\n", 9), 9);
	assert_int_equal(run_until(base, &s.nlines, 1, 2000), 0);
	run_for(base, 50);
	assert_int_equal(s.nlines, 1);		/* held until resumed */
	assert_string_equal(s.lines[0], "a");
	linesrv_conn_resume(s.conn);
	linesrv_conn_resume(s.conn);
	assert_int_equal(s.nlines, 3);
	assert_string_equal(s.lines[1], "bb");
	assert_string_equal(s.lines[2], "ccc");
	/* Nine bytes and no newline: too long, answered, then closed. */
	linesrv_conn_resume(s.conn);
	assert_int_equal(write(peer, "123456789", 9), 9);
	assert_int_equal(run_until(base, &s.closed, 1, 2000), 0);
	assert_int_equal(s.too_long, 1);
	assert_int_equal(s.close_what, 0);
	close(peer);
	event_base_free(base);
}

static void
test_conn_peer_leaves(void **state)
{
	static const struct linesrv_conn_conf conf = { .line_max = 8 };
	struct event_base *base = event_base_new();
	struct seen s;
	int	 peer = conn_pair(base, &conf, &s);

	(void)state;
	assert_int_equal(write(peer, "x\ny\n", 4), 4);
	close(peer);
	assert_int_equal(run_until(base, &s.closed, 1, 2000), 0);
	assert_int_equal(s.nlines, 2);		/* not held: both at once */
	assert_true(s.close_what != 0);
	event_base_free(base);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cmd_find),
		cmocka_unit_test(test_cmd_unknown_member),
		cmocka_unit_test(test_conn_one_request),
		cmocka_unit_test(test_conn_peer_leaves),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

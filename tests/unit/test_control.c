/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * test_control.c — xvdsd's control socket (xvds/hostd/control.c) over the fake
 * VMs of tests/control/fake_xvdsd.c: every command's reply, pipelined
 * and out-of-order replies, malformed requests, oversized lines, clients
 * that leave before their reply, the client limit, peers that are not
 * root, a second daemon on the same socket and stale sockets.
 *
 * The test is both the daemon (hostd/control.c on a libevent loop) and its
 * clients (plain sockets); pump() runs the loop while a client waits.
 */
#include <config.h>

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <event2/event.h>
#include <jansson.h>

#include "hostd/control.h"
#include "fake_xvdsd.h"
#include "common/log.h"
#include "hostd/xvdsd.h"

#define WAIT_MS		3000	/* the longest a reply may take in a test */
#define NOID		INT64_MIN	/* a reply whose "id" is null */

struct cl {
	int		 fd;
	int		 eof;
	size_t		 len;
	char		*buf;
	size_t		 size;
};

static struct event_base *base;
static char	 dir[32], rundir[48], sock[80];

static int64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Lets the daemon side run for about ms milliseconds. */
static void
pump(int ms)
{
	int64_t	 end = now_ms() + ms;

	do {
		event_base_loop(base, EVLOOP_NONBLOCK);
		poll(NULL, 0, 1);
	} while (now_ms() < end);
}

/* Runs the loop until the fake daemon has n actions under way; false if
 * WAIT_MS passed first.  For a check that must not depend on how soon the
 * loop gets the CPU. */
static bool
pump_until_pending(unsigned n)
{
	int64_t	 end = now_ms() + WAIT_MS;

	while (fake_pending() != n) {
		if (now_ms() >= end)
			return false;
		pump(1);
	}
	return true;
}

static struct cl *
cl_open(void)
{
	struct sockaddr_un sun;
	struct cl *c;

	c = calloc(1, sizeof(*c));
	assert_non_null(c);
	c->size = 1 << 20;
	assert_non_null(c->buf = malloc(c->size));
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", sock);
	assert_true((c->fd = socket(AF_UNIX, SOCK_STREAM, 0)) >= 0);
	assert_int_equal(connect(c->fd, (struct sockaddr *)&sun, sizeof(sun)), 0);
	fcntl(c->fd, F_SETFL, O_NONBLOCK);
	pump(2);
	return c;
}

static void
cl_close(struct cl *c)
{
	if (c == NULL)
		return;
	close(c->fd);
	free(c->buf);
	free(c);
}

/* Sends everything, letting the daemon read while the socket is full. */
static void
cl_sendn(struct cl *c, const char *s, size_t len)
{
	int64_t	 end = now_ms() + WAIT_MS;
	ssize_t	 n;

	while (len > 0) {
		n = write(c->fd, s, len);
		if (n == -1) {
			assert_true(errno == EAGAIN);
			assert_true(now_ms() < end);
			pump(1);
			continue;
		}
		s += n;
		len -= (size_t)n;
	}
}

static void
cl_send(struct cl *c, const char *s)
{
	cl_sendn(c, s, strlen(s));
}

/* The next reply line, parsed; NULL if none within ms (or at EOF). */
static json_t *
cl_reply_within(struct cl *c, int ms)
{
	int64_t	 end = now_ms() + ms;
	json_error_t err;
	json_t	*j;
	char	*nl;
	ssize_t	 n;

	for (;;) {
		if ((nl = memchr(c->buf, '\n', c->len)) != NULL) {
			size_t	 linelen = (size_t)(nl - c->buf);

			j = json_loadb(c->buf, linelen, 0, &err);
			if (j == NULL)
				fail_msg("reply is not JSON: %s: %.*s", err.text,
				    (int)linelen, c->buf);
			memmove(c->buf, nl + 1, c->len - linelen - 1);
			c->len -= linelen + 1;
			return j;
		}
		if (c->eof || now_ms() >= end)
			return NULL;
		event_base_loop(base, EVLOOP_NONBLOCK);
		assert_true(c->len < c->size);
		n = read(c->fd, c->buf + c->len, c->size - c->len);
		if (n == 0)
			c->eof = 1;
		else if (n > 0)
			c->len += (size_t)n;
		else {
			assert_true(errno == EAGAIN || errno == ECONNRESET);
			if (errno == ECONNRESET)
				c->eof = 1;
			poll(NULL, 0, 1);
		}
	}
}

static json_t *
cl_reply(struct cl *c)
{
	json_t	*j = cl_reply_within(c, WAIT_MS);

	if (j == NULL)
		fail_msg("no reply within %d ms", WAIT_MS);
	return j;
}

/* True once the daemon closed the connection (within ms). */
static int
cl_eof_within(struct cl *c, int ms)
{
	json_t	*j = cl_reply_within(c, ms);

	if (j != NULL)
		fail_msg("a reply instead of EOF");
	return c->eof;
}

/* Checks the envelope of a reply; "id" must be null for NOID. */
static void
check_envelope(json_t *r, json_int_t id, int ok)
{
	json_t	*jid = json_object_get(r, "id");

	assert_true(json_is_object(r));
	assert_int_equal(json_integer_value(json_object_get(r, "v")), 1);
	if (id == NOID)
		assert_true(json_is_null(jid));
	else {
		assert_true(json_is_integer(jid));
		assert_int_equal(json_integer_value(jid), id);
	}
	assert_true(json_is_boolean(json_object_get(r, "ok")));
	assert_int_equal(json_is_true(json_object_get(r, "ok")), ok);
}

/* The result of a successful reply (r still owns it). */
static json_t *
ok_result(json_t *r, json_int_t id)
{
	json_t	*res;

	if (!json_is_true(json_object_get(r, "ok")))
		fail_msg("error %s: %s", json_string_value(json_object_get(r,
		    "error")), json_string_value(json_object_get(r, "message")));
	check_envelope(r, id, 1);
	res = json_object_get(r, "result");
	assert_true(json_is_object(res) || json_is_array(res));
	assert_null(json_object_get(r, "error"));
	return res;
}

static void
check_error(json_t *r, json_int_t id, const char *error, const char *text)
{
	const char *msg = json_string_value(json_object_get(r, "message"));

	check_envelope(r, id, 0);
	assert_string_equal(json_string_value(json_object_get(r, "error")), error);
	assert_non_null(msg);
	if (strstr(msg, text) == NULL)
		fail_msg("message \"%s\" lacks \"%s\"", msg, text);
	assert_null(json_object_get(r, "result"));
}

/* One request, its reply. */
static json_t *
call(struct cl *c, const char *req)
{
	cl_send(c, req);
	cl_send(c, "\n");
	return cl_reply(c);
}

static void
expect_error(struct cl *c, const char *req, json_int_t id, const char *error,
    const char *text)
{
	json_t	*r = call(c, req);

	check_error(r, id, error, text);
	json_decref(r);
}

static const char *
mstr(json_t *o, const char *key)
{
	const char *s = json_string_value(json_object_get(o, key));

	if (s == NULL)
		fail_msg("no string member %s", key);
	return s;
}

/* vm.<action> on name; the state it settles in. */
static void
expect_state(struct cl *c, const char *action, const char *name,
    const char *state)
{
	char	 req[256];
	json_t	*r, *res;

	snprintf(req, sizeof(req), "{\"v\":1,\"id\":7,\"cmd\":\"vm.%s\","
	    "\"name\":\"%s\"}", action, name);
	r = call(c, req);
	res = ok_result(r, 7);
	assert_string_equal(mstr(res, "name"), name);
	if (strcmp(mstr(res, "state"), state) != 0)
		fail_msg("%s %s: %s, expected %s", action, name,
		    mstr(res, "state"), state);
	json_decref(r);
}

static int
setup(void **state)
{
	(void)state;
	assert_non_null(base = event_base_new());
	fake_init(base, 10);
	snprintf(dir, sizeof(dir), "/tmp/test_control.XXXXXX");
	assert_non_null(mkdtemp(dir));
	snprintf(rundir, sizeof(rundir), "%s/run", dir);
	snprintf(sock, sizeof(sock), "%s/xvdsd.sock", rundir);
	assert_int_equal(control_init(base, sock), 0);
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	control_close();
	/* Whatever is still under way ends now: orphans are freed. */
	fake_fini();
	event_base_free(base);
	fake_host_fail(0);
	unlink(sock);
	rmdir(rundir);
	rmdir(dir);
	return 0;
}

static void
test_socket_modes(void **state)
{
	struct stat st;

	(void)state;
	assert_int_equal(stat(rundir, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0700);
	assert_int_equal(lstat(sock, &st), 0);
	assert_true(S_ISSOCK(st.st_mode));
	assert_int_equal(st.st_mode & 07777, 0600);
}

static void
test_host_info(void **state)
{
	struct cl *c = cl_open();
	json_t	*r, *res;

	(void)state;
	r = call(c, "{\"v\":1,\"id\":1,\"cmd\":\"host.info\"}");
	res = ok_result(r, 1);
	assert_string_equal(mstr(res, "hostname"), "fake-host");
	assert_string_equal(mstr(res, "hypervisor"), "fake");
	assert_int_equal(json_integer_value(json_object_get(res, "rvm")), 3);
	assert_int_equal(json_integer_value(json_object_get(res, "tcpu")), 800);
	assert_int_equal(json_integer_value(json_object_get(res, "fcpu")), 788);
	assert_int_equal(json_integer_value(json_object_get(res, "acpu")), 600);
	assert_int_equal(json_integer_value(json_object_get(res, "tmem_mib")), 32768);
	assert_int_equal(json_integer_value(json_object_get(res, "fmem_mib")), 26624);
	assert_int_equal(json_integer_value(json_object_get(res, "amem_mib")), 6144);
	assert_int_equal(json_object_size(res), 9);
	json_decref(r);

	fake_host_fail(1);
	expect_error(c, "{\"v\":1,\"id\":2,\"cmd\":\"host.info\"}", 2, "internal",
	    "cannot read the host's figures");
	cl_close(c);
}

static void
test_vm_list(void **state)
{
	static const char *names[] = { "desk-01", "desk-02", "desk-03",
	    "home-ann", "desk-bad", "desk-slow" };
	struct cl *c = cl_open();
	json_t	*r, *res, *vm;
	size_t	 i;

	(void)state;
	r = call(c, "{\"v\":1,\"id\":3,\"cmd\":\"vm.list\"}");
	res = ok_result(r, 3);
	assert_true(json_is_array(res));
	assert_int_equal(json_array_size(res), 6);
	json_array_foreach(res, i, vm) {
		assert_string_equal(mstr(vm, "name"), names[i]);
		assert_int_equal(json_object_size(vm), 16);
		assert_true(json_is_null(json_object_get(vm, "moved_to")));
	}
	vm = json_array_get(res, 3);
	assert_string_equal(mstr(vm, "kind"), "pvm");
	assert_string_equal(mstr(vm, "state"), "inactive");
	assert_string_equal(mstr(vm, "pool"), "home");
	assert_true(json_is_null(json_object_get(vm, "domid")));
	assert_string_equal(mstr(json_array_get(res, 1), "state"), "paused");
	assert_string_equal(mstr(json_array_get(res, 4), "pool"), "");
	json_decref(r);
	cl_close(c);
}

static void
test_vm_show(void **state)
{
	struct cl *c = cl_open();
	json_t	*r, *res;
	double	 cpu;

	(void)state;
	r = call(c, "{\"v\":1,\"id\":4,\"cmd\":\"vm.show\",\"name\":\"desk-01\"}");
	res = ok_result(r, 4);
	assert_string_equal(mstr(res, "name"), "desk-01");
	assert_string_equal(mstr(res, "pool"), "desk");
	assert_string_equal(mstr(res, "template"), "win10");
	assert_string_equal(mstr(res, "kind"), "cvm");
	assert_string_equal(mstr(res, "state"), "ready");
	assert_int_equal(json_integer_value(json_object_get(res, "since")),
	    1790000000);
	assert_int_equal(json_integer_value(json_object_get(res, "domid")), 1);
	assert_int_equal(json_integer_value(json_object_get(res, "vcpus")), 2);
	assert_int_equal(json_integer_value(json_object_get(res, "max_vcpus")), 4);
	assert_int_equal(json_integer_value(json_object_get(res, "memory_mib")),
	    2048);
	assert_int_equal(json_integer_value(json_object_get(res,
	    "max_memory_mib")), 4096);
	cpu = json_number_value(json_object_get(res, "cpu_pct"));
	assert_true(cpu > 12.33 && cpu < 12.36);
	assert_string_equal(mstr(res, "boot_id"), "0123456789abcdef0123456789abcdef");
	assert_string_equal(mstr(res, "addr"), "10.0.0.11");
	assert_string_equal(mstr(res, "last_error"), "");
	json_decref(r);

	r = call(c, "{\"v\":1,\"id\":5,\"cmd\":\"vm.show\",\"name\":\"desk-03\"}");
	res = ok_result(r, 5);
	assert_string_equal(mstr(res, "state"), "saved");
	assert_true(json_is_null(json_object_get(res, "domid")));
	json_decref(r);

	expect_error(c, "{\"v\":1,\"id\":6,\"cmd\":\"vm.show\",\"name\":\"nope\"}",
	    6, "no-such-vm", "no VM named nope");
	cl_close(c);
}

/* A CVM through its whole life, one request at a time. */
static void
test_vm_actions(void **state)
{
	struct cl *c = cl_open();
	json_t	*r;

	(void)state;
	expect_state(c, "pause", "desk-01", "paused");
	expect_state(c, "unpause", "desk-01", "ready");
	expect_state(c, "pause", "desk-01", "paused");
	expect_state(c, "save", "desk-01", "saved");
	r = call(c, "{\"v\":1,\"id\":8,\"cmd\":\"vm.show\",\"name\":\"desk-01\"}");
	assert_true(json_is_null(json_object_get(ok_result(r, 8), "domid")));
	json_decref(r);
	expect_state(c, "restore", "desk-01", "ready");
	r = call(c, "{\"v\":1,\"id\":9,\"cmd\":\"vm.show\",\"name\":\"desk-01\"}");
	assert_true(json_is_integer(json_object_get(ok_result(r, 9), "domid")));
	json_decref(r);
	/* No action: the fake replies from within vm_request(). */
	expect_state(c, "session-start", "desk-01", "running");
	expect_state(c, "session-end", "desk-01", "ready");
	expect_state(c, "reset", "desk-01", "ready");
	expect_state(c, "shutdown", "desk-01", "inactive");
	expect_state(c, "start", "desk-01", "ready");
	expect_state(c, "destroy", "desk-01", "inactive");
	expect_state(c, "start", "home-ann", "ready");
	expect_state(c, "session-start", "home-ann", "running");
	expect_state(c, "session-end", "home-ann", "inactive");
	cl_close(c);
}

static void
test_vm_action_errors(void **state)
{
	struct cl *c = cl_open();
	json_t	*r1, *r2;

	(void)state;
	expect_error(c, "{\"v\":1,\"id\":10,\"cmd\":\"vm.pause\",\"name\":"
	    "\"desk-03\"}", 10, "illegal-transition", "desk-03 is saved");
	expect_error(c, "{\"v\":1,\"id\":11,\"cmd\":\"vm.pause\",\"name\":"
	    "\"home-ann\"}", 11, "illegal-transition", "home-ann is inactive");
	expect_error(c, "{\"v\":1,\"id\":12,\"cmd\":\"vm.start\",\"name\":"
	    "\"nope\"}", 12, "no-such-vm", "no VM named nope");
	expect_error(c, "{\"v\":1,\"id\":13,\"cmd\":\"vm.pause\",\"name\":"
	    "\"desk-bad\"}", 13, "failed", "simulated failure");
	/* The second request meets the first under way. */
	fake_vm_delay("desk-slow", 100);
	cl_send(c, "{\"v\":1,\"id\":14,\"cmd\":\"vm.start\",\"name\":\"desk-slow\"}\n"
	    "{\"v\":1,\"id\":15,\"cmd\":\"vm.start\",\"name\":\"desk-slow\"}\n");
	r2 = cl_reply(c);
	check_error(r2, 15, "busy", "desk-slow is busy");
	r1 = cl_reply(c);
	assert_string_equal(mstr(ok_result(r1, 14), "state"), "ready");
	json_decref(r1);
	json_decref(r2);
	cl_close(c);
}

static void
test_vm_create_undefine(void **state)
{
	struct cl *c = cl_open();
	json_t	*r, *res;

	(void)state;
	r = call(c, "{\"v\":1,\"id\":20,\"cmd\":\"vm.create\",\"name\":\"lab-1\","
	    "\"template\":\"ubuntu\"}");
	res = ok_result(r, 20);
	assert_string_equal(mstr(res, "name"), "lab-1");
	assert_string_equal(mstr(res, "kind"), "cvm");
	assert_string_equal(mstr(res, "state"), "inactive");
	assert_string_equal(mstr(res, "template"), "ubuntu");
	json_decref(r);
	r = call(c, "{\"v\":1,\"id\":21,\"cmd\":\"vm.create\",\"name\":\"lab-2\","
	    "\"template\":\"win10\",\"kind\":\"pvm\"}");
	assert_string_equal(mstr(ok_result(r, 21), "kind"), "pvm");
	json_decref(r);
	expect_error(c, "{\"v\":1,\"id\":22,\"cmd\":\"vm.create\",\"name\":"
	    "\"lab-1\",\"template\":\"ubuntu\"}", 22, "exists",
	    "a VM named lab-1 exists");
	expect_error(c, "{\"v\":1,\"id\":23,\"cmd\":\"vm.create\",\"name\":"
	    "\"lab-3\",\"template\":\"nope\"}", 23, "invalid",
	    "no template named nope");
	r = call(c, "{\"v\":1,\"id\":24,\"cmd\":\"vm.list\"}");
	assert_int_equal(json_array_size(ok_result(r, 24)), 8);
	json_decref(r);

	r = call(c, "{\"v\":1,\"id\":25,\"cmd\":\"vm.undefine\",\"name\":\"lab-1\"}");
	assert_string_equal(mstr(ok_result(r, 25), "name"), "lab-1");
	json_decref(r);
	expect_error(c, "{\"v\":1,\"id\":26,\"cmd\":\"vm.undefine\",\"name\":"
	    "\"lab-1\"}", 26, "no-such-vm", "lab-1");
	expect_error(c, "{\"v\":1,\"id\":27,\"cmd\":\"vm.undefine\",\"name\":"
	    "\"desk-01\"}", 27, "illegal-transition", "desk-01 is ready");
	cl_close(c);
}

static void
test_vm_set(void **state)
{
	struct cl *c = cl_open();
	json_t	*r, *res;

	(void)state;
	r = call(c, "{\"v\":1,\"id\":30,\"cmd\":\"vm.set\",\"name\":\"desk-01\","
	    "\"vcpus\":3}");
	res = ok_result(r, 30);
	assert_int_equal(json_integer_value(json_object_get(res, "vcpus")), 3);
	assert_int_equal(json_integer_value(json_object_get(res, "memory_mib")),
	    2048);
	json_decref(r);
	r = call(c, "{\"v\":1,\"id\":31,\"cmd\":\"vm.set\",\"name\":\"desk-01\","
	    "\"vcpus\":4,\"memory_mib\":4096}");
	res = ok_result(r, 31);
	assert_int_equal(json_integer_value(json_object_get(res, "vcpus")), 4);
	assert_int_equal(json_integer_value(json_object_get(res, "memory_mib")),
	    4096);
	json_decref(r);
	expect_error(c, "{\"v\":1,\"id\":32,\"cmd\":\"vm.set\",\"name\":"
	    "\"desk-01\"}", 32, "invalid", "nothing to change");
	expect_error(c, "{\"v\":1,\"id\":33,\"cmd\":\"vm.set\",\"name\":"
	    "\"desk-01\",\"vcpus\":9}", 33, "invalid", "at most 4 vCPUs");
	expect_error(c, "{\"v\":1,\"id\":34,\"cmd\":\"vm.set\",\"name\":"
	    "\"desk-03\",\"memory_mib\":1024}", 34, "illegal-transition",
	    "desk-03 has no domain");
	expect_error(c, "{\"v\":1,\"id\":35,\"cmd\":\"vm.set\",\"name\":"
	    "\"nope\",\"vcpus\":1}", 35, "no-such-vm", "nope");
	cl_close(c);
}

static void
test_vm_migrate(void **state)
{
	struct cl *c = cl_open();

	(void)state;
	expect_error(c, "{\"v\":1,\"id\":40,\"cmd\":\"vm.migrate\",\"name\":"
	    "\"desk-01\",\"host\":\"xen-02\"}", 40, "failed",
	    "no xvdsd at xen-02 to migrate to (live)");
	expect_error(c, "{\"v\":1,\"id\":42,\"cmd\":\"vm.migrate\",\"name\":"
	    "\"desk-01\",\"host\":\"xen-02:8003\",\"live\":false}", 42,
	    "failed", "no xvdsd at xen-02:8003 to migrate to (non-live)");
	expect_error(c, "{\"v\":1,\"id\":43,\"cmd\":\"vm.migrate\",\"name\":"
	    "\"desk-01\",\"host\":\"xen-02\",\"live\":1}", 43, "invalid",
	    "\"live\" must be true or false");
	expect_error(c, "{\"v\":1,\"id\":41,\"cmd\":\"vm.migrate\",\"name\":"
	    "\"desk-01\"}", 41, "invalid", "missing member \"host\"");
	cl_close(c);
}

/* vm.credential: checked before hostd/vm.c sees it; never quoted back. */
static void
test_vm_credential(void **state)
{
	struct cl *c = cl_open();
	json_t	*r;

	(void)state;
	r = call(c, "{\"v\":1,\"id\":50,\"cmd\":\"vm.credential\",\"name\":"
	    "\"desk-01\",\"user\":\"xvds-abcdefgh\",\"password\":"
	    "\"ABCDEFGHJKLMNPQRSTUVWX2\"}");
	ok_result(r, 50);
	json_decref(r);
	expect_error(c, "{\"v\":1,\"id\":51,\"cmd\":\"vm.credential\",\"name\":"
	    "\"desk-bad\",\"user\":\"xvds-abcdefgh\",\"password\":"
	    "\"ABCDEFGHJKLMNPQRSTUVWX2\"}", 51, "guest-failed", "could not apply");
	expect_error(c, "{\"v\":1,\"id\":52,\"cmd\":\"vm.credential\",\"name\":"
	    "\"desk-03\",\"user\":\"xvds-abcdefgh\",\"password\":"
	    "\"ABCDEFGHJKLMNPQRSTUVWX2\"}", 52, "illegal-transition", "saved");
	expect_error(c, "{\"v\":1,\"id\":53,\"cmd\":\"vm.credential\",\"name\":"
	    "\"desk-01\",\"user\":\"root\",\"password\":"
	    "\"ABCDEFGHJKLMNPQRSTUVWX2\"}", 53, "invalid", "\"user\" must be");
	r = call(c, "{\"v\":1,\"id\":54,\"cmd\":\"vm.credential\",\"name\":"
	    "\"desk-01\",\"user\":\"xvds-abcdefgh\",\"password\":"
	    "\"SECRETSECRETSECRET;rm -rf\"}");
	check_error(r, 54, "invalid", "\"password\" must be 23 letters and digits");
	assert_null(strstr(json_string_value(json_object_get(r, "message")),
	    "SECRET"));
	json_decref(r);
	expect_error(c, "{\"v\":1,\"id\":55,\"cmd\":\"vm.credential\",\"name\":"
	    "\"desk-01\",\"user\":\"xvds-abcdefgh\",\"password\":7}", 55,
	    "invalid", "\"password\" must be");
	expect_error(c, "{\"v\":1,\"id\":56,\"cmd\":\"vm.credential\",\"name\":"
	    "\"desk-01\",\"user\":\"xvds-abcdefgh\"}", 56, "invalid",
	    "missing member \"password\"");
	expect_error(c, "{\"v\":1,\"id\":57,\"cmd\":\"vm.credential\",\"name\":"
	    "\"nope\",\"user\":\"xvds-abcdefgh\",\"password\":"
	    "\"ABCDEFGHJKLMNPQRSTUVWX2\"}", 57, "no-such-vm", "nope");
	cl_close(c);
}

/* Requests in one write; replies as each one settles, by id. */
static void
test_pipelining(void **state)
{
	static const json_int_t order[] = { 2, 4, 3, 1 };
	struct cl *c = cl_open();
	json_t	*r;
	size_t	 i;

	(void)state;
	fake_vm_delay("desk-slow", 200);
	cl_send(c,
	    "{\"v\":1,\"id\":1,\"cmd\":\"vm.start\",\"name\":\"desk-slow\"}\n"
	    "{\"v\":1,\"id\":2,\"cmd\":\"vm.show\",\"name\":\"desk-01\"}\n"
	    "{\"v\":1,\"id\":3,\"cmd\":\"vm.pause\",\"name\":\"desk-01\"}\n"
	    "{\"v\":1,\"id\":4,\"cmd\":\"host.info\"}\n");
	for (i = 0; i < 4; i++) {
		r = cl_reply(c);
		ok_result(r, order[i]);
		json_decref(r);
	}
	/* Large and negative ids come back as they were. */
	r = call(c, "{\"v\":1,\"id\":9007199254740993,\"cmd\":\"host.info\"}");
	ok_result(r, 9007199254740993LL);
	json_decref(r);
	r = call(c, "{\"cmd\":\"host.info\",\"id\":-5,\"v\":1}");
	ok_result(r, -5);
	json_decref(r);
	cl_close(c);
}

static void
test_malformed(void **state)
{
	static const struct {
		const char	*req;
		json_int_t	 id;
		const char	*text;
	} bad[] = {
		{ "{nope", NOID, "malformed JSON" },
		{ "{\"v\":1,\"id\":1,\"cmd\":\"host.info\"} x", NOID, "malformed JSON" },
		{ "[1,2]", NOID, "a request is a JSON object" },
		{ "\"host.info\"", NOID, "malformed JSON" },
		{ "{\"v\":1,\"id\":1,\"id\":2,\"cmd\":\"host.info\"}", NOID,
		  "duplicate" },
		{ "{\"id\":5,\"cmd\":\"host.info\"}", 5, "missing member \"v\"" },
		{ "{\"v\":2,\"id\":5,\"cmd\":\"host.info\"}", 5,
		  "unsupported protocol version" },
		{ "{\"v\":\"1\",\"id\":5,\"cmd\":\"host.info\"}", 5,
		  "unsupported protocol version" },
		{ "{\"v\":1.0,\"id\":5,\"cmd\":\"host.info\"}", 5,
		  "unsupported protocol version" },
		{ "{\"v\":1,\"cmd\":\"host.info\"}", NOID, "missing member \"id\"" },
		{ "{\"v\":1,\"id\":\"5\",\"cmd\":\"host.info\"}", NOID,
		  "\"id\" must be an integer" },
		{ "{\"v\":1,\"id\":1.5,\"cmd\":\"host.info\"}", NOID,
		  "\"id\" must be an integer" },
		{ "{\"v\":1,\"id\":5}", 5, "missing member \"cmd\"" },
		{ "{\"v\":1,\"id\":5,\"cmd\":5}", 5, "\"cmd\" must be a string" },
		{ "{\"v\":1,\"id\":5,\"cmd\":\"vm.frob\"}", 5,
		  "unknown command \"vm.frob\"" },
		{ "{\"v\":1,\"id\":5,\"cmd\":\"vm.booted\",\"name\":\"desk-01\"}", 5,
		  "unknown command \"vm.booted\"" },
		{ "{\"v\":1,\"id\":5,\"cmd\":\"vm.done\",\"name\":\"desk-01\"}", 5,
		  "unknown command" },
		{ "{\"v\":1,\"id\":5,\"cmd\":\"vm\"}", 5, "unknown command" },
		{ "{\"v\":1,\"id\":5,\"cmd\":\"vm.show\"}", 5,
		  "vm.show: missing member \"name\"" },
		{ "{\"v\":1,\"id\":5,\"cmd\":\"vm.show\",\"name\":7}", 5,
		  "vm.show: \"name\" must be a string" },
		{ "{\"v\":1,\"id\":5,\"cmd\":\"vm.show\",\"name\":null}", 5,
		  "\"name\" must be a string" },
		{ "{\"v\":1,\"id\":5,\"cmd\":\"vm.show\",\"name\":\"\"}", 5,
		  "\"name\" must not be empty" },
		{ "{\"v\":1,\"id\":5,\"cmd\":\"vm.show\",\"name\":\"a\\nb\"}", 5,
		  "control character" },
		{ "{\"v\":1,\"id\":5,\"cmd\":\"vm.show\",\"name\":\"a\\u0000b\"}", NOID,
		  "malformed JSON" },
		{ "{\"v\":1,\"id\":5,\"cmd\":\"vm.show\",\"name\":\""
		  "0123456789012345678901234567890123456789012345678901234567890123"
		  "\"}", 5, "\"name\" is longer than 63 bytes" },
		{ "{\"v\":1,\"id\":5,\"cmd\":\"vm.show\",\"name\":\"desk-01\","
		  "\"color\":1}", 5, "vm.show: unknown member \"color\"" },
		{ "{\"v\":1,\"id\":5,\"cmd\":\"host.info\",\"name\":\"desk-01\"}", 5,
		  "host.info: unknown member \"name\"" },
		{ "{\"v\":1,\"id\":5,\"cmd\":\"vm.create\",\"name\":\"x\"}", 5,
		  "missing member \"template\"" },
		{ "{\"v\":1,\"id\":5,\"cmd\":\"vm.create\",\"name\":\"x\","
		  "\"template\":\"win10\",\"kind\":\"xvm\"}", 5,
		  "\"kind\" must be \"cvm\" or \"pvm\"" },
		{ "{\"v\":1,\"id\":5,\"cmd\":\"vm.create\",\"name\":\"x\","
		  "\"template\":\"0123456789012345678901234567890123\"}", 5,
		  "\"template\" is longer than 31 bytes" },
		{ "{\"v\":1,\"id\":5,\"cmd\":\"vm.set\",\"name\":\"desk-01\","
		  "\"vcpus\":\"2\"}", 5, "\"vcpus\" must be an integer" },
		{ "{\"v\":1,\"id\":5,\"cmd\":\"vm.set\",\"name\":\"desk-01\","
		  "\"vcpus\":0}", 5, "\"vcpus\" must be an integer from 1" },
		{ "{\"v\":1,\"id\":5,\"cmd\":\"vm.set\",\"name\":\"desk-01\","
		  "\"vcpus\":-1}", 5, "\"vcpus\" must be an integer from 1" },
		{ "{\"v\":1,\"id\":5,\"cmd\":\"vm.set\",\"name\":\"desk-01\","
		  "\"vcpus\":2.0}", 5, "\"vcpus\" must be an integer" },
		{ "{\"v\":1,\"id\":5,\"cmd\":\"vm.set\",\"name\":\"desk-01\","
		  "\"vcpus\":4294967296}", 5, "to 4294967295" },
		{ "{\"v\":1,\"id\":5,\"cmd\":\"vm.set\",\"name\":\"desk-01\","
		  "\"memory_mib\":true}", 5, "\"memory_mib\" must be an integer" },
		{ "{\"v\":1,\"id\":5,\"cmd\":\"vm.migrate\",\"name\":\"desk-01\","
		  "\"host\":[]}", 5, "\"host\" must be a string" },
	};
	struct cl *c = cl_open();
	json_t	*r;
	size_t	 i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		r = call(c, bad[i].req);
		if (!json_is_false(json_object_get(r, "ok")) ||
		    strcmp(mstr(r, "error"), "invalid") != 0 ||
		    strstr(mstr(r, "message"), bad[i].text) == NULL)
			fail_msg("%s: got %s: %s, expected invalid: %s",
			    bad[i].req, json_string_value(json_object_get(r,
			    "error")), json_string_value(json_object_get(r,
			    "message")), bad[i].text);
		check_envelope(r, bad[i].id, 0);
		json_decref(r);
	}
	/* Blank lines are skipped; the connection still serves. */
	cl_send(c, "\n  \r\n\t\n");
	r = call(c, "{\"v\":1,\"id\":99,\"cmd\":\"host.info\"}\r");
	ok_result(r, 99);
	json_decref(r);
	assert_false(c->eof);
	cl_close(c);
}

/* A line of exactly the limit passes; one byte more closes the client. */
static void
test_oversized(void **state)
{
	const char *req = "{\"v\":1,\"id\":50,\"cmd\":\"host.info\"}";
	struct cl *c = cl_open();
	json_t	*r;
	char	*line;

	(void)state;
	line = malloc(CONTROL_LINE_MAX + 2);
	assert_non_null(line);
	memset(line, ' ', CONTROL_LINE_MAX + 1);
	memcpy(line, req, strlen(req));
	line[CONTROL_LINE_MAX] = '\n';
	cl_sendn(c, line, CONTROL_LINE_MAX + 1);
	r = cl_reply(c);
	ok_result(r, 50);
	json_decref(r);

	line[CONTROL_LINE_MAX] = ' ';
	line[CONTROL_LINE_MAX + 1] = '\n';
	cl_sendn(c, line, CONTROL_LINE_MAX + 2);
	r = cl_reply(c);
	check_error(r, NOID, "invalid", "longer than 65536 bytes");
	json_decref(r);
	assert_true(cl_eof_within(c, WAIT_MS));
	cl_close(c);

	/* No newline at all: refused as soon as the limit is passed. */
	c = cl_open();
	memset(line, 'x', CONTROL_LINE_MAX + 1);
	cl_sendn(c, line, CONTROL_LINE_MAX + 1);
	r = cl_reply(c);
	check_error(r, NOID, "invalid", "longer than 65536 bytes");
	json_decref(r);
	assert_true(cl_eof_within(c, WAIT_MS));
	cl_close(c);
	free(line);

	/* Others are served meanwhile. */
	c = cl_open();
	r = call(c, "{\"v\":1,\"id\":51,\"cmd\":\"host.info\"}");
	ok_result(r, 51);
	json_decref(r);
	cl_close(c);
}

/* The reply comes to a request whose client has gone: dropped, freed. */
static void
test_client_leaves(void **state)
{
	struct cl *c = cl_open(), *d;
	json_t	*r;

	(void)state;
	fake_vm_delay("desk-slow", 100);
	fake_vm_delay("desk-01", 100);
	fake_vm_delay("desk-02", 100);
	cl_send(c, "{\"v\":1,\"id\":60,\"cmd\":\"vm.start\",\"name\":\"desk-slow\"}\n"
	    "{\"v\":1,\"id\":61,\"cmd\":\"vm.pause\",\"name\":\"desk-01\"}\n"
	    "{\"v\":1,\"id\":62,\"cmd\":\"vm.set\",\"name\":\"desk-02\",\"vcpus\":1}\n");
	assert_true(pump_until_pending(3));
	cl_close(c);
	assert_true(pump_until_pending(0));
	/* The actions went on; the daemon still serves. */
	d = cl_open();
	r = call(d, "{\"v\":1,\"id\":63,\"cmd\":\"vm.show\",\"name\":\"desk-slow\"}");
	assert_string_equal(mstr(ok_result(r, 63), "state"), "ready");
	json_decref(r);
	/* And with the daemon stopping first (fake_fini in teardown). */
	cl_send(d, "{\"v\":1,\"id\":64,\"cmd\":\"vm.unpause\",\"name\":\"desk-01\"}\n");
	assert_true(pump_until_pending(1));
	cl_close(d);
	pump(5);
}

/* A client that never reads its replies is throttled, then served. */
static void
test_unread_replies(void **state)
{
	enum { N = 4000 };
	struct cl *c = cl_open();
	char	*reqs;
	size_t	 len = 0;
	json_t	*r;
	int	 i;

	(void)state;
	/* One write: a small one each would fill the socket with overhead. */
	assert_non_null(reqs = malloc(N * 64));
	for (i = 1; i <= N; i++)
		len += (size_t)snprintf(reqs + len, 64,
		    "{\"v\":1,\"id\":%d,\"cmd\":\"vm.list\"}\n", i);
	cl_sendn(c, reqs, len);
	free(reqs);
	for (i = 1; i <= N; i++) {
		r = cl_reply(c);
		assert_int_equal(json_array_size(ok_result(r, i)), 6);
		json_decref(r);
	}
	cl_close(c);
}

static void
test_pending_limit(void **state)
{
	struct cl *c = cl_open();
	char	 req[128];
	json_t	*r;
	int	 i, busy = 0, ok = 0;

	(void)state;
	for (i = 0; i <= CONTROL_PENDING_MAX; i++) {
		snprintf(req, sizeof(req), "{\"v\":1,\"id\":%d,\"cmd\":\"vm.create\","
		    "\"name\":\"t-%03d\",\"template\":\"ubuntu\"}", i, i);
		r = call(c, req);
		ok_result(r, i);
		json_decref(r);
	}
	for (i = 0; i <= CONTROL_PENDING_MAX; i++) {
		snprintf(req, sizeof(req), "{\"v\":1,\"id\":%d,\"cmd\":\"vm.start\","
		    "\"name\":\"t-%03d\"}\n", 1000 + i, i);
		cl_send(c, req);
	}
	for (i = 0; i <= CONTROL_PENDING_MAX; i++) {
		r = cl_reply(c);
		if (json_is_true(json_object_get(r, "ok")))
			ok++;
		else {
			check_error(r, 1000 + CONTROL_PENDING_MAX, "busy",
			    "256 requests of this connection are waiting");
			busy++;
		}
		json_decref(r);
	}
	assert_int_equal(ok, CONTROL_PENDING_MAX);
	assert_int_equal(busy, 1);
	cl_close(c);
}

/* The 65th client waits in the backlog until another leaves. */
static void
test_client_limit(void **state)
{
	struct cl *c[CONTROL_CLIENTS_MAX + 1];
	json_t	*r;
	int	 i;

	(void)state;
	for (i = 0; i < CONTROL_CLIENTS_MAX; i++) {
		c[i] = cl_open();
		r = call(c[i], "{\"v\":1,\"id\":1,\"cmd\":\"host.info\"}");
		ok_result(r, 1);
		json_decref(r);
	}
	c[i] = cl_open();
	cl_send(c[i], "{\"v\":1,\"id\":2,\"cmd\":\"host.info\"}\n");
	assert_null(cl_reply_within(c[i], 200));
	cl_close(c[0]);
	r = cl_reply(c[i]);
	ok_result(r, 2);
	json_decref(r);
	for (i = 1; i <= CONTROL_CLIENTS_MAX; i++)
		cl_close(c[i]);
}

/* SO_PEERCRED: a user other than root (or the daemon's) is turned away. */
static void
test_not_root(void **state)
{
	pid_t	 pid;
	int	 status = -1;
	int64_t	 end;

	(void)state;
	if (geteuid() != 0)
		skip();
	/* Let the user through the file modes, to meet the check behind them. */
	assert_int_equal(chmod(dir, 0755), 0);
	assert_int_equal(chmod(rundir, 0755), 0);
	assert_int_equal(chmod(sock, 0666), 0);
	if ((pid = fork()) == 0) {
		struct sockaddr_un sun;
		char	 buf[512];
		ssize_t	 n, len = 0;
		int	 fd;

		alarm(5);
		if (setgid(65534) == -1 || setuid(65534) == -1)
			_exit(10);
		memset(&sun, 0, sizeof(sun));
		sun.sun_family = AF_UNIX;
		snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", sock);
		if ((fd = socket(AF_UNIX, SOCK_STREAM, 0)) == -1 ||
		    connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == -1)
			_exit(11);
		while ((n = read(fd, buf + len, sizeof(buf) - 1 - (size_t)len)) > 0)
			len += n;
		buf[len] = '\0';
		_exit(strstr(buf, "\"ok\":false") != NULL &&
		    strstr(buf, "permission denied") != NULL ? 0 : 12);
	}
	assert_true(pid > 0);
	end = now_ms() + WAIT_MS;
	while (waitpid(pid, &status, WNOHANG) == 0 && now_ms() < end)
		pump(5);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
}

/* Another daemon answers on the path: refused, and its socket kept. */
static void
test_second_daemon(void **state)
{
	struct sockaddr_un sun;
	struct stat st;
	int	 fd;

	(void)state;
	assert_int_equal(control_init(base, sock), -1);	/* already ours */
	control_close();
	assert_int_equal(lstat(sock, &st), -1);		/* unlinked */

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", sock);
	assert_true((fd = socket(AF_UNIX, SOCK_STREAM, 0)) >= 0);
	assert_int_equal(bind(fd, (struct sockaddr *)&sun, sizeof(sun)), 0);
	assert_int_equal(listen(fd, 4), 0);
	assert_int_equal(control_init(base, sock), -1);
	assert_int_equal(lstat(sock, &st), 0);
	/* Once it is gone, its socket is stale: removed and replaced. */
	close(fd);
	assert_int_equal(control_init(base, sock), 0);
	assert_int_equal(lstat(sock, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0600);
}

static void
test_stale_and_foreign(void **state)
{
	struct sockaddr_un sun;
	struct stat st;
	struct cl *c;
	json_t	*r;
	char	 bad[160];
	int	 fd;

	(void)state;
	control_close();
	/* A regular file is not ours to remove. */
	assert_true((fd = open(sock, O_CREAT | O_WRONLY, 0600)) >= 0);
	close(fd);
	assert_int_equal(control_init(base, sock), -1);
	assert_int_equal(access(sock, F_OK), 0);
	unlink(sock);
	/* Nor is a file where the directory should be. */
	snprintf(bad, sizeof(bad), "%s/file", dir);
	assert_true((fd = open(bad, O_CREAT | O_WRONLY, 0600)) >= 0);
	close(fd);
	snprintf(bad, sizeof(bad), "%s/file/xvdsd.sock", dir);
	assert_int_equal(control_init(base, bad), -1);
	snprintf(bad, sizeof(bad), "%s/file", dir);
	unlink(bad);
	assert_int_equal(control_init(base, ""), -1);
	assert_int_equal(control_init(base, "/tmp/0123456789012345678901234567"
	    "890123456789012345678901234567890123456789012345678901234567890123"
	    "45678901234567890.sock"), -1);
	/* A stale socket, left by a daemon that died. */
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", sock);
	assert_true((fd = socket(AF_UNIX, SOCK_STREAM, 0)) >= 0);
	assert_int_equal(bind(fd, (struct sockaddr *)&sun, sizeof(sun)), 0);
	close(fd);
	assert_int_equal(lstat(sock, &st), 0);
	assert_int_equal(control_init(base, sock), 0);
	c = cl_open();
	r = call(c, "{\"v\":1,\"id\":1,\"cmd\":\"host.info\"}");
	ok_result(r, 1);
	json_decref(r);
	cl_close(c);
}

/* control_close() hangs up on clients and removes the socket. */
static void
test_close(void **state)
{
	struct cl *c = cl_open();
	struct stat st;

	(void)state;
	fake_vm_delay("desk-01", 50);
	cl_send(c, "{\"v\":1,\"id\":1,\"cmd\":\"vm.pause\",\"name\":\"desk-01\"}\n");
	assert_true(pump_until_pending(1));	/* read and under way */
	control_close();
	assert_int_equal(lstat(sock, &st), -1);
	assert_true(cl_eof_within(c, WAIT_MS));
	/* The pause ends with nobody to tell. */
	assert_true(pump_until_pending(0));
	cl_close(c);
	control_close();	/* twice is harmless */
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_socket_modes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_host_info, setup, teardown),
		cmocka_unit_test_setup_teardown(test_vm_list, setup, teardown),
		cmocka_unit_test_setup_teardown(test_vm_show, setup, teardown),
		cmocka_unit_test_setup_teardown(test_vm_actions, setup, teardown),
		cmocka_unit_test_setup_teardown(test_vm_action_errors, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_vm_create_undefine, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_vm_set, setup, teardown),
		cmocka_unit_test_setup_teardown(test_vm_migrate, setup, teardown),
		cmocka_unit_test_setup_teardown(test_vm_credential, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_pipelining, setup, teardown),
		cmocka_unit_test_setup_teardown(test_malformed, setup, teardown),
		cmocka_unit_test_setup_teardown(test_oversized, setup, teardown),
		cmocka_unit_test_setup_teardown(test_client_leaves, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unread_replies, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_pending_limit, setup, teardown),
		cmocka_unit_test_setup_teardown(test_client_limit, setup, teardown),
		cmocka_unit_test_setup_teardown(test_not_root, setup, teardown),
		cmocka_unit_test_setup_teardown(test_second_daemon, setup, teardown),
		cmocka_unit_test_setup_teardown(test_stale_and_foreign, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_close, setup, teardown),
	};

	log_procname("test_control");
	log_init(1, LOG_DAEMON);
	/* TEST_VERBOSE=1: hostd/control.c's debug messages too. */
	log_setverbose(getenv("TEST_VERBOSE") != NULL);
	return cmocka_run_group_tests_name("control", tests, NULL, NULL);
}

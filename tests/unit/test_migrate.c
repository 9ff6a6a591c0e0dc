/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * test_migrate.c — the migration protocol (xvds/hostd/migrate.c) over a real
 * TCP connection on loopback, sender and receiver in one process on the
 * simulated hypervisor, the receiving VMs played by stubs of the receiving
 * side's hooks (hostd/vm_migrate.c's in xvdsd): the handshake's outcome
 * when each step fails, the status question, hostile peers at the
 * listener, and the offer's codec.
 */
#include <config.h>

#include <sys/socket.h>
#include <sys/stat.h>
#include <netinet/in.h>
#include <arpa/inet.h>

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

#include "common/conf.h"
#include "hv/hv.h"
#include "hvsim/sim.h"
#include "common/log.h"
#include "hostd/migrate.h"
#include "run_loop.h"

#define SAFETY_MS	5000

/* The receiving side's VMs: what hostd/migrate.c told "hostd/vm.c", and what it
 * answers. */
static struct {
	struct hv	*hv;
	bool		 refuse;	/* the offer */
	bool		 commit_fails;
	enum migrate_has has;
	int		 offers, arrived, commits, aborts;
	uint32_t	 domid;
	char		 last_abort[256];
} rx;

/* The sender's view. */
static struct {
	int		 done;
	enum migrate_outcome out;
	char		 msg[256];
	int		 commits;
	int		 commit_rc;
	int		 asked;
	enum migrate_has answer;
} tx;

static struct event_base *base;
static struct hv *hv;
static uint16_t port;
static char dir[64], peer[32];

static int
fake_incoming_offer(const struct migrate_offer *o, const char *from,
    struct vm_spec *spec, char *msg, size_t msglen)
{
	(void)from;
	rx.offers++;
	if (rx.refuse) {
		snprintf(msg, msglen, "refused by the test");
		return -1;
	}
	memset(spec, 0, sizeof(*spec));
	snprintf(spec->name, sizeof(spec->name), "%.*s%s", (int)MIGRATE_NAME_MAX,
	    o->name, MIGRATE_SUFFIX_IN);
	spec->type = VM_TYPE_PVH;
	spec->vcpus = spec->max_vcpus = 1;
	spec->memory_mib = spec->max_memory_mib = 128;
	return 0;
}

static void
fake_incoming_arrived(const char *name, uint32_t domid)
{
	(void)name;
	rx.arrived++;
	rx.domid = domid;
}

static int
fake_incoming_commit(const char *name)
{
	(void)name;
	if (rx.commit_fails)
		return -1;
	rx.commits++;
	return 0;
}

static void
fake_incoming_abort(const char *name, const char *why)
{
	(void)name;
	rx.aborts++;
	snprintf(rx.last_abort, sizeof(rx.last_abort), "%s", why);
}

static enum migrate_has
fake_incoming_has(const char *name)
{
	(void)name;
	return rx.has;
}

static const struct migrate_hooks fake_incoming = {
	.offer = fake_incoming_offer,
	.arrived = fake_incoming_arrived,
	.commit = fake_incoming_commit,
	.abort = fake_incoming_abort,
	.has = fake_incoming_has,
};

static int
commit_cb(void *arg)
{
	(void)arg;
	tx.commits++;
	return tx.commit_rc;
}

static void
done_cb(void *arg, enum migrate_outcome out, const char *msg)
{
	(void)arg;
	tx.done++;
	tx.out = out;
	snprintf(tx.msg, sizeof(tx.msg), "%s", msg);
}

static void
asked_cb(void *arg, enum migrate_has has)
{
	(void)arg;
	tx.asked++;
	tx.answer = has;
}

struct made {
	int		 done;
	enum hv_result	 r;
	uint32_t	 domid;
};

static void
made_cb(void *arg, enum hv_result r, uint32_t domid)
{
	struct made *m = arg;

	m->done++;
	m->r = r;
	m->domid = domid;
}

/* A running domain to migrate. */
static uint32_t
make_domain(const char *name)
{
	struct vm_spec s;
	struct made m = { 0, HV_FAILED, 0 };

	memset(&s, 0, sizeof(s));
	snprintf(s.name, sizeof(s.name), "%s", name);
	s.type = VM_TYPE_PVH;
	s.vcpus = s.max_vcpus = 1;
	s.memory_mib = s.max_memory_mib = 128;
	assert_int_equal(hv_create(hv, &s, false, made_cb, &m), 0);
	assert_int_equal(run_until(base, &m.done, 1, SAFETY_MS), 0);
	assert_int_equal(m.r, HV_OK);
	return m.domid;
}

static void
offer_init(struct migrate_offer *o, const char *name)
{
	memset(o, 0, sizeof(*o));
	snprintf(o->name, sizeof(o->name), "%s", name);
	snprintf(o->template, sizeof(o->template), "desk");
	o->kind = VM_CVM;
	o->state = VM_S_READY;
	o->live = true;
}

/* Sends the domain; returns the outcome. */
static enum migrate_outcome
migrate(const char *name, uint32_t domid)
{
	struct migrate_offer o;
	char	 msg[256];

	offer_init(&o, name);
	memset(&tx, 0, sizeof(tx));
	assert_int_equal(migrate_send(&o, peer, domid, commit_cb, done_cb, NULL,
	    msg, sizeof(msg)), 0);
	if (run_until(base, &tx.done, 1, SAFETY_MS) == -1)
		fail_msg("no outcome within %d ms", SAFETY_MS);
	run_for(base, 50);	/* the receiver's last steps */
	return tx.out;
}

static enum hv_dom_state
dom_state(uint32_t domid)
{
	struct hv_domain d;

	if (hv_domain_info(hv, domid, &d) == -1)
		return HV_DOM_DYING;	/* gone */
	return d.state;
}

static int
setup(void **state)
{
	struct conf_settings s;
	struct hv_callbacks cbs = { NULL, NULL };
	char	 key[128];
	int	 fd, op;

	(void)state;
	memset(&rx, 0, sizeof(rx));
	base = event_base_new();
	hv = hv_open(base, &cbs);
	assert_non_null(hv);
	for (op = 0; op < HV_SIM_OP__COUNT; op++)
		hv_sim_set_latency(hv, (enum hv_sim_op)op, 1);
	snprintf(dir, sizeof(dir), "/tmp/test_migrate.XXXXXX");
	assert_non_null(mkdtemp(dir));
	memset(&s, 0, sizeof(s));
	snprintf(s.host_name, sizeof(s.host_name), "tester");
	snprintf(s.migration_listen, sizeof(s.migration_listen), "127.0.0.1");
	snprintf(s.migration_key_file, sizeof(s.migration_key_file), "%s/key", dir);
	fd = open(s.migration_key_file, O_WRONLY | O_CREAT | O_EXCL, 0600);
	assert_true(fd != -1);
	memset(key, 'k', sizeof(key));
	assert_int_equal(write(fd, key, sizeof(key)), (ssize_t)sizeof(key));
	close(fd);
	/* A port of this run's own. */
	/* Below the ephemeral range (32768-), where no outgoing socket sits. */
	port = (uint16_t)(10000 + getpid() % 20000);
	s.migration_port = port;
	snprintf(peer, sizeof(peer), "127.0.0.1:%u", (unsigned)port);
	assert_int_equal(migrate_init(base, hv, &s, &fake_incoming), 0);
	return 0;
}

static int
teardown(void **state)
{
	char	 cmd[128];

	(void)state;
	migrate_shutdown();
	hv_close(hv);
	event_base_free(base);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		fprintf(stderr, "cannot remove %s\n", dir);
	return 0;
}

static void
test_moved(void **state)
{
	uint32_t domid = make_domain("p-01");

	(void)state;
	assert_int_equal(migrate("p-01", domid), MIGRATE_MOVED);
	assert_int_equal(tx.commits, 1);
	assert_int_equal(rx.offers, 1);
	assert_int_equal(rx.arrived, 1);
	assert_int_equal(rx.commits, 1);
	assert_int_equal(rx.aborts, 0);
	/* The copy here is suspended (the caller destroys it); there, paused. */
	assert_int_equal(dom_state(domid), HV_DOM_SHUTDOWN);
	assert_int_equal(dom_state(rx.domid), HV_DOM_PAUSED);
}

static void
test_offer_refused(void **state)
{
	uint32_t domid = make_domain("p-01");

	(void)state;
	rx.refuse = true;
	assert_int_equal(migrate("p-01", domid), MIGRATE_STAYED);
	assert_non_null(strstr(tx.msg, "refused by the test"));
	assert_int_equal(tx.commits, 0);
	assert_int_equal(rx.arrived, 0);
	assert_true(dom_state(domid) == HV_DOM_RUNNING ||
	    dom_state(domid) == HV_DOM_BLOCKED);
}

static void
test_send_fails(void **state)
{
	uint32_t domid = make_domain("p-01");

	(void)state;
	assert_int_equal(hv_sim_fail_next(hv, HV_SIM_OP_MIGRATE_SEND, HV_FAILED), 0);
	assert_int_equal(migrate("p-01", domid), MIGRATE_STAYED);
	assert_int_equal(tx.commits, 0);
	assert_int_equal(rx.commits, 0);
	/* What may have arrived is dropped there. */
	assert_int_equal(rx.aborts, rx.offers);
	assert_true(dom_state(domid) == HV_DOM_RUNNING ||
	    dom_state(domid) == HV_DOM_BLOCKED);
}

static void
test_receive_fails(void **state)
{
	uint32_t domid = make_domain("p-01");
	enum migrate_outcome out;

	(void)state;
	assert_int_equal(hv_sim_fail_next(hv, HV_SIM_OP_MIGRATE_RECEIVE,
	    HV_FAILED), 0);
	out = migrate("p-01", domid);
	/* The copy here stays the one: resumed if the stream had suspended it. */
	assert_true(out == MIGRATE_STAYED || out == MIGRATE_STAYED_SUSPENDED);
	assert_int_equal(tx.commits, 0);
	assert_int_equal(rx.arrived, 0);
	assert_int_equal(rx.aborts, 1);
}

static void
test_sender_cannot_commit(void **state)
{
	uint32_t domid = make_domain("p-01");

	(void)state;
	tx.commit_rc = -1;
	{
		struct migrate_offer o;
		char	 msg[256];

		offer_init(&o, "p-01");
		memset(&tx, 0, sizeof(tx));
		tx.commit_rc = -1;
		assert_int_equal(migrate_send(&o, peer, domid, commit_cb, done_cb,
		    NULL, msg, sizeof(msg)), 0);
		assert_int_equal(run_until(base, &tx.done, 1, SAFETY_MS), 0);
		run_for(base, 50);
	}
	assert_int_equal(tx.out, MIGRATE_STAYED_SUSPENDED);
	assert_int_equal(rx.arrived, 1);
	assert_int_equal(rx.commits, 0);
	assert_int_equal(rx.aborts, 1);
}

static void
test_receiver_cannot_commit(void **state)
{
	uint32_t domid = make_domain("p-01");

	(void)state;
	rx.commit_fails = true;
	/* The receiver says so: the sender may resume, not guess. */
	assert_int_equal(migrate("p-01", domid), MIGRATE_STAYED_SUSPENDED);
	assert_int_equal(tx.commits, 1);
	assert_int_equal(rx.aborts, 1);
}

static void
test_ask(void **state)
{
	static const enum migrate_has has[] = {
		MIGRATE_HAS_IT, MIGRATE_HAS_NOT, MIGRATE_HAS_UNSURE,
	};
	size_t	 i;

	(void)state;
	for (i = 0; i < 3; i++) {
		rx.has = has[i];
		memset(&tx, 0, sizeof(tx));
		assert_int_equal(migrate_ask(peer, "p-01", asked_cb, NULL), 0);
		assert_int_equal(run_until(base, &tx.asked, 1, SAFETY_MS), 0);
		assert_int_equal(tx.answer, has[i]);
	}
	/* Nobody there: unsure, never "no". */
	memset(&tx, 0, sizeof(tx));
	if (migrate_ask("127.0.0.1:1", "p-01", asked_cb, NULL) == 0) {
		assert_int_equal(run_until(base, &tx.asked, 1, SAFETY_MS), 0);
		assert_int_equal(tx.answer, MIGRATE_HAS_UNSURE);
	}	/* else refused at once: the caller asks again later */
}

/* A raw client at the listener: connects and reads the hello. */
static int
raw_connect(void)
{
	struct sockaddr_in sin;
	char	 buf[512];
	int	 fd;

	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons(port);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	fd = socket(AF_INET, SOCK_STREAM, 0);
	assert_true(fd != -1);
	assert_int_equal(connect(fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	run_for(base, 50);
	assert_true(read(fd, buf, sizeof(buf)) > 0);
	return fd;
}

/* Whatever it got back, then whether the listener closed the connection. */
static bool
raw_closed(int fd, char *got, size_t len)
{
	size_t	 off = 0;
	ssize_t	 n;

	run_for(base, 100);
	for (;;) {
		struct pollfd p = { fd, POLLIN, 0 };

		if (poll(&p, 1, 0) != 1)
			return false;
		n = read(fd, got + off, len - 1 - off);
		if (n <= 0) {
			got[off] = '\0';
			return true;
		}
		off += (size_t)n;
	}
}

static void
test_hostile_peers(void **state)
{
	static const char *const lines[] = {
		"not json\n",
		"{\"msg\":\"offer\"}\n",	/* before authenticating */
		"{\"msg\":\"auth\",\"host\":\"x\",\"nonce\":\"00\",\"mac\":\"00\"}\n",
		"{\"msg\":\"auth\",\"host\":\"x\",\"nonce\":"
		    "\"000102030405060708090a0b0c0d0e0f\",\"mac\":"
		    "\"0000000000000000000000000000000000000000000000000000000000000000\"}\n",
		"{\"msg\":\"hello\"}\n{\"msg\":\"hello\"}\n",
	};
	char	 big[MIGRATE_MSG_MAX + 100], got[1024];
	size_t	 i;
	int	 fd;

	(void)state;
	for (i = 0; i < sizeof(lines) / sizeof(lines[0]); i++) {
		fd = raw_connect();
		assert_true(write(fd, lines[i], strlen(lines[i])) > 0);
		if (!raw_closed(fd, got, sizeof(got)))
			fail_msg("line %zu: the connection stays open", i);
		if (i == 3 && strstr(got, "authentication failed") == NULL)
			fail_msg("a bad proof is not told so: \"%s\"", got);
		close(fd);
	}
	fd = raw_connect();
	memset(big, 'x', sizeof(big));
	assert_true(write(fd, big, sizeof(big)) > 0);
	assert_true(raw_closed(fd, got, sizeof(got)));
	close(fd);
	/* A peer that says nothing is let go too (not waited for here). */
	assert_int_equal(rx.offers, 0);
	/* And the listener still serves. */
	assert_int_equal(migrate("p-01", make_domain("p-01")), MIGRATE_MOVED);
}

static void
test_offer_codec(void **state)
{
	static const struct {
		const char *line;
		const char *error;
	} bad[] = {
		{ "{", "not JSON" },
		{ "{\"msg\":\"offer\"}", "offer: " },
		{ "{\"msg\":\"offer\",\"vm\":\"a\",\"pool\":\"\",\"template\":\"t\","
		  "\"kind\":\"cvm\",\"state\":\"ready\",\"vcpus\":0,\"memory_mib\":0,"
		  "\"boot_id\":\"\",\"live\":true,\"extra\":1}", "offer: " },
		{ "{\"msg\":\"offer\",\"vm\":\"-a\",\"pool\":\"\",\"template\":\"t\","
		  "\"kind\":\"cvm\",\"state\":\"ready\",\"vcpus\":0,\"memory_mib\":0,"
		  "\"boot_id\":\"\",\"live\":true}", "bad VM name" },
		{ "{\"msg\":\"offer\",\"vm\":\"a/b\",\"pool\":\"\",\"template\":\"t\","
		  "\"kind\":\"cvm\",\"state\":\"ready\",\"vcpus\":0,\"memory_mib\":0,"
		  "\"boot_id\":\"\",\"live\":true}", "bad VM name" },
		{ "{\"msg\":\"offer\",\"vm\":\"a\",\"pool\":\"\",\"template\":\"t\","
		  "\"kind\":\"xvm\",\"state\":\"ready\",\"vcpus\":0,\"memory_mib\":0,"
		  "\"boot_id\":\"\",\"live\":true}", "bad kind" },
		{ "{\"msg\":\"offer\",\"vm\":\"a\",\"pool\":\"\",\"template\":\"t\","
		  "\"kind\":\"cvm\",\"state\":\"paused\",\"vcpus\":0,\"memory_mib\":0,"
		  "\"boot_id\":\"\",\"live\":true}", "from ready or running" },
		{ "{\"msg\":\"offer\",\"vm\":\"a\",\"pool\":\"\",\"template\":\"t\","
		  "\"kind\":\"cvm\",\"state\":\"ready\",\"vcpus\":-1,\"memory_mib\":0,"
		  "\"boot_id\":\"\",\"live\":true}", "out of range" },
		{ "{\"msg\":\"offer\",\"vm\":\"a\",\"pool\":\"\",\"template\":\"t\","
		  "\"kind\":\"cvm\",\"state\":\"ready\",\"vcpus\":1,\"memory_mib\":0,"
		  "\"boot_id\":\"ABC\",\"live\":true}", "bad boot id" },
		{ "{\"msg\":\"offer\",\"vm\":\"a\",\"pool\":\"\",\"template\":\"\","
		  "\"kind\":\"cvm\",\"state\":\"ready\",\"vcpus\":1,\"memory_mib\":0,"
		  "\"boot_id\":\"\",\"live\":true}", "bad pool or template" },
		{ "{\"msg\":\"status\",\"vm\":\"a\",\"pool\":\"\",\"template\":\"t\","
		  "\"kind\":\"cvm\",\"state\":\"ready\",\"vcpus\":1,\"memory_mib\":0,"
		  "\"boot_id\":\"\",\"live\":true}", "not an offer" },
	};
	struct migrate_offer o, back;
	char	*s, msg[256];
	size_t	 i;

	(void)state;
	offer_init(&o, "desk-07");
	snprintf(o.pool, sizeof(o.pool), "lab");
	o.kind = VM_PVM;
	o.state = VM_S_RUNNING;
	o.vcpus = 2;
	o.memory_mib = 3072;
	snprintf(o.boot_id, sizeof(o.boot_id), "0123456789abcdef0123456789abcdef");
	o.live = false;
	s = migrate_offer_encode(&o);
	assert_int_equal(migrate_offer_decode(s, strlen(s), &back, msg,
	    sizeof(msg)), 0);
	free(s);
	assert_memory_equal(&o, &back, sizeof(o));
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		msg[0] = '\0';
		if (migrate_offer_decode(bad[i].line, strlen(bad[i].line), &back, msg,
		    sizeof(msg)) != -1)
			fail_msg("bad offer %zu accepted", i);
		if (strstr(msg, bad[i].error) == NULL)
			fail_msg("bad offer %zu: \"%s\", expected \"%s\"", i, msg,
			    bad[i].error);
	}
}

static void
test_parse_peer(void **state)
{
	static const struct {
		const char *in;
		int	 rc;
		const char *host;
		unsigned port;
	} v[] = {
		{ "xen-02", 0, "xen-02", 8002 },
		{ "10.0.0.2:8003", 0, "10.0.0.2", 8003 },
		{ "[2001:db8::2]:9000", 0, "2001:db8::2", 9000 },
		{ "[2001:db8::2]", 0, "2001:db8::2", 8002 },
		{ "2001:db8::2", -1, NULL, 0 },
		{ "host:", -1, NULL, 0 },
		{ "host:0", -1, NULL, 0 },
		{ "host:65536", -1, NULL, 0 },
		{ "host:12x", -1, NULL, 0 },
		{ ":80", -1, NULL, 0 },
		{ "", -1, NULL, 0 },
		{ "[::1]x", -1, NULL, 0 },
		{ "[::1", -1, NULL, 0 },
	};
	char	 host[64];
	uint16_t p;
	size_t	 i;

	(void)state;
	for (i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		int rc = migrate_parse_peer(v[i].in, host, sizeof(host), &p, 8002);

		if (rc != v[i].rc)
			fail_msg("\"%s\": %d, expected %d", v[i].in, rc, v[i].rc);
		if (rc == 0 && (strcmp(host, v[i].host) != 0 || p != v[i].port))
			fail_msg("\"%s\": %s port %u", v[i].in, host, (unsigned)p);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_moved, setup, teardown),
		cmocka_unit_test_setup_teardown(test_offer_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_send_fails, setup, teardown),
		cmocka_unit_test_setup_teardown(test_receive_fails, setup, teardown),
		cmocka_unit_test_setup_teardown(test_sender_cannot_commit, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_receiver_cannot_commit, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_ask, setup, teardown),
		cmocka_unit_test_setup_teardown(test_hostile_peers, setup, teardown),
		cmocka_unit_test(test_offer_codec),
		cmocka_unit_test(test_parse_peer),
	};

	log_init(1, 0);
	return cmocka_run_group_tests_name("migrate", tests, NULL, NULL);
}

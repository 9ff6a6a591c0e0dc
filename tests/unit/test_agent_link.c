/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * test_agent_link.c — xvdsd's link to the controller (xvds/hostd/agent_link.c),
 * end to end on loopback: the test plays the controller with
 * agent_server_new() and a throwaway PKI (pki.h), and runs xvdsd-sim —
 * the real daemon on the SIMULATED hypervisor and guests (hvsim/sim.c,
 * hvsim/report.c), never Xen — with a controller block pointing at it.
 * Checked: the hello names the host (its certificate's CN); after the
 * welcome every VM's state arrives, then samples every second; an op
 * pause gets its result and its state messages; an op on an unknown VM
 * gets the error; after the controller goes away and comes back on the
 * same port, the daemon reconnects and sends every VM's state again.
 * Then the reload rules: SIGHUP with the block unchanged keeps the
 * connection, with a certificate of another host is refused (the link
 * stays), without the block closes the link, with it again reconnects.
 */
#include <config.h>

#include <sys/socket.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <event2/event.h>

#include "agent/tls.h"
#include "common/log.h"
#include "pki.h"
#include "run_loop.h"

#define HOST		"simhost"
#define NVMS		2		/* the pool's CVMs: p-01, p-02 */
#define WAIT_MS		8000

static char dir[192];
static struct event_base *base;
static struct agent_server *srv;
static uint16_t srv_port;
static pid_t daemon_pid = -1;

/* What the controller saw, since the last reset_seen(). */
static struct {
	struct agent_conn *conn;
	char		 identity[AGENT_HOST_MAX + 1];
	char		 hello_host[AGENT_HOST_MAX + 1];
	unsigned	 hello_cpus;
	int		 hellos, samples, states, closed;
	int		 sample_vms;	/* in the last sample */
	struct {
		char		 vm[AGENT_VM_MAX + 1];
		enum vm_state	 state;
		uint32_t	 domid;
		char		 addr[AGENT_ADDR_MAX + 1];
		int		 n;
	} vms[8];
	int		 nvms;		/* distinct VMs in states */
	int		 paused_seen;	/* state messages "paused" of p-01 */
	int		 results;
	struct agent_result result;	/* the last */
	int		 resynced;	/* resynced messages */
	int		 resync_states;	/* states counted before the first */
	uint32_t	 resync_said;	/* and what it said */
	bool		 sample_before_resync;
} seen;

static char *
path(const char *name)
{
	return pki_path(dir, name);
}

static void
reset_seen(void)
{
	struct agent_conn *c = seen.conn;

	memset(&seen, 0, sizeof(seen));
	seen.conn = c;
}

static int
vm_index(const char *vm)
{
	int	 i;

	for (i = 0; i < seen.nvms; i++)
		if (strcmp(seen.vms[i].vm, vm) == 0)
			return i;
	assert_true(seen.nvms < 8);
	snprintf(seen.vms[seen.nvms].vm, sizeof(seen.vms[0].vm), "%s", vm);
	return seen.nvms++;
}

/* The controller. */

static void
srv_connected(struct agent_conn *c, const char *id, void *arg)
{
	(void)arg;
	seen.conn = c;
	snprintf(seen.identity, sizeof(seen.identity), "%s", id);
}

static void
srv_message(struct agent_conn *c, const struct agent_msg *in, void *arg)
{
	struct agent_msg m;
	int	 i;

	(void)arg;
	switch (in->type) {
	case AGENT_M_HELLO:
		snprintf(seen.hello_host, sizeof(seen.hello_host), "%s",
		    in->u.hello.host);
		seen.hello_cpus = in->u.hello.cpus;
		seen.hellos++;
		memset(&m, 0, sizeof(m));
		m.type = AGENT_M_WELCOME;
		m.u.welcome.v = AGENT_PROTO_VERSION;
		snprintf(m.u.welcome.host, sizeof(m.u.welcome.host), "%s",
		    in->u.hello.host);
		m.u.welcome.sample_s = 1;
		assert_int_equal(agent_conn_send(c, &m), 0);
		break;
	case AGENT_M_SAMPLE:
		if (seen.resynced == 0)
			seen.sample_before_resync = true;
		seen.samples++;
		seen.sample_vms = (int)in->u.sample.nvms;
		break;
	case AGENT_M_STATE:
		seen.states++;
		i = vm_index(in->u.state.vm);
		seen.vms[i].state = in->u.state.state;
		seen.vms[i].domid = in->u.state.domid;
		snprintf(seen.vms[i].addr, sizeof(seen.vms[i].addr), "%s",
		    in->u.state.addr);
		seen.vms[i].n++;
		if (strcmp(in->u.state.vm, "p-01") == 0 &&
		    in->u.state.state == VM_S_PAUSED)
			seen.paused_seen++;
		break;
	case AGENT_M_RESULT:
		seen.results++;
		seen.result = in->u.result;
		break;
	case AGENT_M_RESYNCED:
		if (seen.resynced++ == 0) {
			seen.resync_states = seen.states;
			seen.resync_said = in->u.resynced;
		}
		break;
	default:
		fail_msg("unexpected %s from the agent",
		    agent_msg_names[in->type]);
	}
}

static void
srv_closed(struct agent_conn *c, const char *why, void *arg)
{
	(void)why;
	(void)arg;
	if (seen.conn == c)
		seen.conn = NULL;
	seen.closed++;
}

static const struct agent_tls_cbs srv_cbs = {
	srv_connected, srv_message, srv_closed, NULL
};

static void
server_start(uint16_t port)
{
	struct agent_tls_conf tc;

	memset(&tc, 0, sizeof(tc));
	tc.ca_file = path("ca.pem");
	tc.cert_file = path("controller.pem");
	tc.key_file = path("controller.key");
	srv = agent_server_new(base, &tc, "127.0.0.1", port, &srv_cbs, NULL);
	assert_non_null(srv);
	srv_port = agent_server_port(srv);
}

static void
send_op(int64_t id, const char *vm, enum agent_action action)
{
	struct agent_msg m;

	assert_non_null(seen.conn);
	memset(&m, 0, sizeof(m));
	m.type = AGENT_M_OP;
	m.u.op.id = id;
	snprintf(m.u.op.vm, sizeof(m.u.op.vm), "%s", vm);
	m.u.op.action = action;
	assert_int_equal(agent_conn_send(seen.conn, &m), 0);
}

#define CRED_PASS	"ABCDEFGHJKLMNPQRSTUVWX2"

static void
send_credential(int64_t id, const char *vm)
{
	struct agent_msg m;

	assert_non_null(seen.conn);
	memset(&m, 0, sizeof(m));
	m.type = AGENT_M_OP;
	m.u.op.id = id;
	snprintf(m.u.op.vm, sizeof(m.u.op.vm), "%s", vm);
	m.u.op.action = AGENT_A_CREDENTIAL;
	memcpy(m.u.op.user, "xvds-abcdefgh", CREDENTIAL_USER_LEN + 1);
	memcpy(m.u.op.password, CRED_PASS, CREDENTIAL_PASSWORD_LEN + 1);
	assert_int_equal(agent_conn_send(seen.conn, &m), 0);
}

/* The daemon. */

/* A loopback port free now, for the daemon's migration listener. */
static unsigned
free_port(void)
{
	struct sockaddr_in sin;
	socklen_t len = sizeof(sin);
	int	 s;

	assert_true((s = socket(AF_INET, SOCK_STREAM, 0)) >= 0);
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(s, (struct sockaddr *)&sin, sizeof(sin)), 0);
	assert_int_equal(getsockname(s, (struct sockaddr *)&sin, &len), 0);
	close(s);
	return ntohs(sin.sin_port);
}

/* With a controller block if cert (its certificate's name) is not NULL. */
static void
write_conf(const char *cert)
{
	static unsigned mport;
	FILE	*f;

	if (mport == 0)
		mport = free_port();
	assert_non_null(f = fopen(path("xvds.conf"), "w"));
	fprintf(f, "host-name " HOST "\n"
	    "state-dir \"%s\"\n"
	    "control-socket \"%s\"\n"
	    "store \"%s\"\n"
	    "sample-interval 1s\n"
	    "migration {\n\tlisten 127.0.0.1 port %u\n}\n",
	    path("state"), path("xvdsd.sock"), path("store"), mport);
	if (cert != NULL)
		fprintf(f, "controller {\n"
		    "\taddress 127.0.0.1 port %u\n"
		    "\tca-file \"%s\"\n\tcert-file \"%s.pem\"\n"
		    "\tkey-file \"%s.key\"\n}\n", (unsigned)srv_port,
		    path("ca.pem"), path(cert), path(cert));
	fprintf(f, "template \"desk\" {\n\ttype pvh\n\tmemory 128M\n"
	    "\tkernel \"/boot/vmlinuz\"\n\tnetwork bridge \"xenbr0\"\n}\n"
	    "pool \"p\" {\n\ttemplate \"desk\"\n\tkind cvm\n\tsize %d\n"
	    "\tready %d\n}\n", NVMS, NVMS);
	assert_int_equal(fclose(f), 0);
}

static void
daemon_start(void)
{
	const char *b = getenv("top_builddir");
	char	 prog[512];
	int	 fd;

	snprintf(prog, sizeof(prog), "%s/xvds/xvdsd-sim", b != NULL ? b : ".");
	daemon_pid = fork();
	assert_true(daemon_pid >= 0);
	if (daemon_pid == 0) {
		fd = open(path("xvdsd.log"), O_WRONLY | O_CREAT | O_APPEND, 0600);
		if (fd >= 0) {
			dup2(fd, 1);
			dup2(fd, 2);
		}
		execl(prog, "xvdsd-sim", "-d", "-f", path("xvds.conf"), (char *)NULL);
		_exit(127);
	}
}

/* The daemon's log, on a failure. */
static void
show_log(void)
{
	char	 line[512];
	FILE	*f;

	if ((f = fopen(path("xvdsd.log"), "r")) == NULL)
		return;
	while (fgets(line, sizeof(line), f) != NULL)
		print_message("# log: %s", line);
	fclose(f);
}

/* Whether the daemon's log holds s. */
static bool
log_has(const char *s)
{
	char	 line[512];
	bool	 found = false;
	FILE	*f;

	if ((f = fopen(path("xvdsd.log"), "r")) == NULL)
		return false;
	while (!found && fgets(line, sizeof(line), f) != NULL)
		found = strstr(line, s) != NULL;
	fclose(f);
	return found;
}

/* Runs the loop until cond() holds, or fails after WAIT_MS. */
static void
wait_for(int (*cond)(void), const char *what)
{
	int	 ok = 0, i;

	for (i = 0; i < WAIT_MS / 50 && !(ok = cond()); i++)
		run_for(base, 50);
	if (!ok) {
		show_log();
		fail_msg("timed out waiting for %s", what);
	}
}

static int
c_hello(void)
{
	return seen.hellos > 0;
}

static int
c_all_states(void)
{
	int	 i, n = 0;

	for (i = 0; i < seen.nvms; i++)
		n += seen.vms[i].n > 0;
	return n >= NVMS;
}

static int
c_resynced(void)
{
	return seen.resynced > 0;
}

static int
c_two_samples(void)
{
	return seen.samples >= 2;
}

/* p-01 ready, with its clean image taken: pause is legal and not busy. */
static int
c_p01_settled(void)
{
	int	 i;

	for (i = 0; i < seen.nvms; i++)
		if (strcmp(seen.vms[i].vm, "p-01") == 0)
			return seen.vms[i].state == VM_S_READY &&
			    access(path("store/clean/p-01.json"), F_OK) == 0;
	return 0;
}

static int
c_result(void)
{
	return seen.results > 0;
}

static int
c_paused(void)
{
	return seen.paused_seen > 0;
}

static int
c_closed(void)
{
	return seen.closed > 0;
}

/* Sends an op that must fail with code. */
static void
op_refused(int64_t id, const char *vm, enum agent_action action,
    const char *code)
{
	reset_seen();
	send_op(id, vm, action);
	wait_for(c_result, "the result of an op to refuse");
	assert_int_equal(seen.result.id, id);
	assert_false(seen.result.ok);
	assert_string_equal(seen.result.code, code);
}

/* The test. */

static int
setup(void **state)
{
	const char *tmp = getenv("TMPDIR");

	(void)state;
	if (tmp == NULL || tmp[0] == '\0' || strlen(tmp) > 150)
		tmp = "/tmp";
	snprintf(dir, sizeof(dir), "%s/xvds-link-XXXXXX", tmp);
	assert_non_null(mkdtemp(dir));
	pki_make_cert(dir, "ca", "XVDS test CA", NULL, NULL);
	pki_make_cert(dir, "controller", "controller", "ca", "IP:127.0.0.1");
	pki_make_cert(dir, "host", HOST, "ca", NULL);
	signal(SIGPIPE, SIG_IGN);
	log_init(1, 0);
	assert_non_null(base = event_base_new());
	pki_make_cert(dir, "other", "otherhost", "ca", NULL);
	server_start(0);
	write_conf("host");
	daemon_start();
	return 0;
}

static int
teardown(void **state)
{
	char	 cmd[256];
	int	 status;

	(void)state;
	if (daemon_pid > 0) {
		kill(daemon_pid, SIGTERM);
		waitpid(daemon_pid, &status, 0);
	}
	if (srv != NULL)
		agent_server_free(srv);
	event_base_free(base);
	if (getenv("XVDS_TEST_LOG") != NULL)
		show_log();
	/* The daemon's state directory and store: a tree of its own. */
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		print_message("# could not remove %s\n", dir);
	return 0;
}

static void
test_link(void **state)
{
	int	 i, status;

	(void)state;
	wait_for(c_hello, "hello");
	assert_string_equal(seen.hello_host, HOST);
	assert_string_equal(seen.identity, HOST);
	assert_true(seen.hello_cpus >= 1);

	/*
	 * After the welcome: every VM's state, the end of the resync with
	 * their count, then samples each second.
	 */
	wait_for(c_all_states, "every VM's state");
	wait_for(c_resynced, "resynced");
	assert_int_equal(seen.resync_states, NVMS);
	assert_int_equal(seen.resync_said, NVMS);
	assert_false(seen.sample_before_resync);
	wait_for(c_two_samples, "two samples");
	assert_int_equal(seen.resynced, 1);

	/* A state change makes a state message; an op gets its result. */
	wait_for(c_p01_settled, "p-01 ready");
	reset_seen();
	send_op(1, "p-01", AGENT_A_PAUSE);
	wait_for(c_result, "the result of pause");
	if (!seen.result.ok)
		fail_msg("pause: %s: %s", seen.result.code, seen.result.message);
	assert_int_equal(seen.result.id, 1);
	wait_for(c_paused, "p-01's state message \"paused\"");
	i = vm_index("p-01");
	assert_int_equal(seen.vms[i].state, VM_S_PAUSED);

	op_refused(2, "no-such", AGENT_A_PAUSE, "no-such-vm");
	/* A Ready VM cannot be unpaused. */
	op_refused(3, "p-02", AGENT_A_UNPAUSE, "illegal-transition");

	/*
	 * A credential: the simulated guest applies it; a paused VM cannot
	 * take one.  The password is in no log line.
	 */
	reset_seen();
	send_credential(4, "p-02");
	wait_for(c_result, "the result of a credential");
	if (!seen.result.ok)
		fail_msg("credential: %s: %s", seen.result.code,
		    seen.result.message);
	assert_int_equal(seen.result.id, 4);
	reset_seen();
	send_credential(5, "p-01");
	wait_for(c_result, "the result of a credential to a paused VM");
	assert_int_equal(seen.result.id, 5);
	assert_false(seen.result.ok);
	assert_string_equal(seen.result.code, "illegal-transition");
	assert_true(log_has("credential"));
	assert_false(log_has(CRED_PASS));

	/* The controller goes away and comes back: reconnect, resync. */
	agent_server_free(srv);
	srv = NULL;
	wait_for(c_closed, "the close");
	reset_seen();
	server_start(srv_port);
	wait_for(c_hello, "hello again");
	assert_string_equal(seen.hello_host, HOST);
	wait_for(c_all_states, "every VM's state again");
	wait_for(c_resynced, "resynced again");
	assert_int_equal(seen.resync_said, NVMS);
	assert_int_equal(seen.resync_states, NVMS);
	i = vm_index("p-01");
	assert_int_equal(seen.vms[i].state, VM_S_PAUSED);
	i = vm_index("p-02");
	assert_int_equal(seen.vms[i].state, VM_S_READY);
	/* With what the controller needs to hand it out. */
	assert_true(seen.vms[i].domid != AGENT_NODOMAIN);
	assert_true(seen.vms[i].addr[0] != '\0');
	wait_for(c_two_samples, "samples again");
	assert_int_equal(seen.sample_vms, NVMS);

	/* SIGHUP, the block unchanged: the connection stays. */
	reset_seen();
	kill(daemon_pid, SIGHUP);
	run_for(base, 1500);
	assert_int_equal(seen.closed, 0);
	assert_int_equal(seen.hellos, 0);
	/* A certificate of another host: the reload is refused, link kept. */
	write_conf("other");
	kill(daemon_pid, SIGHUP);
	run_for(base, 1500);
	assert_int_equal(seen.closed, 0);
	assert_true(seen.samples >= 1);
	/* Without the block: the link closes, for good. */
	write_conf(NULL);
	kill(daemon_pid, SIGHUP);
	wait_for(c_closed, "the close on a reload without the block");
	reset_seen();
	run_for(base, 1500);
	assert_int_equal(seen.hellos, 0);
	/* And back. */
	write_conf("host");
	kill(daemon_pid, SIGHUP);
	wait_for(c_hello, "hello after a reload with the block");
	wait_for(c_all_states, "every VM's state after the reload");

	/* SIGTERM: a clean exit (under the sanitizers: no leak either). */
	kill(daemon_pid, SIGTERM);
	assert_int_equal(waitpid(daemon_pid, &status, 0), daemon_pid);
	daemon_pid = -1;
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		show_log();
		fail_msg("xvdsd-sim ended with status %#x", status);
	}
	wait_for(c_closed, "the close on SIGTERM");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_link, setup, teardown),
	};

	return cmocka_run_group_tests_name("agent_link", tests, NULL, NULL);
}

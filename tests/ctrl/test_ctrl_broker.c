/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * test_ctrl_broker.c — the controller's broker service
 * (xvds/controller/broker.c) against a real PostgreSQL (tests/ctrl/broker.test
 * starts it) and real TLS on loopback.  The broker's loop runs in a
 * thread of its own; the thin clients here are plain blocking OpenSSL
 * clients that check the server's certificate against the test CA, so
 * that several can send at once.  A fake host-a (agent_fake.c) on the
 * loop answers every op (credentials, wakes, resets), reports the woken
 * desktops' states after its answers, and fails the op a test asks it to.
 * The logins that ask for progress go through the thin client's own
 * xvds-client/broker_client.c.
 *
 *   test_ctrl_broker CONNINFO PKI-DIR
 */
#include <config.h>

#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <event2/event.h>
#include <libpq-fe.h>
#include <openssl/ssl.h>

#include "agent_fake.h"
#include "agent/tls.h"
#include "broker_client.h"
#include "common/broker_msg.h"
#include "common/credential.h"
#include "controller/agent.h"
#include "controller/broker.h"
#include "controller/cluster.h"
#include "controller/conf.h"
#include "controller/power.h"
#include "controller/session.h"
#include "db/db.h"
#include "pg_check.h"
#include "common/passwd.h"

#define ROUNDS		20	/* of the concurrent logins */
#define PASSWORD	"correct horse battery staple"
/* The RDP certificates' fingerprints: lab-01's, and a woken desktop's. */
#define SHA_LAB01	"1111111111111111111111111111111111111111111111111111111111111111"
#define SHA_WOKEN	"2222222222222222222222222222222222222222222222222222222222222222"

static const char *conninfo, *pki;
static struct event_base *base;
static struct db *db;
static struct ctrl_conf *conf;
static PGconn	*pg;
static SSL_CTX	*cctx;
static pthread_t loop_thread;
static atomic_int stopping;
static uint16_t	 port;

/*
 * The host "host-a", played on the broker's loop: it registers and
 * answers every op, which the test reads from its own thread.
 */
static struct agent_client *host_a;
static struct agent_conn *host_conn;
static atomic_int host_welcomed, host_ops;
static atomic_int host_acts[AGENT_A__COUNT];	/* ops seen, by action */
static atomic_int host_fail = -1;
static atomic_int host_bad_credentials;	/* the action to fail, or -1 */
static char	 host_last_vm[AGENT_VM_MAX + 1];
static enum agent_action host_last_action;
static char	 host_wake_addr[AGENT_ADDR_MAX + 1];	/* reported when woken */
/* A state report the test thread asks the loop to send. */
static char	 host_report_vm[AGENT_VM_MAX + 1];
static atomic_int host_report = -1;	/* its state, or -1 */
/* The throttle's slot on host-a the test holds: 1 take, 2 give back. */
static atomic_int power_hold;
/* Samples host-a is to send (placements are reserved until samples). */
static atomic_int host_samples;

static void
host_connected(struct agent_conn *c, const char *id, void *arg)
{
	struct agent_msg m;

	(void)id;
	(void)arg;
	host_conn = c;
	fake_hello(&m, "host-a", 8, 16384);
	(void)agent_conn_send(c, &m);
}

static void
host_message(struct agent_conn *c, const struct agent_msg *in, void *arg)
{
	struct agent_msg m;
	enum agent_action a;

	(void)arg;
	if (in->type == AGENT_M_WELCOME) {
		/* A sample, so that the controller may place PVMs here. */
		fake_sample(&m, 0, 8, 16384, 12000);
		(void)agent_conn_send(c, &m);
		atomic_fetch_add(&host_welcomed, 1);
	}
	if (in->type != AGENT_M_OP)
		return;
	a = in->u.op.action;
	snprintf(host_last_vm, sizeof(host_last_vm), "%s", in->u.op.vm);
	host_last_action = a;
	if (a == AGENT_A_CREDENTIAL && (!credential_user_ok(in->u.op.user) ||
	    !credential_password_ok(in->u.op.password)))
		atomic_fetch_add(&host_bad_credentials, 1);
	fake_result(&m, in->u.op.id, (int)a != atomic_load(&host_fail));
	(void)agent_conn_send(c, &m);
	/* The state report of a woken desktop follows the op's result, as
	 * it may on a real host: the broker must wait for the address. */
	if (m.u.result.ok && (a == AGENT_A_UNPAUSE || a == AGENT_A_RESTORE ||
	    a == AGENT_A_START)) {
		fake_state(&m, in->u.op.vm, VM_S_READY, 7, host_wake_addr);
		snprintf(m.u.state.rdp_sha256, sizeof(m.u.state.rdp_sha256),
		    "%s", SHA_WOKEN);
		(void)agent_conn_send(c, &m);
	}
	atomic_fetch_add(&host_acts[a], 1);
	atomic_fetch_add(&host_ops, 1);
}

static void
host_closed(struct agent_conn *c, const char *why, void *arg)
{
	(void)c;
	(void)why;
	(void)arg;
}

static const struct agent_tls_cbs host_cbs = { host_connected, host_message,
    host_closed, NULL };

struct client {
	int	 fd;
	SSL	*ssl;
};

static void
tick(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	struct agent_msg m;
	int	 st;

	(void)arg;
	switch (atomic_exchange(&power_hold, 0)) {
	case 1:
		ctrl_power_limits(1, 1);
		ctrl_power_take("host-a");
		break;
	case 2:
		ctrl_power_give("host-a");
		ctrl_power_limits(0, 0);
		break;
	}
	while (atomic_load(&host_samples) > 0 && host_conn != NULL) {
		/* The last of them says 1 VM running (rvm, a figure only
		 * recorded): the test sees it taken. */
		fake_sample(&m, atomic_load(&host_samples) == 1, 8, 16384,
		    12000);
		(void)agent_conn_send(host_conn, &m);
		atomic_fetch_sub(&host_samples, 1);
	}
	if ((st = atomic_exchange(&host_report, -1)) != -1 && host_conn != NULL) {
		fake_state(&m, host_report_vm, (enum vm_state)st, 7, "");
		(void)agent_conn_send(host_conn, &m);
	}
	if (atomic_load(&stopping))
		event_base_loopbreak(base);
}

static void *
loop_main(void *arg)
{
	struct timeval tv = { 0, 20000 };
	struct event *t;

	(void)arg;
	t = event_new(base, -1, EV_PERSIST, tick, NULL);
	evtimer_add(t, &tv);
	event_base_dispatch(base);
	event_free(t);
	return NULL;
}

/* The one value of a query of at most one parameter. */
static const char *
sql1(const char *sql, const char *param)
{
	static char buf[256];
	PGresult *r = PQexecParams(pg, sql, param != NULL ? 1 : 0, NULL,
	    param != NULL ? &param : NULL, NULL, NULL, 0);

	if (PQresultStatus(r) != PGRES_TUPLES_OK || PQntuples(r) != 1)
		fail_msg("%s: %s", sql, PQresultErrorMessage(r));
	snprintf(buf, sizeof(buf), "%s", PQgetvalue(r, 0, 0));
	PQclear(r);
	return buf;
}

/*
 * sql1 until it answers want, for at most PG_WAIT_MS: the broker writes
 * its refusals' events after it has answered, and the session module
 * sweeps every second.
 */
static void
sql1_soon(const char *sql, const char *param, const char *want)
{
	int	 i;

	for (i = 0; i < PG_WAIT_MS / 10 && strcmp(sql1(sql, param), want) != 0;
	    i++)
		usleep(10000);
	assert_string_equal(sql1(sql, param), want);
}

static void
add_user(const char *name, const char *password)
{
	char	 hash[PASSWD_HASH_MAX], err[128];
	const char *p[2] = { name, hash };
	PGresult *r;

	assert_int_equal(passwd_hash(password, hash, err, sizeof(err)), 0);
	r = PQexecParams(pg, "INSERT INTO users (name, pwhash) VALUES ($1, $2)",
	    2, NULL, p, NULL, NULL, 0);
	assert_int_equal(PQresultStatus(r), PGRES_COMMAND_OK);
	PQclear(r);
}

/*
 * A client from src, one of 127.0.0.0/8 (all of it is loopback on
 * Linux): an address of its own to the broker's limits.  0, or -1 if the
 * broker would not have it.  Its reads give up after PG_WAIT_MS.
 */
static int
client_try(struct client *c, const char *src)
{
	struct sockaddr_in sin, from;
	struct timeval tv = { PG_WAIT_MS / 1000, 0 };

	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons(port);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	memset(&from, 0, sizeof(from));
	from.sin_family = AF_INET;
	assert_int_equal(inet_pton(AF_INET, src, &from.sin_addr), 1);
	c->ssl = NULL;
	assert_true((c->fd = socket(AF_INET, SOCK_STREAM, 0)) >= 0);
	(void)setsockopt(c->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	if (bind(c->fd, (struct sockaddr *)&from, sizeof(from)) == -1 ||
	    connect(c->fd, (struct sockaddr *)&sin, sizeof(sin)) == -1)
		goto fail;
	assert_non_null(c->ssl = SSL_new(cctx));
	SSL_set_fd(c->ssl, c->fd);
	SSL_set1_host(c->ssl, "127.0.0.1");
	if (SSL_connect(c->ssl) != 1)
		goto fail;
	return 0;
fail:
	SSL_free(c->ssl);
	close(c->fd);
	c->ssl = NULL;
	c->fd = -1;
	return -1;
}

static void
client_open(struct client *c)
{
	assert_int_equal(client_try(c, "127.0.0.1"), 0);
}

static void
client_close(struct client *c)
{
	SSL_free(c->ssl);
	if (c->fd != -1)
		close(c->fd);
}

/* A request line, in one record; -1 if the connection is gone. */
static int
client_write(struct client *c, const char *line)
{
	size_t	 n = strlen(line);
	char	*buf;
	int	 r;

	if (c->ssl == NULL)
		return -1;
	/* One record, as a client should: no Nagle delay to measure. */
	assert_non_null(buf = malloc(n + 1));
	memcpy(buf, line, n);
	buf[n] = '\n';
	r = SSL_write(c->ssl, buf, (int)n + 1);
	free(buf);
	return r == (int)n + 1 ? 0 : -1;
}

static void
client_send(struct client *c, const char *line)
{
	assert_int_equal(client_write(c, line), 0);
}

/* One reply line, decoded; -1 if the connection ended first. */
static int
client_recv(struct client *c, struct broker_reply *rep)
{
	char	 buf[BROKER_MSG_MAX + 2], err[256];
	size_t	 n = 0;
	int	 r;

	while (n < sizeof(buf) - 1) {
		if (c->ssl == NULL || (r = SSL_read(c->ssl, buf + n, 1)) <= 0)
			return -1;
		if (buf[n] == '\n')
			break;
		n++;
	}
	if (broker_reply_decode(buf, n, rep, err, sizeof(err)) == -1)
		fail_msg("reply %.*s: %s", (int)n, buf, err);
	return 0;
}

/* One request, one reply: never progress, which it does not ask for. */
static void
ask(const char *line, struct broker_reply *rep)
{
	struct client c;

	client_open(&c);
	client_send(&c, line);
	assert_int_equal(client_recv(&c, rep), 0);
	client_close(&c);
	if (rep->type == BROKER_R_PROGRESS)
		fail_msg("progress (%s) not asked for",
		    broker_progress_names[rep->step]);
}

/* The steps a login heard, as "step step ...". */
static void
heard(enum broker_progress step, void *arg)
{
	char	*steps = arg;
	size_t	 n = strlen(steps);

	snprintf(steps + n, 128 - n, "%s%s", n > 0 ? " " : "",
	    broker_progress_names[step]);
}

/* A login through the thin client's broker_client, asking for progress. */
static void
ask_progress(const char *user, enum vm_kind kind, struct broker_reply *rep,
    char steps[128])
{
	struct broker_client *bc;
	struct broker_request req;
	char	 ca[512], err[256];

	snprintf(ca, sizeof(ca), "%s/ca.pem", pki);
	if ((bc = broker_client_open("127.0.0.1", port, ca, err,
	    sizeof(err))) == NULL)
		fail_msg("%s", err);
	memset(&req, 0, sizeof(req));
	req.type = BROKER_LOGIN;
	snprintf(req.user, sizeof(req.user), "%s", user);
	snprintf(req.password, sizeof(req.password), "%s", PASSWORD);
	req.kind = kind;
	steps[0] = '\0';
	broker_client_set_progress(bc, heard, steps);
	if (broker_client_ask(bc, &req, PG_WAIT_MS / 1000, rep, err,
	    sizeof(err)) == -1)
		fail_msg("%s", err);
	broker_client_close(bc);
}

static char *
login_line(const char *user, const char *password)
{
	static char buf[512];

	snprintf(buf, sizeof(buf), "{\"v\":1,\"msg\":\"login\",\"user\":\"%s\","
	    "\"password\":\"%s\",\"kind\":\"cvm\"}", user, password);
	return buf;
}

static char *
login_kind_line(const char *user, const char *kind)
{
	static char buf[512];

	snprintf(buf, sizeof(buf), "{\"v\":1,\"msg\":\"login\",\"user\":\"%s\","
	    "\"password\":\"%s\",\"kind\":\"%s\"}", user, PASSWORD, kind);
	return buf;
}

static char *
session_line(const char *msg, const char *session, const char *token)
{
	static char buf[512];

	snprintf(buf, sizeof(buf), "{\"v\":1,\"msg\":\"%s\",\"session\":\"%s\","
	    "\"token\":\"%s\"}", msg, session, token);
	return buf;
}

static void
assert_error(const struct broker_reply *rep, enum broker_error code)
{
	assert_int_equal(rep->type, BROKER_R_ERROR);
	if (rep->code != code)
		fail_msg("error %s, not %s", broker_error_names[rep->code],
		    broker_error_names[code]);
}

static int
setup(void **state)
{
	struct agent_tls_conf tls;
	char	 text[2048], err[512], path[512], hcert[512], hkey[512];
	int	 i;

	(void)state;
	assert_non_null(base = event_base_new());
	assert_non_null(pg = PQconnectdb(conninfo));
	assert_int_equal(PQstatus(pg), CONNECTION_OK);
	pg_exec_ok(pg, "INSERT INTO templates (name, memory_mib) VALUES ('desk', 2048)");
	pg_exec_ok(pg, "INSERT INTO pools (name, template_id, size) VALUES "
	    "('lab', 1, 4), ('staff', 1, 1)");
	pg_exec_ok(pg, "INSERT INTO vms (name, kind, state, template_id, pool_id, "
	    "memory_mib, address) VALUES "
	    "('lab-01', 'cvm', 'ready', 1, 1, 2048, '10.0.0.1'), "
	    "('lab-02', 'cvm', 'ready', 1, 1, 2048, '10.0.0.2'), "
	    "('lab-03', 'cvm', 'paused', 1, 1, 2048, '10.0.0.3'), "
	    "('lab-04', 'cvm', 'saved', 1, 1, 2048, NULL), "
	    "('staff-01', 'cvm', 'ready', 1, 2, 2048, '10.0.1.1')");
	add_user("alice", PASSWORD);
	add_user("bob", PASSWORD);
	add_user("carol", PASSWORD);
	add_user("frank", PASSWORD);
	add_user("gina", PASSWORD);
	add_user("hank", PASSWORD);
	add_user("ivy", PASSWORD);
	/* Personal desktops: dave's fits host-a, erin's fits nowhere. */
	add_user("dave", PASSWORD);
	add_user("erin", PASSWORD);
	add_user("jack", PASSWORD);
	add_user("kim", PASSWORD);
	add_user("lee", PASSWORD);
	/* For the attacks on the limits. */
	add_user("zoe", PASSWORD);
	add_user("yuri", PASSWORD);
	add_user("xena", PASSWORD);
	add_user("wade", PASSWORD);
	pg_exec_ok(pg, "INSERT INTO vms (name, kind, state, template_id, "
	    "owner_id, memory_mib) SELECT 'pvm-' || name, 'pvm', 'inactive', 1, "
	    "id, CASE name WHEN 'dave' THEN 2048 ELSE 1000000 END FROM users "
	    "WHERE name IN ('dave', 'erin')");
	/* jack's is paused on host-z, up as far as the database knows, but
	 * not connected. */
	pg_exec_ok(pg, "INSERT INTO hosts (name, address, state, cpus, "
	    "memory_mib) VALUES ('host-z', '127.0.0.9', 'up', 4, 8192)");
	pg_exec_ok(pg, "INSERT INTO vms (name, kind, state, template_id, "
	    "owner_id, memory_mib, host_id, address) SELECT 'pvm-jack', 'pvm', "
	    "'paused', 1, u.id, 2048, h.id, '10.0.9.1' FROM users u, hosts h "
	    "WHERE u.name = 'jack' AND h.name = 'host-z'");
	/* All in "students", allowed on "lab" only: never "staff-01". */
	pg_exec_ok(pg, "INSERT INTO groups (name) VALUES ('students')");
	pg_exec_ok(pg, "INSERT INTO memberships SELECT u.id, g.id FROM users u, "
	    "groups g");
	pg_exec_ok(pg, "INSERT INTO permissions SELECT g.id, p.id FROM groups g, "
	    "pools p WHERE p.name = 'lab'");

	snprintf(text, sizeof(text), "broker listen 127.0.0.1\n"
	    "agent listen 127.0.0.1\n"
	    "ca-file \"%s/ca.pem\"\ncert-file \"%s/controller.pem\"\n"
	    "key-file \"%s/controller.key\"\n"
	    "session-grace 1\n", pki, pki, pki);
	if ((conf = ctrl_conf_parse(text, "test", err, sizeof(err))) == NULL)
		fail_msg("%s", err);
	conf->broker_port = 0;
	conf->agent_port = 0;
	assert_non_null(db = db_open(base, conninfo, err, sizeof(err)));
	ctrl_cluster_start(db, &conf->policy);
	assert_int_equal(ctrl_agent_start(base, db, conf), 0);
	memset(&tls, 0, sizeof(tls));
	snprintf(path, sizeof(path), "%s/ca.pem", pki);
	snprintf(hcert, sizeof(hcert), "%s/host-a.pem", pki);
	snprintf(hkey, sizeof(hkey), "%s/host-a.key", pki);
	tls.ca_file = path;
	tls.cert_file = hcert;
	tls.key_file = hkey;
	assert_non_null(host_a = agent_client_new(base, &tls, "127.0.0.1",
	    ctrl_agent_port(), &host_cbs, NULL));
	assert_int_equal(ctrl_broker_start(base, db, conf), 0);
	assert_true(ctrl_broker_running());
	assert_true((port = ctrl_broker_port()) > 0);
	assert_int_equal(ctrl_session_start(base, db, conf), 0);

	assert_non_null(cctx = SSL_CTX_new(TLS_client_method()));
	snprintf(path, sizeof(path), "%s/ca.pem", pki);
	assert_int_equal(SSL_CTX_load_verify_locations(cctx, path, NULL), 1);
	SSL_CTX_set_verify(cctx, SSL_VERIFY_PEER, NULL);
	assert_int_equal(pthread_create(&loop_thread, NULL, loop_main, NULL), 0);
	/* The CVMs live on host-a, once it is registered. */
	for (i = 0; i < PG_WAIT_MS / 10 && atomic_load(&host_welcomed) == 0;
	    i++)
		usleep(10000);
	assert_int_equal(atomic_load(&host_welcomed), 1);
	pg_exec_ok(pg, "UPDATE vms SET host_id = (SELECT id FROM hosts WHERE "
	    "name = 'host-a') WHERE kind = 'cvm'");
	pg_exec_ok(pg, "UPDATE vms SET rdp_sha256 = '" SHA_LAB01 "' WHERE "
	    "name = 'lab-01'");
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	atomic_store(&stopping, 1);
	pthread_join(loop_thread, NULL);
	agent_client_free(host_a);
	ctrl_broker_stop("test over");
	ctrl_session_stop();
	ctrl_agent_stop("test over");
	ctrl_cluster_stop();
	assert_false(ctrl_broker_running());
	db_close(db);
	ctrl_conf_free(conf);
	SSL_CTX_free(cctx);
	PQfinish(pg);
	event_base_free(base);
	return 0;
}

/* Nothing in the database holds secret, in any column of any row. */
static void
assert_nowhere(const char *secret)
{
	assert_string_equal(sql1("SELECT count(*) FROM ("
	    "SELECT row_to_json(t)::text j FROM sessions t UNION ALL "
	    "SELECT row_to_json(t)::text FROM events t UNION ALL "
	    "SELECT row_to_json(t)::text FROM vms t UNION ALL "
	    "SELECT row_to_json(t)::text FROM users t) x "
	    "WHERE strpos(j, $1) > 0", secret), "0");
}

static struct broker_desktop alice;

static void
test_login(void **state)
{
	struct broker_reply rep;
	double	 t0, ms;

	(void)state;
	t0 = now_ms();
	ask(login_line("alice", PASSWORD), &rep);
	ms = now_ms() - t0;
	printf("# login (TLS handshake included): %.1f ms\n", ms);
	assert_int_equal(rep.type, BROKER_R_DESKTOP);
	alice = rep.desktop;
	assert_string_equal(alice.address, "10.0.0.1");
	/* The desktop's RDP certificate, as its host reported it. */
	assert_string_equal(alice.cert_fingerprint, SHA_LAB01);
	assert_int_equal(alice.port, 3389);
	assert_int_equal(alice.lease_seconds, conf->session_lease);
	assert_int_equal(strncmp(alice.rdp_user, "xvds-", 5), 0);
	assert_true(strlen(alice.rdp_password) > 0);
	assert_true(strlen(alice.token) > 0);
	assert_string_equal(sql1("SELECT v.name || ' ' || v.state || ' ' || "
	    "u.name || ' ' || (s.lease_until > now() + interval '100 s') "
	    "FROM sessions s JOIN vms v ON v.id = s.vm_id JOIN users u ON "
	    "u.id = s.user_id WHERE s.id = $1::bigint AND s.ended IS NULL",
	    alice.session), "lab-01 running alice true");
	assert_string_equal(sql1("SELECT count(*) FROM events WHERE kind = "
	    "'login' AND subject = 'alice'", NULL), "1");
	assert_nowhere(alice.rdp_password);
	assert_nowhere(alice.token);
	assert_string_equal(sql1("SELECT (credential_digest IS NOT NULL AND "
	    "token_digest IS NOT NULL)::text FROM sessions WHERE id = $1::bigint",
	    alice.session), "true");
	/* The credential went to the desktop's host before the answer. */
	assert_int_equal(atomic_load(&host_acts[AGENT_A_CREDENTIAL]), 1);
	assert_int_equal(atomic_load(&host_bad_credentials), 0);
	assert_string_equal(host_last_vm, "lab-01");
}

static void
test_auth_failed(void **state)
{
	struct broker_reply wrong, unknown;
	double	 t0, t_wrong, t_unknown;

	(void)state;
	t0 = now_ms();
	ask(login_line("alice", "not the password"), &wrong);
	t_wrong = now_ms() - t0;
	t0 = now_ms();
	ask(login_line("nobody", PASSWORD), &unknown);
	t_unknown = now_ms() - t0;
	printf("# wrong password %.1f ms, unknown user %.1f ms\n", t_wrong,
	    t_unknown);
	assert_error(&wrong, BROKER_E_AUTH_FAILED);
	assert_error(&unknown, BROKER_E_AUTH_FAILED);
	assert_string_equal(wrong.message, unknown.message);
	sql1_soon("SELECT count(*) FROM events WHERE kind = 'login-failed'",
	    NULL, "2");
}

static void
test_rate_limited(void **state)
{
	struct broker_reply rep;
	int	 i;

	(void)state;
	/* bob's 5 free failures, then one that blocks him for 1 s. */
	for (i = 0; i < 6; i++) {
		ask(login_line("bob", "guess"), &rep);
		assert_error(&rep, BROKER_E_AUTH_FAILED);
	}
	ask(login_line("bob", PASSWORD), &rep);
	assert_error(&rep, BROKER_E_RATE_LIMITED);
	assert_true(rep.retry_after >= 1);
	printf("# rate-limited, retry_after %u s\n", rep.retry_after);
	/* Not counted against alice, on the same address. */
	ask(login_line("alice", "wrong again"), &rep);
	assert_error(&rep, BROKER_E_AUTH_FAILED);
}

static void
test_renew(void **state)
{
	struct broker_reply rep;
	char	 bad[BROKER_TOKEN_MAX + 1];

	(void)state;
	pg_exec_ok(pg, "UPDATE sessions SET lease_until = now() + interval '10 s'");
	ask(session_line("renew", alice.session, alice.token), &rep);
	assert_int_equal(rep.type, BROKER_R_RENEWED);
	assert_int_equal(rep.lease_seconds, conf->session_lease);
	assert_string_equal(sql1("SELECT (lease_until > now() + "
	    "interval '100 s')::text FROM sessions WHERE id = $1::bigint",
	    alice.session), "true");

	snprintf(bad, sizeof(bad), "%s", alice.token);
	bad[0] = bad[0] == 'A' ? 'B' : 'A';
	ask(session_line("renew", alice.session, bad), &rep);
	assert_error(&rep, BROKER_E_BAD_SESSION);
	ask(session_line("renew", "999999", alice.token), &rep);
	assert_error(&rep, BROKER_E_BAD_SESSION);
	ask(session_line("logout", alice.session, bad), &rep);
	assert_error(&rep, BROKER_E_BAD_SESSION);
}

/*
 * Logging in again while the session is open (a thin client restarted,
 * or another one): the same desktop, in the same session, with a new
 * credential and token; the old token is spent.
 */
static void
test_resume(void **state)
{
	struct broker_reply rep;

	(void)state;
	ask(login_line("alice", PASSWORD), &rep);
	assert_int_equal(rep.type, BROKER_R_DESKTOP);
	assert_string_equal(rep.desktop.session, alice.session);
	assert_string_equal(rep.desktop.address, alice.address);
	assert_string_not_equal(rep.desktop.rdp_password, alice.rdp_password);
	assert_int_equal(atomic_load(&host_acts[AGENT_A_CREDENTIAL]), 2);
	ask(session_line("renew", alice.session, alice.token), &rep);
	assert_error(&rep, BROKER_E_BAD_SESSION);
	assert_string_equal(sql1("SELECT count(*) FROM events WHERE kind = "
	    "'login' AND detail->>'resumed' = 'true'", NULL), "1");
	ask(login_line("alice", PASSWORD), &rep);
	assert_int_equal(rep.type, BROKER_R_DESKTOP);
	alice = rep.desktop;
	assert_string_equal(sql1("SELECT count(*) FROM sessions", NULL), "1");
}

static void
test_logout(void **state)
{
	struct broker_reply rep;
	int	 i;

	(void)state;
	ask(session_line("logout", alice.session, alice.token), &rep);
	assert_int_equal(rep.type, BROKER_R_DONE);
	/* The session module resets lab-01 through host-a, within seconds. */
	for (i = 0; i < PG_WAIT_MS / 10 &&
	    atomic_load(&host_acts[AGENT_A_RESET]) == 0; i++)
		usleep(10000);
	assert_int_equal(atomic_load(&host_acts[AGENT_A_RESET]), 1);
	assert_string_equal(host_last_vm, "lab-01");
	assert_string_equal(sql1("SELECT end_reason FROM sessions WHERE "
	    "id = $1::bigint AND ended IS NOT NULL", alice.session), "logout");
	sql1_soon("SELECT (released IS NOT NULL)::text FROM sessions WHERE "
	    "id = $1::bigint", alice.session, "true");
	assert_string_equal(sql1("SELECT count(*) FROM events WHERE kind = "
	    "'logout' AND subject = 'alice'", NULL), "1");
	assert_string_equal(sql1("SELECT count(*) FROM events WHERE kind = "
	    "'vm-released' AND subject = 'lab-01'", NULL), "1");
	/* Once: the token is spent. */
	ask(session_line("renew", alice.session, alice.token), &rep);
	assert_error(&rep, BROKER_E_BAD_SESSION);
	ask(session_line("logout", alice.session, alice.token), &rep);
	assert_error(&rep, BROKER_E_BAD_SESSION);
	/* Released once, not at every sweep. */
	usleep(2500000);
	assert_int_equal(atomic_load(&host_acts[AGENT_A_RESET]), 1);
}

/* A login on a warm broker, its handshake timed apart. */
static void
test_login_latency(void **state)
{
	struct client c;
	struct broker_reply rep;
	double	 t0, t1, t2;

	(void)state;
	t0 = now_ms();
	client_open(&c);
	t1 = now_ms();
	client_send(&c, login_line("alice", PASSWORD));
	assert_int_equal(client_recv(&c, &rep), 0);
	t2 = now_ms();
	client_close(&c);
	assert_int_equal(rep.type, BROKER_R_DESKTOP);
	/* lab-01 is not reset (no host): lab-02 it is. */
	assert_string_equal(rep.desktop.address, "10.0.0.2");
	printf("# warm login: TLS handshake %.1f ms, request to desktop "
	    "%.1f ms\n", t1 - t0, t2 - t1);
}

/* No Ready CVM left: the Paused one is unpaused for carol. */
static void
test_unpause(void **state)
{
	struct broker_reply rep;
	char	 steps[128];

	(void)state;
	snprintf(host_wake_addr, sizeof(host_wake_addr), "10.0.0.3");
	/* carol asks for progress: the steps of a wake, in order, once each. */
	ask_progress("carol", VM_CVM, &rep, steps);
	assert_string_equal(steps, "waking starting credential");
	assert_int_equal(rep.type, BROKER_R_DESKTOP);
	assert_string_equal(rep.desktop.address, "10.0.0.3");
	assert_int_equal(atomic_load(&host_acts[AGENT_A_UNPAUSE]), 1);
	assert_string_equal(host_last_vm, "lab-03");
	assert_int_equal(host_last_action, AGENT_A_CREDENTIAL);
	assert_string_equal(sql1("SELECT detail->>'from' FROM events WHERE "
	    "kind = 'login' AND subject = 'carol'", NULL), "paused");
	/* Its host reports it ready: in a session, it is running. */
	sql1_soon("SELECT state::text FROM vms WHERE name = 'lab-03'", NULL,
	    "running");
}

/*
 * Then the Saved one, restored for frank; it had no address, and its
 * host reports one only after the restore's result: the broker waits.
 */
static void
test_restore(void **state)
{
	struct broker_reply rep;

	(void)state;
	snprintf(host_wake_addr, sizeof(host_wake_addr), "10.0.0.4");
	/* frank does not ask for progress: ask() sees none come. */
	ask(login_line("frank", PASSWORD), &rep);
	assert_int_equal(rep.type, BROKER_R_DESKTOP);
	assert_string_equal(rep.desktop.address, "10.0.0.4");
	/* Read back with the address its host reported once restored. */
	assert_string_equal(rep.desktop.cert_fingerprint, SHA_WOKEN);
	assert_int_equal(atomic_load(&host_acts[AGENT_A_RESTORE]), 1);
	assert_string_equal(host_last_vm, "lab-04");
	assert_string_equal(sql1("SELECT detail->>'from' FROM events WHERE "
	    "kind = 'login' AND subject = 'frank'", NULL), "saved");
}

/*
 * dave's PVM has no domain: placed on host-a (the only host with
 * samples), defined there and started, then answered.  erin's needs more
 * memory than any host has; ivy has none.
 */
static void
test_pvm(void **state)
{
	struct broker_reply rep;
	char	 steps[128];

	(void)state;
	snprintf(host_wake_addr, sizeof(host_wake_addr), "10.0.5.1");
	/* Defined, then started: "booting" once for both. */
	ask_progress("dave", VM_PVM, &rep, steps);
	assert_string_equal(steps, "booting starting credential");
	assert_int_equal(rep.type, BROKER_R_DESKTOP);
	assert_string_equal(rep.desktop.address, "10.0.5.1");
	assert_int_equal(atomic_load(&host_acts[AGENT_A_DEFINE]), 1);
	assert_int_equal(atomic_load(&host_acts[AGENT_A_START]), 1);
	assert_string_equal(sql1("SELECT h.name || ' ' || v.state FROM vms v "
	    "JOIN hosts h ON h.id = v.host_id WHERE v.name = 'pvm-dave'", NULL),
	    "host-a running");

	ask(login_kind_line("erin", "pvm"), &rep);
	assert_error(&rep, BROKER_E_NO_DESKTOP);
	assert_int_equal(rep.reason, BROKER_NR_NO_CAPACITY);
	ask(login_kind_line("ivy", "pvm"), &rep);
	assert_error(&rep, BROKER_E_NO_DESKTOP);
	assert_int_equal(rep.reason, BROKER_NR_NO_POOL);
	assert_int_equal(atomic_load(&host_acts[AGENT_A_START]), 1);
	sql1_soon("SELECT count(*) FROM events WHERE kind = 'login-refused' "
	    "AND subject IN ('erin', 'ivy')", NULL, "2");
}

/*
 * dave's host came back without his desktop (rebooted): its resync made
 * the row inactive and kept his session (test_ctrl_recon).  His next
 * login resumes that session and starts the desktop again on its host.
 */
static void
test_desktop_lost(void **state)
{
	struct broker_reply rep;
	char	 session[32];
	int	 defines = atomic_load(&host_acts[AGENT_A_DEFINE]),
		 starts = atomic_load(&host_acts[AGENT_A_START]);

	(void)state;
	snprintf(session, sizeof(session), "%s", sql1("SELECT s.id FROM "
	    "sessions s JOIN vms v ON v.id = s.vm_id WHERE v.name = "
	    "'pvm-dave' AND s.ended IS NULL", NULL));
	pg_exec_ok(pg, "UPDATE vms SET state = 'inactive', domid = NULL, "
	    "address = NULL WHERE name = 'pvm-dave'");
	snprintf(host_wake_addr, sizeof(host_wake_addr), "10.0.5.2");
	ask(login_kind_line("dave", "pvm"), &rep);
	assert_int_equal(rep.type, BROKER_R_DESKTOP);
	assert_string_equal(rep.desktop.session, session);
	assert_string_equal(rep.desktop.address, "10.0.5.2");
	assert_int_equal(atomic_load(&host_acts[AGENT_A_DEFINE]), defines + 1);
	assert_int_equal(atomic_load(&host_acts[AGENT_A_START]), starts + 1);
	assert_string_equal(host_last_vm, "pvm-dave");
	sql1_soon("SELECT h.name || ' ' || v.state FROM vms v JOIN hosts h "
	    "ON h.id = v.host_id WHERE v.name = 'pvm-dave'", NULL,
	    "host-a running");
}

/*
 * A guest that does not take its credential: no desktop for gina, her
 * session ends at once and the CVM is reset before anybody gets it.
 */
static void
test_credential_failed(void **state)
{
	struct broker_reply rep;
	int	 resets = atomic_load(&host_acts[AGENT_A_RESET]);

	(void)state;
	pg_exec_ok(pg, "UPDATE vms SET state = 'ready' WHERE name = 'lab-01'");
	atomic_store(&host_fail, AGENT_A_CREDENTIAL);
	ask(login_line("gina", PASSWORD), &rep);
	atomic_store(&host_fail, -1);
	assert_error(&rep, BROKER_E_NO_DESKTOP);
	assert_int_equal(rep.reason, BROKER_NR_BOOT_FAILED);
	sql1_soon("SELECT s.end_reason || ' ' || (s.released IS NOT NULL) FROM "
	    "sessions s JOIN users u ON u.id = s.user_id WHERE u.name = 'gina'",
	    NULL, "credential-failed true");
	assert_int_equal(atomic_load(&host_acts[AGENT_A_RESET]), resets + 1);
}

/* carol's client went away: her lease lapses, and after the grace ends. */
static void
test_lease_lapse(void **state)
{
	int	 resets = atomic_load(&host_acts[AGENT_A_RESET]);

	(void)state;
	pg_exec_ok(pg, "UPDATE sessions SET lease_until = started WHERE "
	    "ended IS NULL AND user_id = (SELECT id FROM users WHERE name = "
	    "'carol')");
	sql1_soon("SELECT s.end_reason || ' ' || (s.released IS NOT NULL) FROM "
	    "sessions s JOIN users u ON u.id = s.user_id WHERE u.name = 'carol'",
	    NULL, "lease-lapsed true");
	assert_int_equal(atomic_load(&host_acts[AGENT_A_RESET]), resets + 1);
	assert_string_equal(host_last_vm, "lab-03");
	assert_string_equal(sql1("SELECT count(*) FROM events WHERE kind = "
	    "'session-end' AND subject = 'carol' AND detail->>'why' = "
	    "'lease-lapsed'", NULL), "1");
}

/*
 * frank's desktop is reset by its host on its own (the guest's session
 * was over past the host's grace): his session ends, released already,
 * and no reset is sent on top.
 */
static void
test_desktop_gone(void **state)
{
	int	 resets = atomic_load(&host_acts[AGENT_A_RESET]);

	(void)state;
	snprintf(host_report_vm, sizeof(host_report_vm), "lab-04");
	atomic_store(&host_report, VM_S_RESETTING);
	sql1_soon("SELECT s.end_reason || ' ' || (s.released IS NOT NULL) FROM "
	    "sessions s JOIN users u ON u.id = s.user_id WHERE u.name = 'frank'",
	    NULL, "desktop-resetting true");
	usleep(1500000);
	assert_int_equal(atomic_load(&host_acts[AGENT_A_RESET]), resets);
}

/*
 * The boot-storm throttle (one power op at a time on host-a, held here):
 * a login that needs an unpause waits for the slot, then goes on.
 */
static void
test_throttle(void **state)
{
	struct broker_reply rep;
	struct client c;
	double	 t0, ms;
	int	 unpauses = atomic_load(&host_acts[AGENT_A_UNPAUSE]);

	(void)state;
	pg_exec_ok(pg, "UPDATE vms SET state = CASE name WHEN 'lab-03' THEN "
	    "'paused'::vm_state ELSE 'running' END WHERE kind = 'cvm'");
	atomic_store(&power_hold, 1);
	while (atomic_load(&power_hold) != 0)
		usleep(10000);
	snprintf(host_wake_addr, sizeof(host_wake_addr), "10.0.0.3");
	client_open(&c);
	t0 = now_ms();
	client_send(&c, login_line("hank", PASSWORD));
	usleep(1000000);
	/* Still waiting: nothing was sent to the host. */
	assert_int_equal(atomic_load(&host_acts[AGENT_A_UNPAUSE]), unpauses);
	atomic_store(&power_hold, 2);
	assert_int_equal(client_recv(&c, &rep), 0);
	ms = now_ms() - t0;
	client_close(&c);
	assert_int_equal(rep.type, BROKER_R_DESKTOP);
	assert_string_equal(rep.desktop.address, "10.0.0.3");
	assert_int_equal(atomic_load(&host_acts[AGENT_A_UNPAUSE]), unpauses + 1);
	printf("# a login held by the throttle for 1 s answered in %.0f ms\n",
	    ms);
	assert_true(ms >= 1000);
	/* lab-03 had its address: its host's report of it Ready (running,
	 * in a session) comes after the answer; taken here, not in a later
	 * test. */
	sql1_soon("SELECT state::text FROM vms WHERE name = 'lab-03'", NULL,
	    "running");
}

/*
 * jack's desktop is on a host that is not connected: nothing reaches it,
 * so the login is refused, the session ends owing nothing, and the row
 * is as it was (paused), not left "unpausing".
 */
static void
test_host_away(void **state)
{
	struct broker_reply rep;

	(void)state;
	ask(login_kind_line("jack", "pvm"), &rep);
	assert_error(&rep, BROKER_E_NO_DESKTOP);
	assert_int_equal(rep.reason, BROKER_NR_BOOT_FAILED);
	sql1_soon("SELECT v.state || ' ' || s.end_reason || ' ' || "
	    "(s.released IS NOT NULL) FROM sessions s JOIN vms v ON "
	    "v.id = s.vm_id WHERE v.name = 'pvm-jack'", NULL,
	    "paused host-away true");
}

/*
 * A Saved CVM whose host (host-z) is not connected: its image is on the
 * shared store, so it is defined and restored on host-a, the host the
 * placement rule picks, and kim gets it there.
 */
static void
test_relocate(void **state)
{
	struct broker_reply rep;
	int	 defines = atomic_load(&host_acts[AGENT_A_DEFINE]),
		 restores = atomic_load(&host_acts[AGENT_A_RESTORE]);

	(void)state;
	pg_exec_ok(pg, "UPDATE vms SET state = 'running' WHERE kind = 'cvm'");
	pg_exec_ok(pg, "INSERT INTO vms (name, kind, state, template_id, "
	    "pool_id, memory_mib, host_id) SELECT 'lab-05', 'cvm', 'saved', 1, "
	    "1, 2048, id FROM hosts WHERE name = 'host-z'");
	/* Fresh samples, as many as a reservation lasts at most (the fake
	 * host's samples show no VM): earlier placements are history. */
	atomic_store(&host_samples, CTRL_CLUSTER_RESERVE_MAX_SAMPLES);
	/* Taken by the controller, in order: the last one recorded. */
	sql1_soon("SELECT rvm FROM hosts WHERE name = 'host-a'", NULL, "1");
	snprintf(host_wake_addr, sizeof(host_wake_addr), "10.0.0.5");
	ask(login_line("kim", PASSWORD), &rep);
	assert_int_equal(rep.type, BROKER_R_DESKTOP);
	assert_string_equal(rep.desktop.address, "10.0.0.5");
	assert_int_equal(atomic_load(&host_acts[AGENT_A_DEFINE]), defines + 1);
	assert_int_equal(atomic_load(&host_acts[AGENT_A_RESTORE]), restores + 1);
	assert_string_equal(sql1("SELECT h.name FROM vms v JOIN hosts h ON "
	    "h.id = v.host_id WHERE v.name = 'lab-05'", NULL), "host-a");
	assert_string_equal(sql1("SELECT detail->>'from' || ' ' || "
	    "(detail->>'to') FROM events WHERE kind = 'vm-relocated' AND "
	    "subject = 'lab-05'", NULL), "host-z host-a");
}

/*
 * A Ready CVM on host-z, up as far as the database knows but not
 * connected (as after a controller failover, before the host is back),
 * is of no use yet: lee gets host-a's Paused one, which the order alone
 * would have put after it, and host-z's stays Ready, untouched.
 */
static void
test_connected_only(void **state)
{
	struct broker_reply rep;

	(void)state;
	pg_exec_ok(pg, "INSERT INTO vms (name, kind, state, template_id, "
	    "pool_id, memory_mib, host_id, address) SELECT 'lab-06', 'cvm', "
	    "'ready', 1, 1, 2048, id, '10.0.9.6' FROM hosts "
	    "WHERE name = 'host-z'");
	pg_exec_ok(pg, "INSERT INTO vms (name, kind, state, template_id, "
	    "pool_id, memory_mib, host_id, address) SELECT 'lab-07', 'cvm', "
	    "'paused', 1, 1, 2048, id, '10.0.0.7' FROM hosts "
	    "WHERE name = 'host-a'");
	snprintf(host_wake_addr, sizeof(host_wake_addr), "10.0.0.7");
	ask(login_line("lee", PASSWORD), &rep);
	assert_int_equal(rep.type, BROKER_R_DESKTOP);
	assert_string_equal(rep.desktop.address, "10.0.0.7");
	assert_string_equal(sql1("SELECT state FROM vms WHERE name = "
	    "'lab-06'", NULL), "ready");
	assert_string_equal(sql1("SELECT count(*) FROM sessions s JOIN vms v "
	    "ON v.id = s.vm_id WHERE v.name = 'lab-06'", NULL), "0");
	/* lab-07 had its address: lee was answered before its host's report
	 * of it Ready (running, in a session), which must not land in a later
	 * test. */
	sql1_soon("SELECT state::text FROM vms WHERE name = 'lab-07'", NULL,
	    "running");
}

static void
test_bad_request(void **state)
{
	struct client c;
	struct broker_reply rep;
	char	*big;

	(void)state;
	client_open(&c);
	client_send(&c, "{\"v\":1,\"msg\":\"login\"}");
	assert_int_equal(client_recv(&c, &rep), 0);
	assert_error(&rep, BROKER_E_BAD_REQUEST);
	assert_int_equal(client_recv(&c, &rep), -1);	/* closed */
	client_close(&c);

	assert_non_null(big = malloc(BROKER_MSG_MAX + 100));
	memset(big, 'x', BROKER_MSG_MAX + 99);
	big[BROKER_MSG_MAX + 99] = '\0';
	client_open(&c);
	client_send(&c, big);
	assert_int_equal(client_recv(&c, &rep), 0);
	assert_error(&rep, BROKER_E_BAD_REQUEST);
	assert_int_equal(client_recv(&c, &rep), -1);
	client_close(&c);

	/* No newline at all: refused without waiting for one. */
	client_open(&c);
	assert_int_equal(SSL_write(c.ssl, big, BROKER_MSG_MAX + 99),
	    BROKER_MSG_MAX + 99);
	assert_int_equal(client_recv(&c, &rep), 0);
	assert_error(&rep, BROKER_E_BAD_REQUEST);
	assert_string_equal(rep.message, "request too long");
	assert_int_equal(client_recv(&c, &rep), -1);
	client_close(&c);
	free(big);
}

/* Every session over and released; two Ready CVMs in the lab pool, the
 * others taken. */
static void
two_ready(void)
{
	pg_exec_ok(pg, "UPDATE sessions SET ended = now(), end_reason = 'test' "
	    "WHERE ended IS NULL");
	pg_exec_ok(pg, "UPDATE sessions SET released = now() WHERE "
	    "released IS NULL");
	pg_exec_ok(pg, "UPDATE vms SET state = CASE WHEN name IN "
	    "('lab-01', 'lab-02', 'staff-01') THEN 'ready'::vm_state "
	    "ELSE 'running' END WHERE kind = 'cvm'");
}

/* Three clients send at once for two ready CVMs: two distinct desktops
 * and one no-desktop, every round. */
static void
test_concurrent(void **state)
{
	struct client c[3];
	struct broker_reply rep[3];
	double	 t0, worst = 0, sum = 0;
	int	 round, i, desktops, refused;

	(void)state;
	for (round = 0; round < ROUNDS; round++) {
		two_ready();
		for (i = 0; i < 3; i++)
			client_open(&c[i]);
		t0 = now_ms();
		for (i = 0; i < 3; i++)
			client_send(&c[i], login_line(i == 0 ? "alice" : i == 1 ?
			    "carol" : "hank", PASSWORD));
		for (i = 0; i < 3; i++)
			assert_int_equal(client_recv(&c[i], &rep[i]), 0);
		t0 = now_ms() - t0;
		sum += t0;
		if (t0 > worst)
			worst = t0;
		for (i = 0; i < 3; i++)
			client_close(&c[i]);
		desktops = refused = 0;
		for (i = 0; i < 3; i++) {
			if (rep[i].type == BROKER_R_DESKTOP)
				desktops++;
			else if (rep[i].type == BROKER_R_ERROR &&
			    rep[i].code == BROKER_E_NO_DESKTOP &&
			    rep[i].reason == BROKER_NR_POOL_EMPTY)
				refused++;
		}
		assert_int_equal(desktops, 2);
		assert_int_equal(refused, 1);
		for (i = 0; i < 3; i++) {
			if (rep[i].type != BROKER_R_DESKTOP)
				continue;
			/* Never the staff pool's. */
			assert_string_not_equal(rep[i].desktop.address,
			    "10.0.1.1");
		}
		if (rep[0].type == BROKER_R_DESKTOP &&
		    rep[1].type == BROKER_R_DESKTOP)
			assert_string_not_equal(rep[0].desktop.address,
			    rep[1].desktop.address);
		else if (rep[2].type == BROKER_R_DESKTOP)
			assert_string_not_equal(rep[2].desktop.address,
			    rep[rep[0].type == BROKER_R_DESKTOP ? 0 : 1].
			    desktop.address);
		assert_string_equal(sql1("SELECT count(DISTINCT vm_id) || ' ' || "
		    "count(*) FROM sessions WHERE ended IS NULL", NULL), "2 2");
	}
	printf("# %d rounds of 3 concurrent logins for 2 CVMs: all 3 "
	    "answered in %.1f ms on average, %.1f ms at worst\n", ROUNDS,
	    sum / ROUNDS, worst);
}

/* After the last round both CVMs are taken: a further login is refused. */
static void
test_no_desktop(void **state)
{
	struct broker_reply rep;

	(void)state;
	ask(login_line("ivy", PASSWORD), &rep);
	assert_error(&rep, BROKER_E_NO_DESKTOP);
	assert_int_equal(rep.reason, BROKER_NR_POOL_EMPTY);
	assert_string_equal(sql1("SELECT state FROM vms WHERE name = "
	    "'staff-01'", NULL), "ready");
}

/* A logout's line with why: session_line's, its "}" replaced. */
static char *
logout_reason_line(const char *session, const char *token, const char *why)
{
	char	*line = session_line("logout", session, token);
	size_t	 n = strlen(line) - 1;

	snprintf(line + n, 512 - n, ",\"reason\":\"%s\"}", why);
	return line;
}

/*
 * kim's client logs out saying why: end_reason stays "logout", the
 * client's reason is kept beside it and in the event.  A reason not in
 * the set is a bad request, and the session stays open.
 */
static void
test_logout_reason(void **state)
{
	struct broker_reply rep;
	struct broker_desktop kim;

	(void)state;
	two_ready();
	ask(login_line("kim", PASSWORD), &rep);
	assert_int_equal(rep.type, BROKER_R_DESKTOP);
	kim = rep.desktop;
	ask(logout_reason_line(kim.session, kim.token, "bored"), &rep);
	assert_error(&rep, BROKER_E_BAD_REQUEST);
	assert_string_equal(sql1("SELECT (ended IS NULL)::text FROM sessions "
	    "WHERE id = $1::bigint", kim.session), "true");
	ask(logout_reason_line(kim.session, kim.token, "desktop-untrusted"),
	    &rep);
	assert_int_equal(rep.type, BROKER_R_DONE);
	assert_string_equal(sql1("SELECT end_reason || ' ' || logout_reason "
	    "FROM sessions WHERE id = $1::bigint", kim.session),
	    "logout desktop-untrusted");
	assert_string_equal(sql1("SELECT detail->>'reason' FROM events WHERE "
	    "kind = 'logout' AND detail->>'session' = $1", kim.session),
	    "desktop-untrusted");
	/* Released as any logout's desktop, before the next test's
	 * two_ready(). */
	sql1_soon("SELECT (released IS NOT NULL)::text FROM sessions WHERE "
	    "id = $1::bigint", kim.session, "true");
}

/*
 * Attacks on the password limits (xvds-broker(7) "Limits"), each client
 * from an address of its own in 127.0.0.0/8.  A flood's clients are all
 * connected first, then all send, then all are read: the broker has every
 * request before the first password check ends.
 */
struct tally {
	int	 checked;	/* auth-failed: the password was checked */
	int	 limited;	/* rate-limited: refused unchecked */
	int	 other, lost;	/* another answer; none (connection refused) */
};

static void
flood_open(struct client *c, int n, const char *const *srcs, int nsrcs)
{
	int	 i;

	for (i = 0; i < n; i++)
		(void)client_try(&c[i], srcs[i % nsrcs]);
}

static void
flood_send(struct client *c, int n, const char *user)
{
	char	 name[64];
	int	 i;

	for (i = 0; i < n; i++) {
		/* user NULL: a name of its own each, none of them known */
		if (user != NULL)
			snprintf(name, sizeof(name), "%s", user);
		else
			snprintf(name, sizeof(name), "nobody-%d", i);
		(void)client_write(&c[i], login_line(name, "guess"));
	}
}

static void
flood_collect(struct client *c, int n, struct tally *t)
{
	struct broker_reply rep;
	int	 i;

	memset(t, 0, sizeof(*t));
	for (i = 0; i < n; i++) {
		if (client_recv(&c[i], &rep) == -1)
			t->lost++;
		else if (rep.type == BROKER_R_ERROR &&
		    rep.code == BROKER_E_AUTH_FAILED)
			t->checked++;
		else if (rep.type == BROKER_R_ERROR &&
		    rep.code == BROKER_E_RATE_LIMITED)
			t->limited++;
		else
			t->other++;
		client_close(&c[i]);
	}
}

/* Wrong passwords for user (NULL: a name each, none known) from address
 * src, one by one, until held: how many were checked. */
static int
guess_until_held(const char *user, const char *src)
{
	struct client c;
	struct broker_reply rep;
	char	 name[64];
	int	 checked = 0;

	assert_int_equal(client_try(&c, src), 0);
	for (;;) {
		if (user == NULL)
			snprintf(name, sizeof(name), "nobody-at-%s-%d", src,
			    checked);
		client_send(&c, login_line(user != NULL ? user : name,
		    "guess"));
		assert_int_equal(client_recv(&c, &rep), 0);
		if (rep.code != BROKER_E_AUTH_FAILED)
			break;
		assert_true(++checked < 100);
	}
	assert_error(&rep, BROKER_E_RATE_LIMITED);
	client_close(&c);
	return checked;
}

#define BURST	300

/*
 * 300 wrong passwords for one user from one address, sent at once, are
 * checked no more often than when sent one by one: 6 (5 free and the one
 * that blocks), and perhaps one more per block that ends while the burst
 * is still being read on a slow machine (1 s, then 2, 4 ...).
 */
static void
test_guess_burst(void **state)
{
	static const char *const src[] = { "127.0.0.2" };
	struct client *c;
	struct tally t;
	double	 t0, s;
	int	 one_by_one, allowed;

	(void)state;
	one_by_one = guess_until_held("yuri", "127.0.0.4");
	assert_non_null(c = calloc(BURST, sizeof(*c)));
	flood_open(c, BURST, src, 1);
	t0 = now_ms();
	flood_send(c, BURST, "zoe");
	flood_collect(c, BURST, &t);
	s = (now_ms() - t0) / 1000;
	free(c);
	/* k more need blocks of 1 + 2 + ... + 2^(k-1) s to end first;
	 * and one to spare. */
	for (allowed = one_by_one + 1; (1 << (allowed - one_by_one)) - 1 <= s;
	    allowed++)
		;
	printf("# %d guesses at once for one user from one address: %d "
	    "checked, %d refused unchecked, %d not connected, in %.2f s; "
	    "one by one: %d checked\n", BURST, t.checked, t.limited, t.lost,
	    s, one_by_one);
	assert_int_equal(one_by_one, 6);
	assert_int_equal(t.other, 0);
	assert_true(t.checked >= 1);
	assert_true(t.checked <= allowed);
	assert_int_equal(t.checked + t.limited + t.lost, BURST);
}

/*
 * zoe is attacked from two addresses (past her own ten failures): her
 * attackers are held, and she, typing her password at her own address,
 * gets her desktop at once.  From an attacker's address even the right
 * password is refused: that pair is blocked.
 */
static void
test_no_lockout(void **state)
{
	static const char *const src[] = { "127.0.0.5" };
	struct client *c;
	struct broker_reply rep;
	struct tally t;
	double	 t0, ms;

	(void)state;
	assert_non_null(c = calloc(50, sizeof(*c)));
	flood_open(c, 50, src, 1);
	flood_send(c, 50, "zoe");
	flood_collect(c, 50, &t);
	free(c);
	two_ready();
	assert_non_null(c = calloc(1, sizeof(*c)));
	assert_int_equal(client_try(c, "127.0.0.3"), 0);
	t0 = now_ms();
	client_send(c, login_line("zoe", PASSWORD));
	assert_int_equal(client_recv(c, &rep), 0);
	ms = now_ms() - t0;
	client_close(c);
	free(c);
	printf("# zoe, attacked from two addresses: her login from her own "
	    "answered in %.0f ms: %s\n", ms, rep.type == BROKER_R_DESKTOP ?
	    "desktop" : broker_error_names[rep.code]);
	assert_int_equal(rep.type, BROKER_R_DESKTOP);
	/* 6 failures from each address: past her ten. */
	assert_int_equal(t.checked, 6);

	assert_non_null(c = calloc(1, sizeof(*c)));
	assert_int_equal(client_try(c, "127.0.0.2"), 0);
	client_send(c, login_line("zoe", PASSWORD));
	assert_int_equal(client_recv(c, &rep), 0);
	client_close(c);
	free(c);
	assert_error(&rep, BROKER_E_RATE_LIMITED);
}

/*
 * Behind one NAT: xena logged in from 127.0.0.7, then a guesser there
 * tries name after name until the address is blocked; wade, never seen
 * there, is held with him, but xena, known there, still gets in.
 */
static void
test_nat_neighbour(void **state)
{
	struct client c;
	struct broker_reply rep;
	int	 checked;

	(void)state;
	two_ready();
	assert_int_equal(client_try(&c, "127.0.0.7"), 0);
	client_send(&c, login_line("xena", PASSWORD));
	assert_int_equal(client_recv(&c, &rep), 0);
	client_close(&c);
	assert_int_equal(rep.type, BROKER_R_DESKTOP);
	checked = guess_until_held(NULL, "127.0.0.7");
	printf("# names tried from xena's address until it was held: %d\n",
	    checked);
	assert_int_equal(checked, 21);
	assert_int_equal(client_try(&c, "127.0.0.7"), 0);
	client_send(&c, login_line("wade", PASSWORD));
	assert_int_equal(client_recv(&c, &rep), 0);
	assert_error(&rep, BROKER_E_RATE_LIMITED);
	client_send(&c, login_line("xena", PASSWORD));
	assert_int_equal(client_recv(&c, &rep), 0);
	client_close(&c);
	assert_int_equal(rep.type, BROKER_R_DESKTOP);
}

#define FLOOD		400
#define FLOOD_ADDRS	20

/*
 * 400 bad logins at once from 20 addresses, each an unknown name (the
 * same cost as a wrong password): each address has its share of the
 * password checks, the rest refused at once, and the workers take the
 * addresses in turns, so a good login from another address waits for
 * a round of them, not for the whole flood.
 */
static void
test_check_flood(void **state)
{
	const char *src[FLOOD_ADDRS];
	char	 addrs[FLOOD_ADDRS][INET_ADDRSTRLEN + 8];
	struct client *c, good;
	struct broker_reply rep;
	struct tally t;
	double	 t0, ms, all;
	int	 i;

	(void)state;
	for (i = 0; i < FLOOD_ADDRS; i++) {
		snprintf(addrs[i], sizeof(addrs[i]), "127.0.1.%d", i + 1);
		src[i] = addrs[i];
	}
	two_ready();
	assert_non_null(c = calloc(FLOOD, sizeof(*c)));
	flood_open(c, FLOOD, src, FLOOD_ADDRS);
	assert_int_equal(client_try(&good, "127.0.0.6"), 0);
	t0 = now_ms();
	flood_send(c, FLOOD, NULL);
	client_send(&good, login_line("ivy", PASSWORD));
	assert_int_equal(client_recv(&good, &rep), 0);
	ms = now_ms() - t0;
	client_close(&good);
	flood_collect(c, FLOOD, &t);
	all = now_ms() - t0;
	free(c);
	printf("# %d bad logins at once from %d addresses: %d checked, %d "
	    "refused at once, %d not connected, all answered in %.0f ms; "
	    "a good login from another address sent after them: %s in "
	    "%.0f ms\n", FLOOD, FLOOD_ADDRS, t.checked, t.limited, t.lost,
	    all, rep.type == BROKER_R_DESKTOP ? "desktop" :
	    broker_error_names[rep.code], ms);
	assert_int_equal(rep.type, BROKER_R_DESKTOP);
	assert_int_equal(t.other, 0);
	assert_int_equal(t.checked + t.limited + t.lost, FLOOD);
	/* Each address's share of the queue, or its free allowance and
	 * one more, at most; more only as checks end while the flood is
	 * still being read. */
	assert_true(t.limited > 0);
}

int
main(int argc, char *argv[])
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_login),
		cmocka_unit_test(test_auth_failed),
		cmocka_unit_test(test_rate_limited),
		cmocka_unit_test(test_renew),
		cmocka_unit_test(test_resume),
		cmocka_unit_test(test_logout),
		cmocka_unit_test(test_login_latency),
		cmocka_unit_test(test_unpause),
		cmocka_unit_test(test_restore),
		cmocka_unit_test(test_pvm),
		cmocka_unit_test(test_desktop_lost),
		cmocka_unit_test(test_credential_failed),
		cmocka_unit_test(test_lease_lapse),
		cmocka_unit_test(test_desktop_gone),
		cmocka_unit_test(test_throttle),
		cmocka_unit_test(test_host_away),
		cmocka_unit_test(test_relocate),
		cmocka_unit_test(test_connected_only),
		cmocka_unit_test(test_bad_request),
		cmocka_unit_test(test_concurrent),
		cmocka_unit_test(test_no_desktop),
		cmocka_unit_test(test_logout_reason),
		cmocka_unit_test(test_guess_burst),
		cmocka_unit_test(test_no_lockout),
		cmocka_unit_test(test_nat_neighbour),
		cmocka_unit_test(test_check_flood),
	};

	if (argc != 3) {
		fprintf(stderr, "usage: test_ctrl_broker CONNINFO PKI-DIR\n");
		return 2;
	}
	conninfo = argv[1];
	pki = argv[2];
	/* The broker closes on a client still writing, as a daemon does. */
	signal(SIGPIPE, SIG_IGN);
	return cmocka_run_group_tests(tests, setup, teardown);
}

/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * test_ctrl_broker.c — the controller's broker service
 * (xvds/ctrl_broker.c) against a real PostgreSQL (tests/ctrl/broker.test
 * starts it) and real TLS on loopback.  The broker's loop runs in a
 * thread of its own; the thin clients here are plain blocking OpenSSL
 * clients that check the server's certificate against the test CA, so
 * that several can send at once.  A fake host-a (agent_fake.c) on the
 * loop receives the reset a logout sends.
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
#include "agent_tls.h"
#include "broker_msg.h"
#include "ctrl_agent.h"
#include "ctrl_broker.h"
#include "ctrl_conf.h"
#include "db.h"
#include "pg_check.h"
#include "passwd.h"

#define ROUNDS		20	/* of the concurrent logins */
#define PASSWORD	"correct horse battery staple"

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
static atomic_int host_welcomed, host_ops;
static char	 host_last_vm[AGENT_VM_MAX + 1];
static enum agent_action host_last_action;

static void
host_connected(struct agent_conn *c, const char *id, void *arg)
{
	struct agent_msg m;

	(void)id;
	(void)arg;
	fake_hello(&m, "host-a", 8, 16384);
	(void)agent_conn_send(c, &m);
}

static void
host_message(struct agent_conn *c, const struct agent_msg *in, void *arg)
{
	struct agent_msg m;

	(void)arg;
	if (in->type == AGENT_M_WELCOME)
		atomic_fetch_add(&host_welcomed, 1);
	if (in->type != AGENT_M_OP)
		return;
	snprintf(host_last_vm, sizeof(host_last_vm), "%s", in->u.op.vm);
	host_last_action = in->u.op.action;
	atomic_fetch_add(&host_ops, 1);
	fake_result(&m, in->u.op.id, true);
	(void)agent_conn_send(c, &m);
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
	(void)arg;
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
 * sql1 until it answers want, for at most 2 s: the broker writes its
 * refusals' events after it has answered.
 */
static void
sql1_soon(const char *sql, const char *param, const char *want)
{
	int	 i;

	for (i = 0; i < 200 && strcmp(sql1(sql, param), want) != 0; i++)
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

static void
client_open(struct client *c)
{
	struct sockaddr_in sin;

	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons(port);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_true((c->fd = socket(AF_INET, SOCK_STREAM, 0)) >= 0);
	assert_int_equal(connect(c->fd, (struct sockaddr *)&sin, sizeof(sin)),
	    0);
	assert_non_null(c->ssl = SSL_new(cctx));
	SSL_set_fd(c->ssl, c->fd);
	SSL_set1_host(c->ssl, "127.0.0.1");
	assert_int_equal(SSL_connect(c->ssl), 1);
}

static void
client_close(struct client *c)
{
	SSL_free(c->ssl);
	close(c->fd);
}

static void
client_send(struct client *c, const char *line)
{
	size_t	 n = strlen(line);
	char	*buf;

	/* One record, as a client should: no Nagle delay to measure. */
	assert_non_null(buf = malloc(n + 1));
	memcpy(buf, line, n);
	buf[n] = '\n';
	assert_int_equal(SSL_write(c->ssl, buf, (int)n + 1), (int)n + 1);
	free(buf);
}

/* One reply line, decoded; -1 if the connection ended first. */
static int
client_recv(struct client *c, struct broker_reply *rep)
{
	char	 buf[BROKER_MSG_MAX + 2], err[256];
	size_t	 n = 0;
	int	 r;

	while (n < sizeof(buf) - 1) {
		if ((r = SSL_read(c->ssl, buf + n, 1)) <= 0)
			return -1;
		if (buf[n] == '\n')
			break;
		n++;
	}
	if (broker_reply_decode(buf, n, rep, err, sizeof(err)) == -1)
		fail_msg("reply %.*s: %s", (int)n, buf, err);
	return 0;
}

static void
ask(const char *line, struct broker_reply *rep)
{
	struct client c;

	client_open(&c);
	client_send(&c, line);
	assert_int_equal(client_recv(&c, rep), 0);
	client_close(&c);
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
	    "('staff-01', 'cvm', 'ready', 1, 2, 2048, '10.0.1.1')");
	add_user("alice", PASSWORD);
	add_user("bob", PASSWORD);
	add_user("carol", PASSWORD);
	/* All in "students", allowed on "lab" only: never "staff-01". */
	pg_exec_ok(pg, "INSERT INTO groups (name) VALUES ('students')");
	pg_exec_ok(pg, "INSERT INTO memberships SELECT u.id, g.id FROM users u, "
	    "groups g");
	pg_exec_ok(pg, "INSERT INTO permissions SELECT g.id, p.id FROM groups g, "
	    "pools p WHERE p.name = 'lab'");

	snprintf(text, sizeof(text), "broker listen 127.0.0.1\n"
	    "agent listen 127.0.0.1\n"
	    "ca-file \"%s/ca.pem\"\ncert-file \"%s/controller.pem\"\n"
	    "key-file \"%s/controller.key\"\n", pki, pki, pki);
	if ((conf = ctrl_conf_parse(text, "test", err, sizeof(err))) == NULL)
		fail_msg("%s", err);
	conf->broker_port = 0;
	conf->agent_port = 0;
	assert_non_null(db = db_open(base, conninfo, err, sizeof(err)));
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

	assert_non_null(cctx = SSL_CTX_new(TLS_client_method()));
	snprintf(path, sizeof(path), "%s/ca.pem", pki);
	assert_int_equal(SSL_CTX_load_verify_locations(cctx, path, NULL), 1);
	SSL_CTX_set_verify(cctx, SSL_VERIFY_PEER, NULL);
	assert_int_equal(pthread_create(&loop_thread, NULL, loop_main, NULL), 0);
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
	ctrl_agent_stop("test over");
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
	assert_int_equal(alice.port, 3389);
	assert_int_equal(alice.lease_seconds, CTRL_BROKER_LEASE_S);
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
	assert_int_equal(rep.lease_seconds, CTRL_BROKER_LEASE_S);
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

static void
test_logout(void **state)
{
	struct broker_reply rep;
	int	 i;

	(void)state;
	/* lab-01 runs on host-a, which is connected: logout resets it. */
	for (i = 0; i < 200 && atomic_load(&host_welcomed) == 0; i++)
		usleep(10000);
	assert_int_equal(atomic_load(&host_welcomed), 1);
	pg_exec_ok(pg, "UPDATE vms SET host_id = (SELECT id FROM hosts WHERE "
	    "name = 'host-a') WHERE name = 'lab-01'");
	ask(session_line("logout", alice.session, alice.token), &rep);
	assert_int_equal(rep.type, BROKER_R_DONE);
	for (i = 0; i < 200 && atomic_load(&host_ops) == 0; i++)
		usleep(10000);
	assert_int_equal(atomic_load(&host_ops), 1);
	assert_string_equal(host_last_vm, "lab-01");
	assert_int_equal(host_last_action, AGENT_A_RESET);
	assert_string_equal(sql1("SELECT end_reason FROM sessions WHERE "
	    "id = $1::bigint AND ended IS NOT NULL", alice.session), "logout");
	assert_string_equal(sql1("SELECT count(*) FROM events WHERE kind = "
	    "'logout' AND subject = 'alice'", NULL), "1");
	/* Once: the token is spent. */
	ask(session_line("renew", alice.session, alice.token), &rep);
	assert_error(&rep, BROKER_E_BAD_SESSION);
	ask(session_line("logout", alice.session, alice.token), &rep);
	assert_error(&rep, BROKER_E_BAD_SESSION);
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
		pg_exec_ok(pg, "UPDATE sessions SET ended = now(), end_reason = 'test' "
		    "WHERE ended IS NULL");
		pg_exec_ok(pg, "UPDATE vms SET state = 'ready'");
		for (i = 0; i < 3; i++)
			client_open(&c[i]);
		t0 = now_ms();
		for (i = 0; i < 3; i++)
			client_send(&c[i], login_line(i == 1 ? "carol" : "alice",
			    PASSWORD));
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
	ask(login_line("alice", PASSWORD), &rep);
	assert_error(&rep, BROKER_E_NO_DESKTOP);
	assert_int_equal(rep.reason, BROKER_NR_POOL_EMPTY);
	assert_string_equal(sql1("SELECT state FROM vms WHERE name = "
	    "'staff-01'", NULL), "ready");
}

int
main(int argc, char *argv[])
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_login),
		cmocka_unit_test(test_auth_failed),
		cmocka_unit_test(test_rate_limited),
		cmocka_unit_test(test_renew),
		cmocka_unit_test(test_logout),
		cmocka_unit_test(test_login_latency),
		cmocka_unit_test(test_bad_request),
		cmocka_unit_test(test_concurrent),
		cmocka_unit_test(test_no_desktop),
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

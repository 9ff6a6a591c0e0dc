/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * bench_broker.c — the boot storm (a school's first lesson, everyone logging
 * in at once; doc/architecture.md): LOGINS logins arriving
 * evenly within SECONDS against CVM pools spread over HOSTS simulated
 * hosts, through the real broker (TLS, argon2id on its workers, the
 * database's row locks, the credential op to each desktop's host).
 * Prints the broker's decision latency (request sent to answer read, the
 * TLS handshake apart), p50, p99 and worst, and how many were served and
 * refused, with the reasons; fails if any login got no clear answer or a
 * desktop went to two users.
 *
 * The hosts are simulated (tests/ctrl/agent_fake.c over real mutual TLS):
 * each answers every op at once and reports a woken desktop Ready, so
 * that what is measured is the controller.  They share the controller's
 * loop, as in the tests; the clients are threads of their own.
 * tests/bench/broker-storm.sh starts PostgreSQL and makes the PKI.
 *
 * With BENCH_LIGHT=1 in the environment the users' hashes are argon2id at
 * libsodium's floor (1 pass, 8 KiB): the password check then costs
 * nearly nothing, and what is measured is the broker's own decision.  At
 * the real cost (19 MiB, 2 passes, about 14 ms of a core, and as much
 * again of the kernel's mapping the memory) 100 logins a second need
 * more than two cores for hashing alone.
 *
 *   bench_broker CONNINFO PKI-DIR [HOSTS LOGINS SECONDS DESKTOPS]
 */
#include <config.h>

#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>
#include <libpq-fe.h>
#include <openssl/ssl.h>
#include <sodium.h>

#include "../clock.h"
#include "agent_fake.h"
#include "agent/tls.h"
#include "common/broker_msg.h"
#include "controller/agent.h"
#include "controller/broker.h"
#include "controller/cluster.h"
#include "controller/conf.h"
#include "controller/session.h"
#include "db/db.h"
#include "common/log.h"
#include "common/passwd.h"

#define PASSWORD	"correct horse battery staple"
#define HOSTS_MAX	200
#define CLIENT_THREADS	48
#define POOLS		5

static struct {
	const char	*conninfo, *pki;
	unsigned	 hosts, logins, seconds, desktops;
	int		 light;		/* users' hashes at argon2id's floor */
	struct event_base *base;
	struct db	*db;
	struct ctrl_conf *conf;
	PGconn		*pg;
	SSL_CTX		*cctx;
	uint16_t	 port;
	atomic_int	 stopping, welcomed, next;
	struct agent_client *host[HOSTS_MAX];
	double		 t0;
} G;

/* One login's outcome, written by its client thread. */
struct outcome {
	double		 ms;		/* request sent to answer read */
	int		 type;		/* broker_reply_type, or -1: no answer */
	int		 code, reason;
	char		 address[BROKER_ADDRESS_MAX + 1];
};
static struct outcome *out;

static void
die(const char *what, const char *why)
{
	fprintf(stderr, "bench_broker: %s: %s\n", what, why);
	exit(1);
}

static void
sql(const char *q, int n, const char *const *p)
{
	PGresult *r = PQexecParams(G.pg, q, n, NULL, p, NULL, NULL, 0);

	if (PQresultStatus(r) != PGRES_COMMAND_OK &&
	    PQresultStatus(r) != PGRES_TUPLES_OK)
		die(q, PQresultErrorMessage(r));
	PQclear(r);
}

static long
sql_long(const char *q)
{
	PGresult *r = PQexec(G.pg, q);
	long	 v;

	if (PQresultStatus(r) != PGRES_TUPLES_OK || PQntuples(r) != 1)
		die(q, PQresultErrorMessage(r));
	v = strtol(PQgetvalue(r, 0, 0), NULL, 10);
	PQclear(r);
	return v;
}

/* The simulated hosts: every op done at once, a woken desktop reported. */

static void
host_connected(struct agent_conn *c, const char *id, void *arg)
{
	struct agent_msg m;
	char	 name[32];

	(void)id;
	snprintf(name, sizeof(name), "host-%02u", (unsigned)(uintptr_t)arg);
	fake_hello(&m, name, 32, 262144);
	(void)agent_conn_send(c, &m);
}

/* d<i>'s address, as the database has it: 10.<i/65536>.<i/256>.<i%256>. */
static void
desktop_addr(const char *vm, char *buf, size_t len)
{
	unsigned long i = strtoul(vm + 1, NULL, 10);

	snprintf(buf, len, "10.%lu.%lu.%lu", i / 65536, i / 256 % 256, i % 256);
}

static void
host_message(struct agent_conn *c, const struct agent_msg *in, void *arg)
{
	struct agent_msg m;
	char	 addr[AGENT_ADDR_MAX + 1];
	enum agent_action a;

	(void)arg;
	if (in->type == AGENT_M_WELCOME) {
		fake_sample(&m, 20, 32, 262144, 200000);
		(void)agent_conn_send(c, &m);
		atomic_fetch_add(&G.welcomed, 1);
		return;
	}
	if (in->type != AGENT_M_OP)
		return;
	a = in->u.op.action;
	fake_result(&m, in->u.op.id, true);
	(void)agent_conn_send(c, &m);
	if (a == AGENT_A_UNPAUSE || a == AGENT_A_RESTORE || a == AGENT_A_RESET) {
		desktop_addr(in->u.op.vm, addr, sizeof(addr));
		fake_state(&m, in->u.op.vm, VM_S_READY, 9, addr);
		(void)agent_conn_send(c, &m);
	}
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

static void
tick(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	(void)arg;
	if (atomic_load(&G.stopping))
		event_base_loopbreak(G.base);
}

static void *
loop_main(void *arg)
{
	struct timeval tv = { 0, 20000 };
	struct event *t;

	(void)arg;
	t = event_new(G.base, -1, EV_PERSIST, tick, NULL);
	evtimer_add(t, &tv);
	event_base_dispatch(G.base);
	event_free(t);
	return NULL;
}

/* The clients. */

static int
client_login(unsigned i, struct outcome *o)
{
	struct sockaddr_in sin;
	struct broker_reply rep;
	char	 line[512], buf[BROKER_MSG_MAX + 2], err[256];
	double	 t;
	size_t	 n = 0;
	SSL	*ssl;
	int	 fd, r, rc = -1;

	if ((fd = socket(AF_INET, SOCK_STREAM, 0)) == -1)
		return -1;
	/* Each thin client from an address of its own, 127.1.x.y (all of
	 * 127/8 is loopback), as in a lab: the broker's limits and its
	 * password checks' share are per address (xvds-broker(7)). */
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(0x7f010000U | ((i & 0xffffU) + 1));
	if (bind(fd, (struct sockaddr *)&sin, sizeof(sin)) == -1) {
		close(fd);
		return -1;
	}
	sin.sin_port = htons(G.port);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (connect(fd, (struct sockaddr *)&sin, sizeof(sin)) == -1 ||
	    (ssl = SSL_new(G.cctx)) == NULL) {
		close(fd);
		return -1;
	}
	SSL_set_fd(ssl, fd);
	SSL_set1_host(ssl, "127.0.0.1");
	if (SSL_connect(ssl) != 1)
		goto done;
	r = snprintf(line, sizeof(line), "{\"v\":1,\"msg\":\"login\","
	    "\"user\":\"u%u\",\"password\":\"%s\",\"kind\":\"cvm\"}\n", i + 1,
	    PASSWORD);
	t = now_ms();
	if (SSL_write(ssl, line, r) != r)
		goto done;
	while (n < sizeof(buf) - 1) {
		if (SSL_read(ssl, buf + n, 1) <= 0)
			goto done;
		if (buf[n] == '\n')
			break;
		n++;
	}
	o->ms = now_ms() - t;
	if (broker_reply_decode(buf, n, &rep, err, sizeof(err)) == -1)
		goto done;
	o->type = (int)rep.type;
	o->code = (int)rep.code;
	o->reason = (int)rep.reason;
	if (rep.type == BROKER_R_DESKTOP)
		snprintf(o->address, sizeof(o->address), "%s",
		    rep.desktop.address);
	rc = 0;
done:
	SSL_free(ssl);
	close(fd);
	return rc;
}

static void *
client_main(void *arg)
{
	struct timespec ts;
	unsigned i;
	double	 at, wait;

	(void)arg;
	while ((i = (unsigned)atomic_fetch_add(&G.next, 1)) < G.logins) {
		/* Arrivals evenly spread over the storm's seconds. */
		at = G.t0 + (double)i * G.seconds * 1000.0 / G.logins;
		if ((wait = at - now_ms()) > 0) {
			ts.tv_sec = (time_t)(wait / 1000);
			ts.tv_nsec = (long)((wait - ts.tv_sec * 1000.0) * 1e6);
			nanosleep(&ts, NULL);
		}
		out[i].type = -1;
		(void)client_login(i, &out[i]);
	}
	return NULL;
}

static int
cmp_double(const void *a, const void *b)
{
	double	 x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void
setup_database(void)
{
	char	 hash[PASSWD_HASH_MAX], err[128], n[16], d[16];
	const char *p[2];

	if (G.light) {
		/* argon2id at libsodium's floor: what is left is the broker. */
		if (crypto_pwhash_str_alg(hash, PASSWORD, strlen(PASSWORD),
		    crypto_pwhash_OPSLIMIT_MIN, crypto_pwhash_MEMLIMIT_MIN,
		    crypto_pwhash_ALG_ARGON2ID13) != 0)
			die("hash", "light");
	} else if (passwd_hash(PASSWORD, hash, err, sizeof(err)) == -1)
		die("hash", err);
	sql("INSERT INTO templates (name, memory_mib) VALUES ('desk', 2048)",
	    0, NULL);
	sql("INSERT INTO pools (name, template_id, size) SELECT 'pool-' || i, "
	    "1, 10000 FROM generate_series(1, 5) i", 0, NULL);
	snprintf(n, sizeof(n), "%u", G.logins);
	p[0] = n;
	p[1] = hash;
	/* One hash for all: each login still checks it, at full cost. */
	sql("INSERT INTO users (name, pwhash) SELECT 'u' || i, $2 FROM "
	    "generate_series(1, $1::integer) i", 2, p);
	sql("INSERT INTO groups (name) VALUES ('everyone')", 0, NULL);
	sql("INSERT INTO memberships SELECT u.id, g.id FROM users u, groups g",
	    0, NULL);
	sql("INSERT INTO permissions SELECT g.id, p.id FROM groups g, pools p",
	    0, NULL);
	/* 7 in 10 Ready, 2 Paused, 1 Saved. */
	snprintf(d, sizeof(d), "%u", G.desktops);
	p[0] = d;
	sql("INSERT INTO vms (name, kind, state, template_id, pool_id, "
	    "memory_mib, address) SELECT 'd' || i, 'cvm', CASE WHEN i % 10 < 7 "
	    "THEN 'ready'::vm_state WHEN i % 10 < 9 THEN 'paused' ELSE 'saved' "
	    "END, 1, 1 + i % 5, 2048, CASE WHEN i % 10 < 9 THEN '10.' || "
	    "(i / 65536) || '.' || (i / 256 % 256) || '.' || (i % 256) END "
	    "FROM generate_series(1, $1::integer) i", 1, p);
}

static void
start_controller(void)
{
	struct agent_tls_conf tls;
	char	 text[2048], err[512], ca[512], cert[HOSTS_MAX][2][512];
	unsigned i;

	if ((G.base = event_base_new()) == NULL)
		die("libevent", "no base");
	snprintf(text, sizeof(text), "broker listen 127.0.0.1\n"
	    "agent listen 127.0.0.1\n"
	    "ca-file \"%s/ca.pem\"\ncert-file \"%s/controller.pem\"\n"
	    "key-file \"%s/controller.key\"\n", G.pki, G.pki, G.pki);
	if ((G.conf = ctrl_conf_parse(text, "bench", err, sizeof(err))) == NULL)
		die("configuration", err);
	G.conf->broker_port = 0;	/* any free port */
	G.conf->agent_port = 0;
	if ((G.db = db_open(G.base, G.conninfo, err, sizeof(err))) == NULL)
		die("database", err);
	ctrl_cluster_start(G.db, &G.conf->policy);
	if (ctrl_agent_start(G.base, G.db, G.conf) == -1 ||
	    ctrl_broker_start(G.base, G.db, G.conf) == -1 ||
	    ctrl_session_start(G.base, G.db, G.conf) == -1)
		die("controller", "does not start");
	G.port = ctrl_broker_port();
	snprintf(ca, sizeof(ca), "%s/ca.pem", G.pki);
	for (i = 0; i < G.hosts; i++) {
		memset(&tls, 0, sizeof(tls));
		snprintf(cert[i][0], sizeof(cert[i][0]), "%s/host-%02u.pem",
		    G.pki, i);
		snprintf(cert[i][1], sizeof(cert[i][1]), "%s/host-%02u.key",
		    G.pki, i);
		tls.ca_file = ca;
		tls.cert_file = cert[i][0];
		tls.key_file = cert[i][1];
		if ((G.host[i] = agent_client_new(G.base, &tls, "127.0.0.1",
		    ctrl_agent_port(), &host_cbs, (void *)(uintptr_t)i)) == NULL)
			die("host", "cannot connect");
	}
	if ((G.cctx = SSL_CTX_new(TLS_client_method())) == NULL ||
	    SSL_CTX_load_verify_locations(G.cctx, ca, NULL) != 1)
		die("TLS", "client context");
	SSL_CTX_set_verify(G.cctx, SSL_VERIFY_PEER, NULL);
}

int
main(int argc, char *argv[])
{
	pthread_t loop, clients[CLIENT_THREADS];
	double	*ms, storm;
	char	**addrs;
	unsigned i, served = 0, reasons[BROKER_NR_COUNT] = { 0 }, other = 0,
		 none = 0, doubled = 0, nms = 0, naddr = 0;
	long	 open_sessions, distinct_vms;
	int	 waited;

	if (argc != 3 && argc != 7) {
		fprintf(stderr, "usage: bench_broker CONNINFO PKI-DIR "
		    "[HOSTS LOGINS SECONDS DESKTOPS]\n");
		return 2;
	}
	G.conninfo = argv[1];
	G.pki = argv[2];
	G.hosts = argc == 7 ? (unsigned)atoi(argv[3]) : 50;
	G.logins = argc == 7 ? (unsigned)atoi(argv[4]) : 1000;
	G.seconds = argc == 7 ? (unsigned)atoi(argv[5]) : 10;
	G.desktops = argc == 7 ? (unsigned)atoi(argv[6]) : 950;
	G.light = getenv("BENCH_LIGHT") != NULL &&
	    strcmp(getenv("BENCH_LIGHT"), "1") == 0;
	if (G.hosts < 1 || G.hosts > HOSTS_MAX || G.logins < 1 ||
	    G.seconds < 1 || G.desktops < 1)
		die("arguments", "out of range");
	signal(SIGPIPE, SIG_IGN);
	log_init(1, 0);
	log_setverbose(0);
	if ((out = calloc(G.logins, sizeof(*out))) == NULL)
		die("memory", "none");
	if ((G.pg = PQconnectdb(G.conninfo)) == NULL ||
	    PQstatus(G.pg) != CONNECTION_OK)
		die("database", PQerrorMessage(G.pg));
	setup_database();
	start_controller();
	if (pthread_create(&loop, NULL, loop_main, NULL) != 0)
		die("thread", "loop");
	for (waited = 0; waited < 3000 &&
	    atomic_load(&G.welcomed) < (int)G.hosts; waited++)
		usleep(10000);
	if (atomic_load(&G.welcomed) < (int)G.hosts)
		die("hosts", "not all registered");
	/* The desktops spread over the hosts, round robin. */
	sql("UPDATE vms v SET host_id = h.id FROM hosts h WHERE h.name = "
	    "'host-' || lpad(((substr(v.name, 2)::integer) % (SELECT count(*) "
	    "FROM hosts))::text, 2, '0')", 0, NULL);
	printf("boot storm: %u logins in %u s, %u CVMs (7/10 Ready, 2/10 Paused, "
	    "1/10 Saved) in %d pools on %u simulated hosts; passwords: %s\n",
	    G.logins, G.seconds, G.desktops, POOLS, G.hosts, G.light ?
	    "argon2id at its floor (the broker alone)" :
	    "argon2id 19 MiB x 2 (the real cost)");

	G.t0 = now_ms() + 100;
	for (i = 0; i < CLIENT_THREADS; i++)
		if (pthread_create(&clients[i], NULL, client_main, NULL) != 0)
			die("thread", "client");
	for (i = 0; i < CLIENT_THREADS; i++)
		pthread_join(clients[i], NULL);
	storm = now_ms() - G.t0;

	if ((ms = calloc(G.logins, sizeof(*ms))) == NULL ||
	    (addrs = calloc(G.logins, sizeof(*addrs))) == NULL)
		die("memory", "none");
	for (i = 0; i < G.logins; i++) {
		if (out[i].type == -1) {
			none++;
			continue;
		}
		ms[nms++] = out[i].ms;
		if (out[i].type == BROKER_R_DESKTOP) {
			served++;
			addrs[naddr++] = out[i].address;
		} else if (out[i].type == BROKER_R_ERROR &&
		    out[i].code == BROKER_E_NO_DESKTOP)
			reasons[out[i].reason]++;
		else
			other++;
	}
	qsort(ms, nms, sizeof(*ms), cmp_double);
	qsort(addrs, naddr, sizeof(*addrs), cmp_str);
	for (i = 1; i < naddr; i++)
		if (strcmp(addrs[i], addrs[i - 1]) == 0)
			doubled++;
	open_sessions = sql_long("SELECT count(*) FROM sessions WHERE "
	    "ended IS NULL");
	distinct_vms = sql_long("SELECT count(DISTINCT vm_id) FROM sessions "
	    "WHERE ended IS NULL");

	printf("all answered in %.1f s\n", storm / 1000);
	printf("served %u; refused:", served);
	for (i = 1; i < BROKER_NR_COUNT; i++)
		if (reasons[i] > 0)
			printf(" %s %u", broker_reason_names[i], reasons[i]);
	printf("; other errors %u; no answer %u\n", other, none);
	if (nms > 0)
		printf("decision latency: p50 %.1f ms, p99 %.1f ms, worst %.1f ms "
		    "(target p99 <= 100 ms)\n", ms[nms / 2],
		    ms[(size_t)((nms - 1) * 0.99)], ms[nms - 1]);
	printf("double assignments: %u by address, %ld open sessions on %ld "
	    "VMs\n", doubled, open_sessions, distinct_vms);

	atomic_store(&G.stopping, 1);
	pthread_join(loop, NULL);
	for (i = 0; i < G.hosts; i++)
		agent_client_free(G.host[i]);
	ctrl_session_stop();
	ctrl_broker_stop("bench over");
	ctrl_agent_stop("bench over");
	ctrl_cluster_stop();
	db_close(G.db);
	ctrl_conf_free(G.conf);
	SSL_CTX_free(G.cctx);
	PQfinish(G.pg);
	event_base_free(G.base);
	free(ms);
	free(addrs);
	free(out);
	if (none > 0 || other > 0 || doubled > 0 ||
	    open_sessions != distinct_vms || open_sessions != (long)served) {
		printf("FAILED: every login must get a desktop or a refusal "
		    "with a reason, and no desktop two users\n");
		return 1;
	}
	return 0;
}

/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * test_agent_tls.c — the agent channel's transport (xvds/agent/tls.c) on
 * loopback, server and clients in one process and one loop.  The test
 * makes its own throwaway PKI with OpenSSL's API: a CA, the controller's
 * certificate, two hosts' certificates, and a host of another CA.
 * Then: hello/welcome and traffic both ways; clients without a
 * certificate or of another CA refused; a server of another CA or name
 * refused; a malformed or over-long line closes only its connection, and
 * is logged; a client comes back, with back-off, after the server
 * restarts.  Also prints the handshake time and the round trip of a ping.
 */
#include <config.h>

#include <sys/stat.h>
#include <sys/time.h>

#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/event.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "agent/tls.h"
#include "common/log.h"
#include "pki.h"
#include "run_loop.h"

#define SAFETY_MS	5000
#define PINGS		200
#define SAMPLES		500	/* of SAMPLE_VMS VMs, for the throughput */
#define SAMPLE_VMS	100	/* the scale target (doc/architecture.md) */

static char dir[192];
static struct event_base *base;

/* What one end saw. */
struct side {
	const char	*name;		/* a client's host name: its hello */
	struct agent_client *cli;
	struct agent_conn *conn;	/* the last connected */
	int		 connected, closed, refused, welcomed, events;
	int		 msgs[AGENT_M__COUNT];
	int64_t		 pong_seq;
	char		 why[512];	/* of the last close or refusal */
	char		 closed_id[AGENT_HOST_MAX + 1];
	double		 t_connected, t_refused[16], t_conns[16];
};

static struct side srv_side, a_side, b_side;

/* test_close_in_callbacks: who closes or frees what, from a callback. */
static struct {
	const char	*refuse;	/* the server turns this host away */
	struct agent_server *srv;	/* freed by the server on a ping */
	int		 free_on_welcome;	/* host a frees its client */
} cb_mode;

static double
now_ms(void)
{
	struct timeval tv;

	gettimeofday(&tv, NULL);
	return tv.tv_sec * 1000.0 + tv.tv_usec / 1000.0;
}

static char *
path(const char *name)
{
	return pki_path(dir, name);
}

static int
setup_pki(void **state)
{
	double	 t0 = now_ms();
	const char *tmp = getenv("TMPDIR");

	if (tmp == NULL || tmp[0] == '\0' || strlen(tmp) > 150)
		tmp = "/tmp";
	(void)state;
	snprintf(dir, sizeof(dir), "%s/xvds-agent-XXXXXX", tmp);
	assert_non_null(mkdtemp(dir));
	pki_make_cert(dir, "ca", "XVDS test CA", NULL, NULL);
	pki_make_cert(dir, "ca2", "Another CA", NULL, NULL);
	pki_make_cert(dir, "controller", "controller", "ca",
	    "DNS:localhost,IP:127.0.0.1");
	pki_make_cert(dir, "host-a", "host-a", "ca", NULL);
	pki_make_cert(dir, "host-b", "host-b", "ca", NULL);
	pki_make_cert(dir, "rogue", "host-a", "ca2", NULL);	/* claims host-a */
	pki_make_cert(dir, "controller2", "controller", "ca2", "IP:127.0.0.1");
	print_message("# PKI of 7 certificates made in %.1f ms\n", now_ms() - t0);
	return 0;
}

static int
teardown_pki(void **state)
{
	const char *const f[] = { "ca", "ca2", "controller", "host-a", "host-b",
	    "rogue", "controller2" };
	char	 file[64];
	size_t	 i;

	(void)state;
	for (i = 0; i < sizeof(f) / sizeof(f[0]); i++) {
		snprintf(file, sizeof(file), "%s.pem", f[i]);
		unlink(path(file));
		snprintf(file, sizeof(file), "%s.key", f[i]);
		unlink(path(file));
	}
	rmdir(dir);
	return 0;
}

static struct agent_tls_conf
conf_of(const char *ca, const char *who)
{
	struct agent_tls_conf c;
	char	 file[64];

	memset(&c, 0, sizeof(c));
	c.ca_file = strdup(path(ca));
	if (who != NULL) {
		snprintf(file, sizeof(file), "%s.pem", who);
		c.cert_file = strdup(path(file));
		snprintf(file, sizeof(file), "%s.key", who);
		c.key_file = strdup(path(file));
	}
	c.backoff_min_ms = 50;
	c.backoff_max_ms = 400;
	return c;
}

static void
conf_free(struct agent_tls_conf *c)
{
	free((char *)c->ca_file);
	free((char *)c->cert_file);
	free((char *)c->key_file);
}

/* The controller's side, as the tests need it. */

static void
send_msg(struct agent_conn *c, struct agent_msg *m)
{
	assert_int_equal(agent_conn_send(c, m), 0);
}

static void
srv_connected(struct agent_conn *c, const char *id, void *arg)
{
	struct side *s = arg;

	(void)id;
	s->conn = c;
	s->connected++;
	s->events++;
}

static void
srv_message(struct agent_conn *c, const struct agent_msg *in, void *arg)
{
	struct side *s = arg;
	struct agent_msg m;

	s->msgs[in->type]++;
	s->events++;
	memset(&m, 0, sizeof(m));
	switch (in->type) {
	case AGENT_M_HELLO:
		/* A host is who its certificate says. */
		assert_string_equal(in->u.hello.host, agent_conn_identity(c));
		if (cb_mode.refuse != NULL &&
		    strcmp(in->u.hello.host, cb_mode.refuse) == 0) {
			m.type = AGENT_M_RESULT;
			snprintf(m.u.result.code, sizeof(m.u.result.code),
			    "identity");
			snprintf(m.u.result.message, sizeof(m.u.result.message),
			    "turned away by the test");
			send_msg(c, &m);
			agent_conn_close(c, "turned away by the test");
			assert_int_equal(agent_conn_send(c, &m), -1);
			break;
		}
		m.type = AGENT_M_WELCOME;
		m.u.welcome.v = AGENT_PROTO_VERSION;
		snprintf(m.u.welcome.host, sizeof(m.u.welcome.host), "%s",
		    agent_conn_identity(c));
		m.u.welcome.sample_s = 5;
		send_msg(c, &m);
		break;
	case AGENT_M_STATE:
		m.type = AGENT_M_OP;
		m.u.op.id = 7;
		snprintf(m.u.op.vm, sizeof(m.u.op.vm), "%s", in->u.state.vm);
		m.u.op.action = AGENT_A_PAUSE;
		send_msg(c, &m);
		break;
	case AGENT_M_PING:
		if (cb_mode.srv != NULL) {
			agent_server_free(cb_mode.srv);
			cb_mode.srv = NULL;
			break;
		}
		m.type = AGENT_M_PONG;
		m.u.seq = in->u.seq;
		send_msg(c, &m);
		break;
	default:
		break;
	}
}

static void
srv_closed(struct agent_conn *c, const char *why, void *arg)
{
	struct side *s = arg;

	s->closed++;
	s->events++;
	snprintf(s->why, sizeof(s->why), "%s", why);
	snprintf(s->closed_id, sizeof(s->closed_id), "%s", agent_conn_identity(c));
	if (s->conn == c)
		s->conn = NULL;
}

static void
any_refused(const char *peer, const char *why, void *arg)
{
	struct side *s = arg;

	(void)peer;
	if (s->refused < 16)
		s->t_refused[s->refused] = now_ms();
	s->refused++;
	s->events++;
	snprintf(s->why, sizeof(s->why), "%s", why);
}

static const struct agent_tls_cbs srv_cbs = {
	srv_connected, srv_message, srv_closed, any_refused
};

/* A host's side: hello, then a sample, a state and pings. */

static void
cli_connected(struct agent_conn *c, const char *id, void *arg)
{
	struct side *s = arg;
	struct agent_msg m;

	assert_string_equal(id, "controller");
	s->conn = c;
	s->connected++;
	s->events++;
	s->t_connected = now_ms();
	if (s->connected <= 16)
		s->t_conns[s->connected - 1] = s->t_connected;
	memset(&m, 0, sizeof(m));
	m.type = AGENT_M_HELLO;
	m.u.hello.v = AGENT_PROTO_VERSION;
	snprintf(m.u.hello.host, sizeof(m.u.hello.host), "%s", s->name);
	m.u.hello.cpus = 8;
	m.u.hello.memory_mib = 32768;
	snprintf(m.u.hello.hypervisor, sizeof(m.u.hello.hypervisor), "simulated");
	send_msg(c, &m);
}

static void
cli_message(struct agent_conn *c, const struct agent_msg *in, void *arg)
{
	struct side *s = arg;
	struct agent_vm_sample vm = { "lab-01", 37.5, 2048 };
	struct agent_msg m;

	s->msgs[in->type]++;
	s->events++;
	memset(&m, 0, sizeof(m));
	switch (in->type) {
	case AGENT_M_WELCOME:
		s->welcomed++;
		if (cb_mode.free_on_welcome && s == &a_side) {
			agent_client_free(s->cli);
			s->cli = NULL;
			break;
		}
		assert_string_equal(in->u.welcome.host, s->name);
		m.type = AGENT_M_SAMPLE;
		m.u.sample = (struct agent_sample){ .time = 1800000000, .rvm = 1,
		    .tcpu = 800, .fcpu = 762, .acpu = 200, .tmem_mib = 32768,
		    .fmem_mib = 30000, .nvms = 1, .vms = &vm };
		send_msg(c, &m);
		memset(&m, 0, sizeof(m));
		m.type = AGENT_M_STATE;
		snprintf(m.u.state.vm, sizeof(m.u.state.vm), "lab-01");
		m.u.state.state = VM_S_READY;
		m.u.state.domid = 3;
		snprintf(m.u.state.addr, sizeof(m.u.state.addr), "10.77.0.2");
		send_msg(c, &m);
		break;
	case AGENT_M_OP:
		assert_int_equal(in->u.op.action, AGENT_A_PAUSE);
		m.type = AGENT_M_RESULT;
		m.u.result.id = in->u.op.id;
		m.u.result.ok = true;
		send_msg(c, &m);
		break;
	case AGENT_M_PONG:
		s->pong_seq = in->u.seq;
		break;
	default:
		break;
	}
}

static void
cli_closed(struct agent_conn *c, const char *why, void *arg)
{
	struct side *s = arg;

	(void)c;
	s->closed++;
	s->events++;
	s->conn = NULL;
	snprintf(s->why, sizeof(s->why), "%s", why);
}

static const struct agent_tls_cbs cli_cbs = {
	cli_connected, cli_message, cli_closed, any_refused
};

static void
ping(struct side *s, int64_t seq)
{
	struct agent_msg m;

	memset(&m, 0, sizeof(m));
	m.type = AGENT_M_PING;
	m.u.seq = seq;
	assert_non_null(s->conn);
	send_msg(s->conn, &m);
}

static struct agent_server *
server_start(const char *who, uint16_t port)
{
	struct agent_tls_conf c = conf_of("ca.pem", who);
	struct agent_server *srv;

	srv = agent_server_new(base, &c, "127.0.0.1", port, &srv_cbs, &srv_side);
	conf_free(&c);
	assert_non_null(srv);
	return srv;
}

static void
client_start(struct side *s, const char *name, const char *ca, const char *who,
    const char *server_name, uint16_t port)
{
	struct agent_tls_conf c = conf_of(ca, who);

	s->name = name;
	c.server_name = server_name;
	s->cli = agent_client_new(base, &c, "127.0.0.1", port, &cli_cbs, s);
	conf_free(&c);
	assert_non_null(s->cli);
}

static int
setup(void **state)
{
	(void)state;
	memset(&srv_side, 0, sizeof(srv_side));
	memset(&a_side, 0, sizeof(a_side));
	memset(&b_side, 0, sizeof(b_side));
	base = event_base_new();
	assert_non_null(base);
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	agent_client_free(a_side.cli);
	agent_client_free(b_side.cli);
	run_for(base, 20);
	event_base_free(base);
	return 0;
}

/* stderr to a file for a while, to see what was logged. */
static int saved_stderr = -1;

static void
capture_start(void)
{
	int	 fd;

	fflush(stderr);
	saved_stderr = dup(2);
	fd = open(path("log"), O_WRONLY | O_CREAT | O_TRUNC, 0600);
	assert_true(saved_stderr != -1 && fd != -1);
	dup2(fd, 2);
	close(fd);
}

static char *
capture_end(void)
{
	static char buf[8192];
	ssize_t	 n;
	int	 fd;

	fflush(stderr);
	dup2(saved_stderr, 2);
	close(saved_stderr);
	fd = open(path("log"), O_RDONLY);
	assert_true(fd != -1);
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	unlink(path("log"));
	buf[n > 0 ? n : 0] = '\0';
	return buf;
}

/* Sends SAMPLES samples at once and waits for the server to have them. */
static void
sample_burst(struct side *s)
{
	struct agent_vm_sample *vms;
	struct agent_msg m;
	double	 t0, ms;
	char	 err[256], *line;
	size_t	 i, bytes;
	int	 want = srv_side.msgs[AGENT_M_SAMPLE] + SAMPLES;

	vms = calloc(SAMPLE_VMS, sizeof(*vms));
	assert_non_null(vms);
	for (i = 0; i < SAMPLE_VMS; i++) {
		snprintf(vms[i].vm, sizeof(vms[i].vm), "pool-%02zu", i);
		vms[i].cpu_pct = 12.5 + (double)i / 7;
		vms[i].memory_mib = 2048;
	}
	memset(&m, 0, sizeof(m));
	m.type = AGENT_M_SAMPLE;
	m.u.sample = (struct agent_sample){ .time = 1800000000, .rvm = SAMPLE_VMS,
	    .tcpu = 3200, .fcpu = 1000, .acpu = 20000, .tmem_mib = 262144,
	    .fmem_mib = 40000, .nvms = SAMPLE_VMS, .vms = vms };
	line = agent_msg_encode(&m, err, sizeof(err));
	assert_non_null(line);
	bytes = strlen(line) + 1;
	free(line);
	t0 = now_ms();
	for (i = 0; i < SAMPLES; i++)
		send_msg(s->conn, &m);
	assert_int_equal(run_until(base, &srv_side.msgs[AGENT_M_SAMPLE], want,
	    SAFETY_MS * 4), 0);
	ms = now_ms() - t0;
	print_message("# %d samples of %d VMs (%zu bytes each): %.0f ms, "
	    "%.0f samples/s\n", SAMPLES, SAMPLE_VMS, bytes, ms, SAMPLES * 1000 / ms);
	free(vms);
}

/* hello/welcome, a sample, a state, an op and its result, pings. */
static void
test_exchange(void **state)
{
	struct agent_server *srv;
	double	 t0, t1;
	int64_t	 i;

	(void)state;
	srv = server_start("controller", 0);
	t0 = now_ms();
	client_start(&a_side, "host-a", "ca.pem", "host-a", "localhost",
	    agent_server_port(srv));
	assert_int_equal(run_until(base, &a_side.connected, 1, SAFETY_MS), 0);
	print_message("# TLS handshake on loopback: %.2f ms\n",
	    a_side.t_connected - t0);
	assert_int_equal(run_until(base, &srv_side.msgs[AGENT_M_RESULT], 1,
	    SAFETY_MS), 0);
	assert_int_equal(srv_side.connected, 1);
	assert_int_equal(srv_side.msgs[AGENT_M_HELLO], 1);
	assert_int_equal(srv_side.msgs[AGENT_M_SAMPLE], 1);
	assert_int_equal(srv_side.msgs[AGENT_M_STATE], 1);
	assert_int_equal(a_side.welcomed, 1);
	assert_int_equal(a_side.msgs[AGENT_M_OP], 1);
	assert_string_equal(agent_conn_identity(srv_side.conn), "host-a");
	assert_ptr_equal(agent_client_conn(a_side.cli), a_side.conn);

	/* Ping-pong, one at a time: the round trip. */
	t1 = now_ms();
	for (i = 1; i <= PINGS; i++) {
		int	 want = a_side.msgs[AGENT_M_PONG] + 1;

		ping(&a_side, i);
		assert_int_equal(run_until(base, &a_side.msgs[AGENT_M_PONG], want,
		    SAFETY_MS), 0);
		assert_int_equal(a_side.pong_seq, i);
	}
	print_message("# ping round trip: %.1f us\n",
	    (now_ms() - t1) * 1000.0 / PINGS);
	assert_int_equal(srv_side.closed + a_side.closed, 0);

	/* Samples of a full host, as fast as they go. */
	sample_burst(&a_side);
	assert_int_equal(srv_side.closed + a_side.closed, 0);

	/* The server stops: the client hears it. */
	agent_server_free(srv);
	assert_int_equal(srv_side.closed, 1);
	assert_int_equal(run_until(base, &a_side.closed, 1, SAFETY_MS), 0);
	agent_client_free(a_side.cli);
	a_side.cli = NULL;
}

/* No certificate, or one of another CA: the server never takes them. */
static void
test_refused_clients(void **state)
{
	struct agent_server *srv;
	char	*log;

	(void)state;
	srv = server_start("controller", 0);
	capture_start();
	client_start(&a_side, "host-a", "ca.pem", NULL, NULL,
	    agent_server_port(srv));
	client_start(&b_side, "host-a", "ca.pem", "rogue", NULL,
	    agent_server_port(srv));
	(void)run_until(base, &srv_side.refused, 4, SAFETY_MS);
	agent_client_free(a_side.cli);
	agent_client_free(b_side.cli);
	a_side.cli = b_side.cli = NULL;
	run_for(base, 50);
	agent_server_free(srv);
	log = capture_end();
	assert_true(srv_side.refused >= 4);
	assert_int_equal(srv_side.connected, 0);
	assert_int_equal(srv_side.msgs[AGENT_M_HELLO], 0);
	assert_int_equal(a_side.welcomed + b_side.welcomed, 0);
	/* They tried again, and were refused again. */
	assert_true(a_side.refused + a_side.closed >= 2);
	assert_true(b_side.refused + b_side.closed >= 2);
	assert_non_null(strstr(log, "refused"));
	assert_non_null(strstr(log, "certificate"));
}

/* The client checks the server: of our CA, and of the name it expects. */
static void
test_refused_servers(void **state)
{
	struct agent_server *srv;
	struct agent_tls_conf c = conf_of("ca2.pem", "controller2");

	(void)state;
	srv = agent_server_new(base, &c, "127.0.0.1", 0, &srv_cbs, &srv_side);
	conf_free(&c);
	assert_non_null(srv);
	capture_start();
	client_start(&a_side, "host-a", "ca.pem", "host-a", NULL,
	    agent_server_port(srv));
	(void)run_until(base, &a_side.refused, 2, SAFETY_MS);
	agent_client_free(a_side.cli);
	a_side.cli = NULL;
	agent_server_free(srv);
	srv = server_start("controller", 0);
	client_start(&a_side, "host-a", "ca.pem", "host-a", "other.example",
	    agent_server_port(srv));
	(void)run_until(base, &a_side.refused, 4, SAFETY_MS);
	(void)capture_end();
	assert_true(a_side.refused >= 4);
	assert_int_equal(a_side.connected, 0);
	assert_non_null(strstr(a_side.why, "certificate"));
	agent_client_free(a_side.cli);
	a_side.cli = NULL;
	run_for(base, 20);
	agent_server_free(srv);
}

/* A raw TLS client, to send what agent_conn_send never would. */
struct raw {
	struct bufferevent *bev;
	const char	*data;
	size_t		 len;
	int		 connected, closed;
	char		 got[1024];	/* what the server said, the start of it */
	size_t		 ngot;
};

static void
raw_event(struct bufferevent *bev, short what, void *arg)
{
	struct raw *r = arg;

	if (what & BEV_EVENT_CONNECTED) {
		r->connected = 1;
		bufferevent_write(bev, r->data, r->len);
	} else
		r->closed = 1;
}

static void
raw_read(struct bufferevent *bev, void *arg)
{
	struct raw *r = arg;
	struct evbuffer *in = bufferevent_get_input(bev);

	r->ngot += (size_t)evbuffer_remove(in, r->got + r->ngot,
	    sizeof(r->got) - 1 - r->ngot);
	r->got[r->ngot] = '\0';
	evbuffer_drain(in, evbuffer_get_length(in));
}

static SSL_CTX *
raw_ctx(const char *who)
{
	SSL_CTX	*ctx = SSL_CTX_new(TLS_client_method());
	char	 file[64];

	assert_non_null(ctx);
	/* Let the test offer what the server must refuse (TLS 1.1). */
	SSL_CTX_set_min_proto_version(ctx, 0);
	assert_int_equal(SSL_CTX_set_cipher_list(ctx, "DEFAULT:@SECLEVEL=0"), 1);
	snprintf(file, sizeof(file), "%s.pem", who);
	assert_int_equal(SSL_CTX_use_certificate_file(ctx, path(file),
	    SSL_FILETYPE_PEM), 1);
	snprintf(file, sizeof(file), "%s.key", who);
	assert_int_equal(SSL_CTX_use_PrivateKey_file(ctx, path(file),
	    SSL_FILETYPE_PEM), 1);
	return ctx;
}

static void
raw_send(struct raw *r, SSL_CTX *ctx, uint16_t port, const char *data,
    size_t len)
{
	struct sockaddr_in sin;

	memset(r, 0, sizeof(*r));
	r->data = data;
	r->len = len;
	r->bev = bufferevent_openssl_socket_new(base, -1, SSL_new(ctx),
	    BUFFEREVENT_SSL_CONNECTING, BEV_OPT_CLOSE_ON_FREE);
	assert_non_null(r->bev);
	bufferevent_openssl_set_allow_dirty_shutdown(r->bev, 1);
	bufferevent_setcb(r->bev, raw_read, NULL, raw_event, r);
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons(port);
	sin.sin_addr.s_addr = htonl(0x7f000001);
	assert_int_equal(bufferevent_socket_connect(r->bev,
	    (struct sockaddr *)&sin, sizeof(sin)), 0);
	bufferevent_enable(r->bev, EV_READ | EV_WRITE);
}

/* Host a stays connected while host b misbehaves, once of each kind. */
static void
test_bad_lines(void **state)
{
	struct agent_server *srv;
	struct raw r;
	SSL_CTX	*ctx;
	char	*big, *log;
	int	 pongs;

	(void)state;
	srv = server_start("controller", 0);
	client_start(&a_side, "host-a", "ca.pem", "host-a", "127.0.0.1",
	    agent_server_port(srv));
	assert_int_equal(run_until(base, &a_side.welcomed, 1, SAFETY_MS), 0);
	ctx = raw_ctx("host-b");

	/* Malformed: a ping without its seq. */
	capture_start();
	raw_send(&r, ctx, agent_server_port(srv), "{\"msg\":\"ping\"}\n", 15);
	assert_int_equal(run_until(base, &srv_side.closed, 1, SAFETY_MS), 0);
	log = capture_end();
	assert_string_equal(srv_side.closed_id, "host-b");
	assert_non_null(strstr(srv_side.why, "malformed message"));
	assert_non_null(strstr(log, "host-b"));
	assert_non_null(strstr(log, "malformed message"));
	(void)run_until(base, &r.closed, 1, SAFETY_MS);
	assert_int_equal(r.closed, 1);
	bufferevent_free(r.bev);

	/* Host a did not notice. */
	assert_int_equal(a_side.closed, 0);
	pongs = a_side.msgs[AGENT_M_PONG];
	ping(&a_side, 1);
	assert_int_equal(run_until(base, &a_side.msgs[AGENT_M_PONG], pongs + 1,
	    SAFETY_MS), 0);

	/* The longest line passes; one byte more closes. */
	big = malloc(2 * AGENT_MSG_MAX + 2);
	assert_non_null(big);
	memset(big, ' ', 2 * AGENT_MSG_MAX + 2);
	memcpy(big, "{\"msg\":\"ping\",\"seq\":5}", 22);
	big[AGENT_MSG_MAX - 1] = '\n';
	memcpy(big + AGENT_MSG_MAX, "{\"msg\":\"ping\",\"seq\":6}", 22);
	big[2 * AGENT_MSG_MAX] = '\n';
	capture_start();
	raw_send(&r, ctx, agent_server_port(srv), big, 2 * AGENT_MSG_MAX + 1);
	assert_int_equal(run_until(base, &srv_side.closed, 2, SAFETY_MS), 0);
	log = capture_end();
	assert_int_equal(srv_side.msgs[AGENT_M_PING], 2);	/* a's and seq 5 */
	assert_string_equal(srv_side.closed_id, "host-b");
	assert_non_null(strstr(srv_side.why, "longer than"));
	assert_non_null(strstr(log, "longer than"));
	(void)run_until(base, &r.closed, 1, SAFETY_MS);
	bufferevent_free(r.bev);

	/* A line that never ends is cut at the limit too. */
	memset(big, 'x', 2 * AGENT_MSG_MAX + 2);
	capture_start();
	raw_send(&r, ctx, agent_server_port(srv), big, 2 * AGENT_MSG_MAX + 2);
	assert_int_equal(run_until(base, &srv_side.closed, 3, SAFETY_MS), 0);
	(void)capture_end();
	assert_non_null(strstr(srv_side.why, "longer than"));
	(void)run_until(base, &r.closed, 1, SAFETY_MS);
	bufferevent_free(r.bev);
	free(big);

	/* A hello of another version: told so, then closed. */
	raw_send(&r, ctx, agent_server_port(srv), "{\"msg\":\"hello\",\"v\":2,"
	    "\"host\":\"host-b\",\"capacity\":{\"cpus\":1,\"memory_mib\":1,"
	    "\"hypervisor\":\"x\"}}\n", 92);
	assert_int_equal(run_until(base, &r.closed, 1, SAFETY_MS), 0);
	assert_non_null(strstr(r.got, "\"id\":0"));
	assert_non_null(strstr(r.got, "\"error\":\"version\""));
	assert_non_null(strstr(r.got, "version 1, the agent 2"));
	bufferevent_free(r.bev);

	SSL_CTX_free(ctx);

	assert_int_equal(a_side.closed, 0);
	assert_int_equal(srv_side.connected, 5);
	agent_client_free(a_side.cli);
	a_side.cli = NULL;
	run_for(base, 20);
	agent_server_free(srv);
}

/*
 * The controller turns a host away with a reason and closes: the reason
 * arrives first.  A client freed from its callback, and a server freed
 * from its: nothing is used after it is freed (ASan).
 */
static void
test_close_in_callbacks(void **state)
{
	struct agent_server *srv;
	uint16_t port;

	(void)state;
	memset(&cb_mode, 0, sizeof(cb_mode));
	srv = server_start("controller", 0);
	port = agent_server_port(srv);
	cb_mode.refuse = "host-b";
	client_start(&b_side, "host-b", "ca.pem", "host-b", NULL, port);
	assert_int_equal(run_until(base, &b_side.closed, 1, SAFETY_MS), 0);
	assert_int_equal(b_side.msgs[AGENT_M_RESULT], 1);
	assert_int_equal(b_side.welcomed, 0);
	assert_string_equal(srv_side.why, "turned away by the test");
	agent_client_free(b_side.cli);
	b_side.cli = NULL;

	cb_mode.free_on_welcome = 1;
	client_start(&a_side, "host-a", "ca.pem", "host-a", NULL, port);
	assert_int_equal(run_until(base, &srv_side.closed, 2, SAFETY_MS), 0);
	assert_null(a_side.cli);
	assert_int_equal(a_side.closed, 1);

	cb_mode.free_on_welcome = 0;
	cb_mode.srv = srv;
	client_start(&a_side, "host-a", "ca.pem", "host-a", NULL, port);
	assert_int_equal(run_until(base, &a_side.welcomed, 2, SAFETY_MS), 0);
	ping(&a_side, 1);
	assert_int_equal(run_until(base, &a_side.closed, 2, SAFETY_MS), 0);
	assert_null(cb_mode.srv);
	memset(&cb_mode, 0, sizeof(cb_mode));
}

/* A peer that does not read is dropped once AGENT_OUTBUF_MAX piles up. */
static void
test_peer_not_reading(void **state)
{
	struct agent_server *srv;
	struct agent_vm_sample vms[AGENT_SAMPLE_VMS_MAX];
	struct agent_msg m;
	struct raw r;
	SSL_CTX	*ctx;
	char	 err[256], *log, *line;
	int	 i, sent = 0;

	(void)state;
	srv = server_start("controller", 0);
	ctx = raw_ctx("host-b");
	raw_send(&r, ctx, agent_server_port(srv), "", 0);
	assert_int_equal(run_until(base, &srv_side.connected, 1, SAFETY_MS), 0);
	bufferevent_disable(r.bev, EV_READ);
	memset(vms, 0, sizeof(vms));
	for (i = 0; i < AGENT_SAMPLE_VMS_MAX; i++)
		snprintf(vms[i].vm, sizeof(vms[i].vm), "vm-%d", i);
	memset(&m, 0, sizeof(m));
	m.type = AGENT_M_SAMPLE;	/* not what a controller sends: any will do */
	m.u.sample.nvms = AGENT_SAMPLE_VMS_MAX;
	m.u.sample.vms = vms;
	capture_start();
	while (srv_side.closed == 0 && sent < 10000) {
		for (i = 0; i < 20 && srv_side.conn != NULL; i++)
			if (agent_conn_send(srv_side.conn, &m) == 0)
				sent++;
		run_for(base, 1);
	}
	log = capture_end();
	line = agent_msg_encode(&m, err, sizeof(err));
	assert_non_null(line);
	print_message("# dropped a peer that read nothing after %d messages "
	    "of %zu bytes\n", sent, strlen(line) + 1);
	free(line);
	assert_int_equal(srv_side.closed, 1);
	assert_string_equal(srv_side.why, "peer does not read");
	assert_non_null(strstr(log, "peer does not read"));
	bufferevent_free(r.bev);
	SSL_CTX_free(ctx);
	run_for(base, 20);
	agent_server_free(srv);
}

/* Many hosts at once, as after a controller's restart. */
static void
test_many_clients(void **state)
{
	struct agent_server *srv;
	struct side *many;
	double	 t0;
	int	 i, n = 100, welcomed;

	(void)state;
	srv = server_start("controller", 0);
	many = calloc((size_t)n, sizeof(*many));
	assert_non_null(many);
	t0 = now_ms();
	for (i = 0; i < n; i++)
		client_start(&many[i], "host-a", "ca.pem", "host-a", NULL,
		    agent_server_port(srv));
	assert_int_equal(run_until(base, &srv_side.msgs[AGENT_M_RESULT], n,
	    SAFETY_MS * 4), 0);
	print_message("# %d hosts connected, welcomed, sampled and answered an "
	    "op in %.0f ms\n", n, now_ms() - t0);
	for (welcomed = 0, i = 0; i < n; i++)
		welcomed += many[i].welcomed;
	assert_int_equal(welcomed, n);
	assert_int_equal(srv_side.connected, n);
	for (i = 0; i < n; i++)
		agent_client_free(many[i].cli);
	free(many);
	assert_int_equal(run_until(base, &srv_side.closed, n, SAFETY_MS), 0);
	agent_server_free(srv);
}

/* TLS 1.2 is taken, TLS 1.1 is not. */
static void
test_tls_versions(void **state)
{
	struct agent_server *srv;
	struct raw r;
	SSL_CTX	*ctx;
	const char *line = "{\"msg\":\"ping\",\"seq\":12}\n";

	(void)state;
	srv = server_start("controller", 0);
	ctx = raw_ctx("host-b");
	SSL_CTX_set_max_proto_version(ctx, TLS1_2_VERSION);
	raw_send(&r, ctx, agent_server_port(srv), line, strlen(line));
	assert_int_equal(run_until(base, &srv_side.msgs[AGENT_M_PING], 1,
	    SAFETY_MS), 0);
	assert_string_equal(SSL_get_version(bufferevent_openssl_get_ssl(r.bev)),
	    "TLSv1.2");
	assert_int_equal(srv_side.connected, 1);
	bufferevent_free(r.bev);

	capture_start();
	SSL_CTX_set_max_proto_version(ctx, TLS1_1_VERSION);
	raw_send(&r, ctx, agent_server_port(srv), line, strlen(line));
	assert_int_equal(run_until(base, &srv_side.refused, 1, SAFETY_MS), 0);
	(void)run_until(base, &r.closed, 1, SAFETY_MS);
	print_message("# TLS 1.1: %s\n", srv_side.why);
	(void)capture_end();
	assert_int_equal(r.connected, 0);
	assert_int_equal(srv_side.connected, 1);
	assert_non_null(strstr(srv_side.why, "protocol"));
	bufferevent_free(r.bev);
	SSL_CTX_free(ctx);
	run_for(base, 20);
	agent_server_free(srv);
}

/* The server goes away and comes back on the same port. */
static void
test_reconnect(void **state)
{
	struct agent_server *srv;
	uint16_t port;
	double	 t0, gap;
	int	 i;

	(void)state;
	srv = server_start("controller", 0);
	port = agent_server_port(srv);
	client_start(&a_side, "host-a", "ca.pem", "host-a", "localhost", port);
	assert_int_equal(run_until(base, &a_side.welcomed, 1, SAFETY_MS), 0);
	capture_start();
	agent_server_free(srv);
	assert_int_equal(run_until(base, &a_side.closed, 1, SAFETY_MS), 0);
	/* 50, 100, 200, 400, 400 ms nominal: 6 tries within 1.2 s. */
	(void)run_until(base, &a_side.refused, 6, SAFETY_MS);
	srv = server_start("controller", port);
	t0 = now_ms();
	assert_int_equal(run_until(base, &a_side.welcomed, 2, SAFETY_MS), 0);
	(void)capture_end();
	print_message("# reconnected %.0f ms after the server came back, after "
	    "%d refused tries\n", now_ms() - t0, a_side.refused);
	assert_true(a_side.refused >= 6);
	/*
	 * The waits: at least half of 50 * 2^i ms (a load can only lengthen
	 * them, so no upper bound on the clock); test_refused_backs_off
	 * reads the cap from the client.
	 */
	for (i = 1; i < 6 && i < a_side.refused; i++) {
		int	 d = i < 3 ? 50 << i : 400;

		gap = a_side.t_refused[i] - a_side.t_refused[i - 1];
		print_message("# wait before try %d: %.0f ms (%d-%d)\n", i + 1,
		    gap, d / 2, d);
		assert_true(gap >= d / 2 - 5);
	}
	/* The welcome reset the back-off: the next loss retries quickly. */
	assert_int_equal(agent_client_backoff_ms(a_side.cli), 50);
	agent_server_free(srv);
	assert_int_equal(run_until(base, &a_side.closed, 2, SAFETY_MS), 0);
	srv = server_start("controller", port);
	assert_int_equal(run_until(base, &a_side.welcomed, 3, SAFETY_MS), 0);
	agent_client_free(a_side.cli);
	a_side.cli = NULL;
	run_for(base, 20);
	agent_server_free(srv);
}

/*
 * A host the controller refuses backs off as from a controller that is
 * down: the refusal is not an answer that resets the back-off.
 */
static void
test_refused_backs_off(void **state)
{
	struct agent_server *srv;
	double	 gap;
	int	 i;

	(void)state;
	memset(&cb_mode, 0, sizeof(cb_mode));
	cb_mode.refuse = "host-a";
	srv = server_start("controller", 0);
	capture_start();
	client_start(&a_side, "host-a", "ca.pem", "host-a", "localhost",
	    agent_server_port(srv));
	/* Waits of 25-50, 50-100, 100-200, 200-400, 200-400 ms. */
	assert_int_equal(run_until(base, &a_side.connected, 6, SAFETY_MS), 0);
	(void)capture_end();
	for (i = 1; i < 6; i++)
		print_message("# connection %d, %.0f ms after the one before\n",
		    i + 1, a_side.t_conns[i] - a_side.t_conns[i - 1]);
	/* A load can only lengthen them; reset each time, each would be
	 * 25-50 ms and a handshake. */
	gap = a_side.t_conns[5] - a_side.t_conns[4];
	assert_true(gap >= 200 - 5);
	assert_int_equal(agent_client_backoff_ms(a_side.cli), 400);
	assert_int_equal(a_side.welcomed, 0);
	agent_client_free(a_side.cli);
	a_side.cli = NULL;
	run_for(base, 20);
	agent_server_free(srv);
	memset(&cb_mode, 0, sizeof(cb_mode));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_exchange, setup, teardown),
		cmocka_unit_test_setup_teardown(test_refused_clients, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_refused_servers, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_bad_lines, setup, teardown),
		cmocka_unit_test_setup_teardown(test_close_in_callbacks, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_tls_versions, setup, teardown),
		cmocka_unit_test_setup_teardown(test_peer_not_reading, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_many_clients, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reconnect, setup, teardown),
		cmocka_unit_test_setup_teardown(test_refused_backs_off, setup,
		    teardown),
	};

	signal(SIGPIPE, SIG_IGN);
	log_init(1, 0);
	return cmocka_run_group_tests(tests, setup_pki, teardown_pki);
}

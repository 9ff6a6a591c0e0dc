/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * controller/broker.c — the broker service of the active controller
 * (controller/broker.h, xvds-broker(7)): thin clients' TLS connections, one
 * request line at a time, answered from PostgreSQL.
 *
 * A connection reads nothing more while its request is in the database's
 * queue, so each has at most one request under way.  A request outlives
 * its connection (the database answers later): a connection that ends
 * first leaves its request orphaned, and the answer is dropped.
 *
 * The controller's work connection runs one query at a time, in order,
 * shared with the agents; a BEGIN ... COMMIT spread over several queued
 * queries would interleave with theirs.  So each step that must be atomic
 * is one statement, with data-modifying CTEs, which is one transaction.
 *
 * Logins are controller/login.c's; renew and logout are here.  A logout only
 * ends the session: the session module (controller/session.c) releases its VM.
 *
 * Floods (xvds-broker(7), CONNECTION LIMITS): a connection has
 * request-timeout seconds from its start, and again from each reply, to
 * finish its TLS handshake and its request line, however it trickles the
 * bytes; the connections from one address and in all are capped, a
 * newcomer taking the place of the connection idle the longest
 * (linesrv/conn_limit.h); and a listener that cannot accept pauses.
 */
#include <config.h>

#include <sys/queue.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <netinet/tcp.h>

#include <errno.h>
#include <netdb.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <event2/bufferevent.h>
#include <event2/event.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <sodium.h>

#include "common/broker_msg.h"
#include "common/credential.h"
#include "controller/agent.h"
#include "controller/broker.h"
#include "controller/conf.h"
#include "controller/login.h"
#include "controller/sql.h"
#include "linesrv/conn_limit.h"
#include "db/db.h"
#include "common/log.h"
#include "controller/passwd_pool.h"
#include "common/ratelimit.h"
#include "linesrv/linesrv.h"

struct bconn {
	struct linesrv_conn *line;
	struct broker_req *req;	/* under way, or NULL */
	struct conn_slot *slot;		/* in broker.limit */
	struct event	*deadline;	/* for the request line, while idle */
	char		 addr[RATELIMIT_KEY_MAX + 1];
	char		 peer[INET6_ADDRSTRLEN + 8];
	int		 closing;	/* the reply is the last */
	TAILQ_ENTRY(bconn) entry;
};

static struct {
	struct login_env env;		/* base, db, pwpool, lease_s */
	SSL_CTX		*ctx;
	struct linesrv_listener *listener;
	struct ratelimit *rl;
	unsigned	 rl_gen;	/* this start's */
	struct conn_limit *limit;
	unsigned	 request_s;	/* broker-connections request-timeout */
	TAILQ_HEAD(, bconn) conns;
	size_t		 nconns;
	uint16_t	 port;
} broker;

/* Starts so far: a request admitted before a restart is not settled in
 * the limits of the next start. */
static unsigned rl_starts;

static void	conn_free(struct bconn *);
static void	conn_deadline_arm(struct bconn *);
static void	conn_on_line(void *, const char *, size_t);
static void	conn_on_too_long(void *);
static void	conn_on_close(void *, short);

/*
 * One request at a time; a whole line too long is the decoder's to name
 * (xvds-broker(7)); lines hold passwords and tokens.
 */
static const struct linesrv_conn_conf broker_line_conf = {
	.line_max = BROKER_MSG_MAX,
	.one_request = 1,
	.long_lines = 1,
	.wipe = 1,
};
static const struct linesrv_conn_ops broker_line_ops = {
	.on_line = conn_on_line,
	.on_too_long = conn_on_too_long,
	.on_close = conn_on_close,
};

static void	broker_req_free(struct broker_req *);
static void	broker_req_reply(struct broker_req *,
		    const struct broker_reply *);
static void	broker_req_progress(struct broker_req *,
		    enum broker_progress);
static void	broker_event(const char *, const char *, const char *,
		    const char *);
static unsigned	broker_ratelimit_admit(struct broker_req *);
static void	broker_ratelimit_settle(struct broker_req *,
		    enum ratelimit_verdict);

/*
 * What the logins (controller/login.h) are lent: the functions for good,
 * the state while the broker runs (set by ctrl_broker_start, zeroed by
 * ctrl_broker_stop).
 */
static const struct login_hooks login_hooks = {
	.env = &broker.env,
	.reply = broker_req_reply,
	.progress = broker_req_progress,
	.drop = broker_req_free,
	.event = broker_event,
	.admit = broker_ratelimit_admit,
	.settle = broker_ratelimit_settle,
};

/*
 * Whole seconds of the monotonic clock, for the rate limits; up: rounded
 * up.  A failure's time is rounded up and a check's down, so that a block
 * of N seconds lasts N seconds at least: rounded down both, a failure late
 * in a second would be blocked for N - 1 seconds and a fraction, for the
 * first block (1 s) next to nothing.
 */
static int64_t
now_s(bool up)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec + (up && ts.tv_nsec > 0);
}

static void
broker_req_free(struct broker_req *q)
{
	if (q == NULL)
		return;
	broker_ratelimit_settle(q, RATELIMIT_UNDECIDED);
	login_end(q);
	sodium_memzero(q, sizeof(*q));
	free(q);
}

/* Sends reply on q's connection and takes the next request (or closes). */
static void
broker_req_reply(struct broker_req *q, const struct broker_reply *rep)
{
	struct bconn *c = q->conn;
	char	*line, err[128];

	if (c == NULL) {
		broker_req_free(q);
		return;
	}
	c->req = NULL;
	broker_req_free(q);
	if ((line = broker_reply_encode(rep, err, sizeof(err))) == NULL) {
		log_warnx("broker: %s: reply not encoded: %s", c->peer, err);
		conn_free(c);
		return;
	}
	linesrv_conn_send_line(c->line, line);
	sodium_memzero(line, strlen(line));
	free(line);
	/* Owing its next request: idle, and evicted first if need be. */
	conn_limit_idle(c->slot);
	if (c->closing) {
		linesrv_conn_finish(c->line, 0);	/* freed once written */
		return;
	}
	conn_deadline_arm(c);
	linesrv_conn_resume(c->line);
}

/*
 * A progress line on q's connection, before its reply; the request stays
 * under way.  The connection's write timeout still bounds a client that
 * does not read.
 */
static void
broker_req_progress(struct broker_req *q, enum broker_progress step)
{
	struct broker_reply rep;
	char	*line, err[128];

	if (q->conn == NULL)
		return;
	memset(&rep, 0, sizeof(rep));
	rep.type = BROKER_R_PROGRESS;
	rep.step = step;
	if ((line = broker_reply_encode(&rep, err, sizeof(err))) == NULL) {
		log_warnx("broker: %s: progress not encoded: %s",
		    q->conn->peer, err);
		return;
	}
	linesrv_conn_send_line(q->conn->line, line);
	free(line);
}

static void
broker_req_error(struct broker_req *q, enum broker_error code, const char *msg,
    unsigned retry_after, enum broker_reason reason)
{
	struct broker_reply rep;

	broker_reply_error(&rep, code, msg, retry_after, reason);
	broker_req_reply(q, &rep);
}

static void
noted(PGresult *res, const char *err, void *arg)
{
	(void)res;
	(void)arg;
	if (err != NULL)
		log_warnx("broker: event not written: %s", err);
}

/* An event of the broker's, detail a JSON object built by SQL. */
static void
broker_event(const char *kind, const char *subject, const char *peer,
    const char *what)
{
	const char *p[4] = { kind, subject, peer, what };

	if (broker.env.db != NULL)
		db_query(broker.env.db, 0, noted, NULL, sql_broker_event, 4, p);
}

/* A renew's or logout's answer: 1 if it found the session, else replied. */
static int
session_found(struct broker_req *q, PGresult *res, const char *err)
{
	if (err != NULL) {
		log_warnx("broker: %s of session %s: %s",
		    broker_request_names[q->r.type], q->r.session, err);
		broker_req_error(q, BROKER_E_INTERNAL, "try again later", 0, 0);
		return 0;
	}
	if (PQntuples(res) != 1) {
		broker_req_error(q, BROKER_E_BAD_SESSION, "no such session", 0,
		    0);
		return 0;
	}
	return 1;
}

static void
renewed(PGresult *res, const char *err, void *arg)
{
	struct broker_req *q = arg;
	struct broker_reply rep;

	if (!session_found(q, res, err))
		return;
	memset(&rep, 0, sizeof(rep));
	rep.type = BROKER_R_RENEWED;
	rep.lease_seconds = broker.env.lease_s;
	broker_req_reply(q, &rep);
}

/*
 * Reasons that mean a broken desktop, or something between the client
 * and it: the operator's to look at (xvds-broker(7), logout).
 */
static bool
logout_alarming(enum broker_logout_reason why)
{
	return why == BROKER_LR_UNTRUSTED || why == BROKER_LR_UNREACHABLE ||
	    why == BROKER_LR_RDP_AUTH;
}

/*
 * The session module releases the desktop (a CVM's reset, a PVM's
 * shutdown) within a second; the answer need not wait for it.
 */
static void
logged_out(PGresult *res, const char *err, void *arg)
{
	struct broker_req *q = arg;
	struct broker_reply rep;

	if (!session_found(q, res, err))
		return;
	if (logout_alarming(q->r.reason))
		log_warnx("broker: session %s on %s: the client %s gave up: %s",
		    q->r.session, PQgetvalue(res, 0, 1), q->peer,
		    broker_logout_reason_names[q->r.reason]);
	memset(&rep, 0, sizeof(rep));
	rep.type = BROKER_R_DONE;
	broker_req_reply(q, &rep);
}

/* renew and logout: a session is ours if it is open and the token fits. */
static void
session_op(struct broker_req *q)
{
	char	 dig[CREDENTIAL_DIGEST_LEN + 1], lease[16];
	const char *p[4];
	size_t	 i, n = strlen(q->r.session);
	int	 rc;

	/* Our sessions are bigint ids: anything else is no session. */
	for (i = 0; i < n; i++)
		if (q->r.session[i] < '0' || q->r.session[i] > '9')
			break;
	if (n == 0 || n > 18 || i < n) {
		broker_req_error(q, BROKER_E_BAD_SESSION, "no such session", 0,
		    0);
		return;
	}
	credential_digest(CREDENTIAL_TOKEN, q->r.token, dig);
	snprintf(lease, sizeof(lease), "%u", (unsigned)broker.env.lease_s);
	p[0] = q->r.session;
	p[1] = dig;
	if (q->r.type == BROKER_RENEW) {
		p[2] = lease;
		rc = db_query(broker.env.db, DB_IDEMPOTENT, renewed, q,
		    sql_broker_renew, 3, p);
	} else {
		p[2] = q->peer;
		p[3] = broker_logout_reason_names[q->r.reason];
		rc = db_query(broker.env.db, 0, logged_out, q,
		    sql_broker_logout, 4, p);
	}
	if (rc == -1)
		broker_req_error(q, BROKER_E_INTERNAL, "try again later", 0, 0);
}

/* The connection's request, under way from now on; NULL (c freed). */
static struct broker_req *
conn_request(struct bconn *c)
{
	struct broker_req *q;

	if ((q = calloc(1, sizeof(*q))) == NULL) {
		conn_free(c);
		return NULL;
	}
	q->conn = c;
	memcpy(q->addr, c->addr, sizeof(q->addr));
	memcpy(q->peer, c->peer, sizeof(q->peer));
	c->req = q;
	evtimer_del(c->deadline);
	conn_limit_busy(c->slot);
	return q;
}

/* No end in sight: do not buffer more. */
static void
conn_on_too_long(void *arg)
{
	struct bconn *c = arg;
	struct broker_req *q;

	if ((q = conn_request(c)) == NULL)
		return;
	c->closing = 1;
	log_warnx("broker: %s: request longer than %d bytes", c->peer,
	    BROKER_MSG_MAX);
	broker_req_error(q, BROKER_E_BAD_REQUEST, "request too long", 0, 0);
}

static void
conn_on_line(void *arg, const char *line, size_t len)
{
	struct bconn *c = arg;
	struct broker_req *q;
	char	 err[BROKER_TEXT_MAX] = "no line";

	if ((q = conn_request(c)) == NULL)
		return;
	if (broker_request_decode(line, len, &q->r, err, sizeof(err)) == -1) {
		c->closing = 1;
		log_warnx("broker: %s: bad request: %s", c->peer, err);
		broker_req_error(q, BROKER_E_BAD_REQUEST, err, 0, 0);
		return;
	}
	if (q->r.type == BROKER_LOGIN)
		login_begin(q, &login_hooks);
	else
		session_op(q);
}

/* Gone, a TLS error, or (what 0) its last reply written. */
static void
conn_on_close(void *arg, short what)
{
	struct bconn *c = arg;
	const char *tls;

	if ((what & BEV_EVENT_ERROR) &&
	    (tls = linesrv_conn_tls_error(c->line)) != NULL)
		log_debug("broker: %s: TLS: %s", c->peer, tls);
	conn_free(c);
}

static void
conn_free(struct bconn *c)
{
	if (c->req != NULL)
		c->req->conn = NULL;	/* the answer is dropped */
	TAILQ_REMOVE(&broker.conns, c, entry);
	broker.nconns--;
	conn_limit_remove(c->slot);
	if (c->deadline != NULL)
		event_free(c->deadline);
	linesrv_conn_free(c->line);
	free(c);
}

/*
 * No request line within request-timeout of the start or of the last
 * reply: whatever it sent, bytes are not requests.
 */
static void
conn_deadline(evutil_socket_t fd, short what, void *arg)
{
	struct bconn *c = arg;

	(void)fd;
	(void)what;
	log_debug("broker: %s: no request in %u s: closed", c->peer,
	    broker.request_s);
	conn_free(c);
}

static void
conn_deadline_arm(struct bconn *c)
{
	struct timeval tv = { broker.request_s, 0 };

	evtimer_add(c->deadline, &tv);
}

static void
accept_cb(int fd, struct sockaddr *sa, int salen, void *arg)
{
	struct bconn *c;
	SSL	*ssl;
	char	 host[INET6_ADDRSTRLEN], key[RATELIMIT_KEY_MAX + 1];
	void	*victim;

	(void)arg;
	if (ratelimit_addr_key(sa, key) == -1 ||
	    getnameinfo(sa, (socklen_t)salen, host, sizeof(host), NULL, 0,
	    NI_NUMERICHOST) != 0) {
		evutil_closesocket(fd);
		return;
	}
	switch (conn_limit_admit(broker.limit, key, &victim)) {
	case CONN_REFUSE:
		conn_limit_note(broker.limit, "broker", key, CONN_REFUSE);
		evutil_closesocket(fd);
		return;
	case CONN_EVICT:
		conn_limit_note(broker.limit, "broker", key, CONN_EVICT);
		conn_free(victim);
		break;
	case CONN_ADMIT:
		break;
	}
	if ((c = calloc(1, sizeof(*c))) == NULL) {
		evutil_closesocket(fd);
		return;
	}
	memcpy(c->addr, key, sizeof(c->addr));
	snprintf(c->peer, sizeof(c->peer), "%s", host);
	TAILQ_INSERT_HEAD(&broker.conns, c, entry);
	broker.nconns++;
	/* A reply is one small write: send it now, not after a delayed ACK. */
	(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &(int){ 1 }, sizeof(int));
	if ((c->slot = conn_limit_add(broker.limit, key, c)) == NULL ||
	    (c->deadline = evtimer_new(broker.env.base, conn_deadline,
	    c)) == NULL ||
	    (ssl = SSL_new(broker.ctx)) == NULL) {
		evutil_closesocket(fd);
		conn_free(c);
		return;
	}
	if ((c->line = linesrv_conn_new(broker.env.base, fd, ssl,
	    &broker_line_conf, &broker_line_ops, c)) == NULL) {
		conn_free(c);
		return;
	}
	/* Reading is the deadline's; a reply left unread, the timeout's. */
	linesrv_conn_timeouts(c->line, 0, CTRL_BROKER_WRITE_S);
	conn_deadline_arm(c);
}

static SSL_CTX *
tls_ctx(const struct ctrl_conf *conf)
{
	SSL_CTX	*ctx;
	char	 buf[256];

	ERR_clear_error();
	if ((ctx = SSL_CTX_new(TLS_server_method())) == NULL ||
	    SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION) != 1 ||
	    SSL_CTX_set_cipher_list(ctx, "ECDHE+AESGCM:ECDHE+CHACHA20") != 1 ||
	    SSL_CTX_use_certificate_chain_file(ctx, conf->cert_file) != 1 ||
	    SSL_CTX_use_PrivateKey_file(ctx, conf->key_file,
	    SSL_FILETYPE_PEM) != 1 || SSL_CTX_check_private_key(ctx) != 1) {
		ERR_error_string_n(ERR_get_error(), buf, sizeof(buf));
		log_warnx("broker: TLS %s: %s", conf->cert_file, buf);
		SSL_CTX_free(ctx);
		return NULL;
	}
	/* Thin clients have no certificates: the password is the proof. */
	SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL);
	/* Passwords and tokens wiped from the record buffer once read. */
	SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION |
	    SSL_OP_NO_COMPRESSION | SSL_OP_IGNORE_UNEXPECTED_EOF |
	    SSL_OP_CLEANSE_PLAINTEXT);
	/* An idle connection holds no TLS record buffers: 4,096 of them
	 * take 64 MB rather than 103. */
	SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS);
	return ctx;
}

int
ctrl_broker_start(struct event_base *base, struct db *db,
    const struct ctrl_conf *conf)
{
	struct addrinfo hints, *ai = NULL;
	struct sockaddr_storage ss;
	socklen_t sslen = sizeof(ss);
	char	 portstr[8];
	int	 rc;

	if (broker.listener != NULL)
		return 0;
	memset(&broker, 0, sizeof(broker));
	TAILQ_INIT(&broker.conns);
	broker.env.base = base;
	broker.env.db = db;
	broker.env.lease_s = conf->session_lease;
	broker.env.rdp_port = conf->rdp_port;
	broker.request_s = conf->broker_request_timeout;
	memset(&hints, 0, sizeof(hints));
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_PASSIVE | AI_NUMERICHOST | AI_NUMERICSERV;
	snprintf(portstr, sizeof(portstr), "%u", (unsigned)conf->broker_port);
	if ((rc = getaddrinfo(conf->broker_addr, portstr, &hints, &ai)) != 0) {
		log_warnx("broker: listen address %s: %s", conf->broker_addr,
		    gai_strerror(rc));
		goto fail;
	}
	if ((broker.rl = ratelimit_new(&ratelimit_pair_defaults,
	    &ratelimit_addr_defaults, &ratelimit_user_defaults)) == NULL ||
	    (broker.limit = conn_limit_new(conf->broker_conns_max,
	    conf->broker_conns_per_addr)) == NULL ||
	    (broker.ctx = tls_ctx(conf)) == NULL)
		goto fail;
	broker.rl_gen = ++rl_starts;
	if ((broker.env.pwpool = passwd_pool_new(base, 0)) == NULL) {
		log_warnx("broker: cannot start the password checks' threads");
		goto fail;
	}
	/* Out of descriptors, mostly: pause rather than spin. */
	if ((broker.listener = linesrv_listen_tcp(base, ai->ai_addr,
	    (int)ai->ai_addrlen, 128, "broker", CTRL_BROKER_PAUSE_MS, accept_cb,
	    NULL)) == NULL) {
		log_warn("broker: listen on %s port %u", conf->broker_addr,
		    (unsigned)conf->broker_port);
		goto fail;
	}
	if (getsockname(linesrv_listener_fd(broker.listener),
	    (struct sockaddr *)&ss, &sslen) == 0)
		broker.port = ntohs(ss.ss_family == AF_INET6 ?
		    ((struct sockaddr_in6 *)&ss)->sin6_port :
		    ((struct sockaddr_in *)&ss)->sin_port);
	freeaddrinfo(ai);
	/* Hosts' reports wake the logins waiting for an address. */
	ctrl_agent_on_vm_reported(login_vm_reported);
	log_info("broker: serving logins on %s port %u", conf->broker_addr,
	    (unsigned)broker.port);
	return 0;
fail:
	if (ai != NULL)
		freeaddrinfo(ai);
	ctrl_broker_stop("start failed");
	return -1;
}

void
ctrl_broker_stop(const char *why)
{
	int	 was = broker.listener != NULL;

	while (!TAILQ_EMPTY(&broker.conns))
		conn_free(TAILQ_FIRST(&broker.conns));
	/* After the connections: the checks it cancels find their clients
	 * gone and free their requests. */
	passwd_pool_free(broker.env.pwpool);
	broker.env.pwpool = NULL;
	linesrv_listener_free(broker.listener);
	SSL_CTX_free(broker.ctx);
	ratelimit_free(broker.rl);
	conn_limit_free(broker.limit);
	memset(&broker, 0, sizeof(broker));
	if (was)
		log_info("broker: stopped: %s", why);
}

void
ctrl_broker_reconf(const struct ctrl_conf *conf)
{
	if (broker.listener == NULL)
		return;
	broker.env.lease_s = conf->session_lease;
	broker.env.rdp_port = conf->rdp_port;
	broker.request_s = conf->broker_request_timeout;
	conn_limit_set(broker.limit, conf->broker_conns_max,
	    conf->broker_conns_per_addr);
}

int
ctrl_broker_running(void)
{
	return broker.listener != NULL;
}

uint16_t
ctrl_broker_port(void)
{
	return broker.port;
}

/* The rate limits of this start (common/ratelimit.h), for the logins. */

static unsigned
broker_ratelimit_admit(struct broker_req *q)
{
	unsigned wait;

	if (broker.rl == NULL)
		return 1;
	wait = ratelimit_admit(broker.rl, q->r.user, q->addr, now_s(false),
	    &q->rl_ticket);
	if (wait == 0) {
		q->rl_held = true;
		q->rl_gen = broker.rl_gen;
	}
	return wait;
}

static void
broker_ratelimit_settle(struct broker_req *q, enum ratelimit_verdict v)
{
	if (!q->rl_held)
		return;
	q->rl_held = false;
	if (broker.rl != NULL && q->rl_gen == broker.rl_gen)
		ratelimit_settle(broker.rl, q->r.user, q->addr, &q->rl_ticket,
		    v, now_s(true));
}

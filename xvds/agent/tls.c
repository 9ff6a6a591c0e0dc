/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * agent/tls.c — the agent channel's transport: mutual TLS over libevent's
 * OpenSSL bufferevents, lines of agent/msg.c's messages, the server's
 * listener and the client's reconnection with back-off (agent/tls.h).
 * Nothing here knows what a message means.
 */
#include <config.h>

#include <sys/queue.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>

#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <syslog.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/event.h>
#include <event2/listener.h>
#include <event2/util.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <sodium.h>

#include "agent/tls.h"
#include "linesrv/conn_limit.h"
#include "common/log.h"
#include "common/ratelimit.h"

/* Seconds a closing connection has to write what was queued. */
#define AGENT_LINGER_S		3
/* Seconds a peer may leave our writes unread before it is dropped. */
#define AGENT_WRITE_S		60
/* Milliseconds accept pauses after an error, mostly out of descriptors. */
#define AGENT_ACCEPT_PAUSE_MS	250

struct agent_conn {
	TAILQ_ENTRY(agent_conn) entry;
	struct agent_server *srv;	/* one of the two */
	struct agent_client *cli;
	struct bufferevent *bev;
	struct event	*linger;
	struct event	*deadline;	/* server: for the handshake */
	struct conn_slot *slot;		/* server: in srv->limit */
	char		 identity[AGENT_HOST_MAX + 1];
	char		 addr[INET6_ADDRSTRLEN + 8];
	int		 up;		/* on_connected was called */
	int		 closing;	/* on_closed was called: no more I/O */
	int		 busy;		/* inside a callback: free later */
	int		 heard;		/* a message came */
};

struct agent_server {
	struct event_base *base;
	SSL_CTX		*ctx;
	struct evconnlistener *listener;
	struct listen_pause *pause;
	struct conn_limit *limit;
	struct agent_tls_cbs cbs;
	void		*arg;
	unsigned	 nconns;
	TAILQ_HEAD(, agent_conn) conns;
};

struct agent_client {
	struct event_base *base;
	SSL_CTX		*ctx;
	struct event	*retry;
	struct agent_tls_cbs cbs;
	void		*arg;
	struct agent_conn *conn;	/* the attempt or connection, if any */
	char		*host;
	char		*server_name;
	uint16_t	 port;
	unsigned	 min_ms, max_ms, backoff_ms;
};

static void	 conn_read(struct bufferevent *, void *);
static void	 conn_write(struct bufferevent *, void *);
static void	 conn_event(struct bufferevent *, short, void *);
static void	 conn_drop(struct agent_conn *, const char *);
static void	 client_connect(evutil_socket_t, short, void *);

/* The first queued OpenSSL error, or fallback. */
static const char *
tls_error(char *buf, size_t len, const char *fallback)
{
	unsigned long e;

	if ((e = ERR_get_error()) == 0)
		return fallback;
	ERR_error_string_n(e, buf, len);
	ERR_clear_error();
	return buf;
}

static SSL_CTX *
tls_ctx(const struct agent_tls_conf *conf, int server)
{
	STACK_OF(X509_NAME) *cas;
	SSL_CTX	*ctx;
	char	 buf[256];
	const char *what = "context";

	ERR_clear_error();
	if ((ctx = SSL_CTX_new(server ? TLS_server_method() :
	    TLS_client_method())) == NULL)
		goto fail;
	what = "protocol";
	if (SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION) != 1 ||
	    SSL_CTX_set_cipher_list(ctx, "ECDHE+AESGCM:ECDHE+CHACHA20") != 1)
		goto fail;
	/*
	 * No resumption: every connection shows its certificate again.  A
	 * peer that dies without close_notify is an EOF, not an error: a
	 * truncation can only cut a line short, and half a line is never
	 * taken.  An op's password is wiped from the record buffer once read
	 * (common/wipe.h).
	 */
	SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION | SSL_OP_NO_TICKET |
	    SSL_OP_NO_COMPRESSION | SSL_OP_IGNORE_UNEXPECTED_EOF |
	    SSL_OP_CLEANSE_PLAINTEXT);
	SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
	what = conf->cert_file;
	if (conf->cert_file != NULL && (SSL_CTX_use_certificate_chain_file(ctx,
	    conf->cert_file) != 1 || SSL_CTX_use_PrivateKey_file(ctx,
	    conf->key_file, SSL_FILETYPE_PEM) != 1 ||
	    SSL_CTX_check_private_key(ctx) != 1))
		goto fail;
	what = conf->ca_file;
	if (SSL_CTX_load_verify_locations(ctx, conf->ca_file, NULL) != 1)
		goto fail;
	if (server) {
		if ((cas = SSL_load_client_CA_file(conf->ca_file)) == NULL)
			goto fail;
		SSL_CTX_set_client_CA_list(ctx, cas);
		SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER |
		    SSL_VERIFY_FAIL_IF_NO_PEER_CERT, NULL);
		/* Thousands of mostly quiet connections: no TLS record
		 * buffers held between messages (some 10 KB each). */
		SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS);
	} else
		SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
	return ctx;
fail:
	log_warnx("agent: TLS %s: %s", what != NULL ? what : "certificate",
	    tls_error(buf, sizeof(buf), "failed"));
	SSL_CTX_free(ctx);
	return NULL;
}

/* The peer certificate's one subject CN, if it is a usable host name. */
static int
peer_identity(SSL *ssl, char *out, size_t outlen, char *why, size_t whylen)
{
	X509	*cert;
	X509_NAME *name;
	ASN1_STRING *data;
	unsigned char *utf8 = NULL;
	long	 vr;
	int	 i, n;

	if ((cert = SSL_get0_peer_certificate(ssl)) == NULL) {
		snprintf(why, whylen, "no peer certificate");
		return -1;
	}
	if ((vr = SSL_get_verify_result(ssl)) != X509_V_OK) {
		snprintf(why, whylen, "certificate: %s",
		    X509_verify_cert_error_string(vr));
		return -1;
	}
	name = X509_get_subject_name(cert);
	if ((i = X509_NAME_get_index_by_NID(name, NID_commonName, -1)) < 0 ||
	    X509_NAME_get_index_by_NID(name, NID_commonName, i) >= 0) {
		snprintf(why, whylen, "certificate: not exactly one CN");
		return -1;
	}
	data = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(name, i));
	if ((n = ASN1_STRING_to_UTF8(&utf8, data)) < 0 || (size_t)n >= outlen ||
	    memchr(utf8, '\0', (size_t)n) != NULL) {
		OPENSSL_free(utf8);
		snprintf(why, whylen, "certificate: unusable CN");
		return -1;
	}
	memcpy(out, utf8, (size_t)n);
	out[n] = '\0';
	OPENSSL_free(utf8);
	if (!agent_host_name_ok(out)) {
		snprintf(why, whylen, "certificate: CN is not a host name");
		out[0] = '\0';
		return -1;
	}
	return 0;
}

static const char *
conn_name(const struct agent_conn *c)
{
	return c->identity[0] != '\0' ? c->identity : c->addr;
}

static struct agent_tls_cbs *
conn_cbs(struct agent_conn *c, void **arg)
{
	if (c->srv != NULL) {
		*arg = c->srv->arg;
		return &c->srv->cbs;
	}
	*arg = c->cli->arg;
	return &c->cli->cbs;
}

static unsigned
backoff_next(struct agent_client *cli)
{
	unsigned d = cli->backoff_ms, r;

	if (cli->backoff_ms < cli->max_ms / 2)
		cli->backoff_ms *= 2;
	else
		cli->backoff_ms = cli->max_ms;
	/* Between half and all of it: hosts that lost the controller together
	 * do not all come back at once. */
	evutil_secure_rng_get_bytes(&r, sizeof(r));
	return d / 2 + r % (d - d / 2 + 1);
}

static void
client_schedule(struct agent_client *cli)
{
	struct timeval tv;
	unsigned ms = backoff_next(cli);

	tv.tv_sec = ms / 1000;
	tv.tv_usec = (ms % 1000) * 1000;
	log_debug("agent: reconnecting to %s in %u ms", cli->host, ms);
	evtimer_add(cli->retry, &tv);
}

/* Frees a connection nobody refers to any more. */
static void
conn_free(struct agent_conn *c)
{
	if (c->srv != NULL) {
		TAILQ_REMOVE(&c->srv->conns, c, entry);
		c->srv->nconns--;
		conn_limit_remove(c->slot);
	} else if (c->cli != NULL && c->cli->conn == c) {
		c->cli->conn = NULL;
		if (c->cli->retry != NULL)
			client_schedule(c->cli);
	}
	if (c->linger != NULL)
		event_free(c->linger);
	if (c->deadline != NULL)
		event_free(c->deadline);
	if (c->bev != NULL) {
		/* close_notify, if the socket takes it now; the bufferevent
		 * would not send one. */
		if (c->up)
			(void)SSL_shutdown(bufferevent_openssl_get_ssl(c->bev));
		ERR_clear_error();
		bufferevent_free(c->bev);
	}
	free(c);
}

static void
conn_linger_done(evutil_socket_t fd, short what, void *arg)
{
	struct agent_conn *c = arg;

	(void)fd;
	(void)what;
	if (c->busy == 0)
		conn_free(c);
}

/*
 * Ends a connection: logs why at level, tells the caller if it knew of
 * it, and frees it now, or once what was queued is written (flush), or
 * once the callback we are in returns.
 */
static void
conn_end(struct agent_conn *c, int level, const char *why, int flush)
{
	struct agent_tls_cbs *cbs;
	struct timeval tv = { AGENT_LINGER_S, 0 };
	void	*arg;

	if (c->closing)
		return;
	c->closing = 1;
	cbs = conn_cbs(c, &arg);
	if (c->up) {
		log_at(level, "agent: %s (%s): closed: %s", conn_name(c), c->addr,
		    why);
		c->busy++;
		cbs->on_closed(c, why, arg);
		c->busy--;
	} else {
		log_at(level, "agent: %s: refused: %s", c->addr, why);
		if (cbs->on_refused != NULL) {
			c->busy++;
			cbs->on_refused(c->addr, why, arg);
			c->busy--;
		}
	}
	bufferevent_disable(c->bev, EV_READ);
	if (flush && evbuffer_get_length(bufferevent_get_output(c->bev)) > 0 &&
	    (c->linger = evtimer_new(bufferevent_get_base(c->bev),
	    conn_linger_done, c)) != NULL) {
		bufferevent_setcb(c->bev, NULL, conn_write, conn_event, c);
		evtimer_add(c->linger, &tv);
		return;
	}
	if (c->busy == 0)
		conn_free(c);
}

/* Something went wrong: a warning, and nothing more is sent. */
static void
conn_drop(struct agent_conn *c, const char *why)
{
	conn_end(c, LOG_WARNING, why, 0);
}

/*
 * An agent of another protocol version: told so (xvds-agent(7): a result
 * of id 0, "version"), then the connection closes once that is sent.
 */
static void
refuse_version(struct agent_conn *c, unsigned version)
{
	struct agent_msg m;
	char	 why[96];

	memset(&m, 0, sizeof(m));
	m.type = AGENT_M_RESULT;
	m.u.result.id = 0;
	m.u.result.ok = false;
	snprintf(m.u.result.code, sizeof(m.u.result.code), "version");
	snprintf(m.u.result.message, sizeof(m.u.result.message),
	    "this controller speaks version %d, the agent %u",
	    AGENT_PROTO_VERSION, version);
	(void)agent_conn_send(c, &m);
	snprintf(why, sizeof(why), "refused: the agent speaks version %u, not %d",
	    version, AGENT_PROTO_VERSION);
	agent_conn_close(c, why);
}

/* A line at a time; anything wrong ends the connection. */
static void
conn_read(struct bufferevent *bev, void *arg)
{
	struct agent_conn *c = arg;
	struct evbuffer *in = bufferevent_get_input(bev);
	struct evbuffer_ptr eol;
	struct agent_msg m;
	struct agent_tls_cbs *cbs;
	void	*cbarg;
	char	 err[256], why[300];
	unsigned char *line;
	unsigned version;
	size_t	 len, n;
	int	 rc;

	if (c->closing)
		return;		/* queued before it closed */
	cbs = conn_cbs(c, &cbarg);
	c->busy++;
	while (!c->closing) {
		len = evbuffer_get_length(in);
		eol = evbuffer_search_eol(in, NULL, &n, EVBUFFER_EOL_LF);
		if (eol.pos < 0) {
			if (len >= AGENT_MSG_MAX)
				conn_drop(c, "message longer than 65536 bytes");
			break;
		}
		if ((size_t)eol.pos + 1 > AGENT_MSG_MAX) {
			conn_drop(c, "message longer than 65536 bytes");
			break;
		}
		if ((line = evbuffer_pullup(in, eol.pos + 1)) == NULL) {
			conn_drop(c, "out of memory");
			break;
		}
		version = AGENT_PROTO_VERSION;
		rc = agent_msg_decode((const char *)line, (size_t)eol.pos, &m,
		    &version, err, sizeof(err));
		/* An op may carry a password: not left in freed memory. */
		sodium_memzero(line, (size_t)eol.pos);
		if (rc == -1) {
			/* A server says why it refuses another version's hello. */
			if (version != AGENT_PROTO_VERSION && c->cli == NULL) {
				refuse_version(c, version);
				break;
			}
			snprintf(why, sizeof(why), "malformed message: %s", err);
			conn_drop(c, why);
			break;
		}
		evbuffer_drain(in, (size_t)eol.pos + 1);
		/* A peer that answers resets the back-off; one that answers
		 * only to refuse us (xvds-agent(7)) does not, or a refused
		 * host would knock twenty times a second. */
		if (!c->heard && c->cli != NULL && !(m.type == AGENT_M_RESULT &&
		    m.u.result.id == 0 && !m.u.result.ok))
			c->cli->backoff_ms = c->cli->min_ms;
		c->heard = 1;
		cbs->on_message(c, &m, cbarg);
		agent_msg_clear(&m);
	}
	if (--c->busy == 0 && c->closing && c->linger == NULL)
		conn_free(c);
}

static void
conn_write(struct bufferevent *bev, void *arg)
{
	struct agent_conn *c = arg;

	(void)bev;
	if (c->closing && c->busy == 0)
		conn_free(c);
}

static void
conn_event(struct bufferevent *bev, short what, void *arg)
{
	struct agent_conn *c = arg;
	struct agent_tls_cbs *cbs;
	struct timeval wtv = { AGENT_WRITE_S, 0 };
	SSL	*ssl = bufferevent_openssl_get_ssl(bev);
	void	*cbarg;
	char	 why[256], buf[200];
	unsigned long e;
	int	 serr;

	if (c->closing) {
		/* The peer went while we lingered. */
		if (c->busy == 0)
			conn_free(c);
		return;
	}
	if (what & BEV_EVENT_CONNECTED) {
		if (peer_identity(ssl, c->identity, sizeof(c->identity), why,
		    sizeof(why)) == -1) {
			conn_drop(c, why);
			return;
		}
		c->up = 1;
		bufferevent_set_timeouts(bev, NULL, &wtv);
		if (c->deadline != NULL)
			evtimer_del(c->deadline);
		/* A host of the CA's: no longer a stranger its address
		 * answers for, and never evicted. */
		if (c->slot != NULL)
			conn_limit_unkey(c->slot);
		log_info("agent: %s (%s): connected, %s", c->identity, c->addr,
		    SSL_get_version(ssl));
		cbs = conn_cbs(c, &cbarg);
		c->busy++;
		cbs->on_connected(c, c->identity, cbarg);
		if (--c->busy == 0 && c->closing && c->linger == NULL)
			conn_free(c);
		return;
	}
	serr = EVUTIL_SOCKET_ERROR();
	if (what & BEV_EVENT_TIMEOUT)
		snprintf(why, sizeof(why), "%s", c->up ? "peer does not read" :
		    "handshake timed out");
	else if ((e = bufferevent_get_openssl_error(bev)) != 0) {
		ERR_error_string_n(e, buf, sizeof(buf));
		if (ERR_GET_REASON(e) == SSL_R_CERTIFICATE_VERIFY_FAILED)
			snprintf(why, sizeof(why), "%s (%s)", buf,
			    X509_verify_cert_error_string(SSL_get_verify_result(ssl)));
		else
			snprintf(why, sizeof(why), "%s", buf);
		while (bufferevent_get_openssl_error(bev) != 0)
			continue;
	} else if ((what & BEV_EVENT_ERROR) && serr != 0)
		snprintf(why, sizeof(why), "%s", evutil_socket_error_to_string(serr));
	else if (what & BEV_EVENT_EOF) {
		/* The peer's to explain; a refusal is ours to log. */
		conn_end(c, c->up ? LOG_INFO : LOG_WARNING, "closed by the peer", 0);
		return;
	} else
		snprintf(why, sizeof(why), "connection lost");
	conn_drop(c, why);
}

static struct agent_conn *
conn_new(struct event_base *base, SSL_CTX *ctx, evutil_socket_t fd,
    enum bufferevent_ssl_state st)
{
	struct timeval htv = { AGENT_HANDSHAKE_S, 0 };
	struct agent_conn *c;
	SSL	*ssl;

	if ((c = calloc(1, sizeof(*c))) == NULL) {
		log_warn("%s", __func__);
		return NULL;
	}
	if ((ssl = SSL_new(ctx)) == NULL) {
		log_warnx("agent: SSL_new failed");
		free(c);
		return NULL;
	}
	/* With BEV_OPT_CLOSE_ON_FREE the bufferevent frees ssl and fd. */
	if ((c->bev = bufferevent_openssl_socket_new(base, fd, ssl, st,
	    BEV_OPT_CLOSE_ON_FREE | BEV_OPT_DEFER_CALLBACKS)) == NULL) {
		log_warnx("agent: cannot make a TLS bufferevent");
		SSL_free(ssl);
		free(c);
		return NULL;
	}
	bufferevent_openssl_set_allow_dirty_shutdown(c->bev, 1);
	bufferevent_setcb(c->bev, conn_read, NULL, conn_event, c);
	bufferevent_set_timeouts(c->bev, &htv, &htv);
	return c;
}

static void
sockaddr_name(const struct sockaddr *sa, char *buf, size_t len)
{
	char	 host[INET6_ADDRSTRLEN];

	if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)sa;

		inet_ntop(AF_INET6, &s6->sin6_addr, host, sizeof(host));
		snprintf(buf, len, "[%s]:%u", host, ntohs(s6->sin6_port));
	} else if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *s4 = (const struct sockaddr_in *)sa;

		inet_ntop(AF_INET, &s4->sin_addr, host, sizeof(host));
		snprintf(buf, len, "%s:%u", host, ntohs(s4->sin_port));
	} else
		snprintf(buf, len, "?");
}

int
agent_conn_send(struct agent_conn *c, const struct agent_msg *m)
{
	struct evbuffer *out;
	char	 err[256], *s;
	int	 rc;

	if (c->closing)
		return -1;
	out = bufferevent_get_output(c->bev);
	if (evbuffer_get_length(out) > AGENT_OUTBUF_MAX) {
		conn_drop(c, "peer does not read");
		return -1;
	}
	if ((s = agent_msg_encode(m, err, sizeof(err))) == NULL) {
		log_warnx("agent: %s: not sent: %s", conn_name(c), err);
		return -1;
	}
	rc = evbuffer_add_printf(out, "%s\n", s) < 0 ? -1 : 0;
	sodium_memzero(s, strlen(s));
	free(s);
	return rc;
}

void
agent_conn_close(struct agent_conn *c, const char *why)
{
	conn_end(c, LOG_INFO, why, 1);
}

const char *
agent_conn_identity(const struct agent_conn *c)
{
	return c->identity;
}

const char *
agent_conn_addr(const struct agent_conn *c)
{
	return c->addr;
}

/* Server. */

/*
 * Messages are small and mostly answered: without this, Nagle's algorithm
 * holds a message behind the peer's delayed ACK of the one before (the
 * hello behind the handshake's last flight: 40 ms on Linux).
 */
static void
nodelay(evutil_socket_t fd)
{
	int	 one = 1;

	if (fd != -1 && setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one,
	    sizeof(one)) == -1)
		log_debug("agent: TCP_NODELAY: %s", strerror(errno));
}

/*
 * The handshake's whole time, however the peer trickles its bytes (the
 * bufferevent's timeouts start again with each).
 */
static void
server_deadline(evutil_socket_t fd, short what, void *arg)
{
	struct agent_conn *c = arg;

	(void)fd;
	(void)what;
	if (!c->up)
		conn_drop(c, "handshake not done in time");
}

/*
 * Strangers (connections before their certificate is checked) are capped
 * per address, and a newcomer takes the place of the oldest stranger when
 * that address or the server is full (linesrv/conn_limit.h, xvds-agent(7)).
 */
static void
server_accept(struct evconnlistener *l, evutil_socket_t fd,
    struct sockaddr *sa, int salen, void *arg)
{
	struct agent_server *srv = arg;
	struct agent_conn *c;
	struct timeval htv = { AGENT_HANDSHAKE_S, 0 };
	char	 addr[sizeof(c->addr)], key[RATELIMIT_KEY_MAX + 1];
	void	*victim;

	(void)l;
	(void)salen;
	listen_pause_ok(srv->pause);
	sockaddr_name(sa, addr, sizeof(addr));
	if (ratelimit_addr_key(sa, key) == -1) {
		evutil_closesocket(fd);
		return;
	}
	switch (conn_limit_admit(srv->limit, key, &victim)) {
	case CONN_REFUSE:
		conn_limit_note(srv->limit, "agent", key, CONN_REFUSE);
		evutil_closesocket(fd);
		return;
	case CONN_EVICT:
		conn_limit_note(srv->limit, "agent", key, CONN_EVICT);
		conn_end(victim, LOG_DEBUG, "closed for a newcomer", 0);
		break;
	case CONN_ADMIT:
		break;
	}
	if ((c = conn_new(srv->base, srv->ctx, fd,
	    BUFFEREVENT_SSL_ACCEPTING)) == NULL) {
		evutil_closesocket(fd);
		return;
	}
	c->srv = srv;
	nodelay(fd);
	snprintf(c->addr, sizeof(c->addr), "%s", addr);
	TAILQ_INSERT_TAIL(&srv->conns, c, entry);
	srv->nconns++;
	if ((c->slot = conn_limit_add(srv->limit, key, c)) == NULL ||
	    (c->deadline = evtimer_new(srv->base, server_deadline, c)) == NULL) {
		conn_drop(c, "out of memory");
		return;
	}
	evtimer_add(c->deadline, &htv);
	bufferevent_enable(c->bev, EV_READ | EV_WRITE);
}

/* Out of descriptors, mostly: pause accept, or libevent spins. */
static void
server_accept_error(struct evconnlistener *l, void *arg)
{
	struct agent_server *srv = arg;

	(void)l;
	listen_pause_hit(srv->pause, EVUTIL_SOCKET_ERROR());
}

struct agent_server *
agent_server_new(struct event_base *base, const struct agent_tls_conf *conf,
    const char *addr, uint16_t port, const struct agent_tls_cbs *cbs, void *arg)
{
	struct agent_server *srv;
	struct addrinfo hints, *ai = NULL;
	char	 portstr[8];
	int	 rc;

	if ((srv = calloc(1, sizeof(*srv))) == NULL) {
		log_warn("%s", __func__);
		return NULL;
	}
	srv->base = base;
	srv->cbs = *cbs;
	srv->arg = arg;
	TAILQ_INIT(&srv->conns);
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_PASSIVE | AI_NUMERICHOST | AI_NUMERICSERV;
	snprintf(portstr, sizeof(portstr), "%u", port);
	if ((rc = getaddrinfo(addr, portstr, &hints, &ai)) != 0) {
		log_warnx("agent: listen address %s: %s", addr, gai_strerror(rc));
		goto fail;
	}
	if ((srv->ctx = tls_ctx(conf, 1)) == NULL || (srv->limit =
	    conn_limit_new(AGENT_CONNS_MAX, AGENT_STRANGERS_PER_ADDR)) == NULL)
		goto fail;
	if ((srv->listener = evconnlistener_new_bind(base, server_accept, srv,
	    LEV_OPT_CLOSE_ON_FREE | LEV_OPT_CLOSE_ON_EXEC | LEV_OPT_REUSEABLE,
	    128, ai->ai_addr, (int)ai->ai_addrlen)) == NULL) {
		log_warn("agent: listen on %s port %u", addr, port);
		goto fail;
	}
	if ((srv->pause = listen_pause_new(base, srv->listener, "agent",
	    AGENT_ACCEPT_PAUSE_MS)) == NULL)
		goto fail;
	evconnlistener_set_error_cb(srv->listener, server_accept_error);
	freeaddrinfo(ai);
	return srv;
fail:
	if (ai != NULL)
		freeaddrinfo(ai);
	agent_server_free(srv);
	return NULL;
}

uint16_t
agent_server_port(const struct agent_server *srv)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);

	if (getsockname(evconnlistener_get_fd(srv->listener),
	    (struct sockaddr *)&ss, &len) == -1)
		return 0;
	if (ss.ss_family == AF_INET6)
		return ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
	return ntohs(((struct sockaddr_in *)&ss)->sin_port);
}

void
agent_server_free(struct agent_server *srv)
{
	struct agent_conn *c;

	if (srv == NULL)
		return;
	if (srv->listener != NULL)
		evconnlistener_free(srv->listener);
	listen_pause_free(srv->pause);
	/*
	 * Lingering ones too; one whose callback we are in (busy) is cut
	 * loose and frees itself when the callback returns.
	 */
	while ((c = TAILQ_FIRST(&srv->conns)) != NULL) {
		conn_end(c, LOG_INFO, "server stopping", 0);
		if (TAILQ_FIRST(&srv->conns) != c)
			continue;
		TAILQ_REMOVE(&srv->conns, c, entry);
		srv->nconns--;
		conn_limit_remove(c->slot);
		c->slot = NULL;
		c->srv = NULL;
		if (c->busy == 0)
			conn_free(c);
	}
	conn_limit_free(srv->limit);
	SSL_CTX_free(srv->ctx);
	free(srv);
}

/* Client. */

static void
client_connect(evutil_socket_t fd, short what, void *arg)
{
	struct agent_client *cli = arg;
	struct addrinfo hints, *ai = NULL;
	struct agent_conn *c;
	SSL	*ssl;
	X509_VERIFY_PARAM *vp;
	unsigned char ip[16];
	char	 portstr[8];
	int	 rc;

	(void)fd;
	(void)what;
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_NUMERICSERV;
	snprintf(portstr, sizeof(portstr), "%u", cli->port);
	if ((rc = getaddrinfo(cli->host, portstr, &hints, &ai)) != 0) {
		log_warnx("agent: %s: %s", cli->host, gai_strerror(rc));
		client_schedule(cli);
		return;
	}
	if ((c = conn_new(cli->base, cli->ctx, -1,
	    BUFFEREVENT_SSL_CONNECTING)) == NULL) {
		freeaddrinfo(ai);
		client_schedule(cli);
		return;
	}
	c->cli = cli;
	sockaddr_name(ai->ai_addr, c->addr, sizeof(c->addr));
	ssl = bufferevent_openssl_get_ssl(c->bev);
	if (cli->server_name != NULL) {
		vp = SSL_get0_param(ssl);
		if (inet_pton(AF_INET, cli->server_name, ip) == 1 ||
		    inet_pton(AF_INET6, cli->server_name, ip) == 1)
			rc = X509_VERIFY_PARAM_set1_ip_asc(vp, cli->server_name);
		else
			rc = SSL_set1_host(ssl, cli->server_name) &&
			    SSL_set_tlsext_host_name(ssl, cli->server_name);
	}
	cli->conn = c;
	if (cli->server_name != NULL && rc != 1) {
		freeaddrinfo(ai);
		conn_drop(c, "cannot check the server's name");
		return;
	}
	if (bufferevent_socket_connect(c->bev, ai->ai_addr,
	    (int)ai->ai_addrlen) == -1) {
		freeaddrinfo(ai);
		conn_drop(c, "cannot connect");
		return;
	}
	nodelay(bufferevent_getfd(c->bev));
	freeaddrinfo(ai);
	bufferevent_enable(c->bev, EV_READ | EV_WRITE);
}

struct agent_client *
agent_client_new(struct event_base *base, const struct agent_tls_conf *conf,
    const char *host, uint16_t port, const struct agent_tls_cbs *cbs, void *arg)
{
	struct agent_client *cli;

	if ((cli = calloc(1, sizeof(*cli))) == NULL) {
		log_warn("%s", __func__);
		return NULL;
	}
	cli->base = base;
	cli->cbs = *cbs;
	cli->arg = arg;
	cli->port = port;
	cli->min_ms = conf->backoff_min_ms != 0 ? conf->backoff_min_ms :
	    AGENT_BACKOFF_MIN_MS;
	cli->max_ms = conf->backoff_max_ms != 0 ? conf->backoff_max_ms :
	    AGENT_BACKOFF_MAX_MS;
	if (cli->max_ms < cli->min_ms)
		cli->max_ms = cli->min_ms;
	cli->backoff_ms = cli->min_ms;
	if ((cli->host = strdup(host)) == NULL || (conf->server_name != NULL &&
	    (cli->server_name = strdup(conf->server_name)) == NULL)) {
		log_warn("%s", __func__);
		goto fail;
	}
	if ((cli->ctx = tls_ctx(conf, 0)) == NULL ||
	    (cli->retry = evtimer_new(base, client_connect, cli)) == NULL)
		goto fail;
	event_active(cli->retry, EV_TIMEOUT, 1);
	return cli;
fail:
	agent_client_free(cli);
	return NULL;
}

struct agent_conn *
agent_client_conn(const struct agent_client *cli)
{
	struct agent_conn *c = cli->conn;

	return c != NULL && c->up && !c->closing ? c : NULL;
}

unsigned
agent_client_backoff_ms(const struct agent_client *cli)
{
	return cli->backoff_ms;
}

void
agent_client_free(struct agent_client *cli)
{
	struct agent_conn *c;

	if (cli == NULL)
		return;
	/* No reconnection from here on. */
	if (cli->retry != NULL) {
		event_free(cli->retry);
		cli->retry = NULL;
	}
	if ((c = cli->conn) != NULL) {
		conn_end(c, LOG_INFO, "client stopping", 0);
		if (cli->conn == c) {
			/* Busy or lingering: let it go on its own. */
			c->cli = NULL;
			c->srv = NULL;
			cli->conn = NULL;
			if (c->busy == 0)
				conn_free(c);
		}
	}
	SSL_CTX_free(cli->ctx);
	free(cli->host);
	free(cli->server_name);
	free(cli);
}

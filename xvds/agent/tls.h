/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * agent/tls.h — the agent channel's transport (xvds-agent(7)): mutual TLS
 * (1.2 or later) on libevent between each host's xvdsd, the client, and
 * the controller, the server.  Both sides check the other's certificate
 * against one CA; a host's identity is its certificate's subject CN.
 *
 * It carries agent/msg.h's messages, one per line: a line that does not
 * decode, or is longer than AGENT_MSG_MAX, closes that connection and is
 * logged.  What the messages mean is the caller's business: it is told
 * through the callbacks below, always from the loop.  The client
 * reconnects by itself, with exponential back-off, a cap and jitter.
 *
 * Callers ignore SIGPIPE (TLS writes go straight to the socket).
 */
#ifndef XVDS_AGENT_TLS_H
#define XVDS_AGENT_TLS_H

#include <stddef.h>
#include <stdint.h>

#include "agent/msg.h"

struct event_base;
struct agent_conn;
struct agent_server;
struct agent_client;

#define AGENT_PORT		8004
#define AGENT_BACKOFF_MIN_MS	500
#define AGENT_BACKOFF_MAX_MS	60000
#define AGENT_HANDSHAKE_S	10	/* a peer that takes longer is dropped */
#define AGENT_CONNS_MAX		4096	/* the server's connections */
/*
 * The server's connections from one address (IPv6: its /64) whose
 * certificate is not yet checked; a host once checked is not counted.  A
 * rack behind one NAT address handshakes a few at a time (the clients'
 * back-off spreads them); a stranger gets no more.
 */
#define AGENT_STRANGERS_PER_ADDR	16
#define AGENT_OUTBUF_MAX	(4 * 1024 * 1024)	/* unread by the peer */

struct agent_tls_conf {
	const char	*ca_file;	/* PEM: the one CA of the channel */
	const char	*cert_file;	/* PEM chain: ours (client: NULL for
					   none, which servers refuse) */
	const char	*key_file;
	/*
	 * Client: the name (DNS or IP address) the server's certificate must
	 * carry; NULL trusts any certificate of the CA.
	 */
	const char	*server_name;
	unsigned	 backoff_min_ms;	/* client; 0: the default */
	unsigned	 backoff_max_ms;
};

struct agent_tls_cbs {
	/*
	 * TLS is up and the peer's certificate checked; identity is its CN
	 * (on the server: the host).  With TLS 1.3 the server may still
	 * refuse the client's certificate after the client heard this.
	 */
	void	(*on_connected)(struct agent_conn *, const char *identity, void *);
	/* One decoded message; it is cleared when the callback returns. */
	void	(*on_message)(struct agent_conn *, const struct agent_msg *, void *);
	/* A connected one ended (after on_connected only); then it is freed. */
	void	(*on_closed)(struct agent_conn *, const char *why, void *);
	/* Optional: a connection failed before on_connected (also logged). */
	void	(*on_refused)(const char *peer, const char *why, void *);
};

/*
 * Server: listens on addr ("127.0.0.1", "::", ...) and port (0: any; see
 * agent_server_port).  NULL, logged, if the files or the address are bad.
 */
struct agent_server *agent_server_new(struct event_base *,
	    const struct agent_tls_conf *, const char *addr, uint16_t port,
	    const struct agent_tls_cbs *, void *arg);
uint16_t agent_server_port(const struct agent_server *);
/*
 * Closes every connection (on_closed is called) and the listener; also
 * from within one of the server's callbacks.
 */
void	agent_server_free(struct agent_server *);

/*
 * Client: connects to host:port at once, and again after every failure or
 * close, waiting a back-off that doubles from backoff_min_ms up to
 * backoff_max_ms, each wait drawn between half and all of it; the first
 * message heard on a connection resets it, unless it is the server's
 * refusal (a result with id 0, not ok).  NULL, logged, if the files
 * are bad.  Resolving a host name blocks: give an address.
 */
struct agent_client *agent_client_new(struct event_base *,
	    const struct agent_tls_conf *, const char *host, uint16_t port,
	    const struct agent_tls_cbs *, void *arg);
/* The connection, once on_connected was called and until on_closed; or NULL. */
struct agent_conn *agent_client_conn(const struct agent_client *);
/* The back-off now: the longest the next wait before a try may be, ms. */
unsigned agent_client_backoff_ms(const struct agent_client *);
/*
 * Closes the connection (on_closed is called) and stops reconnecting;
 * also from within one of the client's callbacks.
 */
void	agent_client_free(struct agent_client *);

/*
 * Queues a message.  -1 if it would not encode (logged: our bug), if the
 * connection is closing, or if the peer leaves AGENT_OUTBUF_MAX unread
 * (the connection is then closed).
 */
int	agent_conn_send(struct agent_conn *, const struct agent_msg *);
/* Closes after what was queued is written (a few seconds at most). */
void	agent_conn_close(struct agent_conn *, const char *why);
const char *agent_conn_identity(const struct agent_conn *);
const char *agent_conn_addr(const struct agent_conn *);	/* "address:port" */

#endif

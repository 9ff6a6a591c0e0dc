/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * hostd/migrate.c — live migration between two xvdsd (see hostd/migrate.h for
 * the handshake, xvdsd(8) for the operator's view).
 *
 * One TCP connection per migration.  Messages are JSON objects, one per
 * line, at most MIGRATE_MSG_MAX bytes; the domain's stream (hv/hv.h) travels
 * between "accept" and "ready" on the same socket.  The two sides strictly
 * take turns, so a reader never holds bytes of the stream in its buffer.
 *
 * Authentication: both sides prove they hold the shared key (a file only
 * root may read) by an HMAC-SHA256 over both sides' fresh nonces and their
 * names.  The stream itself is neither encrypted nor integrity-protected:
 * the migration network must be trusted (xvdsd(8), BUGS).
 */
#include <config.h>

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/queue.h>
#include <netinet/in.h>
#include <netinet/tcp.h>

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>
#include <jansson.h>
#include <sodium.h>

#include "common/conf.h"
#include "hv/hv.h"
#include "common/log.h"
#include "hostd/migrate.h"

#define NONCE_LEN	16
#define HANDSHAKE_SECS	15	/* each step of the handshake */
#define READY_SECS	300	/* the receiver builds its copy */
#define GO_SECS		120	/* the sender makes its commit durable */
#define MAX_CONNS	16
#define KEY_FILE_MIN	32	/* bytes of secret */
#define KEY_FILE_MAX	4096

const char *const migrate_has_names[] = {
	[MIGRATE_HAS_IT] = "yes",
	[MIGRATE_HAS_NOT] = "no",
	[MIGRATE_HAS_UNSURE] = "unsure",
};

/* Where a connection is; each waiting phase has its deadline. */
enum phase {
	P_CONNECTING,		/* sender: TCP connect under way */
	P_WAIT_HELLO,		/* sender: the receiver's nonce */
	P_WAIT_AUTH,		/* receiver: the sender's proof */
	P_WAIT_WELCOME,		/* sender: the receiver's proof */
	P_WAIT_REQUEST,		/* receiver: an offer or a question */
	P_WAIT_ACCEPT,		/* sender */
	P_STREAMING,		/* either side: the hypervisor has the socket */
	P_WAIT_READY,		/* sender */
	P_WAIT_GO,		/* receiver */
	P_WAIT_DONE,		/* sender */
	P_WAIT_ANSWER,		/* asker */
	P_CLOSED,
};

enum role { R_SEND, R_RECEIVE, R_ASK };

struct mconn {
	TAILQ_ENTRY(mconn) entry;
	enum role	 role;
	enum phase	 phase;
	int		 fd;
	struct event	*rd;
	struct event	*wr;		/* connect completion */
	struct event	*deadline;
	char		 buf[MIGRATE_MSG_MAX];
	size_t		 len;
	char		 peer[MIGRATE_PEER_MAX + 1];	/* for the log */
	char		 peer_name[TEMPLATE_NAME_MAX + 1];	/* authenticated */
	unsigned char	 nonce_mine[NONCE_LEN];
	unsigned char	 nonce_peer[NONCE_LEN];
	struct migrate_offer offer;
	/* Sender. */
	uint32_t	 domid;
	bool		 suspended;	/* the stream was sent: the copy here is */
	bool		 refused;	/* the receiver said it gave up */
	migrate_commit_cb commit;
	migrate_done_cb	 done;
	void		*arg;
	/* Receiver. */
	bool		 vm_made;	/* the hooks made an incoming VM for it */
	/* Asker. */
	migrate_ask_cb	 ask;
};

static struct {
	struct event_base *base;
	struct hv	*hv;
	const struct migrate_hooks *incoming;	/* the receiving side's VMs */
	int		 lfd;
	struct event	*lev;
	char		 listen[CONF_ADDR_MAX + 1];
	uint16_t	 port;
	char		 host_name[TEMPLATE_NAME_MAX + 1];
	unsigned char	 key[crypto_auth_hmacsha256_KEYBYTES];
	bool		 have_key;
	char		 why_disabled[200];
	TAILQ_HEAD(, mconn) conns;
	unsigned	 nconns;
} migrate_state = { .lfd = -1 };

static void	 conn_read(evutil_socket_t, short, void *);
static void	 conn_fail(struct mconn *, const char *, ...)
		    __attribute__((format(printf, 2, 3)));

/* The key. */

static int
load_key(const char *path, char *why, size_t whylen)
{
	unsigned char buf[KEY_FILE_MAX];
	struct stat st;
	ssize_t	 n;
	int	 fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)) == -1) {
		snprintf(why, whylen, "%s: %s", path, strerror(errno));
		return -1;
	}
	if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode)) {
		snprintf(why, whylen, "%s: not a regular file", path);
		close(fd);
		return -1;
	}
	if ((st.st_mode & 077) != 0 || st.st_uid != geteuid()) {
		snprintf(why, whylen, "%s: must be owned by this user and readable "
		    "by nobody else (mode 0600)", path);
		close(fd);
		return -1;
	}
	n = read(fd, buf, sizeof(buf));
	close(fd);
	if (n < KEY_FILE_MIN || n >= (ssize_t)sizeof(buf)) {
		snprintf(why, whylen, "%s: must hold %d to %d bytes of secret", path,
		    KEY_FILE_MIN, KEY_FILE_MAX - 1);
		sodium_memzero(buf, sizeof(buf));
		return -1;
	}
	/* Whatever the file holds (text or bytes), one key of the right size. */
	crypto_generichash(migrate_state.key, sizeof(migrate_state.key), buf,
	    (size_t)n, NULL, 0);
	sodium_memzero(buf, sizeof(buf));
	return 0;
}

static void
hex(const unsigned char *b, size_t n, char *out)
{
	sodium_bin2hex(out, n * 2 + 1, b, n);
}

/*
 * The proof one side gives: HMAC over the role, the verifier's nonce
 * first (so a proof is never replayed to another challenge), the
 * prover's nonce and name.
 */
static void
proof(const char *role, const unsigned char *verifier_nonce,
    const unsigned char *prover_nonce, const char *prover_name,
    unsigned char out[crypto_auth_hmacsha256_BYTES])
{
	crypto_auth_hmacsha256_state st;

	crypto_auth_hmacsha256_init(&st, migrate_state.key,
	    sizeof(migrate_state.key));
	crypto_auth_hmacsha256_update(&st, (const unsigned char *)"xvds-migrate-1|",
	    15);
	crypto_auth_hmacsha256_update(&st, (const unsigned char *)role,
	    strlen(role) + 1);
	crypto_auth_hmacsha256_update(&st, verifier_nonce, NONCE_LEN);
	crypto_auth_hmacsha256_update(&st, prover_nonce, NONCE_LEN);
	crypto_auth_hmacsha256_update(&st, (const unsigned char *)prover_name,
	    strlen(prover_name) + 1);
	crypto_auth_hmacsha256_final(&st, out);
}

static int
check_proof(const char *role, const char *mac_hex, const struct mconn *c,
    const char *prover_name)
{
	unsigned char want[crypto_auth_hmacsha256_BYTES];
	unsigned char got[crypto_auth_hmacsha256_BYTES];
	size_t	 n = 0;

	if (sodium_hex2bin(got, sizeof(got), mac_hex, strlen(mac_hex), NULL, &n,
	    NULL) == -1 || n != sizeof(got))
		return -1;
	proof(role, c->nonce_mine, c->nonce_peer, prover_name, want);
	return sodium_memcmp(want, got, sizeof(want)) == 0 ? 0 : -1;
}

/* Connections. */

static int
set_nonblock(int fd, bool on)
{
	int	 fl = fcntl(fd, F_GETFL);

	if (fl == -1)
		return -1;
	return fcntl(fd, F_SETFL, on ? fl | O_NONBLOCK : fl & ~O_NONBLOCK);
}

static void
deadline_fired(evutil_socket_t fd, short what, void *arg)
{
	struct mconn *c = arg;

	(void)fd;
	(void)what;
	conn_fail(c, "no answer in time");
}

static void
arm_deadline(struct mconn *c, unsigned secs)
{
	struct timeval tv = { secs, 0 };

	evtimer_add(c->deadline, &tv);
}

static struct mconn *
conn_new(enum role role, int fd, const char *peer)
{
	struct mconn *c;

	if ((c = calloc(1, sizeof(*c))) == NULL)
		fatal("%s", __func__);
	c->role = role;
	c->fd = fd;
	snprintf(c->peer, sizeof(c->peer), "%s", peer);
	if ((c->rd = event_new(migrate_state.base, fd, EV_READ | EV_PERSIST,
	    conn_read, c)) == NULL || (c->deadline =
	    evtimer_new(migrate_state.base, deadline_fired, c)) == NULL)
		fatalx("%s: event_new", __func__);
	randombytes_buf(c->nonce_mine, sizeof(c->nonce_mine));
	TAILQ_INSERT_TAIL(&migrate_state.conns, c, entry);
	migrate_state.nconns++;
	return c;
}

static void
conn_free(struct mconn *c)
{
	TAILQ_REMOVE(&migrate_state.conns, c, entry);
	migrate_state.nconns--;
	event_free(c->rd);
	if (c->wr != NULL)
		event_free(c->wr);
	event_free(c->deadline);
	if (c->fd != -1)
		close(c->fd);
	free(c);
}

/* Ends a connection whose work is over (the callbacks have been made). */
static void
conn_close(struct mconn *c)
{
	c->phase = P_CLOSED;
	conn_free(c);
}

/*
 * Sends one message.  The peer is waiting for it and the socket's buffer
 * is empty when the two sides take turns, so a short wait is enough.
 */
static int
send_msg(struct mconn *c, json_t *o)
{
	char	*s;
	size_t	 len, off = 0;
	int	 rc = 0;

	if (o == NULL || (s = json_dumps(o, JSON_COMPACT)) == NULL)
		fatalx("%s: cannot encode", __func__);
	json_decref(o);
	len = strlen(s);
	s[len++] = '\n';	/* json_dumps's NUL becomes the newline */
	while (off < len) {
		ssize_t	 n = write(c->fd, s + off, len - off);

		if (n > 0) {
			off += (size_t)n;
			continue;
		}
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1 && errno == EAGAIN) {
			struct pollfd pfd = { c->fd, POLLOUT, 0 };

			if (poll(&pfd, 1, HANDSHAKE_SECS * 1000) == 1)
				continue;
		}
		rc = -1;
		break;
	}
	free(s);
	return rc;
}

static void
send_error(struct mconn *c, const char *why)
{
	(void)send_msg(c, json_pack("{s:s, s:s}", "msg", "error", "why", why));
}

/* The end of a sender's migration, reported once. */
static void
send_finished(struct mconn *c, enum migrate_outcome out, const char *msg)
{
	migrate_done_cb done = c->done;
	void	*arg = c->arg;

	c->done = NULL;
	conn_close(c);
	if (done != NULL)
		done(arg, out, msg);
}

/* The receiver gives up: the VMs' side destroys what arrived and forgets the
 * VM. */
static void
receive_abort(struct mconn *c, const char *why)
{
	if (c->vm_made) {
		c->vm_made = false;
		migrate_state.incoming->abort(c->offer.name, why);
	}
}

static void
conn_fail(struct mconn *c, const char *fmt, ...)
{
	char	 why[300];
	va_list	 ap;

	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	switch (c->role) {
	case R_SEND:
		log_warnx("migrate %s to %s: %s", c->offer.name, c->peer, why);
		/* After "go" only the receiver's own word rules its copy out. */
		if (c->phase == P_WAIT_DONE && !c->refused)
			send_finished(c, MIGRATE_UNKNOWN, why);
		else
			send_finished(c, c->suspended ? MIGRATE_STAYED_SUSPENDED :
			    MIGRATE_STAYED, why);
		return;
	case R_RECEIVE:
		log_warnx("migration from %s%s%s: %s", c->peer,
		    c->offer.name[0] ? " of " : "", c->offer.name, why);
		receive_abort(c, why);
		conn_close(c);
		return;
	case R_ASK: {
		migrate_ask_cb cb = c->ask;
		void	*arg = c->arg;

		log_warnx("asking %s about %s: %s", c->peer, c->offer.name, why);
		conn_close(c);
		cb(arg, MIGRATE_HAS_UNSURE);
		return;
	}
	}
}

/* Protocol steps, one per message received. */

static void	 start_stream(struct mconn *);
static void	 received_cb(void *, enum hv_result, uint32_t);

static void
step_hello(struct mconn *c, json_t *o)
{
	const char *nonce, *name;
	unsigned char mac[crypto_auth_hmacsha256_BYTES];
	char	 nonce_hex[NONCE_LEN * 2 + 1], mac_hex[sizeof(mac) * 2 + 1];
	size_t	 n = 0;
	int	 v;

	if (json_unpack(o, "{s:i, s:s, s:s}", "v", &v, "nonce", &nonce, "host",
	    &name) == -1 || sodium_hex2bin(c->nonce_peer, NONCE_LEN, nonce,
	    strlen(nonce), NULL, &n, NULL) == -1 || n != NONCE_LEN ||
	    strlen(name) > TEMPLATE_NAME_MAX) {
		conn_fail(c, "malformed hello");
		return;
	}
	if (v != MIGRATE_PROTO_VERSION) {
		conn_fail(c, "the peer speaks version %d, this xvdsd %d", v,
		    MIGRATE_PROTO_VERSION);
		return;
	}
	snprintf(c->peer_name, sizeof(c->peer_name), "%s", name);
	proof("sender", c->nonce_peer, c->nonce_mine, migrate_state.host_name,
	    mac);
	hex(c->nonce_mine, NONCE_LEN, nonce_hex);
	hex(mac, sizeof(mac), mac_hex);
	if (send_msg(c, json_pack("{s:s, s:s, s:s, s:s}", "msg", "auth", "host",
	    migrate_state.host_name, "nonce", nonce_hex, "mac",
	    mac_hex)) == -1) {
		conn_fail(c, "cannot send: %s", strerror(errno));
		return;
	}
	c->phase = P_WAIT_WELCOME;
	arm_deadline(c, HANDSHAKE_SECS);
}

static void
step_auth(struct mconn *c, json_t *o)
{
	const char *nonce, *name, *mac;
	unsigned char mine[crypto_auth_hmacsha256_BYTES];
	char	 mac_hex[sizeof(mine) * 2 + 1];
	size_t	 n = 0;

	if (json_unpack(o, "{s:s, s:s, s:s}", "host", &name, "nonce", &nonce,
	    "mac", &mac) == -1 || strlen(name) > TEMPLATE_NAME_MAX ||
	    sodium_hex2bin(c->nonce_peer, NONCE_LEN, nonce, strlen(nonce), NULL,
	    &n, NULL) == -1 || n != NONCE_LEN) {
		send_error(c, "malformed auth");
		conn_fail(c, "malformed auth");
		return;
	}
	if (check_proof("sender", mac, c, name) == -1) {
		send_error(c, "authentication failed");
		conn_fail(c, "authentication failed (is the key file the same on "
		    "both hosts?)");
		return;
	}
	snprintf(c->peer_name, sizeof(c->peer_name), "%s", name);
	proof("receiver", c->nonce_peer, c->nonce_mine, migrate_state.host_name,
	    mine);
	hex(mine, sizeof(mine), mac_hex);
	if (send_msg(c, json_pack("{s:s, s:s}", "msg", "welcome", "mac",
	    mac_hex)) == -1) {
		conn_fail(c, "cannot send: %s", strerror(errno));
		return;
	}
	c->phase = P_WAIT_REQUEST;
	arm_deadline(c, HANDSHAKE_SECS);
}

static void
step_welcome(struct mconn *c, json_t *o)
{
	const char *mac;
	char	*s;

	if (json_unpack(o, "{s:s}", "mac", &mac) == -1 ||
	    check_proof("receiver", mac, c, c->peer_name) == -1) {
		conn_fail(c, "the peer failed to authenticate itself");
		return;
	}
	if (c->role == R_ASK) {
		if (send_msg(c, json_pack("{s:s, s:s}", "msg", "status", "vm",
		    c->offer.name)) == -1) {
			conn_fail(c, "cannot send: %s", strerror(errno));
			return;
		}
		c->phase = P_WAIT_ANSWER;
		arm_deadline(c, HANDSHAKE_SECS);
		return;
	}
	s = migrate_offer_encode(&c->offer);
	if (send_msg(c, json_loads(s, 0, NULL)) == -1) {
		free(s);
		conn_fail(c, "cannot send: %s", strerror(errno));
		return;
	}
	free(s);
	c->phase = P_WAIT_ACCEPT;
	arm_deadline(c, HANDSHAKE_SECS);
}

static void
step_offer(struct mconn *c, const char *line, size_t len)
{
	struct vm_spec spec;
	char	 msg[256];

	if (migrate_offer_decode(line, len, &c->offer, msg, sizeof(msg)) == -1) {
		send_error(c, msg);
		conn_fail(c, "refused a malformed offer: %s", msg);
		return;
	}
	if (migrate_state.incoming->offer(&c->offer, c->peer_name, &spec, msg,
	    sizeof(msg)) == -1) {
		log_warnx("migration from %s (%s) of %s refused: %s", c->peer,
		    c->peer_name, c->offer.name, msg);
		send_error(c, msg);
		conn_close(c);
		return;
	}
	c->vm_made = true;
	if (send_msg(c, json_pack("{s:s}", "msg", "accept")) == -1) {
		conn_fail(c, "cannot send: %s", strerror(errno));
		return;
	}
	log_info("migration from %s (%s) of %s: receiving", c->peer, c->peer_name,
	    c->offer.name);
	c->phase = P_STREAMING;
	event_del(c->rd);
	evtimer_del(c->deadline);
	if (hv_migrate_receive(migrate_state.hv, &spec, c->fd, received_cb,
	    c) == -1) {
		send_error(c, "the receiver's hypervisor refused to build the domain");
		conn_fail(c, "the hypervisor refused to build the domain");
	}
}

static void
step_status(struct mconn *c, json_t *o)
{
	const char *name;
	enum migrate_has has;

	if (json_unpack(o, "{s:s}", "vm", &name) == -1 ||
	    strlen(name) > VMSPEC_NAME_MAX) {
		send_error(c, "malformed status question");
		conn_fail(c, "malformed status question");
		return;
	}
	has = migrate_state.incoming->has(name);
	log_info("%s (%s) asks about %s: %s", c->peer, c->peer_name, name,
	    migrate_has_names[has]);
	(void)send_msg(c, json_pack("{s:s, s:s, s:s}", "msg", "status", "vm", name,
	    "has", migrate_has_names[has]));
	conn_close(c);
}

static void
step_answer(struct mconn *c, json_t *o)
{
	const char *has;
	migrate_ask_cb cb = c->ask;
	void	*arg = c->arg;
	enum migrate_has h;

	if (json_unpack(o, "{s:s}", "has", &has) == -1) {
		conn_fail(c, "malformed answer");
		return;
	}
	if (strcmp(has, "yes") == 0)
		h = MIGRATE_HAS_IT;
	else if (strcmp(has, "no") == 0)
		h = MIGRATE_HAS_NOT;
	else
		h = MIGRATE_HAS_UNSURE;
	log_info("%s says of %s: %s", c->peer, c->offer.name, migrate_has_names[h]);
	conn_close(c);
	cb(arg, h);
}

static void
step_ready(struct mconn *c)
{
	if (c->commit(c->arg) == -1) {
		send_error(c, "the sender could not commit");
		conn_fail(c, "could not make the commit point durable");
		return;
	}
	/* From here on the copy here is never resumed on a guess. */
	c->phase = P_WAIT_DONE;
	if (send_msg(c, json_pack("{s:s}", "msg", "go")) == -1) {
		conn_fail(c, "cannot send go: %s", strerror(errno));
		return;
	}
	arm_deadline(c, GO_SECS);
}

static void
step_go(struct mconn *c)
{
	evtimer_del(c->deadline);
	if (migrate_state.incoming->commit(c->offer.name) == -1) {
		/* Not durable: the sender's copy stays the one. */
		send_error(c, "the receiver could not commit");
		conn_fail(c, "could not make the commit durable");
		return;
	}
	c->vm_made = false;	/* it is the VM's now, whatever happens */
	log_info("migration from %s of %s: committed", c->peer, c->offer.name);
	(void)send_msg(c, json_pack("{s:s}", "msg", "done"));
	conn_close(c);
}

/* One whole message; false if the connection went away meanwhile. */
static void
dispatch(struct mconn *c, const char *line, size_t len)
{
	json_error_t jerr;
	json_t	*o;
	const char *type;

	if ((o = json_loadb(line, len, JSON_REJECT_DUPLICATES, &jerr)) == NULL ||
	    json_unpack(o, "{s:s}", "msg", &type) == -1) {
		json_decref(o);
		conn_fail(c, "malformed message");
		return;
	}
	if (strcmp(type, "error") == 0) {
		const char *why = "no reason given";

		(void)json_unpack(o, "{s?s}", "why", &why);
		c->refused = true;
		conn_fail(c, "the peer says: %.200s", why);
	} else if (c->phase == P_WAIT_HELLO && strcmp(type, "hello") == 0)
		step_hello(c, o);
	else if (c->phase == P_WAIT_AUTH && strcmp(type, "auth") == 0)
		step_auth(c, o);
	else if (c->phase == P_WAIT_WELCOME && strcmp(type, "welcome") == 0)
		step_welcome(c, o);
	else if (c->phase == P_WAIT_REQUEST && strcmp(type, "offer") == 0)
		step_offer(c, line, len);
	else if (c->phase == P_WAIT_REQUEST && strcmp(type, "status") == 0)
		step_status(c, o);
	else if (c->phase == P_WAIT_ACCEPT && strcmp(type, "accept") == 0)
		start_stream(c);
	else if (c->phase == P_WAIT_READY && strcmp(type, "ready") == 0)
		step_ready(c);
	else if (c->phase == P_WAIT_GO && strcmp(type, "go") == 0)
		step_go(c);
	else if (c->phase == P_WAIT_DONE && strcmp(type, "done") == 0) {
		log_info("migrate %s to %s: done", c->offer.name, c->peer);
		send_finished(c, MIGRATE_MOVED, "moved");
	} else if (c->phase == P_WAIT_ANSWER && strcmp(type, "status") == 0)
		step_answer(c, o);
	else
		conn_fail(c, "unexpected \"%.40s\" message", type);
	json_decref(o);
}

static void
conn_read(evutil_socket_t fd, short what, void *arg)
{
	struct mconn *c = arg;
	char	*nl;
	ssize_t	 n;

	(void)what;
	n = read(fd, c->buf + c->len, sizeof(c->buf) - c->len);
	if (n == -1 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0) {
		conn_fail(c, n == 0 ? "the peer closed the connection" : "%s",
		    strerror(errno));
		return;
	}
	c->len += (size_t)n;
	if ((nl = memchr(c->buf, '\n', c->len)) == NULL) {
		if (c->len == sizeof(c->buf))
			conn_fail(c, "message longer than %d bytes", MIGRATE_MSG_MAX);
		return;
	}
	/* The peer waits for an answer: nothing may follow its message. */
	if ((size_t)(nl - c->buf) + 1 != c->len) {
		conn_fail(c, "the peer spoke out of turn");
		return;
	}
	c->len = 0;
	evtimer_del(c->deadline);
	dispatch(c, c->buf, (size_t)(nl - c->buf));
}

/* The hypervisor's part. */

static void
sent_cb(void *arg, enum hv_result r, uint32_t domid)
{
	struct mconn *c = arg;

	(void)domid;
	if (set_nonblock(c->fd, true) == -1) {
		c->suspended = r == HV_OK;
		conn_fail(c, "socket: %s", strerror(errno));
		return;
	}
	if (r != HV_OK) {
		/* HV_LOST would mean the domain is gone: nothing here resumes it. */
		c->suspended = false;
		conn_fail(c, "the hypervisor could not send the domain");
		return;
	}
	c->suspended = true;
	c->phase = P_WAIT_READY;
	event_add(c->rd, NULL);
	arm_deadline(c, READY_SECS);
}

static void
start_stream(struct mconn *c)
{
	log_info("migrate %s to %s (%s): sending%s", c->offer.name, c->peer,
	    c->peer_name, c->offer.live ? " live" : "");
	c->phase = P_STREAMING;
	event_del(c->rd);
	if (hv_migrate_send(migrate_state.hv, c->domid, c->fd, c->offer.live,
	    sent_cb, c) == -1)
		conn_fail(c, "the hypervisor refused to send the domain");
}

static void
received_cb(void *arg, enum hv_result r, uint32_t domid)
{
	struct mconn *c = arg;

	if (r != HV_OK) {
		send_error(c, "the receiver could not build the domain");
		conn_fail(c, "the hypervisor could not build the domain");
		return;
	}
	migrate_state.incoming->arrived(c->offer.name, domid);
	if (set_nonblock(c->fd, true) == -1 ||
	    send_msg(c, json_pack("{s:s}", "msg", "ready")) == -1) {
		conn_fail(c, "cannot send ready: %s", strerror(errno));
		return;
	}
	c->phase = P_WAIT_GO;
	event_add(c->rd, NULL);
	arm_deadline(c, GO_SECS);
}

/* Listening. */

static void
listen_accept(evutil_socket_t lfd, short what, void *arg)
{
	struct sockaddr_storage ss;
	socklen_t sslen = sizeof(ss);
	char	 host[64] = "?", serv[16] = "?", peer[100];
	unsigned char nonce_hex[NONCE_LEN * 2 + 1];
	struct mconn *c;
	int	 fd, one = 1;

	(void)what;
	(void)arg;
	if ((fd = accept4(lfd, (struct sockaddr *)&ss, &sslen, SOCK_NONBLOCK |
	    SOCK_CLOEXEC)) == -1) {
		if (errno != EAGAIN && errno != EINTR)
			log_warn("migration listener: accept");
		return;
	}
	(void)getnameinfo((struct sockaddr *)&ss, sslen, host, sizeof(host), serv,
	    sizeof(serv), NI_NUMERICHOST | NI_NUMERICSERV);
	snprintf(peer, sizeof(peer), "%s:%s", host, serv);
	if (!migrate_state.have_key || migrate_state.nconns >= MAX_CONNS) {
		log_warnx("migration from %s refused: %s", peer,
		    !migrate_state.have_key ?
		    migrate_state.why_disabled : "too many connections");
		close(fd);
		return;
	}
	(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	c = conn_new(R_RECEIVE, fd, peer);
	hex(c->nonce_mine, NONCE_LEN, (char *)nonce_hex);
	if (send_msg(c, json_pack("{s:s, s:i, s:s, s:s}", "msg", "hello", "v",
	    MIGRATE_PROTO_VERSION, "host", migrate_state.host_name, "nonce",
	    (char *)nonce_hex)) == -1) {
		conn_close(c);
		return;
	}
	c->phase = P_WAIT_AUTH;
	event_add(c->rd, NULL);
	arm_deadline(c, HANDSHAKE_SECS);
}

static void
listen_close(void)
{
	if (migrate_state.lev != NULL)
		event_free(migrate_state.lev);
	migrate_state.lev = NULL;
	if (migrate_state.lfd != -1)
		close(migrate_state.lfd);
	migrate_state.lfd = -1;
}

static int
listen_open(const char *addr, uint16_t port)
{
	struct addrinfo hints = { 0 }, *ai = NULL;
	char	 serv[8];
	int	 fd, one = 1, e;

	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV | AI_PASSIVE;
	snprintf(serv, sizeof(serv), "%u", (unsigned)port);
	if ((e = getaddrinfo(addr, serv, &hints, &ai)) != 0) {
		log_warnx("migration listener %s port %u: %s", addr, (unsigned)port,
		    gai_strerror(e));
		return -1;
	}
	fd = socket(ai->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd == -1 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one,
	    sizeof(one)) == -1 || bind(fd, ai->ai_addr, ai->ai_addrlen) == -1 ||
	    listen(fd, 8) == -1) {
		log_warn("migration listener %s port %u", addr, (unsigned)port);
		if (fd != -1)
			close(fd);
		freeaddrinfo(ai);
		return -1;
	}
	freeaddrinfo(ai);
	if ((migrate_state.lev = event_new(migrate_state.base, fd,
	    EV_READ | EV_PERSIST, listen_accept, NULL)) == NULL)
		fatalx("%s: event_new", __func__);
	event_add(migrate_state.lev, NULL);
	migrate_state.lfd = fd;
	snprintf(migrate_state.listen, sizeof(migrate_state.listen), "%s",
	    addr);
	migrate_state.port = port;
	log_info("migrations received on %s port %u", addr, (unsigned)port);
	return 0;
}

static void
apply_settings(const struct conf_settings *s)
{
	snprintf(migrate_state.host_name, sizeof(migrate_state.host_name), "%s",
	    s->host_name);
	migrate_state.have_key = load_key(s->migration_key_file,
	    migrate_state.why_disabled,
	    sizeof(migrate_state.why_disabled)) == 0;
	if (!migrate_state.have_key)
		log_warnx("migration disabled: %s", migrate_state.why_disabled);
}

int
migrate_init(struct event_base *base, struct hv *hv, const struct conf_settings *s,
    const struct migrate_hooks *incoming)
{
	if (sodium_init() == -1)
		fatalx("libsodium cannot be initialised");
	migrate_state.base = base;
	migrate_state.hv = hv;
	migrate_state.incoming = incoming;
	TAILQ_INIT(&migrate_state.conns);
	apply_settings(s);
	return listen_open(s->migration_listen, s->migration_port);
}

void
migrate_reload(const struct conf_settings *s)
{
	apply_settings(s);
	if (strcmp(s->migration_listen, migrate_state.listen) != 0 ||
	    s->migration_port != migrate_state.port) {
		listen_close();
		(void)listen_open(s->migration_listen, s->migration_port);
	}
}

void
migrate_shutdown(void)
{
	struct mconn *c;

	struct mconn *next;

	listen_close();
	/* The hypervisor's streams end on their own; xvdsd waits for them. */
	for (c = TAILQ_FIRST(&migrate_state.conns); c != NULL; c = next) {
		next = TAILQ_NEXT(c, entry);
		if (c->phase != P_STREAMING)
			conn_fail(c, "the daemon is stopping");
	}
	sodium_memzero(migrate_state.key, sizeof(migrate_state.key));
}

/* Connecting out, for a migration or a question. */

static void
connected(evutil_socket_t fd, short what, void *arg)
{
	struct mconn *c = arg;
	int	 err = 0, one = 1;
	socklen_t len = sizeof(err);

	(void)what;
	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) == -1)
		err = errno;
	if (err != 0) {
		conn_fail(c, "cannot connect: %s", strerror(err));
		return;
	}
	(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	c->phase = P_WAIT_HELLO;
	event_add(c->rd, NULL);
	arm_deadline(c, HANDSHAKE_SECS);
}

static struct mconn *
connect_out(enum role role, const char *peer, char *msg, size_t msglen)
{
	struct addrinfo hints = { 0 }, *ai = NULL;
	char	 host[MIGRATE_PEER_MAX + 1], serv[8];
	uint16_t port;
	struct mconn *c;
	int	 fd, e;

	if (!migrate_state.have_key) {
		snprintf(msg, msglen, "migration is disabled: %s",
		    migrate_state.why_disabled);
		return NULL;
	}
	if (strlen(peer) > MIGRATE_PEER_MAX ||
	    migrate_parse_peer(peer, host, sizeof(host), &port,
	    CONF_DEFAULT_PORT) == -1) {
		snprintf(msg, msglen, "\"%.80s\": a host is an address or name, "
		    "with :port if not %u ([address]:port for IPv6)", peer,
		    CONF_DEFAULT_PORT);
		return NULL;
	}
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_NUMERICSERV;
	snprintf(serv, sizeof(serv), "%u", (unsigned)port);
	if ((e = getaddrinfo(host, serv, &hints, &ai)) != 0) {
		snprintf(msg, msglen, "%s: %s", host, gai_strerror(e));
		return NULL;
	}
	fd = socket(ai->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd == -1 || (connect(fd, ai->ai_addr, ai->ai_addrlen) == -1 &&
	    errno != EINPROGRESS)) {
		snprintf(msg, msglen, "cannot connect to %s: %s", peer,
		    strerror(errno));
		if (fd != -1)
			close(fd);
		freeaddrinfo(ai);
		return NULL;
	}
	freeaddrinfo(ai);
	c = conn_new(role, fd, peer);
	c->phase = P_CONNECTING;
	if ((c->wr = event_new(migrate_state.base, fd, EV_WRITE, connected,
	    c)) == NULL)
		fatalx("%s: event_new", __func__);
	event_add(c->wr, NULL);
	arm_deadline(c, HANDSHAKE_SECS);
	return c;
}

int
migrate_send(const struct migrate_offer *offer, const char *peer, uint32_t domid,
    migrate_commit_cb commit, migrate_done_cb done, void *arg, char *msg,
    size_t msglen)
{
	struct mconn *c;

	if (strlen(offer->name) > MIGRATE_NAME_MAX) {
		snprintf(msg, msglen, "%s: only VMs with names up to %zu characters "
		    "can migrate", offer->name, (size_t)MIGRATE_NAME_MAX);
		return -1;
	}
	if ((c = connect_out(R_SEND, peer, msg, msglen)) == NULL)
		return -1;
	c->offer = *offer;
	c->domid = domid;
	c->commit = commit;
	c->done = done;
	c->arg = arg;
	return 0;
}

int
migrate_ask(const char *peer, const char *name, migrate_ask_cb cb, void *arg)
{
	struct mconn *c;
	char	 msg[256];

	if ((c = connect_out(R_ASK, peer, msg, sizeof(msg))) == NULL) {
		log_warnx("asking %s about %s: %s", peer, name, msg);
		return -1;
	}
	snprintf(c->offer.name, sizeof(c->offer.name), "%s", name);
	c->ask = cb;
	c->arg = arg;
	return 0;
}

/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * controller/agent.c — the agents as the active controller sees them
 * (controller/agent.h): who is connected, what they report, and what is asked
 * of them.
 *
 * After every welcome the host reports each VM it has and "resynced":
 * then what the database believed of the host and what it said are
 * reconciled (on_resynced), one statement per fact.
 *
 * Every write is one statement, so that it is atomic without a
 * transaction, and is written to be idempotent (a guard in the statement
 * itself), so that the database layer may send it again after a lost
 * connection without doubling a row or an event.  Each connection has a
 * tag, written into its events, that makes "this connection's host-up"
 * recognisable.
 */
#include <config.h>

#include <sys/queue.h>
#include <sys/time.h>

#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>

#include "agent/tls.h"
#include "controller/agent.h"
#include "controller/cluster.h"
#include "controller/conf.h"
#include "controller/sql.h"
#include "db/db.h"
#include "common/log.h"
#include "common/vm_fsm.h"

enum ahost_state {
	AH_HELLO,		/* connected, hello awaited */
	AH_CONTESTING,		/* hello checked; the host's live connection
				   is asked whether it still answers */
	AH_REGISTERING,		/* hello checked, the row being written */
	AH_UP,			/* welcomed */
	AH_REFUSED,		/* closing */
};

struct op;
TAILQ_HEAD(ops, op);

struct ahost {
	TAILQ_ENTRY(ahost) entry;
	struct agent_conn *conn;	/* NULL once closed */
	char		 name[AGENT_HOST_MAX + 1];
	char		 addr[AGENT_PEER_MAX + 1];
	char		 tag[64];	/* this connection, in its events */
	enum ahost_state state;
	unsigned	 refs;		/* queries out that name it */
	bool		 have_figures;
	struct agent_sample figures;
	struct ops	 ops;
	struct agent_hello hello;	/* registered from, after a contest */
	/*
	 * A second connection for one host name: the newcomer (contesting)
	 * and the live one it pings point at each other; the newcomer waits
	 * for the pong of seq for CTRL_AGENT_PROBE_S (probe).
	 */
	struct ahost	*rival;
	struct event	*probe;
	int64_t		 probe_seq;
	/*
	 * The resync: from the welcome to "resynced", the VMs reported, one
	 * "name state domid" line each, and when the row was registered
	 * (UTC, the database's clock).
	 */
	bool		 resyncing;
	char		*seen;
	size_t		 seen_len, seen_cap;
	uint32_t	 seen_n;
	char		 since[40];
};
TAILQ_HEAD(ahosts, ahost);

struct op {
	TAILQ_ENTRY(op)	 entry;
	int64_t		 id;
	struct ahost	*h;
	struct event	*timer;
	ctrl_op_cb	 cb;
	void		*arg;
};

static struct {
	struct event_base *base;
	struct db	*db;
	struct agent_server *srv;
	struct ahosts	 hosts;
	struct event	*sweep;
	unsigned	 sample_s, op_timeout_s, grace_s;
	unsigned long	 serial;
	int64_t		 ping_seq;
	int64_t		 next_id;
	long		 started;
} agent_state;

/* Told of each VM report recorded (ctrl_agent_on_vm_reported), and of
 * each change of state it records (ctrl_agent_on_vm_state). */
static void (*vm_reported_hook)(const char *vm);
static void (*vm_state_hook)(const char *vm, enum vm_state from,
    enum vm_state to);

/* Queries. */

/* Connections. */

static struct ahost *
find_conn(struct agent_conn *c)
{
	struct ahost *h;

	TAILQ_FOREACH(h, &agent_state.hosts, entry)
		if (h->conn == c)
			return h;
	return NULL;
}

static struct ahost *
find_up(const char *name)
{
	struct ahost *h;

	TAILQ_FOREACH(h, &agent_state.hosts, entry)
		if (h->conn != NULL && h->state == AH_UP &&
		    strcmp(h->name, name) == 0)
			return h;
	return NULL;
}

static void
resync_forget(struct ahost *h)
{
	free(h->seen);
	h->seen = NULL;
	h->seen_len = h->seen_cap = 0;
	h->seen_n = 0;
	h->resyncing = false;
}

static void
ahost_put(struct ahost *h)
{
	if (h->refs > 0 || h->conn != NULL)
		return;
	TAILQ_REMOVE(&agent_state.hosts, h, entry);
	resync_forget(h);
	free(h);
}

/* Ends op with a result of the controller's making. */
static void
op_end(struct op *o, const struct agent_result *r)
{
	TAILQ_REMOVE(&o->h->ops, o, entry);
	event_free(o->timer);
	o->cb(o->h->name, r, o->arg);
	free(o);
}

static void
op_fail(struct op *o, const char *code, const char *msg)
{
	struct agent_result r;

	memset(&r, 0, sizeof(r));
	r.id = o->id;
	r.ok = false;
	snprintf(r.code, sizeof(r.code), "%s", code);
	snprintf(r.message, sizeof(r.message), "%s", msg);
	op_end(o, &r);
}

static void
op_timeout(evutil_socket_t fd, short what, void *arg)
{
	struct op *o = arg;

	(void)fd;
	(void)what;
	log_warnx("agent: %s: op %" PRId64 " not answered in time", o->h->name,
	    o->id);
	op_fail(o, "timeout", "no result within the time allowed");
}

/* A query's answer comes back to its connection, if that still exists. */
struct qarg {
	struct ahost	*h;
	void		(*done)(struct ahost *, PGresult *, const char *);
};

static void
q_answer(PGresult *res, const char *err, void *arg)
{
	struct qarg *q = arg;
	struct ahost *h = q->h;

	/* Still held while done runs: it may close the connection, and
	 * srv_closed would free what it is looking at. */
	if (q->done != NULL)
		q->done(h, res, err);
	else if (err != NULL)
		log_warnx("agent: %s: %s", h->name, err);
	h->refs--;
	free(q);
	ahost_put(h);
}

static int
query(struct ahost *h, void (*done)(struct ahost *, PGresult *, const char *),
    const char *sql, int n, const char *const *params)
{
	struct qarg *q;

	if (agent_state.db == NULL)
		return -1;	/* stopped: not entitled to write */
	if ((q = malloc(sizeof(*q))) == NULL) {
		log_warn("%s", __func__);
		return -1;
	}
	q->h = h;
	q->done = done;
	if (db_query(agent_state.db, DB_IDEMPOTENT, q_answer, q, sql, n,
	    params) == -1) {
		log_warnx("agent: %s: cannot queue a query", h->name);
		free(q);
		return -1;
	}
	h->refs++;
	return 0;
}

static void
registered(struct ahost *h, PGresult *res, const char *err)
{
	struct agent_msg m;

	if (h->conn == NULL || h->state != AH_REGISTERING)
		return;		/* gone, or replaced meanwhile */
	if (err != NULL || PQntuples(res) != 1) {
		log_warnx("agent: %s: not registered: %s", h->name,
		    err != NULL ? err : "no row");
		agent_conn_close(h->conn, "registration failed");
		return;
	}
	h->state = AH_UP;
	resync_forget(h);
	h->resyncing = true;
	snprintf(h->since, sizeof(h->since), "%s", PQgetvalue(res, 0, 1));
	memset(&m, 0, sizeof(m));
	m.type = AGENT_M_WELCOME;
	m.u.welcome.v = AGENT_PROTO_VERSION;
	snprintf(m.u.welcome.host, sizeof(m.u.welcome.host), "%s", h->name);
	m.u.welcome.sample_s = agent_state.sample_s;
	log_info("agent: %s: registered (host id %s, %s)", h->name,
	    PQgetvalue(res, 0, 0), h->addr);
	agent_conn_send(h->conn, &m);
}

/* Answers the hello with a refusal (a result with id 0) and closes. */
static void
refuse(struct ahost *h, const char *code, const char *msg)
{
	struct agent_msg m;

	memset(&m, 0, sizeof(m));
	m.type = AGENT_M_RESULT;
	m.u.result.id = 0;
	m.u.result.ok = false;
	snprintf(m.u.result.code, sizeof(m.u.result.code), "%s", code);
	snprintf(m.u.result.message, sizeof(m.u.result.message), "%s", msg);
	agent_conn_send(h->conn, &m);
	h->state = AH_REFUSED;
	agent_conn_close(h->conn, msg);
}

static void
host_register(struct ahost *h)
{
	const char *p[6];
	char	 cpus[16], mem[24];

	snprintf(cpus, sizeof(cpus), "%u", h->hello.cpus);
	snprintf(mem, sizeof(mem), "%" PRIu64, h->hello.memory_mib);
	p[0] = h->name;
	p[1] = h->addr;
	p[2] = cpus;
	p[3] = mem;
	p[4] = h->tag;
	p[5] = h->hello.hypervisor;
	h->state = AH_REGISTERING;
	if (query(h, registered, sql_agent_register, 6, p) == -1)
		agent_conn_close(h->conn, "cannot register");
}

/* The contest of newcomer n with its rival is over, either way. */
static void
contest_end(struct ahost *n)
{
	if (n->probe != NULL)
		evtimer_del(n->probe);
	if (n->rival != NULL)
		n->rival->rival = NULL;
	n->rival = NULL;
}

static void
contest_event(struct ahost *n, struct ahost *live, const char *kind)
{
	const char *p[5] = { kind, n->name, n->addr, live->addr, live->tag };

	query(n, NULL, sql_agent_contest, 5, p);
}

/* The live connection answers: the newcomer is the one too many. */
static void
contest_lost(struct ahost *n, struct ahost *live)
{
	char	 msg[AGENT_TEXT_MAX + 1];

	log_warnx("agent: %s (%s): refused: the host is connected from %s, "
	    "which answers (host-conflict event)", n->name, n->addr,
	    live->addr);
	contest_event(n, live, "host-conflict");
	snprintf(msg, sizeof(msg), "host %s is connected already", n->name);
	refuse(n, "conflict", msg);
}

/* It did not answer in time: it is closed, the newcomer registered. */
static void
probe_expired(evutil_socket_t fd, short what, void *arg)
{
	struct ahost *n = arg, *live = n->rival;

	(void)fd;
	(void)what;
	contest_end(n);
	log_warnx("agent: %s: its connection from %s did not answer a ping "
	    "in %d s: replaced by the one from %s (host-replaced event)",
	    n->name, live->addr, CTRL_AGENT_PROBE_S, n->addr);
	contest_event(n, live, "host-replaced");
	/* Held, for closing calls srv_closed, which may free it. */
	live->refs++;
	live->state = AH_REFUSED;
	agent_conn_close(live->conn, "replaced: silent while another "
	    "connection claimed its name");
	live->refs--;
	ahost_put(live);
	host_register(n);
}

/*
 * A second connection for a host that has a live one (a host that
 * reconnects before its old connection was seen to end, or another
 * holder of its certificate): the live one is pinged, and the newcomer
 * refused if it answers within CTRL_AGENT_PROBE_S, else registered in
 * its place.  One contest at a time: a third is refused at once.
 */
static void
contest(struct ahost *n, struct ahost *live)
{
	struct timeval tv = { CTRL_AGENT_PROBE_S, 0 };
	struct agent_msg m;

	if (live->rival != NULL || live->state == AH_CONTESTING) {
		contest_lost(n, live);
		return;
	}
	if (n->probe == NULL &&
	    (n->probe = evtimer_new(agent_state.base, probe_expired,
	    n)) == NULL) {
		log_warn("%s", __func__);
		agent_conn_close(n->conn, "out of memory");
		return;
	}
	n->state = AH_CONTESTING;
	n->rival = live;
	live->rival = n;
	if (agent_state.ping_seq >= AGENT_ID_MAX)
		agent_state.ping_seq = 0;
	n->probe_seq = ++agent_state.ping_seq;
	memset(&m, 0, sizeof(m));
	m.type = AGENT_M_PING;
	m.u.seq = n->probe_seq;
	log_info("agent: %s: a second connection, from %s: is the one from %s "
	    "still there?", n->name, n->addr, live->addr);
	evtimer_add(n->probe, &tv);
	/* Unsendable: the live one is closing, and its end (maybe from
	 * within the send) registers n. */
	agent_conn_send(live->conn, &m);
}

static void
on_hello(struct ahost *h, const struct agent_hello *hello)
{
	struct ahost *live;
	const char *p[3];
	char	 msg[AGENT_TEXT_MAX + 1];

	if (strcmp(hello->host, h->name) != 0) {
		log_warnx("agent: %s (%s): refused: hello names host %s, the "
		    "certificate %s", h->name, h->addr, hello->host, h->name);
		p[0] = h->name;
		p[1] = hello->host;
		p[2] = h->addr;
		query(h, NULL, sql_agent_refused, 3, p);
		snprintf(msg, sizeof(msg), "this certificate is host %s's, "
		    "not %s's", h->name, hello->host);
		refuse(h, "identity", msg);
		return;
	}
	h->hello = *hello;
	TAILQ_FOREACH(live, &agent_state.hosts, entry)
		if (live != h && live->conn != NULL &&
		    (live->state == AH_CONTESTING ||
		    live->state == AH_REGISTERING || live->state == AH_UP) &&
		    strcmp(live->name, h->name) == 0) {
			contest(h, live);
			return;
		}
	host_register(h);
}

static void
on_sample(struct ahost *h, const struct agent_sample *s)
{
	const char *p[1] = { h->name };

	h->figures = *s;
	h->figures.nvms = 0;
	h->figures.vms = NULL;
	h->have_figures = true;
	ctrl_cluster_sample(h->name, s);
	query(h, NULL, sql_agent_seen, 1, p);
}

static void
state_written(struct ahost *h, PGresult *res, const char *err)
{
	if (err != NULL) {
		log_warnx("agent: %s: a VM state not recorded: %s", h->name, err);
		return;
	}
	if (strcmp(PQgetvalue(res, 0, 5), "0") == 0) {
		/* At a resync's end, an event says so (sql_agent_unknown). */
		log_info("agent: %s reports %s, which the database does not "
		    "know (not recorded)", h->name, PQgetvalue(res, 0, 3));
		return;
	}
	if (strcmp(PQgetvalue(res, 0, 6), "0") != 0)
		log_warnx("agent: %s runs %s, which the database places on %s: "
		    "a duplicate, not moved (vm-duplicate event)", h->name,
		    PQgetvalue(res, 0, 3), PQgetisnull(res, 0, 7) ? "no host" :
		    PQgetvalue(res, 0, 7));
	if (strcmp(PQgetvalue(res, 0, 8), "t") == 0)
		ctrl_host_forget(h->name, PQgetvalue(res, 0, 3));
	if (strcmp(PQgetvalue(res, 0, 0), "0") == 0)
		return;		/* another host's */
	if (vm_state_hook != NULL)
		vm_state_hook(PQgetvalue(res, 0, 3),
		    (enum vm_state)vm_state_from_name(PQgetvalue(res, 0, 2)),
		    (enum vm_state)vm_state_from_name(PQgetvalue(res, 0, 4)));
	if (vm_reported_hook != NULL)
		vm_reported_hook(PQgetvalue(res, 0, 3));
}

/* Notes a VM of the resync under way; false when the list is too long. */
static bool
resync_add(struct ahost *h, const struct agent_state *st)
{
	char	 line[AGENT_VM_MAX + 48], *tmp;
	size_t	 n, cap;

	if (st->domid != AGENT_NODOMAIN)
		n = (size_t)snprintf(line, sizeof(line), "%s%s %s %" PRIu32,
		    h->seen_n > 0 ? "\n" : "", st->vm,
		    vm_state_names[st->state], st->domid);
	else
		n = (size_t)snprintf(line, sizeof(line), "%s%s %s -",
		    h->seen_n > 0 ? "\n" : "", st->vm,
		    vm_state_names[st->state]);
	if (h->seen_n >= AGENT_RESYNC_MAX)
		return false;
	if (h->seen_len + n + 1 > h->seen_cap) {
		cap = h->seen_cap > 0 ? h->seen_cap * 2 : 4096;
		while (cap < h->seen_len + n + 1)
			cap *= 2;
		if ((tmp = realloc(h->seen, cap)) == NULL) {
			log_warn("%s", __func__);
			return false;
		}
		h->seen = tmp;
		h->seen_cap = cap;
	}
	memcpy(h->seen + h->seen_len, line, n + 1);
	h->seen_len += n;
	h->seen_n++;
	return true;
}

static void
on_state(struct ahost *h, const struct agent_state *st)
{
	const char *p[8];
	char	 domid[16];

	if (h->resyncing && !resync_add(h, st)) {
		log_warnx("agent: %s: resync abandoned: more VMs than it may "
		    "name, or out of memory", h->name);
		resync_forget(h);
	}
	if (st->domid != AGENT_NODOMAIN) {
		snprintf(domid, sizeof(domid), "%" PRIu32, st->domid);
		p[0] = h->name;
		p[1] = domid;
		p[2] = st->vm;
		query(h, NULL, sql_agent_domid, 3, p);
	}
	p[0] = st->vm;
	p[1] = vm_state_names[st->state];
	p[2] = st->domid != AGENT_NODOMAIN ? domid : NULL;
	p[3] = h->name;
	p[4] = st->addr;
	p[5] = st->boot_id;
	p[6] = h->tag;
	p[7] = st->rdp_sha256;
	log_debug("agent: %s: %s is %s", h->name, st->vm, p[1]);
	query(h, state_written, sql_agent_state, 8, p);
}

static void
gone_written(struct ahost *h, PGresult *res, const char *err)
{
	int	 i;

	if (err != NULL) {
		log_warnx("agent: %s: VMs no longer there not recorded: %s",
		    h->name, err);
		return;
	}
	for (i = 0; i < PQntuples(res); i++) {
		log_warnx("agent: %s no longer has %s (believed %s): inactive "
		    "(vm-reconciled event)", h->name, PQgetvalue(res, i, 0),
		    PQgetvalue(res, i, 1));
		if (!PQgetisnull(res, i, 2))
			log_warnx("agent: session %s of %s kept, its desktop %s "
			    "lost (session-desktop-lost event)",
			    PQgetvalue(res, i, 2), PQgetvalue(res, i, 3),
			    PQgetvalue(res, i, 0));
	}
}

static void
unknown_written(struct ahost *h, PGresult *res, const char *err)
{
	int	 i;

	if (err != NULL) {
		log_warnx("agent: %s: unknown VMs not recorded: %s", h->name,
		    err);
		return;
	}
	for (i = 0; i < PQntuples(res); i++)
		log_warnx("agent: %s has %s, which the database does not know "
		    "(vm-unknown event)", h->name, PQgetvalue(res, i, 0));
}

/*
 * The host has reported every VM it has.  The statements queue behind
 * the states' (db/db.h: in order), so they see them written.
 */
static void
on_resynced(struct ahost *h, uint32_t n)
{
	const char *p[4];

	if (!h->resyncing) {
		log_warnx("agent: %s: resynced, but no resync was under way "
		    "(ignored)", h->name);
		return;
	}
	if (n != h->seen_n) {
		/* Something was lost: missing VMs are not to be trusted. */
		log_warnx("agent: %s: resynced %" PRIu32 " VMs, but %" PRIu32
		    " were heard of: not reconciled", h->name, n, h->seen_n);
		resync_forget(h);
		return;
	}
	log_info("agent: %s: resynced, %" PRIu32 " VM(s)", h->name, n);
	p[0] = h->name;
	p[1] = h->seen != NULL ? h->seen : "";
	p[2] = h->since;
	p[3] = h->tag;
	query(h, gone_written, sql_agent_gone, 4, p);
	p[2] = h->tag;
	query(h, unknown_written, sql_agent_unknown, 3, p);
	resync_forget(h);
}

static void
on_result(struct ahost *h, const struct agent_result *r)
{
	struct op *o;

	TAILQ_FOREACH(o, &h->ops, entry)
		if (o->id == r->id) {
			op_end(o, r);
			return;
		}
	log_info("agent: %s: result of an op not awaited (%" PRId64 ")",
	    h->name, r->id);
}

static void
srv_connected(struct agent_conn *c, const char *identity, void *arg)
{
	struct ahost *h;
	const char *a = agent_conn_addr(c), *e;
	size_t	 n;

	(void)arg;
	if ((h = calloc(1, sizeof(*h))) == NULL) {
		log_warn("%s", __func__);
		agent_conn_close(c, "out of memory");
		return;
	}
	h->conn = c;
	snprintf(h->name, sizeof(h->name), "%s", identity);
	/* "address:port" or "[v6]:port": the row wants the address. */
	if (a[0] == '[' && (e = strchr(a, ']')) != NULL)
		n = (size_t)(e - a - 1), a++;
	else if ((e = strrchr(a, ':')) != NULL)
		n = (size_t)(e - a);
	else
		n = strlen(a);
	snprintf(h->addr, sizeof(h->addr), "%.*s", (int)n, a);
	snprintf(h->tag, sizeof(h->tag), "%ld-%ld-%lu", agent_state.started,
	    (long)getpid(), ++agent_state.serial);
	h->state = AH_HELLO;
	TAILQ_INIT(&h->ops);
	TAILQ_INSERT_TAIL(&agent_state.hosts, h, entry);
}

static void
srv_message(struct agent_conn *c, const struct agent_msg *m, void *arg)
{
	struct ahost *h, *n;
	struct agent_msg pong;

	(void)arg;
	if ((h = find_conn(c)) == NULL || h->state == AH_REFUSED)
		return;
	if (m->type == AGENT_M_PING) {
		memset(&pong, 0, sizeof(pong));
		pong.type = AGENT_M_PONG;
		pong.u.seq = m->u.seq;
		agent_conn_send(c, &pong);
		return;
	}
	if (m->type == AGENT_M_PONG) {
		if ((n = h->rival) != NULL && n->state == AH_CONTESTING &&
		    m->u.seq == n->probe_seq) {
			contest_end(n);
			contest_lost(n, h);
		}
		return;
	}
	if (h->state == AH_CONTESTING) {
		/* Not welcomed: it speaks for the host only once it is. */
		log_warnx("agent: %s (%s): %s before welcome", h->name, h->addr,
		    agent_msg_names[m->type]);
		agent_conn_close(c, "message before welcome");
		return;
	}
	if (h->state == AH_HELLO) {
		if (m->type != AGENT_M_HELLO) {
			log_warnx("agent: %s: %s before hello", h->name,
			    agent_msg_names[m->type]);
			agent_conn_close(c, "hello expected");
			return;
		}
		on_hello(h, &m->u.hello);
		return;
	}
	switch (m->type) {
	case AGENT_M_SAMPLE:
		on_sample(h, &m->u.sample);
		break;
	case AGENT_M_STATE:
		on_state(h, &m->u.state);
		break;
	case AGENT_M_RESULT:
		on_result(h, &m->u.result);
		break;
	case AGENT_M_RESYNCED:
		on_resynced(h, m->u.resynced);
		break;
	default:
		log_warnx("agent: %s: unexpected %s", h->name,
		    agent_msg_names[m->type]);
		agent_conn_close(c, "unexpected message");
		break;
	}
}

static void
srv_closed(struct agent_conn *c, const char *why, void *arg)
{
	struct ahost *h, *other, *n;
	struct op *o;
	const char *p[3];
	bool	 again = false;

	(void)arg;
	if ((h = find_conn(c)) == NULL)
		return;
	h->conn = NULL;
	resync_forget(h);
	if (h->state == AH_CONTESTING)
		contest_end(h);		/* the newcomer gave up */
	else if ((n = h->rival) != NULL) {
		/* The live one ended while a newcomer waited: it takes over. */
		contest_end(n);
		if (agent_state.srv != NULL)
			host_register(n);
	}
	if (h->probe != NULL) {
		event_free(h->probe);
		h->probe = NULL;
	}
	while ((o = TAILQ_FIRST(&h->ops)) != NULL)
		op_fail(o, agent_state.srv == NULL ? "stopped" : "disconnected",
		    why != NULL ? why : "connection closed");
	/* Down, unless the host is back on another connection already. */
	TAILQ_FOREACH(other, &agent_state.hosts, entry)
		if (other != h && other->conn != NULL &&
		    (other->state == AH_REGISTERING || other->state == AH_UP) &&
		    strcmp(other->name, h->name) == 0)
			again = true;
	if ((h->state == AH_UP || h->state == AH_REGISTERING) && !again) {
		p[0] = h->name;
		p[1] = h->tag;
		p[2] = why != NULL ? why : "connection closed";
		query(h, NULL, sql_agent_down, 3, p);
		ctrl_cluster_gone(h->name);
	}
	ahost_put(h);
}

static const struct agent_tls_cbs srv_cbs = {
	srv_connected, srv_message, srv_closed, NULL,
};

static void
swept(PGresult *res, const char *err, void *arg)
{
	(void)arg;
	if (err != NULL)
		log_warnx("agent: sweep of silent hosts: %s", err);
	else if (strcmp(PQcmdTuples(res), "0") != 0)
		log_warnx("agent: %s host(s) not heard from in %u s marked down",
		    PQcmdTuples(res), agent_state.grace_s);
}

static void
sweep(evutil_socket_t fd, short what, void *arg)
{
	struct timeval tv = {
	    agent_state.grace_s >= 3 ? agent_state.grace_s / 3 : 1, 0 };
	const char *p[2];
	char	 grace[16], *names;

	(void)fd;
	(void)what;
	(void)arg;
	evtimer_add(agent_state.sweep, &tv);
	if ((names = ctrl_hosts_connected_array()) == NULL)
		return;
	snprintf(grace, sizeof(grace), "%u", agent_state.grace_s);
	p[0] = grace;
	p[1] = names;
	if (agent_state.db != NULL &&
	    db_query(agent_state.db, DB_IDEMPOTENT, swept, NULL,
	    sql_agent_sweep, 2, p) == -1)
		log_warnx("agent: cannot queue the sweep of silent hosts");
	free(names);
}

/* API. */

void
ctrl_agent_on_vm_reported(void (*fn)(const char *vm))
{
	vm_reported_hook = fn;
}

void
ctrl_agent_on_vm_state(void (*fn)(const char *vm, enum vm_state from,
    enum vm_state to))
{
	vm_state_hook = fn;
}

int
ctrl_agent_start(struct event_base *base, struct db *db,
    const struct ctrl_conf *conf)
{
	struct agent_tls_conf tls;
	struct timeval tv = { conf->host_timeout, 0 }, now;

	if (agent_state.srv != NULL)
		return 0;
	if (agent_state.hosts.tqh_last == NULL)
		TAILQ_INIT(&agent_state.hosts);
	agent_state.base = base;
	agent_state.db = db;
	agent_state.sample_s = conf->sample_interval;
	agent_state.op_timeout_s = conf->op_timeout;
	agent_state.grace_s = conf->host_timeout;
	gettimeofday(&now, NULL);
	agent_state.started = (long)now.tv_sec;
	/*
	 * Ids above any a controller started earlier could have reached
	 * (1024 a millisecond), so that an agent answering an op of the
	 * previous controller is not taken for answering one of ours.
	 */
	if (agent_state.next_id == 0)
		agent_state.next_id = ((int64_t)now.tv_sec * 1000 +
		    now.tv_usec / 1000) * 1024;
	memset(&tls, 0, sizeof(tls));
	tls.ca_file = conf->ca_file;
	tls.cert_file = conf->cert_file;
	tls.key_file = conf->key_file;
	agent_state.srv = agent_server_new(base, &tls, conf->agent_addr,
	    conf->agent_port,
	    &srv_cbs, NULL);
	if (agent_state.srv == NULL) {
		agent_state.db = NULL;
		return -1;
	}
	if ((agent_state.sweep = evtimer_new(base, sweep, NULL)) == NULL) {
		agent_server_free(agent_state.srv);
		agent_state.srv = NULL;
		agent_state.db = NULL;
		return -1;
	}
	/* The first sweep after the grace: agents of the last controller
	 * have had the time to find this one. */
	evtimer_add(agent_state.sweep, &tv);
	log_info("agents: listening on %s port %u", conf->agent_addr,
	    (unsigned)agent_server_port(agent_state.srv));
	return 0;
}

void
ctrl_agent_stop(const char *why)
{
	struct agent_server *srv = agent_state.srv;

	if (srv == NULL)
		return;
	log_info("agents: closing the listener: %s", why);
	agent_state.srv = NULL;
	agent_state.db = NULL;	/* nothing more is written */
	event_free(agent_state.sweep);
	agent_state.sweep = NULL;
	agent_server_free(srv);
}

void
ctrl_agent_reconf(const struct ctrl_conf *conf)
{
	struct agent_msg m;
	struct ahost *h;
	bool	 resample = conf->sample_interval != agent_state.sample_s;

	if (agent_state.srv == NULL)
		return;
	agent_state.sample_s = conf->sample_interval;
	agent_state.op_timeout_s = conf->op_timeout;
	agent_state.grace_s = conf->host_timeout;
	if (!resample)
		return;
	TAILQ_FOREACH(h, &agent_state.hosts, entry) {
		if (h->conn == NULL || h->state != AH_UP)
			continue;
		/* The registration's time still bounds what it may take. */
		resync_forget(h);
		h->resyncing = true;
		memset(&m, 0, sizeof(m));
		m.type = AGENT_M_WELCOME;
		m.u.welcome.v = AGENT_PROTO_VERSION;
		snprintf(m.u.welcome.host, sizeof(m.u.welcome.host), "%s",
		    h->name);
		m.u.welcome.sample_s = agent_state.sample_s;
		agent_conn_send(h->conn, &m);
	}
	log_info("agents: a sample every %u s, asked of the connected hosts",
	    agent_state.sample_s);
}

int
ctrl_agent_running(void)
{
	return agent_state.srv != NULL;
}

uint16_t
ctrl_agent_port(void)
{
	return agent_state.srv != NULL ? agent_server_port(agent_state.srv) : 0;
}

size_t
ctrl_agent_hosts(void)
{
	struct ahost *h;
	size_t	 n = 0;

	if (agent_state.srv == NULL)
		return 0;
	TAILQ_FOREACH(h, &agent_state.hosts, entry)
		if (h->conn != NULL && h->state == AH_UP)
			n++;
	return n;
}

int
ctrl_host_connected(const char *host)
{
	return agent_state.srv != NULL && find_up(host) != NULL;
}

char *
ctrl_hosts_connected_array(void)
{
	struct ahost *h;
	const char *c;
	char	*a;
	size_t	 n = 3, len = 0;

	if (agent_state.srv != NULL)
		TAILQ_FOREACH(h, &agent_state.hosts, entry)
			if (h->conn != NULL && h->state == AH_UP)
				n += 2 * strlen(h->name) + 3;
	if ((a = malloc(n)) == NULL)
		return NULL;
	a[len++] = '{';
	if (agent_state.srv != NULL)
		TAILQ_FOREACH(h, &agent_state.hosts, entry) {
			if (h->conn == NULL || h->state != AH_UP)
				continue;
			if (len > 1)
				a[len++] = ',';
			/* Quoted, so that no name is read as NULL or split. */
			a[len++] = '"';
			for (c = h->name; *c != '\0'; c++) {
				if (*c == '"' || *c == '\\')
					a[len++] = '\\';
				a[len++] = *c;
			}
			a[len++] = '"';
		}
	a[len++] = '}';
	a[len] = '\0';
	return a;
}

static void
forgot(const char *host, const struct agent_result *res, void *arg)
{
	char	*vm = arg;

	if (res->ok)
		log_info("agent: %s forgot its record of %s, which lives on "
		    "another host", host, vm);
	else
		log_warnx("agent: %s keeps its record of %s: %s %s", host, vm,
		    res->code, res->message);
	free(vm);
}

void
ctrl_host_forget(const char *host, const char *vm)
{
	struct agent_op op;
	char	*name;

	if (!ctrl_host_connected(host))
		return;
	memset(&op, 0, sizeof(op));
	op.action = AGENT_A_FORGET;
	snprintf(op.vm, sizeof(op.vm), "%s", vm);
	if ((name = strdup(vm)) == NULL) {
		log_warn("%s", __func__);
		return;
	}
	if (ctrl_host_op(host, &op, 0, forgot, name) == -1)
		free(name);
}

const struct agent_sample *
ctrl_host_figures(const char *host)
{
	struct ahost *h;

	if (agent_state.srv == NULL || (h = find_up(host)) == NULL ||
	    !h->have_figures)
		return NULL;
	return &h->figures;
}

int64_t
ctrl_host_op(const char *host, const struct agent_op *op, unsigned timeout_s,
    ctrl_op_cb cb, void *arg)
{
	struct timeval tv;
	struct agent_msg m;
	struct ahost *h;
	struct op *o;

	if (agent_state.srv == NULL || (h = find_up(host)) == NULL) {
		log_warnx("agent: op %s on %s: host not connected",
		    agent_action_names[op->action], host);
		return -1;
	}
	if ((o = calloc(1, sizeof(*o))) == NULL ||
	    (o->timer = evtimer_new(agent_state.base, op_timeout, o)) == NULL) {
		log_warn("%s", __func__);
		free(o);
		return -1;
	}
	if (agent_state.next_id >= AGENT_ID_MAX)
		agent_state.next_id = 1;
	o->id = agent_state.next_id++;
	o->h = h;
	o->cb = cb;
	o->arg = arg;
	memset(&m, 0, sizeof(m));
	m.type = AGENT_M_OP;
	m.u.op = *op;
	m.u.op.id = o->id;
	if (agent_conn_send(h->conn, &m) == -1) {
		event_free(o->timer);
		free(o);
		return -1;
	}
	TAILQ_INSERT_TAIL(&h->ops, o, entry);
	tv.tv_sec = timeout_s != 0 ? timeout_s : agent_state.op_timeout_s;
	tv.tv_usec = 0;
	evtimer_add(o->timer, &tv);
	log_debug("agent: %s: op %" PRId64 " %s %s", host, o->id,
	    agent_action_names[op->action], op->vm);
	return o->id;
}

int
ctrl_agent_action_event(enum agent_action action)
{
	switch (action) {
	case AGENT_A_START:
		return VM_EV_START;
	case AGENT_A_PAUSE:
		return VM_EV_PAUSE;
	case AGENT_A_UNPAUSE:
		return VM_EV_UNPAUSE;
	case AGENT_A_SAVE:
		return VM_EV_SAVE;
	case AGENT_A_RESTORE:
		return VM_EV_RESTORE;
	case AGENT_A_RESET:
		return VM_EV_RESET;
	case AGENT_A_SHUTDOWN:
		return VM_EV_SHUTDOWN;
	case AGENT_A_DESTROY:
		return VM_EV_DESTROY;
	default:
		return -1;
	}
}

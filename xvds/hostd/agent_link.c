/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * hostd/agent_link.c — xvdsd's side of the agent channel (xvds-agent(7)): one
 * mutual-TLS client to the controller (agent/tls.c reconnects it), over
 * which this host says hello, then, once welcomed, every VM's state and
 * "resynced" (so that the controller reconciles its records with what
 * really runs), a sample every sample_s seconds and a state at every
 * change; and carries
 * out the controller's ops through the calls the control socket uses
 * (hostd/xvdsd.h), answering each with a result.
 *
 * The agent only reports truthfully and obeys: whether a VM is started,
 * and where, is the controller's decision, so a reconnect never starts
 * anything by itself.
 */
#include <config.h>

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <event2/event.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "hostd/agent_link.h"
#include "agent/msg.h"
#include "agent/tls.h"
#include "common/conf.h"
#include "common/log.h"
#include "hostd/xvdsd.h"

/* What the link keeps of the configuration, which a reload frees. */
struct link_conf {
	bool		 on;
	char		 host_name[TEMPLATE_NAME_MAX + 1];
	char		 address[CONF_ADDR_MAX + 1];
	uint16_t	 port;
	char		 server_name[CONF_SERVER_NAME_MAX + 1];
	char		 ca_file[VMSPEC_PATH_MAX + 1];
	char		 cert_file[VMSPEC_PATH_MAX + 1];
	char		 key_file[VMSPEC_PATH_MAX + 1];
};

/* An op handed to hostd/vm.c, until its reply. */
struct pending_op {
	int64_t		 id;
	unsigned	 epoch;		/* of the connection it came on */
	enum agent_action action;
	char		 vm[AGENT_VM_MAX + 1];
};

static struct {
	struct event_base *base;
	struct link_conf conf;
	struct agent_client *client;
	struct agent_conn *conn;	/* connected, or NULL */
	bool		 welcomed;
	unsigned	 epoch;		/* bumped at every connect and close */
	struct event	*sample_timer;
	bool		 warned_vms_max;
} agent_link_state;

static void	 on_connected(struct agent_conn *, const char *, void *);
static void	 on_message(struct agent_conn *, const struct agent_msg *, void *);
static void	 on_closed(struct agent_conn *, const char *, void *);

static const struct agent_tls_cbs link_cbs = {
	on_connected, on_message, on_closed, NULL
};

static void
link_conf_from(struct link_conf *lc, const struct conf_settings *s)
{
	memset(lc, 0, sizeof(*lc));
	lc->on = s->controller;
	if (!lc->on)
		return;
	snprintf(lc->host_name, sizeof(lc->host_name), "%s", s->host_name);
	snprintf(lc->address, sizeof(lc->address), "%s", s->controller_address);
	lc->port = s->controller_port;
	snprintf(lc->server_name, sizeof(lc->server_name), "%s",
	    s->controller_server_name[0] != '\0' ? s->controller_server_name :
	    s->controller_address);
	snprintf(lc->ca_file, sizeof(lc->ca_file), "%s", s->controller_ca_file);
	snprintf(lc->cert_file, sizeof(lc->cert_file), "%s",
	    s->controller_cert_file);
	snprintf(lc->key_file, sizeof(lc->key_file), "%s", s->controller_key_file);
}

/*
 * The controller knows a host by its certificate's CN and refuses a hello
 * naming another: say so now, rather than at every connection.
 */
static int
check_cn(const struct link_conf *lc)
{
	X509	*x = NULL;
	FILE	*f;
	char	 cn[256];
	int	 n, rc = -1;

	if ((f = fopen(lc->cert_file, "r")) == NULL) {
		log_warn("controller: cert-file %s", lc->cert_file);
		return -1;
	}
	x = PEM_read_X509(f, NULL, NULL, NULL);
	fclose(f);
	if (x == NULL) {
		log_warnx("controller: cert-file %s: no PEM certificate",
		    lc->cert_file);
		goto out;
	}
	n = X509_NAME_get_text_by_NID(X509_get_subject_name(x), NID_commonName,
	    cn, sizeof(cn));
	if (n <= 0 || (size_t)n >= sizeof(cn)) {
		log_warnx("controller: cert-file %s: no usable common name (CN)",
		    lc->cert_file);
		goto out;
	}
	if (strcmp(cn, lc->host_name) != 0) {
		log_warnx("controller: cert-file %s is for \"%s\", but host-name "
		    "is \"%s\": the controller would refuse this host",
		    lc->cert_file, cn, lc->host_name);
		goto out;
	}
	rc = 0;
 out:
	X509_free(x);
	return rc;
}

static struct agent_client *
client_new(const struct link_conf *lc)
{
	struct agent_tls_conf tc;
	struct agent_client *c;

	if (check_cn(lc) == -1)
		return NULL;
	memset(&tc, 0, sizeof(tc));
	tc.ca_file = lc->ca_file;
	tc.cert_file = lc->cert_file;
	tc.key_file = lc->key_file;
	tc.server_name = lc->server_name;
	if ((c = agent_client_new(agent_link_state.base, &tc, lc->address,
	    lc->port, &link_cbs, NULL)) == NULL)
		log_warnx("controller: cannot use the certificate files");
	else
		log_info("controller: connecting to %s port %u as %s",
		    lc->address, (unsigned)lc->port, lc->host_name);
	return c;
}

static void
stop_samples(void)
{
	if (agent_link_state.sample_timer != NULL) {
		event_free(agent_link_state.sample_timer);
		agent_link_state.sample_timer = NULL;
	}
}

static void
link_send(const struct agent_msg *m)
{
	if (agent_link_state.conn == NULL)
		return;
	if (agent_conn_send(agent_link_state.conn, m) == -1)
		log_debug("controller: %s not sent", agent_msg_names[m->type]);
}

/*
 * Messages out.
 */

static void
send_hello(void)
{
	struct agent_msg m;
	struct host_view hv;

	memset(&m, 0, sizeof(m));
	host_view(&hv);
	m.type = AGENT_M_HELLO;
	m.u.hello.v = AGENT_PROTO_VERSION;
	snprintf(m.u.hello.host, sizeof(m.u.hello.host), "%s",
	    agent_link_state.conf.host_name);
	m.u.hello.cpus = hv.tcpu / 100 > 0 ? hv.tcpu / 100 : 1;
	m.u.hello.memory_mib = hv.tmem_mib > 0 ? hv.tmem_mib : 1;
	snprintf(m.u.hello.hypervisor, sizeof(m.u.hello.hypervisor), "%s",
	    hv.hypervisor[0] != '\0' ? hv.hypervisor : "unknown");
	link_send(&m);
}

static void
state_of(const struct vm_view *v, struct agent_msg *m)
{
	memset(m, 0, sizeof(*m));
	m->type = AGENT_M_STATE;
	snprintf(m->u.state.vm, sizeof(m->u.state.vm), "%s", v->name);
	m->u.state.state = v->state;
	m->u.state.domid = v->domid == XVDSD_NODOMAIN ? AGENT_NODOMAIN : v->domid;
	snprintf(m->u.state.boot_id, sizeof(m->u.state.boot_id), "%s",
	    v->boot_id);
	snprintf(m->u.state.addr, sizeof(m->u.state.addr), "%s", v->addr);
	snprintf(m->u.state.rdp_sha256, sizeof(m->u.state.rdp_sha256), "%s",
	    v->rdp_sha256);
}

/* Every VM as it is now, or the VMs' figures: a snapshot of vm_list(). */
static struct vm_view *
list_vms(size_t *n_r)
{
	struct vm_view *views;
	size_t	 n, m;

	n = vm_list(NULL, 0);
	if ((views = calloc(n > 0 ? n : 1, sizeof(*views))) == NULL) {
		log_warn("%s", __func__);
		return NULL;
	}
	m = vm_list(views, n);	/* the same loop turn: the same VMs */
	*n_r = m < n ? m : n;
	return views;
}

/*
 * Every VM's state, then "resynced" with their count: the controller
 * takes a VM this host had and did not name as one it no longer has.  So
 * the marker is sent only after the whole list (and not at all if the
 * list could not be made): a short list would lose VMs.  All in one loop
 * turn, so that no change and no op comes between.
 */
static void
send_all_states(void)
{
	struct vm_view *views;
	struct agent_msg m;
	size_t	 n, i;

	if ((views = list_vms(&n)) == NULL)
		return;
	for (i = 0; i < n; i++) {
		state_of(&views[i], &m);
		link_send(&m);
	}
	free(views);
	log_info("controller: sent the state of %zu VMs", n);
	if (n > AGENT_RESYNC_MAX) {
		log_warnx("controller: more VMs than a resync may count (%d): "
		    "the controller will not reconcile this host",
		    AGENT_RESYNC_MAX);
		return;
	}
	memset(&m, 0, sizeof(m));
	m.type = AGENT_M_RESYNCED;
	m.u.resynced = (uint32_t)n;
	link_send(&m);
}

static void
send_sample(evutil_socket_t fd, short what, void *arg)
{
	struct vm_view *views;
	struct agent_msg m;
	struct host_view hv;
	size_t	 n, i;

	(void)fd;
	(void)what;
	(void)arg;
	if (agent_link_state.conn == NULL || (views = list_vms(&n)) == NULL)
		return;
	memset(&m, 0, sizeof(m));
	host_view(&hv);
	m.type = AGENT_M_SAMPLE;
	m.u.sample.time = (int64_t)time(NULL);
	m.u.sample.rvm = hv.rvm;
	m.u.sample.tcpu = hv.tcpu;
	m.u.sample.fcpu = hv.fcpu < hv.tcpu ? hv.fcpu : hv.tcpu;
	m.u.sample.acpu = hv.acpu;
	m.u.sample.tmem_mib = hv.tmem_mib;
	m.u.sample.fmem_mib = hv.fmem_mib < hv.tmem_mib ? hv.fmem_mib :
	    hv.tmem_mib;
	/* The VMs with a domain: those that load the host. */
	if ((m.u.sample.vms = calloc(AGENT_SAMPLE_VMS_MAX,
	    sizeof(*m.u.sample.vms))) == NULL) {
		log_warn("%s", __func__);
		free(views);
		return;
	}
	for (i = 0; i < n; i++) {
		struct agent_vm_sample *vs;

		if (views[i].domid == XVDSD_NODOMAIN)
			continue;
		if (m.u.sample.nvms == AGENT_SAMPLE_VMS_MAX) {
			if (!agent_link_state.warned_vms_max)
				log_warnx("controller: more than %d VMs with a "
				    "domain: samples name the first %d only",
				    AGENT_SAMPLE_VMS_MAX, AGENT_SAMPLE_VMS_MAX);
			agent_link_state.warned_vms_max = true;
			break;
		}
		vs = &m.u.sample.vms[m.u.sample.nvms++];
		snprintf(vs->vm, sizeof(vs->vm), "%s", views[i].name);
		vs->cpu_pct = views[i].cpu_pct >= 0 ? views[i].cpu_pct : 0;
		vs->memory_mib = views[i].memory_mib;
	}
	free(views);
	link_send(&m);
	agent_msg_clear(&m);
}

void
agent_link_vm_changed(const char *name, void *arg)
{
	struct vm_view v;
	struct agent_msg m;

	(void)arg;
	/* Before the welcome, the resync that follows it covers this. */
	if (agent_link_state.conn == NULL || !agent_link_state.welcomed ||
	    vm_get(name, &v) != XVDS_OK)
		return;
	state_of(&v, &m);
	link_send(&m);
}

/*
 * Ops in, results out.
 */

static void
send_result(int64_t id, enum xvds_err err, const char *msg)
{
	struct agent_msg m;
	size_t	 i;

	memset(&m, 0, sizeof(m));
	m.type = AGENT_M_RESULT;
	m.u.result.id = id;
	m.u.result.ok = err == XVDS_OK;
	if (err != XVDS_OK) {
		snprintf(m.u.result.code, sizeof(m.u.result.code), "%s",
		    err < XVDS_E__COUNT ? xvds_err_names[err] : "internal");
		snprintf(m.u.result.message, sizeof(m.u.result.message), "%s",
		    msg != NULL && msg[0] != '\0' ? msg : m.u.result.code);
		/* The protocol takes no control characters. */
		for (i = 0; m.u.result.message[i] != '\0'; i++)
			if ((unsigned char)m.u.result.message[i] < ' ' ||
			    m.u.result.message[i] == 0x7f)
				m.u.result.message[i] = ' ';
	}
	link_send(&m);
}

static void
op_done(void *arg, enum xvds_err err, const char *msg)
{
	struct pending_op *p = arg;

	log_info("controller: op %lld %s %s: %s%s%s", (long long)p->id,
	    agent_action_names[p->action], p->vm, xvds_err_names[err],
	    msg != NULL && msg[0] != '\0' ? ": " : "", msg != NULL ? msg : "");
	/*
	 * Only on the connection the op came on: a controller that came back
	 * may have reused the id; it learns the outcome from the states.
	 */
	if (agent_link_state.conn != NULL && p->epoch == agent_link_state.epoch)
		send_result(p->id, err, msg);
	free(p);
}

/* Request events of the actions that are plain lifecycle requests. */
static const int action_events[AGENT_A__COUNT] = {
	[AGENT_A_START] = VM_EV_START,
	[AGENT_A_PAUSE] = VM_EV_PAUSE,
	[AGENT_A_UNPAUSE] = VM_EV_UNPAUSE,
	[AGENT_A_SAVE] = VM_EV_SAVE,
	[AGENT_A_RESTORE] = VM_EV_RESTORE,
	[AGENT_A_RESET] = VM_EV_RESET,
	[AGENT_A_SHUTDOWN] = VM_EV_SHUTDOWN,
	[AGENT_A_DESTROY] = VM_EV_DESTROY,
	[AGENT_A_MIGRATE] = -1,
	[AGENT_A_SET] = -1,
	[AGENT_A_DEFINE] = -1,
	[AGENT_A_CREDENTIAL] = -1,
	[AGENT_A_FORGET] = -1,
};

static void
do_op(const struct agent_op *op)
{
	struct pending_op *p;
	enum xvds_err err;
	char	 msg[AGENT_TEXT_MAX + 1] = "";

	log_info("controller: op %lld: %s %s", (long long)op->id,
	    agent_action_names[op->action], op->vm);
	if (op->action == AGENT_A_DEFINE) {
		err = vm_define(op->vm, op->template, op->kind, msg, sizeof(msg));
		send_result(op->id, err, msg);
		return;
	}
	if (op->action == AGENT_A_FORGET) {
		err = vm_forget(op->vm, msg, sizeof(msg));
		send_result(op->id, err, msg);
		return;
	}
	if ((p = calloc(1, sizeof(*p))) == NULL) {
		log_warn("%s", __func__);
		send_result(op->id, XVDS_E_INTERNAL, "out of memory");
		return;
	}
	p->id = op->id;
	p->epoch = agent_link_state.epoch;
	p->action = op->action;
	snprintf(p->vm, sizeof(p->vm), "%s", op->vm);
	switch (op->action) {
	case AGENT_A_MIGRATE:
		err = vm_migrate(op->vm, op->host, op->live, op_done, p, msg,
		    sizeof(msg));
		break;
	case AGENT_A_CREDENTIAL:
		/* The op's password is wiped with the message (agent/tls.c). */
		err = vm_credential(op->vm, op->user, op->password, op_done, p,
		    msg, sizeof(msg));
		break;
	case AGENT_A_SET:
		if (op->vcpus == 0 && op->memory_mib == 0) {
			err = XVDS_E_INVAL;
			snprintf(msg, sizeof(msg), "set: nothing to change");
			break;
		}
		err = vm_set_resources(op->vm, op->vcpus, op->memory_mib, op_done,
		    p, msg, sizeof(msg));
		break;
	default:
		err = vm_request(op->vm, (enum vm_event)action_events[op->action],
		    op_done, p, msg, sizeof(msg));
		break;
	}
	if (err != XVDS_OK) {
		/* Refused at once: hostd/vm.c never calls op_done. */
		log_info("controller: op %lld refused: %s: %s", (long long)op->id,
		    xvds_err_names[err], msg);
		send_result(op->id, err, msg);
		free(p);
	}
}

/*
 * The connection.
 */

static void
on_connected(struct agent_conn *c, const char *identity, void *arg)
{
	(void)arg;
	agent_link_state.conn = c;
	agent_link_state.welcomed = false;
	agent_link_state.epoch++;
	log_info("controller: connected to %s (%s)", identity,
	    agent_conn_addr(c));
	send_hello();
}

static void
on_welcome(const struct agent_welcome *w)
{
	struct timeval tv = { (time_t)w->sample_s, 0 };

	if (strcmp(w->host, agent_link_state.conf.host_name) != 0)
		log_warnx("controller: knows this host as \"%s\", host-name is "
		    "\"%s\"", w->host, agent_link_state.conf.host_name);
	log_info("controller: welcomed; a sample every %us", w->sample_s);
	agent_link_state.welcomed = true;
	send_all_states();
	stop_samples();
	if ((agent_link_state.sample_timer = event_new(agent_link_state.base,
	    -1, EV_PERSIST, send_sample, NULL)) == NULL ||
	    evtimer_add(agent_link_state.sample_timer, &tv) == -1) {
		log_warnx("controller: cannot arm the sample timer");
		stop_samples();
	}
	send_sample(-1, 0, NULL);
}

static void
on_message(struct agent_conn *c, const struct agent_msg *m, void *arg)
{
	struct agent_msg pong;

	(void)arg;
	switch (m->type) {
	case AGENT_M_WELCOME:
		on_welcome(&m->u.welcome);
		break;
	case AGENT_M_OP:
		if (!agent_link_state.welcomed) {
			agent_conn_close(c, "op before welcome");
			break;
		}
		do_op(&m->u.op);
		break;
	case AGENT_M_PING:
		memset(&pong, 0, sizeof(pong));
		pong.type = AGENT_M_PONG;
		pong.u.seq = m->u.seq;
		link_send(&pong);
		break;
	case AGENT_M_PONG:
		break;
	case AGENT_M_RESULT:
		if (m->u.result.id == 0 && !m->u.result.ok) {
			/* The controller refuses us and closes. */
			log_warnx("controller: refused this host: %s: %s",
			    m->u.result.code, m->u.result.message);
			break;
		}
		/* FALLTHROUGH */
	default:
		log_warnx("controller: unexpected %s message: closing",
		    agent_msg_names[m->type]);
		agent_conn_close(c, "unexpected message");
		break;
	}
}

static void
on_closed(struct agent_conn *c, const char *why, void *arg)
{
	(void)c;
	(void)arg;
	/* agent_link_shutdown() clears client first: no reconnect then. */
	if (agent_link_state.client != NULL)
		log_warnx("controller: connection closed (%s); reconnecting", why);
	else
		log_info("controller: connection closed (%s)", why);
	agent_link_state.conn = NULL;
	agent_link_state.welcomed = false;
	agent_link_state.epoch++;
	stop_samples();
}

/*
 * Life.
 */

int
agent_link_init(struct event_base *base, const struct conf_settings *s)
{
	agent_link_state.base = base;
	link_conf_from(&agent_link_state.conf, s);
	if (!agent_link_state.conf.on) {
		log_info("no controller configured: running alone");
		return 0;
	}
	if ((agent_link_state.client = client_new(&agent_link_state.conf)) == NULL)
		return -1;
	return 0;
}

int
agent_link_reload(const struct conf_settings *s)
{
	struct link_conf next;
	struct agent_client *c = NULL;

	link_conf_from(&next, s);
	if (memcmp(&next, &agent_link_state.conf, sizeof(next)) == 0)
		return 0;
	if (next.on && (c = client_new(&next)) == NULL)
		return -1;
	/* The old connection's on_closed runs now; then the new one's turn. */
	agent_link_shutdown();
	agent_link_state.conf = next;
	agent_link_state.client = c;
	if (!next.on)
		log_info("controller: no longer configured: running alone");
	return 0;
}

void
agent_link_shutdown(void)
{
	struct agent_client *c = agent_link_state.client;

	agent_link_state.client = NULL;
	if (c != NULL)
		agent_client_free(c);
	agent_link_state.conn = NULL;
	agent_link_state.welcomed = false;
	stop_samples();
}

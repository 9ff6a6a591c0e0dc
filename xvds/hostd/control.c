/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * hostd/control.c — xvdsd's local control socket, in the manner of relayd's and
 * bgpd's control.c: requests from root on a unix stream socket, one JSON
 * object per line (xvds-control(7)), handed to hostd/vm.c and hostd/host.c
 * through hostd/xvdsd.h and answered, possibly out of order, when the VM
 * settles.  Everything runs on the daemon's libevent loop.
 */
#include <config.h>

#include <sys/queue.h>
#include <sys/socket.h>

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/bufferevent.h>
#include <event2/event.h>
#include <jansson.h>
#include <sodium.h>

#include "hostd/control.h"
#include "common/credential.h"
#include "common/jsonerr.h"
#include "common/log.h"
#include "hostd/xvdsd.h"
#include "linesrv/cmd.h"
#include "linesrv/linesrv.h"

#define CONTROL_BACKLOG		16
/* Stop reading a client whose unread replies pile up beyond this. */
#define CONTROL_OUTBUF_MAX	(4 * 1024 * 1024)
/* Seconds a closing client has to take its last reply. */
#define CONTROL_LINGER		5
/* Seconds before accept is retried after running out of descriptors. */
#define CONTROL_FD_RETRY	1

const char *const xvds_err_names[] = {
	[XVDS_OK] = "ok",
	[XVDS_E_INVAL] = "invalid",
	[XVDS_E_NOVM] = "no-such-vm",
	[XVDS_E_EXISTS] = "exists",
	[XVDS_E_ILLEGAL] = "illegal-transition",
	[XVDS_E_BUSY] = "busy",
	[XVDS_E_FAILED] = "failed",
	[XVDS_E_NOTSUP] = "not-supported",
	[XVDS_E_INTERNAL] = "internal",
	[XVDS_E_GUEST_FAILED] = "guest-failed",
	[XVDS_E_GUEST_TIMEOUT] = "guest-timeout",
};
_Static_assert(sizeof(xvds_err_names) / sizeof(xvds_err_names[0]) == XVDS_E__COUNT,
    "xvds_err_names must name every enum xvds_err");

struct ctl_conn;

/* A request handed to hostd/vm.c, until its reply callback. */
struct ctl_req {
	TAILQ_ENTRY(ctl_req) entry;
	struct ctl_conn	*conn;		/* NULL once the client has gone */
	json_int_t	 id;
	char		 cmd[32];
	char		 name[64];
};

struct ctl_conn {
	TAILQ_ENTRY(ctl_conn) entry;
	struct linesrv_conn *line;
	TAILQ_HEAD(, ctl_req) reqs;
	unsigned	 npending;
	long		 pid;
	long		 uid;
};

static struct {
	struct event_base *base;
	struct event	*ev_accept;
	struct event	*ev_retry;
	struct linesrv_unix sock;
	int		 accepting;
	int		 starved;	/* out of descriptors: wait for ev_retry */
	int		 stopping;
	unsigned	 nconns;
	TAILQ_HEAD(, ctl_conn) conns;
} control = { .sock = { .fd = -1 } };

/* What a request's members decoded to. */
struct ctl_args {
	const char	*name;
	const char	*template;
	const char	*host;
	const char	*user;		/* vm.credential */
	const char	*password;	/* vm.credential: wiped after the call */
	enum vm_kind	 kind;
	unsigned	 vcpus;
	uint64_t	 memory_mib;
	int		 live;		/* -1 if not given */
};

enum ctl_argtype {
	ARG_NAME,	/* a VM's name */
	ARG_TEMPLATE,
	ARG_HOST,
	ARG_KIND,
	ARG_VCPUS,
	ARG_MIB,
	ARG_BOOL,	/* only "live" so far */
	ARG_USER,	/* a one-time credential's (common/credential.h) */
	ARG_PASSWORD,
};

/* One request being answered: its client, id, command and arguments. */
struct ctl_call {
	struct ctl_conn	*conn;
	json_int_t	 id;
	const char	*cmd;
	struct ctl_args	 args;
	enum vm_event	 ev;		/* vm.<event> */
};

#define CTL_CHANGES	0x01	/* logged: it changes something */

static void	 cmd_host_info(void *);
static void	 cmd_vm_list(void *);
static void	 cmd_vm_show(void *);
static void	 cmd_vm_create(void *);
static void	 cmd_vm_undefine(void *);
static void	 cmd_vm_request(void *);
static void	 cmd_vm_set(void *);
static void	 cmd_vm_migrate(void *);
static void	 cmd_vm_credential(void *);

#define NAME_ARG	{ "name", ARG_NAME, 1, 0, 0 }
static const struct linesrv_cmd ctl_cmds[] = {
	{ "host.info", { { NULL, 0, 0, 0, 0 } }, cmd_host_info, 0,
	  "the host's name, hypervisor and figures" },
	{ "vm.list", { { NULL, 0, 0, 0, 0 } }, cmd_vm_list, 0,
	  "every VM of the host" },
	{ "vm.show", { NAME_ARG }, cmd_vm_show, 0, "one VM" },
	{ "vm.create", { NAME_ARG, { "template", ARG_TEMPLATE, 1, 0, 0 },
	  { "kind", ARG_KIND, 0, 0, 0 } }, cmd_vm_create, CTL_CHANGES,
	  "defines a VM from a template" },
	{ "vm.undefine", { NAME_ARG }, cmd_vm_undefine, CTL_CHANGES,
	  "forgets an inactive VM" },
	{ "vm.set", { NAME_ARG, { "vcpus", ARG_VCPUS, 0, 0, 0 },
	  { "memory_mib", ARG_MIB, 0, 0, 0 } }, cmd_vm_set, CTL_CHANGES,
	  "changes a VM's vCPUs or memory" },
	{ "vm.migrate", { NAME_ARG, { "host", ARG_HOST, 1, 0, 0 },
	  { "live", ARG_BOOL, 0, 0, 0 } }, cmd_vm_migrate, CTL_CHANGES,
	  "sends a VM to another host" },
	{ "vm.credential", { NAME_ARG, { "user", ARG_USER, 1, 0, 0 },
	  { "password", ARG_PASSWORD, 1, 0, 0 } }, cmd_vm_credential,
	  CTL_CHANGES, "hands a one-time RDP credential to a VM's guest" },
};
/* vm.<event>: the requests vm_request() takes, one command each. */
static const struct linesrv_cmd ctl_cmd_request =
	{ "vm.<event>", { NAME_ARG }, cmd_vm_request, CTL_CHANGES,
	  "asks the VM's state machine for an event" };
static const enum vm_event ctl_events[] = {
	VM_EV_START, VM_EV_PAUSE, VM_EV_UNPAUSE, VM_EV_SAVE, VM_EV_RESTORE,
	VM_EV_RESET, VM_EV_SHUTDOWN, VM_EV_DESTROY, VM_EV_SESSION_START,
	VM_EV_SESSION_END,
};

static void	 control_accept(evutil_socket_t, short, void *);
static void	 control_retry(evutil_socket_t, short, void *);
static void	 conn_on_line(void *, const char *, size_t);
static void	 conn_on_too_long(void *);
static void	 conn_on_close(void *, short);
static void	 conn_on_throttled(void *);
static void	 conn_free(struct ctl_conn *);

/* Requests pipelined, replies in any order, the reader stopped while the
 * replies pile up (xvds-control(7)). */
static const struct linesrv_conn_conf control_line_conf = {
	.line_max = CONTROL_LINE_MAX,
	.out_max = CONTROL_OUTBUF_MAX,
	.hold_one_line = 1,
	.wipe = 1,		/* a vm.credential line holds a password */
};
static const struct linesrv_conn_ops control_line_ops = {
	.on_line = conn_on_line,
	.on_too_long = conn_on_too_long,
	.on_close = conn_on_close,
	.on_throttled = conn_on_throttled,
};

/* Pauses accept at the client limit or out of descriptors, as relayd does. */
static void
accept_update(void)
{
	int	 want;

	if (control.stopping)
		return;
	want = !control.starved && control.nconns < CONTROL_CLIENTS_MAX;
	if (want && !control.accepting)
		event_add(control.ev_accept, NULL);
	else if (!want && control.accepting)
		event_del(control.ev_accept);
	control.accepting = want;
}

/* A JSON string of at most max bytes of s; invalid UTF-8 shows as '?'. */
static json_t *
jstr(const char *s, size_t max)
{
	size_t	 len = strnlen(s, max), i;
	json_t	*j;
	char	*copy;

	if ((j = json_stringn(s, len)) != NULL)
		return j;
	if ((copy = malloc(len + 1)) == NULL)
		return json_string("?");
	for (i = 0; i < len; i++)
		copy[i] = (unsigned char)s[i] < 0x80 ? s[i] : '?';
	j = json_stringn(copy, len);
	free(copy);
	return j;
}

static const char *
name_of(const char *const names[], size_t n, unsigned v)
{
	return v < n && names[v] != NULL ? names[v] : "unknown";
}

static json_t *
vm_json(const struct vm_view *v)
{
	json_t	*o = json_object();
	double	 cpu = isfinite(v->cpu_pct) && v->cpu_pct > 0 ? v->cpu_pct : 0.0;

	json_object_set_new(o, "name", jstr(v->name, sizeof(v->name)));
	json_object_set_new(o, "pool", jstr(v->pool, sizeof(v->pool)));
	json_object_set_new(o, "template", jstr(v->template, sizeof(v->template)));
	json_object_set_new(o, "kind", json_string(name_of(vm_kind_names, 2,
	    v->kind)));
	json_object_set_new(o, "state", json_string(name_of(vm_state_names,
	    VM_S__COUNT, v->state)));
	json_object_set_new(o, "since", json_integer((json_int_t)v->since));
	json_object_set_new(o, "domid", v->domid == XVDSD_NODOMAIN ? json_null() :
	    json_integer((json_int_t)v->domid));
	json_object_set_new(o, "vcpus", json_integer((json_int_t)v->vcpus));
	json_object_set_new(o, "max_vcpus", json_integer((json_int_t)v->max_vcpus));
	json_object_set_new(o, "memory_mib", json_integer((json_int_t)v->memory_mib));
	json_object_set_new(o, "max_memory_mib",
	    json_integer((json_int_t)v->max_memory_mib));
	/* Two decimals are more than the sampler knows. */
	if (cpu < 1e12)
		cpu = (double)(long long)(cpu * 100 + 0.5) / 100;
	json_object_set_new(o, "cpu_pct", json_real(cpu));
	json_object_set_new(o, "boot_id", jstr(v->boot_id, sizeof(v->boot_id)));
	json_object_set_new(o, "addr", jstr(v->addr, sizeof(v->addr)));
	json_object_set_new(o, "last_error", jstr(v->last_error,
	    sizeof(v->last_error)));
	json_object_set_new(o, "moved_to", v->moved_to[0] != '\0' ?
	    jstr(v->moved_to, sizeof(v->moved_to)) : json_null());
	return o;
}

static json_t *
host_json(const struct host_view *h)
{
	json_t	*o = json_object();

	json_object_set_new(o, "hostname", jstr(h->hostname, sizeof(h->hostname)));
	json_object_set_new(o, "hypervisor", jstr(h->hypervisor,
	    sizeof(h->hypervisor)));
	json_object_set_new(o, "rvm", json_integer((json_int_t)h->rvm));
	json_object_set_new(o, "tcpu", json_integer((json_int_t)h->tcpu));
	json_object_set_new(o, "fcpu", json_integer((json_int_t)h->fcpu));
	json_object_set_new(o, "acpu", json_integer((json_int_t)h->acpu));
	json_object_set_new(o, "tmem_mib", json_integer((json_int_t)h->tmem_mib));
	json_object_set_new(o, "fmem_mib", json_integer((json_int_t)h->fmem_mib));
	json_object_set_new(o, "amem_mib", json_integer((json_int_t)h->amem_mib));
	return o;
}

/* The reply line, newline included; NULL if out of memory.  Takes result. */
static char *
reply_line(const json_int_t *id, enum xvds_err err, const char *msg,
    json_t *result)
{
	json_t	*o;
	char	*s, *line = NULL;
	size_t	 len;

	if ((o = json_object()) == NULL) {
		json_decref(result);
		return NULL;
	}
	json_object_set_new(o, "v", json_integer(CONTROL_VERSION));
	json_object_set_new(o, "id", id != NULL ? json_integer(*id) : json_null());
	json_object_set_new(o, "ok", json_boolean(err == XVDS_OK));
	if (err == XVDS_OK)
		json_object_set_new(o, "result", result != NULL ? result :
		    json_object());
	else {
		json_decref(result);
		json_object_set_new(o, "error", json_string(name_of(xvds_err_names,
		    XVDS_E__COUNT, err)));
		json_object_set_new(o, "message", jstr(msg, CONTROL_LINE_MAX));
	}
	/* 15 digits: 12.34 stays 12.34, not 12.339999999999999. */
	if ((s = json_dumps(o, JSON_COMPACT | JSON_REAL_PRECISION(15))) != NULL) {
		len = strlen(s);
		if ((line = realloc(s, len + 2)) == NULL)
			free(s);
		else {
			line[len] = '\n';
			line[len + 1] = '\0';
		}
	}
	json_decref(o);
	return line;
}

static void
conn_reply(struct ctl_conn *c, const json_int_t *id, enum xvds_err err,
    const char *msg, json_t *result)
{
	char	*line;

	if ((line = reply_line(id, err, msg, result)) == NULL) {
		log_warnx("control: client pid %ld: out of memory for a reply",
		    c->pid);
		return;
	}
	if (linesrv_conn_send(c->line, line, strlen(line)) == -1)
		log_warnx("control: client pid %ld: cannot queue a reply", c->pid);
	free(line);
}

static void __attribute__((format(printf, 4, 5)))
conn_error(struct ctl_conn *c, const json_int_t *id, enum xvds_err err,
    const char *fmt, ...)
{
	char	 msg[512];
	va_list	 ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	conn_reply(c, id, err, msg, NULL);
}

/* hostd/vm.c may leave msg empty; the operator still deserves a sentence. */
static void
reply_err(struct ctl_conn *c, json_int_t id, enum xvds_err err,
    const char *name, const char *msg)
{
	if (msg != NULL && msg[0] != '\0') {
		conn_reply(c, &id, err, msg, NULL);
		return;
	}
	switch (err) {
	case XVDS_E_NOVM:
		conn_error(c, &id, err, "no VM named %s", name);
		break;
	case XVDS_E_EXISTS:
		conn_error(c, &id, err, "a VM named %s exists", name);
		break;
	case XVDS_E_ILLEGAL:
		conn_error(c, &id, err, "%s cannot do that in its state", name);
		break;
	case XVDS_E_BUSY:
		conn_error(c, &id, err, "%s is busy; try again", name);
		break;
	default:
		conn_error(c, &id, err, "%s: %s", name,
		    name_of(xvds_err_names, XVDS_E__COUNT, err));
		break;
	}
}

/* The VM as it is now, for a reply; an object with its name if gone. */
static json_t *
vm_result(const char *name)
{
	struct vm_view v;
	json_t	*o;

	memset(&v, 0, sizeof(v));
	if (vm_get(name, &v) == XVDS_OK)
		return vm_json(&v);
	o = json_object();
	json_object_set_new(o, "name", json_string(name));
	return o;
}

static void
cmd_host_info(void *arg)
{
	struct ctl_call *call = arg;
	struct ctl_conn *c = call->conn;
	struct host_view h;

	memset(&h, 0, sizeof(h));
	if (host_view(&h) == -1) {
		conn_error(c, &call->id, XVDS_E_INTERNAL,
		    "cannot read the host's figures (see xvdsd's log)");
		return;
	}
	conn_reply(c, &call->id, XVDS_OK, NULL, host_json(&h));
}

static void
cmd_vm_list(void *arg)
{
	struct ctl_call *call = arg;
	struct ctl_conn *c = call->conn;
	struct vm_view one, *views;
	json_t	*arr;
	size_t	 n, m, i;

	n = vm_list(&one, 0);
	if ((views = calloc(n ? n : 1, sizeof(*views))) == NULL) {
		log_warn("%s", __func__);
		conn_error(c, &call->id, XVDS_E_INTERNAL, "out of memory");
		return;
	}
	if ((m = vm_list(views, n)) < n)
		n = m;
	arr = json_array();
	for (i = 0; i < n; i++)
		json_array_append_new(arr, vm_json(&views[i]));
	free(views);
	conn_reply(c, &call->id, XVDS_OK, NULL, arr);
}

static void
cmd_vm_show(void *arg)
{
	struct ctl_call *call = arg;
	struct ctl_conn *c = call->conn;
	struct vm_view v;
	enum xvds_err err;

	memset(&v, 0, sizeof(v));
	if ((err = vm_get(call->args.name, &v)) != XVDS_OK) {
		reply_err(c, call->id, err, call->args.name, NULL);
		return;
	}
	conn_reply(c, &call->id, XVDS_OK, NULL, vm_json(&v));
}

static void
cmd_vm_create(void *arg)
{
	struct ctl_call *call = arg;
	struct ctl_conn *c = call->conn;
	enum xvds_err err;
	char	 msg[256] = "";

	if ((err = vm_define(call->args.name, call->args.template, call->args.kind, msg,
	    sizeof(msg))) != XVDS_OK) {
		reply_err(c, call->id, err, call->args.name, msg);
		return;
	}
	conn_reply(c, &call->id, XVDS_OK, NULL, vm_result(call->args.name));
}

static void
cmd_vm_undefine(void *arg)
{
	struct ctl_call *call = arg;
	struct ctl_conn *c = call->conn;
	enum xvds_err err;
	json_t	*o;
	char	 msg[256] = "";

	if ((err = vm_undefine(call->args.name, msg, sizeof(msg))) != XVDS_OK) {
		reply_err(c, call->id, err, call->args.name, msg);
		return;
	}
	o = json_object();
	json_object_set_new(o, "name", json_string(call->args.name));
	conn_reply(c, &call->id, XVDS_OK, NULL, o);
}

/*
 * hostd/vm.c's answer to a request it accepted.  The client may have gone
 * meanwhile: then the request is an orphan, and only freed.
 */
static void
control_done(void *arg, enum xvds_err err, const char *msg)
{
	struct ctl_req *r = arg;
	struct ctl_conn *c = r->conn;

	if (c == NULL) {
		log_debug("control: %s %s ended (%s) after its client left",
		    r->cmd, r->name, name_of(xvds_err_names, XVDS_E__COUNT, err));
		free(r);
		return;
	}
	TAILQ_REMOVE(&c->reqs, r, entry);
	c->npending--;
	if (err == XVDS_OK)
		conn_reply(c, &r->id, XVDS_OK, NULL, vm_result(r->name));
	else
		reply_err(c, r->id, err, r->name, msg);
	free(r);
}

/*
 * Queues the request before handing it over: hostd/vm.c may answer at once,
 * from within the call.  Returns NULL (replied) if the client has too many.
 */
static struct ctl_req *
req_new(struct ctl_conn *c, json_int_t id, const char *cmd, const char *name)
{
	struct ctl_req *r;

	if (c->npending >= CONTROL_PENDING_MAX) {
		conn_error(c, &id, XVDS_E_BUSY, "%d requests of this connection "
		    "are waiting already", CONTROL_PENDING_MAX);
		return NULL;
	}
	if ((r = calloc(1, sizeof(*r))) == NULL) {
		log_warn("%s", __func__);
		conn_error(c, &id, XVDS_E_INTERNAL, "out of memory");
		return NULL;
	}
	r->conn = c;
	r->id = id;
	snprintf(r->cmd, sizeof(r->cmd), "%s", cmd);
	snprintf(r->name, sizeof(r->name), "%s", name);
	TAILQ_INSERT_TAIL(&c->reqs, r, entry);
	c->npending++;
	return r;
}

/* Refused at once: hostd/vm.c never calls back, the request is still ours. */
static void
req_refused(struct ctl_req *r, enum xvds_err err, const char *msg)
{
	struct ctl_conn *c = r->conn;

	TAILQ_REMOVE(&c->reqs, r, entry);
	c->npending--;
	reply_err(c, r->id, err, r->name, msg);
	free(r);
}

/* A refusal's words from hostd/vm.c, for a request it did not take. */
#define CTL_MSG_MAX	256

/* Hands a queued request to hostd/vm.c, which answers through
 * control_done(); or refuses it at once: the error, with msg. */
typedef enum xvds_err (*ctl_req_start)(const struct ctl_call *,
    struct ctl_req *, char *msg);

/* The queued commands' common part: queue, start, answer a refusal. */
static void
req_start(struct ctl_call *call, ctl_req_start start)
{
	struct ctl_req *r;
	enum xvds_err err;
	char	 msg[CTL_MSG_MAX] = "";

	if ((r = req_new(call->conn, call->id, call->cmd, call->args.name)) ==
	    NULL)
		return;
	if ((err = start(call, r, msg)) != XVDS_OK)
		req_refused(r, err, msg);
}

static enum xvds_err
start_request(const struct ctl_call *call, struct ctl_req *r, char *msg)
{
	return vm_request(call->args.name, call->ev, control_done, r, msg,
	    CTL_MSG_MAX);
}

static enum xvds_err
start_set(const struct ctl_call *call, struct ctl_req *r, char *msg)
{
	return vm_set_resources(call->args.name, call->args.vcpus,
	    call->args.memory_mib, control_done, r, msg, CTL_MSG_MAX);
}

static enum xvds_err
start_migrate(const struct ctl_call *call, struct ctl_req *r, char *msg)
{
	return vm_migrate(call->args.name, call->args.host,
	    call->args.live != 0, control_done, r, msg, CTL_MSG_MAX);
}

static enum xvds_err
start_credential(const struct ctl_call *call, struct ctl_req *r, char *msg)
{
	return vm_credential(call->args.name, call->args.user,
	    call->args.password, control_done, r, msg, CTL_MSG_MAX);
}

static void
cmd_vm_request(void *arg)
{
	req_start(arg, start_request);
}

static void
cmd_vm_set(void *arg)
{
	struct ctl_call *call = arg;

	if (call->args.vcpus == 0 && call->args.memory_mib == 0) {
		conn_error(call->conn, &call->id, XVDS_E_INVAL, "%s: nothing to "
		    "change: give \"vcpus\", \"memory_mib\" or both", call->cmd);
		return;
	}
	req_start(call, start_set);
}

static void
cmd_vm_migrate(void *arg)
{
	req_start(arg, start_migrate);
}

static void
cmd_vm_credential(void *arg)
{
	req_start(arg, start_credential);
}

static const struct linesrv_cmd *
cmd_lookup(const char *name, enum vm_event *ev_r)
{
	const struct linesrv_cmd *cmd;
	size_t	 i;
	int	 ev;

	*ev_r = VM_EV__COUNT;
	if ((cmd = linesrv_cmd_find(ctl_cmds, sizeof(ctl_cmds) /
	    sizeof(ctl_cmds[0]), sizeof(ctl_cmds[0]), name)) != NULL)
		return cmd;
	if (strncmp(name, "vm.", 3) != 0 || (ev = vm_event_from_name(name + 3)) < 0)
		return NULL;
	for (i = 0; i < sizeof(ctl_events) / sizeof(ctl_events[0]); i++)
		if (ctl_events[i] == (enum vm_event)ev) {
			*ev_r = (enum vm_event)ev;
			return &ctl_cmd_request;
		}
	return NULL;
}

static int
arg_string(const char *cmd, const char *member, json_t *val, size_t max,
    const char **s_r, char *msg, size_t msglen)
{
	const char *s;
	size_t	 len, i;

	if (!json_is_string(val)) {
		snprintf(msg, msglen, "%s: \"%s\" must be a string", cmd, member);
		return -1;
	}
	s = json_string_value(val);
	len = json_string_length(val);
	if (len == 0) {
		snprintf(msg, msglen, "%s: \"%s\" must not be empty", cmd, member);
		return -1;
	}
	if (len > max) {
		snprintf(msg, msglen, "%s: \"%s\" is longer than %zu bytes", cmd,
		    member, max);
		return -1;
	}
	/* Names end up in logs and tables: no NULs, no control characters. */
	for (i = 0; i < len; i++)
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f) {
			snprintf(msg, msglen, "%s: \"%s\" contains a control "
			    "character", cmd, member);
			return -1;
		}
	*s_r = s;
	return 0;
}

static int
arg_uint(const char *cmd, const char *member, json_t *val, uint64_t max,
    uint64_t *v_r, char *msg, size_t msglen)
{
	json_int_t v;

	if (!json_is_integer(val) || (v = json_integer_value(val)) < 1 ||
	    (uint64_t)v > max) {
		snprintf(msg, msglen, "%s: \"%s\" must be an integer from 1 to %ju",
		    cmd, member, (uintmax_t)max);
		return -1;
	}
	*v_r = (uint64_t)v;
	return 0;
}

/* Checks the members of a request against its command's; 0 or -1 and msg. */
static int
args_parse(const struct linesrv_cmd *cc, const char *cmd, json_t *req,
    struct ctl_args *a, char *msg, size_t msglen)
{
	const struct linesrv_arg *d;
	const char *key;
	json_t	*val;
	uint64_t u;
	size_t	 i, nargs = linesrv_cmd_nargs(cc);
	int	 k;

	memset(a, 0, sizeof(*a));
	a->kind = VM_CVM;
	a->live = 1;		/* migrations are live unless told */
	if ((key = linesrv_cmd_unknown_member(cc, req)) != NULL) {
		snprintf(msg, msglen, "%s: unknown member \"%.64s\"", cmd, key);
		return -1;
	}
	for (i = 0; i < nargs; i++) {
		d = &cc->args[i];
		if ((val = json_object_get(req, d->member)) == NULL) {
			if (!d->required)
				continue;
			snprintf(msg, msglen, "%s: missing member \"%s\"", cmd,
			    d->member);
			return -1;
		}
		switch (d->type) {
		case ARG_NAME:
			if (arg_string(cmd, d->member, val,
			    sizeof(((struct vm_view *)0)->name) - 1, &a->name, msg,
			    msglen) == -1)
				return -1;
			break;
		case ARG_TEMPLATE:
			if (arg_string(cmd, d->member, val,
			    sizeof(((struct vm_view *)0)->template) - 1, &a->template,
			    msg, msglen) == -1)
				return -1;
			break;
		case ARG_HOST:
			if (arg_string(cmd, d->member, val, 255, &a->host, msg,
			    msglen) == -1)
				return -1;
			break;
		case ARG_BOOL:
			if (!json_is_boolean(val)) {
				snprintf(msg, msglen, "%s: \"%s\" must be true or "
				    "false", cmd, d->member);
				return -1;
			}
			a->live = json_is_true(val);
			break;
		case ARG_KIND:
			if (!json_is_string(val) ||
			    (k = vm_kind_from_name(json_string_value(val))) < 0) {
				snprintf(msg, msglen, "%s: \"%s\" must be \"%s\" or "
				    "\"%s\"", cmd, d->member, vm_kind_names[VM_CVM],
				    vm_kind_names[VM_PVM]);
				return -1;
			}
			a->kind = (enum vm_kind)k;
			break;
		case ARG_VCPUS:
			if (arg_uint(cmd, d->member, val, UINT_MAX, &u, msg,
			    msglen) == -1)
				return -1;
			a->vcpus = (unsigned)u;
			break;
		case ARG_MIB:
			if (arg_uint(cmd, d->member, val, INT64_MAX, &u, msg,
			    msglen) == -1)
				return -1;
			a->memory_mib = u;
			break;
		case ARG_USER:
			if (!json_is_string(val) ||
			    !credential_user_ok(json_string_value(val))) {
				snprintf(msg, msglen, "%s: \"%s\" must be \"%s\" and "
				    "8 letters or digits", cmd, d->member,
				    CREDENTIAL_USER_PREFIX);
				return -1;
			}
			a->user = json_string_value(val);
			break;
		case ARG_PASSWORD:
			/* The reason never quotes it. */
			if (!json_is_string(val) ||
			    !credential_password_ok(json_string_value(val))) {
				snprintf(msg, msglen, "%s: \"%s\" must be %d letters "
				    "and digits", cmd, d->member,
				    CREDENTIAL_PASSWORD_LEN);
				return -1;
			}
			a->password = json_string_value(val);
			break;
		}
	}
	return 0;
}

/* One request line (without its newline). */
static void
conn_line(struct ctl_conn *c, const char *line, size_t len)
{
	const struct linesrv_cmd *cc;
	struct ctl_call call;
	json_error_t jerr;
	json_t	*req, *v, *jid, *jcmd;
	json_int_t id = 0;
	const json_int_t *idp = NULL;
	const char *cmd;
	char	 msg[512];

	if ((req = json_loadb(line, len, JSON_REJECT_DUPLICATES, &jerr)) == NULL) {
		conn_error(c, NULL, XVDS_E_INVAL, "malformed JSON: %s",
		    jsonerr(&jerr));
		return;
	}
	if (!json_is_object(req)) {
		conn_error(c, NULL, XVDS_E_INVAL, "a request is a JSON object");
		goto out;
	}
	/* An id that can be echoed is, even when the rest is wrong. */
	jid = json_object_get(req, "id");
	if (json_is_integer(jid)) {
		id = json_integer_value(jid);
		idp = &id;
	}
	if ((v = json_object_get(req, "v")) == NULL) {
		conn_error(c, idp, XVDS_E_INVAL, "missing member \"v\" (the "
		    "protocol version, %d)", CONTROL_VERSION);
		goto out;
	}
	if (!json_is_integer(v) || json_integer_value(v) != CONTROL_VERSION) {
		conn_error(c, idp, XVDS_E_INVAL, "unsupported protocol version; "
		    "xvdsd speaks \"v\":%d", CONTROL_VERSION);
		goto out;
	}
	if (jid == NULL) {
		conn_error(c, NULL, XVDS_E_INVAL, "missing member \"id\"");
		goto out;
	}
	if (idp == NULL) {
		conn_error(c, NULL, XVDS_E_INVAL, "\"id\" must be an integer");
		goto out;
	}
	if ((jcmd = json_object_get(req, "cmd")) == NULL) {
		conn_error(c, idp, XVDS_E_INVAL, "missing member \"cmd\"");
		goto out;
	}
	if (!json_is_string(jcmd)) {
		conn_error(c, idp, XVDS_E_INVAL, "\"cmd\" must be a string");
		goto out;
	}
	cmd = json_string_value(jcmd);
	if ((cc = cmd_lookup(cmd, &call.ev)) == NULL) {
		conn_error(c, idp, XVDS_E_INVAL, "unknown command \"%.64s\"", cmd);
		goto out;
	}
	if (args_parse(cc, cmd, req, &call.args, msg, sizeof(msg)) == -1) {
		conn_reply(c, idp, XVDS_E_INVAL, msg, NULL);
		goto out;
	}
	if (cc->flags & CTL_CHANGES)
		log_info("control: client pid %ld: %s %s", c->pid, cmd,
		    call.args.name);
	else
		log_debug("control: client pid %ld: %s", c->pid, cmd);
	call.conn = c;
	call.id = id;
	call.cmd = cmd;
	cc->handler(&call);
 out:
	/* vm.credential's password: not left in freed memory. */
	if (json_is_object(req) && json_is_string(v = json_object_get(req,
	    "password")))
		sodium_memzero((char *)json_string_value(v), json_string_length(v));
	json_decref(req);
}

/* Framing is broken: say why, then close once the reply is out. */
static void
conn_shut(struct ctl_conn *c, const char *why)
{
	log_warnx("control: client pid %ld uid %ld: %s; closing", c->pid, c->uid,
	    why);
	conn_error(c, NULL, XVDS_E_INVAL, "%s; closing the connection", why);
	linesrv_conn_finish(c->line, CONTROL_LINGER);
}

static void
conn_on_too_long(void *arg)
{
	conn_shut(arg, "request line longer than 65536 bytes");
}

static void
conn_on_line(void *arg, const char *line, size_t len)
{
	size_t	 i;

	/* Blank lines are tolerated, for people typing at socat. */
	for (i = 0; i < len && strchr(" \t\r", line[i]) != NULL; i++)
		;
	if (i < len)
		conn_line(arg, line, len);
}

static void
conn_on_throttled(void *arg)
{
	struct ctl_conn *c = arg;

	log_debug("control: client pid %ld: not reading its replies; waiting",
	    c->pid);
}

/* Gone, or (what 0) its last reply written after conn_shut. */
static void
conn_on_close(void *arg, short what)
{
	struct ctl_conn *c = arg;

	if (what & BEV_EVENT_TIMEOUT)
		log_warnx("control: client pid %ld did not take its replies; "
		    "dropped", c->pid);
	else if (what & BEV_EVENT_ERROR)
		log_debug("control: client pid %ld: %s", c->pid,
		    evutil_socket_error_to_string(EVUTIL_SOCKET_ERROR()));
	else if (what != 0)
		log_debug("control: client pid %ld closed", c->pid);
	conn_free(c);
}

/* Orphans the client's waiting requests: hostd/vm.c still holds them. */
static void
conn_free(struct ctl_conn *c)
{
	struct ctl_req *r;

	if (c->npending > 0)
		log_debug("control: client pid %ld left with %u requests waiting",
		    c->pid, c->npending);
	while ((r = TAILQ_FIRST(&c->reqs)) != NULL) {
		TAILQ_REMOVE(&c->reqs, r, entry);
		r->conn = NULL;
	}
	linesrv_conn_free(c->line);
	TAILQ_REMOVE(&control.conns, c, entry);
	control.nconns--;
	free(c);
	accept_update();
}

/*
 * Only root (or the daemon's own user, for tests) may drive the daemon.
 * The refusal's line is made once, not at every accept.
 */
static int
peer_allowed(int fd, long *pid_r, long *uid_r)
{
	static char *refusal;

	if (refusal == NULL)
		refusal = reply_line(NULL, XVDS_E_INVAL, "permission denied: "
		    "only root may use xvdsd's control socket", NULL);
	return linesrv_peer_allowed(fd, "control", ": not root", refusal,
	    pid_r, uid_r);
}

static void
control_accept(evutil_socket_t lfd, short what, void *arg)
{
	struct ctl_conn *c;
	struct timeval tv = { CONTROL_FD_RETRY, 0 };
	long	 pid = 0, uid = 0;
	int	 fd;

	(void)what;
	(void)arg;
	if ((fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC)) == -1) {
		/*
		 * Pause accept if we are out of file descriptors, or
		 * libevent will haunt us here too (relayd).
		 */
		if (errno == ENFILE || errno == EMFILE || errno == ENOBUFS ||
		    errno == ENOMEM) {
			log_warn("%s: accept", __func__);
			control.starved = 1;
			accept_update();
			evtimer_add(control.ev_retry, &tv);
		} else if (errno != EINTR && errno != EAGAIN &&
		    errno != ECONNABORTED)
			log_warn("%s: accept", __func__);
		return;
	}
	if (!peer_allowed(fd, &pid, &uid)) {
		close(fd);
		return;
	}
	if ((c = calloc(1, sizeof(*c))) == NULL) {
		log_warn("%s", __func__);
		close(fd);
		return;
	}
	if ((c->line = linesrv_conn_new(control.base, fd, NULL,
	    &control_line_conf, &control_line_ops, c)) == NULL) {
		log_warn("%s", __func__);
		free(c);
		return;
	}
	TAILQ_INIT(&c->reqs);
	c->pid = pid;
	c->uid = uid;
	TAILQ_INSERT_TAIL(&control.conns, c, entry);
	control.nconns++;
	log_debug("control: client pid %ld uid %ld connected (%u clients)", pid,
	    uid, control.nconns);
	accept_update();
}

static void
control_retry(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	(void)arg;
	control.starved = 0;
	accept_update();
}

int
control_init(struct event_base *base, const char *path)
{
	if (control.sock.fd != -1) {
		log_warnx("%s: already listening on %s", __func__,
		    control.sock.path);
		return -1;
	}
	memset(&control, 0, sizeof(control));
	TAILQ_INIT(&control.conns);
	if (linesrv_unix_listen(&control.sock, "control", "daemon", path,
	    CONTROL_BACKLOG) == -1)
		return -1;
	control.base = base;
	if ((control.ev_accept = event_new(base, control.sock.fd,
	    EV_READ | EV_PERSIST, control_accept, NULL)) == NULL ||
	    (control.ev_retry = evtimer_new(base, control_retry, NULL)) == NULL) {
		log_warnx("%s: event_new failed", __func__);
		if (control.ev_accept != NULL)
			event_free(control.ev_accept);
		control.ev_accept = NULL;
		unlink(path);
		close(control.sock.fd);
		control.sock.fd = -1;
		return -1;
	}
	signal(SIGPIPE, SIG_IGN);
	accept_update();
	log_info("control: listening on %s", path);
	return 0;
}

void
control_close(void)
{
	struct ctl_conn *c;

	if (control.sock.fd == -1)
		return;
	control.stopping = 1;
	while ((c = TAILQ_FIRST(&control.conns)) != NULL)
		conn_free(c);
	event_free(control.ev_accept);
	event_free(control.ev_retry);
	close(control.sock.fd);
	linesrv_unix_unlink(&control.sock, "control");
	control.sock.fd = -1;
	control.ev_accept = control.ev_retry = NULL;
	control.stopping = 0;
}

/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * agent/msg.c — the agent channel's messages (xvds-agent(7)) to and from
 * their one-line JSON form.  Both ends are untrusted by the other, so the
 * decoder takes exactly the documented members, each of its type and in
 * its range, and says what is wrong otherwise; the encoder refuses what
 * the decoder would, so that we never send what closes the connection.
 */
#include <config.h>

#include <arpa/inet.h>

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <sodium.h>

#include "agent/msg.h"
#include "common/jsonerr.h"

#define CPUS_MAX	4096			/* Xen's NR_CPUS is below */
#define PCT_MAX		(100.0 * CPUS_MAX)
#define MIB_MAX		((json_int_t)1 << 40)	/* an exbibyte */
#define COUNT_MAX	((json_int_t)1 << 31)
#define TIME_MAX	((json_int_t)1 << 40)
#define SAMPLE_S_MAX	3600

const char *const agent_msg_names[] = {
	[AGENT_M_HELLO] = "hello",
	[AGENT_M_WELCOME] = "welcome",
	[AGENT_M_SAMPLE] = "sample",
	[AGENT_M_STATE] = "state",
	[AGENT_M_OP] = "op",
	[AGENT_M_RESULT] = "result",
	[AGENT_M_PING] = "ping",
	[AGENT_M_PONG] = "pong",
	[AGENT_M_RESYNCED] = "resynced",
};
_Static_assert(sizeof(agent_msg_names) / sizeof(agent_msg_names[0]) ==
    AGENT_M__COUNT, "agent_msg_names must name every message");

const char *const agent_action_names[] = {
	[AGENT_A_START] = "start",
	[AGENT_A_PAUSE] = "pause",
	[AGENT_A_UNPAUSE] = "unpause",
	[AGENT_A_SAVE] = "save",
	[AGENT_A_RESTORE] = "restore",
	[AGENT_A_RESET] = "reset",
	[AGENT_A_SHUTDOWN] = "shutdown",
	[AGENT_A_DESTROY] = "destroy",
	[AGENT_A_MIGRATE] = "migrate",
	[AGENT_A_SET] = "set",
	[AGENT_A_DEFINE] = "define",
	[AGENT_A_CREDENTIAL] = "credential",
	[AGENT_A_FORGET] = "forget",
};
_Static_assert(sizeof(agent_action_names) / sizeof(agent_action_names[0]) ==
    AGENT_A__COUNT, "agent_action_names must name every action");

static int
name_index(const char *const names[], int n, const char *s)
{
	int	 i;

	for (i = 0; i < n; i++)
		if (strcmp(names[i], s) == 0)
			return i;
	return -1;
}

/* Hosts are named as VMs are: a certificate's CN is one of those. */
bool
agent_host_name_ok(const char *s)
{
	return template_vm_name_ok(s);
}

bool
agent_vm_name_ok(const char *s)
{
	return template_vm_name_ok(s);
}

/* Printable ASCII, or (text) any UTF-8 but control characters. */
static bool
text_ok(const char *s, size_t max, bool utf8)
{
	size_t	 i, n = strlen(s);

	if (n > max)
		return false;
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c < 0x20 || c == 0x7f || (c > 0x7f && !utf8))
			return false;
	}
	return true;
}

static bool
addr_ok(const char *s)
{
	unsigned char buf[16];

	if (s[0] == '\0')
		return true;
	return strlen(s) <= AGENT_ADDR_MAX && (inet_pton(AF_INET, s, buf) == 1 ||
	    inet_pton(AF_INET6, s, buf) == 1);
}

/* "" or exactly len lowercase hex digits. */
static bool
hex_or_empty(const char *s, size_t len)
{
	size_t	 n = strlen(s);

	return (n == 0 || n == len) && strspn(s, "0123456789abcdef") == n;
}

static bool
boot_id_ok(const char *s)
{
	return hex_or_empty(s, AGENT_BOOT_ID_LEN);
}

static int
fail(char *err, size_t errlen, const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return -1;
}

static int
decode_hello(json_t *j, struct agent_hello *h, char *err, size_t errlen)
{
	json_error_t jerr;
	const char *type, *host, *hv;
	json_int_t v, cpus, mib;

	if (json_unpack_ex(j, &jerr, JSON_STRICT, "{s:s, s:I, s:s, s:{s:I, s:I, "
	    "s:s}}", "msg", &type, "v", &v, "host", &host, "capacity", "cpus",
	    &cpus, "memory_mib", &mib, "hypervisor", &hv) == -1)
		return fail(err, errlen, "hello: %s", jsonerr(&jerr));
	if (!agent_host_name_ok(host))
		return fail(err, errlen, "hello: bad host name");
	if (cpus < 1 || cpus > CPUS_MAX || mib < 1 || mib > MIB_MAX)
		return fail(err, errlen, "hello: capacity out of range");
	if (hv[0] == '\0' || !text_ok(hv, AGENT_HV_MAX, false))
		return fail(err, errlen, "hello: bad hypervisor");
	h->v = (unsigned)v;
	snprintf(h->host, sizeof(h->host), "%s", host);
	h->cpus = (unsigned)cpus;
	h->memory_mib = (uint64_t)mib;
	snprintf(h->hypervisor, sizeof(h->hypervisor), "%s", hv);
	return 0;
}

static int
decode_welcome(json_t *j, struct agent_welcome *w, char *err, size_t errlen)
{
	json_error_t jerr;
	const char *type, *host;
	json_int_t v, secs;

	if (json_unpack_ex(j, &jerr, JSON_STRICT, "{s:s, s:I, s:s, s:I}", "msg",
	    &type, "v", &v, "host", &host, "sample_s", &secs) == -1)
		return fail(err, errlen, "welcome: %s", jsonerr(&jerr));
	if (v != AGENT_PROTO_VERSION)
		return fail(err, errlen, "welcome: version %lld, we speak %d",
		    (long long)v, AGENT_PROTO_VERSION);
	if (!agent_host_name_ok(host))
		return fail(err, errlen, "welcome: bad host name");
	if (secs < 1 || secs > SAMPLE_S_MAX)
		return fail(err, errlen, "welcome: sample_s out of range");
	w->v = (unsigned)v;
	snprintf(w->host, sizeof(w->host), "%s", host);
	w->sample_s = (unsigned)secs;
	return 0;
}

static int
decode_sample(json_t *j, struct agent_sample *s, char *err, size_t errlen)
{
	json_error_t jerr;
	json_t	*vms, *e;
	const char *type, *name;
	json_int_t t, rvm, tcpu, fcpu, acpu, tmem, fmem, mib;
	double	 pct;
	size_t	 i, k;

	if (json_unpack_ex(j, &jerr, JSON_STRICT, "{s:s, s:I, s:{s:I, s:I, s:I, "
	    "s:I, s:I, s:I}, s:o}", "msg", &type, "time", &t, "host", "rvm", &rvm,
	    "tcpu", &tcpu, "fcpu", &fcpu, "acpu", &acpu, "tmem_mib", &tmem,
	    "fmem_mib", &fmem, "vms", &vms) == -1)
		return fail(err, errlen, "sample: %s", jsonerr(&jerr));
	if (t < 0 || t > TIME_MAX)
		return fail(err, errlen, "sample: time out of range");
	if (rvm < 0 || rvm > COUNT_MAX || tcpu < 0 || tcpu > PCT_MAX ||
	    fcpu < 0 || fcpu > tcpu || acpu < 0 || acpu > COUNT_MAX ||
	    tmem < 0 || tmem > MIB_MAX || fmem < 0 || fmem > tmem)
		return fail(err, errlen, "sample: host figures out of range");
	if (!json_is_array(vms))
		return fail(err, errlen, "sample: vms is not an array");
	if (json_array_size(vms) > AGENT_SAMPLE_VMS_MAX)
		return fail(err, errlen, "sample: more than %d VMs",
		    AGENT_SAMPLE_VMS_MAX);
	s->time = t;
	s->rvm = (unsigned)rvm;
	s->tcpu = (unsigned)tcpu;
	s->fcpu = (unsigned)fcpu;
	s->acpu = (unsigned)acpu;
	s->tmem_mib = (uint64_t)tmem;
	s->fmem_mib = (uint64_t)fmem;
	if ((s->nvms = json_array_size(vms)) == 0)
		return 0;
	if ((s->vms = calloc(s->nvms, sizeof(*s->vms))) == NULL)
		return fail(err, errlen, "sample: out of memory");
	json_array_foreach(vms, i, e) {
		if (json_unpack_ex(e, &jerr, JSON_STRICT, "{s:s, s:F, s:I}", "vm",
		    &name, "cpu_pct", &pct, "memory_mib", &mib) == -1)
			return fail(err, errlen, "sample: vms[%zu]: %s", i, jsonerr(&jerr));
		if (!agent_vm_name_ok(name))
			return fail(err, errlen, "sample: vms[%zu]: bad VM name", i);
		if (!(pct >= 0 && pct <= PCT_MAX) || mib < 0 || mib > MIB_MAX)
			return fail(err, errlen, "sample: vms[%zu]: out of range", i);
		for (k = 0; k < i; k++)
			if (strcmp(s->vms[k].vm, name) == 0)
				return fail(err, errlen, "sample: VM %s twice", name);
		snprintf(s->vms[i].vm, sizeof(s->vms[i].vm), "%s", name);
		s->vms[i].cpu_pct = pct;
		s->vms[i].memory_mib = (uint64_t)mib;
	}
	return 0;
}

static int
decode_state(json_t *j, struct agent_state *s, char *err, size_t errlen)
{
	json_error_t jerr;
	json_t	*domid;
	const char *type, *vm, *state, *boot_id, *addr, *rdp;
	int	 st;

	if (json_unpack_ex(j, &jerr, JSON_STRICT, "{s:s, s:s, s:s, s:o, s:s, "
	    "s:s, s:s}", "msg", &type, "vm", &vm, "state", &state, "domid",
	    &domid, "boot_id", &boot_id, "addr", &addr, "rdp_sha256",
	    &rdp) == -1)
		return fail(err, errlen, "state: %s", jsonerr(&jerr));
	if (!agent_vm_name_ok(vm))
		return fail(err, errlen, "state: bad VM name");
	if ((st = vm_state_from_name(state)) < 0 || st >= VM_S__COUNT)
		return fail(err, errlen, "state: unknown state");
	if (json_is_null(domid))
		s->domid = AGENT_NODOMAIN;
	else if (json_is_integer(domid) && json_integer_value(domid) >= 0 &&
	    json_integer_value(domid) <= AGENT_DOMID_MAX)
		s->domid = (uint32_t)json_integer_value(domid);
	else
		return fail(err, errlen, "state: domid is neither null nor a domid");
	if (!boot_id_ok(boot_id))
		return fail(err, errlen, "state: bad boot_id");
	if (!addr_ok(addr))
		return fail(err, errlen, "state: bad addr");
	if (!hex_or_empty(rdp, AGENT_SHA256_LEN))
		return fail(err, errlen, "state: bad rdp_sha256");
	snprintf(s->vm, sizeof(s->vm), "%s", vm);
	s->state = (enum vm_state)st;
	snprintf(s->boot_id, sizeof(s->boot_id), "%s", boot_id);
	snprintf(s->addr, sizeof(s->addr), "%s", addr);
	snprintf(s->rdp_sha256, sizeof(s->rdp_sha256), "%s", rdp);
	return 0;
}

/* An op's args, by action: exactly the members that action takes. */
static int
decode_args(json_t *args, struct agent_op *o, char *err, size_t errlen)
{
	json_error_t jerr;
	const char *host, *tmpl, *kind, *user, *pass;
	json_int_t vcpus = 0, mib = 0;
	int	 live, k;

	switch (o->action) {
	case AGENT_A_MIGRATE:
		if (json_unpack_ex(args, &jerr, JSON_STRICT, "{s:s, s:b}", "host",
		    &host, "live", &live) == -1)
			return fail(err, errlen, "op migrate: %s", jsonerr(&jerr));
		if (host[0] == '\0' || strlen(host) > AGENT_PEER_MAX ||
		    strspn(host, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
		    "0123456789.-:[]") != strlen(host))
			return fail(err, errlen, "op migrate: bad host");
		snprintf(o->host, sizeof(o->host), "%s", host);
		o->live = live != 0;
		return 0;
	case AGENT_A_SET:
		if (json_unpack_ex(args, &jerr, JSON_STRICT, "{s?I, s?I}", "vcpus",
		    &vcpus, "memory_mib", &mib) == -1)
			return fail(err, errlen, "op set: %s", jsonerr(&jerr));
		if (json_object_size(args) == 0)
			return fail(err, errlen, "op set: nothing to set");
		if ((json_object_get(args, "vcpus") != NULL &&
		    (vcpus < 1 || vcpus > CPUS_MAX)) ||
		    (json_object_get(args, "memory_mib") != NULL &&
		    (mib < 1 || mib > MIB_MAX)))
			return fail(err, errlen, "op set: out of range");
		o->vcpus = (unsigned)vcpus;
		o->memory_mib = (uint64_t)mib;
		return 0;
	case AGENT_A_DEFINE:
		if (json_unpack_ex(args, &jerr, JSON_STRICT, "{s:s, s:s}",
		    "template", &tmpl, "kind", &kind) == -1)
			return fail(err, errlen, "op define: %s", jsonerr(&jerr));
		if (!template_name_ok(tmpl))
			return fail(err, errlen, "op define: bad template name");
		if ((k = vm_kind_from_name(kind)) < 0)
			return fail(err, errlen, "op define: unknown kind");
		snprintf(o->template, sizeof(o->template), "%s", tmpl);
		o->kind = (enum vm_kind)k;
		return 0;
	case AGENT_A_CREDENTIAL:
		/* Nothing of the password goes into err. */
		if (json_unpack_ex(args, &jerr, JSON_STRICT, "{s:s, s:s}", "user",
		    &user, "password", &pass) == -1)
			return fail(err, errlen, "op credential: needs exactly a "
			    "user and a password, as strings");
		if (!credential_user_ok(user))
			return fail(err, errlen, "op credential: bad user");
		if (!credential_password_ok(pass))
			return fail(err, errlen, "op credential: bad password");
		memcpy(o->user, user, sizeof(o->user));
		memcpy(o->password, pass, sizeof(o->password));
		return 0;
	default:
		if (!json_is_object(args) || json_object_size(args) != 0)
			return fail(err, errlen, "op %s: takes no args",
			    agent_action_names[o->action]);
		return 0;
	}
}

static int
decode_op(json_t *j, struct agent_op *o, char *err, size_t errlen)
{
	json_error_t jerr;
	json_t	*args;
	const char *type, *vm, *action;
	json_int_t id;
	int	 a;

	if (json_unpack_ex(j, &jerr, JSON_STRICT, "{s:s, s:I, s:s, s:s, s:o}",
	    "msg", &type, "id", &id, "vm", &vm, "action", &action, "args",
	    &args) == -1)
		return fail(err, errlen, "op: %s", jsonerr(&jerr));
	if (id < 1 || id > AGENT_ID_MAX)
		return fail(err, errlen, "op: id out of range");
	if (!agent_vm_name_ok(vm))
		return fail(err, errlen, "op: bad VM name");
	if ((a = name_index(agent_action_names, AGENT_A__COUNT, action)) < 0)
		return fail(err, errlen, "op: unknown action");
	if (!json_is_object(args))
		return fail(err, errlen, "op: args is not an object");
	o->id = id;
	snprintf(o->vm, sizeof(o->vm), "%s", vm);
	o->action = (enum agent_action)a;
	return decode_args(args, o, err, errlen);
}

static int
decode_result(json_t *j, struct agent_result *r, char *err, size_t errlen)
{
	json_error_t jerr;
	const char *type, *code = "", *text = "";
	json_int_t id;
	int	 ok, rc, has_error = json_object_get(j, "error") != NULL;

	if (!has_error)
		rc = json_unpack_ex(j, &jerr, JSON_STRICT, "{s:s, s:I, s:b}", "msg",
		    &type, "id", &id, "ok", &ok);
	else
		rc = json_unpack_ex(j, &jerr, JSON_STRICT, "{s:s, s:I, s:b, s:s, "
		    "s:s}", "msg", &type, "id", &id, "ok", &ok, "error", &code,
		    "message", &text);
	if (rc == -1)
		return fail(err, errlen, "result: %s", jsonerr(&jerr));
	if (id < 0 || id > AGENT_ID_MAX)
		return fail(err, errlen, "result: id out of range");
	if (has_error == ok)
		return fail(err, errlen, "result: an error goes with ok false");
	if (has_error && (code[0] == '\0' || strlen(code) > AGENT_CODE_MAX ||
	    strspn(code,
	    "abcdefghijklmnopqrstuvwxyz0123456789-") != strlen(code)))
		return fail(err, errlen, "result: bad error code");
	if (!text_ok(text, AGENT_TEXT_MAX, true))
		return fail(err, errlen, "result: bad message");
	r->id = id;
	r->ok = ok != 0;
	snprintf(r->code, sizeof(r->code), "%s", code);
	snprintf(r->message, sizeof(r->message), "%s", text);
	return 0;
}

static int
decode_seq(json_t *j, const char *name, int64_t *seq, char *err, size_t errlen)
{
	json_error_t jerr;
	const char *type;
	json_int_t n;

	if (json_unpack_ex(j, &jerr, JSON_STRICT, "{s:s, s:I}", "msg", &type,
	    "seq", &n) == -1)
		return fail(err, errlen, "%s: %s", name, jsonerr(&jerr));
	if (n < 0 || n > AGENT_ID_MAX)
		return fail(err, errlen, "%s: seq out of range", name);
	*seq = n;
	return 0;
}

static int
decode_resynced(json_t *j, uint32_t *n_r, char *err, size_t errlen)
{
	json_error_t jerr;
	const char *type;
	json_int_t n;

	if (json_unpack_ex(j, &jerr, JSON_STRICT, "{s:s, s:I}", "msg", &type,
	    "states", &n) == -1)
		return fail(err, errlen, "resynced: %s", jsonerr(&jerr));
	if (n < 0 || n > AGENT_RESYNC_MAX)
		return fail(err, errlen, "resynced: states out of range");
	*n_r = (uint32_t)n;
	return 0;
}

/*
 * A credential op's password, where jansson keeps it: zeroed before the
 * tree is freed.  (jansson's own intermediate buffers are beyond reach.)
 */
static void
wipe_secrets(json_t *j)
{
	json_t	*p;

	if (json_is_object(j) && (p = json_object_get(j, "args")) != NULL &&
	    json_is_object(p) && (p = json_object_get(p, "password")) != NULL &&
	    json_is_string(p))
		sodium_memzero((char *)json_string_value(p), json_string_length(p));
}

int
agent_msg_decode(const char *line, size_t len, struct agent_msg *m,
    unsigned *version_r, char *err, size_t errlen)
{
	json_error_t jerr;
	json_t	*j, *jt, *jv;
	int	 t, rc = -1;

	memset(m, 0, sizeof(*m));
	if (version_r != NULL)
		*version_r = AGENT_PROTO_VERSION;
	if (len >= AGENT_MSG_MAX)
		return fail(err, errlen, "longer than %d bytes", AGENT_MSG_MAX - 1);
	if ((j = json_loadb(line, len, JSON_REJECT_DUPLICATES, &jerr)) == NULL) {
		return fail(err, errlen, "not JSON: %s", jsonerr(&jerr));
	}
	if (!json_is_object(j))
		fail(err, errlen, "not a JSON object");
	else if (!json_is_string(jt = json_object_get(j, "msg")))
		fail(err, errlen, "no msg member");
	else if ((t = name_index(agent_msg_names, AGENT_M__COUNT,
	    json_string_value(jt))) < 0)
		fail(err, errlen, "unknown msg");
	else {
		m->type = (enum agent_msg_type)t;
		jv = json_object_get(j, "v");
		/* Another version may have other members: say which it is. */
		if (t == AGENT_M_HELLO && json_is_integer(jv) &&
		    json_integer_value(jv) != AGENT_PROTO_VERSION) {
			if (version_r != NULL)
				*version_r = json_integer_value(jv) < 0 ||
				    json_integer_value(jv) > 65535 ? 0 :
				    (unsigned)json_integer_value(jv);
			fail(err, errlen, "hello: version %lld, we speak %d",
			    (long long)json_integer_value(jv), AGENT_PROTO_VERSION);
		} else
			switch (m->type) {
			case AGENT_M_HELLO:
				rc = decode_hello(j, &m->u.hello, err, errlen);
				break;
			case AGENT_M_WELCOME:
				rc = decode_welcome(j, &m->u.welcome, err, errlen);
				break;
			case AGENT_M_SAMPLE:
				rc = decode_sample(j, &m->u.sample, err, errlen);
				break;
			case AGENT_M_STATE:
				rc = decode_state(j, &m->u.state, err, errlen);
				break;
			case AGENT_M_OP:
				rc = decode_op(j, &m->u.op, err, errlen);
				break;
			case AGENT_M_RESULT:
				rc = decode_result(j, &m->u.result, err, errlen);
				break;
			case AGENT_M_PING:
			case AGENT_M_PONG:
				rc = decode_seq(j, agent_msg_names[t], &m->u.seq,
				    err, errlen);
				break;
			case AGENT_M_RESYNCED:
				rc = decode_resynced(j, &m->u.resynced, err,
				    errlen);
				break;
			case AGENT_M__COUNT:
				break;
			}
	}
	wipe_secrets(j);
	json_decref(j);
	if (rc == -1)
		agent_msg_clear(m);
	return rc;
}

void
agent_msg_clear(struct agent_msg *m)
{
	if (m->type == AGENT_M_SAMPLE)
		free(m->u.sample.vms);
	/* Not a memset the compiler may drop: an op may hold a password. */
	sodium_memzero(m, sizeof(*m));
}

static json_t *
encode_args(const struct agent_op *o)
{
	json_t	*a;

	switch (o->action) {
	case AGENT_A_MIGRATE:
		return json_pack("{s:s, s:b}", "host", o->host, "live", o->live);
	case AGENT_A_SET:
		if ((a = json_object()) == NULL)
			return NULL;
		if (o->vcpus != 0)
			json_object_set_new(a, "vcpus", json_integer(o->vcpus));
		if (o->memory_mib != 0)
			json_object_set_new(a, "memory_mib",
			    json_integer((json_int_t)o->memory_mib));
		return a;
	case AGENT_A_DEFINE:
		return json_pack("{s:s, s:s}", "template", o->template, "kind",
		    o->kind <= VM_PVM ? vm_kind_names[o->kind] : "");
	case AGENT_A_CREDENTIAL:
		return json_pack("{s:s, s:s}", "user", o->user, "password",
		    o->password);
	default:
		return json_object();
	}
}

static json_t *
encode_sample(const struct agent_sample *s)
{
	json_t	*vms, *e;
	size_t	 i;

	if ((vms = json_array()) == NULL)
		return NULL;
	for (i = 0; i < s->nvms; i++) {
		e = json_pack("{s:s, s:f, s:I}", "vm", s->vms[i].vm, "cpu_pct",
		    s->vms[i].cpu_pct, "memory_mib",
		    (json_int_t)s->vms[i].memory_mib);
		if (e == NULL || json_array_append_new(vms, e) == -1) {
			json_decref(vms);
			return NULL;
		}
	}
	return json_pack("{s:s, s:I, s:{s:I, s:I, s:I, s:I, s:I, s:I}, s:o}",
	    "msg", "sample", "time", (json_int_t)s->time, "host",
	    "rvm", (json_int_t)s->rvm, "tcpu", (json_int_t)s->tcpu,
	    "fcpu", (json_int_t)s->fcpu, "acpu", (json_int_t)s->acpu,
	    "tmem_mib", (json_int_t)s->tmem_mib,
	    "fmem_mib", (json_int_t)s->fmem_mib, "vms", vms);
}

char *
agent_msg_encode(const struct agent_msg *m, char *err, size_t errlen)
{
	struct agent_msg check;
	json_t	*j = NULL;
	char	*s;
	const char *name;

	if (m->type >= AGENT_M__COUNT) {
		fail(err, errlen, "no such message");
		return NULL;
	}
	name = agent_msg_names[m->type];
	switch (m->type) {
	case AGENT_M_HELLO:
		j = json_pack("{s:s, s:I, s:s, s:{s:I, s:I, s:s}}", "msg", name,
		    "v", (json_int_t)m->u.hello.v, "host", m->u.hello.host,
		    "capacity", "cpus", (json_int_t)m->u.hello.cpus, "memory_mib",
		    (json_int_t)m->u.hello.memory_mib, "hypervisor",
		    m->u.hello.hypervisor);
		break;
	case AGENT_M_WELCOME:
		j = json_pack("{s:s, s:I, s:s, s:I}", "msg", name, "v",
		    (json_int_t)m->u.welcome.v, "host", m->u.welcome.host,
		    "sample_s", (json_int_t)m->u.welcome.sample_s);
		break;
	case AGENT_M_SAMPLE:
		j = encode_sample(&m->u.sample);
		break;
	case AGENT_M_STATE:
		j = json_pack("{s:s, s:s, s:s, s:o, s:s, s:s, s:s}", "msg", name,
		    "vm", m->u.state.vm, "state", m->u.state.state < VM_S__COUNT ?
		    vm_state_names[m->u.state.state] : "", "domid",
		    m->u.state.domid == AGENT_NODOMAIN ? json_null() :
		    json_integer(m->u.state.domid), "boot_id", m->u.state.boot_id,
		    "addr", m->u.state.addr, "rdp_sha256", m->u.state.rdp_sha256);
		break;
	case AGENT_M_OP:
		j = json_pack("{s:s, s:I, s:s, s:s, s:o}", "msg", name, "id",
		    (json_int_t)m->u.op.id, "vm", m->u.op.vm, "action",
		    m->u.op.action < AGENT_A__COUNT ?
		    agent_action_names[m->u.op.action] : "", "args",
		    encode_args(&m->u.op));
		break;
	case AGENT_M_RESULT:
		if (m->u.result.ok)
			j = json_pack("{s:s, s:I, s:b}", "msg", name, "id",
			    (json_int_t)m->u.result.id, "ok", 1);
		else
			j = json_pack("{s:s, s:I, s:b, s:s, s:s}", "msg", name,
			    "id", (json_int_t)m->u.result.id, "ok", 0, "error",
			    m->u.result.code, "message", m->u.result.message);
		break;
	case AGENT_M_PING:
	case AGENT_M_PONG:
		j = json_pack("{s:s, s:I}", "msg", name, "seq",
		    (json_int_t)m->u.seq);
		break;
	case AGENT_M_RESYNCED:
		j = json_pack("{s:s, s:I}", "msg", name, "states",
		    (json_int_t)m->u.resynced);
		break;
	case AGENT_M__COUNT:
		break;
	}
	if (j == NULL) {
		fail(err, errlen, "%s: cannot encode", name);
		return NULL;
	}
	s = json_dumps(j, JSON_COMPACT);
	wipe_secrets(j);
	json_decref(j);
	if (s == NULL) {
		fail(err, errlen, "%s: cannot encode", name);
		return NULL;
	}
	if (agent_msg_decode(s, strlen(s), &check, NULL, err, errlen) == -1) {
		sodium_memzero(s, strlen(s));
		free(s);
		return NULL;
	}
	agent_msg_clear(&check);
	return s;
}

/* Field by field: what follows a string's NUL does not count. */
bool
agent_msg_equal(const struct agent_msg *a, const struct agent_msg *b)
{
	const struct agent_sample *x = &a->u.sample, *y = &b->u.sample;
	const struct agent_op *p = &a->u.op, *q = &b->u.op;
	size_t	 i;

	if (a->type != b->type)
		return false;
	switch (a->type) {
	case AGENT_M_HELLO:
		return a->u.hello.v == b->u.hello.v &&
		    strcmp(a->u.hello.host, b->u.hello.host) == 0 &&
		    a->u.hello.cpus == b->u.hello.cpus &&
		    a->u.hello.memory_mib == b->u.hello.memory_mib &&
		    strcmp(a->u.hello.hypervisor, b->u.hello.hypervisor) == 0;
	case AGENT_M_WELCOME:
		return a->u.welcome.v == b->u.welcome.v &&
		    strcmp(a->u.welcome.host, b->u.welcome.host) == 0 &&
		    a->u.welcome.sample_s == b->u.welcome.sample_s;
	case AGENT_M_SAMPLE:
		if (x->time != y->time || x->rvm != y->rvm || x->tcpu != y->tcpu ||
		    x->fcpu != y->fcpu || x->acpu != y->acpu ||
		    x->tmem_mib != y->tmem_mib || x->fmem_mib != y->fmem_mib ||
		    x->nvms != y->nvms)
			return false;
		for (i = 0; i < x->nvms; i++)
			if (strcmp(x->vms[i].vm, y->vms[i].vm) != 0 ||
			    x->vms[i].cpu_pct != y->vms[i].cpu_pct ||
			    x->vms[i].memory_mib != y->vms[i].memory_mib)
				return false;
		return true;
	case AGENT_M_STATE:
		return strcmp(a->u.state.vm, b->u.state.vm) == 0 &&
		    a->u.state.state == b->u.state.state &&
		    a->u.state.domid == b->u.state.domid &&
		    strcmp(a->u.state.boot_id, b->u.state.boot_id) == 0 &&
		    strcmp(a->u.state.addr, b->u.state.addr) == 0 &&
		    strcmp(a->u.state.rdp_sha256, b->u.state.rdp_sha256) == 0;
	case AGENT_M_OP:
		return p->id == q->id && strcmp(p->vm, q->vm) == 0 &&
		    p->action == q->action && strcmp(p->host, q->host) == 0 &&
		    p->live == q->live && p->vcpus == q->vcpus &&
		    p->memory_mib == q->memory_mib &&
		    strcmp(p->template, q->template) == 0 && p->kind == q->kind &&
		    strcmp(p->user, q->user) == 0 &&
		    strcmp(p->password, q->password) == 0;
	case AGENT_M_RESULT:
		return a->u.result.id == b->u.result.id &&
		    a->u.result.ok == b->u.result.ok &&
		    strcmp(a->u.result.code, b->u.result.code) == 0 &&
		    strcmp(a->u.result.message, b->u.result.message) == 0;
	case AGENT_M_PING:
	case AGENT_M_PONG:
		return a->u.seq == b->u.seq;
	case AGENT_M_RESYNCED:
		return a->u.resynced == b->u.resynced;
	case AGENT_M__COUNT:
		break;
	}
	return false;
}

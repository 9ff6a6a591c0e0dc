/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * fake_xvdsd.c — the functions of hostd/xvdsd.h over a table of fake VMs, for
 * the control socket's tests.  Each VM runs the real state machine
 * (common/vm_fsm.c): what it refuses, the fake refuses.  An accepted action
 * settles after a delay (a libevent timer), as the real one settles when
 * libxl and the guest answer; one that needs no action (session-start)
 * replies at once, from within vm_request(), which hostd/xvdsd.h allows.
 *
 * The VMs: desk-01 (ready), desk-02 (paused), desk-03 (saved), home-ann
 * (a PVM, inactive), desk-bad (ready; every action fails), desk-slow
 * (inactive; actions take 3 s).  Templates: win10, ubuntu.
 */
#include <config.h>

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <event2/event.h>

#include "common/credential.h"
#include "fake_xvdsd.h"
#include "hostd/xvdsd.h"

#define FAKE_VMS_MAX	512

struct fake_vm {
	int		 used;
	struct vm_view	 view;
	struct vm_fsm	 fsm;
	unsigned	 delay_ms;	/* 0: the default */
	int		 fail;		/* every action fails */
	struct fake_op	*op;		/* the action under way */
};

struct fake_op {
	struct fake_op	*next;
	struct event	*ev;
	struct fake_vm	*vm;
	xvds_reply_cb	 cb;
	void		*arg;
	unsigned	 vcpus;		/* vm_set_resources */
	uint64_t	 memory_mib;
	int		 set;
	char		 migrate_to[64];	/* vm_migrate: there is no peer */
	int		 live;
	char		 cred_user[16];		/* vm_credential */
};

static struct {
	struct event_base *base;
	unsigned	 delay_ms;
	int		 host_fail;
	uint32_t	 next_domid;
	struct fake_op	*ops;
	unsigned	 nops;
	struct fake_vm	 vms[FAKE_VMS_MAX];
} fake;

static const struct {
	const char	*name;
	unsigned	 vcpus, max_vcpus;
	uint64_t	 mib, max_mib;
} fake_templates[] = {
	{ "win10", 2, 4, 2048, 4096 },
	{ "ubuntu", 1, 2, 1024, 2048 },
};

static void __attribute__((format(printf, 3, 4)))
say(char *msg, size_t len, const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	vsnprintf(msg, len, fmt, ap);
	va_end(ap);
}

static struct fake_vm *
find(const char *name)
{
	size_t	 i;

	for (i = 0; i < FAKE_VMS_MAX; i++)
		if (fake.vms[i].used && strcmp(fake.vms[i].view.name, name) == 0)
			return &fake.vms[i];
	return NULL;
}

static int
has_domain(enum vm_state s)
{
	return s != VM_S_INACTIVE && s != VM_S_SAVED;
}

/* Keeps the view in step with the machine. */
static void
sync_view(struct fake_vm *vm)
{
	if (vm->view.state != vm->fsm.state)
		vm->view.since = time(NULL);
	vm->view.state = vm->fsm.state;
	if (!has_domain(vm->fsm.state)) {
		vm->view.domid = XVDSD_NODOMAIN;
		vm->view.addr[0] = '\0';
		vm->view.cpu_pct = 0;
	} else if (vm->view.domid == XVDSD_NODOMAIN)
		vm->view.domid = fake.next_domid++;
}

static struct fake_vm *
add(const char *name, const char *pool, const char *tmpl, enum vm_kind kind,
    enum vm_state state)
{
	struct fake_vm *vm = NULL;
	size_t	 i, t;

	for (i = 0; i < FAKE_VMS_MAX && vm == NULL; i++)
		if (!fake.vms[i].used)
			vm = &fake.vms[i];
	if (vm == NULL)
		return NULL;
	for (t = 0; strcmp(fake_templates[t].name, tmpl) != 0; t++)
		;
	memset(vm, 0, sizeof(*vm));
	vm->used = 1;
	snprintf(vm->view.name, sizeof(vm->view.name), "%s", name);
	snprintf(vm->view.pool, sizeof(vm->view.pool), "%s", pool);
	snprintf(vm->view.template, sizeof(vm->view.template), "%s", tmpl);
	vm->view.kind = kind;
	vm->view.domid = XVDSD_NODOMAIN;
	vm->view.vcpus = fake_templates[t].vcpus;
	vm->view.max_vcpus = fake_templates[t].max_vcpus;
	vm->view.memory_mib = fake_templates[t].mib;
	vm->view.max_memory_mib = fake_templates[t].max_mib;
	vm->fsm.kind = kind;
	vm->fsm.state = state;
	vm->fsm.prev = state;
	sync_view(vm);
	vm->view.since = 1790000000;
	return vm;
}

void
fake_init(struct event_base *base, unsigned delay_ms)
{
	struct fake_vm *vm;

	fake_fini();
	memset(&fake, 0, sizeof(fake));
	fake.base = base;
	fake.delay_ms = delay_ms;
	fake.next_domid = 1;
	vm = add("desk-01", "desk", "win10", VM_CVM, VM_S_READY);
	vm->view.cpu_pct = 12.3456;
	snprintf(vm->view.addr, sizeof(vm->view.addr), "10.0.0.11");
	snprintf(vm->view.boot_id, sizeof(vm->view.boot_id),
	    "0123456789abcdef0123456789abcdef");
	add("desk-02", "desk", "win10", VM_CVM, VM_S_PAUSED);
	add("desk-03", "desk", "win10", VM_CVM, VM_S_SAVED);
	add("home-ann", "home", "ubuntu", VM_PVM, VM_S_INACTIVE);
	vm = add("desk-bad", "", "win10", VM_CVM, VM_S_READY);
	vm->fail = 1;
	snprintf(vm->view.last_error, sizeof(vm->view.last_error),
	    "pause failed: libxl: simulated failure");
	vm = add("desk-slow", "", "win10", VM_CVM, VM_S_INACTIVE);
	vm->delay_ms = 3000;
}

int
fake_vm_delay(const char *name, unsigned ms)
{
	struct fake_vm *vm = find(name);

	if (vm == NULL)
		return -1;
	vm->delay_ms = ms;
	return 0;
}

void
fake_host_fail(int on)
{
	fake.host_fail = on;
}

unsigned
fake_pending(void)
{
	return fake.nops;
}

static void
op_unlink(struct fake_op *op)
{
	struct fake_op **p;

	for (p = &fake.ops; *p != NULL; p = &(*p)->next)
		if (*p == op) {
			*p = op->next;
			break;
		}
	fake.nops--;
	op->vm->op = NULL;
	event_free(op->ev);
}

void
fake_fini(void)
{
	struct fake_op *op;

	while ((op = fake.ops) != NULL) {
		op_unlink(op);
		op->cb(op->arg, XVDS_E_FAILED, "xvdsd is stopping");
		free(op);
	}
}

/* The action's end: the machine settles, the requester hears. */
static void
op_fire(evutil_socket_t fd, short what, void *arg)
{
	struct fake_op *op = arg;
	struct fake_vm *vm = op->vm;
	enum vm_action a;
	char	 msg[256];

	(void)fd;
	(void)what;
	op_unlink(op);
	if (op->migrate_to[0] != '\0') {
		say(msg, sizeof(msg), "%s: fake: no xvdsd at %s to migrate to "
		    "(%s)", vm->view.name, op->migrate_to, op->live ? "live" :
		    "non-live");
		op->cb(op->arg, XVDS_E_FAILED, msg);
		free(op);
		return;
	}
	/* No guest: the fake agent applies it, or (fail) could not. */
	if (op->cred_user[0] != '\0') {
		if (vm->fail)
			op->cb(op->arg, XVDS_E_GUEST_FAILED, "fake: the guest's "
			    "agent could not apply it");
		else {
			say(msg, sizeof(msg), "%s: credential applied (fake: %s)",
			    vm->view.name, op->cred_user);
			op->cb(op->arg, XVDS_OK, msg);
		}
		free(op);
		return;
	}
	if (vm->fail) {
		vm_fsm_step(&vm->fsm, VM_EV_FAILED, &a);
		sync_view(vm);
		say(msg, sizeof(msg), "%s: libxl: simulated failure", vm->view.name);
		say(vm->view.last_error, sizeof(vm->view.last_error), "%.100s",
		    msg);
		op->cb(op->arg, XVDS_E_FAILED, msg);
		free(op);
		return;
	}
	if (op->set) {
		if (op->vcpus)
			vm->view.vcpus = op->vcpus;
		if (op->memory_mib)
			vm->view.memory_mib = op->memory_mib;
	}
	if (vm_state_transient(vm->fsm.state))
		vm_fsm_step(&vm->fsm, VM_EV_DONE, &a);
	if (vm_state_transient(vm->fsm.state))
		vm_fsm_step(&vm->fsm, VM_EV_BOOTED, &a);
	sync_view(vm);
	if (vm_state_transient(vm->fsm.state)) {
		say(msg, sizeof(msg), "%s did not settle (%s)", vm->view.name,
		    vm_state_names[vm->fsm.state]);
		op->cb(op->arg, XVDS_E_FAILED, msg);
	} else
		op->cb(op->arg, XVDS_OK, "");
	free(op);
}

static enum xvds_err
op_start(struct fake_vm *vm, xvds_reply_cb cb, void *arg, struct fake_op **op_r,
    char *msg, size_t msglen)
{
	struct fake_op *op;
	unsigned ms = vm->delay_ms ? vm->delay_ms : fake.delay_ms;
	struct timeval tv = { ms / 1000, (ms % 1000) * 1000 };

	if ((op = calloc(1, sizeof(*op))) == NULL ||
	    (op->ev = evtimer_new(fake.base, op_fire, op)) == NULL) {
		free(op);
		say(msg, msglen, "out of memory");
		return XVDS_E_INTERNAL;
	}
	op->vm = vm;
	op->cb = cb;
	op->arg = arg;
	op->next = fake.ops;
	fake.ops = op;
	fake.nops++;
	vm->op = op;
	evtimer_add(op->ev, &tv);
	*op_r = op;
	return XVDS_OK;
}

size_t
vm_list(struct vm_view *out, size_t max)
{
	size_t	 i, n = 0;

	for (i = 0; i < FAKE_VMS_MAX; i++)
		if (fake.vms[i].used) {
			if (n < max)
				out[n] = fake.vms[i].view;
			n++;
		}
	return n;
}

enum xvds_err
vm_get(const char *name, struct vm_view *v)
{
	struct fake_vm *vm = find(name);

	if (vm == NULL)
		return XVDS_E_NOVM;
	*v = vm->view;
	return XVDS_OK;
}

enum xvds_err
vm_request(const char *name, enum vm_event ev, xvds_reply_cb cb, void *arg,
    char *msg, size_t msglen)
{
	struct fake_vm *vm = find(name);
	struct fake_op *op;
	enum vm_action a;

	if (vm == NULL) {
		say(msg, msglen, "no VM named %s", name);
		return XVDS_E_NOVM;
	}
	if (vm->op != NULL) {
		say(msg, msglen, "%s is busy: %s", name,
		    vm_state_names[vm->fsm.state]);
		return XVDS_E_BUSY;
	}
	if (vm_fsm_lookup(vm->fsm.kind, vm->fsm.state, ev) == NULL) {
		say(msg, msglen, "%s is %s", name, vm_state_names[vm->fsm.state]);
		return XVDS_E_ILLEGAL;
	}
	vm_fsm_step(&vm->fsm, ev, &a);
	sync_view(vm);
	if (a == VM_A_NONE && !vm_state_transient(vm->fsm.state)) {
		cb(arg, XVDS_OK, "");
		return XVDS_OK;
	}
	return op_start(vm, cb, arg, &op, msg, msglen);
}

/* The VM of that name if nothing is under way on it; else NULL and why. */
static struct fake_vm *
find_idle(const char *name, enum xvds_err *err_r, char *msg, size_t msglen)
{
	struct fake_vm *vm = find(name);

	if (vm == NULL) {
		say(msg, msglen, "no VM named %s", name);
		*err_r = XVDS_E_NOVM;
		return NULL;
	}
	if (vm->op != NULL) {
		say(msg, msglen, "%s is busy", name);
		*err_r = XVDS_E_BUSY;
		return NULL;
	}
	return vm;
}

enum xvds_err
vm_set_resources(const char *name, unsigned vcpus, uint64_t memory_mib,
    xvds_reply_cb cb, void *arg, char *msg, size_t msglen)
{
	struct fake_vm *vm;
	struct fake_op *op;
	enum xvds_err err;

	if ((vm = find_idle(name, &err, msg, msglen)) == NULL)
		return err;
	if (!has_domain(vm->fsm.state)) {
		say(msg, msglen, "%s has no domain: it is %s", name,
		    vm_state_names[vm->fsm.state]);
		return XVDS_E_ILLEGAL;
	}
	if (vcpus > vm->view.max_vcpus) {
		say(msg, msglen, "%s: at most %u vCPUs", name, vm->view.max_vcpus);
		return XVDS_E_INVAL;
	}
	if (memory_mib > vm->view.max_memory_mib) {
		say(msg, msglen, "%s: at most %ju MiB", name,
		    (uintmax_t)vm->view.max_memory_mib);
		return XVDS_E_INVAL;
	}
	if ((err = op_start(vm, cb, arg, &op, msg, msglen)) != XVDS_OK)
		return err;
	op->set = 1;
	op->vcpus = vcpus;
	op->memory_mib = memory_mib;
	return XVDS_OK;
}

enum xvds_err
vm_migrate(const char *name, const char *peer, bool live, xvds_reply_cb cb,
    void *arg, char *msg, size_t msglen)
{
	struct fake_vm *vm;
	struct fake_op *op;
	enum xvds_err err;

	if ((vm = find_idle(name, &err, msg, msglen)) == NULL)
		return err;
	if (vm->fsm.state != VM_S_READY && vm->fsm.state != VM_S_RUNNING) {
		say(msg, msglen, "migrate %s: illegal transition for a VM that is %s",
		    name, vm_state_names[vm->fsm.state]);
		return XVDS_E_ILLEGAL;
	}
	if ((err = op_start(vm, cb, arg, &op, msg, msglen)) != XVDS_OK)
		return err;
	say(op->migrate_to, sizeof(op->migrate_to), "%s", peer);
	op->live = live;
	return XVDS_OK;
}

enum xvds_err
vm_credential(const char *name, const char *user, const char *password,
    xvds_reply_cb cb, void *arg, char *msg, size_t msglen)
{
	struct fake_vm *vm;
	struct fake_op *op;
	enum xvds_err err;

	if ((vm = find_idle(name, &err, msg, msglen)) == NULL)
		return err;
	if (!credential_user_ok(user) || !credential_password_ok(password)) {
		say(msg, msglen, "fake: not a credential");
		return XVDS_E_INVAL;
	}
	if (vm->fsm.state != VM_S_READY && vm->fsm.state != VM_S_RUNNING) {
		say(msg, msglen, "%s is %s: a credential needs a ready or running "
		    "VM", name, vm_state_names[vm->fsm.state]);
		return XVDS_E_ILLEGAL;
	}
	if ((err = op_start(vm, cb, arg, &op, msg, msglen)) != XVDS_OK)
		return err;
	say(op->cred_user, sizeof(op->cred_user), "%s", user);
	return XVDS_OK;
}

enum xvds_err
vm_define(const char *name, const char *tmpl, enum vm_kind kind, char *msg,
    size_t msglen)
{
	size_t	 t;

	if (find(name) != NULL) {
		say(msg, msglen, "a VM named %s exists", name);
		return XVDS_E_EXISTS;
	}
	for (t = 0; t < sizeof(fake_templates) / sizeof(fake_templates[0]); t++)
		if (strcmp(fake_templates[t].name, tmpl) == 0)
			break;
	if (t == sizeof(fake_templates) / sizeof(fake_templates[0])) {
		say(msg, msglen, "no template named %s", tmpl);
		return XVDS_E_INVAL;
	}
	if (add(name, "", tmpl, kind, VM_S_INACTIVE) == NULL) {
		say(msg, msglen, "too many VMs");
		return XVDS_E_INTERNAL;
	}
	return XVDS_OK;
}

enum xvds_err
vm_undefine(const char *name, char *msg, size_t msglen)
{
	struct fake_vm *vm = find(name);

	if (vm == NULL) {
		say(msg, msglen, "no VM named %s", name);
		return XVDS_E_NOVM;
	}
	if (vm->op != NULL || vm->fsm.state != VM_S_INACTIVE) {
		say(msg, msglen, "%s is %s: only an inactive VM can be undefined",
		    name, vm_state_names[vm->fsm.state]);
		return XVDS_E_ILLEGAL;
	}
	vm->used = 0;
	return XVDS_OK;
}

int
host_view(struct host_view *h)
{
	size_t	 i;
	double	 cpu = 0;

	if (fake.host_fail)
		return -1;
	memset(h, 0, sizeof(*h));
	snprintf(h->hostname, sizeof(h->hostname), "fake-host");
	snprintf(h->hypervisor, sizeof(h->hypervisor), "fake");
	h->tcpu = 800;
	h->tmem_mib = 32768;
	for (i = 0; i < FAKE_VMS_MAX; i++) {
		const struct vm_view *v = &fake.vms[i].view;

		if (!fake.vms[i].used || v->domid == XVDSD_NODOMAIN)
			continue;
		h->rvm++;
		h->acpu += 100 * v->vcpus;
		h->amem_mib += v->memory_mib;
		cpu += v->cpu_pct;
	}
	h->fcpu = h->tcpu - (unsigned)cpu;
	h->fmem_mib = h->tmem_mib - h->amem_mib;
	return 0;
}

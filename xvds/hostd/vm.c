/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * hostd/vm.c — the VMs of this host.  Each VM runs its kind's state machine
 * (common/vm_fsm.c); every input becomes an event of that machine: requests
 * from the control socket, the state's timer, the guest's validated reports,
 * the hypervisor's answers and death reports.  change_state() is the one
 * choke point: it logs, persists and re-arms the timer; vm_settle() answers
 * a waiting request once the VM is in a stable state with nothing under
 * way.  Migration (hostd/vm_migrate.c), clean images and fast resets
 * (hostd/vm_clean.c) and credentials (hostd/vm_cred.c) sit above this file:
 * they use what hostd/vm_priv.h shares, and this file reaches them only
 * through the hooks hostd/vm_init.c hands vm_core_init.
 */
#include <config.h>

#include <sys/queue.h>
#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>
#include <jansson.h>

#include "hostd/clean.h"
#include "common/conf.h"
#include "hostd/diskcopy.h"
#include "common/jsonerr.h"
#include "common/log.h"
#include "hostd/migrate.h"
#include "hostd/qcow2.h"
#include "hostd/reconcile.h"
#include "hv/reportwatch.h"
#include "common/template.h"
#include "hostd/vm.h"
#include "hostd/vm_priv.h"
#include "hostd/xvdsd.h"

#define OP_TIMEOUT	600	/* seconds for pause, save, restore, reset */
#define RECORD_VERSION	1
#define USERDATA_VERSION 2	/* 2: names the host, for two xvdsd on one */

/* What the VMs of this host share. */
static struct {
	struct event_base *base;
	struct hv	*hv;
	struct xvds_conf *conf;
	struct reportwatch *rw;
	struct event	*rw_ev;
	TAILQ_HEAD(, vm) vms;
	unsigned	 busy;		/* hypervisor operations under way */
	const struct vm_hooks *hooks;	/* the files above (hostd/vm_priv.h) */
} this_host;

struct event_base *
vm_base(void)
{
	return this_host.base;
}

struct hv *
vm_hv(void)
{
	return this_host.hv;
}

struct reportwatch *
vm_reportwatch(void)
{
	return this_host.rw;
}


const struct conf_settings *
vm_settings(void)
{
	return conf_settings(this_host.conf);
}

const struct conf_template *
vm_conf_template(const char *name)
{
	return conf_template(this_host.conf, name);
}

struct vm *
vm_find(const char *name)
{
	struct vm *vm;

	TAILQ_FOREACH(vm, &this_host.vms, entry)
		if (strcmp(vm->name, name) == 0)
			return vm;
	return NULL;
}

static struct vm *
find_domain(uint32_t domid)
{
	struct vm *vm;

	if (domid == XVDSD_NODOMAIN)
		return NULL;
	TAILQ_FOREACH(vm, &this_host.vms, entry)
		if (vm->domid == domid)
			return vm;
	return NULL;
}

static const struct conf_pool *
vm_pool(const struct vm *vm)
{
	return vm->pool[0] != '\0' ? conf_pool(this_host.conf, vm->pool) : NULL;
}

void
vm_set_error(struct vm *vm, const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	vsnprintf(vm->last_error, sizeof(vm->last_error), fmt, ap);
	va_end(ap);
	log_warnx("%s: %s", vm->name, vm->last_error);
}

/* Records: one JSON file per VM in <state-dir>/vms, written atomically. */

const char *const vm_mig_phase_names[] = {
	[VM_MIG_NONE] = "none",
	[VM_MIG_SENDING] = "sending",
	[VM_MIG_COMMITTING] = "committing",
	[VM_MIG_INCOMING] = "incoming",
	[VM_MIG_COMMITTED] = "committed",
};

static int
record_path(const struct vm *vm, char *buf, size_t len, const char *suffix)
{
	int	 n;

	n = snprintf(buf, len, "%s/vms/%s.json%s", vm_settings()->state_dir,
	    vm->name, suffix);
	return n < 0 || (size_t)n >= len ? -1 : 0;
}

int
vm_record_save(const struct vm *vm)
{
	char	 path[VMSPEC_PATH_MAX + 64], tmp[VMSPEC_PATH_MAX + 72];
	json_t	*o;

	if (record_path(vm, path, sizeof(path), "") == -1 ||
	    record_path(vm, tmp, sizeof(tmp), ".tmp") == -1) {
		log_warnx("%s: record path too long", vm->name);
		return -1;
	}
	o = json_pack("{s:i, s:s, s:s, s:s, s:s, s:s, s:s, s:I, s:s, s:I}",
	    "v", RECORD_VERSION, "name", vm->name, "pool", vm->pool,
	    "template", vm->template, "kind", vm_kind_names[vm->fsm.kind],
	    "state", vm_state_names[vm->fsm.state],
	    "prev", vm_state_names[vm->fsm.prev],
	    "domid", (json_int_t)(vm->domid == XVDSD_NODOMAIN ? -1 :
	    (json_int_t)vm->domid),
	    "boot_id", vm->boot_id, "since", (json_int_t)vm->since);
	if (o == NULL) {
		log_warnx("%s: cannot build its record", vm->name);
		return -1;
	}
	if (vm->mig_phase != VM_MIG_NONE)
		json_object_set_new(o, "migration", json_pack("{s:s, s:s}", "peer",
		    vm->mig_peer, "phase", vm_mig_phase_names[vm->mig_phase]));
	if (vm->away)
		json_object_set_new(o, "away", json_string(vm->mig_peer));
	/* A crash mid-write leaves the old record whole. */
	if (json_dump_file(o, tmp, JSON_COMPACT) == -1 || rename(tmp, path) == -1) {
		log_warn("%s: cannot write its record %s", vm->name, path);
		json_decref(o);
		return -1;
	}
	json_decref(o);
	return 0;
}

void
vm_record_remove(const struct vm *vm)
{
	char	 path[VMSPEC_PATH_MAX + 64];

	if (record_path(vm, path, sizeof(path), "") == 0 && unlink(path) == -1 &&
	    errno != ENOENT)
		log_warn("%s: cannot remove its record", vm->name);
}

/* The saved image of a CVM on the shared store. */
static int
image_path(const struct vm *vm, char *buf, size_t len)
{
	int	 n;

	n = snprintf(buf, len, "%s/saved/%s.img", vm_settings()->store,
	    vm->name);
	return n < 0 || (size_t)n >= len ? -1 : 0;
}

static bool
image_exists(const struct vm *vm)
{
	char	 path[VMSPEC_PATH_MAX + 64];
	struct stat st;

	return image_path(vm, path, sizeof(path)) == 0 && stat(path, &st) == 0 &&
	    S_ISREG(st.st_mode);
}

static int
mkdir_p(const char *dir)
{
	char	 buf[VMSPEC_PATH_MAX + 64];
	char	*p;

	if (snprintf(buf, sizeof(buf), "%s", dir) >= (int)sizeof(buf))
		return -1;
	for (p = buf + 1; *p != '\0'; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(buf, 0700) == -1 && errno != EEXIST)
			return -1;
		*p = '/';
	}
	if (mkdir(buf, 0700) == -1 && errno != EEXIST)
		return -1;
	return 0;
}

/* Replies: always from the loop, never from within vm_request. */

struct reply {
	TAILQ_ENTRY(reply) entry;
	struct event	*ev;
	xvds_reply_cb	 cb;
	void		*arg;
	enum xvds_err	 err;
	char		 msg[256];
};

static TAILQ_HEAD(, reply) replies = TAILQ_HEAD_INITIALIZER(replies);

static void
reply_fire(evutil_socket_t fd, short what, void *arg)
{
	struct reply *r = arg;

	(void)fd;
	(void)what;
	TAILQ_REMOVE(&replies, r, entry);
	event_free(r->ev);
	r->cb(r->arg, r->err, r->msg);
	free(r);
}

void
vm_reply_later(xvds_reply_cb cb, void *arg, enum xvds_err err, const char *fmt,
    ...)
{
	struct reply *r;
	va_list	 ap;

	if ((r = calloc(1, sizeof(*r))) == NULL)
		fatal("%s", __func__);
	r->cb = cb;
	r->arg = arg;
	r->err = err;
	va_start(ap, fmt);
	vsnprintf(r->msg, sizeof(r->msg), fmt, ap);
	va_end(ap);
	if ((r->ev = event_new(this_host.base, -1, 0, reply_fire, r)) == NULL)
		fatalx("%s: event_new", __func__);
	TAILQ_INSERT_TAIL(&replies, r, entry);
	event_active(r->ev, EV_TIMEOUT, 0);
}

void
vm_settle(struct vm *vm)
{
	xvds_reply_cb cb = vm->reply;

	/* A VM that left is forgotten from the loop, once nothing runs. */
	if (vm->leaving && vm->ops == 0 && !vm_state_transient(vm->fsm.state))
		event_active(vm->gc, EV_TIMEOUT, 0);

	/* Settled: a stable state, and no destroy or the like still running. */
	if (cb == NULL || vm_state_transient(vm->fsm.state) || vm->ops > 0)
		return;
	vm->reply = NULL;
	if (vm->fsm.state == vm->reply_target)
		vm_reply_later(cb, vm->reply_arg, XVDS_OK, "%s is %s", vm->name,
		    vm_state_names[vm->fsm.state]);
	else
		vm_reply_later(cb, vm->reply_arg, XVDS_E_FAILED, "%s is %s: %s",
		    vm->name, vm_state_names[vm->fsm.state],
		    vm->last_error[0] ? vm->last_error : "see the log");
}

/* Timers: each state's deadline or idle time. */

static unsigned
ready_count(const char *pool)
{
	struct vm *vm;
	unsigned n = 0;

	TAILQ_FOREACH(vm, &this_host.vms, entry)
		if (strcmp(vm->pool, pool) == 0 &&
		    (vm->fsm.state == VM_S_READY || vm->fsm.state == VM_S_STARTING ||
		    vm->fsm.state == VM_S_UNPAUSING || vm->fsm.state == VM_S_RESTORING ||
		    vm->fsm.state == VM_S_RESETTING))
			n++;
	return n;
}

static void
timer_fired(evutil_socket_t fd, short what, void *arg)
{
	struct vm *vm = arg;
	const struct conf_pool *pool = vm_pool(vm);

	(void)fd;
	(void)what;
	switch (vm->fsm.state) {
	case VM_S_READY:
		/* The warm buffer: the pool's last Ready CVMs stay Ready. */
		if (pool != NULL && ready_count(vm->pool) <= pool->ready) {
			struct timeval tv = { (time_t)pool->idle_pause, 0 };

			evtimer_add(vm->timer, &tv);
			return;
		}
		vm_event(vm, VM_EV_PAUSE, "idle");
		break;
	case VM_S_PAUSED:
		vm_event(vm, VM_EV_SAVE, "idle");
		break;
	case VM_S_RUNNING:
		/* The user did not come back within the grace time. */
		if (vm->grace) {
			vm->grace = false;
			vm_event(vm, VM_EV_SESSION_END, "no session in the guest");
		}
		break;
	default:
		vm_set_error(vm, "%s took too long",
		    vm_state_names[vm->fsm.state]);
		vm_event(vm, VM_EV_TIMEOUT, "deadline");
		break;
	}
}

void
vm_arm_timer(struct vm *vm)
{
	const struct conf_pool *pool = vm_pool(vm);
	/* Idle is the controller's on a host that has one (xvdsd(8)). */
	bool	 idle = pool != NULL && !vm_settings()->controller;
	unsigned secs = 0;

	evtimer_del(vm->timer);
	vm->grace = false;
	switch (vm->fsm.state) {
	case VM_S_STARTING:
		secs = vm_settings()->boot_timeout;
		break;
	case VM_S_STOPPING:
		secs = vm_settings()->shutdown_timeout;
		break;
	case VM_S_READY:
		if (vm->fsm.kind == VM_CVM && idle)
			secs = pool->idle_pause;
		break;
	case VM_S_PAUSED:
		if (idle)
			secs = pool->idle_save;
		break;
	default:
		/* The CVM-only transient states; the migration protocol, not a
		 * deadline, settles migrating and incoming (doc/architecture.md). */
		if (vm_state_transient(vm->fsm.state) &&
		    vm->fsm.state != VM_S_MIGRATING &&
		    vm->fsm.state != VM_S_INCOMING)
			secs = OP_TIMEOUT;
		break;
	}
	if (secs > 0) {
		struct timeval tv = { (time_t)secs, 0 };

		evtimer_add(vm->timer, &tv);
	}
}

/* Outside this_host, which vm_shutdown() clears: hostd/main.c sets it once. */
static struct {
	vm_change_hook	 fn;
	void		*arg;
} change_hook;

void
vm_set_change_hook(vm_change_hook fn, void *arg)
{
	change_hook.fn = fn;
	change_hook.arg = arg;
}

static void
change_state(struct vm *vm, enum vm_state from, enum vm_event ev,
    enum vm_action action, const char *why)
{
	if (from != vm->fsm.state || action != VM_A_NONE)
		log_info("%s: %s -> %s on %s%s%s%s%s", vm->name,
		    vm_state_names[from], vm_state_names[vm->fsm.state],
		    vm_event_names[ev], why ? " (" : "", why ? why : "",
		    why ? ")" : "", action != VM_A_NONE ? "" : "");
	if (from != vm->fsm.state) {
		vm->since = time(NULL);
		/* A new action: the last one's error is history. */
		if (vm_state_transient(vm->fsm.state) && !vm_state_transient(from))
			vm->last_error[0] = '\0';
		vm_record_save(vm);
		vm_arm_timer(vm);
		this_host.hooks->cred_check(vm);
		if (change_hook.fn != NULL)
			change_hook.fn(vm->name, change_hook.arg);
	}
}

/* The domain a VM has (or had): identity, watches, reports. */

void
vm_adopt_domain(struct vm *vm, uint32_t domid)
{
	time_t	 start = 0;

	vm->domid = domid;
	vm->have_addrs = false;
	vm->addr[0] = '\0';
	vm->rdp_sha256[0] = '\0';
	if (hv_watch_domain(this_host.hv, domid) == -1)
		log_warnx("%s: domain %u: its death will not be noticed", vm->name,
		    domid);
	if (hv_domain_start_time(this_host.hv, domid, &start) == -1)
		start = 0;
	/* A credential left by an xvdsd that died mid-delivery goes now. */
	if (reportwatch_secret_remove(this_host.rw, domid) == -1)
		log_warnx("%s: domain %u: cannot clear its credential key",
		    vm->name, domid);
	/* A PVM must boot anew: its previous boot's records are stale. */
	if (reportwatch_add(this_host.rw, domid, start,
	    vm->fsm.kind == VM_PVM && vm->fsm.state == VM_S_STARTING &&
	    vm->boot_id[0] != '\0' ? vm->boot_id : NULL) == -1)
		log_warnx("%s: domain %u: its reports will not be read", vm->name,
		    domid);
}

void
vm_forget_domain(struct vm *vm)
{
	if (vm->domid == XVDSD_NODOMAIN)
		return;
	reportwatch_remove(this_host.rw, vm->domid);
	hv_unwatch_domain(this_host.hv, vm->domid);
	vm->domid = XVDSD_NODOMAIN;
	vm->have_addrs = false;
	vm->addr[0] = '\0';
	vm->rdp_sha256[0] = '\0';
	vm->cpu_pct = 0;
	this_host.hooks->cred_check(vm);
}

void
vm_store_identity(struct vm *vm)
{
	json_t	*o;
	char	*s;

	o = json_pack("{s:i, s:s, s:s, s:s}", "xvds", USERDATA_VERSION, "vm",
	    vm->name, "kind", vm_kind_names[vm->fsm.kind], "host",
	    vm_settings()->host_name);
	if (o == NULL || (s = json_dumps(o, JSON_COMPACT)) == NULL) {
		json_decref(o);
		return;
	}
	if (hv_userdata_store(this_host.hv, vm->domid, s, strlen(s)) == -1)
		log_warnx("%s: domain %u: identity not stored; a restarted "
		    "xvdsd will not recognise it", vm->name, vm->domid);
	free(s);
	json_decref(o);
}

/*
 * Reads the VM name out of a domain's identity blob: 0 if it is this
 * xvdsd's, IDENTITY_NONE if the domain has no blob at all, -1 if it is
 * someone else's (another xvdsd on the same host carries its own name).
 */
#define IDENTITY_NONE	1
static int
read_identity(uint32_t domid, char *name, size_t len)
{
	json_t	*o;
	json_error_t jerr;
	const char *vmname = NULL, *host = NULL;
	void	*data = NULL;
	size_t	 dlen = 0;
	int	 version = 0, rc = -1;

	if (hv_userdata_retrieve(this_host.hv, domid, &data, &dlen) == -1)
		return -1;
	if (data == NULL)
		return IDENTITY_NONE;
	o = json_loadb(data, dlen, 0, &jerr);
	free(data);
	if (o != NULL && json_unpack(o, "{s:i, s:s, s:s}", "xvds", &version, "vm",
	    &vmname, "host", &host) == 0 && version == USERDATA_VERSION &&
	    strcmp(host, vm_settings()->host_name) == 0 &&
	    strlen(vmname) < len) {
		snprintf(name, len, "%s", vmname);
		rc = 0;
	}
	json_decref(o);
	return rc;
}

int
vm_make_spec(struct vm *vm, struct vm_spec *spec)
{
	const struct conf_template *t = conf_template(this_host.conf,
	    vm->template);
	char	 err[160];

	if (t == NULL) {
		vm_set_error(vm, "template %s is no longer configured",
		    vm->template);
		return -1;
	}
	if (template_instantiate(t, vm_settings()->store, vm->name, spec, err,
	    sizeof(err)) == -1) {
		vm_set_error(vm, "%s", err);
		return -1;
	}
	if (vm->vcpus != 0 && vm->vcpus <= spec->max_vcpus)
		spec->vcpus = vm->vcpus;
	if (vm->memory_mib != 0 && vm->memory_mib <= spec->max_memory_mib)
		spec->memory_mib = vm->memory_mib;
	return 0;
}

/*
 * A VM's own disks on the store, before its domain is made.  fresh: make
 * every overlay anew from its golden image (a CVM starting or reset);
 * otherwise only the missing ones (a PVM keeps its user's data, a restored
 * CVM its disk as it was saved).
 */
static int
prepare_disks(struct vm *vm, const struct vm_spec *spec, bool fresh)
{
	const struct conf_template *t = conf_template(this_host.conf,
	    vm->template);
	char	 dir[VMSPEC_PATH_MAX + 1], err[256];
	struct stat st;
	size_t	 i;

	if (t == NULL)
		return -1;
	for (i = 0; i < spec->ndisks; i++) {
		const struct vm_disk *d = &spec->disks[i];
		const char *golden = template_disk_golden(t, d->vdev);
		bool	 exists = stat(d->path, &st) == 0;

		if (golden == NULL)
			continue;	/* a shared image, used as it is */
		if (exists && !fresh)
			continue;
		if (template_vm_dir(vm_settings()->store, vm->name, dir,
		    sizeof(dir)) == -1 || mkdir_p(dir) == -1) {
			vm_set_error(vm,
			    "cannot make its directory on the store");
			return -1;
		}
		/* An overlay over the golden image, or a whole copy of it. */
		if ((d->format == VM_DISK_QCOW2 ? qcow2_create_overlay(d->path,
		    golden, err, sizeof(err)) : disk_copy(golden, d->path, err,
		    sizeof(err))) == -1) {
			vm_set_error(vm, "disk %s: %s", d->vdev, err);
			return -1;
		}
		log_info("%s: disk %s: %s %s %s", vm->name, d->vdev,
		    exists ? "reset to the golden image:" : "made:",
		    d->format == VM_DISK_QCOW2 ? "an overlay over" : "a copy of",
		    golden);
	}
	return 0;
}

/* Hypervisor answers. */

enum vm_event
vm_result_event(enum hv_result r)
{
	return r == HV_OK ? VM_EV_DONE : r == HV_FAILED ? VM_EV_FAILED : VM_EV_LOST;
}

void
vm_op_started(struct vm *vm)
{
	vm->ops++;
	this_host.busy++;
}

void
vm_op_ended(struct vm *vm)
{
	vm->ops--;
	this_host.busy--;
}

/* A hypervisor answer's own part, between the op's end and the settling. */
typedef void (*hv_answer_body)(struct vm *, enum hv_result, uint32_t domid);

/* Every hypervisor answer ends the VM's op, does its part, settles the VM. */
static void
hv_answered(void *arg, hv_answer_body body, enum hv_result r, uint32_t domid)
{
	struct vm *vm = arg;

	vm_op_ended(vm);
	body(vm, r, domid);
	vm_settle(vm);
}

static void start_pool_vm(struct vm *);

/* After create or restore. */
static void
made_cb_body(struct vm *vm, enum hv_result r, uint32_t domid)
{
	bool	 fast = vm->fast_reset;

	vm->fast_reset = false;
	if (fast && vm->fsm.state == VM_S_RESETTING) {
		if (r == HV_FAILED) {
			/* The clean image failed us: drop it, reset the cold way. */
			log_warnx("%s: its clean image did not restore: resetting "
			    "it cold", vm->name);
			clean_discard(vm_settings()->store, vm->name);
			vm_start_fresh(vm);
			return;
		}
		if (r == HV_OK) {
			vm_adopt_domain(vm, domid);
			vm_store_identity(vm);
			vm_event(vm, VM_EV_DONE, "clean image restored");
			return;
		}
	}
	if (r != HV_OK) {
		vm_set_error(vm, "the hypervisor could not %s the domain",
		    vm->fsm.state == VM_S_RESTORING ? "restore" : "create");
		vm_event(vm, vm_result_event(r), NULL);
		return;
	}
	/* Made for a VM that has moved on (destroyed meanwhile): unwanted. */
	if (vm->fsm.state != VM_S_STARTING && vm->fsm.state != VM_S_RESTORING &&
	    vm->fsm.state != VM_S_RESETTING) {
		log_info("%s: domain %u made after the VM became %s: destroying it",
		    vm->name, domid, vm_state_names[vm->fsm.state]);
		vm->domid = domid;
		vm_destroy_domain(vm);
		return;
	}
	vm_adopt_domain(vm, domid);
	vm_store_identity(vm);
	if (vm->fsm.state == VM_S_RESTORING) {
		char	 path[VMSPEC_PATH_MAX + 64];

		/* Restored: the image is spent; a later save writes a new one. */
		if (image_path(vm, path, sizeof(path)) == 0 && unlink(path) == -1)
			log_warn("%s: cannot remove the spent image %s", vm->name, path);
		vm_event(vm, VM_EV_DONE, NULL);
	} else if (vm->fsm.state == VM_S_STARTING)
		vm_event(vm, VM_EV_DONE, "domain made");
	/* Resetting: done once the fresh guest reports its boot. */
}

void
vm_made_cb(void *arg, enum hv_result r, uint32_t domid)
{
	hv_answered(arg, made_cb_body, r, domid);
}

static void
simple_cb_body(struct vm *vm, enum hv_result r, uint32_t domid)
{
	(void)domid;
	if (r != HV_OK)
		vm_set_error(vm, "%s failed in the hypervisor",
		    vm_state_names[vm->fsm.state]);
	vm_event(vm, vm_result_event(r), NULL);
}

void
vm_simple_cb(void *arg, enum hv_result r, uint32_t domid)
{
	hv_answered(arg, simple_cb_body, r, domid);
}

static void
saved_cb_body(struct vm *vm, enum hv_result r, uint32_t domid)
{
	(void)domid;
	if (r == HV_OK)
		vm_forget_domain(vm);
	else {
		vm_set_error(vm, "save failed in the hypervisor");
		if (r == HV_LOST)
			vm_forget_domain(vm);
	}
	vm_event(vm, vm_result_event(r), NULL);
}

static void
saved_cb(void *arg, enum hv_result r, uint32_t domid)
{
	hv_answered(arg, saved_cb_body, r, domid);
}

static void
shutdown_cb_body(struct vm *vm, enum hv_result r, uint32_t domid)
{
	(void)domid;
	/* Asked: its death comes as a report.  Not asked: force it. */
	if (r != HV_OK) {
		vm_set_error(vm, "the guest could not be asked to shut down");
		vm_event(vm, VM_EV_FAILED, NULL);
	}
}

static void
shutdown_cb(void *arg, enum hv_result r, uint32_t domid)
{
	hv_answered(arg, shutdown_cb_body, r, domid);
}

static void
destroyed_cb_body(struct vm *vm, enum hv_result r, uint32_t domid)
{
	if (r != HV_OK) {
		vm_set_error(vm, "domain %u could not be destroyed", domid);
		return;
	}
	if (vm->domid == domid)
		vm_forget_domain(vm);
	if (vm->fsm.state == VM_S_STOPPING)
		vm_event(vm, VM_EV_DONE, "destroyed");
	else if (vm->fsm.state == VM_S_RESETTING)
		this_host.hooks->clean_reset_restart(vm);
	else if (vm->fsm.state == VM_S_INACTIVE && vm->start_when_reaped) {
		/* Reaped at start-up: a pool CVM boots again. */
		vm->start_when_reaped = false;
		start_pool_vm(vm);
	}
}

static void
destroyed_cb(void *arg, enum hv_result r, uint32_t domid)
{
	hv_answered(arg, destroyed_cb_body, r, domid);
}

/* A reset's second half: a fresh domain from the template. */
void
vm_start_fresh(struct vm *vm)
{
	struct vm_spec spec;

	if (vm_make_spec(vm, &spec) == -1 ||
	    prepare_disks(vm, &spec, vm->fsm.kind == VM_CVM) == -1 ||
	    hv_create(this_host.hv, &spec, false, vm_made_cb, vm) == -1) {
		if (vm->last_error[0] == '\0')
			vm_set_error(vm,
			    "the hypervisor refused to create the domain");
		vm_event(vm, VM_EV_FAILED, NULL);
		return;
	}
	vm_op_started(vm);
}

void
vm_destroy_domain(struct vm *vm)
{
	uint32_t domid = vm->domid;

	if (domid == XVDSD_NODOMAIN)
		return;
	if (hv_destroy(this_host.hv, domid, destroyed_cb, vm) == -1) {
		/* Already gone. */
		vm_forget_domain(vm);
		return;
	}
	vm_op_started(vm);
}

/* Carries out a transition's action; its outcome comes back as an event. */
static void
run_action(struct vm *vm, enum vm_action action)
{
	struct vm_spec spec;
	char	 path[VMSPEC_PATH_MAX + 64];
	int	 rc = 0;

	switch (action) {
	case VM_A_NONE:
		return;
	case VM_A_CREATE:
		/* A CVM never keeps a disk from before: it starts golden. */
		if ((rc = vm_make_spec(vm, &spec)) == 0 &&
		    (rc = prepare_disks(vm, &spec, vm->fsm.kind == VM_CVM)) == 0)
			rc = hv_create(this_host.hv, &spec, false, vm_made_cb,
			    vm);
		break;
	case VM_A_PAUSE:
		rc = hv_pause(this_host.hv, vm->domid, vm_simple_cb, vm);
		break;
	case VM_A_UNPAUSE:
		rc = hv_unpause(this_host.hv, vm->domid, vm_simple_cb, vm);
		break;
	case VM_A_SAVE:
		snprintf(path, sizeof(path), "%s/saved", vm_settings()->store);
		if (mkdir_p(path) == -1 || image_path(vm, path, sizeof(path)) == -1) {
			vm_set_error(vm, "cannot make %s/saved",
			    vm_settings()->store);
			rc = -1;
		} else
			rc = hv_save(this_host.hv, vm->domid, path, saved_cb,
			    vm);
		break;
	case VM_A_RESTORE:
		if ((rc = vm_make_spec(vm, &spec)) == 0 &&
		    (rc = prepare_disks(vm, &spec, false)) == 0 &&
		    (rc = image_path(vm, path, sizeof(path))) == 0)
			rc = hv_restore(this_host.hv, &spec, path, false,
			    vm_made_cb, vm);
		break;
	case VM_A_RESET:
		/*
		 * The cold way: fresh overlays over the golden images and a
		 * fresh domain, done once its guest reports its boot.
		 * (Restoring a clean saved image is the fast way, to come.)
		 */
		if (vm->domid != XVDSD_NODOMAIN) {
			vm_destroy_domain(vm);
			return;
		}
		this_host.hooks->clean_reset_restart(vm);
		return;
	case VM_A_SHUTDOWN:
		rc = hv_shutdown(this_host.hv, vm->domid, shutdown_cb, vm);
		break;
	case VM_A_DESTROY:
		vm_destroy_domain(vm);
		return;
	case VM_A_DISCARD:
		if (image_path(vm, path, sizeof(path)) == 0 && unlink(path) == -1 &&
		    errno != ENOENT)
			log_warn("%s: cannot remove its image %s", vm->name, path);
		return;
	case VM_A_SNAPSHOT:
		rc = this_host.hooks->clean_snapshot(vm);
		break;
	case VM_A_MIGRATE:
		if ((rc = this_host.hooks->migrate_start(vm)) == 0)
			break;
		vm->mig_phase = VM_MIG_NONE;
		break;
	default:
		vm_set_error(vm, "internal error: no code for action %s",
		    vm_action_names[action]);
		rc = -1;
		break;
	}
	if (rc == -1) {
		if (vm->last_error[0] == '\0')
			vm_set_error(vm, "the hypervisor refused to %s it",
			    vm_action_names[action]);
		vm_event(vm, VM_EV_FAILED, NULL);
		return;
	}
	vm_op_started(vm);
}

/*
 * Feeds an event to a VM's machine.  A refused event from the daemon's
 * own sources (timers, reports, answers) is logged and dropped.
 */
void
vm_event(struct vm *vm, enum vm_event ev, const char *why)
{
	enum vm_state from = vm->fsm.state;
	enum vm_action action;

	if (vm_fsm_step(&vm->fsm, ev, &action) == -1) {
		log_debug("%s: %s ignored in state %s", vm->name,
		    vm_event_names[ev], vm_state_names[from]);
		return;
	}
	change_state(vm, from, ev, action, why);
	run_action(vm, action);
	vm_settle(vm);
	/* Freshly booted from its golden disks: the moment for a clean image. */
	if (vm->fsm.state == VM_S_READY && (from == VM_S_STARTING ||
	    from == VM_S_RESETTING) && vm->fsm.kind == VM_CVM)
		event_active(vm->snap_ev, EV_TIMEOUT, 0);
}

/* Inputs from the hypervisor and the guests. */

void
vm_domain_died(void *arg, uint32_t domid, enum hv_death why)
{
	struct vm *vm = find_domain(domid);

	(void)arg;
	if (vm == NULL)
		return;
	log_info("%s: domain %u stopped: %s", vm->name, domid, hv_death_names[why]);
	vm_event(vm, VM_EV_DIED, hv_death_names[why]);
}

/*
 * The guest says whether an RDP session is on.  A session that appears
 * makes a ready VM running; one that goes away ends a running VM's
 * session only after session-grace, so that the user may reconnect.  A
 * VM that is not running has no session to end: "none" from a guest that
 * just booted means nothing.
 */
static void
guest_session(struct vm *vm, bool active)
{
	unsigned grace = vm_settings()->session_grace;

	if (active) {
		if (vm->grace) {
			log_info("%s: the user is back", vm->name);
			vm_arm_timer(vm);	/* drops the grace time */
		}
		if (vm->fsm.state == VM_S_READY)
			vm_event(vm, VM_EV_SESSION_START, "guest");
		return;
	}
	if (vm->fsm.state != VM_S_RUNNING || vm->grace)
		return;
	if (grace == 0) {
		vm_event(vm, VM_EV_SESSION_END, "guest");
		return;
	}
	log_info("%s: no session in the guest; ending it in %u s unless the "
	    "user reconnects", vm->name, grace);
	vm->grace = true;
	{
		struct timeval tv = { (time_t)grace, 0 };

		evtimer_add(vm->timer, &tv);
	}
}

void
vm_guest_report(void *arg, enum report_event ev, const char *key,
    const struct report_domain *d, const char *reason)
{
	struct vm *vm = find_domain(d->domid);
	char	 was[sizeof(vm->addr)];
	int	 pick;

	(void)arg;
	if (vm == NULL)
		return;
	switch (ev) {
	case REPORT_EV_REJECTED:
		log_warnx("%s: domain %u: %s record rejected: %s", vm->name,
		    d->domid, key, reason);
		return;
	case REPORT_EV_GONE:
		log_info("%s: domain %u: %s record removed", vm->name, d->domid, key);
		return;
	case REPORT_EV_BOOT:
		snprintf(vm->boot_id, sizeof(vm->boot_id), "%s", d->boot.boot_id);
		if (strcmp(vm->rdp_sha256, d->boot.rdp_sha256) != 0) {
			snprintf(vm->rdp_sha256, sizeof(vm->rdp_sha256), "%s",
			    d->boot.rdp_sha256);
			/* The thin client checks the desktop by it: news. */
			if (change_hook.fn != NULL)
				change_hook.fn(vm->name, change_hook.arg);
		}
		break;
	case REPORT_EV_SESSION:
		guest_session(vm, d->session.active);
		return;
	case REPORT_EV_CREDENTIAL:
		this_host.hooks->cred_answer(vm, &d->credential);
		return;
	case REPORT_EV_ADDRS:
		snprintf(was, sizeof(was), "%s", vm->addr);
		pick = report_addrs_pick(&d->addrs);
		vm->have_addrs = pick >= 0;
		if (pick < 0 || report_addr_ntop(&d->addrs.addr[pick], vm->addr,
		    sizeof(vm->addr)) == NULL)
			vm->addr[0] = '\0';
		/*
		 * A restored or reset VM is ready before its guest reports
		 * again: the controller, which hands the address out, learns
		 * it here, with no change of state to carry it.
		 */
		if (strcmp(was, vm->addr) != 0 && change_hook.fn != NULL)
			change_hook.fn(vm->name, change_hook.arg);
		break;
	}
	/* Booted: a valid record and an address to reach the desktop at. */
	if (!d->have_boot || !vm->have_addrs)
		return;
	if (vm->fsm.state == VM_S_RESETTING)
		vm_event(vm, VM_EV_DONE, "fresh guest booted");
	else
		vm_event(vm, VM_EV_BOOTED, vm->addr);
}

void
vm_cpu_sample(uint32_t domid, double pct)
{
	struct vm *vm = find_domain(domid);

	if (vm != NULL)
		vm->cpu_pct = pct;
}

/* The control socket's requests (hostd/xvdsd.h). */

static void
fill_view(const struct vm *vm, struct vm_view *v)
{
	const struct conf_template *t = conf_template(this_host.conf,
	    vm->template);

	memset(v, 0, sizeof(*v));
	snprintf(v->name, sizeof(v->name), "%s", vm->name);
	snprintf(v->pool, sizeof(v->pool), "%s", vm->pool);
	snprintf(v->template, sizeof(v->template), "%s", vm->template);
	v->kind = vm->fsm.kind;
	v->state = vm->fsm.state;
	v->since = vm->since;
	v->domid = vm->domid;
	if (t != NULL) {
		v->vcpus = vm->vcpus ? vm->vcpus : t->vcpus;
		v->max_vcpus = t->max_vcpus;
		v->memory_mib = vm->memory_mib ? vm->memory_mib : t->memory_mib;
		v->max_memory_mib = t->max_memory_mib;
	}
	v->cpu_pct = vm->cpu_pct;
	snprintf(v->boot_id, sizeof(v->boot_id), "%s", vm->boot_id);
	snprintf(v->addr, sizeof(v->addr), "%s", vm->addr);
	snprintf(v->rdp_sha256, sizeof(v->rdp_sha256), "%s", vm->rdp_sha256);
	snprintf(v->last_error, sizeof(v->last_error), "%s", vm->last_error);
	if (vm->away)
		snprintf(v->moved_to, sizeof(v->moved_to), "%s", vm->mig_peer);
}

size_t
vm_list(struct vm_view *views, size_t max)
{
	struct vm *vm;
	size_t	 n = 0;

	TAILQ_FOREACH(vm, &this_host.vms, entry) {
		if (n < max)
			fill_view(vm, &views[n]);
		n++;
	}
	return n;
}

enum xvds_err
vm_get(const char *name, struct vm_view *v)
{
	struct vm *vm = vm_find(name);

	if (vm == NULL)
		return XVDS_E_NOVM;
	fill_view(vm, v);
	return XVDS_OK;
}

/* The state a request means the VM to reach. */
static enum vm_state
request_target(const struct vm *vm, enum vm_event ev)
{
	switch (ev) {
	case VM_EV_PAUSE:
		return VM_S_PAUSED;
	case VM_EV_SAVE:
		return VM_S_SAVED;
	case VM_EV_SHUTDOWN:
	case VM_EV_DESTROY:
	case VM_EV_MIGRATE:	/* it no longer lives here */
		return VM_S_INACTIVE;
	case VM_EV_SESSION_START:
		return VM_S_RUNNING;
	case VM_EV_SESSION_END:
		return vm->fsm.kind == VM_PVM ? VM_S_INACTIVE : VM_S_READY;
	default:	/* start, unpause, restore, reset */
		return VM_S_READY;
	}
}


enum xvds_err
vm_request(const char *name, enum vm_event ev, xvds_reply_cb cb, void *arg,
    char *msg, size_t msglen)
{
	struct vm *vm = vm_find(name);
	enum xvds_err err;

	if (vm == NULL) {
		snprintf(msg, msglen, "no VM named %s", name);
		return XVDS_E_NOVM;
	}
	switch (ev) {
	case VM_EV_START: case VM_EV_PAUSE: case VM_EV_UNPAUSE: case VM_EV_SAVE:
	case VM_EV_RESTORE: case VM_EV_RESET: case VM_EV_SHUTDOWN:
	case VM_EV_DESTROY: case VM_EV_SESSION_START: case VM_EV_SESSION_END:
		break;
	default:
		/* Migration has its own call: it needs a peer (vm_migrate). */
		snprintf(msg, msglen, "%s is not a request", vm_event_names[ev]);
		return XVDS_E_INVAL;
	}
	if ((err = vm_request_check(vm, ev, msg, msglen)) != XVDS_OK)
		return err;
	vm_request_begin(vm, ev, cb, arg);
	return XVDS_OK;
}

/* Whether a request may be fed to the VM now; the error if not. */
enum xvds_err
vm_request_check(const struct vm *vm, enum vm_event ev, char *msg,
    size_t msglen)
{
	enum vm_state from = vm->fsm.state;

	if (vm->away) {
		snprintf(msg, msglen, "%s runs on %s now", vm->name, vm->mig_peer);
		return XVDS_E_ILLEGAL;
	}
	if (vm_fsm_lookup(vm->fsm.kind, from, ev) == NULL) {
		if (vm_state_transient(from)) {
			snprintf(msg, msglen, "%s is %s; try again when it settles",
			    vm->name, vm_state_names[from]);
			return XVDS_E_BUSY;
		}
		snprintf(msg, msglen, "%s %s: illegal transition for a %s that is %s",
		    vm_event_names[ev], vm->name, vm_kind_names[vm->fsm.kind],
		    vm_state_names[from]);
		return XVDS_E_ILLEGAL;
	}
	if (vm->reply != NULL && ev != VM_EV_DESTROY) {
		snprintf(msg, msglen, "%s: another request is waiting", vm->name);
		return XVDS_E_BUSY;
	}
	return XVDS_OK;
}

/* Feeds an accepted request; its reply follows once the VM settles. */
void
vm_request_begin(struct vm *vm, enum vm_event ev, xvds_reply_cb cb, void *arg)
{
	if (vm->reply != NULL) {
		/* Destroy overrides: the request it cuts short is answered. */
		vm_reply_later(vm->reply, vm->reply_arg, XVDS_E_FAILED,
		    "%s: destroyed before it was %s", vm->name,
		    vm_state_names[vm->reply_target]);
		vm->reply = NULL;
	}
	vm->reply = cb;
	vm->reply_arg = arg;
	vm->reply_target = request_target(vm, ev);
	vm_event(vm, ev, "request");
	/* An event the machine ignores here settles at once. */
	vm_settle(vm);
}

/* One change at a time: vCPUs first, then memory. */
static void
resources_cb(void *arg, enum hv_result r, uint32_t domid)
{
	struct vm *vm = arg;
	uint64_t mib = vm->set_memory_next;

	(void)domid;
	vm_op_ended(vm);
	vm->set_memory_next = 0;
	if (r == HV_OK && mib != 0 && vm->domid != XVDSD_NODOMAIN) {
		if (hv_set_memory(this_host.hv, vm->domid, mib, resources_cb,
		    vm) == 0) {
			vm_op_started(vm);
			vm->memory_mib = mib;
			return;
		}
		r = HV_FAILED;
	}
	vm->setting = false;
	if (r != HV_OK)
		vm_set_error(vm,
		    "the hypervisor could not change its vCPUs or memory");
	if (vm->set_reply == NULL)
		return;
	if (r != HV_OK)
		vm_reply_later(vm->set_reply, vm->set_reply_arg, XVDS_E_FAILED,
		    "%s: %s", vm->name, vm->last_error);
	else
		vm_reply_later(vm->set_reply, vm->set_reply_arg, XVDS_OK,
		    "%s changed", vm->name);
	vm->set_reply = NULL;
}

enum xvds_err
vm_set_resources(const char *name, unsigned vcpus, uint64_t memory_mib,
    xvds_reply_cb cb, void *arg, char *msg, size_t msglen)
{
	struct vm *vm = vm_find(name);
	struct vm_view v;

	if (vm == NULL) {
		snprintf(msg, msglen, "no VM named %s", name);
		return XVDS_E_NOVM;
	}
	fill_view(vm, &v);
	if ((vcpus != 0 && vcpus > v.max_vcpus) ||
	    (memory_mib != 0 && (memory_mib > v.max_memory_mib || memory_mib < 32))) {
		snprintf(msg, msglen, "%s: at most %u vCPUs and 32 to %" PRIu64
		    " MiB", vm->name, v.max_vcpus, v.max_memory_mib);
		return XVDS_E_INVAL;
	}
	if (vm->domid == XVDSD_NODOMAIN || (vm->fsm.state != VM_S_READY &&
	    vm->fsm.state != VM_S_RUNNING && vm->fsm.state != VM_S_PAUSED)) {
		snprintf(msg, msglen, "%s is %s: only a ready, running or paused "
		    "VM can be changed", vm->name, vm_state_names[vm->fsm.state]);
		return XVDS_E_ILLEGAL;
	}
	if (vm->setting) {
		snprintf(msg, msglen, "%s: a change is under way", vm->name);
		return XVDS_E_BUSY;
	}
	if (vcpus != 0) {
		if (hv_set_vcpus(this_host.hv, vm->domid, vcpus, resources_cb,
		    vm) == -1) {
			snprintf(msg, msglen, "%s: the hypervisor refused %u vCPUs",
			    vm->name, vcpus);
			return XVDS_E_FAILED;
		}
		vm->vcpus = vcpus;
		vm->set_memory_next = memory_mib;
	} else if (memory_mib != 0) {
		if (hv_set_memory(this_host.hv, vm->domid, memory_mib,
		    resources_cb, vm) == -1) {
			snprintf(msg, msglen, "%s: the hypervisor refused %" PRIu64
			    " MiB", vm->name, memory_mib);
			return XVDS_E_FAILED;
		}
		vm->memory_mib = memory_mib;
	} else {
		snprintf(msg, msglen, "%s: nothing to change", vm->name);
		return XVDS_E_INVAL;
	}
	vm_op_started(vm);
	vm->setting = true;
	vm->set_reply = cb;
	vm->set_reply_arg = arg;
	return XVDS_OK;
}

struct vm *
vm_new(const char *name, const char *pool, const char *template,
    enum vm_kind kind)
{
	struct vm *vm;

	if ((vm = calloc(1, sizeof(*vm))) == NULL)
		fatal("%s", __func__);
	snprintf(vm->name, sizeof(vm->name), "%s", name);
	snprintf(vm->pool, sizeof(vm->pool), "%s", pool);
	snprintf(vm->template, sizeof(vm->template), "%s", template);
	vm->fsm.kind = kind;
	vm->fsm.state = VM_S_INACTIVE;
	vm->fsm.prev = VM_S_INACTIVE;
	vm->domid = XVDSD_NODOMAIN;
	vm->since = time(NULL);
	vm->in_config = true;
	if ((vm->timer = evtimer_new(this_host.base, timer_fired,
	    vm)) == NULL ||
	    (vm->ask_timer = evtimer_new(this_host.base,
	    this_host.hooks->migrate_ask_fired, vm)) == NULL ||
	    (vm->gc = event_new(this_host.base, -1, 0,
	    this_host.hooks->migrate_gc_fired, vm)) == NULL ||
	    (vm->snap_ev = event_new(this_host.base, -1, 0,
	    this_host.hooks->clean_snap_fired, vm)) == NULL)
		fatalx("%s: evtimer_new", __func__);
	TAILQ_INSERT_TAIL(&this_host.vms, vm, entry);
	return vm;
}

void
vm_free(struct vm *vm)
{
	this_host.hooks->cred_cancel(vm, "the VM is gone");
	TAILQ_REMOVE(&this_host.vms, vm, entry);
	event_free(vm->timer);
	event_free(vm->ask_timer);
	event_free(vm->gc);
	event_free(vm->snap_ev);
	free(vm);
}


bool
vm_name_valid(const char *name)
{
	size_t	 i, n = strlen(name);

	if (n == 0 || n > VMSPEC_NAME_MAX ||
	    !((name[0] >= 'a' && name[0] <= 'z') || (name[0] >= 'A' &&
	    name[0] <= 'Z') || (name[0] >= '0' && name[0] <= '9')))
		return false;
	for (i = 0; i < n; i++)
		if (!((name[i] >= 'a' && name[i] <= 'z') ||
		    (name[i] >= 'A' && name[i] <= 'Z') ||
		    (name[i] >= '0' && name[i] <= '9') || name[i] == '_' ||
		    name[i] == '.' || name[i] == '-'))
			return false;
	return true;
}

enum xvds_err
vm_define(const char *name, const char *template, enum vm_kind kind,
    char *msg, size_t msglen)
{
	struct vm *vm;

	if (!vm_name_valid(name)) {
		snprintf(msg, msglen, "%s: a VM name is 1 to %d of [A-Za-z0-9_.-], "
		    "first a letter or digit", name, VMSPEC_NAME_MAX);
		return XVDS_E_INVAL;
	}
	if (vm_find(name) != NULL) {
		snprintf(msg, msglen, "a VM named %s exists", name);
		return XVDS_E_EXISTS;
	}
	if (conf_template(this_host.conf, template) == NULL) {
		snprintf(msg, msglen, "no template named %s", template);
		return XVDS_E_INVAL;
	}
	vm = vm_new(name, "", template, kind);
	/*
	 * Its saved image on the shared store, left by the host it was saved
	 * on: it is Saved here, for a restore on this host (the controller's
	 * when that host is gone: a saved image may be restored anywhere).
	 */
	if (image_exists(vm)) {
		vm->fsm.state = VM_S_SAVED;
		vm->fsm.prev = VM_S_SAVED;
	}
	vm_record_save(vm);
	log_info("%s: defined from template %s as a %s%s", name, template,
	    vm_kind_names[kind], vm->fsm.state == VM_S_SAVED ?
	    ", saved: its image is on the store" : "");
	snprintf(msg, msglen, "%s defined%s", name, vm->fsm.state ==
	    VM_S_SAVED ? ", saved" : "");
	return XVDS_OK;
}

enum xvds_err
vm_undefine(const char *name, char *msg, size_t msglen)
{
	struct vm *vm = vm_find(name);

	if (vm == NULL) {
		snprintf(msg, msglen, "no VM named %s", name);
		return XVDS_E_NOVM;
	}
	if (vm_pool(vm) != NULL) {
		snprintf(msg, msglen, "%s belongs to pool %s: change the pool's "
		    "size in xvds.conf instead", vm->name, vm->pool);
		return XVDS_E_ILLEGAL;
	}
	if (vm->fsm.state != VM_S_INACTIVE || vm->reply != NULL) {
		snprintf(msg, msglen, "%s is %s: destroy it first", vm->name,
		    vm_state_names[vm->fsm.state]);
		return XVDS_E_ILLEGAL;
	}
	clean_discard(vm_settings()->store, vm->name);
	vm_record_remove(vm);
	log_info("%s: undefined", vm->name);
	vm_free(vm);
	snprintf(msg, msglen, "%s undefined", name);
	return XVDS_OK;
}

enum xvds_err
vm_forget(const char *name, char *msg, size_t msglen)
{
	struct vm *vm = vm_find(name);

	if (vm == NULL) {
		snprintf(msg, msglen, "no record of %s here", name);
		return XVDS_OK;
	}
	if (vm_pool(vm) != NULL) {
		snprintf(msg, msglen, "%s belongs to pool %s of xvds.conf",
		    vm->name, vm->pool);
		return XVDS_E_ILLEGAL;
	}
	if ((vm->fsm.state != VM_S_INACTIVE && vm->fsm.state != VM_S_SAVED) ||
	    vm->domid != XVDSD_NODOMAIN || vm->reply != NULL || vm->ops != 0 ||
	    vm->mig_phase != VM_MIG_NONE) {
		snprintf(msg, msglen, "%s is %s here%s: kept", vm->name,
		    vm_state_names[vm->fsm.state], vm->domid != XVDSD_NODOMAIN ?
		    ", with a domain" : "");
		return XVDS_E_ILLEGAL;
	}
	vm_record_remove(vm);
	log_info("%s: record forgotten (%s): it lives on another host; its "
	    "files on the store are kept", vm->name,
	    vm_state_names[vm->fsm.state]);
	vm_free(vm);
	snprintf(msg, msglen, "%s forgotten", name);
	return XVDS_OK;
}

/* Start-up: records, pools and the domains that are really there. */


static void
load_record(const char *path)
{
	json_t	*o;
	json_error_t jerr;
	const char *name, *pool, *tmpl, *kind, *state, *prev, *boot_id;
	json_int_t domid, since;
	int	 version, k, s, p;
	struct vm *vm;

	if ((o = json_load_file(path, 0, &jerr)) == NULL) {
		log_warnx("%s:%d: unreadable record, ignored: %s", path, jerr.line,
		    jsonerr(&jerr));
		return;
	}
	if (json_unpack_ex(o, &jerr, 0, "{s:i, s:s, s:s, s:s, s:s, s:s, s:s, "
	    "s:I, s:s, s:I}", "v", &version, "name", &name, "pool", &pool,
	    "template", &tmpl, "kind", &kind, "state", &state, "prev", &prev,
	    "domid", &domid, "boot_id", &boot_id, "since", &since) == -1 ||
	    version != RECORD_VERSION || !vm_name_valid(name) ||
	    (k = vm_kind_from_name(kind)) < 0 || (s = vm_state_from_name(state)) < 0 ||
	    (p = vm_state_from_name(prev)) < 0 || s == VM_S_PREV || p == VM_S_PREV ||
	    strlen(pool) > TEMPLATE_NAME_MAX || strlen(tmpl) > TEMPLATE_NAME_MAX ||
	    strlen(boot_id) > REPORT_BOOT_ID_LEN || domid < -1 || domid > 0x7fef) {
		log_warnx("%s: malformed record, ignored", path);
		json_decref(o);
		return;
	}
	if ((vm = vm_find(name)) == NULL) {
		if (pool[0] != '\0') {
			/* A pool VM the configuration no longer has. */
			vm = vm_new(name, pool, tmpl, (enum vm_kind)k);
			vm->in_config = false;
		} else
			vm = vm_new(name, "", tmpl, (enum vm_kind)k);
	}
	vm->fsm.state = (enum vm_state)s;
	vm->fsm.prev = (enum vm_state)p;
	this_host.hooks->migrate_load(vm, json_object_get(o, "migration"),
	    path);
	if (json_is_string(json_object_get(o, "away")) &&
	    strlen(json_string_value(json_object_get(o, "away"))) <= MIGRATE_PEER_MAX) {
		vm->away = true;
		snprintf(vm->mig_peer, sizeof(vm->mig_peer), "%s",
		    json_string_value(json_object_get(o, "away")));
	}
	vm->domid = domid < 0 ? XVDSD_NODOMAIN : (uint32_t)domid;
	snprintf(vm->boot_id, sizeof(vm->boot_id), "%s", boot_id);
	vm->since = (time_t)since;
	json_decref(o);
}

static void
load_records(void)
{
	char	 dir[VMSPEC_PATH_MAX + 16], path[VMSPEC_PATH_MAX + 300];
	struct dirent *de;
	DIR	*d;

	snprintf(dir, sizeof(dir), "%s/vms", vm_settings()->state_dir);
	if (mkdir_p(dir) == -1)
		fatal("cannot make %s", dir);
	if ((d = opendir(dir)) == NULL)
		fatal("%s", dir);
	while ((de = readdir(d)) != NULL) {
		size_t	 n = strlen(de->d_name);

		if (n < 6 || strcmp(de->d_name + n - 5, ".json") != 0)
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		load_record(path);
	}
	closedir(d);
}

/* The pools' VMs, named <pool>-<NN>; those no longer configured are marked. */
static void
apply_pools(void)
{
	struct vm *vm;
	size_t	 i;
	unsigned j;
	char	 name[VMSPEC_NAME_MAX + 1];

	TAILQ_FOREACH(vm, &this_host.vms, entry)
		if (vm->pool[0] != '\0')
			vm->in_config = false;
	for (i = 0; i < conf_npools(this_host.conf); i++) {
		const struct conf_pool *p = conf_pool_at(this_host.conf, i);

		for (j = 1; j <= p->size; j++) {
			if (template_vm_name(p->name, j, name, sizeof(name)) == -1)
				continue;
			if ((vm = vm_find(name)) == NULL)
				vm = vm_new(name, p->name, p->tmpl->name, p->kind);
			vm->in_config = true;
			snprintf(vm->template, sizeof(vm->template), "%s",
			    p->tmpl->name);
		}
	}
	TAILQ_FOREACH(vm, &this_host.vms, entry)
		if (vm->pool[0] != '\0' && !vm->in_config)
			log_warnx("%s: pool %s no longer has it; destroy it to "
			    "retire it", vm->name, vm->pool);
}


/*
 * Whether a listed domain is the VM's: it carries the VM's identity; or it
 * carries none yet, because the daemon died between making it and storing
 * the identity, and it has the name this daemon gave it.
 */
static bool
is_its_domain(const struct vm *vm, const struct hv_domain *d)
{
	char	 name[VMSPEC_NAME_MAX + 1];

	switch (read_identity(d->domid, name, sizeof(name))) {
	case 0:
		return strcmp(name, vm->name) == 0;
	case IDENTITY_NONE:
		break;
	default:
		return false;
	}
	if (vm->mig_phase == VM_MIG_INCOMING)
		return strncmp(d->name, vm->name, strlen(vm->name)) == 0 &&
		    strcmp(d->name + strlen(vm->name), MIGRATE_SUFFIX_IN) == 0;
	switch (vm->fsm.state) {
	case VM_S_STARTING:
	case VM_S_RESTORING:
	case VM_S_RESETTING:
		return strcmp(d->name, vm->name) == 0;
	default:
		return false;
	}
}

static void
reconcile(void)
{
	struct hv_domain *doms = NULL;
	size_t	 n = 0, i;
	struct vm *vm;
	char	 name[VMSPEC_NAME_MAX + 1];

	if (hv_list_domains(this_host.hv, &doms, &n) == -1)
		fatalx("cannot list the domains to reconcile with");
	TAILQ_FOREACH(vm, &this_host.vms, entry) {
		struct reconcile_seen seen = { false, HV_DOM_RUNNING, false, false };
		enum vm_state was = vm->fsm.state, now;
		uint32_t found = XVDSD_NODOMAIN;
		bool	 reap, resume;
		char	 partial[VMSPEC_PATH_MAX + 80];

		for (i = 0; i < n; i++) {
			if (doms[i].domid == 0 || !is_its_domain(vm, &doms[i]))
				continue;
			found = doms[i].domid;
			seen.has_domain = true;
			seen.dom_state = doms[i].state;
			seen.suspended = doms[i].state == HV_DOM_SHUTDOWN &&
			    doms[i].shutdown_reason == HV_DEATH_SUSPEND;
		}
		seen.has_image = image_exists(vm);
		/* What a save cut short wrote is never a whole image. */
		if (image_path(vm, partial, sizeof(partial) - 8) == 0) {
			strcat(partial, ".partial");
			if (unlink(partial) == 0)
				log_info("%s: removed the unfinished image %s",
				    vm->name, partial);
		}
		if (vm->mig_phase != VM_MIG_NONE) {
			this_host.hooks->migrate_reconcile(vm, found, &seen);
			continue;
		}
		now = reconcile_state(vm->fsm.kind, was, &seen, &reap, &resume);
		vm->domid = XVDSD_NODOMAIN;
		vm->fsm.state = now;
		if (found != XVDSD_NODOMAIN) {
			vm_adopt_domain(vm, found);
			vm_store_identity(vm);	/* if it had none yet */
			if (resume && hv_resume(this_host.hv, found) == -1) {
				log_warnx("%s: domain %u, suspended by a save cut "
				    "short, cannot be resumed", vm->name, found);
				now = VM_S_INACTIVE;
				vm->fsm.state = now;
				reap = true;
			}
			if (reap) {
				vm->start_when_reaped = true;
				vm_destroy_domain(vm);
			}
		}
		if (was != now || found != XVDSD_NODOMAIN)
			log_info("%s: recorded %s, found %s%s: now %s", vm->name,
			    vm_state_names[was], found != XVDSD_NODOMAIN ?
			    "its domain" : "no domain", reap ? " (reaped)" :
			    resume ? " suspended by a save cut short (resumed)" : "",
			    vm_state_names[now]);
		if (was != now) {
			vm->since = time(NULL);
			vm_record_save(vm);
		}
		vm_arm_timer(vm);
	}
	/* What runs here and is not ours (or no longer configured). */
	for (i = 0; i < n; i++) {
		if (doms[i].domid == 0 || find_domain(doms[i].domid) != NULL)
			continue;
		switch (read_identity(doms[i].domid, name, sizeof(name))) {
		case 0:
			log_warnx("domain %u (%s) carries the identity of VM %s, "
			    "which this host does not have: left alone",
			    doms[i].domid, doms[i].name, name);
			break;
		case IDENTITY_NONE:
			log_info("domain %u (%s) is not XVDS's: left alone",
			    doms[i].domid, doms[i].name);
			break;
		default:
			log_info("domain %u (%s) is another xvdsd's (or its "
			    "identity is unreadable): left alone", doms[i].domid,
			    doms[i].name);
			break;
		}
	}
	free(doms);
}

/*
 * Every CVM starts in Ready after service start (xvdsd(8), LIFECYCLES),
 * so that a login finds it booted.  One whose
 * old domain is still being reaped starts when that is done.
 */
static void
start_pool_vm(struct vm *vm)
{
	if (vm->in_config && vm->pool[0] != '\0' && vm->fsm.kind == VM_CVM &&
	    !vm->away &&
	    vm->fsm.state == VM_S_INACTIVE && vm->domid == XVDSD_NODOMAIN &&
	    vm->ops == 0)
		vm_event(vm, VM_EV_START, "pool");
}

static void
start_pools(void)
{
	struct vm *vm;

	TAILQ_FOREACH(vm, &this_host.vms, entry)
		start_pool_vm(vm);
}

static void
reports_ready(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	(void)arg;
	if (reportwatch_dispatch(this_host.rw) == -1)
		fatalx("lost the xenstore connection");
}

int
vm_core_init(struct event_base *base, struct hv *hv, struct xvds_conf *conf,
    const struct vm_hooks *hooks)
{
	memset(&this_host, 0, sizeof(this_host));
	TAILQ_INIT(&this_host.vms);
	this_host.hooks = hooks;
	this_host.base = base;
	this_host.hv = hv;
	this_host.conf = conf;
	this_host.rw = reportwatch_open(vm_guest_report, NULL,
	    vm_settings()->max_clock_skew);
	if (this_host.rw == NULL)
		return -1;
	this_host.rw_ev = event_new(base, reportwatch_fd(this_host.rw),
	    EV_READ | EV_PERSIST,
	    reports_ready, NULL);
	if (this_host.rw_ev == NULL || event_add(this_host.rw_ev, NULL) == -1) {
		log_warnx("%s: cannot watch xenstore from the loop", __func__);
		return -1;
	}
	load_records();
	apply_pools();
	reconcile();
	start_pools();
	return 0;
}

void
vm_reload(struct xvds_conf *conf)
{
	struct vm *vm;

	conf_free(this_host.conf);
	this_host.conf = conf;
	apply_pools();
	TAILQ_FOREACH(vm, &this_host.vms, entry)
		if (!vm_state_transient(vm->fsm.state))
			vm_arm_timer(vm);	/* idle times may have changed */
	start_pools();
}

int
vm_busy(void)
{
	return this_host.busy > 0;
}

void
vm_shutdown(void)
{
	struct reply *r;
	struct vm *vm;

	/* Every accepted request is answered exactly once, even now. */
	TAILQ_FOREACH(vm, &this_host.vms, entry)
		this_host.hooks->cred_cancel(vm, "xvdsd is stopping");
	while ((r = TAILQ_FIRST(&replies)) != NULL)
		reply_fire(-1, 0, r);
	TAILQ_FOREACH(vm, &this_host.vms, entry) {
		if (vm->reply != NULL)
			vm->reply(vm->reply_arg, XVDS_E_FAILED, "xvdsd is stopping");
		if (vm->set_reply != NULL)
			vm->set_reply(vm->set_reply_arg, XVDS_E_FAILED,
			    "xvdsd is stopping");
	}
	while ((vm = TAILQ_FIRST(&this_host.vms)) != NULL)
		vm_free(vm);
	if (this_host.rw_ev != NULL)
		event_free(this_host.rw_ev);
	reportwatch_close(this_host.rw);
	conf_free(this_host.conf);
	memset(&this_host, 0, sizeof(this_host));
}

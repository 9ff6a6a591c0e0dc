/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * hostd/vm_migrate.c — a VM's migration, on both sides (hostd/migrate.c has the
 * connection and the handshake, hostd/vm_priv.h what this uses of
 * hostd/vm.c, which calls it through its hooks).
 */
#include <config.h>

#include <sys/stat.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "hostd/vm.h"
#include "hostd/vm_migrate.h"
#include "hostd/vm_priv.h"

#define ASK_RETRY	10	/* seconds between questions to a migration's peer */

/*
 * Migration (hostd/migrate.h has the handshake).  The sender's VM is MIGRATING
 * until the receiver has it (then it is forgotten here) or surely has not
 * (then it goes on here); the receiver's is INCOMING until "go".
 */

static void
mig_rename(struct vm *vm, const char *suffix)
{
	char	 name[VMSPEC_NAME_MAX + 1];

	snprintf(name, sizeof(name), "%.*s%s", (int)MIGRATE_NAME_MAX, vm->name,
	    suffix);
	if (vm->domid != XVDSD_NODOMAIN && hv_rename(vm_hv(), vm->domid,
	    name) == -1)
		log_warnx("%s: domain %u could not be renamed %s", vm->name,
		    vm->domid, name);
}

/*
 * The VM lives on another host now.  One outside the pools is forgotten;
 * a pool VM of this host's configuration stays, away, so that its slot is
 * not filled again behind its back (and it may come home).
 */
static void
gone_elsewhere(struct vm *vm)
{
	if (vm->pool[0] != '\0' && vm->in_config)
		vm->away = true;
	else
		vm->leaving = true;
}

/* The receiver has it: the copy here goes, and so does the VM. */
static void
mig_moved(struct vm *vm)
{
	log_info("%s: now on %s", vm->name, vm->mig_peer);
	vm->mig_phase = VM_MIG_NONE;
	gone_elsewhere(vm);
	vm_destroy_domain(vm);
	vm_event(vm, VM_EV_DONE, vm->mig_peer);
}

/* The receiver surely has nothing: the copy here goes on. */
static void
mig_stayed(struct vm *vm, bool suspended, const char *why)
{
	vm_set_error(vm, "migration to %s failed: %s", vm->mig_peer, why);
	vm->mig_phase = VM_MIG_NONE;
	if (suspended) {
		mig_rename(vm, "");
		if (hv_resume(vm_hv(), vm->domid) == -1) {
			vm_event(vm, VM_EV_LOST, "not resumed");
			return;
		}
	}
	vm_event(vm, VM_EV_FAILED, why);
}

static int
mig_commit_cb(void *arg)
{
	struct vm *vm = arg;

	vm->mig_phase = VM_MIG_COMMITTING;
	if (vm_record_save(vm) == -1) {
		vm->mig_phase = VM_MIG_SENDING;
		return -1;
	}
	/* Names are unique per host: the receiver's copy takes this one. */
	mig_rename(vm, MIGRATE_SUFFIX_OUT);
	return 0;
}

static void
ask_later(struct vm *vm)
{
	struct timeval tv = { ASK_RETRY, 0 };

	evtimer_add(vm->ask_timer, &tv);
}

static void
asked_cb(void *arg, enum migrate_has has)
{
	struct vm *vm = arg;

	vm_op_ended(vm);
	if (vm->fsm.state != VM_S_MIGRATING ||
	    vm->mig_phase != VM_MIG_COMMITTING)
		return;
	switch (has) {
	case MIGRATE_HAS_IT:
		mig_moved(vm);
		break;
	case MIGRATE_HAS_NOT:
		log_info("%s: %s never committed it: resuming it here", vm->name,
		    vm->mig_peer);
		mig_stayed(vm, true, "the receiver gave it up");
		break;
	case MIGRATE_HAS_UNSURE:
		ask_later(vm);
		break;
	}
	vm_settle(vm);
}

void
vm_migrate_ask_fired(evutil_socket_t fd, short what, void *arg)
{
	struct vm *vm = arg;

	(void)fd;
	(void)what;
	if (migrate_ask(vm->mig_peer, vm->name, asked_cb, vm) == -1) {
		ask_later(vm);
		return;
	}
	vm_op_started(vm);
}

static void
mig_done_cb(void *arg, enum migrate_outcome out, const char *why)
{
	struct vm *vm = arg;

	vm_op_ended(vm);
	switch (out) {
	case MIGRATE_MOVED:
		mig_moved(vm);
		break;
	case MIGRATE_STAYED:
	case MIGRATE_STAYED_SUSPENDED:
		mig_stayed(vm, out == MIGRATE_STAYED_SUSPENDED, why);
		break;
	case MIGRATE_UNKNOWN:
		/* Never resumed on a guess: the receiver may run it. */
		vm_set_error(vm,
		    "migration to %s: no answer after \"go\" (%s); "
		    "asking it every %d s", vm->mig_peer, why, ASK_RETRY);
		log_warnx("%s: %s", vm->name, vm->last_error);
		ask_later(vm);
		break;
	}
	vm_settle(vm);
}

int
vm_migrate_start(struct vm *vm)
{
	struct migrate_offer o;
	char	 msg[256];

	memset(&o, 0, sizeof(o));
	snprintf(o.name, sizeof(o.name), "%s", vm->name);
	snprintf(o.pool, sizeof(o.pool), "%s", vm->pool);
	snprintf(o.template, sizeof(o.template), "%s", vm->template);
	o.kind = vm->fsm.kind;
	o.state = vm->fsm.prev;
	o.vcpus = vm->vcpus;
	o.memory_mib = vm->memory_mib;
	snprintf(o.boot_id, sizeof(o.boot_id), "%s", vm->boot_id);
	o.live = vm->mig_live;
	vm->mig_phase = VM_MIG_SENDING;
	vm_record_save(vm);
	if (migrate_send(&o, vm->mig_peer, vm->domid, mig_commit_cb, mig_done_cb,
	    vm, msg, sizeof(msg)) == -1) {
		vm_set_error(vm, "%s", msg);
		return -1;
	}
	return 0;
}

enum xvds_err
vm_migrate(const char *name, const char *peer, bool live, xvds_reply_cb cb,
    void *arg, char *msg, size_t msglen)
{
	struct vm *vm = vm_find(name);
	enum xvds_err err;

	if (vm == NULL) {
		snprintf(msg, msglen, "no VM named %s", name);
		return XVDS_E_NOVM;
	}
	if ((err = vm_request_check(vm, VM_EV_MIGRATE, msg, msglen)) != XVDS_OK)
		return err;
	if (strlen(vm->name) > MIGRATE_NAME_MAX) {
		snprintf(msg, msglen, "%s: only VMs with names up to %zu characters "
		    "can migrate", vm->name, (size_t)MIGRATE_NAME_MAX);
		return XVDS_E_NOTSUP;
	}
	if (strlen(peer) > MIGRATE_PEER_MAX || peer[0] == '\0') {
		snprintf(msg, msglen, "bad host \"%.60s\"", peer);
		return XVDS_E_INVAL;
	}
	snprintf(vm->mig_peer, sizeof(vm->mig_peer), "%s", peer);
	vm->mig_live = live;
	vm_request_begin(vm, VM_EV_MIGRATE, cb, arg);
	return XVDS_OK;
}

/* The receiving side, hooked into hostd/migrate.c (vm_migrate_incoming). */

/* Disks a migrating VM must find on the shared store: never made anew. */
static int
disks_present(const struct vm_spec *spec, char *msg, size_t msglen)
{
	struct stat st;
	size_t	 i;

	for (i = 0; i < spec->ndisks; i++)
		if (stat(spec->disks[i].path, &st) == -1) {
			snprintf(msg, msglen, "disk %s: %s is not on this host's "
			    "store (is the store shared?)", spec->disks[i].vdev,
			    spec->disks[i].path);
			return -1;
		}
	return 0;
}

static int
incoming_offer(const struct migrate_offer *o, const char *peer,
    struct vm_spec *spec, char *msg, size_t msglen)
{
	struct vm *vm, *home, backup;

	if (!vm_name_valid(o->name)) {
		snprintf(msg, msglen, "bad VM name");
		return -1;
	}
	if ((home = vm_find(o->name)) != NULL && !home->away) {
		snprintf(msg, msglen, "a VM named %s exists on %s", o->name,
		    vm_settings()->host_name);
		return -1;
	}
	if (vm_conf_template(o->template) == NULL) {
		snprintf(msg, msglen, "template %s is not configured on %s",
		    o->template, vm_settings()->host_name);
		return -1;
	}
	if (home != NULL && (strcmp(home->template, o->template) != 0 ||
	    home->fsm.kind != o->kind)) {
		snprintf(msg, msglen, "%s's slot in pool %s on %s is a %s of template "
		    "%s", o->name, home->pool, vm_settings()->host_name,
		    vm_kind_names[home->fsm.kind], home->template);
		return -1;
	}
	if (home != NULL) {
		/* A pool VM of this host coming home. */
		vm = home;
		backup = *vm;
		vm->away = false;
	} else
		/* Pools are numbered per host: here it is a VM of its own. */
		vm = vm_new(o->name, "", o->template, o->kind);
	vm->vcpus = o->vcpus;
	vm->memory_mib = o->memory_mib;
	snprintf(vm->boot_id, sizeof(vm->boot_id), "%s", o->boot_id);
	vm->fsm.state = VM_S_INCOMING;
	vm->fsm.prev = o->state;
	vm->mig_phase = VM_MIG_INCOMING;
	/* A VM coming home keeps where it lives until it has committed here. */
	if (home == NULL)
		snprintf(vm->mig_peer, sizeof(vm->mig_peer), "%s", peer);
	if (vm_make_spec(vm, spec) == -1 || disks_present(spec, msg,
	    msglen) == -1 ||
	    vm_record_save(vm) == -1) {
		if (vm->last_error[0] != '\0')
			snprintf(msg, msglen, "%s", vm->last_error);
		else if (msg[0] == '\0')
			snprintf(msg, msglen, "cannot write its record on %s",
			    vm_settings()->host_name);
		if (home != NULL)
			*vm = backup;
		else
			vm_free(vm);
		return -1;
	}
	snprintf(spec->name, sizeof(spec->name), "%.*s%s", (int)MIGRATE_NAME_MAX,
	    o->name, MIGRATE_SUFFIX_IN);
	log_info("%s: incoming from %s", vm->name, peer);
	vm_op_started(vm);
	return 0;
}

static void
incoming_arrived(const char *name, uint32_t domid)
{
	struct vm *vm = vm_find(name);

	if (vm == NULL || vm->fsm.state != VM_S_INCOMING)
		return;
	vm_adopt_domain(vm, domid);
	vm_store_identity(vm);
	vm_record_save(vm);
}

static void
incoming_unpaused_cb(void *arg, enum hv_result r, uint32_t domid)
{
	struct vm *vm = arg;

	(void)domid;
	vm_op_ended(vm);
	if (r != HV_OK)
		/* Still the one copy: kept, paused, for the operator. */
		vm_set_error(vm, "arrived, but could not be unpaused");
	vm->mig_phase = VM_MIG_NONE;
	vm_event(vm, VM_EV_DONE, vm->mig_peer);
	vm_settle(vm);
}

static int
incoming_commit(const char *name)
{
	struct vm *vm = vm_find(name);

	if (vm == NULL || vm->fsm.state != VM_S_INCOMING ||
	    vm->domid == XVDSD_NODOMAIN)
		return -1;
	vm->mig_phase = VM_MIG_COMMITTED;
	if (vm_record_save(vm) == -1) {
		vm->mig_phase = VM_MIG_INCOMING;
		return -1;
	}
	mig_rename(vm, "");
	if (hv_unpause(vm_hv(), vm->domid, incoming_unpaused_cb, vm) == -1) {
		incoming_unpaused_cb(vm, HV_FAILED, vm->domid);
	}
	return 0;
}

static void
incoming_abort(const char *name, const char *why)
{
	struct vm *vm = vm_find(name);

	if (vm == NULL || vm->fsm.state != VM_S_INCOMING ||
	    vm->mig_phase != VM_MIG_INCOMING)
		return;
	log_info("%s: incoming from %s given up: %s", vm->name, vm->mig_peer, why);
	vm_op_ended(vm);
	vm->mig_phase = VM_MIG_NONE;
	gone_elsewhere(vm);
	vm_event(vm, VM_EV_FAILED, why);
}

static enum migrate_has
incoming_has(const char *name)
{
	struct vm *vm = vm_find(name);

	if (vm == NULL || vm->leaving || vm->away)
		return MIGRATE_HAS_NOT;
	if (vm->mig_phase == VM_MIG_INCOMING)
		return MIGRATE_HAS_UNSURE;
	return MIGRATE_HAS_IT;
}

void
vm_migrate_gc_fired(evutil_socket_t fd, short what, void *arg)
{
	struct vm *vm = arg;

	(void)fd;
	(void)what;
	if (!vm->leaving || vm->ops > 0 || vm->reply != NULL ||
	    vm->domid != XVDSD_NODOMAIN)
		return;
	log_info("%s: forgotten: it lives on elsewhere", vm->name);
	vm_record_remove(vm);
	vm_free(vm);
}


/* A record's "migration": where it went or came from, and how far. */
void
vm_migrate_load(struct vm *vm, json_t *m, const char *path)
{
	const char *peer, *phase;
	size_t	 i;

	vm->mig_phase = VM_MIG_NONE;
	if (m == NULL)
		return;
	if (json_unpack(m, "{s:s, s:s}", "peer", &peer, "phase", &phase) == -1 ||
	    strlen(peer) > MIGRATE_PEER_MAX) {
		log_warnx("%s: malformed migration in the record, ignored", path);
		return;
	}
	for (i = VM_MIG_SENDING; i <= VM_MIG_COMMITTED; i++)
		if (strcmp(phase, vm_mig_phase_names[i]) == 0)
			vm->mig_phase = (enum vm_mig_phase)i;
	snprintf(vm->mig_peer, sizeof(vm->mig_peer), "%s", peer);
}

/* A migration the daemon stopped in the middle of (hostd/reconcile.h has the
 * rule). */
void
vm_migrate_reconcile(struct vm *vm, uint32_t found,
    const struct reconcile_seen *seen)
{
	static const enum reconcile_mig phases[] = {
		[VM_MIG_SENDING] = RECONCILE_MIG_SENDING,
		[VM_MIG_COMMITTING] = RECONCILE_MIG_COMMITTING,
		[VM_MIG_INCOMING] = RECONCILE_MIG_INCOMING,
		[VM_MIG_COMMITTED] = RECONCILE_MIG_COMMITTED,
	};
	struct reconcile_mig_plan p;
	enum vm_state was = vm->fsm.state;
	const char *phase = vm_mig_phase_names[vm->mig_phase];

	reconcile_migration(phases[vm->mig_phase], vm->fsm.prev, seen, &p);
	vm->domid = XVDSD_NODOMAIN;
	vm->fsm.state = p.state;
	if (found != XVDSD_NODOMAIN) {
		vm_adopt_domain(vm, found);
		vm_store_identity(vm);	/* if it had none yet */
	}
	if (p.resume || p.unpause)
		mig_rename(vm, "");
	if (p.resume && hv_resume(vm_hv(), found) == -1)
		log_warnx("%s: domain %u cannot be resumed", vm->name, found);
	if (p.unpause && hv_unpause(vm_hv(), found, vm_simple_cb, vm) == 0)
		vm_op_started(vm);
	if (!p.ask_peer)
		vm->mig_phase = VM_MIG_NONE;
	else
		ask_later(vm);
	if (p.forget)
		gone_elsewhere(vm);
	if (p.reap)
		vm_destroy_domain(vm);
	log_info("%s: recorded %s, migration %s %s, found %s: now %s%s%s",
	    vm->name, vm_state_names[was], phase, vm->mig_peer,
	    found != XVDSD_NODOMAIN ? "its domain" : "no domain",
	    vm_state_names[p.state], p.reap ? " (reaped)" : p.resume ?
	    " (resumed)" : p.unpause ? " (unpaused)" : "",
	    p.ask_peer ? " (asking the peer)" : !p.forget ? "" : vm->away ?
	    " (its slot kept, away)" : " (forgotten)");
	vm->since = time(NULL);
	vm_record_save(vm);
	vm_arm_timer(vm);
	vm_settle(vm);
}

const struct migrate_hooks vm_migrate_incoming = {
	.offer = incoming_offer,
	.arrived = incoming_arrived,
	.commit = incoming_commit,
	.abort = incoming_abort,
	.has = incoming_has,
};

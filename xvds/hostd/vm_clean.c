/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * hostd/vm_clean.c — a CVM's clean image and its fast resets (hostd/clean.h has
 * the files, hostd/vm_priv.h what this uses of hostd/vm.c, which calls it
 * through its hooks).
 */
#include <config.h>

#include <stdio.h>

#include "hostd/clean.h"
#include "common/log.h"
#include "hostd/vm_clean.h"
#include "hostd/vm_priv.h"

/*
 * Fast resets (hostd/clean.h).  A CVM that is ready after a boot from its
 * golden disks, and has no usable clean image, gets one: saved, its overlays
 * kept, and restored from what was saved (SNAPSHOTTING, a few seconds).
 * A reset then restores that image over fresh copies of the overlays,
 * and falls back to the cold way when it cannot.
 */

/* Deferred from vm_event(), so that the request that booted it is answered. */
void
vm_clean_snap_fired(evutil_socket_t fd, short what, void *arg)
{
	struct vm *vm = arg;
	const struct conf_template *t = vm_conf_template(vm->template);
	struct vm_spec spec;

	(void)fd;
	(void)what;
	if (vm->fsm.state != VM_S_READY || vm->ops > 0 || vm->reply != NULL ||
	    vm->domid == XVDSD_NODOMAIN || t == NULL || vm_make_spec(vm,
	    &spec) == -1 ||
	    clean_usable(vm_settings()->store, t, &spec))
		return;
	vm_event(vm, VM_EV_SNAPSHOT, "no clean image yet");
}

/*
 * A restore can fail for a reason that passes: libxl gives a device's
 * hotplug script 40 seconds, which a dom0 short of CPU can overrun.  The
 * image and the disks are as they were (libxl destroyed the half-built
 * domain before it ever ran), so the guest is restored once more before
 * it is given up.
 */
#define SNAP_RESTORE_TRIES	2

static void	snap_restored_cb(void *, enum hv_result, uint32_t);

/* 0, the restore under way; -1, the VM lost (its event sent). */
static int
snap_restore(struct vm *vm)
{
	const struct conf_template *t = vm_conf_template(vm->template);
	struct vm_spec spec;
	char	 img[VMSPEC_PATH_MAX + 100];

	vm->snap_restores++;
	if (t == NULL || vm_make_spec(vm, &spec) == -1 ||
	    clean_image_path(vm_settings()->store, vm->name, img,
	    sizeof(img)) == -1) {
		clean_discard(vm_settings()->store, vm->name);
		vm_event(vm, VM_EV_LOST, "its spec is gone");
		return -1;
	}
	if (hv_restore(vm_hv(), &spec, img, false, snap_restored_cb,
	    vm) == -1) {
		clean_discard(vm_settings()->store, vm->name);
		vm_set_error(vm,
		    "the hypervisor refused to restore its clean image");
		vm_event(vm, VM_EV_LOST, NULL);
		return -1;
	}
	vm_op_started(vm);
	return 0;
}

static void
snap_restored_cb(void *arg, enum hv_result r, uint32_t domid)
{
	struct vm *vm = arg;

	vm_op_ended(vm);
	if (r == HV_OK) {
		vm_adopt_domain(vm, domid);
		vm_store_identity(vm);
		log_info("%s: clean image taken", vm->name);
		vm_event(vm, VM_EV_DONE, "clean image taken");
	} else if (vm->snap_restores < SNAP_RESTORE_TRIES) {
		log_warnx("%s: the clean image did not restore (try %u of %u): "
		    "restoring it again", vm->name, vm->snap_restores,
		    SNAP_RESTORE_TRIES);
		if (snap_restore(vm) == 0)
			return;
	} else {
		/* The guest was in that image: gone with it. */
		clean_discard(vm_settings()->store, vm->name);
		vm_set_error(vm,
		    "the clean image was saved but did not restore");
		vm_event(vm, VM_EV_LOST, NULL);
	}
	vm_settle(vm);
}

static void
snap_saved_cb(void *arg, enum hv_result r, uint32_t domid)
{
	struct vm *vm = arg;
	const struct conf_template *t = vm_conf_template(vm->template);
	struct vm_spec spec;
	char	 err[256];

	(void)domid;
	vm_op_ended(vm);
	if (r != HV_OK) {
		clean_discard(vm_settings()->store, vm->name);
		vm_set_error(vm,
		    "saving its clean image failed in the hypervisor");
		if (r == HV_LOST)
			vm_forget_domain(vm);
		vm_event(vm, vm_result_event(r), NULL);
		vm_settle(vm);
		return;
	}
	vm_forget_domain(vm);
	/* The domain is gone and its disks closed: keep them as they are. */
	if (t == NULL || vm_make_spec(vm, &spec) == -1) {
		vm_event(vm, VM_EV_LOST, "its spec is gone");
		vm_settle(vm);
		return;
	}
	if (clean_keep(vm_settings()->store, t, &spec, err, sizeof(err)) == -1)
		/* The image still holds the guest: restore it, keep nothing. */
		log_warnx("%s: no clean image: %s", vm->name, err);
	vm->snap_restores = 0;
	if (snap_restore(vm) == -1)
		vm_settle(vm);
}

int
vm_clean_snapshot(struct vm *vm)
{
	char	 img[VMSPEC_PATH_MAX + 100];

	clean_discard(vm_settings()->store, vm->name);
	if (clean_prepare(vm_settings()->store, vm->name) == -1 ||
	    clean_image_path(vm_settings()->store, vm->name, img,
	    sizeof(img)) == -1) {
		vm_set_error(vm, "cannot make %s/clean", vm_settings()->store);
		return -1;
	}
	return hv_save(vm_hv(), vm->domid, img, snap_saved_cb, vm);
}

/* A reset's second half, its domain gone: the fast way if it can. */
void
vm_clean_reset_restart(struct vm *vm)
{
	const struct conf_template *t = vm_conf_template(vm->template);
	struct vm_spec spec;
	char	 img[VMSPEC_PATH_MAX + 100], err[256] = "";

	if (vm->fsm.kind != VM_CVM || t == NULL || vm_make_spec(vm,
	    &spec) == -1 ||
	    !clean_usable(vm_settings()->store, t, &spec) ||
	    clean_image_path(vm_settings()->store, vm->name, img,
	    sizeof(img)) == -1) {
		vm_start_fresh(vm);
		return;
	}
	if (clean_put_back(vm_settings()->store, t, &spec, err,
	    sizeof(err)) == -1 ||
	    hv_restore(vm_hv(), &spec, img, false, vm_made_cb, vm) == -1) {
		log_warnx("%s: fast reset impossible (%s): resetting it cold",
		    vm->name, err[0] ? err : "the hypervisor refused");
		clean_discard(vm_settings()->store, vm->name);
		vm_start_fresh(vm);
		return;
	}
	vm->fast_reset = true;
	vm_op_started(vm);
}

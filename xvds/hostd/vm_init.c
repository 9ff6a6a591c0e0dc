/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * hostd/vm_init.c — the VMs of this host put together: hostd/vm.c runs the
 * machines and calls the files above it, migration, clean images and
 * credentials, only through the hooks handed to it here, so that none of
 * them and hostd/vm.c depend on each other both ways.
 */
#include <config.h>

#include "hostd/vm.h"
#include "hostd/vm_clean.h"
#include "hostd/vm_cred.h"
#include "hostd/vm_migrate.h"
#include "hostd/vm_priv.h"

static const struct vm_hooks vm_modules = {
	.migrate_start = vm_migrate_start,
	.migrate_ask_fired = vm_migrate_ask_fired,
	.migrate_gc_fired = vm_migrate_gc_fired,
	.migrate_load = vm_migrate_load,
	.migrate_reconcile = vm_migrate_reconcile,
	.clean_snapshot = vm_clean_snapshot,
	.clean_snap_fired = vm_clean_snap_fired,
	.clean_reset_restart = vm_clean_reset_restart,
	.cred_answer = vm_cred_answer,
	.cred_check = vm_cred_check,
	.cred_cancel = vm_cred_cancel,
};

int
vm_init(struct event_base *base, struct hv *hv, struct xvds_conf *conf)
{
	return vm_core_init(base, hv, conf, &vm_modules);
}

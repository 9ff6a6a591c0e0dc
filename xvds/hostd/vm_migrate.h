/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * hostd/vm_migrate.h — a VM's migration, as hostd/vm_init.c hooks it into
 * hostd/vm.c (struct vm_hooks, hostd/vm_priv.h).  The receiving side is
 * vm_migrate_incoming (hostd/vm.h), the request vm_migrate (hostd/xvdsd.h).
 */
#ifndef XVDS_HOSTD_VM_MIGRATE_H
#define XVDS_HOSTD_VM_MIGRATE_H

#include <stdint.h>

#include <event2/event.h>
#include <jansson.h>

#include "hostd/vm_priv.h"

/* The migrate action: the offer sent to vm->mig_peer.  0 or -1. */
int	vm_migrate_start(struct vm *);
/* The sender in doubt asks its peer again (vm->ask_timer). */
void	vm_migrate_ask_fired(evutil_socket_t, short, void *);
/* A VM that left is forgotten once quiet (vm->gc). */
void	vm_migrate_gc_fired(evutil_socket_t, short, void *);
/* A record's "migration", read at start-up. */
void	vm_migrate_load(struct vm *, json_t *, const char *path);
/* A migration the daemon stopped in the middle of (hostd/reconcile.h). */
void	vm_migrate_reconcile(struct vm *, uint32_t found,
	    const struct reconcile_seen *);

#endif

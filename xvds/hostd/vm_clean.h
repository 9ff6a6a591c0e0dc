/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * hostd/vm_clean.h — a CVM's clean image and its fast resets, as
 * hostd/vm_init.c hooks them into hostd/vm.c (struct vm_hooks,
 * hostd/vm_priv.h).
 */
#ifndef XVDS_HOSTD_VM_CLEAN_H
#define XVDS_HOSTD_VM_CLEAN_H

#include <event2/event.h>

#include "hostd/vm_priv.h"

/* The snapshot action: a save of the fresh CVM, then its restore. */
int	vm_clean_snapshot(struct vm *);
/* A reset's second half, its domain gone: the fast way if it can. */
void	vm_clean_reset_restart(struct vm *);
/* A fresh CVM is ready: take its clean image if it has none (vm->snap_ev). */
void	vm_clean_snap_fired(evutil_socket_t, short, void *);

#endif

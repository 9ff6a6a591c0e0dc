/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * hostd/vm_cred.h — a session's one-time credential into a VM's guest, as
 * hostd/vm_init.c hooks it into hostd/vm.c (struct vm_hooks,
 * hostd/vm_priv.h).  The request is vm_credential (hostd/xvdsd.h).
 */
#ifndef XVDS_HOSTD_VM_CRED_H
#define XVDS_HOSTD_VM_CRED_H

#include "common/report.h"
#include "hostd/vm_priv.h"

/* The guest's answer to a credential. */
void	vm_cred_answer(struct vm *, const struct report_credential *);
/* After a change of state or domain: a delivery it ends is answered. */
void	vm_cred_check(struct vm *);
/* Ends a delivery under way, if any (the VM goes, xvdsd stops). */
void	vm_cred_cancel(struct vm *, const char *why);

#endif

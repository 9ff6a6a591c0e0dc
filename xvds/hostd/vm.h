/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * hostd/vm.h — the VMs of this host, as hostd/main.c wires them up: the
 * lifecycle state machines (common/vm_fsm.c) driven by requests, timers, the
 * guests' reports and the hypervisor's answers.  What the control socket may
 * ask is in hostd/xvdsd.h.
 */
#ifndef XVDS_HOSTD_VM_H
#define XVDS_HOSTD_VM_H

#include <stddef.h>
#include <stdint.h>

#include "hv/hv.h"
#include "hostd/migrate.h"
#include "common/reportstate.h"

struct event_base;
struct xvds_conf;

/*
 * Takes the loop, the hypervisor and the configuration (which it keeps
 * until vm_reload replaces it), reads the records in the state directory
 * and reconciles them with the domains the hypervisor lists.  0 or -1.
 */
int	vm_init(struct event_base *, struct hv *, struct xvds_conf *);
/* Applies a new configuration (SIGHUP); the old one is freed. */
void	vm_reload(struct xvds_conf *);
/* Stops timers and frees everything; running guests are left alone. */
void	vm_shutdown(void);
/* True while some action is under way (xvdsd waits before exiting). */
int	vm_busy(void);

/* Hooks for the hypervisor's and the report watch's callbacks. */
void	vm_domain_died(void *, uint32_t domid, enum hv_death);
void	vm_guest_report(void *, enum report_event, const char *key,
	    const struct report_domain *, const char *reason);
/*
 * The receiving side of a migration (hostd/vm_migrate.c), the hooks
 * hostd/main.c hands migrate_init (hostd/migrate.h).
 */
extern const struct migrate_hooks vm_migrate_incoming;

/*
 * Called from change_state() after every change of a VM's state, for the
 * controller link (hostd/agent_link.c); NULL for none.  Survives vm_shutdown.
 */
typedef void (*vm_change_hook)(const char *name, void *arg);
void	vm_set_change_hook(vm_change_hook, void *arg);

/* The windowed CPU use of a domain, from the sampler (hostd/host.c). */
void	vm_cpu_sample(uint32_t domid, double pct);

#endif

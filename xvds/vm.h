/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * vm.h — the VMs of this host, as xvdsd.c wires them up: the lifecycle
 * state machines (vm_fsm.c) driven by requests, timers, the guests'
 * reports and the hypervisor's answers.  What the control socket may ask
 * is in xvdsd.h.
 */
#ifndef XVDS_VM_H
#define XVDS_VM_H

#include <stdint.h>

#include "hv.h"
#include "reportstate.h"

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
/* The windowed CPU use of a domain, from the sampler (host.c). */
void	vm_cpu_sample(uint32_t domid, double pct);

#endif

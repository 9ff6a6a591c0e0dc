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
 * The receiving side of a migration, for hostd/migrate.c.  An offer makes an
 * incoming VM (or is refused, with msg) and fills the spec to build its
 * paused copy under a temporary name; arrived adopts that copy; commit
 * makes "go" durable and unpauses it (0, or -1 if it could not be made
 * durable); abort destroys what arrived and forgets the VM; has says
 * what this host has of a VM, for a sender that lost its answer.
 */
struct migrate_offer;
struct vm_spec;
int	vm_incoming_offer(const struct migrate_offer *, const char *peer,
	    struct vm_spec *, char *msg, size_t msglen);
void	vm_incoming_arrived(const char *name, uint32_t domid);
int	vm_incoming_commit(const char *name);
void	vm_incoming_abort(const char *name, const char *why);
enum migrate_has vm_incoming_has(const char *name);

/*
 * Called from change_state() after every change of a VM's state, for the
 * controller link (hostd/agent_link.c); NULL for none.  Survives vm_shutdown.
 */
typedef void (*vm_change_hook)(const char *name, void *arg);
void	vm_set_change_hook(vm_change_hook, void *arg);

/* The windowed CPU use of a domain, from the sampler (hostd/host.c). */
void	vm_cpu_sample(uint32_t domid, double pct);

#endif

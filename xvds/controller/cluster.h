/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * controller/cluster.h — the live cluster as the active controller sees it:
 * per connected host its CPU window, memory and VMs, from the samples its
 * agent sends (xvds-agent(7)), in the policy module's terms (policy/policy.h).
 * Placement of new and restored VMs and the balancer read it; nothing
 * here sends an op.
 *
 * Fed by controller/agent.c (ctrl_cluster_sample on every sample,
 * ctrl_cluster_gone when a host's connection ends).  Placements made
 * since a host's last samples are reserved on it (memory, and a share of
 * CPU), so that a burst of logins spreads instead of piling onto the host
 * that looked least loaded a moment ago.
 */
#ifndef XVDS_CONTROLLER_CLUSTER_H
#define XVDS_CONTROLLER_CLUSTER_H

#include <stdbool.h>
#include <stddef.h>

#include "agent/msg.h"
#include "policy/policy.h"

struct db;

/*
 * A reservation lasts until a sample of its host shows the VM with its
 * memory, but at least the first of these many samples (the window's
 * load shows a booting VM's CPU only slowly) and at most the second (a
 * VM whose op waited for the boot-storm throttle, then failed, or went
 * elsewhere, never shows).
 */
#define CTRL_CLUSTER_RESERVE_SAMPLES	2
#define CTRL_CLUSTER_RESERVE_MAX_SAMPLES 12

/*
 * Takes the policy's parameters (window, floor, CPU limit) and, when db
 * is not NULL, writes each host's latest figures to its hosts row
 * (xvds-schema(7)).  The cluster fills from the samples; before any
 * sample every placement fails with POLICY_R_NO_HOST.
 */
void	ctrl_cluster_start(struct db *, const struct policy_params *);
/* The policy's parameters reloaded; the hosts' windows are kept. */
void	ctrl_cluster_reconf(const struct policy_params *);
/* Forgets every host and stops writing.  Safe when not started. */
void	ctrl_cluster_stop(void);

/* A host's sample (figures and VMs); a new host is added. */
void	ctrl_cluster_sample(const char *host, const struct agent_sample *);
/* The host is no longer connected: out of the cluster. */
void	ctrl_cluster_gone(const char *host);
/*
 * Keeps a host out of placement (given up, draining), or lets it back.
 * Remembered also for a host not (yet) in the cluster.
 */
void	ctrl_cluster_exclude(const char *host, bool);
/*
 * The hosts an operator set draining or disabled (hosts.state), names
 * separated by blanks: out of placement, until a later call without them.
 * They stay in the view (a draining host's VMs may still move away).
 */
void	ctrl_cluster_set_closed(const char *names);

/*
 * The host the policy's placement rule picks for the new or restored VM
 * vm of mem_mib MiB: 0 and its name in host, or -1 and *why
 * (POLICY_R_NO_MEMORY, _CPU, _NO_HOST).  On success the VM's memory and
 * CPU share are reserved on the host until its samples show the VM
 * (memory shown so far counted once; CTRL_CLUSTER_RESERVE_SAMPLES).
 */
int	ctrl_cluster_place(const char *vm, unsigned mem_mib,
	    char host[AGENT_HOST_MAX + 1], enum policy_reason *why);
/*
 * Whether the placement rule admits a VM of mem_mib MiB on this host, its
 * reservations counted in: 1; 0 and *why if not (POLICY_R_NO_MEMORY,
 * _CPU, or _NO_HOST for a host out of placement: draining, disabled,
 * given up); -1 when nothing is known of it (no sample yet).  Nothing is
 * reserved.
 */
int	ctrl_cluster_admits(const char *host, unsigned mem_mib,
	    enum policy_reason *why);
/* Gives back a placement that did not happen (the op failed at once). */
void	ctrl_cluster_unplace(const char *host, const char *vm);

/* Hosts in the cluster (with at least one sample). */
size_t	ctrl_cluster_hosts(void);
/* The host's windowed load, percent, or -1 if unknown. */
double	ctrl_cluster_load(const char *host);

/*
 * A copy of the cluster for policy_tick: the hosts not excluded, with
 * their reservations counted as memory in use and their safety counters
 * (over, cool); every VM of their latest samples.  ctrl_cluster_keep
 * writes the counters policy_tick updated back; free with
 * ctrl_cluster_view_free.  -1 when out of memory.
 */
int	ctrl_cluster_view(struct policy_cluster *);
void	ctrl_cluster_keep(const struct policy_cluster *);
void	ctrl_cluster_view_free(struct policy_cluster *);

#endif

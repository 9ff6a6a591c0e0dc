/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * controller/agent.h — the controller's side of the agent channel
 * (xvds-agent(7)): the TLS listener of the active controller, the hosts'
 * registration, samples and VM states written to the database, each
 * host's records reconciled with what it reports after every connect
 * (xvds-controller(8), "What is recorded", "Reconciliation"), and
 * operations sent to a host's xvdsd with their results routed back by id.
 *
 * One per controller, and only while it is active: ctrl_agent_start when
 * it takes the lead, ctrl_agent_stop when it loses it.
 */
#ifndef XVDS_CONTROLLER_AGENT_H
#define XVDS_CONTROLLER_AGENT_H

#include <stddef.h>
#include <stdint.h>

#include "agent/msg.h"

/*
 * A host's second connection while it has one: how long the live one has
 * to answer a ping before the newcomer replaces it (xvds-controller(8),
 * "Two connections for one host").
 */
#define CTRL_AGENT_PROBE_S	5

struct event_base;
struct db;
struct ctrl_conf;

/*
 * Opens the listener of conf (agent listen, ca-file, cert-file, key-file)
 * and writes through db, which must outlive the agents.  From host-timeout
 * seconds on, and every third of it, hosts recorded "up" that nothing was
 * heard from in that time are marked down.  -1, logged.
 */
int	ctrl_agent_start(struct event_base *, struct db *,
	    const struct ctrl_conf *);
/*
 * Closes the listener and every connection, writing nothing more (the
 * caller may no longer be entitled to); fails the operations under way
 * with "stopped".  Safe when not started.
 */
void	ctrl_agent_stop(const char *why);
/*
 * A reloaded configuration's sample-interval, op-timeout and
 * host-timeout: ops sent from now on take the new timeout, the next sweep
 * the new grace; if the interval changed, each connected host is welcomed
 * again with it (it then resends its VMs' states, a resync).  The
 * listener and its certificates stay as they are.  Safe when not started.
 */
void	ctrl_agent_reconf(const struct ctrl_conf *);
int	ctrl_agent_running(void);
uint16_t ctrl_agent_port(void);
/* Hosts registered (welcomed) and connected now. */
size_t	ctrl_agent_hosts(void);
/* Whether the host is registered and connected now. */
int	ctrl_host_connected(const char *host);
/*
 * The names of the hosts registered and connected now, as a PostgreSQL
 * text[] literal ("{}" if none), for a query to keep to them; the caller
 * frees it.  NULL when out of memory.
 */
char	*ctrl_hosts_connected_array(void);
/* The host's latest figures (vms empty), or NULL if none yet. */
const struct agent_sample *ctrl_host_figures(const char *host);

/*
 * An operation's end: the agent's result, or one the controller makes up
 * with ok false and code "timeout" (none within the time), "disconnected"
 * (the host's connection ended first) or "stopped" (ctrl_agent_stop).
 * After "timeout" and "disconnected" the op may still take effect on the
 * host: the VM's state reports say what happened.
 */
typedef void (*ctrl_op_cb)(const char *host, const struct agent_result *,
	    void *arg);

/*
 * Sends op (its id is chosen here) to the registered host and calls cb
 * exactly once, later, from the loop.  timeout_s 0 takes the configured
 * op-timeout.  The op's id (> 0), or -1 without a callback if the host is
 * not connected or the op does not encode (logged).
 */
int64_t	ctrl_host_op(const char *host, const struct agent_op *,
	    unsigned timeout_s, ctrl_op_cb, void *arg);
/*
 * Asks the host to drop its record of the VM, which lives on another host
 * now (a "forget" op, xvds-agent(7)); the outcome is logged.  Nothing if
 * the host is not connected: it reports the record when it comes back,
 * and is asked then.
 */
void	ctrl_host_forget(const char *host, const char *vm);
/*
 * The event of common/vm_fsm.c an op is in its host's machine (xvdsd(8),
 * CONTROLLER), or -1 for an op that is no lifecycle request (migrate,
 * set, define, credential, forget).
 */
int	ctrl_agent_action_event(enum agent_action);
/*
 * fn is called with a VM's name each time a host's report of it is in
 * the database (the broker's logins waiting for its address look again,
 * controller/login.h); NULL: nobody is.  Kept across starts and stops.
 */
void	ctrl_agent_on_vm_reported(void (*fn)(const char *vm));
/*
 * fn is called with a VM's name and the states it went from and to each
 * time a host's report changes a VM of this host's in the database (the
 * sessions end whose desktop went down, controller/session.h); NULL:
 * nobody is.  Kept across starts and stops.
 */
void	ctrl_agent_on_vm_state(void (*fn)(const char *vm,
	    enum vm_state from, enum vm_state to));

#endif

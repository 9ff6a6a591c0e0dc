/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * hostd/xvdsd.h — inside the dom0 daemon: what the control socket
 * (hostd/control.c) may ask of the VMs (hostd/vm.c) and of the host
 * (hostd/host.c), and the errors it gets back.  Everything runs on the daemon's
 * one libevent loop.
 */
#ifndef XVDS_HOSTD_XVDSD_H
#define XVDS_HOSTD_XVDSD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "common/vm_fsm.h"

/* Errors a request can meet; their names are the protocol's. */
enum xvds_err {
	XVDS_OK,
	XVDS_E_INVAL,		/* malformed request or argument */
	XVDS_E_NOVM,		/* no VM of that name */
	XVDS_E_EXISTS,		/* a VM of that name exists */
	XVDS_E_ILLEGAL,		/* illegal transition for the VM's state */
	XVDS_E_BUSY,		/* an action is under way; try again */
	XVDS_E_FAILED,		/* the action failed (message says why) */
	XVDS_E_NOTSUP,		/* not supported (yet, or by this VM's kind) */
	XVDS_E_INTERNAL,
	XVDS_E_GUEST_FAILED,	/* the guest's agent could not do it */
	XVDS_E_GUEST_TIMEOUT,	/* the guest's agent did not answer in time */
	XVDS_E__COUNT,
};

extern const char *const xvds_err_names[];

#define XVDSD_NODOMAIN	UINT32_MAX	/* domid of a VM without a domain */

/* A VM as the operator sees it. */
struct vm_view {
	char		 name[64];
	char		 pool[32];	/* "" for a VM outside any pool */
	char		 template[32];
	enum vm_kind	 kind;
	enum vm_state	 state;
	time_t		 since;		/* in this state */
	uint32_t	 domid;		/* XVDSD_NODOMAIN if none */
	unsigned	 vcpus;
	unsigned	 max_vcpus;
	uint64_t	 memory_mib;
	uint64_t	 max_memory_mib;
	double		 cpu_pct;	/* windowed mean, 100 = one CPU busy */
	char		 boot_id[33];	/* of the last validated boot, or "" */
	char		 addr[46];	/* where dom0 reaches the guest, or "" */
	char		 rdp_sha256[65];	/* its RDP certificate's, or "" */
	char		 last_error[160];	/* why the last action failed, or "" */
	char		 moved_to[256];	/* a pool VM now on that host, or "" */
};

/* The host as operators know it from OpenNebula's host list. */
struct host_view {
	char		 hostname[64];
	char		 hypervisor[48];	/* "xen 4.17.7", "simulated" */
	unsigned	 rvm;		/* running VMs (with a domain) */
	unsigned	 tcpu;		/* total CPU, 100 per physical CPU */
	unsigned	 fcpu;		/* free CPU (tcpu minus the windowed use) */
	unsigned	 acpu;		/* allocated CPU: 100 per vCPU of our domains */
	uint64_t	 tmem_mib;	/* total memory */
	uint64_t	 fmem_mib;	/* free memory */
	uint64_t	 amem_mib;	/* allocated to our domains */
};

/*
 * How a request ends: err is XVDS_OK once the VM settled in the state
 * the request aimed at, else the error and a message for the operator.
 * Called exactly once for every accepted request, always from the loop
 * (never from within the call that accepted it), and with XVDS_E_FAILED
 * when the daemon stops first.
 */
typedef void (*xvds_reply_cb)(void *arg, enum xvds_err err, const char *msg);

/* hostd/vm.c */
size_t	vm_list(struct vm_view *, size_t max);	/* returns how many VMs exist */
enum xvds_err vm_get(const char *name, struct vm_view *);
/*
 * Feeds an operator's or the controller's request (start, pause, unpause,
 * save, restore, reset, shutdown, destroy, session-start, session-end) to
 * a VM.  Returns XVDS_OK if accepted: reply follows once the VM settles.
 * Otherwise returns the error at once (with msg filled) and never calls
 * reply.
 */
enum xvds_err vm_request(const char *name, enum vm_event, xvds_reply_cb, void *arg,
	    char *msg, size_t msglen);
/*
 * Migrates a VM to the xvdsd at peer ("address[:port]"), live or not;
 * reply follows once it runs there (or, failing, here again).
 */
enum xvds_err vm_migrate(const char *name, const char *peer, bool live,
	    xvds_reply_cb, void *arg, char *msg, size_t msglen);
/* Changes vCPUs and/or memory (0: unchanged) of a VM with a domain. */
enum xvds_err vm_set_resources(const char *name, unsigned vcpus, uint64_t memory_mib,
	    xvds_reply_cb, void *arg, char *msg, size_t msglen);
/* Defines a VM outside the pools from a template (vm create). */
enum xvds_err vm_define(const char *name, const char *template, enum vm_kind,
	    char *msg, size_t msglen);
/*
 * Hands a one-time credential (common/credential.h) to the guest of a ready or
 * running VM; reply follows once its agent applied it (XVDS_OK) or could
 * not (XVDS_E_GUEST_FAILED), or after credential-timeout
 * (XVDS_E_GUEST_TIMEOUT).  The password is not kept: wipe the caller's.
 */
enum xvds_err vm_credential(const char *name, const char *user,
	    const char *password, xvds_reply_cb, void *arg, char *msg,
	    size_t msglen);
/* Forgets a VM that has no domain and no saved image. */
enum xvds_err vm_undefine(const char *name, char *msg, size_t msglen);
/*
 * Drops this host's record of a VM that lives on another host now (the
 * controller's "forget"): inactive or saved, without a domain or an op
 * under way, not of xvds.conf's pools.  Unlike vm_undefine, nothing on
 * the shared store is touched: its disk and image are the other host's.
 * No such VM is XVDS_OK: there is nothing left to forget.
 */
enum xvds_err vm_forget(const char *name, char *msg, size_t msglen);

/* hostd/host.c */
int	host_view(struct host_view *);

#endif

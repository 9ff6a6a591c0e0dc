/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * hostd/vm_priv.h — inside the VMs of this host: what hostd/vm.c (the machines,
 * records, requests and start-up), hostd/vm_migrate.c (migration, both sides)
 * and hostd/vm_clean.c (clean images and fast resets) share.  Nothing outside
 * these three files includes it.
 */
#ifndef XVDS_HOSTD_VM_PRIV_H
#define XVDS_HOSTD_VM_PRIV_H

#include <sys/queue.h>

#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include <event2/event.h>
#include <jansson.h>

#include "common/conf.h"
#include "hv/hv.h"
#include "hostd/migrate.h"
#include "hostd/reconcile.h"
#include "common/report.h"
#include "common/template.h"
#include "common/vm_fsm.h"
#include "hostd/xvdsd.h"

struct reportwatch;
struct vm_cred;

/* A migration under way, as the record keeps it (hostd/migrate.h). */
enum mig_phase {
	MIG_NONE,
	MIG_SENDING,
	MIG_COMMITTING,
	MIG_INCOMING,
	MIG_COMMITTED,
};

struct vm {
	TAILQ_ENTRY(vm)	 entry;
	char		 name[VMSPEC_NAME_MAX + 1];
	char		 pool[TEMPLATE_NAME_MAX + 1];	/* "" outside pools */
	char		 template[TEMPLATE_NAME_MAX + 1];
	struct vm_fsm	 fsm;
	uint32_t	 domid;		/* XVDSD_NODOMAIN if none */
	time_t		 since;
	char		 boot_id[REPORT_BOOT_ID_LEN + 1];	/* validated */
	char		 addr[46];
	char		 rdp_sha256[REPORT_SHA256_LEN + 1];	/* or "" */
	bool		 have_addrs;
	double		 cpu_pct;
	unsigned	 vcpus;		/* as set by the operator; 0: template's */
	uint64_t	 memory_mib;
	char		 last_error[160];
	struct event	*timer;
	bool		 in_config;	/* still wanted by the configuration */
	/* The request waiting for this VM to settle. */
	xvds_reply_cb	 reply;
	void		*reply_arg;
	enum vm_state	 reply_target;	/* where the request means to go */
	unsigned	 ops;		/* hypervisor operations under way */
	bool		 start_when_reaped;	/* reconcile reaps, then boots */
	bool		 grace;		/* running, the guest says no session */
	/* A vCPU and/or memory change under way, and who waits for it. */
	bool		 setting;
	uint64_t	 set_memory_next;	/* after the vCPUs, MiB; 0: none */
	xvds_reply_cb	 set_reply;
	void		*set_reply_arg;
	/* Migration: where to (or from), how far, and what is left to do. */
	enum mig_phase	 mig_phase;
	char		 mig_peer[MIGRATE_PEER_MAX + 1];
	bool		 mig_live;
	struct event	*ask_timer;	/* the sender asks what became of it */
	bool		 leaving;	/* gone to another host: forget when quiet */
	bool		 away;		/* a pool VM of this host, now on mig_peer */
	struct event	*gc;
	/* Fast resets: the clean image is taken once the fresh CVM is ready. */
	struct event	*snap_ev;
	bool		 fast_reset;	/* this reset restores the clean image */
	unsigned	 snap_restores;	/* tries at restoring the image just taken */
	/* A one-time credential on its way into the guest (hostd/vm_cred.c). */
	struct vm_cred	*cred;
};

/* What the VMs of this host share (V, in hostd/vm.c). */
struct vm_host {
	struct event_base *base;
	struct hv	*hv;
	struct xvds_conf *conf;
	struct reportwatch *rw;
	struct event	*rw_ev;
	TAILQ_HEAD(, vm) vms;
	unsigned	 busy;		/* hypervisor operations under way */
};

extern struct vm_host V;

extern const char *const mig_phase_names[];

/* hostd/vm.c */
const struct conf_settings *settings(void);
struct vm *find_vm(const char *name);
void	set_error(struct vm *, const char *, ...)
	    __attribute__((format(printf, 2, 3)));
int	record_save(const struct vm *);
void	record_remove(const struct vm *);
void	settle(struct vm *);
void	arm_timer(struct vm *);
void	adopt_domain(struct vm *, uint32_t domid);
void	forget_domain(struct vm *);
void	store_identity(struct vm *);
int	make_spec(struct vm *, struct vm_spec *);
enum vm_event	result_event(enum hv_result);
/* Answers a request from the loop, never from within the call. */
void	reply_later(xvds_reply_cb, void *, enum xvds_err, const char *, ...)
	    __attribute__((format(printf, 4, 5)));
void	op_started(struct vm *);
void	op_ended(struct vm *);
void	made_cb(void *, enum hv_result, uint32_t domid);
void	simple_cb(void *, enum hv_result, uint32_t domid);
void	start_fresh(struct vm *);
void	destroy_domain(struct vm *);
void	vm_event(struct vm *, enum vm_event, const char *why);
enum xvds_err	request_check(const struct vm *, enum vm_event, char *msg, size_t msglen);
void	request_begin(struct vm *, enum vm_event, xvds_reply_cb, void *);
bool	valid_vm_name(const char *);
struct vm *vm_new(const char *name, const char *pool, const char *template,
	    enum vm_kind);
void	vm_free(struct vm *);

/* hostd/vm_migrate.c */
int	migrate_start(struct vm *);
void	ask_fired(evutil_socket_t, short, void *);
void	gc_fired(evutil_socket_t, short, void *);
void	load_migration(struct vm *, json_t *, const char *path);
void	reconcile_migrating(struct vm *, uint32_t found,
	    const struct reconcile_seen *);

/* hostd/vm_cred.c */
/* The guest's answer to a credential. */
void	cred_answer(struct vm *, const struct report_credential *);
/* After a change of state or domain: a delivery it ends is answered. */
void	cred_check(struct vm *);
/* Ends a delivery under way, if any (the VM goes, xvdsd stops). */
void	cred_cancel(struct vm *, const char *why);

/* hostd/vm_clean.c */
int	snapshot_start(struct vm *);
void	reset_restart(struct vm *);
void	snap_fired(evutil_socket_t, short, void *);

#endif

/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * hostd/vm_priv.h — inside the VMs of this host: what hostd/vm.c (the machines,
 * records, requests and start-up) shares with the files above it,
 * hostd/vm_migrate.c (migration, both sides), hostd/vm_clean.c (clean images
 * and fast resets) and hostd/vm_cred.c (credentials), and the hooks through
 * which it calls them.  Nothing outside these files and hostd/vm_init.c
 * includes it.
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
enum vm_mig_phase {
	VM_MIG_NONE,
	VM_MIG_SENDING,
	VM_MIG_COMMITTING,
	VM_MIG_INCOMING,
	VM_MIG_COMMITTED,
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
	enum vm_mig_phase	 mig_phase;
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

extern const char *const vm_mig_phase_names[];

/*
 * What hostd/vm.c asks of the files above it, which it never names:
 * migration (hostd/vm_migrate.c), clean images (hostd/vm_clean.c) and
 * credentials (hostd/vm_cred.c).  hostd/vm_init.c puts them together.
 */
struct vm_hooks {
	/* Migration: the action, its timers, a record's part, a restart's. */
	int	(*migrate_start)(struct vm *);
	event_callback_fn migrate_ask_fired;
	event_callback_fn migrate_gc_fired;
	void	(*migrate_load)(struct vm *, json_t *, const char *path);
	void	(*migrate_reconcile)(struct vm *, uint32_t found,
		    const struct reconcile_seen *);
	/* Clean images: the action, its deferred start,
	    a reset's second half. */
	int	(*clean_snapshot)(struct vm *);
	event_callback_fn clean_snap_fired;
	void	(*clean_reset_restart)(struct vm *);
	/* Credentials: the guest's answer, a change of state, the VM going. */
	void	(*cred_answer)(struct vm *, const struct report_credential *);
	void	(*cred_check)(struct vm *);
	void	(*cred_cancel)(struct vm *, const char *why);
};

/* hostd/vm.c */
/* vm_init, with the hooks: hostd/vm_init.c calls it. */
int	vm_core_init(struct event_base *, struct hv *, struct xvds_conf *,
	    const struct vm_hooks *);
/* What the VMs of this host share, which hostd/vm.c keeps. */
struct event_base *vm_base(void);
struct hv *vm_hv(void);
struct reportwatch *vm_reportwatch(void);
const struct conf_settings *vm_settings(void);
const struct conf_template *vm_conf_template(const char *name);
struct vm *vm_find(const char *name);
void	vm_set_error(struct vm *, const char *, ...)
	    __attribute__((format(printf, 2, 3)));
int	vm_record_save(const struct vm *);
void	vm_record_remove(const struct vm *);
void	vm_settle(struct vm *);
void	vm_arm_timer(struct vm *);
void	vm_adopt_domain(struct vm *, uint32_t domid);
void	vm_forget_domain(struct vm *);
void	vm_store_identity(struct vm *);
int	vm_make_spec(struct vm *, struct vm_spec *);
enum vm_event	vm_result_event(enum hv_result);
/* Answers a request from the loop, never from within the call. */
void	vm_reply_later(xvds_reply_cb, void *, enum xvds_err, const char *, ...)
	    __attribute__((format(printf, 4, 5)));
void	vm_op_started(struct vm *);
void	vm_op_ended(struct vm *);
void	vm_made_cb(void *, enum hv_result, uint32_t domid);
void	vm_simple_cb(void *, enum hv_result, uint32_t domid);
void	vm_start_fresh(struct vm *);
void	vm_destroy_domain(struct vm *);
void	vm_event(struct vm *, enum vm_event, const char *why);
enum xvds_err	vm_request_check(const struct vm *, enum vm_event, char *msg,
    size_t msglen);
void	vm_request_begin(struct vm *, enum vm_event, xvds_reply_cb, void *);
bool	vm_name_valid(const char *);
struct vm *vm_new(const char *name, const char *pool, const char *template,
	    enum vm_kind);
void	vm_free(struct vm *);

#endif

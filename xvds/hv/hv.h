/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * hv/hv.h — the hypervisor seam: what XVDS asks of Xen, in XVDS's own terms.
 *
 * Two implementations, chosen at link time:
 *   hv/libxl.c  Xen through libxl (the only file that includes libxl.h);
 *   hvsim/sim.c    a simulated hypervisor, in memory, for unit tests, scale
 *               benchmarks and the policy simulator.  It never stands in
 *               for Xen in an end-to-end test.
 *
 * The daemon runs one libevent loop.  Long operations are asynchronous:
 * they return 0 once started and call their hv_done_cb later from the
 * loop, never from within the call; or they return -1 (logged) if they
 * could not be started, and then no callback follows.
 */
#ifndef XVDS_HV_HV_H
#define XVDS_HV_HV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "common/vmspec.h"

struct event_base;

enum hv_dom_state {
	HV_DOM_RUNNING,
	HV_DOM_BLOCKED,		/* running, but idle this instant */
	HV_DOM_PAUSED,
	HV_DOM_SHUTDOWN,	/* shut down, not yet destroyed */
	HV_DOM_DYING,
};

extern const char *const hv_dom_state_names[];

struct hv_domain {
	uint32_t	 domid;
	char		 name[64];
	char		 uuid[37];
	enum hv_dom_state state;
	uint64_t	 mem_kib;
	uint64_t	 max_mem_kib;
	unsigned	 vcpus;		/* online */
	uint64_t	 cpu_time_ns;	/* since the domain started */
	/* Why it stopped, when state is HV_DOM_SHUTDOWN. */
	int		 shutdown_reason;	/* an enum hv_death */
};

struct hv_host {
	unsigned	 cpus;		/* physical CPUs */
	uint64_t	 total_mib;
	uint64_t	 free_mib;	/* not given to any domain */
	uint64_t	 cpu_idle_ns;	/* summed over CPUs, since boot */
	char		 name[32];	/* "xen 4.17.7", "simulated" */
};

/* How an operation ended; the vm_fsm events of the same names follow. */
enum hv_result {
	HV_OK,
	HV_FAILED,		/* it failed; the domain is as it was before */
	HV_LOST,		/* it failed; the domain is gone or in an unknown state */
};

/* Why a watched domain stopped running. */
enum hv_death {
	HV_DEATH_POWEROFF,
	HV_DEATH_REBOOT,
	HV_DEATH_SUSPEND,
	HV_DEATH_CRASH,
	HV_DEATH_WATCHDOG,
	HV_DEATH_GONE,		/* destroyed, or vanished */
};

extern const char *const hv_death_names[];

/* domid: of the domain the operation made (create, restore), else the one acted on. */
typedef void (*hv_done_cb)(void *arg, enum hv_result, uint32_t domid);

struct hv_callbacks {
	/*
	 * A watched domain shut down (it still exists and must be destroyed)
	 * or is gone.  Reported once per domain.  A suspend is not reported:
	 * it is how a save ends, or (left over) what hv_resume() undoes.
	 */
	void	(*domain_died)(void *arg, uint32_t domid, enum hv_death);
	void	*arg;
};

/*
 * Opens the hypervisor.  With a NULL event base only the synchronous
 * calls may be used (tools like xvds-probe).  NULL, logged, on failure.
 */
struct hv *hv_open(struct event_base *, const struct hv_callbacks *);
void	hv_close(struct hv *);

int	hv_host_info(struct hv *, struct hv_host *);
/* All domains, dom0 included, by domid; *list_r is to be freed. */
int	hv_list_domains(struct hv *, struct hv_domain **list_r, size_t *n_r);
/* One domain; -1 with errno ENOENT if there is none with that id. */
int	hv_domain_info(struct hv *, uint32_t domid, struct hv_domain *);
/*
 * When the domain was created (or restored, or migrated in): -1 if not
 * known, e.g. while it is still being built.
 */
int	hv_domain_start_time(struct hv *, uint32_t domid, time_t *t_r);

/*
 * XVDS's identity blob, kept with the domain so that a restarted daemon
 * knows its own (libvirt does the same with libxl's userdata).  Retrieve
 * returns 0 with *data_r NULL if the domain has none; *data_r is freed
 * by the caller.
 */
int	hv_userdata_store(struct hv *, uint32_t domid, const void *, size_t);
int	hv_userdata_retrieve(struct hv *, uint32_t domid, void **data_r, size_t *len_r);

/* Death reports for a domain: after create/restore, and for adopted ones. */
int	hv_watch_domain(struct hv *, uint32_t domid);
void	hv_unwatch_domain(struct hv *, uint32_t domid);

/*
 * Resumes a domain that a save suspended and never finished with (the
 * daemon died mid-save): the guest runs on as before.  Synchronous; 0 or
 * -1.
 */
int	hv_resume(struct hv *, uint32_t domid);

/* Asynchronous operations (see the top of this file). */
int	hv_create(struct hv *, const struct vm_spec *, bool paused, hv_done_cb, void *);
int	hv_restore(struct hv *, const struct vm_spec *, const char *image, bool paused,
	    hv_done_cb, void *);
/* Saves to image; on HV_OK the domain is gone. */
int	hv_save(struct hv *, uint32_t domid, const char *image, hv_done_cb, void *);
int	hv_pause(struct hv *, uint32_t domid, hv_done_cb, void *);
int	hv_unpause(struct hv *, uint32_t domid, hv_done_cb, void *);
/* Asks the guest to shut down; HV_OK once asked.  Its death is reported. */
int	hv_shutdown(struct hv *, uint32_t domid, hv_done_cb, void *);
int	hv_destroy(struct hv *, uint32_t domid, hv_done_cb, void *);
int	hv_set_vcpus(struct hv *, uint32_t domid, unsigned, hv_done_cb, void *);
int	hv_set_memory(struct hv *, uint32_t domid, uint64_t mib, hv_done_cb, void *);

/*
 * Live migration, one side each (hostd/migrate.c runs the handshake around
 * them).  fd is a connected stream socket that the caller owns: it stays
 * open after the callback, positioned just after the domain's stream, so
 * that the two daemons go on talking over it.  The stream is
 * self-delimiting: the receiver reads exactly what the sender wrote.
 *
 * hv_migrate_send streams the domain to fd: while it runs (live) or
 * suspended first.  On HV_OK the domain is suspended here and must then
 * be destroyed (the receiver took over) or resumed with hv_resume() (it
 * did not).  On HV_FAILED it runs here as before.
 *
 * hv_migrate_receive builds a domain from the stream, named spec->name
 * (the caller picks a temporary name while both copies exist), and
 * leaves it paused.  On HV_OK domid is the new domain's; on HV_FAILED
 * nothing is left of it.
 */
int	hv_migrate_send(struct hv *, uint32_t domid, int fd, bool live, hv_done_cb,
	    void *);
int	hv_migrate_receive(struct hv *, const struct vm_spec *, int fd, hv_done_cb,
	    void *);
/* Renames a domain (names are unique per host).  Synchronous; 0 or -1. */
int	hv_rename(struct hv *, uint32_t domid, const char *name);

/*
 * The libxl domain configuration a spec becomes, as libxl's JSON (the
 * golden-file tests compare it); NULL on error.  Freed by the caller.
 */
char	*hv_spec_to_json(struct hv *, const struct vm_spec *);

#endif

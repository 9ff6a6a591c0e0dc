/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * hv.h — the hypervisor seam: what XVDS asks of Xen, in XVDS's own terms.
 * hv_libxl.c implements it with libxl, and is the only file that includes
 * libxl.h.
 */
#ifndef XVDS_HV_H
#define XVDS_HV_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

enum hv_dom_state {
	HV_DOM_RUNNING,
	HV_DOM_BLOCKED,		/* running, but idle this instant */
	HV_DOM_PAUSED,
	HV_DOM_SHUTDOWN,
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
	uint64_t	 cpu_time_ns;
};

struct hv;

/* Opens the hypervisor; NULL, logged, if it is not reachable. */
struct hv *hv_open(void);
void	hv_close(struct hv *);
/* All domains, dom0 included, by domid; *list_r is to be freed. */
int	hv_list_domains(struct hv *, struct hv_domain **list_r, size_t *n_r);
/*
 * When the domain was created (or restored, or migrated in): -1 if not
 * known, e.g. while it is still being built.
 */
int	hv_domain_start_time(struct hv *, uint32_t domid, time_t *t_r);

#endif

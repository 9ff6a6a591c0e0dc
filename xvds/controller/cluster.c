/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * controller/cluster.c — the live cluster from the agents' samples (see
 * controller/cluster.h).  A host's load is percent of its whole CPU: its
 * figures say how much of tcpu is free (fcpu, already a windowed mean on
 * the host), and the policy's own window smooths it again over
 * MIGRATE_TERM samples, as xvds-policy(7) says.  A VM's CPU, 100 per CPU in
 * the sample, becomes percent of its host for the policy.
 */
#include <config.h>

#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "controller/cluster.h"
#include "controller/sql.h"
#include "db/db.h"
#include "common/log.h"

/*
 * What a VM just placed is taken to use until its host's samples show it:
 * the mean VM of the cluster, and at least a quarter of a CPU (a desktop
 * booting is not idle), in 100-per-CPU units.
 */
#define NEW_VM_CPU_MIN	25.0

struct resv {
	char		 vm[AGENT_VM_MAX + 1];
	unsigned	 mem_mib;
	double		 cpu_pct;	/* 100 per CPU */
	unsigned	 samples;	/* of the host since it was made */
};

struct cvm {
	char		 name[AGENT_VM_MAX + 1];
	unsigned	 mem_mib;
	double		 cpu_pct;	/* 100 per CPU */
};

struct chost {
	char		 name[AGENT_HOST_MAX + 1];
	bool		 present;	/* connected, sampled at least once */
	bool		 excluded;
	bool		 closed;	/* draining or disabled */
	struct policy_host ph;
	unsigned	 tcpu;
	struct cvm	*vms;
	size_t		 nvms;
	struct resv	*resv;
	size_t		 nresv;
};

static struct {
	struct db	*db;
	struct policy_params params;
	bool		 have_params;
	struct chost	**hosts;
	size_t		 nhosts;
	char		*closed;	/* hosts draining or disabled */
} cluster_state;

static bool	listed(const char *, const char *);

static const struct policy_params *
params(void)
{
	if (!cluster_state.have_params) {
		policy_defaults(&cluster_state.params);
		cluster_state.have_params = true;
	}
	return &cluster_state.params;
}

static struct chost *
find(const char *name)
{
	size_t	 i;

	for (i = 0; i < cluster_state.nhosts; i++)
		if (strcmp(cluster_state.hosts[i]->name, name) == 0)
			return cluster_state.hosts[i];
	return NULL;
}

static struct chost *
find_or_add(const char *name)
{
	struct chost *h, **tmp;

	if ((h = find(name)) != NULL)
		return h;
	if (strlen(name) > AGENT_HOST_MAX) {
		log_warnx("cluster: host name too long");
		return NULL;
	}
	if ((h = calloc(1, sizeof(*h))) == NULL ||
	    (tmp = reallocarray(cluster_state.hosts, cluster_state.nhosts + 1,
	    sizeof(*tmp))) == NULL) {
		log_warn("%s", __func__);
		free(h);
		return NULL;
	}
	snprintf(h->name, sizeof(h->name), "%s", name);
	snprintf(h->ph.id, sizeof(h->ph.id), "%s", name);
	h->closed = listed(cluster_state.closed, name);
	cluster_state.hosts = tmp;
	cluster_state.hosts[cluster_state.nhosts++] = h;
	return h;
}

/* Forgets what the host's samples said; the exclusion is kept. */
static void
forget(struct chost *h)
{
	free(h->vms);
	free(h->resv);
	h->vms = NULL;
	h->nvms = 0;
	h->resv = NULL;
	h->nresv = 0;
	h->present = false;
	h->tcpu = 0;
	memset(&h->ph, 0, sizeof(h->ph));
	snprintf(h->ph.id, sizeof(h->ph.id), "%s", h->name);
}

static void
drop(struct chost *h)
{
	size_t	 i;

	for (i = 0; i < cluster_state.nhosts; i++)
		if (cluster_state.hosts[i] == h) {
			memmove(&cluster_state.hosts[i],
			    &cluster_state.hosts[i + 1],
			    (cluster_state.nhosts - i - 1) *
			    sizeof(*cluster_state.hosts));
			cluster_state.nhosts--;
			break;
		}
	forget(h);
	free(h);
}

static unsigned
clamp_u(uint64_t v)
{
	return v > UINT_MAX ? UINT_MAX : (unsigned)v;
}

static void
figures_written(PGresult *res, const char *err, void *arg)
{
	(void)res;
	(void)arg;
	if (err != NULL)
		log_warnx("cluster: host figures not recorded: %s", err);
}

static void
record(const struct chost *h, const struct agent_sample *s)
{
	const char *p[8];
	char	 v[7][32];

	if (cluster_state.db == NULL)
		return;
	snprintf(v[0], sizeof(v[0]), "%u", s->rvm);
	snprintf(v[1], sizeof(v[1]), "%u", s->tcpu);
	snprintf(v[2], sizeof(v[2]), "%u", s->fcpu);
	snprintf(v[3], sizeof(v[3]), "%u", s->acpu);
	snprintf(v[4], sizeof(v[4]), "%" PRIu64, s->tmem_mib);
	snprintf(v[5], sizeof(v[5]), "%" PRIu64, s->fmem_mib);
	snprintf(v[6], sizeof(v[6]), "%.2f",
	    policy_host_load(&h->ph, params()->window));
	p[0] = h->name;
	p[1] = v[0];
	p[2] = v[1];
	p[3] = v[2];
	p[4] = v[3];
	p[5] = v[4];
	p[6] = v[5];
	p[7] = v[6];
	if (db_query(cluster_state.db, DB_IDEMPOTENT, figures_written, NULL,
	    sql_cluster_figures,
	    8, p) == -1)
		log_warnx("cluster: %s: cannot queue its figures", h->name);
}

void
ctrl_cluster_start(struct db *db, const struct policy_params *p)
{
	cluster_state.db = db;
	cluster_state.params = *p;
	cluster_state.have_params = true;
}

void
ctrl_cluster_reconf(const struct policy_params *p)
{
	cluster_state.params = *p;
	cluster_state.have_params = true;
}

void
ctrl_cluster_stop(void)
{
	while (cluster_state.nhosts > 0)
		drop(cluster_state.hosts[cluster_state.nhosts - 1]);
	free(cluster_state.hosts);
	cluster_state.hosts = NULL;
	free(cluster_state.closed);
	cluster_state.closed = NULL;
	cluster_state.db = NULL;
}

/* The memory the host's latest sample shows the VM with: 0 if none. */
static unsigned
shown_mib(const struct chost *h, const char *vm)
{
	size_t	 i;

	for (i = 0; i < h->nvms; i++)
		if (strcmp(h->vms[i].name, vm) == 0)
			return h->vms[i].mem_mib;
	return 0;
}

void
ctrl_cluster_sample(const char *host, const struct agent_sample *s)
{
	struct chost *h;
	struct cvm *vms = NULL;
	struct resv *r;
	double	 load;
	size_t	 i, j;

	if (s->tcpu == 0 || s->tmem_mib == 0) {
		log_warnx("cluster: %s: a sample without CPU or memory, ignored",
		    host);
		return;
	}
	if ((h = find_or_add(host)) == NULL)
		return;
	if (s->nvms > 0 && (vms = calloc(s->nvms, sizeof(*vms))) == NULL) {
		log_warn("%s", __func__);
		return;
	}
	for (i = 0; i < s->nvms; i++) {
		snprintf(vms[i].name, sizeof(vms[i].name), "%s", s->vms[i].vm);
		vms[i].mem_mib = clamp_u(s->vms[i].memory_mib);
		vms[i].cpu_pct = s->vms[i].cpu_pct;
	}
	free(h->vms);
	h->vms = vms;
	h->nvms = s->nvms;
	h->present = true;
	h->tcpu = s->tcpu;
	load = s->fcpu >= s->tcpu ? 0 :
	    100.0 * (double)(s->tcpu - s->fcpu) / (double)s->tcpu;
	policy_host_sample(&h->ph, load);
	h->ph.mem_mb = clamp_u(s->tmem_mib);
	h->ph.mem_used_mb = s->fmem_mib >= s->tmem_mib ? 0 :
	    clamp_u(s->tmem_mib - s->fmem_mib);
	/* A reservation ends once the samples show the VM whole. */
	for (i = j = 0; i < h->nresv; i++) {
		r = &h->resv[i];
		if (++r->samples < CTRL_CLUSTER_RESERVE_SAMPLES ||
		    (r->samples < CTRL_CLUSTER_RESERVE_MAX_SAMPLES &&
		    shown_mib(h, r->vm) < r->mem_mib))
			h->resv[j++] = *r;
	}
	h->nresv = j;
	record(h, s);
}

void
ctrl_cluster_gone(const char *host)
{
	struct chost *h;

	if ((h = find(host)) == NULL)
		return;
	if (h->excluded)
		forget(h);
	else
		drop(h);
}

void
ctrl_cluster_exclude(const char *host, bool excluded)
{
	struct chost *h;

	if (excluded) {
		if ((h = find_or_add(host)) != NULL)
			h->excluded = true;
		return;
	}
	if ((h = find(host)) == NULL)
		return;
	h->excluded = false;
	if (!h->present)
		drop(h);
}

/* The mean VM's CPU over the cluster, 100 per CPU, with the floor. */
static double
new_vm_cpu(void)
{
	double	 sum = 0;
	size_t	 i, j, n = 0;

	for (i = 0; i < cluster_state.nhosts; i++)
		for (j = 0; j < cluster_state.hosts[i]->nvms; j++) {
			sum += cluster_state.hosts[i]->vms[j].cpu_pct;
			n++;
		}
	if (n == 0 || sum / (double)n < NEW_VM_CPU_MIN)
		return NEW_VM_CPU_MIN;
	return sum / (double)n;
}

static bool
usable(const struct chost *h)
{
	return h->present && !h->excluded;
}

/* Is name one of the blank-separated names? */
static bool
listed(const char *names, const char *name)
{
	const char *p, *e;
	size_t	 len = strlen(name);

	if (names == NULL)
		return false;
	for (p = names; *p != '\0'; p = e) {
		while (*p == ' ')
			p++;
		for (e = p; *e != '\0' && *e != ' '; e++)
			;
		if ((size_t)(e - p) == len && len > 0 &&
		    strncmp(p, name, len) == 0)
			return true;
	}
	return false;
}

void
ctrl_cluster_set_closed(const char *names)
{
	size_t	 i;

	free(cluster_state.closed);
	if ((cluster_state.closed = strdup(names)) == NULL)
		log_warn("%s", __func__);
	for (i = 0; i < cluster_state.nhosts; i++)
		cluster_state.hosts[i]->closed = listed(cluster_state.closed,
		    cluster_state.hosts[i]->name);
}

/* The host's policy figures with its reservations counted in. */
static void
reserved_view(const struct chost *h, struct policy_host *out, bool with_cpu)
{
	double	 load, cpu = 0;
	uint64_t used = h->ph.mem_used_mb;
	unsigned shown;
	size_t	 i;

	*out = h->ph;
	for (i = 0; i < h->nresv; i++) {
		/* A VM still being built shows part of its memory already. */
		shown = shown_mib(h, h->resv[i].vm);
		if (shown < h->resv[i].mem_mib)
			used += h->resv[i].mem_mib - shown;
		cpu += h->resv[i].cpu_pct;
	}
	out->mem_used_mb = clamp_u(used);
	if (!with_cpu || h->nresv == 0)
		return;
	/* One sample in the ring: the windowed load plus the reserved CPU. */
	load = policy_host_load(&h->ph, params()->window);
	load += 100.0 * cpu / (double)h->tcpu;
	memset(out->ring, 0, sizeof(out->ring));
	out->ring[0] = load > 100 ? 100 : load;
	out->nsamples = 1;
	out->next = 1;
}

int
ctrl_cluster_place(const char *vm, unsigned mem_mib,
    char host[AGENT_HOST_MAX + 1], enum policy_reason *why)
{
	struct policy_cluster c;
	struct policy_host *ph;
	struct chost **map, *h;
	struct resv *tmp;
	size_t	 i, n = 0;
	long	 best;

	memset(&c, 0, sizeof(c));
	host[0] = '\0';
	if (cluster_state.nhosts == 0) {
		*why = POLICY_R_NO_HOST;
		return -1;
	}
	if ((ph = calloc(cluster_state.nhosts, sizeof(*ph))) == NULL ||
	    (map = calloc(cluster_state.nhosts, sizeof(*map))) == NULL) {
		log_warn("%s", __func__);
		free(ph);
		*why = POLICY_R_NO_HOST;
		return -1;
	}
	for (i = 0; i < cluster_state.nhosts; i++) {
		if (!usable(cluster_state.hosts[i]) ||
		    cluster_state.hosts[i]->closed)
			continue;
		reserved_view(cluster_state.hosts[i], &ph[n], true);
		map[n++] = cluster_state.hosts[i];
	}
	c.hosts = ph;
	c.nhosts = n;
	best = policy_place(&c, params(), mem_mib, why);
	free(ph);
	if (best < 0) {
		free(map);
		return -1;
	}
	h = map[best];
	free(map);
	if ((tmp = reallocarray(h->resv, h->nresv + 1, sizeof(*tmp))) == NULL) {
		log_warn("%s", __func__);
		*why = POLICY_R_NO_HOST;
		return -1;
	}
	h->resv = tmp;
	snprintf(h->resv[h->nresv].vm, sizeof(h->resv[h->nresv].vm), "%s", vm);
	h->resv[h->nresv].mem_mib = mem_mib;
	h->resv[h->nresv].cpu_pct = new_vm_cpu();
	h->resv[h->nresv].samples = 0;
	h->nresv++;
	snprintf(host, AGENT_HOST_MAX + 1, "%s", h->name);
	*why = POLICY_R_NONE;
	return 0;
}

int
ctrl_cluster_admits(const char *host, unsigned mem_mib, enum policy_reason *why)
{
	struct policy_cluster c;
	struct policy_host ph;
	struct chost *h;

	if ((h = find(host)) == NULL || !h->present)
		return -1;
	if (h->excluded || h->closed) {
		*why = POLICY_R_NO_HOST;
		return 0;
	}
	/* The rule, asked of a cluster of this host alone. */
	reserved_view(h, &ph, true);
	memset(&c, 0, sizeof(c));
	c.hosts = &ph;
	c.nhosts = 1;
	if (policy_place(&c, params(), mem_mib, why) == 0)
		return 1;
	return *why == POLICY_R_NO_HOST ? -1 : 0;	/* no load known yet */
}

void
ctrl_cluster_unplace(const char *host, const char *vm)
{
	struct chost *h;
	size_t	 i;

	if ((h = find(host)) == NULL)
		return;
	for (i = h->nresv; i-- > 0;)
		if (strcmp(h->resv[i].vm, vm) == 0) {
			memmove(&h->resv[i], &h->resv[i + 1],
			    (h->nresv - i - 1) * sizeof(*h->resv));
			h->nresv--;
			return;
		}
}

size_t
ctrl_cluster_hosts(void)
{
	size_t	 i, n = 0;

	for (i = 0; i < cluster_state.nhosts; i++)
		if (cluster_state.hosts[i]->present)
			n++;
	return n;
}

double
ctrl_cluster_load(const char *host)
{
	struct chost *h;

	if ((h = find(host)) == NULL || !h->present)
		return -1;
	return policy_host_load(&h->ph, params()->window);
}

int
ctrl_cluster_view(struct policy_cluster *c)
{
	const struct chost *h;
	size_t	 i, j, nh = 0, nv = 0;

	memset(c, 0, sizeof(*c));
	for (i = 0; i < cluster_state.nhosts; i++)
		if (usable(cluster_state.hosts[i])) {
			nh++;
			nv += cluster_state.hosts[i]->nvms;
		}
	if ((nh > 0 && (c->hosts = calloc(nh, sizeof(*c->hosts))) == NULL) ||
	    (nv > 0 && (c->vms = calloc(nv, sizeof(*c->vms))) == NULL)) {
		log_warn("%s", __func__);
		ctrl_cluster_view_free(c);
		return -1;
	}
	for (i = 0; i < cluster_state.nhosts; i++) {
		if (!usable(h = cluster_state.hosts[i]))
			continue;
		reserved_view(h, &c->hosts[c->nhosts], false);
		for (j = 0; j < h->nvms; j++) {
			struct policy_vm *v = &c->vms[c->nvms++];

			snprintf(v->id, sizeof(v->id), "%s", h->vms[j].name);
			v->host = c->nhosts;
			v->mem_mb = h->vms[j].mem_mib;
			v->cpu = 100.0 * h->vms[j].cpu_pct / (double)h->tcpu;
		}
		c->nhosts++;
	}
	return 0;
}

void
ctrl_cluster_keep(const struct policy_cluster *c)
{
	struct chost *h;
	size_t	 i;

	for (i = 0; i < c->nhosts; i++)
		if ((h = find(c->hosts[i].id)) != NULL && h->present) {
			h->ph.over = c->hosts[i].over;
			h->ph.cool = c->hosts[i].cool;
		}
}

void
ctrl_cluster_view_free(struct policy_cluster *c)
{
	free(c->hosts);
	free(c->vms);
	memset(c, 0, sizeof(*c));
}

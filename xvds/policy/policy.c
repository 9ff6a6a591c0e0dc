/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * policy/policy.c — the migration policies and the placement of new PVMs (see
 * policy/policy.h; the choices in xvds-policy(7)).  The paper's ten steps map
 * onto policy_tick as: 1–2 the windowed loads and the trigger, 3 pick(),
 * 4 the destination order, 5 and 9 the memory test walking that order,
 * 6–8 the CPU test, 10 the working figures updated after each migration.
 */
#include <config.h>

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "policy/policy.h"

const char *const policy_round_names[POLICY_ROUND__COUNT] = {
	"floor", "nearest", "ceil",
};

const char *const policy_reason_names[POLICY_R__COUNT] = {
	[POLICY_R_NONE] = "none",
	[POLICY_R_NO_MEMORY] = "no destination has the memory above the floor",
	[POLICY_R_BUSIER] = "the destination would end busier than the source",
	[POLICY_R_NO_HOST] = "no host to go to",
	[POLICY_R_LIMIT] = "the migration limit is reached",
	[POLICY_R_CPU] = "the least-loaded host is at the CPU limit",
};

struct rank {
	double	 key;
	size_t	 i;
};

/* Working figures for one tick (step 10 updates them, not the cluster). */
struct work {
	const struct policy_params *p;
	struct policy_cluster *c;
	double		*load;		/* -1: no samples, not a host to use */
	unsigned	*mem;		/* in use */
	unsigned	*part;		/* migrations taken part in this tick */
	size_t		*first;		/* the host's VMs: byhost[first[h]..first[h+1]) */
	size_t		*byhost;
	unsigned char	*moved;
	size_t		*pick;		/* a source's guests, then its destinations */
	size_t		*src;		/* the sources, most loaded first */
	size_t		*order;		/* usable destinations, least loaded first */
	size_t		*pos;		/* a host's place in order, or SIZE_MAX */
	size_t		 norder;
	struct rank	*rank;		/* scratch for sorting */
};

void
policy_defaults(struct policy_params *p)
{
	memset(p, 0, sizeof(*p));
	p->guest = POLICY_G_UPPER;
	p->dest = POLICY_D_HALF;
	p->threshold = 80;
	p->window = 7;
	p->lower_rate_guest = 50;
	p->upper_rate_guest = 40;
	p->under_rate_host = 50;
	p->host_min_mem = 256;
	p->round = POLICY_ROUND_FLOOR;
	p->sources = 1;
	/* The paper's only CPU figure: xvds-policy(7). */
	p->cpu_limit = -1;
	p->move_history = true;
}

int
policy_set_name(struct policy_params *p, const char *name)
{
	const char *rate = strchr(name, ':');
	size_t	 len = rate != NULL ? (size_t)(rate - name) : strlen(name);
	char	*end;
	double	 r;

	if (len == 4 && strncasecmp(name, "none", 4) == 0 && rate == NULL) {
		p->guest = POLICY_G_NONE;
		return 0;
	}
	if (len != 2 || name[0] < '1' || name[0] > '4')
		return -1;
	switch (name[1]) {
	case 'A': case 'a':
		p->dest = POLICY_D_LEAST;
		break;
	case 'B': case 'b':
		p->dest = POLICY_D_HALF;
		break;
	case 'C': case 'c':
		p->dest = POLICY_D_TENTH;
		break;
	default:
		return -1;
	}
	p->guest = (enum policy_guest)(name[0] - '0');
	/* The paper's rates: 40% of the guests and 50% of the hosts, 10% for 4x. */
	p->upper_rate_guest = p->guest == POLICY_G_TOPS ? 10 : 40;
	p->under_rate_host = p->dest == POLICY_D_TENTH ? 10 : 50;
	if (rate == NULL)
		return 0;
	r = strtod(rate + 1, &end);
	if (end == rate + 1 || *end != '\0' || !(r > 0 && r <= 100))
		return -1;
	p->upper_rate_guest = r;
	if (p->dest != POLICY_D_LEAST)
		p->under_rate_host = r;
	return 0;
}

const char *
policy_name(const struct policy_params *p, char *buf, size_t len)
{
	if (len < 3)
		return "";
	if (p->guest == POLICY_G_NONE) {
		strncpy(buf, "none", len - 1);
		buf[len - 1] = '\0';
		return buf;
	}
	buf[0] = (char)('0' + p->guest);
	buf[1] = (char)('A' + p->dest);
	buf[2] = '\0';
	return buf;
}

static int
set_double(double *v, const char *s, double min, double max)
{
	char	*end;
	double	 d = strtod(s, &end);

	if (end == s || *end != '\0' || !(d >= min && d <= max))
		return -1;
	*v = d;
	return 0;
}

static int
set_unsigned(unsigned *v, const char *s, unsigned max)
{
	char	*end;
	unsigned long u;

	if (*s < '0' || *s > '9')
		return -1;
	u = strtoul(s, &end, 10);
	if (*end != '\0' || u > max)
		return -1;
	*v = (unsigned)u;
	return 0;
}

int
policy_set(struct policy_params *p, const char *name, const char *v)
{
	unsigned i;

	if (strcasecmp(name, "policy") == 0)
		return policy_set_name(p, v);
	if (strcasecmp(name, "mode") == 0)
		return policy_set_mode(p, v);
	if (strcasecmp(name, "CRITICAL_LOAD") == 0 ||
	    strcasecmp(name, "threshold") == 0)
		return set_double(&p->threshold, v, 0, 1e6);
	if (strcasecmp(name, "WINDOW_SIZE") == 0) {
		if (set_unsigned(&i, v, POLICY_WINDOW_MAX) == -1 || i == 0)
			return -1;
		p->window = i;
		return 0;
	}
	if (strcasecmp(name, "UPPER_RATE_GUEST") == 0)
		return set_double(&p->upper_rate_guest, v, 0, 100);
	if (strcasecmp(name, "LOWER_RATE_GUEST") == 0)
		return set_double(&p->lower_rate_guest, v, 0, 100);
	if (strcasecmp(name, "UNDER_RATE_HOST") == 0)
		return set_double(&p->under_rate_host, v, 0, 100);
	if (strcasecmp(name, "HOST_MIN_MEM") == 0)
		return set_unsigned(&p->host_min_mem, v, 1U << 30);
	if (strcasecmp(name, "round") == 0) {
		for (i = 0; i < POLICY_ROUND__COUNT; i++)
			if (strcasecmp(v, policy_round_names[i]) == 0) {
				p->round = (enum policy_round)i;
				return 0;
			}
		return -1;
	}
	if (strcasecmp(name, "sources") == 0)
		return set_unsigned(&p->sources, v, 1U << 30);
	if (strcasecmp(name, "cpu_limit") == 0) {
		if (strcasecmp(v, "threshold") == 0) {
			p->cpu_limit = -1;
			return 0;
		}
		return set_double(&p->cpu_limit, v, 0, 1e6);
	}
	if (strcasecmp(name, "history") == 0) {
		if (strcasecmp(v, "move") != 0 && strcasecmp(v, "keep") != 0)
			return -1;
		p->move_history = strcasecmp(v, "move") == 0;
		return 0;
	}
	if (strcasecmp(name, "sustain") == 0)
		return set_unsigned(&p->sustain, v, 1U << 20);
	if (strcasecmp(name, "max_per_tick") == 0)
		return set_unsigned(&p->max_per_tick, v, 1U << 30);
	if (strcasecmp(name, "max_per_host") == 0)
		return set_unsigned(&p->max_per_host, v, 1U << 30);
	if (strcasecmp(name, "cooldown") == 0)
		return set_unsigned(&p->cooldown, v, 1U << 20);
	return -1;
}

int
policy_set_mode(struct policy_params *p, const char *mode)
{
	if (strcasecmp(mode, "paper") == 0) {
		p->sustain = p->max_per_tick = p->max_per_host = p->cooldown = 0;
		return 0;
	}
	if (strcasecmp(mode, "safe") == 0) {
		/* Chosen from xvds-sim's numbers: doc/policy-report.md. */
		p->sustain = 3;
		p->max_per_tick = 0;
		p->max_per_host = 1;
		p->cooldown = 4;
		return 0;
	}
	return -1;
}

void
policy_host_sample(struct policy_host *h, double v)
{
	h->ring[h->next] = v;
	h->next = (h->next + 1) % POLICY_WINDOW_MAX;
	if (h->nsamples < POLICY_WINDOW_MAX)
		h->nsamples++;
}

double
policy_host_load(const struct policy_host *h, unsigned window)
{
	double	 sum = 0;
	unsigned i, n = h->nsamples < window ? h->nsamples : window;

	if (n == 0)
		return -1;
	for (i = 1; i <= n; i++)
		sum += h->ring[(h->next + POLICY_WINDOW_MAX - i) % POLICY_WINDOW_MAX];
	return sum / n;
}

/* How many of n make up rate percent of them. */
static size_t
share(const struct policy_params *p, double rate, size_t n)
{
	double	 x = rate * (double)n / 100;

	/* The epsilon keeps 40% of 5 at 2 whatever the binary fractions say. */
	switch (p->round) {
	case POLICY_ROUND_NEAREST:
		return (size_t)floor(x + 0.5 + 1e-9);
	case POLICY_ROUND_CEIL:
		return (size_t)ceil(x - 1e-9);
	default:
		return (size_t)floor(x + 1e-9);
	}
}

static bool
mem_fits(const struct work *w, size_t h, unsigned mem_mb)
{
	const struct policy_host *host = &w->c->hosts[h];

	return (uint64_t)w->mem[h] + mem_mb + w->p->host_min_mem <=
	    (uint64_t)host->mem_mb;
}

long
policy_place(const struct policy_cluster *c, const struct policy_params *p,
    unsigned mem_mb, enum policy_reason *why_r)
{
	double	 load, best_load = 0, limit;
	long	 best = -1;
	bool	 any = false;
	size_t	 h;

	for (h = 0; h < c->nhosts; h++) {
		const struct policy_host *host = &c->hosts[h];

		if ((load = policy_host_load(host, p->window)) < 0)
			continue;
		any = true;
		if ((uint64_t)host->mem_used_mb + mem_mb + p->host_min_mem >
		    (uint64_t)host->mem_mb)
			continue;
		if (best == -1 || load < best_load) {
			best = (long)h;
			best_load = load;
		}
	}
	if (best == -1) {
		*why_r = any ? POLICY_R_NO_MEMORY : POLICY_R_NO_HOST;
		return -1;
	}
	limit = p->cpu_limit < 0 ? p->threshold : p->cpu_limit;
	if (best_load >= limit) {
		*why_r = POLICY_R_CPU;
		return -1;
	}
	*why_r = POLICY_R_NONE;
	return best;
}

/* Busiest first; equal loads in index order, so that plans are stable. */
static int
rank_desc(const void *a, const void *b)
{
	const struct rank *x = a, *y = b;

	if (x->key != y->key)
		return x->key < y->key ? 1 : -1;
	return x->i < y->i ? -1 : x->i > y->i;
}

/* Least loaded first; equal loads in index order. */
static int
by_load(const void *a, const void *b, void *arg)
{
	const double *load = arg;
	size_t	 x = *(const size_t *)a, y = *(const size_t *)b;

	if (load[x] != load[y])
		return load[x] < load[y] ? -1 : 1;
	return x < y ? -1 : x > y;
}

/* Puts host h back in its place in order after its load changed. */
static void
reorder(struct work *w, size_t h)
{
	size_t	 i = w->pos[h];

	if (i == SIZE_MAX)
		return;
	while (i > 0 && by_load(&w->order[i - 1], &h, w->load) > 0) {
		w->order[i] = w->order[i - 1];
		w->pos[w->order[i]] = i;
		i--;
	}
	while (i + 1 < w->norder && by_load(&w->order[i + 1], &h, w->load) < 0) {
		w->order[i] = w->order[i + 1];
		w->pos[w->order[i]] = i;
		i++;
	}
	w->order[i] = h;
	w->pos[h] = i;
}

static void
work_free(struct work *w)
{
	free(w->load);
	free(w->mem);
	free(w->part);
	free(w->first);
	free(w->byhost);
	free(w->moved);
	free(w->pick);
	free(w->src);
	free(w->order);
	free(w->pos);
	free(w->rank);
}

static int
work_init(struct work *w, struct policy_cluster *c,
    const struct policy_params *p)
{
	size_t	 h, v, nh = c->nhosts, nv = c->nvms, most = nh > nv ? nh : nv;

	memset(w, 0, sizeof(*w));
	w->p = p;
	w->c = c;
	w->load = calloc(nh + 1, sizeof(*w->load));
	w->mem = calloc(nh + 1, sizeof(*w->mem));
	w->part = calloc(nh + 1, sizeof(*w->part));
	w->first = calloc(nh + 2, sizeof(*w->first));
	w->byhost = calloc(nv + 1, sizeof(*w->byhost));
	w->moved = calloc(nv + 1, 1);
	w->pick = calloc(nh + nv + 1, sizeof(*w->pick));
	w->src = calloc(nh + 1, sizeof(*w->src));
	w->order = calloc(nh + 1, sizeof(*w->order));
	w->pos = calloc(nh + 1, sizeof(*w->pos));
	w->rank = calloc(most + 1, sizeof(*w->rank));
	if (w->load == NULL || w->mem == NULL || w->part == NULL ||
	    w->first == NULL || w->byhost == NULL || w->moved == NULL ||
	    w->pick == NULL || w->src == NULL || w->order == NULL ||
	    w->pos == NULL || w->rank == NULL) {
		work_free(w);
		return -1;
	}
	for (h = 0; h < nh; h++) {
		w->load[h] = policy_host_load(&c->hosts[h], p->window);
		w->mem[h] = c->hosts[h].mem_used_mb;
	}
	/* The VMs grouped by host, a counting sort: one pass, not one a host. */
	for (v = 0; v < nv; v++)
		if (c->vms[v].host < nh)
			w->first[c->vms[v].host + 2]++;
	for (h = 0; h < nh; h++)
		w->first[h + 2] += w->first[h + 1];
	for (v = 0; v < nv; v++)
		if (c->vms[v].host < nh)
			w->byhost[w->first[c->vms[v].host + 1]++] = v;
	/*
	 * The destinations, least loaded first, sorted once and kept in
	 * order as migrations change loads: the next destination is the
	 * next entry, not a scan of every host for every VM.
	 */
	for (h = 0; h < nh; h++) {
		w->pos[h] = SIZE_MAX;
		if (w->load[h] >= 0 && c->hosts[h].cool == 0)
			w->order[w->norder++] = h;
	}
	qsort_r(w->order, w->norder, sizeof(*w->order), by_load, w->load);
	for (h = 0; h < w->norder; h++)
		w->pos[w->order[h]] = h;
	return 0;
}

static int
plan_add(struct policy_plan *plan, const struct policy_move *m)
{
	struct policy_move *n;
	size_t	 cap;

	if (plan->n == plan->cap) {
		cap = plan->cap ? plan->cap * 2 : 16;
		if ((n = reallocarray(plan->moves, cap, sizeof(*n))) == NULL)
			return -1;
		plan->moves = n;
		plan->cap = cap;
	}
	plan->moves[plan->n++] = *m;
	if (m->to >= 0)
		plan->migrations++;
	else
		plan->given_up++;
	return 0;
}

/*
 * Step 3: the guests of host src the rule picks, busiest first, into
 * w->pick; returns how many.
 */
static size_t
pick(struct work *w, size_t src)
{
	const struct policy_params *p = w->p;
	size_t	 i, n = 0, k, lo = 0, hi;

	for (i = w->first[src]; i < w->first[src + 1]; i++) {
		size_t v = w->byhost[i];

		if (w->moved[v])
			continue;
		w->rank[n].key = w->c->vms[v].cpu;
		w->rank[n++].i = v;
	}
	qsort(w->rank, n, sizeof(*w->rank), rank_desc);
	switch (p->guest) {
	case POLICY_G_TOP:
		hi = n > 0;
		break;
	case POLICY_G_LOW:
		k = share(p, p->lower_rate_guest, n);
		lo = n - (k < n ? k : n);
		hi = n;
		break;
	case POLICY_G_UPPER:
		/* The top share but its first. */
		k = share(p, p->upper_rate_guest, n);
		lo = 1;
		hi = k < n ? k : n;
		break;
	case POLICY_G_TOPS:
		/* "The top one included": never fewer than one. */
		k = share(p, p->upper_rate_guest, n);
		hi = k < 1 ? (n > 0) : (k < n ? k : n);
		break;
	default:
		hi = 0;
	}
	for (k = 0, i = lo; i < hi; i++)
		w->pick[k++] = w->rank[i].i;
	return k;
}

static bool
host_full(const struct work *w, size_t h)
{
	return w->p->max_per_host > 0 && w->part[h] >= w->p->max_per_host;
}

/*
 * B and C (step 4): the hosts in the lowest share by load, least loaded
 * first, into w->pick after the guests (from index off); how many.
 */
static size_t
dest_set(struct work *w, size_t src, size_t off)
{
	size_t	 i, m, n = w->norder - (w->pos[src] != SIZE_MAX);

	/* The least-loaded host belongs to the lowest share however small. */
	m = share(w->p, w->p->under_rate_host, n);
	if (m < 1)
		m = n > 0;
	if (m > n)
		m = n;
	for (i = 0, n = 0; n < m; i++)
		if (w->order[i] != src)
			w->pick[off + n++] = w->order[i];
	return m;
}

/*
 * Steps 4, 5 and 9: the destination of one VM, or -1 and the reason.  A
 * takes the least-loaded host that has the memory (the next least
 * loaded being the "next destination"); B and C start at the VM's place
 * in the set and walk on round it.
 */
static long
destination(struct work *w, size_t src, size_t v, const size_t *set,
    size_t nset, size_t nth, enum policy_reason *why_r, long *tried_r)
{
	unsigned mem = w->c->vms[v].mem_mb;
	bool	 nomem = false, full = false;
	long	 best = -1;
	size_t	 h, j;

	*tried_r = -1;
	/* A's list is every destination, from the least loaded. */
	if (w->p->dest == POLICY_D_LEAST) {
		set = w->order;
		nset = w->norder;
		nth = 0;
	}
	for (j = 0; j < nset && best == -1; j++) {
		if ((h = set[(nth + j) % nset]) == src)
			continue;
		if (*tried_r == -1)
			*tried_r = (long)h;
		if (host_full(w, h))
			full = true;
		else if (!mem_fits(w, h, mem))
			nomem = true;
		else
			best = (long)h;
	}
	if (best == -1)
		*why_r = nomem ? POLICY_R_NO_MEMORY :
		    full ? POLICY_R_LIMIT : POLICY_R_NO_HOST;
	return best;
}

/* Steps 3 to 10 for one source host. */
static int
drain(struct work *w, size_t src, struct policy_plan *plan)
{
	const struct policy_params *p = w->p;
	struct policy_move m;
	size_t	 i, n, nset = 0;
	long	 d = -1;

	n = pick(w, src);
	if (p->dest != POLICY_D_LEAST)
		nset = dest_set(w, src, n);
	for (i = 0; i < n; i++) {
		size_t v = w->pick[i];

		memset(&m, 0, sizeof(m));
		m.vm = v;
		m.from = src;
		m.cpu = w->c->vms[v].cpu;
		m.from_load = w->load[src];
		m.to = m.tried = -1;
		if ((p->max_per_tick > 0 && plan->migrations >= p->max_per_tick) ||
		    host_full(w, src))
			m.why = POLICY_R_LIMIT;
		else if ((d = destination(w, src, v, w->pick + n, nset, i,
		    &m.why, &m.tried)) != -1) {
			m.tried = d;
			/* Steps 6–8: never leave the destination busier. */
			if (w->load[d] + m.cpu > w->load[src])
				m.why = POLICY_R_BUSIER;
			else
				m.to = d;
		}
		if (m.tried >= 0)
			m.to_load = w->load[m.tried];
		if (plan_add(plan, &m) == -1)
			return -1;
		if (m.to < 0)
			continue;
		/* Step 10. */
		w->load[src] -= m.cpu;
		w->load[d] += m.cpu;
		reorder(w, src);
		reorder(w, (size_t)d);
		w->mem[src] -= w->c->vms[v].mem_mb;
		w->mem[d] += w->c->vms[v].mem_mb;
		w->part[src]++;
		w->part[d]++;
		w->moved[v] = 1;
	}
	return 0;
}

int
policy_tick(struct policy_cluster *c, const struct policy_params *p,
    struct policy_plan *plan)
{
	struct work w;
	size_t	 h, i, n = 0;
	int	 rc = -1;

	plan->n = plan->migrations = plan->given_up = plan->sources = 0;
	if (work_init(&w, c, p) == -1)
		return -1;
	for (h = 0; h < c->nhosts; h++) {
		struct policy_host *host = &c->hosts[h];

		if (host->cool > 0)
			host->cool--;
		if (w.load[h] < p->threshold) {
			host->over = 0;
			continue;
		}
		host->over++;
		if (p->guest == POLICY_G_NONE || host->cool > 0 ||
		    host->over < p->sustain)
			continue;
		w.rank[n].key = w.load[h];
		w.rank[n++].i = h;
	}
	/* Steps 1–2: the most loaded host, or all of them most loaded first. */
	qsort(w.rank, n, sizeof(*w.rank), rank_desc);
	if (p->sources > 0 && n > p->sources)
		n = p->sources;
	/* Apart from rank, which drain() sorts with. */
	for (i = 0; i < n; i++)
		w.src[i] = w.rank[i].i;
	for (i = 0; i < n; i++) {
		/* A host that took VMs in may no longer be a source. */
		if (w.load[w.src[i]] < p->threshold)
			continue;
		plan->sources++;
		if (drain(&w, w.src[i], plan) == -1)
			goto out;
	}
	if (p->cooldown > 0)
		for (i = 0; i < plan->n; i++) {
			if (plan->moves[i].to < 0)
				continue;
			/* +1: the next tick's decrement is not a tick sat out. */
			c->hosts[plan->moves[i].from].cool = p->cooldown + 1;
			c->hosts[plan->moves[i].to].cool = p->cooldown + 1;
		}
	rc = 0;
out:
	work_free(&w);
	return rc;
}

/* Adds cpu (less than 0: takes it) to every sample the host has. */
static void
shift(struct policy_host *h, double cpu)
{
	unsigned i;

	for (i = 0; i < h->nsamples; i++) {
		h->ring[i] += cpu;
		if (h->ring[i] < 0)
			h->ring[i] = 0;
	}
}

void
policy_apply(struct policy_cluster *c, const struct policy_params *p,
    const struct policy_plan *plan)
{
	size_t	 i;

	for (i = 0; i < plan->n; i++) {
		const struct policy_move *m = &plan->moves[i];
		struct policy_vm *vm = &c->vms[m->vm];
		struct policy_host *from = &c->hosts[m->from];
		struct policy_host *to;

		if (m->to < 0)
			continue;
		to = &c->hosts[m->to];
		vm->host = (size_t)m->to;
		from->mem_used_mb -= vm->mem_mb < from->mem_used_mb ?
		    vm->mem_mb : from->mem_used_mb;
		to->mem_used_mb += vm->mem_mb;
		if (p->move_history) {
			shift(from, -vm->cpu);
			shift(to, vm->cpu);
		}
	}
}

void
policy_plan_free(struct policy_plan *plan)
{
	free(plan->moves);
	memset(plan, 0, sizeof(*plan));
}

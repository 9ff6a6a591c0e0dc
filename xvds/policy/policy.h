/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * policy/policy.h — the migration policies of xvds-policy(7) (1A, 2A, 2B, 3A,
 * 3B, 4A, 4C) and the placement of new PVMs.  Pure: no I/O, no
 * hypervisor, no database; the controller calls it every MIGRATE_TERM on
 * the live cluster, xvds-sim(1) on a simulated one, and the dry-run
 * planner on a snapshot.  xvds-policy(7) writes down every choice the
 * paper leaves open.
 *
 * Loads are percent of a host's whole CPU (100: every CPU of the host
 * busy); a VM's CPU use is in the same unit, the hosts being alike as in
 * the paper.
 */
#ifndef XVDS_POLICY_POLICY_H
#define XVDS_POLICY_POLICY_H

#include <stdbool.h>
#include <stddef.h>

#define POLICY_ID_MAX		64
#define POLICY_WINDOW_MAX	64

struct policy_host {
	char		 id[POLICY_ID_MAX];
	unsigned	 mem_mb;	/* size */
	unsigned	 mem_used_mb;	/* in use, the VMs' memory included */
	double		 ring[POLICY_WINDOW_MAX];	/* CPU samples, percent */
	unsigned	 nsamples;	/* in the ring */
	unsigned	 next;		/* where the next sample goes */
	/* Kept between ticks by policy_tick, for the safety options. */
	unsigned	 over;		/* consecutive ticks at the threshold */
	unsigned	 cool;		/* ticks left out after a migration */
};

struct policy_vm {
	char		 id[POLICY_ID_MAX];
	size_t		 host;		/* index in the cluster's hosts */
	unsigned	 mem_mb;
	double		 cpu;		/* percent of a host */
};

struct policy_cluster {
	struct policy_host	*hosts;
	size_t			 nhosts;
	struct policy_vm	*vms;
	size_t			 nvms;
};

enum policy_guest {
	POLICY_G_NONE,		/* no migration at all: the baseline */
	POLICY_G_TOP,		/* 1: the VM using the most CPU */
	POLICY_G_LOW,		/* 2: the lowest 50% by CPU */
	POLICY_G_UPPER,		/* 3: the top 40% but the very top one */
	POLICY_G_TOPS,		/* 4: the top 10%, the top one included */
};

enum policy_dest {
	POLICY_D_LEAST,		/* A: the least-loaded host */
	POLICY_D_HALF,		/* B: spread over the lowest 50% */
	POLICY_D_TENTH,		/* C: spread over the lowest 10% */
};

/* How "the top p% of n" becomes a count (xvds-policy(7)). */
enum policy_round {
	POLICY_ROUND_FLOOR,	/* the k-th belongs when k <= p·n: the paper's words */
	POLICY_ROUND_NEAREST,
	POLICY_ROUND_CEIL,
	POLICY_ROUND__COUNT,
};
extern const char *const policy_round_names[POLICY_ROUND__COUNT];

struct policy_params {
	enum policy_guest guest;
	enum policy_dest dest;
	double		 threshold;	/* CRITICAL_LOAD: a host at or above it */
	unsigned	 window;	/* WINDOW_SIZE samples */
	double		 lower_rate_guest;	/* rule 2, percent (50) */
	double		 upper_rate_guest;	/* UPPER_RATE_GUEST, rules 3, 4 */
	double		 under_rate_host;	/* UNDER_RATE_HOST, B and C */
	unsigned	 host_min_mem;	/* HOST_MIN_MEM, MB left free */
	enum policy_round round;
	unsigned	 sources;	/* hosts handled a tick: 1 the paper, 0 all */
	double		 cpu_limit;	/* placement refused at this load; <0: threshold */
	bool		 move_history;	/* policy_apply moves the VM's CPU in the windows */
	/* Safety the paper does not have; 0 is off. */
	unsigned	 sustain;	/* ticks at the threshold before acting */
	unsigned	 max_per_tick;	/* migrations a tick */
	unsigned	 max_per_host;	/* migrations a host takes part in a tick */
	unsigned	 cooldown;	/* ticks a host sits out after a migration */
};

enum policy_reason {
	POLICY_R_NONE,		/* migrated, or placed */
	POLICY_R_NO_MEMORY,	/* no destination with the memory above the floor */
	POLICY_R_BUSIER,	/* the destination would end busier than the source */
	POLICY_R_NO_HOST,	/* no host to go to */
	POLICY_R_LIMIT,		/* the safety's migration limit is reached */
	POLICY_R_CPU,		/* placement: the least-loaded host is at the limit */
	POLICY_R__COUNT,
};
extern const char *const policy_reason_names[POLICY_R__COUNT];

/* One decision: a migration (to set), or a candidate given up (why set). */
struct policy_move {
	size_t		 vm;		/* index in the cluster's VMs */
	size_t		 from;
	long		 to;		/* -1: given up */
	long		 tried;		/* given up: the destination looked at, or -1 */
	enum policy_reason why;
	double		 cpu;		/* the VM's */
	double		 from_load;	/* the source's, before */
	double		 to_load;	/* the destination's (or tried's), before */
};

struct policy_plan {
	struct policy_move *moves;	/* in the order they are to be done */
	size_t		 n, cap;
	size_t		 migrations, given_up;
	size_t		 sources;	/* hosts that triggered this tick */
};

/* 3B at threshold 80, the paper's figures, no safety ("paper" mode). */
void	policy_defaults(struct policy_params *);
/*
 * "none", "1A" … "4C", optionally ":rate" setting UPPER_RATE_GUEST and,
 * for B and C, UNDER_RATE_HOST ("4C:30"); the rates default to the
 * paper's (40/50, 10/10 for the 4x policies).  0 or -1 (unknown name).
 */
int	policy_set_name(struct policy_params *, const char *);
/* The name of the rule pair, "3B" or "none"; buf of 16 at least. */
const char *policy_name(const struct policy_params *, char *buf, size_t);
/* One parameter by name (xvds-policy(7)); 0, or -1 for a bad name or value. */
int	policy_set(struct policy_params *, const char *name, const char *value);
/* "paper": the safety off; "safe": the defaults xvds-policy(7) argues for. */
int	policy_set_mode(struct policy_params *, const char *);

void	policy_host_sample(struct policy_host *, double);
/* The mean of the last window samples (fewer when fewer); -1 if none. */
double	policy_host_load(const struct policy_host *, unsigned window);

/*
 * The new PVM's host: the least-loaded one with mem_mb free above the
 * floor; -1 and *why_r (memory, CPU, or no host with samples) if none.
 */
long	policy_place(const struct policy_cluster *, const struct policy_params *,
	    unsigned mem_mb, enum policy_reason *why_r);

/*
 * One tick: fills plan (emptied first) with the migrations to do, in
 * order, and every candidate given up with its reason.  Updates only the
 * hosts' safety counters (over, cool).  0, or -1 when out of memory.
 */
int	policy_tick(struct policy_cluster *, const struct policy_params *,
	    struct policy_plan *);
/* Does the plan's migrations on the cluster (the simulator's migrate). */
void	policy_apply(struct policy_cluster *, const struct policy_params *,
	    const struct policy_plan *);
void	policy_plan_free(struct policy_plan *);

#endif

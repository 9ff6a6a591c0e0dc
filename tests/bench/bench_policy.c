/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * bench_policy.c — a benchmark, not a test: the migration policy's time
 * per tick (policy_tick, xvds/policy/policy.c) on a large simulated cluster,
 * for every policy, handling the single most loaded host (the paper) and
 * every host over the threshold.  About half the hosts start over it.
 *
 * usage: bench_policy [hosts [vms-per-host [ticks]]]  (1000 100 20)
 */
#include <config.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../clock.h"
#include "policy/policy.h"
#include "rng.h"

static uint64_t rng = 88172645463325252ULL;

static double
uniform(void)
{
	return rng_uniform(&rng);
}

/* Hosts of 512 GB with per VMs of 4 GB, loads around the threshold. */
static void
build(struct policy_cluster *c, size_t nh, size_t per)
{
	size_t	 h, i, k;
	double	 sum;

	memset(c->hosts, 0, nh * sizeof(*c->hosts));
	c->nhosts = nh;
	c->nvms = nh * per;
	for (h = 0; h < nh; h++) {
		struct policy_host *host = &c->hosts[h];

		snprintf(host->id, sizeof(host->id), "host%zu", h);
		host->mem_mb = 512 * 1024;
		sum = 0;
		for (i = 0; i < per; i++) {
			struct policy_vm *vm = &c->vms[h * per + i];

			snprintf(vm->id, sizeof(vm->id), "vm%zu.%zu", h, i);
			vm->host = h;
			vm->mem_mb = 4096;
			vm->cpu = uniform() * 1.6;
			host->mem_used_mb += vm->mem_mb;
			sum += vm->cpu;
		}
		for (k = 0; k < 7; k++)
			policy_host_sample(host, sum * (0.9 + uniform() * 0.2));
	}
}

int
main(int argc, char **argv)
{
	static const char *const names[] = {
		"1A", "2A", "2B", "3A", "3B", "4A", "4C",
	};
	struct policy_cluster c;
	struct policy_params p;
	struct policy_plan plan = { 0 };
	size_t	 nh = argc > 1 ? strtoul(argv[1], NULL, 10) : 1000;
	size_t	 per = argc > 2 ? strtoul(argv[2], NULL, 10) : 100;
	unsigned ticks = argc > 3 ? (unsigned)strtoul(argv[3], NULL, 10) : 20;
	unsigned sources, t;
	size_t	 i, moves;
	double	 t0, dt, worst, total;

	if (nh == 0 || per == 0 || ticks == 0) {
		fprintf(stderr, "usage: bench_policy [hosts [vms-per-host "
		    "[ticks]]]\n");
		return 2;
	}
	c.hosts = calloc(nh, sizeof(*c.hosts));
	c.vms = calloc(nh * per, sizeof(*c.vms));
	if (c.hosts == NULL || c.vms == NULL) {
		fprintf(stderr, "bench_policy: out of memory\n");
		return 1;
	}
	printf("# policy_tick on %zu hosts x %zu VMs, %u ticks each "
	    "(plans applied between ticks)\n", nh, per, ticks);
	printf("# %-6s %-8s %10s %10s %12s\n", "policy", "sources",
	    "ms/tick", "worst ms", "migrations");
	for (sources = 1; sources != (unsigned)-1; sources = sources ? 0 : -1U)
		for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
			policy_defaults(&p);
			policy_set_name(&p, names[i]);
			p.sources = sources;
			build(&c, nh, per);
			worst = total = 0;
			moves = 0;
			for (t = 0; t < ticks; t++) {
				t0 = now_ms();
				if (policy_tick(&c, &p, &plan) == -1) {
					fprintf(stderr, "bench_policy: out of "
					    "memory\n");
					return 1;
				}
				dt = now_ms() - t0;
				total += dt;
				if (dt > worst)
					worst = dt;
				moves += plan.migrations;
				policy_apply(&c, &p, &plan);
			}
			printf("  %-6s %-8s %10.3f %10.3f %12zu\n", names[i],
			    sources ? "most" : "all", total / ticks, worst,
			    moves);
		}
	policy_plan_free(&plan);
	free(c.hosts);
	free(c.vms);
	return 0;
}

/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * test_policy.c — the migration policies and PVM placement
 * (xvds/policy/policy.c): every rule pair on small clusters computed by hand
 * (which VMs, to which hosts, in which order, which are given up and why), then
 * properties that must hold on any cluster, over random ones from a fixed seed.
 */
#include <config.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "policy/policy.h"
#include "rng.h"

#define MAXH	64
#define MAXV	1024

struct fix {
	struct policy_host	 hosts[MAXH];
	struct policy_vm	 vms[MAXV];
	struct policy_cluster	 c;
	struct policy_params	 p;
	struct policy_plan	 plan;
};

static struct fix f;

static int
setup(void **state)
{
	(void)state;
	memset(&f, 0, sizeof(f));
	f.c.hosts = f.hosts;
	f.c.vms = f.vms;
	policy_defaults(&f.p);
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	policy_plan_free(&f.plan);
	return 0;
}

/* A host of 4096 MB measured at load (one sample). */
static void
host(double load)
{
	struct policy_host *h = &f.hosts[f.c.nhosts];

	snprintf(h->id, sizeof(h->id), "h%zu", f.c.nhosts);
	h->mem_mb = 4096;
	policy_host_sample(h, load);
	f.c.nhosts++;
}

/* A VM of 368 MB on host h using cpu. */
static void
vm(size_t h, double cpu)
{
	struct policy_vm *v = &f.vms[f.c.nvms];

	snprintf(v->id, sizeof(v->id), "v%zu", f.c.nvms);
	v->host = h;
	v->mem_mb = 368;
	v->cpu = cpu;
	f.hosts[h].mem_used_mb += 368;
	f.c.nvms++;
}

static void
tick(const char *policy)
{
	assert_int_equal(policy_set_name(&f.p, policy), 0);
	assert_int_equal(policy_tick(&f.c, &f.p, &f.plan), 0);
}

/* The n-th decision: VM, from, to (-1: given up) and reason. */
static void
expect(size_t n, size_t vmi, size_t from, long to, enum policy_reason why)
{
	const struct policy_move *m;

	assert_true(n < f.plan.n);
	m = &f.plan.moves[n];
	assert_int_equal(m->vm, vmi);
	assert_int_equal(m->from, from);
	assert_int_equal(m->to, to);
	assert_int_equal(m->why, why);
}

/*
 * h0 at 90 with eight guests (30 20 15 10 5 4 3 3); h1 10, h2 35, h3 40,
 * h4 50, all with memory to spare.
 */
static void
cluster_a(void)
{
	static const double cpu[] = { 30, 20, 15, 10, 5, 4, 3, 3 };
	size_t	 i;

	host(90);
	host(10);
	host(35);
	host(40);
	host(50);
	for (i = 0; i < 8; i++)
		vm(0, cpu[i]);
}

static void
test_1a(void **state)
{
	(void)state;
	cluster_a();
	tick("1A");
	/* The busiest guest to the least-loaded host: 10 + 30 <= 90. */
	assert_int_equal(f.plan.n, 1);
	assert_int_equal(f.plan.sources, 1);
	expect(0, 0, 0, 1, POLICY_R_NONE);
}

static void
test_2a_2b(void **state)
{
	(void)state;
	cluster_a();
	/* The lowest half, busiest first, equal ones in index order. */
	tick("2A");
	assert_int_equal(f.plan.n, 4);
	expect(0, 4, 0, 1, POLICY_R_NONE);
	expect(1, 5, 0, 1, POLICY_R_NONE);	/* h1 15 still the least */
	expect(2, 6, 0, 1, POLICY_R_NONE);
	expect(3, 7, 0, 1, POLICY_R_NONE);
	/* B: the lowest half of the four other hosts is h1, h2; spread. */
	tick("2B");
	assert_int_equal(f.plan.n, 4);
	expect(0, 4, 0, 1, POLICY_R_NONE);
	expect(1, 5, 0, 2, POLICY_R_NONE);
	expect(2, 6, 0, 1, POLICY_R_NONE);
	expect(3, 7, 0, 2, POLICY_R_NONE);
}

static void
test_3a_3b(void **state)
{
	(void)state;
	cluster_a();
	/* Top 40% of 8 is 3 guests, less the very top: v1 and v2. */
	tick("3A");
	assert_int_equal(f.plan.n, 2);
	expect(0, 1, 0, 1, POLICY_R_NONE);	/* h1 10 -> 30, h0 -> 70 */
	expect(1, 2, 0, 1, POLICY_R_NONE);	/* h1 30 < h2 35 */
	tick("3B");
	assert_int_equal(f.plan.n, 2);
	expect(0, 1, 0, 1, POLICY_R_NONE);
	expect(1, 2, 0, 2, POLICY_R_NONE);	/* the busier, the less loaded */
	assert_true(f.plan.moves[1].from_load == 70);
	assert_true(f.plan.moves[1].to_load == 35);
}

static void
test_4a_4c(void **state)
{
	(void)state;
	cluster_a();
	/* 10% of 8 rounds to none; the top one is always in. */
	tick("4A");
	assert_int_equal(f.plan.n, 1);
	expect(0, 0, 0, 1, POLICY_R_NONE);
	tick("4C");
	assert_int_equal(f.plan.n, 1);
	expect(0, 0, 0, 1, POLICY_R_NONE);
	/* At 30%: two guests; C's set of 30% of 4 hosts is h1 alone. */
	tick("4A:30");
	assert_int_equal(f.plan.n, 2);
	expect(0, 0, 0, 1, POLICY_R_NONE);	/* h1 -> 40, h0 -> 60 */
	expect(1, 1, 0, 2, POLICY_R_NONE);	/* h2 35 the least now */
	tick("4C:30");
	assert_int_equal(f.plan.n, 2);
	expect(0, 0, 0, 1, POLICY_R_NONE);
	/* h1 40 + 20 = 60 is not more than h0's 60. */
	expect(1, 1, 0, 1, POLICY_R_NONE);
}

static void
test_none(void **state)
{
	(void)state;
	cluster_a();
	tick("none");
	assert_int_equal(f.plan.n, 0);
	assert_int_equal(f.plan.sources, 0);
}

static void
test_busier(void **state)
{
	(void)state;
	host(80);
	host(60);
	vm(0, 50);
	vm(0, 30);
	/* 60 + 50 > 80: given up, and not tried elsewhere. */
	tick("1A");
	assert_int_equal(f.plan.n, 1);
	expect(0, 0, 0, -1, POLICY_R_BUSIER);
	assert_int_equal(f.plan.moves[0].tried, 1);
	assert_int_equal(f.plan.migrations, 0);
	assert_int_equal(f.plan.given_up, 1);
}

static void
test_next_destination(void **state)
{
	(void)state;
	host(95);
	host(10);	/* no memory */
	host(20);
	host(30);
	host(40);
	vm(0, 40);
	vm(0, 30);
	vm(0, 15);
	vm(0, 10);
	vm(0, 0);
	/* 4096 - 3600 - 368 < 256: h1 cannot take a guest. */
	f.hosts[1].mem_used_mb = 3600;
	tick("1A");
	expect(0, 0, 0, 2, POLICY_R_NONE);	/* A's next: h2 */
	/* B: set h1, h2 (half of 4); 40%·5 = 2 guests less the top: v1. */
	tick("3B");
	assert_int_equal(f.plan.n, 1);
	expect(0, 1, 0, 2, POLICY_R_NONE);	/* h1 first, no memory: h2 */
	/* No host with memory. */
	f.hosts[2].mem_used_mb = f.hosts[3].mem_used_mb = 3600;
	f.hosts[4].mem_used_mb = 3600;
	tick("1A");
	expect(0, 0, 0, -1, POLICY_R_NO_MEMORY);
	tick("3B");
	expect(0, 1, 0, -1, POLICY_R_NO_MEMORY);
	assert_int_equal(f.plan.moves[0].tried, 1);
}

static void
test_threshold_and_sources(void **state)
{
	(void)state;
	host(79.9);
	host(85);
	host(80);
	host(10);
	host(12);
	vm(0, 79.9);
	vm(1, 50);
	vm(1, 35);
	vm(2, 40);
	vm(2, 40);
	/* The single most loaded host (the paper): h1 alone. */
	tick("1A");
	assert_int_equal(f.plan.n, 1);
	expect(0, 1, 1, 3, POLICY_R_NONE);
	/* All hosts at or over the threshold, most loaded first. */
	assert_int_equal(policy_set(&f.p, "sources", "0"), 0);
	tick("1A");
	assert_int_equal(f.plan.sources, 2);
	assert_int_equal(f.plan.n, 2);
	expect(0, 1, 1, 3, POLICY_R_NONE);
	expect(1, 3, 2, 4, POLICY_R_NONE);	/* h3 is at 60 now */
	/* The load is the window's mean: 60 70 80 90 100 is 80 over 5... */
	memset(&f.hosts[0], 0, sizeof(f.hosts[0]));
	f.hosts[0].mem_mb = 4096;
	policy_host_sample(&f.hosts[0], 200);
	policy_host_sample(&f.hosts[0], 60);
	policy_host_sample(&f.hosts[0], 70);
	policy_host_sample(&f.hosts[0], 80);
	policy_host_sample(&f.hosts[0], 90);
	policy_host_sample(&f.hosts[0], 100);
	assert_true(policy_host_load(&f.hosts[0], 5) == 80);
	/* ... and over all six when the window is longer. */
	assert_true(policy_host_load(&f.hosts[0], 7) == 100);
	assert_true(policy_host_load(&f.hosts[5], 7) == -1);
}

static void
test_rounding(void **state)
{
	(void)state;
	host(90);
	host(10);
	host(20);
	vm(0, 40);
	vm(0, 30);
	vm(0, 20);
	/* 40% of 3 guests: floor 1 (the top, excluded), nearest 1, ceil 2. */
	tick("3A");
	assert_int_equal(f.plan.n, 0);
	assert_int_equal(f.plan.sources, 1);
	assert_int_equal(policy_set(&f.p, "round", "nearest"), 0);
	tick("3A");
	assert_int_equal(f.plan.n, 0);
	assert_int_equal(policy_set(&f.p, "round", "ceil"), 0);
	tick("3A");
	assert_int_equal(f.plan.n, 1);
	expect(0, 1, 0, 1, POLICY_R_NONE);
	/* 50% of 3 for rule 2: floor 1, nearest 2. */
	assert_int_equal(policy_set(&f.p, "round", "floor"), 0);
	tick("2A");
	assert_int_equal(f.plan.n, 1);
	expect(0, 2, 0, 1, POLICY_R_NONE);
	assert_int_equal(policy_set(&f.p, "round", "nearest"), 0);
	tick("2A");
	assert_int_equal(f.plan.n, 2);
	expect(0, 1, 0, 1, POLICY_R_NONE);
	expect(1, 2, 0, 2, POLICY_R_NONE);	/* h1 40 > h2 20 now */
	assert_int_equal(policy_set(&f.p, "round", "sideways"), -1);
}

static void
test_safety(void **state)
{
	(void)state;
	cluster_a();
	/* Sustained: two ticks at the threshold before acting. */
	assert_int_equal(policy_set(&f.p, "sustain", "2"), 0);
	tick("3B");
	assert_int_equal(f.plan.n, 0);
	tick("3B");
	assert_int_equal(f.plan.n, 2);
	/* At most one migration a tick: the rest given up for the limit. */
	assert_int_equal(policy_set(&f.p, "max_per_tick", "1"), 0);
	tick("2A");
	assert_int_equal(f.plan.n, 4);
	expect(0, 4, 0, 1, POLICY_R_NONE);
	expect(1, 5, 0, -1, POLICY_R_LIMIT);
	assert_int_equal(policy_set(&f.p, "max_per_tick", "0"), 0);
	/* One migration a host: h0 has had its one. */
	assert_int_equal(policy_set(&f.p, "max_per_host", "1"), 0);
	tick("2A");
	expect(0, 4, 0, 1, POLICY_R_NONE);
	expect(1, 5, 0, -1, POLICY_R_LIMIT);
	assert_int_equal(policy_set(&f.p, "max_per_host", "2"), 0);
	tick("2A");
	expect(0, 4, 0, 1, POLICY_R_NONE);
	expect(1, 5, 0, 1, POLICY_R_NONE);
	expect(2, 6, 0, -1, POLICY_R_LIMIT);
	assert_int_equal(policy_set(&f.p, "max_per_host", "0"), 0);
	/* Cool-down: the hosts of a migration sit the next 2 ticks out. */
	assert_int_equal(policy_set(&f.p, "cooldown", "2"), 0);
	tick("1A");
	expect(0, 0, 0, 1, POLICY_R_NONE);
	tick("1A");
	assert_int_equal(f.plan.n, 0);
	tick("1A");
	assert_int_equal(f.plan.n, 0);
	tick("1A");
	assert_int_equal(f.plan.n, 1);
	/* Paper mode turns it all off again. */
	assert_int_equal(policy_set(&f.p, "mode", "paper"), 0);
	assert_int_equal(f.p.sustain + f.p.cooldown + f.p.max_per_host +
	    f.p.max_per_tick, 0);
}

static void
test_place(void **state)
{
	enum policy_reason why;

	(void)state;
	host(50);
	host(20);
	host(30);
	f.hosts[1].mem_used_mb = 3600;
	/* The least-loaded host with the memory above the floor. */
	assert_int_equal(policy_place(&f.c, &f.p, 368, &why), 2);
	assert_int_equal(why, POLICY_R_NONE);
	f.hosts[0].mem_used_mb = f.hosts[2].mem_used_mb = 3600;
	assert_int_equal(policy_place(&f.c, &f.p, 368, &why), -1);
	assert_int_equal(why, POLICY_R_NO_MEMORY);
	/* Exactly at the floor still fits. */
	f.hosts[0].mem_used_mb = 4096 - 256 - 368;
	assert_int_equal(policy_place(&f.c, &f.p, 368, &why), 0);
	/* CPU: refused when the host found is at the limit. */
	assert_int_equal(policy_set(&f.p, "cpu_limit", "50"), 0);
	assert_int_equal(policy_place(&f.c, &f.p, 368, &why), -1);
	assert_int_equal(why, POLICY_R_CPU);
	assert_int_equal(policy_set(&f.p, "cpu_limit", "threshold"), 0);
	assert_int_equal(policy_place(&f.c, &f.p, 368, &why), 0);
	assert_int_equal(policy_set(&f.p, "CRITICAL_LOAD", "40"), 0);
	assert_int_equal(policy_place(&f.c, &f.p, 368, &why), -1);
	assert_int_equal(why, POLICY_R_CPU);
	/* No host measured yet. */
	f.c.nhosts = 0;
	assert_int_equal(policy_place(&f.c, &f.p, 368, &why), -1);
	assert_int_equal(why, POLICY_R_NO_HOST);
}

static void
test_apply(void **state)
{
	(void)state;
	cluster_a();
	tick("3B");
	policy_apply(&f.c, &f.p, &f.plan);
	assert_int_equal(f.vms[1].host, 1);
	assert_int_equal(f.vms[2].host, 2);
	assert_int_equal(f.hosts[0].mem_used_mb, 6 * 368);
	assert_int_equal(f.hosts[1].mem_used_mb, 368);
	/* The windows move with the guests: the figures step 10 computed. */
	assert_true(policy_host_load(&f.hosts[0], 7) == 55);
	assert_true(policy_host_load(&f.hosts[1], 7) == 30);
	assert_true(policy_host_load(&f.hosts[2], 7) == 50);
	/* Now below the threshold: nothing more to do. */
	tick("3B");
	assert_int_equal(f.plan.n, 0);
	/* "keep": the measured windows stay as they were. */
	assert_int_equal(policy_set(&f.p, "history", "keep"), 0);
	f.plan.moves[0] = (struct policy_move){ .vm = 3, .from = 0, .to = 4 };
	f.plan.n = 1;
	policy_apply(&f.c, &f.p, &f.plan);
	assert_int_equal(f.vms[3].host, 4);
	assert_true(policy_host_load(&f.hosts[0], 7) == 55);
}

static void
test_names(void **state)
{
	char	 buf[16];

	(void)state;
	assert_int_equal(policy_set_name(&f.p, "4C:30"), 0);
	assert_true(f.p.upper_rate_guest == 30 && f.p.under_rate_host == 30);
	assert_string_equal(policy_name(&f.p, buf, sizeof(buf)), "4C");
	assert_int_equal(policy_set_name(&f.p, "3b"), 0);
	assert_true(f.p.upper_rate_guest == 40 && f.p.under_rate_host == 50);
	assert_string_equal(policy_name(&f.p, buf, sizeof(buf)), "3B");
	assert_int_equal(policy_set_name(&f.p, "none"), 0);
	assert_string_equal(policy_name(&f.p, buf, sizeof(buf)), "none");
	assert_int_equal(policy_set_name(&f.p, "5A"), -1);
	assert_int_equal(policy_set_name(&f.p, "1D"), -1);
	assert_int_equal(policy_set_name(&f.p, "3B:"), -1);
	assert_int_equal(policy_set_name(&f.p, "3B:0"), -1);
	assert_int_equal(policy_set_name(&f.p, "3B:x"), -1);
	assert_int_equal(policy_set_name(&f.p, "none:5"), -1);
	assert_int_equal(policy_set(&f.p, "WINDOW_SIZE", "0"), -1);
	assert_int_equal(policy_set(&f.p, "WINDOW_SIZE", "65"), -1);
	assert_int_equal(policy_set(&f.p, "WINDOW_SIZE", "7"), 0);
	assert_int_equal(policy_set(&f.p, "HOST_MIN_MEM", "-1"), -1);
	assert_int_equal(policy_set(&f.p, "threshold", "80x"), -1);
	assert_int_equal(policy_set(&f.p, "nonesuch", "1"), -1);
}

static uint64_t rng = 0x2545f4914f6cdd1dULL;

static double
uniform(void)
{
	return rng_uniform(&rng);
}

static void
random_cluster(void)
{
	size_t	 h, nh = 2 + (size_t)(uniform() * 30), k, i;

	memset(&f.hosts, 0, sizeof(f.hosts));
	f.c.nhosts = f.c.nvms = 0;
	for (h = 0; h < nh; h++) {
		host(0);
		f.hosts[h].mem_mb = 1024 + (unsigned)(uniform() * 4096);
		f.hosts[h].nsamples = 0;
		for (i = 0, k = 1 + (size_t)(uniform() * 9); i < k; i++)
			policy_host_sample(&f.hosts[h], uniform() * 120);
		for (i = 0, k = (size_t)(uniform() * 14); i < k; i++) {
			if (f.hosts[h].mem_used_mb + 368 > f.hosts[h].mem_mb)
				break;
			vm(h, uniform() * 50);
			f.vms[f.c.nvms - 1].mem_mb = 128 + (unsigned)(uniform() * 512);
			f.hosts[h].mem_used_mb += f.vms[f.c.nvms - 1].mem_mb - 368;
		}
	}
}

/* Checks one plan against figures recomputed here, move by move. */
static void
check_plan(void)
{
	double	 load[MAXH];
	unsigned mem[MAXH];
	unsigned char moved[MAXV] = { 0 };
	size_t	 h, i;

	for (h = 0; h < f.c.nhosts; h++) {
		load[h] = policy_host_load(&f.hosts[h], f.p.window);
		mem[h] = f.hosts[h].mem_used_mb;
	}
	assert_int_equal(f.plan.migrations + f.plan.given_up, f.plan.n);
	for (i = 0; i < f.plan.n; i++) {
		const struct policy_move *m = &f.plan.moves[i];
		const struct policy_vm *v = &f.vms[m->vm];

		assert_int_equal(v->host, m->from);
		assert_false(moved[m->vm]);
		moved[m->vm] = 1;
		if (m->to < 0) {
			assert_int_not_equal(m->why, POLICY_R_NONE);
			continue;
		}
		assert_int_equal(m->why, POLICY_R_NONE);
		assert_int_not_equal(m->to, (long)m->from);
		/* Never busier than the source was. */
		assert_true(load[m->to] + v->cpu <= load[m->from]);
		assert_true(m->from_load == load[m->from]);
		/* Never below the floor. */
		mem[m->to] += v->mem_mb;
		mem[m->from] -= v->mem_mb;
		assert_true(mem[m->to] + f.p.host_min_mem <=
		    f.hosts[m->to].mem_mb);
		load[m->to] += v->cpu;
		load[m->from] -= v->cpu;
	}
}

static void
test_properties(void **state)
{
	static const char *const policies[] = {
		"1A", "2A", "2B", "3A", "3B", "4A", "4C", "4A:30", "4C:30",
	};
	size_t	 run, i, t, total = 0;

	(void)state;
	for (run = 0; run < 300; run++) {
		random_cluster();
		for (i = 0; i < sizeof(policies) / sizeof(policies[0]); i++) {
			policy_defaults(&f.p);
			f.p.threshold = 50 + uniform() * 40;
			f.p.round = (enum policy_round)(run % POLICY_ROUND__COUNT);
			f.p.sources = run % 2;
			if (run % 5 == 0)
				policy_set_mode(&f.p, "safe");
			assert_int_equal(policy_set_name(&f.p, policies[i]), 0);
			/* A few ticks, applying each plan: states carry on. */
			for (t = 0; t < 3; t++) {
				assert_int_equal(policy_tick(&f.c, &f.p,
				    &f.plan), 0);
				check_plan();
				total += f.plan.migrations;
				policy_apply(&f.c, &f.p, &f.plan);
			}
		}
	}
	/* The properties were not checked on empty plans only. */
	assert_true(total > 1000);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_1a, setup, teardown),
		cmocka_unit_test_setup_teardown(test_2a_2b, setup, teardown),
		cmocka_unit_test_setup_teardown(test_3a_3b, setup, teardown),
		cmocka_unit_test_setup_teardown(test_4a_4c, setup, teardown),
		cmocka_unit_test_setup_teardown(test_none, setup, teardown),
		cmocka_unit_test_setup_teardown(test_busier, setup, teardown),
		cmocka_unit_test_setup_teardown(test_next_destination, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_threshold_and_sources, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_rounding, setup, teardown),
		cmocka_unit_test_setup_teardown(test_safety, setup, teardown),
		cmocka_unit_test_setup_teardown(test_place, setup, teardown),
		cmocka_unit_test_setup_teardown(test_apply, setup, teardown),
		cmocka_unit_test_setup_teardown(test_names, setup, teardown),
		cmocka_unit_test_setup_teardown(test_properties, setup, teardown),
	};

	return cmocka_run_group_tests_name("policy", tests, NULL, NULL);
}

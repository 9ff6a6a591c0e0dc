/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * test_ctrl_cluster.c — the controller's live cluster
 * (xvds/controller/cluster.c) without a database: samples in, placements out.
 * The least-loaded host with the memory wins, a burst of placements spreads
 * over the hosts before any new sample, reserved memory refuses what would not
 * fit and ages out with the samples, hosts gone or excluded are not chosen, and
 * the policy's view carries the VMs and keeps the safety counters.
 */
#include <config.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "controller/cluster.h"

/* Feeds one sample: load percent of tcpu, memory free, and VMs. */
static void
feed(const char *host, unsigned tcpu, double load, uint64_t tmem,
    uint64_t fmem, size_t nvms, const struct agent_vm_sample *vms)
{
	struct agent_sample s;

	memset(&s, 0, sizeof(s));
	s.time = 1800000000;
	s.rvm = (unsigned)nvms;
	s.tcpu = tcpu;
	s.fcpu = (unsigned)((double)tcpu * (100 - load) / 100 + 0.5);
	s.tmem_mib = tmem;
	s.fmem_mib = fmem;
	s.nvms = nvms;
	s.vms = (struct agent_vm_sample *)vms;
	ctrl_cluster_sample(host, &s);
}

static int
setup(void **state)
{
	struct policy_params p;

	(void)state;
	policy_defaults(&p);
	ctrl_cluster_start(NULL, &p);
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	ctrl_cluster_stop();
	return 0;
}

static void
test_empty(void **state)
{
	char	 host[AGENT_HOST_MAX + 1];
	enum policy_reason why = POLICY_R_NONE;

	(void)state;
	assert_int_equal(ctrl_cluster_place("v", 512, host, &why), -1);
	assert_int_equal(why, POLICY_R_NO_HOST);
	assert_string_equal(host, "");
	assert_int_equal(ctrl_cluster_hosts(), 0);
}

static void
test_least_loaded(void **state)
{
	char	 host[AGENT_HOST_MAX + 1];
	enum policy_reason why;

	(void)state;
	feed("h1", 1600, 50, 16384, 8000, 0, NULL);
	feed("h2", 1600, 20, 16384, 8000, 0, NULL);
	feed("h3", 1600, 30, 16384, 8000, 0, NULL);
	assert_int_equal(ctrl_cluster_hosts(), 3);
	assert_true(ctrl_cluster_load("h2") > 19.9 &&
	    ctrl_cluster_load("h2") < 20.1);
	assert_int_equal(ctrl_cluster_place("v", 512, host, &why), 0);
	assert_int_equal(why, POLICY_R_NONE);
	assert_string_equal(host, "h2");
	/* The window: h2 busy now, its mean over two samples 55. */
	feed("h2", 1600, 90, 16384, 8000, 0, NULL);
	feed("h3", 1600, 30, 16384, 8000, 0, NULL);
	feed("h1", 1600, 50, 16384, 8000, 0, NULL);
	assert_int_equal(ctrl_cluster_place("v", 512, host, &why), 0);
	assert_string_equal(host, "h3");
}

/* Six logins before any new sample: two a host, not six on one. */
static void
test_burst_spreads(void **state)
{
	char	 host[AGENT_HOST_MAX + 1];
	enum policy_reason why;
	int	 n[3] = { 0, 0, 0 }, i;

	(void)state;
	feed("h1", 1600, 10, 65536, 60000, 0, NULL);
	feed("h2", 1600, 10, 65536, 60000, 0, NULL);
	feed("h3", 1600, 10, 65536, 60000, 0, NULL);
	for (i = 0; i < 6; i++) {
		assert_int_equal(ctrl_cluster_place("v", 1024, host, &why), 0);
		assert_int_equal(host[0], 'h');
		n[host[1] - '1']++;
	}
	assert_int_equal(n[0], 2);
	assert_int_equal(n[1], 2);
	assert_int_equal(n[2], 2);
}

/*
 * The memory reserved refuses what would not fit until a sample shows the
 * VM whole; memory it shows while being built is counted once.
 */
static void
test_memory_reserved(void **state)
{
	static const struct agent_vm_sample half[] = { { "a", 25, 256 } };
	static const struct agent_vm_sample whole[] = { { "a", 25, 512 } };
	char	 host[AGENT_HOST_MAX + 1];
	enum policy_reason why;
	int	 i;

	(void)state;
	/* 1100 MiB free, a floor of 256: one 512 MiB VM fits, not two. */
	feed("small", 400, 10, 4096, 1100, 0, NULL);
	assert_int_equal(ctrl_cluster_place("a", 512, host, &why), 0);
	assert_string_equal(host, "small");
	assert_int_equal(ctrl_cluster_place("b", 512, host, &why), -1);
	assert_int_equal(why, POLICY_R_NO_MEMORY);
	/* Given back (its start failed): it fits again. */
	ctrl_cluster_unplace("small", "a");
	assert_int_equal(ctrl_cluster_place("a", 512, host, &why), 0);
	/* Its op waits (the throttle): samples without it keep it reserved. */
	for (i = 0; i < 3; i++)
		feed("small", 400, 10, 4096, 1100, 0, NULL);
	assert_int_equal(ctrl_cluster_place("b", 512, host, &why), -1);
	/* Being built, half its memory shown: 3252 used + 256 still due. */
	feed("small", 400, 10, 4096, 1100 - 256, 1, half);
	assert_int_equal(ctrl_cluster_admits("small", 332, &why), 1);
	assert_int_equal(ctrl_cluster_admits("small", 333, &why), 0);
	/* Whole: the sample has it all (3508 used), the reservation ends. */
	feed("small", 400, 10, 4096, 1100 - 512, 1, whole);
	assert_int_equal(ctrl_cluster_admits("small", 332, &why), 1);
	feed("small", 400, 10, 4096, 1100 - 512, 1, whole);
	assert_int_equal(ctrl_cluster_admits("small", 332, &why), 1);
	/* One that never shows ends after CTRL_CLUSTER_RESERVE_MAX_SAMPLES. */
	feed("idle", 400, 10, 4096, 1100, 0, NULL);
	ctrl_cluster_exclude("small", true);
	assert_int_equal(ctrl_cluster_place("z", 512, host, &why), 0);
	assert_string_equal(host, "idle");
	for (i = 1; i < CTRL_CLUSTER_RESERVE_MAX_SAMPLES; i++)
		feed("idle", 400, 10, 4096, 1100, 0, NULL);
	assert_int_equal(ctrl_cluster_admits("idle", 512, &why), 0);
	feed("idle", 400, 10, 4096, 1100, 0, NULL);
	assert_int_equal(ctrl_cluster_admits("idle", 512, &why), 1);
}

/*
 * A reservation's CPU share (a quarter of a CPU at least) counts until a
 * sample shows the VM whole, but for CTRL_CLUSTER_RESERVE_SAMPLES samples
 * at least; then the VM's own figures do.  At 74% of four CPUs, 6.25%
 * more reaches the limit of 80.
 */
static void
test_reservation_ends(void **state)
{
	static const struct agent_vm_sample w[] = { { "w", 0, 512 } };
	char	 host[AGENT_HOST_MAX + 1];
	enum policy_reason why;

	(void)state;
	feed("warm", 400, 74, 16384, 8000, 0, NULL);
	assert_int_equal(ctrl_cluster_admits("warm", 128, &why), 1);
	assert_int_equal(ctrl_cluster_place("w", 512, host, &why), 0);
	assert_int_equal(ctrl_cluster_admits("warm", 128, &why), 0);
	assert_int_equal(why, POLICY_R_CPU);
	/* Shown whole at once: still reserved, its boot not in the load yet. */
	feed("warm", 400, 74, 16384, 8000 - 512, 1, w);
	assert_int_equal(ctrl_cluster_admits("warm", 128, &why), 0);
	feed("warm", 400, 74, 16384, 8000 - 512, 1, w);
	assert_int_equal(ctrl_cluster_admits("warm", 128, &why), 1);
}

static void
test_cpu_limit(void **state)
{
	char	 host[AGENT_HOST_MAX + 1];
	enum policy_reason why;

	(void)state;
	feed("h1", 800, 95, 16384, 8000, 0, NULL);
	feed("h2", 800, 85, 16384, 8000, 0, NULL);
	assert_int_equal(ctrl_cluster_place("v", 512, host, &why), -1);
	assert_int_equal(why, POLICY_R_CPU);
}

/* The rule asked of one host: memory with reservations, CPU, unknown. */
static void
test_admits(void **state)
{
	char	 host[AGENT_HOST_MAX + 1];
	enum policy_reason why;

	(void)state;
	assert_int_equal(ctrl_cluster_admits("new", 512, &why), -1);
	feed("small", 400, 10, 4096, 1100, 0, NULL);
	feed("hot", 400, 95, 16384, 8000, 0, NULL);
	assert_int_equal(ctrl_cluster_admits("small", 512, &why), 1);
	assert_int_equal(ctrl_cluster_admits("small", 1024, &why), 0);
	assert_int_equal(why, POLICY_R_NO_MEMORY);
	assert_int_equal(ctrl_cluster_admits("hot", 512, &why), 0);
	assert_int_equal(why, POLICY_R_CPU);
	/* Nothing reserved by asking; a placement's reservation counts. */
	assert_int_equal(ctrl_cluster_admits("small", 512, &why), 1);
	assert_int_equal(ctrl_cluster_place("v", 512, host, &why), 0);
	assert_string_equal(host, "small");
	assert_int_equal(ctrl_cluster_admits("small", 512, &why), 0);
	assert_int_equal(why, POLICY_R_NO_MEMORY);
	/* Out of placement: draining, or given up. */
	ctrl_cluster_unplace("small", "v");
	ctrl_cluster_set_closed("small");
	assert_int_equal(ctrl_cluster_admits("small", 512, &why), 0);
	assert_int_equal(why, POLICY_R_NO_HOST);
	ctrl_cluster_set_closed("");
	ctrl_cluster_exclude("small", true);
	assert_int_equal(ctrl_cluster_admits("small", 512, &why), 0);
	ctrl_cluster_exclude("small", false);
	assert_int_equal(ctrl_cluster_admits("small", 512, &why), 1);
	/* Gone: nothing known of it any more. */
	ctrl_cluster_gone("small");
	assert_int_equal(ctrl_cluster_admits("small", 512, &why), -1);
}

static void
test_gone_and_excluded(void **state)
{
	char	 host[AGENT_HOST_MAX + 1];
	enum policy_reason why;

	(void)state;
	feed("h1", 800, 10, 16384, 8000, 0, NULL);
	feed("h2", 800, 40, 16384, 8000, 0, NULL);
	feed("h3", 800, 60, 16384, 8000, 0, NULL);
	ctrl_cluster_gone("h1");
	assert_int_equal(ctrl_cluster_hosts(), 2);
	assert_true(ctrl_cluster_load("h1") < 0);
	assert_int_equal(ctrl_cluster_place("v", 512, host, &why), 0);
	assert_string_equal(host, "h2");
	ctrl_cluster_exclude("h2", true);
	assert_int_equal(ctrl_cluster_place("v", 512, host, &why), 0);
	assert_string_equal(host, "h3");
	ctrl_cluster_exclude("h3", true);
	assert_int_equal(ctrl_cluster_place("v", 512, host, &why), -1);
	assert_int_equal(why, POLICY_R_NO_HOST);
	/* Excluded before it is seen: kept out when it comes. */
	ctrl_cluster_exclude("h4", true);
	feed("h4", 800, 1, 16384, 8000, 0, NULL);
	assert_int_equal(ctrl_cluster_place("v", 512, host, &why), -1);
	ctrl_cluster_exclude("h2", false);
	assert_int_equal(ctrl_cluster_place("v", 512, host, &why), 0);
	assert_string_equal(host, "h2");
	/* An unknown host, and a sample without figures, change nothing. */
	ctrl_cluster_gone("nosuch");
	ctrl_cluster_unplace("nosuch", "v");
	feed("h5", 0, 0, 16384, 8000, 0, NULL);
	assert_true(ctrl_cluster_load("h5") < 0);
}

/* Draining or disabled hosts get no placements, known yet or not. */
static void
test_closed(void **state)
{
	char	 host[AGENT_HOST_MAX + 1];
	enum policy_reason why;
	struct policy_cluster c;

	(void)state;
	ctrl_cluster_set_closed(" h1  h3 ");
	feed("h1", 800, 5, 16384, 8000, 0, NULL);
	feed("h2", 800, 40, 16384, 8000, 0, NULL);
	feed("h3", 800, 1, 16384, 8000, 0, NULL);
	assert_int_equal(ctrl_cluster_place("v", 512, host, &why), 0);
	assert_string_equal(host, "h2");
	/* Still in the view: their VMs may move away. */
	assert_int_equal(ctrl_cluster_view(&c), 0);
	assert_int_equal(c.nhosts, 3);
	ctrl_cluster_view_free(&c);
	ctrl_cluster_set_closed("h2 h1x");
	assert_int_equal(ctrl_cluster_place("v", 512, host, &why), 0);
	assert_string_equal(host, "h3");
	ctrl_cluster_set_closed("h1 h2 h3");
	assert_int_equal(ctrl_cluster_place("v", 512, host, &why), -1);
	assert_int_equal(why, POLICY_R_NO_HOST);
	ctrl_cluster_set_closed("");
	assert_int_equal(ctrl_cluster_place("v", 512, host, &why), 0);
	assert_string_equal(host, "h3");
}

static void
test_view(void **state)
{
	static const struct agent_vm_sample v1[] = {
		{ "cvm-1", 200, 1024 },	/* two CPUs of eight: 25% */
		{ "cvm-2", 40, 512 },
	};
	static const struct agent_vm_sample v2[] = { { "pvm-a", 100, 2048 } };
	struct policy_cluster c;
	size_t	 i;

	(void)state;
	feed("h1", 800, 80, 16384, 8000, 2, v1);
	feed("h2", 400, 30, 8192, 4000, 1, v2);
	feed("h3", 400, 30, 8192, 4000, 0, NULL);
	ctrl_cluster_exclude("h3", true);
	assert_int_equal(ctrl_cluster_view(&c), 0);
	assert_int_equal(c.nhosts, 2);
	assert_int_equal(c.nvms, 3);
	assert_string_equal(c.hosts[0].id, "h1");
	assert_int_equal(c.hosts[0].mem_mb, 16384);
	assert_int_equal(c.hosts[0].mem_used_mb, 16384 - 8000);
	for (i = 0; i < c.nvms; i++)
		if (strcmp(c.vms[i].id, "cvm-1") == 0) {
			assert_int_equal(c.vms[i].host, 0);
			assert_true(c.vms[i].cpu > 24.9 && c.vms[i].cpu < 25.1);
			assert_int_equal(c.vms[i].mem_mb, 1024);
		} else if (strcmp(c.vms[i].id, "pvm-a") == 0) {
			assert_int_equal(c.vms[i].host, 1);
			assert_true(c.vms[i].cpu > 24.9 && c.vms[i].cpu < 25.1);
		}
	c.hosts[0].over = 3;
	c.hosts[1].cool = 2;
	ctrl_cluster_keep(&c);
	ctrl_cluster_view_free(&c);
	assert_int_equal(ctrl_cluster_view(&c), 0);
	assert_int_equal(c.hosts[0].over, 3);
	assert_int_equal(c.hosts[1].cool, 2);
	ctrl_cluster_view_free(&c);
	/* A new sample keeps them too (only policy_tick changes them). */
	feed("h1", 800, 80, 16384, 8000, 2, v1);
	assert_int_equal(ctrl_cluster_view(&c), 0);
	assert_int_equal(c.hosts[0].over, 3);
	ctrl_cluster_view_free(&c);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_empty, setup, teardown),
		cmocka_unit_test_setup_teardown(test_least_loaded, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_burst_spreads, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_memory_reserved, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_reservation_ends, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_cpu_limit, setup, teardown),
		cmocka_unit_test_setup_teardown(test_admits, setup, teardown),
		cmocka_unit_test_setup_teardown(test_gone_and_excluded, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_closed, setup, teardown),
		cmocka_unit_test_setup_teardown(test_view, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

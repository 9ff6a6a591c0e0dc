/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * bench_xvdsd_sim.c — a benchmark, not a test: xvdsd's own logic (hostd/vm.c,
 * hostd/host.c) running a pool on the simulated hypervisor (hvsim/sim.c) with
 * simulated guest agents (hvsim/report.c), sampled every interval.  Prints
 * the time until every CVM is ready, the daemon's CPU time and its peak
 * memory.  The hypervisor and guests are simulated: what is measured is
 * xvdsd's own cost.
 *
 * usage: bench_xvdsd_sim [domains [seconds [interval]]]  (100 30 5)
 */
#include <config.h>

#include <sys/resource.h>
#include <sys/time.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>

#include "common/conf.h"
#include "hostd/host.h"
#include "hv/hv.h"
#include "hvsim/sim.h"
#include "common/log.h"
#include "hvsim/report.h"
#include "hostd/vm.h"
#include "hostd/xvdsd.h"

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double
cpu_s(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
	    (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
}

static long
maxrss_kib(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return ru.ru_maxrss;
}

static void
run_for(struct event_base *base, double secs)
{
	struct timeval tv = { (time_t)secs, (suseconds_t)((secs - (int)secs) * 1e6) };

	event_base_loopexit(base, &tv);
	event_base_dispatch(base);
}

static unsigned
count_ready(size_t n, struct vm_view *views)
{
	size_t	 i, total = vm_list(views, n);
	unsigned ready = 0;

	for (i = 0; i < total && i < n; i++)
		ready += views[i].state == VM_S_READY;
	return ready;
}

int
main(int argc, char *argv[])
{
	unsigned domains = argc > 1 ? (unsigned)atoi(argv[1]) : 100;
	double	 seconds = argc > 2 ? atof(argv[2]) : 30;
	unsigned interval = argc > 3 ? (unsigned)atoi(argv[3]) : 5;
	struct hv_callbacks cbs = { vm_domain_died, NULL };
	struct event_base *base;
	struct xvds_conf *conf;
	struct vm_view *views;
	struct host_view hv_view;
	struct hv *hv;
	char	 dir[] = "/tmp/xvds-bench.XXXXXX", path[128], err[CONF_ERR_MAX];
	double	 t0, c0, t_ready, c_ready, c1;
	size_t	 i, n;
	FILE	*f;

	if (domains < 1 || domains > 999 || seconds <= 0 || interval < 1) {
		fprintf(stderr, "usage: bench_xvdsd_sim [domains [seconds [interval]]]\n");
		return 2;
	}
	log_procname("bench");
	log_init(1, 0);
	if (mkdtemp(dir) == NULL)
		return 1;
	snprintf(path, sizeof(path), "%s/xvds.conf", dir);
	if ((f = fopen(path, "w")) == NULL)
		return 1;
	fprintf(f, "state-dir \"%s/state\"\nstore \"%s/store\"\n"
	    "sample-interval %us\nsample-window 7\n"
	    "template \"desk\" {\n\ttype pvh\n\tmemory 256M\n"
	    "\tkernel \"/boot/vmlinuz\"\n\tnetwork bridge \"xenbr0\"\n}\n"
	    "pool \"bench\" {\n\ttemplate \"desk\"\n\tkind cvm\n\tsize %u\n"
	    "\tready %u\n}\n", dir, dir, interval, domains, domains);
	fclose(f);
	if ((conf = conf_load(path, err, sizeof(err))) == NULL) {
		fprintf(stderr, "%s\n", err);
		return 1;
	}

	base = event_base_new();
	hv = hv_open(base, &cbs);
	hv_sim_set_host(hv, 64, (uint64_t)domains * 256 + 4096, 1024);
	reportsim_init(base);
	views = calloc(domains, sizeof(*views));
	if (base == NULL || hv == NULL || views == NULL)
		return 1;

	t0 = now_s();
	c0 = cpu_s();
	if (vm_init(base, hv, conf) == -1 ||
	    host_init(base, hv, interval, 7) == -1)
		return 1;
	while (count_ready(domains, views) < domains && now_s() - t0 < 60)
		run_for(base, 0.01);
	t_ready = now_s() - t0;
	c_ready = cpu_s() - c0;
	if (count_ready(domains, views) < domains) {
		fprintf(stderr, "not every CVM became ready within 60 s\n");
		return 1;
	}
	/* Guests at work: each busy between 5% and 50% of a CPU. */
	n = vm_list(views, domains);
	srand(1);
	for (i = 0; i < n; i++)
		hv_sim_set_load(hv, views[i].domid, 0.05 + 0.45 * rand() / RAND_MAX);

	c0 = cpu_s();
	run_for(base, seconds);
	c1 = cpu_s() - c0;
	host_view(&hv_view);

	printf("xvdsd logic on the simulated hypervisor (hv_sim + reportsim)\n");
	printf("  domains                    %u CVMs\n", domains);
	printf("  start to all ready         %.3f s (CPU %.3f s)\n", t_ready, c_ready);
	printf("  steady run                 %.0f s, sampling every %u s\n",
	    seconds, interval);
	printf("  CPU used while running     %.3f s = %.3f%% of one CPU\n", c1,
	    100.0 * c1 / seconds);
	printf("  peak resident memory       %.1f MiB\n", maxrss_kib() / 1024.0);
	printf("  host view                  RVM %u TCPU %u FCPU %u ACPU %u "
	    "TMEM %ju FMEM %ju\n", hv_view.rvm, hv_view.tcpu, hv_view.fcpu,
	    hv_view.acpu, (uintmax_t)hv_view.tmem_mib, (uintmax_t)hv_view.fmem_mib);

	host_shutdown();
	vm_shutdown();
	hv_close(hv);
	event_base_free(base);
	free(views);
	snprintf(path, sizeof(path), "rm -rf '%s'", dir);
	return system(path) == 0 ? 0 : 1;
}

/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * hostd/host.c — sampling of the host and its domains every sample interval
 * (MIGRATE_TERM; the means are hostd/sample.c's), and the host's figures as
 * operators know them from OpenNebula: RVM, TCPU, FCPU, ACPU, TMEM, FMEM.
 */
#include <config.h>

#include <sys/queue.h>

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>

#include "hostd/host.h"
#include "common/log.h"
#include "hostd/sample.h"
#include "hostd/vm.h"
#include "hostd/xvdsd.h"

struct dom_load {
	LIST_ENTRY(dom_load) entry;
	uint32_t	 domid;
	struct sample_window w;
	bool		 seen;		/* listed in the current round */
};

static struct {
	struct hv	*hv;
	struct event	*timer;
	unsigned	 window;
	struct timeval	 interval;
	LIST_HEAD(, dom_load) loads;
	struct host_view view;
} host_state;

static int64_t
mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static struct dom_load *
load_for(uint32_t domid)
{
	struct dom_load *l;

	LIST_FOREACH(l, &host_state.loads, entry)
		if (l->domid == domid)
			return l;
	if ((l = calloc(1, sizeof(*l))) == NULL)
		fatal("%s", __func__);
	l->domid = domid;
	LIST_INSERT_HEAD(&host_state.loads, l, entry);
	return l;
}

static void
sample(evutil_socket_t fd, short what, void *arg)
{
	struct hv_domain *doms;
	struct hv_host h;
	struct dom_load *l, *next;
	struct host_view v;
	size_t	 n, i;
	int64_t	 now = mono_ns();
	double	 used = 0;

	(void)fd;
	(void)what;
	(void)arg;
	evtimer_add(host_state.timer, &host_state.interval);
	if (hv_host_info(host_state.hv, &h) == -1 ||
	    hv_list_domains(host_state.hv, &doms, &n) == -1)
		return;
	memset(&v, 0, sizeof(v));
	snprintf(v.hostname, sizeof(v.hostname), "%s",
	    host_state.view.hostname);
	snprintf(v.hypervisor, sizeof(v.hypervisor), "%s",
	    host_state.view.hypervisor);
	v.tcpu = h.cpus * 100;
	v.tmem_mib = h.total_mib;
	v.fmem_mib = h.free_mib;
	LIST_FOREACH(l, &host_state.loads, entry)
		l->seen = false;
	for (i = 0; i < n; i++) {
		double	 mean;

		l = load_for(doms[i].domid);
		l->seen = true;
		mean = sample_add(&l->w, host_state.window, doms[i].cpu_time_ns,
		    now);
		if (mean >= 0) {
			used += mean;
			vm_cpu_sample(doms[i].domid, mean);
		}
		if (doms[i].domid == 0)
			continue;
		v.rvm++;
		v.acpu += doms[i].vcpus * 100;
		v.amem_mib += doms[i].mem_kib / 1024;
	}
	v.fcpu = used >= v.tcpu ? 0 : v.tcpu - (unsigned)(used + 0.5);
	for (l = LIST_FIRST(&host_state.loads); l != NULL; l = next) {
		next = LIST_NEXT(l, entry);
		if (!l->seen) {
			LIST_REMOVE(l, entry);
			free(l);
		}
	}
	free(doms);
	host_state.view = v;
}

int
host_init(struct event_base *base, struct hv *hv, unsigned interval,
    unsigned window)
{
	struct hv_host h;

	memset(&host_state, 0, sizeof(host_state));
	LIST_INIT(&host_state.loads);
	host_state.hv = hv;
	host_state.window = window;
	host_state.interval.tv_sec = interval == 0 ? 1 : (time_t)interval;
	if (gethostname(host_state.view.hostname,
	    sizeof(host_state.view.hostname) - 1) == -1)
		snprintf(host_state.view.hostname,
		    sizeof(host_state.view.hostname), "unknown");
	if (hv_host_info(hv, &h) == 0)
		snprintf(host_state.view.hypervisor,
		    sizeof(host_state.view.hypervisor), "%s",
		    h.name);
	if ((host_state.timer = evtimer_new(base, sample, NULL)) == NULL)
		return -1;
	sample(-1, 0, NULL);	/* the first figures at once */
	return 0;
}

void
host_reload(unsigned interval, unsigned window)
{
	/* A new window size restarts each domain's mean (hostd/sample.c). */
	host_state.window = window;
	host_state.interval.tv_sec = interval == 0 ? 1 : (time_t)interval;
}

void
host_shutdown(void)
{
	struct dom_load *l;

	if (host_state.timer != NULL)
		event_free(host_state.timer);
	while ((l = LIST_FIRST(&host_state.loads)) != NULL) {
		LIST_REMOVE(l, entry);
		free(l);
	}
	memset(&host_state, 0, sizeof(host_state));
}

int
host_view(struct host_view *v)
{
	*v = host_state.view;
	return 0;
}

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
} H;

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

	LIST_FOREACH(l, &H.loads, entry)
		if (l->domid == domid)
			return l;
	if ((l = calloc(1, sizeof(*l))) == NULL)
		fatal("%s", __func__);
	l->domid = domid;
	LIST_INSERT_HEAD(&H.loads, l, entry);
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
	evtimer_add(H.timer, &H.interval);
	if (hv_host_info(H.hv, &h) == -1 || hv_list_domains(H.hv, &doms, &n) == -1)
		return;
	memset(&v, 0, sizeof(v));
	snprintf(v.hostname, sizeof(v.hostname), "%s", H.view.hostname);
	snprintf(v.hypervisor, sizeof(v.hypervisor), "%s", H.view.hypervisor);
	v.tcpu = h.cpus * 100;
	v.tmem_mib = h.total_mib;
	v.fmem_mib = h.free_mib;
	LIST_FOREACH(l, &H.loads, entry)
		l->seen = false;
	for (i = 0; i < n; i++) {
		double	 mean;

		l = load_for(doms[i].domid);
		l->seen = true;
		mean = sample_add(&l->w, H.window, doms[i].cpu_time_ns, now);
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
	for (l = LIST_FIRST(&H.loads); l != NULL; l = next) {
		next = LIST_NEXT(l, entry);
		if (!l->seen) {
			LIST_REMOVE(l, entry);
			free(l);
		}
	}
	free(doms);
	H.view = v;
}

int
host_init(struct event_base *base, struct hv *hv, unsigned interval,
    unsigned window)
{
	struct hv_host h;

	memset(&H, 0, sizeof(H));
	LIST_INIT(&H.loads);
	H.hv = hv;
	H.window = window;
	H.interval.tv_sec = interval == 0 ? 1 : (time_t)interval;
	if (gethostname(H.view.hostname, sizeof(H.view.hostname) - 1) == -1)
		snprintf(H.view.hostname, sizeof(H.view.hostname), "unknown");
	if (hv_host_info(hv, &h) == 0)
		snprintf(H.view.hypervisor, sizeof(H.view.hypervisor), "%s",
		    h.name);
	if ((H.timer = evtimer_new(base, sample, NULL)) == NULL)
		return -1;
	sample(-1, 0, NULL);	/* the first figures at once */
	return 0;
}

void
host_reload(unsigned interval, unsigned window)
{
	/* A new window size restarts each domain's mean (hostd/sample.c). */
	H.window = window;
	H.interval.tv_sec = interval == 0 ? 1 : (time_t)interval;
}

void
host_shutdown(void)
{
	struct dom_load *l;

	if (H.timer != NULL)
		event_free(H.timer);
	while ((l = LIST_FIRST(&H.loads)) != NULL) {
		LIST_REMOVE(l, entry);
		free(l);
	}
	memset(&H, 0, sizeof(H));
}

int
host_view(struct host_view *v)
{
	*v = H.view;
	return 0;
}

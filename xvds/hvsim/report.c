/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * hvsim/report.c — simulated guest agents behind hv/reportwatch.h, for xvdsd on
 * the simulated hypervisor (hvsim/sim.c) in benchmarks and, later, the
 * controller's integration tests: a domain being watched "boots" after a
 * short delay and reports a boot-complete record and one address, as
 * xvds-guestd would.  Never used against Xen: there, hv/reportwatch.c reads
 * what real guests write into xenstore.
 *
 * A credential written for a guest is answered after a short delay,
 * "applied" unless XVDS_SIM_CREDENTIAL says "failed" or "silent" (no
 * answer: the daemon's timeout), so that tests of the whole daemon can
 * take each path.
 */
#include <config.h>

#include <sys/queue.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <sys/socket.h>

#include <event2/event.h>

#include "common/log.h"
#include "hvsim/report.h"
#include "hv/reportwatch.h"

#define BOOT_MS		100	/* from watch to the guest's first report */
#define CRED_MS		50	/* from a credential to its answer */

enum sim_answer { SIM_APPLIED, SIM_FAILED, SIM_SILENT };

struct sim_guest {
	TAILQ_ENTRY(sim_guest) entry;
	struct reportwatch *rw;
	struct report_domain dom;
	struct event	*boot;
	struct event	*cred;		/* the answer to come */
	uint64_t	 cred_seq;
};

struct reportwatch {
	report_cb	 cb;
	void		*arg;
	int		 fds[2];	/* never readable: nothing to dispatch */
	TAILQ_HEAD(, sim_guest) guests;
};

static struct event_base *sim_base;
static unsigned long boots;
static enum sim_answer answer;

void
reportsim_init(struct event_base *base)
{
	const char *a = getenv("XVDS_SIM_CREDENTIAL");

	sim_base = base;
	answer = SIM_APPLIED;
	if (a != NULL && strcmp(a, "failed") == 0)
		answer = SIM_FAILED;
	else if (a != NULL && strcmp(a, "silent") == 0)
		answer = SIM_SILENT;
}

static void
guest_answers(evutil_socket_t fd, short what, void *arg)
{
	struct sim_guest *g = arg;
	struct report_domain *d = &g->dom;

	(void)fd;
	(void)what;
	if (!d->have_boot)
		return;
	memset(&d->credential, 0, sizeof(d->credential));
	d->credential.version = REPORT_VERSION;
	memcpy(d->credential.boot_id, d->boot.boot_id,
	    sizeof(d->credential.boot_id));
	d->credential.seq = g->cred_seq;
	d->credential.applied = answer == SIM_APPLIED;
	d->have_credential = true;
	g->rw->cb(g->rw->arg, REPORT_EV_CREDENTIAL, REPORT_KEY_CREDENTIAL, d,
	    NULL);
}

static void
guest_booted(evutil_socket_t fd, short what, void *arg)
{
	struct sim_guest *g = arg;
	struct report_domain *d = &g->dom;
	uint32_t ip;

	(void)fd;
	(void)what;
	/* A boot id unique to this boot. */
	snprintf(d->boot.boot_id, sizeof(d->boot.boot_id), "%016lx%016lx",
	    (unsigned long)time(NULL), ++boots);
	d->boot.version = REPORT_VERSION;
	d->boot.time = (int64_t)time(NULL);
	snprintf(d->boot.agent, sizeof(d->boot.agent), "simulated");
	/* A simulated RDP certificate's fingerprint: the boot id twice. */
	snprintf(d->boot.rdp_sha256, sizeof(d->boot.rdp_sha256), "%s%s",
	    d->boot.boot_id, d->boot.boot_id);
	d->have_boot = true;
	g->rw->cb(g->rw->arg, REPORT_EV_BOOT, REPORT_KEY_BOOT, d, NULL);
	memset(&d->addrs, 0, sizeof(d->addrs));
	d->addrs.version = REPORT_VERSION;
	memcpy(d->addrs.boot_id, d->boot.boot_id, sizeof(d->addrs.boot_id));
	d->addrs.n = 1;
	snprintf(d->addrs.addr[0].ifname, sizeof(d->addrs.addr[0].ifname), "eth0");
	d->addrs.addr[0].family = AF_INET;
	/* 10.200.0.0/16, by domid. */
	ip = htonl(0x0ac80000u | (d->domid & 0xffff));
	memcpy(d->addrs.addr[0].addr, &ip, 4);
	d->addrs.addr[0].prefix = 16;
	d->have_addrs = true;
	g->rw->cb(g->rw->arg, REPORT_EV_ADDRS, REPORT_KEY_ADDRS, d, NULL);
}

struct reportwatch *
reportwatch_open(report_cb cb, void *arg, unsigned max_skew)
{
	struct reportwatch *rw;

	(void)max_skew;
	if (sim_base == NULL) {
		log_warnx("%s: reportsim_init was not called", __func__);
		return NULL;
	}
	if ((rw = calloc(1, sizeof(*rw))) == NULL) {
		log_warn("%s", __func__);
		return NULL;
	}
	if (pipe(rw->fds) == -1) {
		log_warn("%s: pipe", __func__);
		free(rw);
		return NULL;
	}
	rw->cb = cb;
	rw->arg = arg;
	TAILQ_INIT(&rw->guests);
	return rw;
}

static struct sim_guest *
find_guest(struct reportwatch *rw, uint32_t domid)
{
	struct sim_guest *g;

	TAILQ_FOREACH(g, &rw->guests, entry)
		if (g->dom.domid == domid)
			return g;
	return NULL;
}

int
reportwatch_add(struct reportwatch *rw, uint32_t domid, time_t not_before,
    const char *old_boot_id)
{
	struct timeval tv = { 0, BOOT_MS * 1000 };
	struct sim_guest *g;

	(void)not_before;
	(void)old_boot_id;
	if (find_guest(rw, domid) != NULL)
		return 0;
	if ((g = calloc(1, sizeof(*g))) == NULL)
		return -1;
	g->rw = rw;
	g->dom.domid = domid;
	if ((g->boot = evtimer_new(sim_base, guest_booted, g)) == NULL ||
	    (g->cred = evtimer_new(sim_base, guest_answers, g)) == NULL) {
		if (g->boot != NULL)
			event_free(g->boot);
		free(g);
		return -1;
	}
	evtimer_add(g->boot, &tv);
	TAILQ_INSERT_TAIL(&rw->guests, g, entry);
	return 0;
}

int
reportwatch_remove(struct reportwatch *rw, uint32_t domid)
{
	struct sim_guest *g = find_guest(rw, domid);

	if (g == NULL)
		return -1;
	TAILQ_REMOVE(&rw->guests, g, entry);
	event_free(g->boot);
	event_free(g->cred);
	free(g);
	return 0;
}

void
reportwatch_close(struct reportwatch *rw)
{
	struct sim_guest *g;

	if (rw == NULL)
		return;
	while ((g = TAILQ_FIRST(&rw->guests)) != NULL)
		reportwatch_remove(rw, g->dom.domid);
	close(rw->fds[0]);
	close(rw->fds[1]);
	free(rw);
}

int
reportwatch_fd(struct reportwatch *rw)
{
	return rw->fds[0];
}

const struct report_domain *
reportwatch_get(struct reportwatch *rw, uint32_t domid)
{
	struct sim_guest *g = find_guest(rw, domid);

	return g != NULL ? &g->dom : NULL;
}

size_t
reportwatch_domains(struct reportwatch *rw, uint32_t *ids, size_t max)
{
	struct sim_guest *g;
	size_t	 n = 0;

	TAILQ_FOREACH(g, &rw->guests, entry) {
		if (n < max)
			ids[n] = g->dom.domid;
		n++;
	}
	return n;
}

/* The simulated agent reads the record as xvds-guestd would. */
int
reportwatch_secret_put(struct reportwatch *rw, uint32_t domid, const char *val,
    size_t len)
{
	struct sim_guest *g = find_guest(rw, domid);
	struct report_secret rec;
	struct timeval tv = { 0, CRED_MS * 1000 };
	char	 err[REPORT_ERR_MAX];

	if (g == NULL || report_secret_parse(val, len, &rec, err,
	    sizeof(err)) == -1) {
		log_warnx("%s: domain %u: %s", __func__, domid,
		    g == NULL ? "no such guest" : err);
		return -1;
	}
	g->cred_seq = rec.seq;
	memset(&rec, 0, sizeof(rec));
	if (answer != SIM_SILENT)
		evtimer_add(g->cred, &tv);
	return 0;
}

int
reportwatch_secret_remove(struct reportwatch *rw, uint32_t domid)
{
	struct sim_guest *g = find_guest(rw, domid);

	if (g != NULL)
		evtimer_del(g->cred);
	return 0;
}

int
reportwatch_dispatch(struct reportwatch *rw)
{
	(void)rw;
	return 0;
}

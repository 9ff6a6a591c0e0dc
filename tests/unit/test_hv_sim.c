/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * test_hv_sim.c — the simulated hypervisor (xvds/hvsim/sim.c) on a real
 * libevent loop: every operation's success and its effect on the domain
 * list, failure injection, death reports, memory and CPU accounting, save
 * images, several hosts in one process, closing with work pending, and
 * migration between two hosts on one loop over a socketpair.
 */
#include <config.h>

#include <sys/socket.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <event2/event.h>
#include <jansson.h>

#include "hv/hv.h"
#include "hvsim/sim.h"
#include "common/log.h"
#include "run_loop.h"

#define SAFETY_MS	3000	/* no wait in these tests should come near it */
#define MIB_KIB		UINT64_C(1024)
#define SEC		UINT64_C(1000000000)

/* Set around every call into hv: no callback may run while it is. */
static int in_call, call_rc;

#define CALL(x)	(in_call = 1, call_rc = (x), in_call = 0, call_rc)

struct rec {
	int		 done;
	enum hv_result	 result;
	uint32_t	 domid;
};

struct deaths {
	int		 n;
	uint32_t	 domid[16];
	enum hv_death	 why[16];
	int		 order[16];	/* value of *clock when reported */
	const int	*clock;		/* e.g. a rec's done count */
};

struct fx {
	struct event_base *base;
	struct hv	*hv;
	struct deaths	 deaths;
	char		 dir[64];
};

static void
done_cb(void *arg, enum hv_result result, uint32_t domid)
{
	struct rec *r = arg;

	if (in_call)
		fail_msg("a done callback ran inside a call");
	r->done++;
	r->result = result;
	r->domid = domid;
}

static void
died_cb(void *arg, uint32_t domid, enum hv_death why)
{
	struct deaths *d = arg;

	if (in_call)
		fail_msg("a death report ran inside a call");
	if (d->n >= 16)
		fail_msg("too many deaths");
	d->domid[d->n] = domid;
	d->why[d->n] = why;
	d->order[d->n] = d->clock ? *d->clock : 0;
	d->n++;
}

static void
wait_done(struct fx *f, struct rec *r, int want)
{
	if (run_until(f->base, &r->done, want, SAFETY_MS) == -1)
		fail_msg("no callback within %d ms", SAFETY_MS);
}

/* Latencies of 1 ms keep the tests quick; defaults are tested apart. */
static void
fast(struct hv *hv)
{
	int	 op;

	for (op = 0; op < HV_SIM_OP__COUNT; op++)
		assert_int_equal(hv_sim_set_latency(hv, (enum hv_sim_op)op, 1), 0);
	hv_sim_set_shutdown_delay(hv, 5);
}

static int
setup(void **state)
{
	struct fx *f;
	struct hv_callbacks cbs;

	f = calloc(1, sizeof(*f));
	assert_non_null(f);
	f->base = event_base_new();
	assert_non_null(f->base);
	cbs.domain_died = died_cb;
	cbs.arg = &f->deaths;
	f->hv = hv_open(f->base, &cbs);
	assert_non_null(f->hv);
	fast(f->hv);
	snprintf(f->dir, sizeof(f->dir), "/tmp/test_hv_sim.XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fx *f = *state;
	char	 cmd[128];

	hv_close(f->hv);
	event_base_free(f->base);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->dir);
	if (system(cmd) != 0)
		fprintf(stderr, "cannot remove %s\n", f->dir);
	free(f);
	return 0;
}

static void
spec_init(struct vm_spec *s, const char *name, uint64_t mib)
{
	memset(s, 0, sizeof(*s));
	snprintf(s->name, sizeof(s->name), "%s", name);
	s->type = VM_TYPE_PVH;
	s->vcpus = 1;
	s->max_vcpus = 2;
	s->memory_mib = mib;
	s->max_memory_mib = mib * 2;
	snprintf(s->kernel, sizeof(s->kernel), "/vm/golden/vmlinuz");
	snprintf(s->cmdline, sizeof(s->cmdline), "console=hvc0 root=/dev/xvda");
	s->ndisks = 1;
	snprintf(s->disks[0].vdev, sizeof(s->disks[0].vdev), "xvda");
	snprintf(s->disks[0].path, sizeof(s->disks[0].path), "/vm/disks/%s.qcow2",
	    name);
	s->disks[0].format = VM_DISK_QCOW2;
	s->disks[0].backend = VM_DISK_QDISK;
	s->nnics = 1;
	snprintf(s->nics[0].mac, sizeof(s->nics[0].mac), "00:16:3e:00:00:01");
	snprintf(s->nics[0].bridge, sizeof(s->nics[0].bridge), "xenbr0");
}

static uint32_t
create(struct fx *f, const char *name, uint64_t mib, bool paused)
{
	struct vm_spec s;
	struct rec r = { 0 };

	spec_init(&s, name, mib);
	assert_int_equal(CALL(hv_create(f->hv, &s, paused, done_cb, &r)), 0);
	assert_int_equal(r.done, 0);
	wait_done(f, &r, 1);
	assert_int_equal(r.result, HV_OK);
	assert_true(r.domid > 0 && r.domid < HV_SIM_DOMID_INVALID);
	return r.domid;
}

/* Runs one operation to its end; returns its result. */
typedef int (*dom_op)(struct hv *, uint32_t, hv_done_cb, void *);

static enum hv_result
run_op(struct fx *f, dom_op op, uint32_t domid)
{
	struct rec r = { 0 };

	assert_int_equal(CALL(op(f->hv, domid, done_cb, &r)), 0);
	assert_int_equal(r.done, 0);
	wait_done(f, &r, 1);
	assert_int_equal(r.domid, domid);
	return r.result;
}

static int
vcpus2(struct hv *hv, uint32_t domid, hv_done_cb cb, void *arg)
{
	return hv_set_vcpus(hv, domid, 2, cb, arg);
}

static int
mem768_op(struct hv *hv, uint32_t domid, hv_done_cb cb, void *arg)
{
	return hv_set_memory(hv, domid, 768, cb, arg);
}

static enum hv_dom_state
state_of(struct fx *f, uint32_t domid)
{
	struct hv_domain d;

	assert_int_equal(hv_domain_info(f->hv, domid, &d), 0);
	return d.state;
}

static bool
exists(struct fx *f, uint32_t domid)
{
	struct hv_domain d;

	if (hv_domain_info(f->hv, domid, &d) == 0)
		return true;
	assert_int_equal(errno, ENOENT);
	return false;
}

static uint64_t
free_mib(struct fx *f)
{
	struct hv_host h;

	assert_int_equal(hv_host_info(f->hv, &h), 0);
	return h.free_mib;
}

static size_t
ndomains(struct fx *f)
{
	struct hv_domain *list;
	size_t	 n;

	assert_int_equal(hv_list_domains(f->hv, &list, &n), 0);
	free(list);
	return n;
}

static uint64_t
cpu_ns(struct fx *f, uint32_t domid)
{
	struct hv_domain d;

	assert_int_equal(hv_domain_info(f->hv, domid, &d), 0);
	return d.cpu_time_ns;
}

static uint64_t
idle_ns(struct fx *f)
{
	struct hv_host h;

	assert_int_equal(hv_host_info(f->hv, &h), 0);
	return h.cpu_idle_ns;
}

static void
test_open_host(void **state)
{
	struct fx *f = *state;
	struct hv_host h;
	struct hv_domain *list, d;
	size_t	 n;

	assert_int_equal(hv_host_info(f->hv, &h), 0);
	assert_int_equal(h.cpus, 4);
	assert_int_equal(h.total_mib, 16384);
	assert_int_equal(h.free_mib, 16384 - 1024);
	assert_string_equal(h.name, "simulated");
	assert_int_equal(hv_list_domains(f->hv, &list, &n), 0);
	assert_int_equal(n, 1);
	assert_int_equal(list[0].domid, 0);
	assert_string_equal(list[0].name, "Domain-0");
	assert_int_equal(list[0].mem_kib, 1024 * MIB_KIB);
	assert_int_equal(list[0].vcpus, 4);
	assert_int_equal(list[0].state, HV_DOM_BLOCKED);
	free(list);
	assert_int_equal(hv_domain_info(f->hv, 0, &d), 0);
	assert_string_equal(d.name, "Domain-0");

	/* dom0 is not the daemon's to pause or destroy. */
	assert_int_equal(hv_pause(f->hv, 0, done_cb, NULL), -1);
	assert_int_equal(errno, EPERM);
	assert_int_equal(hv_destroy(f->hv, 0, done_cb, NULL), -1);
	assert_int_equal(errno, EPERM);
	assert_int_equal(hv_sim_kill(f->hv, 0, HV_DEATH_CRASH), -1);

	/* The host's size is a knob while dom0 is alone. */
	assert_int_equal(hv_sim_set_host(f->hv, 8, 32768, 2048), 0);
	assert_int_equal(hv_host_info(f->hv, &h), 0);
	assert_int_equal(h.cpus, 8);
	assert_int_equal(h.free_mib, 32768 - 2048);
	assert_int_equal(hv_sim_set_host(f->hv, 0, 32768, 2048), -1);
	assert_int_equal(hv_sim_set_host(f->hv, 4, 1024, 2048), -1);
	(void)create(f, "a", 512, false);
	assert_int_equal(hv_sim_set_host(f->hv, 4, 16384, 1024), -1);
	assert_int_equal(errno, EBUSY);
}

static void
test_create(void **state)
{
	struct fx *f = *state;
	struct vm_spec s;
	struct rec r = { 0 };
	struct hv_domain *list, d;
	size_t	 n;
	time_t	 t;

	spec_init(&s, "desk-1", 512);
	assert_int_equal(CALL(hv_create(f->hv, &s, false, done_cb, &r)), 0);
	assert_int_equal(r.done, 0);

	/* Being built: listed, paused, memory claimed, start time unknown. */
	assert_int_equal(hv_list_domains(f->hv, &list, &n), 0);
	assert_int_equal(n, 2);
	assert_int_equal(list[1].domid, 1);
	assert_string_equal(list[1].name, "desk-1");
	assert_int_equal(list[1].state, HV_DOM_PAUSED);
	free(list);
	assert_int_equal(free_mib(f), 16384 - 1024 - 512);
	assert_int_equal(hv_domain_start_time(f->hv, 1, &t), -1);

	wait_done(f, &r, 1);
	assert_int_equal(r.result, HV_OK);
	assert_int_equal(r.domid, 1);
	assert_int_equal(hv_domain_info(f->hv, 1, &d), 0);
	assert_string_equal(d.name, "desk-1");
	assert_int_equal(strlen(d.uuid), 36);
	assert_int_equal(d.state, HV_DOM_BLOCKED);	/* running, no load */
	assert_int_equal(d.mem_kib, 512 * MIB_KIB);
	assert_int_equal(d.max_mem_kib, 1024 * MIB_KIB);
	assert_int_equal(d.vcpus, 1);
	assert_int_equal(hv_sim_set_load(f->hv, 1, 0.5), 0);
	assert_int_equal(state_of(f, 1), HV_DOM_RUNNING);
	assert_int_equal(hv_domain_start_time(f->hv, 1, &t), 0);
	assert_true(t > 0);
	assert_int_equal(free_mib(f), 16384 - 1024 - 512);
	assert_int_equal(hv_sim_pending(f->hv), 0);
}

static void
test_create_paused(void **state)
{
	struct fx *f = *state;
	uint32_t domid;

	domid = create(f, "p", 256, true);
	assert_int_equal(state_of(f, domid), HV_DOM_PAUSED);
	assert_int_equal(run_op(f, hv_unpause, domid), HV_OK);
	assert_int_equal(state_of(f, domid), HV_DOM_BLOCKED);
}

static void
test_create_refused(void **state)
{
	struct fx *f = *state;
	struct vm_spec s;
	struct rec r = { 0 };
	uint64_t before;

	(void)create(f, "dup", 512, false);
	before = free_mib(f);

	/* A name in use: HV_FAILED from the loop, nothing left behind. */
	spec_init(&s, "dup", 512);
	assert_int_equal(CALL(hv_create(f->hv, &s, false, done_cb, &r)), 0);
	assert_int_equal(r.done, 0);
	wait_done(f, &r, 1);
	assert_int_equal(r.result, HV_FAILED);
	assert_int_equal(r.domid, HV_SIM_DOMID_INVALID);
	assert_int_equal(ndomains(f), 2);
	assert_int_equal(free_mib(f), before);

	/* More memory than is free. */
	spec_init(&s, "big", before + 1);
	assert_int_equal(CALL(hv_create(f->hv, &s, false, done_cb, &r)), 0);
	wait_done(f, &r, 2);
	assert_int_equal(r.result, HV_FAILED);
	assert_int_equal(ndomains(f), 2);
	assert_int_equal(free_mib(f), before);

	/* Exactly what is free is fine. */
	spec_init(&s, "fits", before);
	assert_int_equal(CALL(hv_create(f->hv, &s, false, done_cb, &r)), 0);
	wait_done(f, &r, 3);
	assert_int_equal(r.result, HV_OK);
	assert_int_equal(free_mib(f), 0);

	/* A bad spec is the caller's bug: -1 at once, no callback. */
	spec_init(&s, "bad", 128);
	s.vcpus = 0;
	assert_int_equal(hv_create(f->hv, &s, false, done_cb, &r), -1);
	assert_int_equal(errno, EINVAL);
	spec_init(&s, "bad", 128);
	s.max_memory_mib = 64;
	assert_int_equal(hv_create(f->hv, &s, false, done_cb, &r), -1);
	spec_init(&s, "", 128);
	assert_int_equal(hv_create(f->hv, &s, false, done_cb, &r), -1);
	assert_int_equal(hv_create(f->hv, NULL, false, done_cb, &r), -1);
	run_for(f->base, 20);
	assert_int_equal(r.done, 3);
}

static void
test_domids_not_reused(void **state)
{
	struct fx *f = *state;
	struct vm_spec s;
	struct rec r = { 0 };
	uint32_t a, b, c;

	a = create(f, "a", 128, false);
	assert_int_equal(run_op(f, hv_destroy, a), HV_OK);
	b = create(f, "a", 128, false);
	assert_true(b > a);
	/* A build that fails still used its domid, as in Xen. */
	assert_int_equal(hv_sim_fail_next(f->hv, HV_SIM_OP_CREATE, HV_FAILED), 0);
	spec_init(&s, "x", 128);
	assert_int_equal(CALL(hv_create(f->hv, &s, false, done_cb, &r)), 0);
	wait_done(f, &r, 1);
	assert_int_equal(r.result, HV_FAILED);
	c = create(f, "c", 128, false);
	assert_int_equal(c, b + 2);
}

static void
test_pause_unpause(void **state)
{
	struct fx *f = *state;
	uint32_t domid;

	domid = create(f, "p", 256, false);
	assert_int_equal(run_op(f, hv_pause, domid), HV_OK);
	assert_int_equal(state_of(f, domid), HV_DOM_PAUSED);
	/* Xen counts the toolstack's pauses: a second one nests... */
	assert_int_equal(run_op(f, hv_pause, domid), HV_OK);
	assert_int_equal(run_op(f, hv_unpause, domid), HV_OK);
	assert_int_equal(state_of(f, domid), HV_DOM_PAUSED);
	/* ...and needs its own unpause. */
	assert_int_equal(run_op(f, hv_unpause, domid), HV_OK);
	assert_int_equal(state_of(f, domid), HV_DOM_BLOCKED);
	/* Unpausing a running domain fails and leaves it running. */
	assert_int_equal(run_op(f, hv_unpause, domid), HV_FAILED);
	assert_int_equal(state_of(f, domid), HV_DOM_BLOCKED);
}

static void
test_shutdown(void **state)
{
	struct fx *f = *state;
	struct rec r = { 0 };
	uint32_t domid;
	uint64_t before;

	before = free_mib(f);
	domid = create(f, "s", 512, false);
	assert_int_equal(hv_watch_domain(f->hv, domid), 0);
	f->deaths.clock = &r.done;
	assert_int_equal(CALL(hv_shutdown(f->hv, domid, done_cb, &r)), 0);
	wait_done(f, &r, 1);
	assert_int_equal(r.result, HV_OK);
	/* Asked, not yet gone: the guest takes its time. */
	if (run_until(f->base, &f->deaths.n, 1, SAFETY_MS) == -1)
		fail_msg("no death report");
	assert_int_equal(f->deaths.domid[0], domid);
	assert_int_equal(f->deaths.why[0], HV_DEATH_POWEROFF);
	assert_int_equal(f->deaths.order[0], 1);	/* after the shutdown's result */
	assert_int_equal(state_of(f, domid), HV_DOM_SHUTDOWN);
	assert_int_equal(free_mib(f), before - 512);	/* held until destroyed */
	/* A shut-down domain cannot be saved. */
	{
		char	 img[128];

		snprintf(img, sizeof(img), "%s/s.img", f->dir);
		assert_int_equal(CALL(hv_save(f->hv, domid, img, done_cb, &r)), 0);
		wait_done(f, &r, 2);
		assert_int_equal(r.result, HV_FAILED);
		assert_int_equal(access(img, F_OK), -1);
	}
	assert_int_equal(run_op(f, hv_destroy, domid), HV_OK);
	run_for(f->base, 20);
	assert_int_equal(f->deaths.n, 1);	/* once, not again as gone */
	assert_false(exists(f, domid));
	assert_int_equal(free_mib(f), before);
}

static void
test_shutdown_paused(void **state)
{
	struct fx *f = *state;
	uint32_t domid;

	domid = create(f, "sp", 256, true);
	assert_int_equal(hv_watch_domain(f->hv, domid), 0);
	assert_int_equal(run_op(f, hv_shutdown, domid), HV_OK);
	/* A paused guest cannot answer: it stays, as under Xen. */
	run_for(f->base, 60);
	assert_int_equal(f->deaths.n, 0);
	assert_int_equal(state_of(f, domid), HV_DOM_PAUSED);
	assert_int_equal(hv_sim_pending(f->hv), 0);
	/* Once it runs it sees the request. */
	assert_int_equal(run_op(f, hv_unpause, domid), HV_OK);
	if (run_until(f->base, &f->deaths.n, 1, SAFETY_MS) == -1)
		fail_msg("no death report after unpause");
	assert_int_equal(f->deaths.why[0], HV_DEATH_POWEROFF);
	assert_int_equal(state_of(f, domid), HV_DOM_SHUTDOWN);

	/* Pausing again before the guest answers also holds the answer. */
	domid = create(f, "sp2", 256, false);
	assert_int_equal(hv_watch_domain(f->hv, domid), 0);
	hv_sim_set_shutdown_delay(f->hv, 40);
	assert_int_equal(run_op(f, hv_shutdown, domid), HV_OK);
	assert_int_equal(run_op(f, hv_pause, domid), HV_OK);
	run_for(f->base, 80);
	assert_int_equal(f->deaths.n, 1);
	assert_int_equal(state_of(f, domid), HV_DOM_PAUSED);
}

static void
test_destroy_reports_gone(void **state)
{
	struct fx *f = *state;
	struct rec ra = { 0 }, rb = { 0 };
	uint32_t a, b;

	a = create(f, "w", 256, false);
	b = create(f, "u", 256, false);
	assert_int_equal(hv_watch_domain(f->hv, a), 0);
	f->deaths.clock = &ra.done;
	assert_int_equal(CALL(hv_destroy(f->hv, a, done_cb, &ra)), 0);
	assert_int_equal(CALL(hv_destroy(f->hv, b, done_cb, &rb)), 0);
	wait_done(f, &ra, 1);
	wait_done(f, &rb, 1);
	assert_int_equal(ra.result, HV_OK);
	assert_int_equal(rb.result, HV_OK);
	run_for(f->base, 10);
	assert_int_equal(f->deaths.n, 1);	/* b was not watched */
	assert_int_equal(f->deaths.domid[0], a);
	assert_int_equal(f->deaths.why[0], HV_DEATH_GONE);
	assert_int_equal(f->deaths.order[0], 0);	/* gone, then the result */
	assert_false(exists(f, a));
	assert_false(exists(f, b));
	assert_int_equal(ndomains(f), 1);
}

static void
test_kill(void **state)
{
	struct fx *f = *state;
	uint32_t a, b, c, d;

	a = create(f, "a", 128, false);
	b = create(f, "b", 128, false);
	c = create(f, "c", 128, false);
	d = create(f, "d", 128, false);
	assert_int_equal(hv_watch_domain(f->hv, a), 0);
	assert_int_equal(hv_watch_domain(f->hv, b), 0);
	assert_int_equal(hv_watch_domain(f->hv, d), 0);

	/* Reported from the loop, never inside the call. */
	assert_int_equal(CALL(hv_sim_kill(f->hv, a, HV_DEATH_CRASH)), 0);
	assert_int_equal(f->deaths.n, 0);
	assert_int_equal(state_of(f, a), HV_DOM_SHUTDOWN);
	assert_int_equal(hv_sim_kill(f->hv, a, HV_DEATH_REBOOT), -1);
	assert_int_equal(CALL(hv_sim_kill(f->hv, b, HV_DEATH_GONE)), 0);
	assert_false(exists(f, b));
	if (run_until(f->base, &f->deaths.n, 2, SAFETY_MS) == -1)
		fail_msg("no death reports");
	assert_int_equal(f->deaths.domid[0], a);
	assert_int_equal(f->deaths.why[0], HV_DEATH_CRASH);
	assert_int_equal(f->deaths.domid[1], b);
	assert_int_equal(f->deaths.why[1], HV_DEATH_GONE);
	/* Once: destroying the crashed domain reports nothing more. */
	assert_int_equal(run_op(f, hv_destroy, a), HV_OK);
	run_for(f->base, 10);
	assert_int_equal(f->deaths.n, 2);

	/* Adopted after it died: reported when watched. */
	assert_int_equal(hv_sim_kill(f->hv, c, HV_DEATH_WATCHDOG), 0);
	run_for(f->base, 10);
	assert_int_equal(f->deaths.n, 2);
	assert_int_equal(hv_watch_domain(f->hv, c), 0);
	if (run_until(f->base, &f->deaths.n, 3, SAFETY_MS) == -1)
		fail_msg("no report for an adopted dead domain");
	assert_int_equal(f->deaths.domid[2], c);
	assert_int_equal(f->deaths.why[2], HV_DEATH_WATCHDOG);

	/* Unwatched before the report is delivered: withdrawn. */
	assert_int_equal(hv_sim_kill(f->hv, d, HV_DEATH_POWEROFF), 0);
	hv_unwatch_domain(f->hv, d);
	run_for(f->base, 10);
	assert_int_equal(f->deaths.n, 3);
	assert_int_equal(hv_sim_kill(f->hv, 999, HV_DEATH_CRASH), -1);
	assert_int_equal(errno, ENOENT);
}

static void
test_unknown_domid(void **state)
{
	struct fx *f = *state;
	struct rec r = { 0 };
	struct hv_domain d;
	time_t	 t;
	void	*data;
	size_t	 len;
	char	 img[128];

	snprintf(img, sizeof(img), "%s/none.img", f->dir);
#define NOENT(x) do {							\
	errno = 0;							\
	assert_int_equal(CALL(x), -1);					\
	assert_int_equal(errno, ENOENT);				\
} while (0)
	NOENT(hv_pause(f->hv, 42, done_cb, &r));
	NOENT(hv_unpause(f->hv, 42, done_cb, &r));
	NOENT(hv_shutdown(f->hv, 42, done_cb, &r));
	NOENT(hv_destroy(f->hv, 42, done_cb, &r));
	NOENT(hv_save(f->hv, 42, img, done_cb, &r));
	NOENT(hv_set_vcpus(f->hv, 42, 1, done_cb, &r));
	NOENT(hv_set_memory(f->hv, 42, 128, done_cb, &r));
	NOENT(hv_domain_info(f->hv, 42, &d));
	NOENT(hv_domain_start_time(f->hv, 42, &t));
	NOENT(hv_userdata_store(f->hv, 42, "x", 1));
	NOENT(hv_userdata_retrieve(f->hv, 42, &data, &len));
	NOENT(hv_watch_domain(f->hv, 42));
	NOENT(hv_sim_set_load(f->hv, 42, 1.0));
#undef NOENT
	hv_unwatch_domain(f->hv, 42);
	assert_int_equal(access(img, F_OK), -1);
	assert_int_equal(hv_sim_pending(f->hv), 0);
	run_for(f->base, 20);
	assert_int_equal(r.done, 0);
}

/* Each operation, made to fail (FAILED) and to lose its domain (LOST). */
static void
inject_one(struct fx *f, enum hv_sim_op kind, dom_op op, bool paused)
{
	struct hv_domain before, after;
	struct rec r = { 0 };
	uint32_t domid;
	uint64_t mem;
	char	 name[32], img[128];
	int	 n = f->deaths.n;

	snprintf(name, sizeof(name), "inj-%s", hv_sim_op_names[kind]);
	snprintf(img, sizeof(img), "%s/%s.img", f->dir, name);
	domid = create(f, name, 512, paused);
	assert_int_equal(hv_watch_domain(f->hv, domid), 0);
	assert_int_equal(hv_domain_info(f->hv, domid, &before), 0);
	mem = free_mib(f);

	assert_int_equal(hv_sim_fail_next(f->hv, kind, HV_FAILED), 0);
	if (kind == HV_SIM_OP_SAVE)
		assert_int_equal(CALL(hv_save(f->hv, domid, img, done_cb, &r)), 0);
	else
		assert_int_equal(CALL(op(f->hv, domid, done_cb, &r)), 0);
	wait_done(f, &r, 1);
	assert_int_equal(r.result, HV_FAILED);
	assert_int_equal(r.domid, domid);
	assert_int_equal(hv_domain_info(f->hv, domid, &after), 0);
	assert_int_equal(after.state, before.state);
	assert_int_equal(after.mem_kib, before.mem_kib);
	assert_int_equal(after.vcpus, before.vcpus);
	assert_int_equal(free_mib(f), mem);
	assert_int_equal(access(img, F_OK), -1);

	assert_int_equal(hv_sim_fail_next(f->hv, kind, HV_LOST), 0);
	if (kind == HV_SIM_OP_SAVE)
		assert_int_equal(CALL(hv_save(f->hv, domid, img, done_cb, &r)), 0);
	else
		assert_int_equal(CALL(op(f->hv, domid, done_cb, &r)), 0);
	wait_done(f, &r, 2);
	assert_int_equal(r.result, HV_LOST);
	assert_int_equal(r.domid, domid);
	assert_false(exists(f, domid));
	assert_int_equal(free_mib(f), mem + 512);
	assert_int_equal(access(img, F_OK), -1);
	/* The watcher hears the loss too, after the result. */
	if (run_until(f->base, &f->deaths.n, n + 1, SAFETY_MS) == -1)
		fail_msg("%s: no death report after a loss", hv_sim_op_names[kind]);
	assert_int_equal(f->deaths.domid[n], domid);
	assert_int_equal(f->deaths.why[n], HV_DEATH_GONE);
	f->deaths.n = 0;

	/* Each injection is used once. */
	domid = create(f, name, 512, paused);
	if (kind == HV_SIM_OP_SAVE)
		assert_int_equal(CALL(hv_save(f->hv, domid, img, done_cb, &r)), 0);
	else
		assert_int_equal(CALL(op(f->hv, domid, done_cb, &r)), 0);
	wait_done(f, &r, 3);
	assert_int_equal(r.result, HV_OK);
	if (exists(f, domid))
		assert_int_equal(run_op(f, hv_destroy, domid), HV_OK);
	unlink(img);
}

static int
save_stub(struct hv *hv, uint32_t domid, hv_done_cb cb, void *arg)
{
	(void)hv;
	(void)domid;
	(void)cb;
	(void)arg;
	return -1;	/* inject_one calls hv_save itself */
}

static void
test_inject(void **state)
{
	struct fx *f = *state;
	struct vm_spec s;
	struct rec r = { 0 };
	uint64_t mem;

	inject_one(f, HV_SIM_OP_PAUSE, hv_pause, false);
	inject_one(f, HV_SIM_OP_UNPAUSE, hv_unpause, true);
	inject_one(f, HV_SIM_OP_SHUTDOWN, hv_shutdown, false);
	inject_one(f, HV_SIM_OP_DESTROY, hv_destroy, false);
	inject_one(f, HV_SIM_OP_SET_VCPUS, vcpus2, false);
	inject_one(f, HV_SIM_OP_SET_MEMORY, mem768_op, false);
	inject_one(f, HV_SIM_OP_SAVE, save_stub, false);

	/* Builds: FAILED leaves nothing and names no domain; LOST names it. */
	mem = free_mib(f);
	spec_init(&s, "build", 512);
	assert_int_equal(hv_sim_fail_next(f->hv, HV_SIM_OP_CREATE, HV_FAILED), 0);
	assert_int_equal(CALL(hv_create(f->hv, &s, false, done_cb, &r)), 0);
	wait_done(f, &r, 1);
	assert_int_equal(r.result, HV_FAILED);
	assert_int_equal(r.domid, HV_SIM_DOMID_INVALID);
	assert_int_equal(ndomains(f), 1);
	assert_int_equal(free_mib(f), mem);
	assert_int_equal(hv_sim_fail_next(f->hv, HV_SIM_OP_CREATE, HV_LOST), 0);
	assert_int_equal(CALL(hv_create(f->hv, &s, false, done_cb, &r)), 0);
	wait_done(f, &r, 2);
	assert_int_equal(r.result, HV_LOST);
	assert_true(r.domid > 0 && r.domid < HV_SIM_DOMID_INVALID);
	assert_false(exists(f, r.domid));
	assert_int_equal(free_mib(f), mem);
	/* HV_OK withdraws an injection not yet used. */
	assert_int_equal(hv_sim_fail_next(f->hv, HV_SIM_OP_CREATE, HV_LOST), 0);
	assert_int_equal(hv_sim_fail_next(f->hv, HV_SIM_OP_CREATE, HV_OK), 0);
	(void)create(f, "build", 512, false);
	assert_int_equal(hv_sim_fail_next(f->hv, HV_SIM_OP__COUNT, HV_LOST), -1);
}

static void
test_set_vcpus_memory(void **state)
{
	struct fx *f = *state;
	struct rec r = { 0 };
	struct hv_domain d;
	uint32_t domid, big;
	uint64_t mem;

	domid = create(f, "vm", 512, false);
	assert_int_equal(run_op(f, vcpus2, domid), HV_OK);
	assert_int_equal(hv_domain_info(f->hv, domid, &d), 0);
	assert_int_equal(d.vcpus, 2);
	/* Beyond max_vcpus, or none: refused at once, as libxl does. */
	assert_int_equal(hv_set_vcpus(f->hv, domid, 3, done_cb, &r), -1);
	assert_int_equal(errno, EINVAL);
	assert_int_equal(hv_set_vcpus(f->hv, domid, 0, done_cb, &r), -1);

	mem = free_mib(f);
	assert_int_equal(run_op(f, mem768_op, domid), HV_OK);
	assert_int_equal(hv_domain_info(f->hv, domid, &d), 0);
	assert_int_equal(d.mem_kib, 768 * MIB_KIB);
	assert_int_equal(free_mib(f), mem - 256);
	assert_int_equal(hv_set_memory(f->hv, domid, 1025, done_cb, &r), -1);
	assert_int_equal(errno, EINVAL);
	assert_int_equal(hv_set_memory(f->hv, domid, 0, done_cb, &r), -1);
	assert_int_equal(CALL(hv_set_memory(f->hv, domid, 256, done_cb, &r)), 0);
	wait_done(f, &r, 1);
	assert_int_equal(r.result, HV_OK);
	assert_int_equal(free_mib(f), mem + 256);

	/* Growth beyond the free memory. */
	big = create(f, "big", free_mib(f) - 100, false);
	assert_int_equal(free_mib(f), 100);
	assert_int_equal(hv_set_memory(f->hv, domid, 512, done_cb, &r), -1);
	assert_int_equal(errno, ENOMEM);
	assert_int_equal(CALL(hv_set_memory(f->hv, domid, 356, done_cb, &r)), 0);
	wait_done(f, &r, 2);
	assert_int_equal(r.result, HV_OK);
	assert_int_equal(free_mib(f), 0);
	assert_int_equal(run_op(f, hv_destroy, big), HV_OK);
	run_for(f->base, 10);
	assert_int_equal(r.done, 2);
}

static void
test_memory_accounting(void **state)
{
	struct fx *f = *state;
	struct vm_spec s;
	struct rec r = { 0 }, rc = { 0 }, rd = { 0 };
	uint64_t m0 = free_mib(f);
	uint32_t a, b;
	char	 img[128];

	a = create(f, "a", 1000, false);
	assert_int_equal(free_mib(f), m0 - 1000);
	b = create(f, "b", 2000, true);
	assert_int_equal(free_mib(f), m0 - 3000);
	/* A build claims its memory at once: a second cannot take it. */
	spec_init(&s, "c", m0 - 3000);
	assert_int_equal(CALL(hv_create(f->hv, &s, false, done_cb, &rc)), 0);
	spec_init(&s, "d", 1);
	assert_int_equal(CALL(hv_create(f->hv, &s, false, done_cb, &rd)), 0);
	wait_done(f, &rc, 1);
	wait_done(f, &rd, 1);
	assert_int_equal(rc.result, HV_OK);
	assert_int_equal(rd.result, HV_FAILED);
	assert_int_equal(free_mib(f), 0);
	assert_int_equal(run_op(f, hv_destroy, a), HV_OK);
	assert_int_equal(free_mib(f), 1000);
	snprintf(img, sizeof(img), "%s/b.img", f->dir);
	assert_int_equal(CALL(hv_save(f->hv, b, img, done_cb, &r)), 0);
	wait_done(f, &r, 1);
	assert_int_equal(r.result, HV_OK);
	assert_int_equal(free_mib(f), 3000);
}

static void
test_cpu_time(void **state)
{
	struct fx *f = *state;
	uint32_t a, b;
	uint64_t c0, i0;

	hv_sim_set_clock(f->hv, HV_SIM_CLOCK_MANUAL);
	a = create(f, "a", 256, false);
	assert_int_equal(hv_sim_set_load(f->hv, a, 0.5), 0);
	c0 = cpu_ns(f, a);
	i0 = idle_ns(f);
	hv_sim_advance(f->hv, SEC);
	assert_int_equal(cpu_ns(f, a) - c0, SEC / 2);
	assert_int_equal(idle_ns(f) - i0, 4 * SEC - SEC / 2);

	/* Paused: no CPU time, all idle. */
	assert_int_equal(run_op(f, hv_pause, a), HV_OK);
	c0 = cpu_ns(f, a);
	i0 = idle_ns(f);
	hv_sim_advance(f->hv, SEC);
	assert_int_equal(cpu_ns(f, a), c0);
	assert_int_equal(idle_ns(f) - i0, 4 * SEC);
	assert_int_equal(run_op(f, hv_unpause, a), HV_OK);

	/* A load beyond the online vCPUs is capped by them. */
	assert_int_equal(hv_sim_set_load(f->hv, a, 3.0), 0);
	c0 = cpu_ns(f, a);
	hv_sim_advance(f->hv, SEC);
	assert_int_equal(cpu_ns(f, a) - c0, SEC);
	assert_int_equal(run_op(f, vcpus2, a), HV_OK);
	c0 = cpu_ns(f, a);
	hv_sim_advance(f->hv, SEC);
	assert_int_equal(cpu_ns(f, a) - c0, 2 * SEC);

	/* More asked than the host has: shared out, nothing idle. */
	b = create(f, "b", 256, false);
	assert_int_equal(run_op(f, vcpus2, b), HV_OK);
	assert_int_equal(hv_sim_set_load(f->hv, b, 2.0), 0);
	assert_int_equal(hv_sim_set_load(f->hv, 0, 4.0), 0);	/* dom0 */
	c0 = cpu_ns(f, a);
	i0 = idle_ns(f);
	hv_sim_advance(f->hv, SEC);
	assert_int_equal(cpu_ns(f, a) - c0, SEC);	/* 2 of 8 asked, on 4 */
	assert_int_equal(idle_ns(f), i0);
	assert_int_equal(hv_sim_set_load(f->hv, 0, 0), 0);

	/* Shut down: nothing more. */
	assert_int_equal(hv_sim_kill(f->hv, b, HV_DEATH_CRASH), 0);
	c0 = cpu_ns(f, b);
	hv_sim_advance(f->hv, SEC);
	assert_int_equal(cpu_ns(f, b), c0);
	assert_int_equal(hv_sim_set_load(f->hv, a, -1), -1);

	/* Back on the loop's clock, time keeps moving on its own. */
	hv_sim_set_clock(f->hv, HV_SIM_CLOCK_LOOP);
	c0 = cpu_ns(f, a);
	run_for(f->base, 30);
	assert_true(cpu_ns(f, a) - c0 >= 2 * 25 * UINT64_C(1000000));
}

static void
test_start_time(void **state)
{
	struct fx *f = *state;
	time_t	 t0, t;
	uint32_t a;

	hv_sim_set_clock(f->hv, HV_SIM_CLOCK_MANUAL);
	assert_int_equal(hv_domain_start_time(f->hv, 0, &t0), 0);
	hv_sim_advance(f->hv, 10 * SEC);
	assert_true(hv_sim_now(f->hv) >= 10 * SEC);
	a = create(f, "late", 128, false);
	assert_int_equal(hv_domain_start_time(f->hv, a, &t), 0);
	assert_int_equal(t - t0, 10);
}

static void
test_save_restore(void **state)
{
	struct fx *f = *state;
	struct vm_spec s;
	struct rec r = { 0 };
	struct hv_domain before, after;
	char	 img[128], partial[160], hdr[64];
	uint32_t domid;
	uint64_t mem;
	FILE	*fp;

	snprintf(img, sizeof(img), "%s/cvm-1.img", f->dir);
	snprintf(partial, sizeof(partial), "%s.partial", img);
	mem = free_mib(f);
	domid = create(f, "cvm-1", 512, false);
	assert_int_equal(run_op(f, hv_pause, domid), HV_OK);	/* a CVM idles */
	assert_int_equal(hv_domain_info(f->hv, domid, &before), 0);
	assert_int_equal(hv_watch_domain(f->hv, domid), 0);
	f->deaths.clock = &r.done;

	assert_int_equal(CALL(hv_save(f->hv, domid, img, done_cb, &r)), 0);
	assert_int_equal(access(partial, F_OK), 0);	/* under way */
	wait_done(f, &r, 1);
	assert_int_equal(r.result, HV_OK);
	assert_int_equal(r.domid, domid);
	assert_false(exists(f, domid));
	assert_int_equal(free_mib(f), mem);
	assert_int_equal(access(partial, F_OK), -1);
	/* Gone, reported before the result, as after xl save. */
	assert_int_equal(f->deaths.n, 1);
	assert_int_equal(f->deaths.why[0], HV_DEATH_GONE);
	assert_int_equal(f->deaths.order[0], 0);

	fp = fopen(img, "r");
	assert_non_null(fp);
	assert_non_null(fgets(hdr, sizeof(hdr), fp));
	fclose(fp);
	assert_memory_equal(hdr, "XVDS-SIM-IMAGE 1 ", 17);

	spec_init(&s, "cvm-1", 512);
	assert_int_equal(CALL(hv_restore(f->hv, &s, img, false, done_cb, &r)), 0);
	assert_int_equal(r.done, 1);
	wait_done(f, &r, 2);
	assert_int_equal(r.result, HV_OK);
	assert_true(r.domid > domid);
	assert_int_equal(hv_domain_info(f->hv, r.domid, &after), 0);
	assert_string_equal(after.name, "cvm-1");
	assert_string_equal(after.uuid, before.uuid);
	assert_int_equal(after.state, HV_DOM_BLOCKED);
	assert_int_equal(after.cpu_time_ns, 0);
	assert_int_equal(free_mib(f), mem - 512);

	/* The same name twice is refused, as for create. */
	assert_int_equal(CALL(hv_restore(f->hv, &s, img, true, done_cb, &r)), 0);
	wait_done(f, &r, 3);
	assert_int_equal(r.result, HV_FAILED);

	/* Restored paused, on request. */
	assert_int_equal(run_op(f, hv_destroy, after.domid), HV_OK);
	assert_int_equal(CALL(hv_restore(f->hv, &s, img, true, done_cb, &r)), 0);
	wait_done(f, &r, 4);
	assert_int_equal(r.result, HV_OK);
	assert_int_equal(state_of(f, r.domid), HV_DOM_PAUSED);
}

static void
write_file(const char *path, const char *data, size_t len)
{
	FILE	*fp = fopen(path, "w");

	assert_non_null(fp);
	assert_int_equal(fwrite(data, 1, len, fp), len);
	assert_int_equal(fclose(fp), 0);
}

static char *
read_file(const char *path, size_t *len_r)
{
	FILE	*fp = fopen(path, "r");
	char	*buf = calloc(1, 65536);

	assert_non_null(fp);
	assert_non_null(buf);
	*len_r = fread(buf, 1, 65535, fp);
	fclose(fp);
	return buf;
}

static void
restore_fails(struct fx *f, const char *name, const char *img)
{
	struct vm_spec s;
	struct rec r = { 0 };
	uint64_t mem = free_mib(f);
	size_t	 n = ndomains(f);

	spec_init(&s, name, 512);
	assert_int_equal(CALL(hv_restore(f->hv, &s, img, false, done_cb, &r)), 0);
	wait_done(f, &r, 1);
	assert_int_equal(r.result, HV_FAILED);
	assert_int_equal(r.domid, HV_SIM_DOMID_INVALID);
	assert_int_equal(ndomains(f), n);
	assert_int_equal(free_mib(f), mem);
}

static void
test_restore_bad_image(void **state)
{
	struct fx *f = *state;
	struct vm_spec s;
	struct rec r = { 0 };
	char	 img[128], bad[128], *buf;
	uint32_t domid;
	size_t	 len;

	/* Missing: refused at once, as hv/libxl.c cannot open it either. */
	snprintf(img, sizeof(img), "%s/missing.img", f->dir);
	spec_init(&s, "m", 512);
	errno = 0;
	assert_int_equal(hv_restore(f->hv, &s, img, false, done_cb, &r), -1);
	assert_int_equal(errno, ENOENT);
	/* Saving where there is no directory: refused at once too. */
	domid = create(f, "good", 512, false);
	snprintf(bad, sizeof(bad), "%s/no/such/dir.img", f->dir);
	assert_int_equal(hv_save(f->hv, domid, bad, done_cb, &r), -1);
	run_for(f->base, 10);
	assert_int_equal(r.done, 0);

	snprintf(img, sizeof(img), "%s/good.img", f->dir);
	assert_int_equal(CALL(hv_save(f->hv, domid, img, done_cb, &r)), 0);
	wait_done(f, &r, 1);
	assert_int_equal(r.result, HV_OK);
	buf = read_file(img, &len);
	assert_true(len > 40);

	/* Another domain's image. */
	restore_fails(f, "other", img);
	/* One byte changed in the body. */
	snprintf(bad, sizeof(bad), "%s/flip.img", f->dir);
	buf[len - 5] ^= 0x20;
	write_file(bad, buf, len);
	restore_fails(f, "good", bad);
	buf[len - 5] ^= 0x20;
	/* Truncated. */
	snprintf(bad, sizeof(bad), "%s/short.img", f->dir);
	write_file(bad, buf, len - 10);
	restore_fails(f, "good", bad);
	/* Trailing bytes. */
	snprintf(bad, sizeof(bad), "%s/long.img", f->dir);
	write_file(bad, buf, len);
	{
		FILE	*fp = fopen(bad, "a");

		assert_non_null(fp);
		fputs("more", fp);
		fclose(fp);
	}
	restore_fails(f, "good", bad);
	/* Not an image at all; empty. */
	snprintf(bad, sizeof(bad), "%s/junk.img", f->dir);
	write_file(bad, "hello\n", 6);
	restore_fails(f, "good", bad);
	write_file(bad, "", 0);
	restore_fails(f, "good", bad);
	/* A header promising a huge body. */
	write_file(bad, "XVDS-SIM-IMAGE 1 99999999999 0\n", 31);
	restore_fails(f, "good", bad);
	free(buf);

	/* The good one still restores. */
	spec_init(&s, "good", 512);
	assert_int_equal(CALL(hv_restore(f->hv, &s, img, false, done_cb, &r)), 0);
	wait_done(f, &r, 2);
	assert_int_equal(r.result, HV_OK);
}

static void
test_two_hosts(void **state)
{
	struct fx *f = *state;
	struct hv_callbacks cbs;
	struct deaths deaths2;
	struct hv *hv2;
	struct hv_host h;
	struct vm_spec s;
	struct rec r = { 0 };
	uint32_t a;

	memset(&deaths2, 0, sizeof(deaths2));
	cbs.domain_died = died_cb;
	cbs.arg = &deaths2;
	hv2 = hv_open(f->base, &cbs);
	assert_non_null(hv2);
	fast(hv2);
	assert_int_equal(hv_sim_set_host(hv2, 2, 4096, 512), 0);

	a = create(f, "same", 1024, false);
	spec_init(&s, "same", 1024);	/* a name is per host */
	assert_int_equal(hv_sim_fail_next(f->hv, HV_SIM_OP_CREATE, HV_FAILED), 0);
	assert_int_equal(CALL(hv_create(hv2, &s, false, done_cb, &r)), 0);
	wait_done(f, &r, 1);
	assert_int_equal(r.result, HV_OK);
	assert_int_equal(r.domid, a);	/* each host counts its own */
	assert_int_equal(hv_host_info(hv2, &h), 0);
	assert_int_equal(h.cpus, 2);
	assert_int_equal(h.free_mib, 4096 - 512 - 1024);
	assert_int_equal(free_mib(f), 16384 - 1024 - 1024);

	assert_int_equal(hv_watch_domain(f->hv, a), 0);
	assert_int_equal(hv_watch_domain(hv2, r.domid), 0);
	assert_int_equal(hv_sim_kill(hv2, r.domid, HV_DEATH_CRASH), 0);
	if (run_until(f->base, &deaths2.n, 1, SAFETY_MS) == -1)
		fail_msg("no report from the second host");
	run_for(f->base, 10);
	assert_int_equal(f->deaths.n, 0);
	assert_int_equal(state_of(f, a), HV_DOM_BLOCKED);
	hv_close(hv2);
	/* The first host's injection is still waiting for it. */
	spec_init(&s, "after", 128);
	assert_int_equal(CALL(hv_create(f->hv, &s, false, done_cb, &r)), 0);
	wait_done(f, &r, 2);
	assert_int_equal(r.result, HV_FAILED);
}

static void
test_busy(void **state)
{
	struct fx *f = *state;
	struct vm_spec s;
	struct rec rc = { 0 }, rd = { 0 };
	uint32_t domid;

	hv_sim_set_latency(f->hv, HV_SIM_OP_CREATE, 50);
	spec_init(&s, "slow", 256);
	assert_int_equal(CALL(hv_create(f->hv, &s, false, done_cb, &rc)), 0);
	domid = 1;
	assert_int_equal(hv_pause(f->hv, domid, done_cb, &rd), -1);
	assert_int_equal(errno, EBUSY);
	/* Destroy cuts the build short: the build is lost, then destroyed. */
	assert_int_equal(CALL(hv_destroy(f->hv, domid, done_cb, &rd)), 0);
	assert_int_equal(hv_destroy(f->hv, domid, done_cb, &rd), -1);
	assert_int_equal(errno, EBUSY);
	wait_done(f, &rd, 1);
	assert_int_equal(rc.done, 1);
	assert_int_equal(rc.result, HV_LOST);
	assert_int_equal(rc.domid, domid);
	assert_int_equal(rd.result, HV_OK);
	assert_false(exists(f, domid));
	run_for(f->base, 80);
	assert_int_equal(rc.done, 1);
	assert_int_equal(hv_sim_pending(f->hv), 0);
}

static void
test_zero_latency(void **state)
{
	struct fx *f = *state;
	struct rec r = { 0 };
	uint32_t domid;

	domid = create(f, "z", 128, false);
	assert_int_equal(hv_sim_set_latency(f->hv, HV_SIM_OP_PAUSE, 0), 0);
	assert_int_equal(CALL(hv_pause(f->hv, domid, done_cb, &r)), 0);
	assert_int_equal(r.done, 0);
	assert_int_equal(hv_sim_pending(f->hv), 1);
	wait_done(f, &r, 1);
	assert_int_equal(r.result, HV_OK);
	assert_int_equal(hv_sim_pending(f->hv), 0);
	assert_int_equal(hv_sim_set_latency(f->hv, HV_SIM_OP__COUNT, 0), -1);
}

static void
test_default_latency(void **state)
{
	struct fx *f = *state;
	struct hv_callbacks cbs = { NULL, NULL };
	struct hv *hv;
	struct vm_spec s;
	struct rec r = { 0 };
	struct timespec t0, t1;
	int64_t	 ms;

	hv = hv_open(f->base, &cbs);
	assert_non_null(hv);
	spec_init(&s, "d", 128);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	assert_int_equal(hv_create(hv, &s, false, done_cb, &r), 0);
	wait_done(f, &r, 1);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	ms = (t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000;
	assert_true(ms >= 45);
	hv_close(hv);

	/* Without a loop, only the synchronous calls work. */
	hv = hv_open(NULL, NULL);
	assert_non_null(hv);
	assert_int_equal(ndomains(&(struct fx){ .hv = hv }), 1);
	assert_int_equal(hv_create(hv, &s, false, done_cb, &r), -1);
	assert_int_equal(hv_watch_domain(hv, 0), -1);
	hv_close(hv);
}

static void
test_close_pending(void **state)
{
	struct fx *f = *state;
	struct vm_spec s;
	struct rec r = { 0 };
	uint32_t a, b, c;
	char	 img[128], partial[160];

	a = create(f, "a", 128, false);
	b = create(f, "b", 128, false);
	c = create(f, "c", 128, false);
	assert_int_equal(hv_watch_domain(f->hv, a), 0);
	assert_int_equal(hv_watch_domain(f->hv, b), 0);
	fast(f->hv);
	hv_sim_set_latency(f->hv, HV_SIM_OP_SAVE, 0);
	snprintf(img, sizeof(img), "%s/c.img", f->dir);
	snprintf(partial, sizeof(partial), "%s.partial", img);

	spec_init(&s, "d", 128);
	assert_int_equal(hv_create(f->hv, &s, false, done_cb, &r), 0);
	assert_int_equal(hv_pause(f->hv, a, done_cb, &r), 0);
	assert_int_equal(hv_shutdown(f->hv, b, done_cb, &r), 0);
	assert_int_equal(hv_save(f->hv, c, img, done_cb, &r), 0);
	assert_int_equal(access(partial, F_OK), 0);
	assert_int_equal(hv_sim_kill(f->hv, b, HV_DEATH_CRASH), 0);
	assert_true(hv_sim_pending(f->hv) >= 5);
	hv_close(f->hv);
	f->hv = hv_open(f->base, NULL);	/* for teardown */
	run_for(f->base, 50);
	assert_int_equal(r.done, 0);
	assert_int_equal(f->deaths.n, 0);
	assert_int_equal(access(partial, F_OK), -1);
	assert_int_equal(access(img, F_OK), -1);
}

/* A callback may close its hv; what else was due must not follow. */
static void
close_cb(void *arg, enum hv_result result, uint32_t domid)
{
	struct fx *f = arg;

	(void)result;
	(void)domid;
	f->deaths.n += 100;	/* counts the callbacks */
	hv_close(f->hv);
	f->hv = NULL;
}

static void
test_close_in_callback(void **state)
{
	struct fx *f = *state;
	uint32_t a, b;

	a = create(f, "a", 128, false);
	b = create(f, "b", 128, false);
	hv_sim_set_latency(f->hv, HV_SIM_OP_PAUSE, 0);
	assert_int_equal(hv_pause(f->hv, a, close_cb, f), 0);
	assert_int_equal(hv_pause(f->hv, b, close_cb, f), 0);
	run_for(f->base, 30);
	assert_int_equal(f->deaths.n, 100);
	assert_null(f->hv);
	f->hv = hv_open(f->base, NULL);	/* for teardown */
}

static void
test_userdata(void **state)
{
	struct fx *f = *state;
	void	*data;
	size_t	 len;
	uint32_t a;

	a = create(f, "u", 128, false);
	assert_int_equal(hv_userdata_retrieve(f->hv, a, &data, &len), 0);
	assert_null(data);
	assert_int_equal(len, 0);
	assert_int_equal(hv_userdata_store(f->hv, a, "vm=42 pool=lab", 14), 0);
	assert_int_equal(hv_userdata_retrieve(f->hv, a, &data, &len), 0);
	assert_int_equal(len, 14);
	assert_memory_equal(data, "vm=42 pool=lab", 14);
	free(data);
	assert_int_equal(hv_userdata_store(f->hv, a, "x", 1), 0);
	assert_int_equal(hv_userdata_retrieve(f->hv, a, &data, &len), 0);
	assert_int_equal(len, 1);
	free(data);
	assert_int_equal(hv_userdata_store(f->hv, a, NULL, 0), 0);
	assert_int_equal(hv_userdata_retrieve(f->hv, a, &data, &len), 0);
	assert_null(data);
	/* Left on a domain that is destroyed: freed with it (LSan checks). */
	assert_int_equal(hv_userdata_store(f->hv, a, "y", 1), 0);
	assert_int_equal(run_op(f, hv_destroy, a), HV_OK);
}

static void
test_spec_to_json(void **state)
{
	struct fx *f = *state;
	struct vm_spec s;
	json_t	*j;
	json_error_t err;
	const char *fmt, *name, *type, *path, *mac;
	json_int_t mem;
	char	*text;

	spec_init(&s, "desk-9", 2048);
	text = hv_spec_to_json(f->hv, &s);
	assert_non_null(text);
	j = json_loads(text, 0, &err);
	assert_non_null(j);
	assert_int_equal(json_unpack(j, "{s:s, s:s, s:s, s:I, s:[{s:s}], s:[{s:s}]}",
	    "format", &fmt, "name", &name, "type", &type, "memory_mib", &mem,
	    "disks", "path", &path, "nics", "mac", &mac), 0);
	assert_string_equal(fmt, "xvds-sim");
	assert_string_equal(name, "desk-9");
	assert_string_equal(type, "pvh");
	assert_int_equal(mem, 2048);
	assert_string_equal(path, "/vm/disks/desk-9.qcow2");
	assert_string_equal(mac, "00:16:3e:00:00:01");
	assert_null(json_object_get(j, "bootloader"));	/* unset: left out */
	json_decref(j);
	free(text);
	s.vcpus = 0;
	assert_null(hv_spec_to_json(f->hv, &s));
}

/* Migration: two hosts on one loop, a socket between them. */

struct pair {
	struct fx	 dst;		/* the receiving host, on f's loop */
	int		 sv[2];		/* [0] the sender's end, [1] the receiver's */
};

static void
pair_open(struct fx *f, struct pair *p)
{
	memset(p, 0, sizeof(*p));
	p->dst.base = f->base;
	p->dst.hv = hv_open(f->base, NULL);
	assert_non_null(p->dst.hv);
	fast(p->dst.hv);
	/* Non-blocking, as the daemon's are: the simulator must wait its turn. */
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0,
	    p->sv), 0);
}

static void
pair_close(struct pair *p)
{
	hv_close(p->dst.hv);
	if (p->sv[0] != -1)
		close(p->sv[0]);
	if (p->sv[1] != -1)
		close(p->sv[1]);
}

/* Starts sending domid over p. */
static void
send_start(struct fx *f, struct pair *p, uint32_t domid, bool live,
    struct rec *r)
{
	assert_int_equal(CALL(hv_migrate_send(f->hv, domid, p->sv[0], live,
	    done_cb, r)), 0);
}

/* Starts receiving a guest of that name and memory over p. */
static void
receive_start(struct pair *p, const char *name, uint64_t mib, struct rec *r)
{
	struct vm_spec s;

	spec_init(&s, name, mib);
	assert_int_equal(CALL(hv_migrate_receive(p->dst.hv, &s, p->sv[1],
	    done_cb, r)), 0);
}

/* Whatever is waiting on fd, without waiting for more. */
static size_t
drain(int fd, char *buf, size_t size)
{
	ssize_t	 n;
	size_t	 got = 0;

	while (got < size && (n = recv(fd, buf + got, size - got,
	    MSG_DONTWAIT)) > 0)
		got += (size_t)n;
	return got;
}

/* A whole stream as a sender writes it; its domain is left suspended. */
static size_t
capture(struct fx *f, const char *name, char *buf, size_t size)
{
	struct rec r = { 0 };
	uint32_t domid;
	size_t	 len;
	int	 sv[2];

	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	domid = create(f, name, 256, false);
	assert_int_equal(CALL(hv_migrate_send(f->hv, domid, sv[0], false,
	    done_cb, &r)), 0);
	wait_done(f, &r, 1);
	assert_int_equal(r.result, HV_OK);
	len = drain(sv[1], buf, size);
	assert_true(len > 0 && len < size);
	close(sv[0]);
	close(sv[1]);
	return len;
}

static void
test_migrate(void **state)
{
	struct fx *f = *state;
	struct pair p;
	struct vm_spec s;
	struct hv_domain before, after, got;
	struct rec rs = { 0 }, rr = { 0 };
	uint32_t domid;
	time_t	 t;
	char	 buf[16];

	pair_open(f, &p);
	domid = create(f, "mig", 512, false);
	assert_int_equal(hv_watch_domain(f->hv, domid), 0);
	assert_int_equal(run_op(f, vcpus2, domid), HV_OK);
	assert_int_equal(hv_domain_info(f->hv, domid, &before), 0);

	/* Live: the guest runs on while its stream goes. */
	send_start(f, &p, domid, true, &rs);
	assert_int_not_equal(state_of(f, domid), HV_DOM_SHUTDOWN);
	spec_init(&s, "mig--incoming", 512);
	s.vcpus = 2;
	assert_int_equal(CALL(hv_migrate_receive(p.dst.hv, &s, p.sv[1], done_cb,
	    &rr)), 0);
	assert_int_equal(rs.done + rr.done, 0);
	wait_done(f, &rs, 1);
	wait_done(f, &rr, 1);

	/* The sender's copy: suspended, not dead, so not reported. */
	assert_int_equal(rs.result, HV_OK);
	assert_int_equal(rs.domid, domid);
	assert_int_equal(hv_domain_info(f->hv, domid, &after), 0);
	assert_int_equal(after.state, HV_DOM_SHUTDOWN);
	assert_int_equal(after.shutdown_reason, HV_DEATH_SUSPEND);
	assert_int_equal(free_mib(f), 16384 - 1024 - 512);
	run_for(f->base, 10);
	assert_int_equal(f->deaths.n, 0);

	/* The receiver's: paused, the same guest under the caller's name. */
	assert_int_equal(rr.result, HV_OK);
	assert_true(rr.domid > 0 && rr.domid < HV_SIM_DOMID_INVALID);
	assert_int_equal(hv_domain_info(p.dst.hv, rr.domid, &got), 0);
	assert_int_equal(got.state, HV_DOM_PAUSED);
	assert_string_equal(got.name, "mig--incoming");
	assert_string_equal(got.uuid, before.uuid);
	assert_int_equal(got.mem_kib, before.mem_kib);
	assert_int_equal(got.max_mem_kib, before.max_mem_kib);
	assert_int_equal(got.vcpus, before.vcpus);
	assert_int_equal(hv_domain_start_time(p.dst.hv, rr.domid, &t), 0);

	/* The socket is still the caller's, both ways. */
	assert_int_equal(write(p.sv[1], "ready", 5), 5);
	assert_int_equal(drain(p.sv[0], buf, sizeof(buf)), 5);
	assert_int_equal(write(p.sv[0], "go", 2), 2);
	assert_int_equal(drain(p.sv[1], buf, sizeof(buf)), 2);

	/* The sender lets go; the receiver takes the name and starts. */
	assert_int_equal(run_op(f, hv_destroy, domid), HV_OK);
	assert_int_equal(f->deaths.n, 1);
	assert_int_equal(f->deaths.why[0], HV_DEATH_GONE);
	assert_int_equal(CALL(hv_rename(p.dst.hv, rr.domid, "mig")), 0);
	assert_int_equal(run_op(&p.dst, hv_unpause, rr.domid), HV_OK);
	assert_int_equal(hv_domain_info(p.dst.hv, rr.domid, &got), 0);
	assert_string_equal(got.name, "mig");
	assert_int_equal(got.state, HV_DOM_BLOCKED);
	assert_int_equal(hv_sim_pending(f->hv), 0);
	assert_int_equal(hv_sim_pending(p.dst.hv), 0);
	pair_close(&p);
}

/* What the caller writes right after the stream is left for it to read. */
static void
test_migrate_self_delimiting(void **state)
{
	struct fx *f = *state;
	struct pair p;
	struct rec rs = { 0 }, rr = { 0 };
	uint32_t domid;
	char	 buf[16];

	pair_open(f, &p);
	domid = create(f, "sd", 256, false);
	send_start(f, &p, domid, false, &rs);
	/* Not live: suspended before any of it goes. */
	assert_int_equal(state_of(f, domid), HV_DOM_SHUTDOWN);
	wait_done(f, &rs, 1);
	assert_int_equal(rs.result, HV_OK);
	/* Queued behind the stream before the receiver reads any of it. */
	assert_int_equal(write(p.sv[0], "GO\n", 3), 3);
	receive_start(&p, "sd", 256, &rr);
	wait_done(f, &rr, 1);
	assert_int_equal(rr.result, HV_OK);
	assert_int_equal(drain(p.sv[1], buf, sizeof(buf)), 3);
	assert_memory_equal(buf, "GO\n", 3);
	pair_close(&p);
}

/* A stream that comes in pieces, the last one with the caller's next words. */
static void
test_migrate_pieces(void **state)
{
	struct fx *f = *state;
	struct pair p;
	struct rec rr = { 0 };
	char	 stream[8192], buf[16];
	size_t	 len, cut[] = { 1, 10, 40, 0 }, at = 0, i;

	len = capture(f, "pc", stream, sizeof(stream) - 4);
	memcpy(stream + len, "next", 4);
	cut[3] = len - 1;
	pair_open(f, &p);
	receive_start(&p, "pc", 256, &rr);
	for (i = 0; i < 4; i++) {
		assert_int_equal(write(p.sv[0], stream + at, cut[i] - at),
		    (ssize_t)(cut[i] - at));
		at = cut[i];
		run_for(f->base, 5);
		assert_int_equal(rr.done, 0);
	}
	assert_int_equal(write(p.sv[0], stream + at, len + 4 - at),
	    (ssize_t)(len + 4 - at));
	wait_done(&p.dst, &rr, 1);
	assert_int_equal(rr.result, HV_OK);
	assert_int_equal(state_of(&p.dst, rr.domid), HV_DOM_PAUSED);
	assert_int_equal(drain(p.sv[1], buf, sizeof(buf)), 4);
	assert_memory_equal(buf, "next", 4);
	pair_close(&p);
}

/* The receiver fails; the sender's guest, suspended, is resumed. */
static void
test_migrate_resume_sender(void **state)
{
	struct fx *f = *state;
	struct pair p;
	struct rec rs = { 0 }, rr = { 0 };
	uint32_t domid;
	uint64_t mem;

	pair_open(f, &p);
	domid = create(f, "back", 512, false);
	assert_int_equal(hv_watch_domain(f->hv, domid), 0);
	mem = free_mib(&p.dst);
	assert_int_equal(hv_sim_fail_next(p.dst.hv, HV_SIM_OP_MIGRATE_RECEIVE,
	    HV_FAILED), 0);
	send_start(f, &p, domid, true, &rs);
	receive_start(&p, "back--incoming", 512, &rr);
	wait_done(f, &rs, 1);
	wait_done(f, &rr, 1);
	assert_int_equal(rs.result, HV_OK);
	assert_int_equal(rr.result, HV_FAILED);
	assert_int_equal(rr.domid, HV_SIM_DOMID_INVALID);
	assert_int_equal(ndomains(&p.dst), 1);
	assert_int_equal(free_mib(&p.dst), mem);

	/* Busy no more, the sender takes its guest back. */
	assert_int_equal(state_of(f, domid), HV_DOM_SHUTDOWN);
	assert_int_equal(hv_resume(f->hv, domid), 0);
	assert_int_equal(state_of(f, domid), HV_DOM_BLOCKED);
	assert_int_equal(hv_resume(f->hv, domid), -1);
	assert_int_equal(errno, EINVAL);
	/* Its real end is still reported, once. */
	assert_int_equal(f->deaths.n, 0);
	assert_int_equal(hv_sim_kill(f->hv, domid, HV_DEATH_CRASH), 0);
	if (run_until(f->base, &f->deaths.n, 1, SAFETY_MS) == -1)
		fail_msg("no report of the resumed guest's crash");
	assert_int_equal(f->deaths.why[0], HV_DEATH_CRASH);
	pair_close(&p);
}

/* The receive fails, leaves nothing, and the host is as it was. */
static void
receive_fails(struct fx *f, const char *name, const char *data, size_t len,
    bool close_after)
{
	struct pair p;
	struct rec rr = { 0 };
	uint64_t mem;

	pair_open(f, &p);
	mem = free_mib(&p.dst);
	if (len > 0)
		assert_int_equal(write(p.sv[0], data, len), (ssize_t)len);
	if (close_after) {
		close(p.sv[0]);
		p.sv[0] = -1;
	}
	receive_start(&p, name, 256, &rr);
	wait_done(f, &rr, 1);
	assert_int_equal(rr.result, HV_FAILED);
	assert_int_equal(rr.domid, HV_SIM_DOMID_INVALID);
	assert_int_equal(ndomains(&p.dst), 1);
	assert_int_equal(free_mib(&p.dst), mem);
	assert_int_equal(hv_sim_pending(p.dst.hv), 0);
	pair_close(&p);
}

static void
test_migrate_truncated(void **state)
{
	struct fx *f = *state;
	char	 stream[8192];
	size_t	 len;

	len = capture(f, "tr", stream, sizeof(stream));
	receive_fails(f, "tr", stream, 0, true);
	receive_fails(f, "tr", stream, 5, true);
	receive_fails(f, "tr", stream, (size_t)(strchr(stream, '\n') - stream) + 1,
	    true);
	receive_fails(f, "tr", stream, len / 2, true);
	receive_fails(f, "tr", stream, len - 1, true);
}

static void
test_migrate_garbage(void **state)
{
	struct fx *f = *state;
	char	 stream[8192], hdr[300];
	const char *http = "GET / HTTP/1.1\r\nHost: x\r\n\r\n";
	size_t	 len;

	len = capture(f, "gb", stream, sizeof(stream));
	/*
	 * The peer keeps the socket open: each fails from what it sent,
	 * not from waiting for more.
	 */
	receive_fails(f, "gb-2", http, strlen(http), false);
	snprintf(hdr, sizeof(hdr), "XVDS-SIM-IMAGE 1 99999999999 %016d\n", 0);
	receive_fails(f, "gb-2", hdr, strlen(hdr), false);
	snprintf(hdr, sizeof(hdr), "XVDS-SIM-IMAGE 2 10 %016d\n", 0);
	receive_fails(f, "gb-2", hdr, strlen(hdr), false);
	snprintf(hdr, sizeof(hdr), "XVDS-SIM-IMAGE 1 -1 %016d\n", 0);
	receive_fails(f, "gb-2", hdr, strlen(hdr), false);
	memset(hdr, ' ', sizeof(hdr));
	memcpy(hdr, "XVDS-SIM-IMAGE", 14);
	receive_fails(f, "gb-2", hdr, sizeof(hdr), false);
	/* Whole, but not the spec's guest. */
	receive_fails(f, "gb-2", stream, len, false);
	receive_fails(f, "g", stream, len, false);
	receive_fails(f, "gb-", stream, len, false);
	/* Whole, but corrupt: the checksum tells. */
	stream[len - 3] ^= 0x20;
	receive_fails(f, "gb", stream, len, false);
	stream[len - 3] ^= 0x20;
	stream[len - 1] = 'x';
	receive_fails(f, "gb", stream, len, false);
}

static void
test_migrate_send_fails(void **state)
{
	struct fx *f = *state;
	struct pair p;
	struct vm_spec s;
	struct rec rs = { 0 }, rr = { 0 };
	uint32_t domid;
	int	 pfd[2];

	pair_open(f, &p);
	domid = create(f, "sf", 256, false);
	assert_int_equal(hv_watch_domain(f->hv, domid), 0);

	/* No one at the other end: an error, not SIGPIPE; the guest runs on. */
	close(p.sv[1]);
	p.sv[1] = -1;
	send_start(f, &p, domid, false, &rs);
	wait_done(f, &rs, 1);
	assert_int_equal(rs.result, HV_FAILED);
	assert_int_equal(rs.domid, domid);
	assert_int_equal(state_of(f, domid), HV_DOM_BLOCKED);
	pair_close(&p);

	/* Made to fail: half a stream, the receiver left waiting for the rest. */
	pair_open(f, &p);
	assert_int_equal(hv_sim_fail_next(f->hv, HV_SIM_OP_MIGRATE_SEND,
	    HV_FAILED), 0);
	send_start(f, &p, domid, false, &rs);
	receive_start(&p, "sf", 256, &rr);
	wait_done(f, &rs, 2);
	assert_int_equal(rs.result, HV_FAILED);
	assert_int_equal(state_of(f, domid), HV_DOM_BLOCKED);
	run_for(f->base, 10);
	assert_int_equal(rr.done, 0);
	close(p.sv[0]);		/* as the sending daemon gives up */
	p.sv[0] = -1;
	wait_done(f, &rr, 1);
	assert_int_equal(rr.result, HV_FAILED);
	assert_int_equal(ndomains(&p.dst), 1);
	pair_close(&p);
	assert_int_equal(f->deaths.n, 0);

	/* Refused at once. */
	pair_open(f, &p);
	spec_init(&s, "sf", 256);
	assert_int_equal(pipe(pfd), 0);
	assert_int_equal(hv_migrate_send(f->hv, domid, pfd[1], true, done_cb,
	    &rs), -1);
	assert_int_equal(hv_migrate_receive(p.dst.hv, &s, pfd[0], done_cb, &rr),
	    -1);
	close(pfd[0]);
	close(pfd[1]);
	assert_int_equal(hv_migrate_send(f->hv, 0, p.sv[0], true, done_cb, &rs),
	    -1);
	assert_int_equal(errno, EPERM);
	assert_int_equal(hv_migrate_send(f->hv, 42, p.sv[0], true, done_cb, &rs),
	    -1);
	assert_int_equal(errno, ENOENT);
	assert_int_equal(hv_migrate_send(f->hv, domid, p.sv[0], true, done_cb,
	    &rs), 0);
	assert_int_equal(hv_migrate_send(f->hv, domid, p.sv[0], true, done_cb,
	    &rs), -1);
	assert_int_equal(errno, EBUSY);
	wait_done(f, &rs, 3);
	assert_int_equal(rs.result, HV_OK);
	pair_close(&p);

	/* A guest that is down (here: suspended already) cannot be sent. */
	pair_open(f, &p);
	send_start(f, &p, domid, true, &rs);
	wait_done(f, &rs, 4);
	assert_int_equal(rs.result, HV_FAILED);
	assert_int_equal(state_of(f, domid), HV_DOM_SHUTDOWN);
	assert_int_equal(drain(p.sv[1], (char[8]){ 0 }, 8), 0);

	/* Made to lose it: gone, and reported after the result. */
	assert_int_equal(hv_resume(f->hv, domid), 0);
	assert_int_equal(hv_sim_fail_next(f->hv, HV_SIM_OP_MIGRATE_SEND,
	    HV_LOST), 0);
	f->deaths.clock = &rs.done;
	send_start(f, &p, domid, true, &rs);
	wait_done(f, &rs, 5);
	assert_int_equal(rs.result, HV_LOST);
	assert_false(exists(f, domid));
	if (run_until(f->base, &f->deaths.n, 1, SAFETY_MS) == -1)
		fail_msg("no report of the lost guest");
	assert_int_equal(f->deaths.why[0], HV_DEATH_GONE);
	assert_int_equal(f->deaths.order[0], 5);
	f->deaths.clock = NULL;
	pair_close(&p);
}

/* A receive made to lose its domain names it; nothing of it stays. */
static void
test_migrate_receive_lost(void **state)
{
	struct fx *f = *state;
	struct pair p;
	struct rec rr = { 0 };
	char	 stream[8192];
	size_t	 len;

	len = capture(f, "rl", stream, sizeof(stream));
	pair_open(f, &p);
	assert_int_equal(write(p.sv[0], stream, len), (ssize_t)len);
	assert_int_equal(hv_sim_fail_next(p.dst.hv, HV_SIM_OP_MIGRATE_RECEIVE,
	    HV_LOST), 0);
	receive_start(&p, "rl", 256, &rr);
	wait_done(f, &rr, 1);
	assert_int_equal(rr.result, HV_LOST);
	assert_true(rr.domid > 0 && rr.domid < HV_SIM_DOMID_INVALID);
	assert_false(exists(&p.dst, rr.domid));
	/* A name taken: refused through the operation, the stream unread. */
	(void)create(&p.dst, "rl", 256, false);
	assert_int_equal(write(p.sv[0], stream, len), (ssize_t)len);
	receive_start(&p, "rl", 256, &rr);
	wait_done(f, &rr, 2);
	assert_int_equal(rr.result, HV_FAILED);
	assert_int_equal(drain(p.sv[1], stream, sizeof(stream)), len);
	pair_close(&p);
}

/*
 * A sender whose socket is full waits on the loop, which goes on; the
 * receiver, on the same loop, is what empties it.  Destroy and close cut
 * a stream short.
 */
static void
test_migrate_send_waits(void **state)
{
	struct fx *f = *state;
	struct pair p;
	struct rec rs = { 0 }, rr = { 0 }, rd = { 0 };
	char	 junk[4096], *sink;
	size_t	 filled = 0, got;
	uint32_t domid;
	ssize_t	 n;

	memset(junk, 'j', sizeof(junk));
	sink = malloc(1 << 22);
	assert_non_null(sink);
	pair_open(f, &p);
	domid = create(f, "sw", 256, false);
	while ((n = send(p.sv[0], junk, sizeof(junk), MSG_DONTWAIT)) > 0)
		filled += (size_t)n;
	assert_int_equal(errno, EAGAIN);
	send_start(f, &p, domid, false, &rs);
	run_for(f->base, 20);
	assert_int_equal(rs.done, 0);
	assert_int_equal(hv_sim_pending(f->hv), 1);
	/* Its own suspend is the send's to undo. */
	assert_int_equal(hv_resume(f->hv, domid), -1);
	assert_int_equal(errno, EBUSY);
	/* The junk out, and none of the stream: it has not moved yet. */
	for (got = 0; got < filled; got += (size_t)n) {
		n = recv(p.sv[1], sink, filled - got, MSG_DONTWAIT);
		assert_true(n > 0);
	}
	receive_start(&p, "sw", 256, &rr);
	wait_done(f, &rs, 1);
	wait_done(f, &rr, 1);
	assert_int_equal(rs.result, HV_OK);
	assert_int_equal(rr.result, HV_OK);
	assert_int_equal(run_op(f, hv_destroy, domid), HV_OK);

	/* Destroy cuts a waiting send short: lost, and it writes no more. */
	domid = create(f, "sw2", 256, false);
	filled = 0;
	while ((n = send(p.sv[0], junk, sizeof(junk), MSG_DONTWAIT)) > 0)
		filled += (size_t)n;
	send_start(f, &p, domid, true, &rs);
	run_for(f->base, 5);
	assert_int_equal(CALL(hv_destroy(f->hv, domid, done_cb, &rd)), 0);
	wait_done(f, &rd, 1);
	assert_int_equal(rd.result, HV_OK);
	assert_int_equal(rs.done, 2);
	assert_int_equal(rs.result, HV_LOST);
	got = drain(p.sv[1], sink, 1 << 22);
	run_for(f->base, 10);
	got += drain(p.sv[1], sink, 1 << 22);
	assert_int_equal(got, filled);

	/* Closing with a receive waiting: no callback, nothing leaks. */
	receive_start(&p, "sw3", 256, &rr);
	run_for(f->base, 5);
	assert_int_equal(hv_sim_pending(p.dst.hv), 1);
	pair_close(&p);
	run_for(f->base, 10);
	assert_int_equal(rr.done, 1);
	free(sink);
}

static void
test_rename(void **state)
{
	struct fx *f = *state;
	struct hv_domain d;
	struct vm_spec s;
	struct rec r = { 0 };
	uint32_t a, b;
	char	 longname[80];

	a = create(f, "ren-a", 128, false);
	b = create(f, "ren-b", 128, false);
	assert_int_equal(hv_rename(f->hv, a, "ren-c"), 0);
	assert_int_equal(hv_domain_info(f->hv, a, &d), 0);
	assert_string_equal(d.name, "ren-c");
	assert_int_equal(hv_rename(f->hv, a, "ren-c"), 0);	/* its own */
	/* Names are unique on a host. */
	assert_int_equal(hv_rename(f->hv, a, "ren-b"), -1);
	assert_int_equal(errno, EEXIST);
	assert_int_equal(hv_rename(f->hv, b, "Domain-0"), -1);
	assert_int_equal(errno, EEXIST);
	assert_int_equal(hv_domain_info(f->hv, a, &d), 0);
	assert_string_equal(d.name, "ren-c");
	/* The old name is free, the new one taken. */
	spec_init(&s, "ren-c", 128);
	assert_int_equal(CALL(hv_create(f->hv, &s, false, done_cb, &r)), 0);
	wait_done(f, &r, 1);
	assert_int_equal(r.result, HV_FAILED);
	(void)create(f, "ren-a", 128, false);

	assert_int_equal(hv_rename(f->hv, 0, "x"), -1);
	assert_int_equal(errno, EPERM);
	assert_int_equal(hv_rename(f->hv, 42, "x"), -1);
	assert_int_equal(errno, ENOENT);
	assert_int_equal(hv_rename(f->hv, a, ""), -1);
	assert_int_equal(errno, EINVAL);
	memset(longname, 'n', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = '\0';
	assert_int_equal(hv_rename(f->hv, a, longname), -1);
	assert_int_equal(errno, EINVAL);
}

static void
test_names(void **state)
{
	int	 i;

	(void)state;
	for (i = HV_DOM_RUNNING; i <= HV_DOM_DYING; i++)
		assert_non_null(hv_dom_state_names[i]);
	for (i = HV_DEATH_POWEROFF; i <= HV_DEATH_GONE; i++)
		assert_non_null(hv_death_names[i]);
	for (i = 0; i < HV_SIM_OP__COUNT; i++)
		assert_non_null(hv_sim_op_names[i]);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
#define T(name)	cmocka_unit_test_setup_teardown(name, setup, teardown)
		T(test_open_host),
		T(test_create),
		T(test_create_paused),
		T(test_create_refused),
		T(test_domids_not_reused),
		T(test_pause_unpause),
		T(test_shutdown),
		T(test_shutdown_paused),
		T(test_destroy_reports_gone),
		T(test_kill),
		T(test_unknown_domid),
		T(test_inject),
		T(test_set_vcpus_memory),
		T(test_memory_accounting),
		T(test_cpu_time),
		T(test_start_time),
		T(test_save_restore),
		T(test_restore_bad_image),
		T(test_two_hosts),
		T(test_busy),
		T(test_zero_latency),
		T(test_default_latency),
		T(test_close_pending),
		T(test_close_in_callback),
		T(test_userdata),
		T(test_migrate),
		T(test_migrate_self_delimiting),
		T(test_migrate_pieces),
		T(test_migrate_resume_sender),
		T(test_migrate_truncated),
		T(test_migrate_garbage),
		T(test_migrate_send_fails),
		T(test_migrate_receive_lost),
		T(test_migrate_send_waits),
		T(test_rename),
		T(test_spec_to_json),
		T(test_names),
#undef T
	};

	log_init(1, 0);
	return cmocka_run_group_tests(tests, NULL, NULL);
}

/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * hvsim/sim.c — a simulated hypervisor behind hv/hv.h, in memory, driven by the
 * caller's libevent loop, in the manner of libvirt's test driver.  It is
 * for unit tests, scale benchmarks and the policy simulator; it never
 * stands in for Xen in an end-to-end test (those run hv/libxl.c against
 * real Xen in the QEMU lab).  Its knobs are in hvsim/sim.h.  No globals: each
 * struct hv is one simulated host.
 *
 * Kept from Xen and libxl as xvdsd sees them:
 *  - domids increase and are never reused within a run; names are unique
 *    among existing domains (shut-down ones and ones being built count);
 *  - a build claims its memory when it starts and shows as a paused
 *    domain until it completes (start time not yet known);
 *  - pauses nest, as Xen counts the toolstack's pauses (up to 255): a
 *    domain paused twice needs two unpauses.  Unpausing a domain that is
 *    not paused fails (HV_FAILED), as XEN_DOMCTL_unpausedomain does;
 *  - shutdown only asks.  A running guest powers off after a delay; a
 *    paused guest cannot answer, so it stays, and answers once unpaused
 *    (as a PV guest reading control/shutdown does).  A shut-down domain
 *    stays, holding its memory, until destroyed;
 *  - save writes a real image file (a header with a checksum, then JSON)
 *    through "<image>.partial", as hv/libxl.c does, and the domain goes
 *    away; restore reads it back under a new domid with the caller's
 *    spec, as libxl uses the caller's config.  A missing image is refused
 *    at once (-1), a corrupt one fails the restore (HV_FAILED);
 *  - a migration streams the domain over the caller's socket in the save
 *    image's encoding, whose header gives the length: the receiver reads
 *    exactly the stream and not a byte past it, and the caller talks on
 *    after it.  Send suspends the guest first, or last when live; on
 *    HV_OK it stays suspended until destroyed or hv_resume'd, on failure
 *    it runs on.  Receive builds the domain with the caller's spec and
 *    leaves it paused; a truncated or garbled stream fails it
 *    (HV_FAILED).  Both move the stream with non-blocking calls from the
 *    loop, so that both ends may share one loop;
 *  - hv_rename keeps names unique (EEXIST);
 *  - a watched domain's death is reported once.  A death an operation
 *    causes (save, destroy: gone) is reported before the operation's
 *    result; a domain lost by a failed operation, after it.  A suspend
 *    (save, migration) is not a death, as in hv/libxl.c;
 *  - arguments libxl refuses at once (vCPUs or memory out of range) get
 *    -1 with EINVAL, or ENOMEM for memory the host does not have free.
 * Simplified or added, and said so where it matters:
 *  - one operation per domain at a time (another gets -1, EBUSY), except
 *    destroy, which ends the one under way with HV_LOST;
 *  - a shut-down domain cannot be saved or sent (HV_FAILED); operations on
 *    domain 0 are refused (EPERM);
 *  - restore also checks that the image holds the spec's name, and a
 *    migration that its stream holds the spec's name or that name with a
 *    "--" suffix (the caller's temporary name);
 *  - a migration's latency runs after its stream.  A receive refused
 *    (name taken, no memory) leaves the stream unread.  The socket must
 *    be a stream socket (EINVAL);
 *  - a failed build (create, restore, receive) reports
 *    HV_SIM_DOMID_INVALID, as libxl does; a lost one reports the domid it
 *    had, which may need a destroy;
 *  - hv_spec_to_json is this file's own JSON of the spec, not libxl's.
 *
 * CPU: each domain keeps a load (CPUs busy) while it runs; loads beyond
 * the host's CPUs are scaled down together, as a saturated Xen host shares
 * out its CPUs.  Accounting is settled lazily, at every change of load or
 * run state and at every query, so a host costs nothing between calls.
 */
#include <config.h>

#include <sys/queue.h>
#include <sys/random.h>
#include <sys/socket.h>

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>
#include <event2/util.h>
#include <jansson.h>

#include "hv/hv.h"
#include "hvsim/sim.h"
#include "common/log.h"

#define SIM_VERSION		"simulated"	/* what hv_host_info names */
#define SIM_DOMID_LIMIT		0x7FF0u		/* Xen's DOMID_FIRST_RESERVED */
#define SIM_IMAGE_MAGIC		"XVDS-SIM-IMAGE"
#define SIM_IMAGE_VERSION	1u
#define SIM_IMAGE_MAX		(1024 * 1024)	/* a spec's JSON is a few KiB */
#define SIM_PAUSE_MAX		255		/* Xen's limit on nested pauses */
#define NS_PER_SEC		UINT64_C(1000000000)

const char *const hv_sim_op_names[] = {
	[HV_SIM_OP_CREATE] = "create",
	[HV_SIM_OP_RESTORE] = "restore",
	[HV_SIM_OP_SAVE] = "save",
	[HV_SIM_OP_PAUSE] = "pause",
	[HV_SIM_OP_UNPAUSE] = "unpause",
	[HV_SIM_OP_SHUTDOWN] = "shutdown",
	[HV_SIM_OP_DESTROY] = "destroy",
	[HV_SIM_OP_SET_VCPUS] = "set-vcpus",
	[HV_SIM_OP_SET_MEMORY] = "set-memory",
	[HV_SIM_OP_MIGRATE_SEND] = "migrate-send",
	[HV_SIM_OP_MIGRATE_RECEIVE] = "migrate-receive",
};

/* Local: common/vmspec.h's vm_type_names belongs to the template code. */
static const char *const type_names[] = {
	[VM_TYPE_PV] = "pv",
	[VM_TYPE_PVH] = "pvh",
	[VM_TYPE_HVM] = "hvm",
};

static const unsigned default_latency_ms[HV_SIM_OP__COUNT] = {
	[HV_SIM_OP_CREATE] = 50,
	[HV_SIM_OP_RESTORE] = 30,
	[HV_SIM_OP_SAVE] = 30,
	[HV_SIM_OP_PAUSE] = 1,
	[HV_SIM_OP_UNPAUSE] = 1,
	[HV_SIM_OP_SHUTDOWN] = 1,
	[HV_SIM_OP_DESTROY] = 5,
	[HV_SIM_OP_SET_VCPUS] = 1,
	[HV_SIM_OP_SET_MEMORY] = 1,
	[HV_SIM_OP_MIGRATE_SEND] = 30,
	[HV_SIM_OP_MIGRATE_RECEIVE] = 30,
};

/* A callback owed to the caller, delivered from the loop in order. */
struct sim_note {
	TAILQ_ENTRY(sim_note) entry;
	bool		 is_death;
	uint32_t	 domid;
	enum hv_result	 result;
	enum hv_death	 death;
	hv_done_cb	 cb;
	void		*arg;
};

struct sim_op {
	TAILQ_ENTRY(sim_op) entry;
	struct hv	*hv;
	enum hv_sim_op	 kind;
	uint32_t	 domid;
	enum hv_result	 inject;	/* HV_OK: none */
	struct sim_note	*note;		/* allocated up front: completion cannot fail */
	struct event	*timer;
	struct sim_op	*preempted;	/* destroy: the operation it cut short */
	bool		 paused;	/* create, restore */
	unsigned	 vcpus;
	uint64_t	 mib;
	char		 image[PATH_MAX];
	char		 partial[PATH_MAX + 8];	/* save: removed unless renamed */
	/* Migration: the stream, on the caller's socket. */
	struct event	*io;		/* until the stream has gone through */
	bool		 suspended;	/* send: by us, before the stream */
	char		*buf;		/* send: all of it; receive: the body */
	size_t		 off, want;
	uint64_t	 sum;		/* receive: the body's checksum */
	char		 hdr[128];	/* receive: the header line */
	size_t		 hdr_len;
};

struct sim_dom {
	TAILQ_ENTRY(sim_dom) entry;
	struct hv	*hv;
	uint32_t	 domid;
	struct vm_spec	 spec;		/* the name lives here */
	char		 uuid[37];
	bool		 building;
	unsigned	 pauses;	/* nested, as Xen counts them */
	bool		 shut;		/* HV_DOM_SHUTDOWN, for reason */
	enum hv_death	 reason;
	bool		 shutdown_asked;
	bool		 watched;
	bool		 reported;
	unsigned	 vcpus;
	unsigned	 max_vcpus;
	uint64_t	 mem_mib;
	uint64_t	 max_mem_mib;
	double		 load;
	uint64_t	 cpu_ns;
	uint64_t	 started_ns;
	void		*userdata;
	size_t		 userdata_len;
	struct sim_op	*busy;
	struct sim_note	*death_note;	/* while watched and not yet reported */
	struct event	*poweroff;	/* the guest answering a shutdown request */
};

TAILQ_HEAD(sim_doms, sim_dom);
TAILQ_HEAD(sim_ops, sim_op);
TAILQ_HEAD(sim_notes, sim_note);

struct hv {
	struct event_base *base;
	struct hv_callbacks cbs;
	struct sim_doms	 doms;		/* by domid: new ones are the largest */
	struct sim_ops	 ops;
	struct sim_notes notes;
	struct event	*notes_ev;
	uint32_t	 next_domid;
	unsigned	 cpus;
	uint64_t	 total_mib;
	unsigned	 latency_ms[HV_SIM_OP__COUNT];
	unsigned	 shutdown_delay_ms;
	enum hv_result	 inject[HV_SIM_OP__COUNT];
	uint64_t	 rng;

	/* Clock: see hvsim/sim.h. */
	enum hv_sim_clock clock;
	struct evutil_monotonic_timer *mono;
	uint64_t	 clock_ns;	/* at mono_mark (LOOP), or now (MANUAL) */
	uint64_t	 mono_mark;
	time_t		 wall_at_open;

	/* CPU accounting, settled up to settled_ns. */
	uint64_t	 settled_ns;
	uint64_t	 idle_ns;
};

static void	 notes_fire(evutil_socket_t, short, void *);
static void	 op_fire(evutil_socket_t, short, void *);
static void	 stream_io(evutil_socket_t, short, void *);
static void	 guest_poweroff(evutil_socket_t, short, void *);

/* Clock and CPU accounting */

static uint64_t
mono_ns(struct hv *hv)
{
	struct timeval tv;

	if (evutil_gettime_monotonic(hv->mono, &tv) == -1)
		return hv->mono_mark;
	return (uint64_t)tv.tv_sec * NS_PER_SEC + (uint64_t)tv.tv_usec * 1000;
}

uint64_t
hv_sim_now(struct hv *hv)
{
	uint64_t m;

	if (hv->clock == HV_SIM_CLOCK_MANUAL)
		return hv->clock_ns;
	m = mono_ns(hv);
	return hv->clock_ns + (m > hv->mono_mark ? m - hv->mono_mark : 0);
}

void
hv_sim_set_clock(struct hv *hv, enum hv_sim_clock clock)
{
	if (clock == hv->clock)
		return;
	/* Continuous: the new clock starts where the old one is. */
	if (clock == HV_SIM_CLOCK_MANUAL)
		hv->clock_ns = hv_sim_now(hv);
	else
		hv->mono_mark = mono_ns(hv);
	hv->clock = clock;
}

void
hv_sim_advance(struct hv *hv, uint64_t ns)
{
	hv->clock_ns += ns;
}

static bool
dom_runs(const struct sim_dom *d)
{
	return !d->building && d->pauses == 0 && !d->shut;
}

/* What the domain would use if the host had CPUs to spare. */
static double
dom_demand(const struct sim_dom *d)
{
	if (!dom_runs(d))
		return 0;
	return d->load < (double)d->vcpus ? d->load : (double)d->vcpus;
}

/*
 * Charges the time since the last settlement at the loads that held over
 * it.  Called before any change of load or run state, and before queries.
 */
static void
sim_settle(struct hv *hv)
{
	struct sim_dom *d;
	uint64_t now, dt, ns, busy = 0, capacity;
	double	 want = 0, scale = 1;

	now = hv_sim_now(hv);
	if (now <= hv->settled_ns)
		return;
	dt = now - hv->settled_ns;
	TAILQ_FOREACH(d, &hv->doms, entry)
		want += dom_demand(d);
	if (want > (double)hv->cpus)
		scale = (double)hv->cpus / want;
	TAILQ_FOREACH(d, &hv->doms, entry) {
		/* Truncated, so that the sum never exceeds the capacity. */
		ns = (uint64_t)(dom_demand(d) * scale * (double)dt);
		d->cpu_ns += ns;
		busy += ns;
	}
	capacity = (uint64_t)hv->cpus * dt;
	hv->idle_ns += capacity > busy ? capacity - busy : 0;
	hv->settled_ns = now;
}

/* Domains */

static uint64_t
sim_random(struct hv *hv)
{
	uint64_t z;

	/* splitmix64: uuids need to be distinct, not secret. */
	z = (hv->rng += UINT64_C(0x9e3779b97f4a7c15));
	z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
	z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
	return z ^ (z >> 31);
}

static void
sim_uuid(struct hv *hv, char uuid[37])
{
	uint8_t	 b[16];
	uint64_t r = 0;
	int	 i;

	for (i = 0; i < 16; i++) {
		if (i % 8 == 0)
			r = sim_random(hv);
		b[i] = (uint8_t)(r >> (8 * (i % 8)));
	}
	b[6] = (uint8_t)((b[6] & 0x0f) | 0x40);	/* version 4 */
	b[8] = (uint8_t)((b[8] & 0x3f) | 0x80);	/* RFC 4122 variant */
	snprintf(uuid, 37, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-"
	    "%02x%02x%02x%02x%02x%02x", b[0], b[1], b[2], b[3], b[4], b[5],
	    b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13], b[14], b[15]);
}

static struct sim_dom *
dom_find(struct hv *hv, uint32_t domid)
{
	struct sim_dom *d;

	TAILQ_FOREACH(d, &hv->doms, entry)
		if (d->domid == domid)
			return d;
	return NULL;
}

/* The domain, or NULL with errno ENOENT: callers race with deaths. */
static struct sim_dom *
dom_lookup(struct hv *hv, uint32_t domid, const char *what)
{
	struct sim_dom *d;

	if ((d = dom_find(hv, domid)) == NULL) {
		log_debug("%s: domain %u: no such domain", what, domid);
		errno = ENOENT;
	}
	return d;
}

static struct sim_dom *
dom_by_name(struct hv *hv, const char *name)
{
	struct sim_dom *d;

	TAILQ_FOREACH(d, &hv->doms, entry)
		if (strcmp(d->spec.name, name) == 0)
			return d;
	return NULL;
}

static uint64_t
sim_free_mib(struct hv *hv)
{
	struct sim_dom *d;
	uint64_t used = 0;

	TAILQ_FOREACH(d, &hv->doms, entry)
		used += d->mem_mib;
	return hv->total_mib > used ? hv->total_mib - used : 0;
}

static void
dom_fill(const struct sim_dom *d, struct hv_domain *out)
{
	memset(out, 0, sizeof(*out));
	out->domid = d->domid;
	snprintf(out->name, sizeof(out->name), "%s", d->spec.name);
	snprintf(out->uuid, sizeof(out->uuid), "%s", d->uuid);
	if (d->shut)
		out->state = HV_DOM_SHUTDOWN;
	else if (d->building || d->pauses > 0)
		out->state = HV_DOM_PAUSED;
	else if (dom_demand(d) > 0)
		out->state = HV_DOM_RUNNING;
	else
		out->state = HV_DOM_BLOCKED;	/* an idle guest, as Xen shows it */
	out->mem_kib = d->mem_mib * 1024;
	out->max_mem_kib = d->max_mem_mib * 1024;
	out->vcpus = d->vcpus;
	out->cpu_time_ns = d->cpu_ns;
	out->shutdown_reason = d->shut ? (int)d->reason : 0;
}

/* Notes: everything the caller hears, from the loop, in order. */

static void
note_queue(struct hv *hv, struct sim_note *n)
{
	TAILQ_INSERT_TAIL(&hv->notes, n, entry);
	event_active(hv->notes_ev, EV_TIMEOUT, 0);
}

static void
notes_fire(evutil_socket_t fd, short what, void *arg)
{
	struct hv *hv = arg;
	struct sim_note *n, copy;
	void	(*died)(void *, uint32_t, enum hv_death);
	void	*died_arg;

	(void)fd;
	(void)what;
	if ((n = TAILQ_FIRST(&hv->notes)) == NULL)
		return;
	TAILQ_REMOVE(&hv->notes, n, entry);
	copy = *n;
	free(n);
	if (!TAILQ_EMPTY(&hv->notes))
		event_active(hv->notes_ev, EV_TIMEOUT, 0);
	died = hv->cbs.domain_died;
	died_arg = hv->cbs.arg;
	/*
	 * One note per activation, and the callback last: it may call us
	 * back, even hv_close(), so nothing of hv is touched after it.
	 */
	if (copy.is_death) {
		if (died != NULL)
			died(died_arg, copy.domid, copy.death);
	} else if (copy.cb != NULL)
		copy.cb(copy.arg, copy.result, copy.domid);
}

/* Reports a watched domain's death, once. */
static void
dom_report(struct hv *hv, struct sim_dom *d, enum hv_death why)
{
	struct sim_note *n;

	if (!d->watched || d->reported || d->death_note == NULL)
		return;
	n = d->death_note;
	d->death_note = NULL;
	n->is_death = true;
	n->domid = d->domid;
	n->death = why;
	d->reported = true;
	log_debug("domain %u: died (%s)", d->domid, hv_death_names[why]);
	note_queue(hv, n);
}

static void
dom_free(struct sim_dom *d)
{
	if (d->poweroff != NULL)
		event_free(d->poweroff);
	free(d->death_note);
	free(d->userdata);
	free(d);
}

static void
dom_remove(struct hv *hv, struct sim_dom *d, enum hv_death why)
{
	sim_settle(hv);
	dom_report(hv, d, why);
	TAILQ_REMOVE(&hv->doms, d, entry);
	log_debug("domain %u (%s): removed", d->domid, d->spec.name);
	dom_free(d);
}

static void
dom_shut(struct hv *hv, struct sim_dom *d, enum hv_death why)
{
	sim_settle(hv);
	d->shut = true;
	d->reason = why;
	if (d->poweroff != NULL)
		evtimer_del(d->poweroff);
	/* As hv_libxl: a suspend is a save's business, not a death. */
	if (why != HV_DEATH_SUSPEND)
		dom_report(hv, d, why);
}

/*
 * The guest suspends for a migration.  The request takes the place of a
 * shutdown request not yet answered, as Xen's guests read both from the
 * same xenstore node.
 */
static void
dom_suspend(struct hv *hv, struct sim_dom *d)
{
	d->shutdown_asked = false;
	dom_shut(hv, d, HV_DEATH_SUSPEND);
}

static void
guest_poweroff(evutil_socket_t fd, short what, void *arg)
{
	struct sim_dom *d = arg;

	(void)fd;
	(void)what;
	if (d->shut || d->pauses > 0 || !d->shutdown_asked)
		return;
	dom_shut(d->hv, d, HV_DEATH_POWEROFF);
}

/* The guest sees a shutdown request, and answers after a delay. */
static void
guest_arm(struct hv *hv, struct sim_dom *d)
{
	struct timeval tv;

	if (d->poweroff == NULL &&
	    (d->poweroff = evtimer_new(hv->base, guest_poweroff, d)) == NULL) {
		/* The request stays asked; it is answered at the next unpause. */
		log_warnx("domain %u: cannot arm the guest's shutdown", d->domid);
		return;
	}
	tv.tv_sec = hv->shutdown_delay_ms / 1000;
	tv.tv_usec = (suseconds_t)(hv->shutdown_delay_ms % 1000) * 1000;
	evtimer_add(d->poweroff, &tv);
}

/* Operations */

static struct sim_op *
op_new(struct hv *hv, enum hv_sim_op kind, uint32_t domid, hv_done_cb cb,
    void *arg)
{
	struct sim_op *op;

	if ((op = calloc(1, sizeof(*op))) == NULL ||
	    (op->note = calloc(1, sizeof(*op->note))) == NULL ||
	    (op->timer = evtimer_new(hv->base, op_fire, op)) == NULL) {
		log_warn("%s", __func__);
		if (op != NULL)
			free(op->note);
		free(op);
		errno = ENOMEM;
		return NULL;
	}
	op->hv = hv;
	op->kind = kind;
	op->domid = domid;
	op->note->cb = cb;
	op->note->arg = arg;
	/* Taken by the operation that starts, whatever becomes of it. */
	op->inject = hv->inject[kind];
	hv->inject[kind] = HV_OK;
	TAILQ_INSERT_TAIL(&hv->ops, op, entry);
	return op;
}

static void
op_free(struct hv *hv, struct sim_op *op)
{
	/* A save that did not end well leaves nothing behind. */
	if (op->partial[0] != '\0' && unlink(op->partial) == -1 &&
	    errno != ENOENT)
		log_warn("domain %u: save: %s", op->domid, op->partial);
	TAILQ_REMOVE(&hv->ops, op, entry);
	event_free(op->timer);
	if (op->io != NULL)
		event_free(op->io);	/* the socket is the caller's */
	free(op->buf);
	free(op->note);
	free(op);
}

static void
op_schedule(struct hv *hv, struct sim_op *op)
{
	struct timeval tv;
	unsigned ms = hv->latency_ms[op->kind];

	tv.tv_sec = ms / 1000;
	tv.tv_usec = (suseconds_t)(ms % 1000) * 1000;
	evtimer_add(op->timer, &tv);
}

/* Hands the result to the caller (from the loop) and frees the operation. */
static void
op_finish(struct hv *hv, struct sim_op *op, enum hv_result res, uint32_t domid)
{
	struct sim_note *n = op->note;

	op->note = NULL;
	n->is_death = false;
	n->result = res;
	n->domid = domid;
	if (res != HV_OK)
		log_debug("domain %u: %s: %s", op->domid, hv_sim_op_names[op->kind],
		    res == HV_FAILED ? "failed" : "lost");
	note_queue(hv, n);
	op_free(hv, op);
}

static bool
op_builds(enum hv_sim_op kind)
{
	return kind == HV_SIM_OP_CREATE || kind == HV_SIM_OP_RESTORE ||
	    kind == HV_SIM_OP_MIGRATE_RECEIVE;
}

/* A send that failed: a guest it suspended runs on, as libxl resumes it. */
static void
send_undo(struct hv *hv, struct sim_op *op, struct sim_dom *d)
{
	if (d == NULL || !op->suspended || !d->shut ||
	    d->reason != HV_DEATH_SUSPEND)
		return;
	sim_settle(hv);
	d->shut = false;
	op->suspended = false;
}

/*
 * The common checks of an operation on an existing domain.  -1 with
 * errno: ENOENT (no such domain, logged at debug), EPERM (domain 0),
 * EBUSY (an operation under way), EINVAL (no event loop).
 */
static struct sim_dom *
op_target(struct hv *hv, enum hv_sim_op kind, uint32_t domid)
{
	struct sim_dom *d;
	const char *what = hv_sim_op_names[kind];

	if (hv->base == NULL) {
		log_warnx("%s: domain %u: no event loop", what, domid);
		errno = EINVAL;
		return NULL;
	}
	if ((d = dom_lookup(hv, domid, what)) == NULL)
		return NULL;
	if (domid == 0) {
		log_warnx("%s: domain 0 is dom0", what);
		errno = EPERM;
		return NULL;
	}
	if (d->busy != NULL && (kind != HV_SIM_OP_DESTROY ||
	    d->busy->kind == HV_SIM_OP_DESTROY)) {
		log_warnx("%s: domain %u: %s under way", what, domid,
		    hv_sim_op_names[d->busy->kind]);
		errno = EBUSY;
		return NULL;
	}
	return d;
}

/* Starts an operation on d, which op_target accepted. */
static struct sim_op *
op_start(struct hv *hv, struct sim_dom *d, enum hv_sim_op kind, hv_done_cb cb,
    void *arg)
{
	struct sim_op *op;

	if ((op = op_new(hv, kind, d->domid, cb, arg)) == NULL)
		return NULL;
	if (d->busy != NULL) {
		/* Destroy cuts the operation under way short: it is lost. */
		evtimer_del(d->busy->timer);
		if (d->busy->io != NULL)
			event_del(d->busy->io);
		op->preempted = d->busy;
	}
	d->busy = op;
	op_schedule(hv, op);
	return op;
}

/* Pause, unpause, shutdown, destroy: nothing but the domain. */
static int
simple_op(struct hv *hv, enum hv_sim_op kind, uint32_t domid, hv_done_cb cb,
    void *arg)
{
	struct sim_dom *d;

	if ((d = op_target(hv, kind, domid)) == NULL ||
	    op_start(hv, d, kind, cb, arg) == NULL)
		return -1;
	return 0;
}

/* Image files */

static uint64_t
fnv1a(const char *s, size_t len)
{
	uint64_t h = UINT64_C(0xcbf29ce484222325);
	size_t	 i;

	for (i = 0; i < len; i++) {
		h ^= (unsigned char)s[i];
		h *= UINT64_C(0x100000001b3);
	}
	return h;
}

static int
jset(json_t *o, const char *key, json_t *v)
{
	/* json_object_set_new takes v even when it fails. */
	if (v == NULL)
		return -1;
	return json_object_set_new(o, key, v);
}

static int
jset_str(json_t *o, const char *key, const char *s, size_t max)
{
	size_t	 len = strnlen(s, max);

	if (len == 0)
		return 0;	/* unset: left out, as libxl leaves out defaults */
	return jset(o, key, json_stringn(s, len));
}

static json_t *
spec_json(const struct vm_spec *s)
{
	json_t	*o, *disks, *nics, *x;
	size_t	 i;
	int	 rc = 0;

	if ((o = json_object()) == NULL)
		return NULL;
	rc |= jset(o, "format", json_string("xvds-sim"));
	rc |= jset_str(o, "name", s->name, sizeof(s->name));
	rc |= jset(o, "type", json_string(type_names[s->type]));
	rc |= jset(o, "vcpus", json_integer(s->vcpus));
	rc |= jset(o, "max_vcpus", json_integer(s->max_vcpus));
	rc |= jset(o, "memory_mib", json_integer((json_int_t)s->memory_mib));
	rc |= jset(o, "max_memory_mib",
	    json_integer((json_int_t)s->max_memory_mib));
	rc |= jset_str(o, "kernel", s->kernel, sizeof(s->kernel));
	rc |= jset_str(o, "ramdisk", s->ramdisk, sizeof(s->ramdisk));
	rc |= jset_str(o, "cmdline", s->cmdline, sizeof(s->cmdline));
	rc |= jset_str(o, "bootloader", s->bootloader, sizeof(s->bootloader));
	rc |= jset(o, "disks", disks = json_array());
	rc |= jset(o, "nics", nics = json_array());
	for (i = 0; rc == 0 && i < s->ndisks; i++) {
		const struct vm_disk *d = &s->disks[i];

		if ((x = json_object()) == NULL || json_array_append_new(disks, x)) {
			rc = -1;
			break;
		}
		rc |= jset_str(x, "vdev", d->vdev, sizeof(d->vdev));
		rc |= jset_str(x, "path", d->path, sizeof(d->path));
		rc |= jset(x, "format", json_string(d->format == VM_DISK_QCOW2 ?
		    "qcow2" : "raw"));
		rc |= jset(x, "backend", json_string(d->backend == VM_DISK_QDISK ?
		    "qdisk" : "phy"));
		rc |= jset(x, "readonly", json_boolean(d->readonly));
	}
	for (i = 0; rc == 0 && i < s->nnics; i++) {
		const struct vm_nic *n = &s->nics[i];

		if ((x = json_object()) == NULL || json_array_append_new(nics, x)) {
			rc = -1;
			break;
		}
		rc |= jset_str(x, "mac", n->mac, sizeof(n->mac));
		rc |= jset_str(x, "bridge", n->bridge, sizeof(n->bridge));
	}
	if (rc != 0) {
		json_decref(o);
		return NULL;
	}
	return o;
}

/* Bad specs are the caller's bug: refused at once (EINVAL), not failed later. */
static int
spec_check(const struct vm_spec *s, const char *what)
{
	const char *why = NULL;
	size_t	 i;

	if (s == NULL)
		why = "no spec";
	else if (s->name[0] == '\0' || memchr(s->name, '\0', sizeof(s->name)) == NULL)
		why = "bad name";
	else if ((unsigned)s->type > VM_TYPE_HVM)
		why = "bad type";
	else if (s->vcpus == 0 || s->vcpus > VMSPEC_VCPUS_MAX ||
	    s->max_vcpus > VMSPEC_VCPUS_MAX ||
	    (s->max_vcpus != 0 && s->max_vcpus < s->vcpus))
		why = "bad vcpus";
	else if (s->memory_mib == 0 ||
	    (s->max_memory_mib != 0 && s->max_memory_mib < s->memory_mib))
		why = "bad memory";
	else if (s->ndisks > VMSPEC_DISKS_MAX || s->nnics > VMSPEC_NICS_MAX)
		why = "too many devices";
	for (i = 0; why == NULL && i < s->ndisks; i++)
		if (memchr(s->disks[i].path, '\0', sizeof(s->disks[i].path)) == NULL ||
		    memchr(s->disks[i].vdev, '\0', sizeof(s->disks[i].vdev)) == NULL)
			why = "bad disk";
	if (why == NULL)
		return 0;
	log_warnx("%s: %s", what, why);
	errno = EINVAL;
	return -1;
}

/*
 * "XVDS-SIM-IMAGE <version> <length> <fnv1a-64>\n", then the JSON body
 * of that length, then "\n": a save image, and a migration stream too.
 * The header gives the length, so a reader of a stream knows where it
 * ends.  The whole image into *buf_r, to be freed.
 */
static int
image_encode(const struct sim_dom *d, const char *what, char **buf_r,
    size_t *len_r)
{
	char	 hdr[128], *body = NULL, *buf = NULL;
	json_t	*j = NULL, *spec;
	size_t	 len;
	int	 n, rc = -1;

	if ((j = json_object()) == NULL || (spec = spec_json(&d->spec)) == NULL ||
	    jset(j, "spec", spec) != 0 ||
	    jset(j, "uuid", json_string(d->uuid)) != 0 ||
	    jset(j, "memory_mib", json_integer((json_int_t)d->mem_mib)) != 0 ||
	    jset(j, "vcpus", json_integer(d->vcpus)) != 0 ||
	    (body = json_dumps(j, JSON_COMPACT)) == NULL) {
		log_warnx("domain %u: %s: cannot encode the image", d->domid, what);
		goto out;
	}
	len = strlen(body);
	n = snprintf(hdr, sizeof(hdr), "%s %u %zu %016" PRIx64 "\n",
	    SIM_IMAGE_MAGIC, SIM_IMAGE_VERSION, len, fnv1a(body, len));
	if ((buf = malloc((size_t)n + len + 1)) == NULL) {
		log_warn("domain %u: %s", d->domid, what);
		goto out;
	}
	memcpy(buf, hdr, (size_t)n);
	memcpy(buf + n, body, len);
	buf[(size_t)n + len] = '\n';
	*buf_r = buf;
	*len_r = (size_t)n + len + 1;
	rc = 0;
 out:
	free(body);
	json_decref(j);
	return rc;
}

/* Written to tmp and renamed to path, so a reader never sees half an image. */
static int
image_write(const struct sim_dom *d, const char *tmp, const char *path)
{
	char	*buf = NULL;
	FILE	*f = NULL;
	size_t	 len;
	int	 rc = -1;

	if (image_encode(d, "save", &buf, &len) == -1)
		goto out;
	if ((f = fopen(tmp, "w")) == NULL) {
		log_warn("domain %u: save: %s", d->domid, tmp);
		goto out;
	}
	if (fwrite(buf, 1, len, f) != len || fclose(f) != 0) {
		f = NULL;
		log_warn("domain %u: save: %s", d->domid, tmp);
		goto out;
	}
	f = NULL;
	if (rename(tmp, path) == -1) {
		log_warn("domain %u: save: rename to %s", d->domid, path);
		goto out;
	}
	rc = 0;
 out:
	if (f != NULL)
		fclose(f);
	free(buf);
	return rc;
}

/* An image's header line: the length and checksum of its body. */
static int
image_header(uint32_t domid, const char *what, const char *line, size_t *len_r,
    uint64_t *sum_r)
{
	char	 magic[32];
	unsigned version;

	if (sscanf(line, "%31s %u %zu %" SCNx64, magic, &version, len_r,
	    sum_r) != 4 || strcmp(magic, SIM_IMAGE_MAGIC) != 0) {
		log_warnx("domain %u: %s: not an image", domid, what);
		return -1;
	}
	if (version != SIM_IMAGE_VERSION || *len_r == 0 ||
	    *len_r > SIM_IMAGE_MAX) {
		log_warnx("domain %u: %s: version %u, length %zu unsupported",
		    domid, what, version, *len_r);
		return -1;
	}
	return 0;
}

/*
 * An image's body (len bytes, then body[len], which must be "\n")
 * against its checksum and the name it must hold: name itself or, for an
 * incoming migration, name less a "--" suffix (the caller's temporary
 * name while both copies exist).  Its uuid into uuid_r.
 */
static int
image_body(uint32_t domid, const char *what, const char *body, size_t len,
    uint64_t sum, const char *name, bool incoming, char uuid_r[37])
{
	json_t	*j = NULL;
	json_error_t err;
	const char *iname, *iuuid;
	size_t	 ilen;
	int	 rc = -1;

	if (body[len] != '\n' || fnv1a(body, len) != sum) {
		log_warnx("domain %u: %s: truncated or corrupt", domid, what);
		return -1;
	}
	if ((j = json_loadb(body, len, 0, &err)) == NULL ||
	    json_unpack(j, "{s:{s:s}, s:s}", "spec", "name", &iname,
	    "uuid", &iuuid) != 0 || strlen(iuuid) != 36) {
		log_warnx("domain %u: %s: bad contents", domid, what);
		goto out;
	}
	ilen = strlen(iname);
	if (strcmp(iname, name) != 0 && (!incoming ||
	    strncmp(name, iname, ilen) != 0 ||
	    strncmp(name + ilen, "--", 2) != 0)) {
		log_warnx("domain %u: %s holds domain %s, not %s", domid, what,
		    iname, name);
		goto out;
	}
	memcpy(uuid_r, iuuid, 37);
	rc = 0;
 out:
	json_decref(j);
	return rc;
}

/* Checks the image at path for the spec's name; its uuid into uuid_r. */
static int
image_read(uint32_t domid, const char *path, const char *name, char uuid_r[37])
{
	char	 hdr[128], tail[2], what[PATH_MAX + 16];
	char	*body = NULL;
	FILE	*f = NULL;
	size_t	 len;
	uint64_t sum;
	int	 rc = -1;

	snprintf(what, sizeof(what), "restore: %s", path);
	if ((f = fopen(path, "r")) == NULL) {
		log_warn("domain %u: %s", domid, what);
		goto out;
	}
	if (fgets(hdr, sizeof(hdr), f) == NULL) {
		log_warnx("domain %u: %s: not an image", domid, what);
		goto out;
	}
	if (image_header(domid, what, hdr, &len, &sum) == -1)
		goto out;
	if ((body = malloc(len + 1)) == NULL) {
		log_warn("%s", __func__);
		goto out;
	}
	/* Exactly one byte after the body: a file holds one image. */
	if (fread(body, 1, len, f) != len ||
	    fread(tail, 1, sizeof(tail), f) != 1) {
		log_warnx("domain %u: %s: truncated or corrupt", domid, what);
		goto out;
	}
	body[len] = tail[0];
	rc = image_body(domid, what, body, len, sum, name, false, uuid_r);
 out:
	free(body);
	if (f != NULL)
		fclose(f);
	return rc;
}

/*
 * An operation's own effect, its injection aside.  Sets *gone_r to a
 * domain that the failure leaves to be removed after the result.
 */
static enum hv_result
op_apply(struct hv *hv, struct sim_op *op, struct sim_dom *d,
    struct sim_dom **gone_r)
{
	const char *what = hv_sim_op_names[op->kind];
	uint64_t free_mib;

	switch (op->kind) {
	case HV_SIM_OP_RESTORE:
		if (image_read(d->domid, op->image, d->spec.name, d->uuid) == -1) {
			*gone_r = d;
			return HV_FAILED;
		}
		/* FALLTHROUGH */
	case HV_SIM_OP_MIGRATE_RECEIVE:	/* its stream was checked as it came */
	case HV_SIM_OP_CREATE:
		/* Xen builds a domain paused; the toolstack unpauses it. */
		d->building = false;
		if (!op->paused)
			d->pauses--;
		d->started_ns = hv_sim_now(hv);
		log_debug("domain %u (%s): %s, %s", d->domid, d->spec.name, what,
		    op->paused ? "paused" : "running");
		return HV_OK;
	case HV_SIM_OP_SAVE:
		if (d->shut) {
			log_warnx("domain %u: save: the domain has shut down",
			    d->domid);
			return HV_FAILED;
		}
		if (image_write(d, op->partial, op->image) == -1)
			return HV_FAILED;
		op->partial[0] = '\0';
		dom_remove(hv, d, HV_DEATH_GONE);
		return HV_OK;
	case HV_SIM_OP_PAUSE:
		if (d->pauses >= SIM_PAUSE_MAX) {
			log_warnx("domain %u: pause: paused %u times already",
			    d->domid, d->pauses);
			return HV_FAILED;
		}
		if (d->pauses++ == 0 && d->poweroff != NULL)
			evtimer_del(d->poweroff);
		return HV_OK;
	case HV_SIM_OP_UNPAUSE:
		if (d->pauses == 0) {
			log_warnx("domain %u: unpause: not paused", d->domid);
			return HV_FAILED;
		}
		if (--d->pauses == 0 && d->shutdown_asked && !d->shut)
			guest_arm(hv, d);
		return HV_OK;
	case HV_SIM_OP_SHUTDOWN:
		/* Asking a domain that is down already changes nothing. */
		if (d->shut)
			return HV_OK;
		d->shutdown_asked = true;
		if (d->pauses == 0)
			guest_arm(hv, d);
		return HV_OK;
	case HV_SIM_OP_DESTROY:
		dom_remove(hv, d, HV_DEATH_GONE);
		return HV_OK;
	case HV_SIM_OP_MIGRATE_SEND:
		/* Live, the guest ran while its memory went; now it stops. */
		if (!op->suspended) {
			if (d->shut) {
				log_warnx("domain %u: %s: the domain has shut down",
				    d->domid, what);
				return HV_FAILED;
			}
			dom_suspend(hv, d);
		}
		return HV_OK;
	case HV_SIM_OP_SET_VCPUS:
		/* Checked when asked; the maximum does not change. */
		d->vcpus = op->vcpus;
		return HV_OK;
	case HV_SIM_OP_SET_MEMORY:
		/* Checked when asked, but a build may have claimed it since. */
		free_mib = sim_free_mib(hv);
		if (op->mib > d->mem_mib && op->mib - d->mem_mib > free_mib) {
			log_warnx("domain %u: set-memory: %" PRIu64 " MiB: only %"
			    PRIu64 " free now", d->domid, op->mib, free_mib);
			return HV_FAILED;
		}
		d->mem_mib = op->mib;
		return HV_OK;
	case HV_SIM_OP__COUNT:
		break;
	}
	fatalx("%s: operation %d", __func__, op->kind);
}

static void
op_fire(evutil_socket_t fd, short what, void *arg)
{
	struct sim_op *op = arg, *pre;
	struct hv *hv = op->hv;
	struct sim_dom *d, *gone = NULL;
	enum hv_result res;
	uint32_t domid = op->domid;

	(void)fd;
	(void)what;
	sim_settle(hv);
	d = dom_find(hv, op->domid);
	if (d != NULL && d->busy == op)
		d->busy = NULL;
	if ((pre = op->preempted) != NULL) {
		op->preempted = NULL;
		op_finish(hv, pre, HV_LOST, pre->domid);
	}
	if (d == NULL) {
		/* It vanished under the operation (hv_sim_kill, GONE). */
		res = HV_LOST;
	} else if (op->inject != HV_OK) {
		res = op->inject;
		if (res == HV_LOST || op_builds(op->kind))
			gone = d;
		else
			send_undo(hv, op, d);
		log_debug("domain %u: %s: injected %s", d->domid,
		    hv_sim_op_names[op->kind], res == HV_LOST ? "loss" : "failure");
	} else
		res = op_apply(hv, op, d, &gone);
	if (op_builds(op->kind) && res == HV_FAILED)
		domid = HV_SIM_DOMID_INVALID;
	op_finish(hv, op, res, domid);
	if (gone != NULL)
		dom_remove(hv, gone, HV_DEATH_GONE);
}

/* Migration streams */

/* The stream runs over a connected stream socket, as hv/hv.h says. */
static int
sock_check(int fd, const char *what)
{
	socklen_t len = sizeof(int);
	int	 type;

	if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len) == -1) {
		log_warn("%s: fd %d", what, fd);
		return -1;
	}
	if (type != SOCK_STREAM) {
		log_warnx("%s: fd %d is not a stream socket", what, fd);
		errno = EINVAL;
		return -1;
	}
	return 0;
}

/* The stream broke: the operation fails at once, without its latency. */
static void
stream_fail(struct sim_op *op)
{
	struct hv *hv = op->hv;
	struct sim_dom *d = dom_find(hv, op->domid);
	bool	 builds = op_builds(op->kind);

	event_del(op->io);
	sim_settle(hv);
	if (d != NULL && d->busy == op)
		d->busy = NULL;
	if (d == NULL) {
		/* It vanished under the operation (hv_sim_kill, GONE). */
		op_finish(hv, op, HV_LOST, op->domid);
		return;
	}
	if (!builds)
		send_undo(hv, op, d);
	op_finish(hv, op, HV_FAILED, builds ? HV_SIM_DOMID_INVALID : op->domid);
	if (builds)
		dom_remove(hv, d, HV_DEATH_GONE);
}

/*
 * The receiver's header, a byte at a time: nothing after its newline is
 * ours to read.  -1 (logged) when it cannot be a stream's.
 */
static int
stream_header(struct sim_op *op)
{
	const char *what = hv_sim_op_names[op->kind];
	size_t	 len, magic_len = strlen(SIM_IMAGE_MAGIC);
	char	 c = op->hdr[op->hdr_len++];

	/* Garbage shows at once, not a line of it later. */
	if ((op->hdr_len <= magic_len && c != SIM_IMAGE_MAGIC[op->hdr_len - 1]) ||
	    (c != '\n' && op->hdr_len == sizeof(op->hdr) - 1)) {
		log_warnx("domain %u: %s: not an image", op->domid, what);
		return -1;
	}
	if (c != '\n')
		return 0;
	op->hdr[op->hdr_len] = '\0';
	if (image_header(op->domid, what, op->hdr, &len, &op->sum) == -1)
		return -1;
	/* The body, then its newline; image_header capped the length. */
	if ((op->buf = malloc(len + 1)) == NULL) {
		log_warn("domain %u: %s", op->domid, what);
		return -1;
	}
	op->off = 0;
	op->want = len + 1;
	return 0;
}

/* The whole stream went through: the operation's latency follows. */
static void
stream_done(struct sim_op *op)
{
	struct hv *hv = op->hv;
	struct sim_dom *d;

	event_del(op->io);
	if (op->kind == HV_SIM_OP_MIGRATE_RECEIVE) {
		/* The domain being built (a destroy would have stopped us). */
		d = dom_find(hv, op->domid);
		if (d == NULL || image_body(op->domid, hv_sim_op_names[op->kind],
		    op->buf, op->want - 1, op->sum, d->spec.name, true,
		    d->uuid) == -1) {
			stream_fail(op);
			return;
		}
	}
	free(op->buf);
	op->buf = NULL;
	op_schedule(hv, op);
}

/*
 * Moves a stream along as far as the socket lets it.  Never blocking:
 * the other end may be on this same loop.  A sender made to fail stops
 * halfway (want is short) and fails in op_fire.
 */
static void
stream_io(evutil_socket_t fd, short events, void *arg)
{
	struct sim_op *op = arg;
	const char *what = hv_sim_op_names[op->kind];
	bool	 sending = op->kind == HV_SIM_OP_MIGRATE_SEND;
	ssize_t	 n;
	bool	 header;

	(void)events;
	while (op->off < op->want || (!sending && op->buf == NULL)) {
		header = !sending && op->buf == NULL;
		/* MSG_NOSIGNAL: a receiver gone is an error, not SIGPIPE. */
		if (sending)
			n = send(fd, op->buf + op->off, op->want - op->off,
			    MSG_DONTWAIT | MSG_NOSIGNAL);
		else if (header)
			n = recv(fd, op->hdr + op->hdr_len, 1, MSG_DONTWAIT);
		else
			n = recv(fd, op->buf + op->off, op->want - op->off,
			    MSG_DONTWAIT);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return;
		if (n == 0)
			log_warnx("domain %u: %s: the stream ends early", op->domid,
			    what);
		else if (n == -1)
			log_warn("domain %u: %s", op->domid, what);
		if (n <= 0 || (header && stream_header(op) == -1)) {
			stream_fail(op);
			return;
		}
		if (!header)
			op->off += (size_t)n;
	}
	stream_done(op);
}

/* Create, restore and migrate receive: a new domain, built from the spec. */
static int
build_start(struct hv *hv, enum hv_sim_op kind, const struct vm_spec *spec,
    const char *image, int sock, bool paused, hv_done_cb cb, void *arg)
{
	const char *what = hv_sim_op_names[kind];
	struct sim_dom *d;
	struct sim_op *op;
	uint64_t free_mib;

	if (hv->base == NULL) {
		log_warnx("%s: no event loop", what);
		errno = EINVAL;
		return -1;
	}
	if (spec_check(spec, what) == -1 ||
	    (sock != -1 && sock_check(sock, what) == -1))
		return -1;
	if (image != NULL && strlen(image) >= sizeof(op->image)) {
		log_warnx("%s: %s: image path too long", what, spec->name);
		errno = ENAMETOOLONG;
		return -1;
	}
	if (hv->next_domid >= SIM_DOMID_LIMIT) {
		log_warnx("%s: %s: out of domids", what, spec->name);
		errno = ENOSPC;
		return -1;
	}
	if ((d = calloc(1, sizeof(*d))) == NULL) {
		log_warn("%s", __func__);
		return -1;
	}
	if ((op = op_new(hv, kind, HV_SIM_DOMID_INVALID, cb, arg)) == NULL) {
		free(d);
		return -1;
	}
	if (sock != -1 && (op->io = event_new(hv->base, sock, EV_READ | EV_PERSIST,
	    stream_io, op)) == NULL) {
		log_warnx("%s: %s: cannot watch the socket", what, spec->name);
		op_free(hv, op);
		free(d);
		errno = ENOMEM;
		return -1;
	}
	op->paused = paused;
	if (image != NULL)
		snprintf(op->image, sizeof(op->image), "%s", image);

	/* Refusals that libxl reports through the operation, stream unread. */
	free_mib = sim_free_mib(hv);
	if (dom_by_name(hv, spec->name) != NULL || spec->memory_mib > free_mib) {
		if (dom_by_name(hv, spec->name) != NULL)
			log_warnx("%s: %s: a domain of that name exists", what,
			    spec->name);
		else
			log_warnx("%s: %s: %" PRIu64 " MiB wanted, %" PRIu64
			    " free", what, spec->name, spec->memory_mib, free_mib);
		free(d);
		op_finish(hv, op, op->inject == HV_LOST ? HV_LOST : HV_FAILED,
		    HV_SIM_DOMID_INVALID);
		return 0;
	}

	d->hv = hv;
	d->domid = hv->next_domid++;
	d->spec = *spec;
	/* libxl's defaults: the maxima are the starting values. */
	d->max_vcpus = spec->max_vcpus ? spec->max_vcpus : spec->vcpus;
	d->max_mem_mib = spec->max_memory_mib ? spec->max_memory_mib :
	    spec->memory_mib;
	d->spec.max_vcpus = d->max_vcpus;
	d->spec.max_memory_mib = d->max_mem_mib;
	d->vcpus = spec->vcpus;
	d->mem_mib = spec->memory_mib;
	d->building = true;
	d->pauses = 1;
	sim_uuid(hv, d->uuid);
	d->busy = op;
	TAILQ_INSERT_TAIL(&hv->doms, d, entry);
	op->domid = d->domid;
	if (op->io != NULL)
		event_add(op->io, NULL);
	else
		op_schedule(hv, op);
	log_debug("domain %u (%s): %s started", d->domid, spec->name, what);
	return 0;
}

/* hv/hv.h */

struct hv *
hv_open(struct event_base *base, const struct hv_callbacks *cbs)
{
	struct hv *hv;
	struct sim_dom *dom0;

	if ((hv = calloc(1, sizeof(*hv))) == NULL ||
	    (dom0 = calloc(1, sizeof(*dom0))) == NULL) {
		log_warn("%s", __func__);
		free(hv);
		return NULL;
	}
	TAILQ_INIT(&hv->doms);
	TAILQ_INIT(&hv->ops);
	TAILQ_INIT(&hv->notes);
	hv->base = base;
	if (cbs != NULL)
		hv->cbs = *cbs;
	if ((hv->mono = evutil_monotonic_timer_new()) == NULL ||
	    evutil_configure_monotonic_time(hv->mono, 0) == -1 ||
	    (base != NULL &&
	    (hv->notes_ev = event_new(base, -1, 0, notes_fire, hv)) == NULL)) {
		log_warnx("%s: cannot set up the event loop", __func__);
		if (hv->mono != NULL)
			evutil_monotonic_timer_free(hv->mono);
		free(dom0);
		free(hv);
		return NULL;
	}
	hv->clock = HV_SIM_CLOCK_LOOP;
	hv->mono_mark = mono_ns(hv);
	hv->wall_at_open = time(NULL);
	memcpy(hv->latency_ms, default_latency_ms, sizeof(hv->latency_ms));
	hv->shutdown_delay_ms = 100;
	if (getrandom(&hv->rng, sizeof(hv->rng), GRND_NONBLOCK) !=
	    (ssize_t)sizeof(hv->rng))
		hv->rng = hv->mono_mark ^ (uint64_t)(uintptr_t)hv;
	hv->next_domid = 1;
	hv->cpus = 4;
	hv->total_mib = 16384;

	dom0->hv = hv;
	dom0->domid = 0;
	snprintf(dom0->spec.name, sizeof(dom0->spec.name), "Domain-0");
	snprintf(dom0->uuid, sizeof(dom0->uuid),
	    "00000000-0000-0000-0000-000000000000");
	dom0->spec.type = VM_TYPE_PV;
	dom0->vcpus = dom0->max_vcpus = dom0->spec.vcpus = hv->cpus;
	dom0->mem_mib = dom0->max_mem_mib = dom0->spec.memory_mib = 1024;
	TAILQ_INSERT_TAIL(&hv->doms, dom0, entry);
	return hv;
}

void
hv_close(struct hv *hv)
{
	struct sim_dom *d;
	struct sim_op *op;
	struct sim_note *n;

	if (hv == NULL)
		return;
	/* Nothing pending fires after this: every event is freed here. */
	while ((op = TAILQ_FIRST(&hv->ops)) != NULL)
		op_free(hv, op);
	while ((n = TAILQ_FIRST(&hv->notes)) != NULL) {
		TAILQ_REMOVE(&hv->notes, n, entry);
		free(n);
	}
	while ((d = TAILQ_FIRST(&hv->doms)) != NULL) {
		TAILQ_REMOVE(&hv->doms, d, entry);
		dom_free(d);
	}
	if (hv->notes_ev != NULL)
		event_free(hv->notes_ev);
	evutil_monotonic_timer_free(hv->mono);
	free(hv);
}

int
hv_host_info(struct hv *hv, struct hv_host *h)
{
	sim_settle(hv);
	memset(h, 0, sizeof(*h));
	h->cpus = hv->cpus;
	h->total_mib = hv->total_mib;
	h->free_mib = sim_free_mib(hv);
	h->cpu_idle_ns = hv->idle_ns;
	snprintf(h->name, sizeof(h->name), "%s", SIM_VERSION);
	return 0;
}

int
hv_list_domains(struct hv *hv, struct hv_domain **list_r, size_t *n_r)
{
	struct hv_domain *list;
	struct sim_dom *d;
	size_t	 n = 0, i = 0;

	sim_settle(hv);
	TAILQ_FOREACH(d, &hv->doms, entry)
		n++;
	if ((list = calloc(n, sizeof(*list))) == NULL) {
		log_warn("%s", __func__);
		return -1;
	}
	TAILQ_FOREACH(d, &hv->doms, entry)
		dom_fill(d, &list[i++]);
	*list_r = list;
	*n_r = n;
	return 0;
}

int
hv_domain_info(struct hv *hv, uint32_t domid, struct hv_domain *info)
{
	struct sim_dom *d;

	if ((d = dom_lookup(hv, domid, __func__)) == NULL)
		return -1;
	sim_settle(hv);
	dom_fill(d, info);
	return 0;
}

int
hv_domain_start_time(struct hv *hv, uint32_t domid, time_t *t_r)
{
	struct sim_dom *d;

	if ((d = dom_lookup(hv, domid, __func__)) == NULL)
		return -1;
	if (d->building) {
		errno = EAGAIN;
		return -1;
	}
	*t_r = hv->wall_at_open + (time_t)(d->started_ns / NS_PER_SEC);
	return 0;
}

int
hv_userdata_store(struct hv *hv, uint32_t domid, const void *data, size_t len)
{
	struct sim_dom *d;
	void	*copy = NULL;

	if ((d = dom_lookup(hv, domid, __func__)) == NULL)
		return -1;
	if (len > 0 && data == NULL) {
		errno = EINVAL;
		return -1;
	}
	/* Length 0 removes it, as with libxl_userdata_store. */
	if (len > 0) {
		if ((copy = malloc(len)) == NULL) {
			log_warn("%s", __func__);
			return -1;
		}
		memcpy(copy, data, len);
	}
	free(d->userdata);
	d->userdata = copy;
	d->userdata_len = len;
	return 0;
}

int
hv_userdata_retrieve(struct hv *hv, uint32_t domid, void **data_r,
    size_t *len_r)
{
	struct sim_dom *d;
	void	*copy;

	if ((d = dom_lookup(hv, domid, __func__)) == NULL)
		return -1;
	*data_r = NULL;
	*len_r = 0;
	if (d->userdata == NULL)
		return 0;
	if ((copy = malloc(d->userdata_len)) == NULL) {
		log_warn("%s", __func__);
		return -1;
	}
	memcpy(copy, d->userdata, d->userdata_len);
	*data_r = copy;
	*len_r = d->userdata_len;
	return 0;
}

int
hv_watch_domain(struct hv *hv, uint32_t domid)
{
	struct sim_dom *d;

	if (hv->base == NULL) {
		log_warnx("%s: no event loop", __func__);
		errno = EINVAL;
		return -1;
	}
	if ((d = dom_lookup(hv, domid, __func__)) == NULL)
		return -1;
	if (d->watched)
		return 0;
	/* Allocated now, so that the report itself cannot fail. */
	if (!d->reported && d->death_note == NULL &&
	    (d->death_note = calloc(1, sizeof(*d->death_note))) == NULL) {
		log_warn("%s", __func__);
		return -1;
	}
	d->watched = true;
	/* An adopted domain that is already down is reported at once. */
	if (d->shut)
		dom_report(hv, d, d->reason);
	return 0;
}

void
hv_unwatch_domain(struct hv *hv, uint32_t domid)
{
	struct sim_dom *d;
	struct sim_note *n, *next;
	bool	 dropped = false;

	/* A report not yet delivered is withdrawn, even for a gone domain. */
	for (n = TAILQ_FIRST(&hv->notes); n != NULL; n = next) {
		next = TAILQ_NEXT(n, entry);
		if (n->is_death && n->domid == domid) {
			TAILQ_REMOVE(&hv->notes, n, entry);
			free(n);
			dropped = true;
		}
	}
	if ((d = dom_find(hv, domid)) == NULL)
		return;
	d->watched = false;
	free(d->death_note);
	d->death_note = NULL;
	if (dropped)
		d->reported = false;
}

int
hv_create(struct hv *hv, const struct vm_spec *spec, bool paused,
    hv_done_cb cb, void *arg)
{
	return build_start(hv, HV_SIM_OP_CREATE, spec, NULL, -1, paused, cb, arg);
}

int
hv_restore(struct hv *hv, const struct vm_spec *spec, const char *image,
    bool paused, hv_done_cb cb, void *arg)
{
	int	 fd;

	if (image == NULL || image[0] == '\0') {
		log_warnx("%s: no image", __func__);
		errno = EINVAL;
		return -1;
	}
	/* As hv/libxl.c opens it before libxl starts: missing is refused. */
	if ((fd = open(image, O_RDONLY | O_CLOEXEC)) == -1) {
		log_warn("%s: %s", __func__, image);
		return -1;
	}
	close(fd);
	return build_start(hv, HV_SIM_OP_RESTORE, spec, image, -1, paused, cb,
	    arg);
}

int
hv_save(struct hv *hv, uint32_t domid, const char *image, hv_done_cb cb,
    void *arg)
{
	struct sim_dom *d;
	struct sim_op *op;
	char	 partial[sizeof(op->partial)];
	int	 fd, n;

	if ((d = op_target(hv, HV_SIM_OP_SAVE, domid)) == NULL)
		return -1;
	n = snprintf(partial, sizeof(partial), "%s.partial", image ? image : "");
	if (image == NULL || image[0] == '\0' || strlen(image) >= sizeof(op->image) ||
	    n < 0 || (size_t)n >= sizeof(partial)) {
		log_warnx("%s: domain %u: bad image path", __func__, domid);
		errno = EINVAL;
		return -1;
	}
	/* The image's directory must be writable now, as with hv/libxl.c. */
	if ((fd = open(partial, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC,
	    0600)) == -1) {
		log_warn("%s: domain %u: %s", __func__, domid, partial);
		return -1;
	}
	close(fd);
	if ((op = op_start(hv, d, HV_SIM_OP_SAVE, cb, arg)) == NULL) {
		unlink(partial);
		return -1;
	}
	snprintf(op->image, sizeof(op->image), "%s", image);
	memcpy(op->partial, partial, sizeof(op->partial));
	return 0;
}

int
hv_pause(struct hv *hv, uint32_t domid, hv_done_cb cb, void *arg)
{
	return simple_op(hv, HV_SIM_OP_PAUSE, domid, cb, arg);
}

int
hv_unpause(struct hv *hv, uint32_t domid, hv_done_cb cb, void *arg)
{
	return simple_op(hv, HV_SIM_OP_UNPAUSE, domid, cb, arg);
}

int
hv_shutdown(struct hv *hv, uint32_t domid, hv_done_cb cb, void *arg)
{
	return simple_op(hv, HV_SIM_OP_SHUTDOWN, domid, cb, arg);
}

int
hv_destroy(struct hv *hv, uint32_t domid, hv_done_cb cb, void *arg)
{
	return simple_op(hv, HV_SIM_OP_DESTROY, domid, cb, arg);
}

/* Out of range is refused at once, as libxl_set_vcpuonline does. */
int
hv_set_vcpus(struct hv *hv, uint32_t domid, unsigned vcpus, hv_done_cb cb,
    void *arg)
{
	struct sim_dom *d;
	struct sim_op *op;

	if ((d = op_target(hv, HV_SIM_OP_SET_VCPUS, domid)) == NULL)
		return -1;
	if (vcpus == 0 || vcpus > d->max_vcpus) {
		log_warnx("%s: domain %u: %u vCPUs not in 1..%u", __func__, domid,
		    vcpus, d->max_vcpus);
		errno = EINVAL;
		return -1;
	}
	if ((op = op_start(hv, d, HV_SIM_OP_SET_VCPUS, cb, arg)) == NULL)
		return -1;
	op->vcpus = vcpus;
	return 0;
}

int
hv_set_memory(struct hv *hv, uint32_t domid, uint64_t mib, hv_done_cb cb,
    void *arg)
{
	struct sim_dom *d;
	struct sim_op *op;
	uint64_t free_mib;

	if ((d = op_target(hv, HV_SIM_OP_SET_MEMORY, domid)) == NULL)
		return -1;
	if (mib == 0 || mib > d->max_mem_mib) {
		log_warnx("%s: domain %u: %" PRIu64 " MiB not in 1..%" PRIu64,
		    __func__, domid, mib, d->max_mem_mib);
		errno = EINVAL;
		return -1;
	}
	free_mib = sim_free_mib(hv);
	if (mib > d->mem_mib && mib - d->mem_mib > free_mib) {
		log_warnx("%s: domain %u: %" PRIu64 " MiB: only %" PRIu64
		    " free", __func__, domid, mib, free_mib);
		errno = ENOMEM;
		return -1;
	}
	if ((op = op_start(hv, d, HV_SIM_OP_SET_MEMORY, cb, arg)) == NULL)
		return -1;
	op->mib = mib;
	return 0;
}

int
hv_migrate_send(struct hv *hv, uint32_t domid, int fd, bool live,
    hv_done_cb cb, void *arg)
{
	const char *what = hv_sim_op_names[HV_SIM_OP_MIGRATE_SEND];
	struct sim_dom *d;
	struct sim_op *op;
	char	*buf;
	size_t	 len;

	if ((d = op_target(hv, HV_SIM_OP_MIGRATE_SEND, domid)) == NULL ||
	    sock_check(fd, what) == -1)
		return -1;
	/* What the guest is now: live, nothing changes it while it goes. */
	if (image_encode(d, what, &buf, &len) == -1) {
		errno = ENOMEM;
		return -1;
	}
	if ((op = op_new(hv, HV_SIM_OP_MIGRATE_SEND, domid, cb, arg)) == NULL) {
		free(buf);
		return -1;
	}
	op->buf = buf;
	if ((op->io = event_new(hv->base, fd, EV_WRITE | EV_PERSIST, stream_io,
	    op)) == NULL) {
		log_warnx("%s: domain %u: cannot watch the socket", what, domid);
		op_free(hv, op);
		errno = ENOMEM;
		return -1;
	}
	/* Made to fail, it breaks off halfway, as a broken migration does. */
	op->want = op->inject != HV_OK ? len / 2 : len;
	if (d->shut) {
		/* libxl cannot suspend a guest that is down (or suspended). */
		log_warnx("domain %u: %s: the domain has shut down", domid, what);
		op_finish(hv, op, HV_FAILED, domid);
		return 0;
	}
	d->busy = op;
	if (!live) {
		dom_suspend(hv, d);
		op->suspended = true;
	}
	event_add(op->io, NULL);
	log_debug("domain %u (%s): %s started, %s", domid, d->spec.name, what,
	    live ? "live" : "suspended");
	return 0;
}

int
hv_migrate_receive(struct hv *hv, const struct vm_spec *spec, int fd,
    hv_done_cb cb, void *arg)
{
	/* Paused: the caller renames it and starts it once the sender lets go. */
	return build_start(hv, HV_SIM_OP_MIGRATE_RECEIVE, spec, NULL, fd, true,
	    cb, arg);
}

/* Synchronous, as libxl_domain_rename is (a xenstore transaction). */
int
hv_rename(struct hv *hv, uint32_t domid, const char *name)
{
	struct sim_dom *d, *other;

	if ((d = dom_lookup(hv, domid, __func__)) == NULL)
		return -1;
	if (domid == 0) {
		log_warnx("%s: domain 0 is dom0", __func__);
		errno = EPERM;
		return -1;
	}
	if (name == NULL || name[0] == '\0' ||
	    strlen(name) >= sizeof(d->spec.name)) {
		log_warnx("%s: domain %u: bad name", __func__, domid);
		errno = EINVAL;
		return -1;
	}
	if ((other = dom_by_name(hv, name)) != NULL && other != d) {
		log_warnx("%s: domain %u: domain %u is named %s", __func__, domid,
		    other->domid, name);
		errno = EEXIST;
		return -1;
	}
	snprintf(d->spec.name, sizeof(d->spec.name), "%s", name);
	return 0;
}

/*
 * Not libxl's JSON: the simulator has no libxl.  The golden-file tests of
 * the spec → libxl translation run against hv/libxl.c only.
 */
char *
hv_spec_to_json(struct hv *hv, const struct vm_spec *spec)
{
	json_t	*j;
	char	*s;

	(void)hv;
	if (spec_check(spec, __func__) == -1)
		return NULL;
	if ((j = spec_json(spec)) == NULL) {
		log_warnx("%s: %s: cannot encode", __func__, spec->name);
		return NULL;
	}
	s = json_dumps(j, JSON_INDENT(2));
	json_decref(j);
	if (s == NULL)
		log_warnx("%s: %s: cannot encode", __func__, spec->name);
	return s;
}

/* hvsim/sim.h */

int
hv_sim_set_host(struct hv *hv, unsigned cpus, uint64_t total_mib,
    uint64_t dom0_mib)
{
	struct sim_dom *dom0 = TAILQ_FIRST(&hv->doms);

	if (cpus == 0 || dom0_mib == 0 || dom0_mib > total_mib) {
		errno = EINVAL;
		return -1;
	}
	if (TAILQ_NEXT(dom0, entry) != NULL) {
		log_warnx("%s: guests exist", __func__);
		errno = EBUSY;
		return -1;
	}
	sim_settle(hv);
	hv->cpus = cpus;
	hv->total_mib = total_mib;
	dom0->vcpus = dom0->max_vcpus = dom0->spec.vcpus = cpus;
	dom0->mem_mib = dom0->max_mem_mib = dom0->spec.memory_mib = dom0_mib;
	return 0;
}

int
hv_sim_set_latency(struct hv *hv, enum hv_sim_op op, unsigned ms)
{
	if ((unsigned)op >= HV_SIM_OP__COUNT) {
		errno = EINVAL;
		return -1;
	}
	hv->latency_ms[op] = ms;
	return 0;
}

void
hv_sim_set_shutdown_delay(struct hv *hv, unsigned ms)
{
	hv->shutdown_delay_ms = ms;
}

int
hv_sim_fail_next(struct hv *hv, enum hv_sim_op op, enum hv_result res)
{
	if ((unsigned)op >= HV_SIM_OP__COUNT || (unsigned)res > HV_LOST) {
		errno = EINVAL;
		return -1;
	}
	hv->inject[op] = res;
	return 0;
}

int
hv_sim_kill(struct hv *hv, uint32_t domid, enum hv_death why)
{
	struct sim_dom *d;

	if ((unsigned)why > HV_DEATH_GONE) {
		errno = EINVAL;
		return -1;
	}
	if ((d = dom_lookup(hv, domid, __func__)) == NULL)
		return -1;
	if (domid == 0) {
		errno = EPERM;
		return -1;
	}
	/* Nothing runs yet to die; destroy is how a build is cut short. */
	if (d->building) {
		errno = EBUSY;
		return -1;
	}
	if (why == HV_DEATH_GONE)
		dom_remove(hv, d, HV_DEATH_GONE);
	else if (d->shut) {
		errno = EALREADY;
		return -1;
	} else
		dom_shut(hv, d, why);
	return 0;
}

int
hv_sim_set_load(struct hv *hv, uint32_t domid, double cpus_busy)
{
	struct sim_dom *d;

	if (!isfinite(cpus_busy) || cpus_busy < 0) {
		errno = EINVAL;
		return -1;
	}
	if ((d = dom_lookup(hv, domid, __func__)) == NULL)
		return -1;
	sim_settle(hv);
	d->load = cpus_busy;
	return 0;
}

size_t
hv_sim_pending(struct hv *hv)
{
	struct sim_dom *d;
	struct sim_op *op;
	struct sim_note *n;
	size_t	 count = 0;

	TAILQ_FOREACH(op, &hv->ops, entry)
		count++;
	TAILQ_FOREACH(n, &hv->notes, entry)
		count++;
	TAILQ_FOREACH(d, &hv->doms, entry)
		if (d->poweroff != NULL && evtimer_pending(d->poweroff, NULL))
			count++;
	return count;
}

int
hv_resume(struct hv *hv, uint32_t domid)
{
	struct sim_dom *d;

	if ((d = dom_lookup(hv, domid, __func__)) == NULL)
		return -1;
	/* Like libxl: only a guest that a suspend stopped can go on. */
	if (!d->shut || d->reason != HV_DEATH_SUSPEND) {
		errno = EINVAL;
		log_debug("domain %u: resume: not suspended", domid);
		return -1;
	}
	/* A send still under way undoes its own suspend if it fails. */
	if (d->busy != NULL) {
		errno = EBUSY;
		log_debug("domain %u: resume: %s under way", domid,
		    hv_sim_op_names[d->busy->kind]);
		return -1;
	}
	sim_settle(hv);
	d->shut = false;
	return 0;
}

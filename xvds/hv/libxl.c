/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * hv/libxl.c — the hypervisor seam (hv/hv.h) over libxl.  The only file of
 * XVDS that includes libxl.h: it owns the libxl context, routes libxl's
 * log (xentoollog) into ours, plugs libxl's OS-event hooks into the
 * daemon's libevent loop, and turns a struct vm_spec into a libxl domain
 * configuration.
 */
#include <config.h>

/* The libxl API we are written against; newer Xen keeps it available. */
#define LIBXL_API_VERSION 0x041300

#include <sys/queue.h>
#include <sys/time.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#include <event2/event.h>
#include <libxl.h>
#include <libxl_utils.h>
#include <xentoollog.h>

#include "hv/hv.h"
#include "hv/timer_at.h"
#include "common/log.h"

/* Features this file relies on; all present since Xen 4.10. */
#if !defined(LIBXL_HAVE_BUILDINFO_KERNEL) || \
    !defined(LIBXL_HAVE_DOMAIN_CREATE_RESTORE_SEND_BACK_FD)
#error "libxl too old: XVDS needs Xen 4.10 or later (Debian: libxen-dev)"
#endif

#define USERDATA_ID	"xvds"	/* libxl userdata key of our identity blob */

/* A xentoollog logger whose messages land in common/log.c. */
struct hv_logger {
	xentoollog_logger vtable;	/* first: libxl sees only this */
};

/* A domain whose death libxl reports to us. */
struct hv_watch {
	LIST_ENTRY(hv_watch) entry;
	uint32_t	 domid;
	libxl_evgen_domain_death *evgen;
	bool		 reported;
};

enum hv_op_kind {
	OP_CREATE, OP_RESTORE, OP_SAVE, OP_SAVE_DESTROY, OP_PAUSE, OP_UNPAUSE,
	OP_SHUTDOWN, OP_DESTROY, OP_SET_VCPUS, OP_SET_MEMORY, OP_MIGRATE_SEND,
	OP_MIGRATE_RECEIVE,
};

static const char *const op_names[] = {
	[OP_CREATE] = "create", [OP_RESTORE] = "restore", [OP_SAVE] = "save",
	[OP_SAVE_DESTROY] = "save", [OP_PAUSE] = "pause",
	[OP_UNPAUSE] = "unpause", [OP_SHUTDOWN] = "shutdown",
	[OP_DESTROY] = "destroy", [OP_SET_VCPUS] = "set vcpus",
	[OP_SET_MEMORY] = "set memory", [OP_MIGRATE_SEND] = "migrate send",
	[OP_MIGRATE_RECEIVE] = "migrate receive",
};

/* An operation under way: what to do when libxl says it ended. */
struct hv_op {
	LIST_ENTRY(hv_op) entry;
	struct hv	*hv;
	enum hv_op_kind	 kind;
	hv_done_cb	 cb;
	void		*arg;
	uint32_t	 domid;
	bool		 paused;	/* create/restore: leave it paused;
					   save: it was paused before */
	int		 fd;		/* save/restore image, -1 if none */
	int		 sock;		/* migrate: the caller's, -1 if none */
	int		 sock_flags;	/* migrate: its file status flags */
	char		*path;		/* save: the final image path */
	char		*tmp_path;	/* save: written here, renamed when whole */
	libxl_domain_config config;
	libxl_asyncop_how how;
	enum hv_result	 result;
	struct event	*deliver;	/* the deferred callback */
};

struct hv {
	libxl_ctx	*ctx;
	struct hv_logger logger;
	struct event_base *base;
	struct hv_callbacks cbs;
	LIST_HEAD(, hv_watch) watches;
	LIST_HEAD(, hv_op) ops;
	struct event	*disaster_ev;
};

/* libxl's log, into ours. */

static void
logger_vmessage(xentoollog_logger *lg, xentoollog_level level, int errnoval,
    const char *context, const char *fmt, va_list ap)
{
	char	 msg[1024];
	int	 prio;

	(void)lg;
	if (level >= XTL_ERROR)
		prio = LOG_ERR;
	else if (level >= XTL_WARN)
		prio = LOG_WARNING;
	else if (level >= XTL_PROGRESS)
		prio = LOG_INFO;
	else
		prio = LOG_DEBUG;
	/* libxl's debugging is voluminous: only with -vv. */
	if (prio == LOG_DEBUG && log_getverbose() < 2)
		return;
	vsnprintf(msg, sizeof(msg), fmt, ap);
	if (errnoval >= 0)
		log_at(prio, "%s: %s: %s", context ? context : "libxl", msg,
		    strerror(errnoval));
	else
		log_at(prio, "%s: %s", context ? context : "libxl", msg);
}

static void
logger_progress(xentoollog_logger *lg, const char *context,
    const char *doing_what, int percent, unsigned long done,
    unsigned long total)
{
	(void)lg;
	(void)done;
	(void)total;
	log_debug("%s: %s: %d%%", context ? context : "libxl", doing_what,
	    percent);
}

static void
logger_destroy(xentoollog_logger *lg)
{
	(void)lg;	/* embedded in struct hv */
}

/*
 * libxl's OS-event hooks on libevent.  libxl asks for poll(2) events on
 * fds and for absolute timeouts; we call it back from the loop.
 */

struct hv_fd {
	struct hv	*hv;
	struct event	*ev;
	int		 fd;
	short		 events;	/* poll(2) events libxl asked for */
	void		*for_libxl;
};

struct hv_timeout {
	struct hv	*hv;
	struct event	*ev;
	void		*for_libxl;
};

static short
poll_to_ev(short events)
{
	return (short)(((events & (POLLIN | POLLPRI)) ? EV_READ : 0) |
	    ((events & POLLOUT) ? EV_WRITE : 0));
}

static void
fd_ready(evutil_socket_t fd, short what, void *arg)
{
	struct hv_fd *f = arg;
	short	 revents = 0;

	if (what & EV_READ)
		revents |= f->events & (POLLIN | POLLPRI);
	if (what & EV_WRITE)
		revents |= POLLOUT;
	libxl_osevent_occurred_fd(f->hv->ctx, f->for_libxl, (int)fd, f->events,
	    revents);
}

static int
fd_arm(struct hv_fd *f, short events)
{
	if (f->ev != NULL)
		event_free(f->ev);
	f->ev = NULL;
	f->events = events;
	/* events == 0 must work, and report nothing: no libevent event. */
	if (poll_to_ev(events) == 0)
		return 0;
	f->ev = event_new(f->hv->base, f->fd, poll_to_ev(events) | EV_PERSIST,
	    fd_ready, f);
	if (f->ev == NULL || event_add(f->ev, NULL) == -1) {
		log_warnx("libxl fd %d: cannot register with the event loop", f->fd);
		return ERROR_OSEVENT_REG_FAIL;
	}
	return 0;
}

static int
hook_fd_register(void *user, int fd, void **reg_out, short events,
    void *for_libxl)
{
	struct hv_fd *f;
	int	 rc;

	if ((f = calloc(1, sizeof(*f))) == NULL)
		return ERROR_OSEVENT_REG_FAIL;
	f->hv = user;
	f->fd = fd;
	f->for_libxl = for_libxl;
	if ((rc = fd_arm(f, events)) != 0) {
		free(f);
		return rc;
	}
	*reg_out = f;
	return 0;
}

static int
hook_fd_modify(void *user, int fd, void **reg_update, short events)
{
	(void)user;
	(void)fd;
	return fd_arm(*reg_update, events);
}

static void
hook_fd_deregister(void *user, int fd, void *reg)
{
	struct hv_fd *f = reg;

	(void)user;
	(void)fd;
	if (f->ev != NULL)
		event_free(f->ev);
	free(f);
}

static void
timeout_fired(evutil_socket_t fd, short what, void *arg)
{
	struct hv_timeout *t = arg;
	libxl_ctx *ctx = t->hv->ctx;
	void	*for_libxl = t->for_libxl;

	(void)fd;
	(void)what;
	if (log_getverbose() >= 2)
		log_debug("libxl timeout %p (libxl's %p): fired", (void *)t,
		    for_libxl);
	/* An occurred timeout is deregistered: libxl will not touch t again. */
	event_free(t->ev);
	free(t);
	libxl_osevent_occurred_timeout(ctx, for_libxl);
}

/*
 * libxl's timeouts are absolute.  Its device waits (10 s for a backend)
 * are armed at the end of a domain build that runs synchronously in one
 * callback, for seconds under load: timer_at() counts from now, not from
 * when the loop woke, or those waits would time out at once.
 */
static int
timeout_arm(struct hv_timeout *t, struct timeval abs)
{
	if (log_getverbose() >= 2) {
		struct timeval now, rel = { 0, 0 };

		gettimeofday(&now, NULL);
		if (timercmp(&abs, &now, >))
			timersub(&abs, &now, &rel);
		log_debug("libxl timeout %p (libxl's %p): in %ld.%06ld s",
		    (void *)t, t->for_libxl, (long)rel.tv_sec,
		    (long)rel.tv_usec);
	}
	return timer_at(t->hv->base, t->ev, abs) == -1 ?
	    ERROR_OSEVENT_REG_FAIL : 0;
}

static int
hook_timeout_register(void *user, void **reg_out, struct timeval abs,
    void *for_libxl)
{
	struct hv_timeout *t;
	struct hv *hv = user;

	if ((t = calloc(1, sizeof(*t))) == NULL)
		return ERROR_OSEVENT_REG_FAIL;
	t->hv = hv;
	t->for_libxl = for_libxl;
	if ((t->ev = evtimer_new(hv->base, timeout_fired, t)) == NULL ||
	    timeout_arm(t, abs) != 0) {
		if (t->ev != NULL)
			event_free(t->ev);
		free(t);
		return ERROR_OSEVENT_REG_FAIL;
	}
	*reg_out = t;
	return 0;
}

/* Only ever "as soon as possible" (abs = 0). */
static int
hook_timeout_modify(void *user, void **reg_update, struct timeval abs)
{
	struct hv_timeout *t = *reg_update;

	(void)user;
	return timeout_arm(t, abs);
}

static void
hook_timeout_deregister(void *user, void *reg)
{
	struct hv_timeout *t = reg;

	(void)user;
	event_free(t->ev);
	free(t);
}

static const libxl_osevent_hooks osevent_hooks = {
	.fd_register = hook_fd_register,
	.fd_modify = hook_fd_modify,
	.fd_deregister = hook_fd_deregister,
	.timeout_register = hook_timeout_register,
	.timeout_modify = hook_timeout_modify,
	.timeout_deregister = hook_timeout_deregister,
};

/* Domain death reports. */

static struct hv_watch *
watch_find(struct hv *hv, uint32_t domid)
{
	struct hv_watch *w;

	LIST_FOREACH(w, &hv->watches, entry)
		if (w->domid == domid)
			return w;
	return NULL;
}

static enum hv_death
death_reason(int shutdown_reason)
{
	switch (shutdown_reason) {
	case LIBXL_SHUTDOWN_REASON_POWEROFF:
		return HV_DEATH_POWEROFF;
	case LIBXL_SHUTDOWN_REASON_REBOOT:
	case LIBXL_SHUTDOWN_REASON_SOFT_RESET:
		return HV_DEATH_REBOOT;
	case LIBXL_SHUTDOWN_REASON_SUSPEND:
		return HV_DEATH_SUSPEND;
	case LIBXL_SHUTDOWN_REASON_WATCHDOG:
		return HV_DEATH_WATCHDOG;
	default:
		return HV_DEATH_CRASH;
	}
}

static void
report_death(struct hv *hv, uint32_t domid, enum hv_death why)
{
	struct hv_watch *w = watch_find(hv, domid);

	if (w == NULL || w->reported)
		return;
	w->reported = true;
	log_debug("domain %u: %s", domid, hv_death_names[why]);
	if (hv->cbs.domain_died != NULL)
		hv->cbs.domain_died(hv->cbs.arg, domid, why);
}

/*
 * libxl reports a shutdown once per watch, and a suspend that we kept
 * quiet (a save or migration) uses that report up.  A guest resumed from
 * it gets a new watch, or its real end would never be heard of.
 */
static void
watch_renew(struct hv *hv, uint32_t domid)
{
	libxl_evgen_domain_death *evgen;
	struct hv_watch *w = watch_find(hv, domid);

	if (w == NULL || w->reported)
		return;
	/* The new one first: the old keeps libxl's xenstore watch alive. */
	if (libxl_evenable_domain_death(hv->ctx, domid, 0, &evgen) != 0) {
		log_warnx("libxl: domain %u: cannot renew the watch for its death",
		    domid);
		return;
	}
	libxl_evdisable_domain_death(hv->ctx, w->evgen);
	w->evgen = evgen;
}

static void
event_occurs(void *user, libxl_event *ev)
{
	struct hv *hv = user;

	switch (ev->type) {
	case LIBXL_EVENT_TYPE_DOMAIN_SHUTDOWN:
		/*
		 * A suspend is how a save or a migration ends: its own
		 * completion tells the daemon, so it is not a death.
		 */
		if (ev->u.domain_shutdown.shutdown_reason !=
		    LIBXL_SHUTDOWN_REASON_SUSPEND)
			report_death(hv, ev->domid,
			    death_reason(ev->u.domain_shutdown.shutdown_reason));
		break;
	case LIBXL_EVENT_TYPE_DOMAIN_DEATH:
		report_death(hv, ev->domid, HV_DEATH_GONE);
		break;
	default:
		log_debug("libxl event %d for domain %u ignored", ev->type,
		    ev->domid);
		break;
	}
	libxl_event_free(hv->ctx, ev);
}

static void
disaster_later(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	(void)arg;
	/* libxl may no longer report events: only a restart is safe. */
	fatalx("libxl reported a disaster; exiting so that the service restarts");
}

/* No libxl call is allowed here: defer the exit to the loop. */
static void
disaster(void *user, libxl_event_type type, const char *msg, int errnoval)
{
	struct hv *hv = user;

	log_warnx("libxl disaster (event type %d): %s: %s", (int)type, msg,
	    errnoval > 0 ? strerror(errnoval) : "no error code");
	if (hv->disaster_ev != NULL)
		event_active(hv->disaster_ev, EV_TIMEOUT, 0);
}

static const libxl_event_hooks event_hooks = {
	.event_occurs_mask = LIBXL_EVENTMASK_ALL,
	.event_occurs = event_occurs,
	.disaster = disaster,
};

/*
 * xvdsd starts no child processes of its own, so libxl may own SIGCHLD
 * for good: it then reaps its helpers (libxl-save-helper, hotplug
 * scripts) without our help.
 */
static const libxl_childproc_hooks childproc_hooks = {
	.chldowner = libxl_sigchld_owner_libxl_always,
};

struct hv *
hv_open(struct event_base *base, const struct hv_callbacks *cbs)
{
	struct hv *hv;
	int	 rc;

	if ((hv = calloc(1, sizeof(*hv))) == NULL) {
		log_warn("%s", __func__);
		return NULL;
	}
	hv->base = base;
	if (cbs != NULL)
		hv->cbs = *cbs;
	LIST_INIT(&hv->watches);
	LIST_INIT(&hv->ops);
	hv->logger.vtable.vmessage = logger_vmessage;
	hv->logger.vtable.progress = logger_progress;
	hv->logger.vtable.destroy = logger_destroy;
	rc = libxl_ctx_alloc(&hv->ctx, LIBXL_VERSION, 0, &hv->logger.vtable);
	if (rc != 0) {
		log_warnx("cannot open libxl (is this dom0, with xenstored "
		    "running?): error %d", rc);
		free(hv);
		return NULL;
	}
	if (base != NULL) {
		hv->disaster_ev = event_new(base, -1, 0, disaster_later, hv);
		if (hv->disaster_ev == NULL) {
			log_warnx("%s: event_new", __func__);
			libxl_ctx_free(hv->ctx);
			free(hv);
			return NULL;
		}
		libxl_osevent_register_hooks(hv->ctx, &osevent_hooks, hv);
		libxl_event_register_callbacks(hv->ctx, &event_hooks, hv);
		libxl_childproc_setmode(hv->ctx, &childproc_hooks, hv);
	}
	return hv;
}

static void op_free(struct hv_op *);

void
hv_close(struct hv *hv)
{
	struct hv_watch *w;
	struct hv_op *op;

	if (hv == NULL)
		return;
	while ((w = LIST_FIRST(&hv->watches)) != NULL) {
		LIST_REMOVE(w, entry);
		libxl_evdisable_domain_death(hv->ctx, w->evgen);
		free(w);
	}
	/*
	 * The daemon waits for its operations before closing; any left are
	 * dropped here and their callbacks never run.
	 */
	while ((op = LIST_FIRST(&hv->ops)) != NULL) {
		log_warnx("closing with a %s of domain %u under way",
		    op_names[op->kind], op->domid);
		LIST_REMOVE(op, entry);
		op_free(op);
	}
	libxl_ctx_free(hv->ctx);
	if (hv->disaster_ev != NULL)
		event_free(hv->disaster_ev);
	free(hv);
}

/* Information. */

int
hv_host_info(struct hv *hv, struct hv_host *h)
{
	libxl_physinfo pi;
	const libxl_version_info *vi;
	int	 rc;

	memset(h, 0, sizeof(*h));
	libxl_physinfo_init(&pi);
	rc = libxl_get_physinfo(hv->ctx, &pi);
	if (rc != 0) {
		log_warnx("libxl: cannot read the host's physical information");
		libxl_physinfo_dispose(&pi);
		return -1;
	}
	h->cpus = pi.nr_cpus;
	/* Pages are 4 KiB on x86. */
	h->total_mib = pi.total_pages / 256;
	h->free_mib = pi.free_pages / 256;
	libxl_physinfo_dispose(&pi);
	if ((vi = libxl_get_version_info(hv->ctx)) != NULL)
		snprintf(h->name, sizeof(h->name), "xen %d.%d%s",
		    vi->xen_version_major, vi->xen_version_minor,
		    vi->xen_version_extra ? vi->xen_version_extra : "");
	return 0;
}

static enum hv_dom_state
dom_state(const libxl_dominfo *d)
{
	if (d->dying)
		return HV_DOM_DYING;
	if (d->shutdown)
		return HV_DOM_SHUTDOWN;
	if (d->paused)
		return HV_DOM_PAUSED;
	if (d->blocked)
		return HV_DOM_BLOCKED;
	return HV_DOM_RUNNING;
}

static void
fill_domain(struct hv *hv, const libxl_dominfo *info, struct hv_domain *d)
{
	char	*name;

	memset(d, 0, sizeof(*d));
	d->domid = info->domid;
	name = libxl_domid_to_name(hv->ctx, d->domid);
	/* No name: the domain is being built or going away. */
	snprintf(d->name, sizeof(d->name), "%s", name ? name : "-");
	free(name);
	snprintf(d->uuid, sizeof(d->uuid), LIBXL_UUID_FMT,
	    LIBXL_UUID_BYTES(info->uuid));
	d->state = dom_state(info);
	d->mem_kib = info->current_memkb;
	d->max_mem_kib = info->max_memkb;
	d->vcpus = info->vcpu_online;
	d->cpu_time_ns = info->cpu_time;
	d->shutdown_reason = (int)death_reason(info->shutdown_reason);
}

int
hv_resume(struct hv *hv, uint32_t domid)
{
	/* Cooperative: the guest learns its suspend was cancelled. */
	if (libxl_domain_resume(hv->ctx, domid, 1, NULL) != 0) {
		log_warnx("libxl: domain %u: cannot resume it", domid);
		return -1;
	}
	watch_renew(hv, domid);
	return 0;
}

int
hv_list_domains(struct hv *hv, struct hv_domain **list_r, size_t *n_r)
{
	libxl_dominfo *info = NULL;
	struct hv_domain *list = NULL;
	int	 i, n = 0, rc = -1;

	info = libxl_list_domain(hv->ctx, &n);
	if (info == NULL) {
		log_warnx("libxl: cannot list domains");
		goto out;
	}
	if ((list = calloc((size_t)n ? (size_t)n : 1, sizeof(*list))) == NULL) {
		log_warn("%s", __func__);
		goto out;
	}
	for (i = 0; i < n; i++)
		fill_domain(hv, &info[i], &list[i]);
	*list_r = list;
	*n_r = (size_t)n;
	list = NULL;
	rc = 0;
 out:
	free(list);
	if (info != NULL)
		libxl_dominfo_list_free(info, n);
	return rc;
}

int
hv_domain_info(struct hv *hv, uint32_t domid, struct hv_domain *d)
{
	libxl_dominfo info;
	int	 rc;

	libxl_dominfo_init(&info);
	rc = libxl_domain_info(hv->ctx, &info, domid);
	if (rc == ERROR_DOMAIN_NOTFOUND) {
		libxl_dominfo_dispose(&info);
		errno = ENOENT;
		return -1;
	}
	if (rc != 0) {
		log_warnx("libxl: domain %u: cannot read its information", domid);
		libxl_dominfo_dispose(&info);
		errno = EIO;
		return -1;
	}
	fill_domain(hv, &info, d);
	libxl_dominfo_dispose(&info);
	return 0;
}

int
hv_domain_start_time(struct hv *hv, uint32_t domid, time_t *t_r)
{
	uint32_t t;

	t = libxl_vm_get_start_time(hv->ctx, domid);
	if (t == (uint32_t)-1)
		return -1;
	*t_r = (time_t)t;
	return 0;
}

int
hv_userdata_store(struct hv *hv, uint32_t domid, const void *data, size_t len)
{
	if (len == 0 || len > 65536) {
		log_warnx("domain %u: userdata of %zu bytes refused", domid, len);
		return -1;
	}
	if (libxl_userdata_store(hv->ctx, domid, USERDATA_ID, data, (int)len) != 0) {
		log_warnx("libxl: domain %u: cannot store userdata", domid);
		return -1;
	}
	return 0;
}

int
hv_userdata_retrieve(struct hv *hv, uint32_t domid, void **data_r, size_t *len_r)
{
	uint8_t	*data = NULL;
	int	 len = 0;

	if (libxl_userdata_retrieve(hv->ctx, domid, USERDATA_ID, &data, &len) != 0) {
		log_warnx("libxl: domain %u: cannot read userdata", domid);
		return -1;
	}
	*data_r = data;
	*len_r = data != NULL ? (size_t)len : 0;
	return 0;
}

int
hv_watch_domain(struct hv *hv, uint32_t domid)
{
	struct hv_watch *w;

	if (watch_find(hv, domid) != NULL)
		return 0;
	if ((w = calloc(1, sizeof(*w))) == NULL) {
		log_warn("%s", __func__);
		return -1;
	}
	w->domid = domid;
	if (libxl_evenable_domain_death(hv->ctx, domid, 0, &w->evgen) != 0) {
		log_warnx("libxl: domain %u: cannot watch for its death", domid);
		free(w);
		return -1;
	}
	LIST_INSERT_HEAD(&hv->watches, w, entry);
	return 0;
}

void
hv_unwatch_domain(struct hv *hv, uint32_t domid)
{
	struct hv_watch *w = watch_find(hv, domid);

	if (w == NULL)
		return;
	LIST_REMOVE(w, entry);
	libxl_evdisable_domain_death(hv->ctx, w->evgen);
	free(w);
}

/* From a vm_spec to libxl's domain configuration. */

static int
parse_mac(const char *s, libxl_mac *mac)
{
	unsigned b[6];
	int	 i, n = 0;

	if (sscanf(s, "%2x:%2x:%2x:%2x:%2x:%2x%n", &b[0], &b[1], &b[2], &b[3],
	    &b[4], &b[5], &n) != 6 || s[n] != '\0')
		return -1;
	for (i = 0; i < 6; i++)
		(*mac)[i] = (uint8_t)b[i];
	return 0;
}

static char *
dup_or_null(const char *s)
{
	return s[0] != '\0' ? strdup(s) : NULL;
}

/* libxl owns what it is given: each string strdup'd, freed by dispose. */
static int
spec_to_config(const struct vm_spec *s, libxl_domain_config *c)
{
	libxl_domain_type type;
	size_t	 i;
	unsigned v;

	switch (s->type) {
	case VM_TYPE_PV:
		type = LIBXL_DOMAIN_TYPE_PV;
		break;
	case VM_TYPE_PVH:
		type = LIBXL_DOMAIN_TYPE_PVH;
		break;
	case VM_TYPE_HVM:
		type = LIBXL_DOMAIN_TYPE_HVM;
		break;
	default:
		log_warnx("%s: unknown domain type", s->name);
		return -1;
	}
	if (s->vcpus == 0 || s->vcpus > s->max_vcpus ||
	    s->max_vcpus > VMSPEC_VCPUS_MAX || s->memory_mib == 0 ||
	    s->memory_mib > s->max_memory_mib) {
		log_warnx("%s: inconsistent vCPU or memory figures", s->name);
		return -1;
	}

	libxl_domain_config_init(c);
	libxl_domain_create_info_init(&c->c_info);
	c->c_info.type = type;
	c->c_info.name = strdup(s->name);

	libxl_domain_build_info_init_type(&c->b_info, type);
	c->b_info.max_vcpus = (int)s->max_vcpus;
	/*
	 * libxl_bitmap_alloc needs a context; the translation must work
	 * without one (golden tests), and the bitmap is plain public data.
	 */
	c->b_info.avail_vcpus.size = (s->max_vcpus + 7) / 8;
	c->b_info.avail_vcpus.map = calloc(c->b_info.avail_vcpus.size, 1);
	if (c->b_info.avail_vcpus.map == NULL)
		goto fail;
	for (v = 0; v < s->vcpus; v++)
		libxl_bitmap_set(&c->b_info.avail_vcpus, (int)v);
	c->b_info.max_memkb = s->max_memory_mib * 1024;
	c->b_info.target_memkb = s->memory_mib * 1024;
	c->b_info.kernel = dup_or_null(s->kernel);
	c->b_info.ramdisk = dup_or_null(s->ramdisk);
	c->b_info.cmdline = dup_or_null(s->cmdline);
	if (type == LIBXL_DOMAIN_TYPE_PV)
		c->b_info.u.pv.bootloader = dup_or_null(s->bootloader);
	if (type == LIBXL_DOMAIN_TYPE_HVM) {
		c->b_info.device_model_version = LIBXL_DEVICE_MODEL_VERSION_QEMU_XEN;
		/* Desktops are reached over RDP, never a VNC console. */
		libxl_defbool_set(&c->b_info.u.hvm.vnc.enable, false);
		libxl_defbool_set(&c->b_info.u.hvm.sdl.enable, false);
	}
	/*
	 * libxl leaves these to the toolstack: xvdsd itself reaps a domain
	 * that stopped, whatever the reason (a reboot ends a desktop too).
	 */
	c->on_poweroff = LIBXL_ACTION_ON_SHUTDOWN_DESTROY;
	c->on_reboot = LIBXL_ACTION_ON_SHUTDOWN_DESTROY;
	c->on_watchdog = LIBXL_ACTION_ON_SHUTDOWN_DESTROY;
	c->on_crash = LIBXL_ACTION_ON_SHUTDOWN_DESTROY;

	if (s->ndisks > VMSPEC_DISKS_MAX || s->nnics > VMSPEC_NICS_MAX)
		goto fail;
	if (s->ndisks > 0) {
		c->disks = calloc(s->ndisks, sizeof(*c->disks));
		if (c->disks == NULL)
			goto fail;
		c->num_disks = (int)s->ndisks;
	}
	for (i = 0; i < s->ndisks; i++) {
		const struct vm_disk *d = &s->disks[i];
		libxl_device_disk *x = &c->disks[i];

		libxl_device_disk_init(x);
		x->pdev_path = strdup(d->path);
		x->vdev = strdup(d->vdev);
		x->backend = d->backend == VM_DISK_QDISK ?
		    LIBXL_DISK_BACKEND_QDISK : LIBXL_DISK_BACKEND_PHY;
		x->format = d->format == VM_DISK_QCOW2 ?
		    LIBXL_DISK_FORMAT_QCOW2 : LIBXL_DISK_FORMAT_RAW;
		x->readwrite = d->readonly ? 0 : 1;
		if (d->backend == VM_DISK_PHY && d->format != VM_DISK_RAW) {
			log_warnx("%s: disk %s: blkback serves raw images only",
			    s->name, d->vdev);
			goto fail;
		}
	}
	if (s->nnics > 0) {
		c->nics = calloc(s->nnics, sizeof(*c->nics));
		if (c->nics == NULL)
			goto fail;
		c->num_nics = (int)s->nnics;
	}
	for (i = 0; i < s->nnics; i++) {
		libxl_device_nic *n = &c->nics[i];

		libxl_device_nic_init(n);
		n->devid = (int)i;
		if (parse_mac(s->nics[i].mac, &n->mac) == -1) {
			log_warnx("%s: network %zu: bad MAC address %s", s->name,
			    i, s->nics[i].mac);
			goto fail;
		}
		n->bridge = strdup(s->nics[i].bridge);
	}
	return 0;
 fail:
	libxl_domain_config_dispose(c);
	return -1;
}

char *
hv_spec_to_json(struct hv *hv, const struct vm_spec *s)
{
	libxl_domain_config c;
	char	*json;

	if (spec_to_config(s, &c) == -1)
		return NULL;
	/* hv may be NULL: the translation needs no hypervisor. */
	json = libxl_domain_config_to_json(hv != NULL ? hv->ctx : NULL, &c);
	libxl_domain_config_dispose(&c);
	return json;
}

/* Asynchronous operations. */

static void
op_free(struct hv_op *op)
{
	if (op->fd != -1)
		close(op->fd);
	if (op->tmp_path != NULL) {
		unlink(op->tmp_path);	/* a save that did not finish */
		free(op->tmp_path);
	}
	free(op->path);
	libxl_domain_config_dispose(&op->config);
	if (op->deliver != NULL)
		event_free(op->deliver);
	free(op);
}

static void
op_deliver(evutil_socket_t fd, short what, void *arg)
{
	struct hv_op *op = arg;

	(void)fd;
	(void)what;
	LIST_REMOVE(op, entry);
	op->cb(op->arg, op->result, op->domid);
	op_free(op);
}

/* Ends an operation: its callback runs from the loop, never from libxl. */
static void
op_finish(struct hv_op *op, enum hv_result result)
{
	op->result = result;
	if (op->kind != OP_SHUTDOWN || result != HV_OK)
		log_debug("domain %u: %s: %s", op->domid, op_names[op->kind],
		    result == HV_OK ? "done" : result == HV_FAILED ?
		    "failed" : "lost");
	event_active(op->deliver, EV_TIMEOUT, 0);
}

static struct hv_op *
op_new(struct hv *hv, enum hv_op_kind kind, uint32_t domid, hv_done_cb cb,
    void *arg)
{
	struct hv_op *op;

	if (hv->base == NULL) {
		log_warnx("%s: no event loop for asynchronous operations", __func__);
		return NULL;
	}
	if ((op = calloc(1, sizeof(*op))) == NULL) {
		log_warn("%s", __func__);
		return NULL;
	}
	op->hv = hv;
	op->kind = kind;
	op->domid = domid;
	op->cb = cb;
	op->arg = arg;
	op->fd = -1;
	op->sock = -1;
	libxl_domain_config_init(&op->config);
	if ((op->deliver = event_new(hv->base, -1, 0, op_deliver, op)) == NULL) {
		log_warnx("%s: event_new", __func__);
		free(op);
		return NULL;
	}
	LIST_INSERT_HEAD(&hv->ops, op, entry);
	return op;
}

/*
 * libxl makes the caller's socket blocking for the stream and puts its
 * flags back when done (libxl__fd_flags_restore); checked here, as the
 * caller goes on with the socket in its own loop.
 */
static void
sock_restore(struct hv_op *op)
{
	if (op->sock == -1)
		return;
	if (fcntl(op->sock, F_GETFL) != op->sock_flags &&
	    fcntl(op->sock, F_SETFL, op->sock_flags) == -1)
		log_warn("domain %u: %s: cannot restore the socket's flags",
		    op->domid, op_names[op->kind]);
	op->sock = -1;
}

/* An operation libxl refused at once: no callback will follow. */
static int
op_abandon(struct hv_op *op, int rc)
{
	sock_restore(op);
	log_warnx("domain %u: %s refused by libxl: error %d", op->domid,
	    op_names[op->kind], rc);
	LIST_REMOVE(op, entry);
	op_free(op);
	return -1;
}

static bool
domain_exists(struct hv *hv, uint32_t domid)
{
	struct hv_domain d;

	return hv_domain_info(hv, domid, &d) == 0 && d.state != HV_DOM_DYING;
}

static void op_libxl_done(libxl_ctx *, int, void *);

static void
op_how(struct hv_op *op)
{
	op->how.callback = op_libxl_done;
	op->how.u.for_callback = op;
}

static void
created(struct hv_op *op, int rc)
{
	struct hv *hv = op->hv;

	/* libxl leaves a new domain paused; the toolstack starts it. */
	if (rc == 0 && !op->paused &&
	    libxl_domain_unpause(hv->ctx, op->domid, NULL) != 0) {
		log_warnx("domain %u: made, but cannot be unpaused", op->domid);
		rc = ERROR_FAIL;
	}
	if (rc == 0) {
		op_finish(op, HV_OK);
		return;
	}
	/* libxl may leave a half-made domain behind: nothing must stay. */
	if (op->domid != (uint32_t)INVALID_DOMID && domain_exists(hv, op->domid) &&
	    libxl_domain_destroy(hv->ctx, op->domid, NULL) != 0 &&
	    domain_exists(hv, op->domid)) {
		log_warnx("domain %u: %s failed, and the domain cannot be "
		    "destroyed", op->domid, op_names[op->kind]);
		op_finish(op, HV_LOST);
		return;
	}
	op_finish(op, HV_FAILED);
}

/*
 * A save or migration that failed.  If it suspended the guest, resume
 * it, as xl does: the domain is then as before (FAILED), or beyond help
 * (LOST).  libxl may fail before the guest suspends (it timed out, the
 * stream broke early): then there is nothing to resume.
 */
static void
suspend_failed(struct hv_op *op)
{
	struct hv *hv = op->hv;
	struct hv_domain d;

	if (hv_domain_info(hv, op->domid, &d) == -1 || d.state == HV_DOM_DYING) {
		op_finish(op, HV_LOST);
		return;
	}
	if (d.state == HV_DOM_SHUTDOWN && d.shutdown_reason != HV_DEATH_SUSPEND) {
		/* The guest's own end, which the death watch reports. */
		op_finish(op, HV_FAILED);
		return;
	}
	if (d.state == HV_DOM_SHUTDOWN) {
		if (libxl_domain_resume(hv->ctx, op->domid, 1, NULL) != 0) {
			log_warnx("domain %u: suspended by a failed %s and cannot "
			    "be resumed", op->domid, op_names[op->kind]);
			op_finish(op, HV_LOST);
			return;
		}
		watch_renew(hv, op->domid);
	}
	/* As it was: a domain suspended from paused is paused again. */
	if (op->paused && libxl_domain_pause(hv->ctx, op->domid, NULL) != 0) {
		log_warnx("domain %u: cannot pause it again after a failed %s",
		    op->domid, op_names[op->kind]);
		op_finish(op, HV_LOST);
		return;
	}
	op_finish(op, HV_FAILED);
}

static void
op_libxl_done(libxl_ctx *ctx, int rc, void *arg)
{
	struct hv_op *op = arg;
	struct hv *hv = op->hv;

	(void)ctx;
	if (rc != 0)
		log_debug("domain %u: %s: libxl error %d", op->domid,
		    op_names[op->kind], rc);
	sock_restore(op);
	switch (op->kind) {
	case OP_CREATE:
	case OP_RESTORE:
	case OP_MIGRATE_RECEIVE:
		created(op, rc);
		break;
	case OP_SAVE:
		if (rc != 0 || fsync(op->fd) == -1 ||
		    rename(op->tmp_path, op->path) == -1) {
			if (rc == 0)
				log_warn("domain %u: save image %s", op->domid,
				    op->path);
			suspend_failed(op);
			break;
		}
		free(op->tmp_path);
		op->tmp_path = NULL;
		/* The image is whole: now the domain goes, as after xl save. */
		op->kind = OP_SAVE_DESTROY;
		rc = libxl_domain_destroy(hv->ctx, op->domid, &op->how);
		if (rc != 0) {
			log_warnx("domain %u: saved, but not destroyed: error %d",
			    op->domid, rc);
			op_finish(op, HV_LOST);
		}
		break;
	case OP_SAVE_DESTROY:
		/* Saved either way; a domain that lingers is reaped later. */
		op_finish(op, HV_OK);
		break;
	case OP_MIGRATE_SEND:
		if (rc != 0) {
			suspend_failed(op);
			break;
		}
		/*
		 * Suspended, not gone: the caller destroys it or resumes it,
		 * once the receiver has said how it went.
		 */
		op_finish(op, HV_OK);
		break;
	case OP_DESTROY:
		op_finish(op, rc == 0 || !domain_exists(hv, op->domid) ?
		    HV_OK : HV_FAILED);
		break;
	default:
		op_finish(op, rc == 0 ? HV_OK :
		    domain_exists(hv, op->domid) ? HV_FAILED : HV_LOST);
		break;
	}
}

int
hv_create(struct hv *hv, const struct vm_spec *s, bool paused, hv_done_cb cb,
    void *arg)
{
	struct hv_op *op;
	int	 rc;

	if ((op = op_new(hv, OP_CREATE, INVALID_DOMID, cb, arg)) == NULL)
		return -1;
	op->paused = paused;
	if (spec_to_config(s, &op->config) == -1) {
		LIST_REMOVE(op, entry);
		op_free(op);
		return -1;
	}
	op_how(op);
	rc = libxl_domain_create_new(hv->ctx, &op->config, &op->domid, &op->how,
	    NULL);
	if (rc != 0)
		return op_abandon(op, rc);
	return 0;
}

/* Restore and migrate receive: a domain from libxl's stream on fd. */
static int
restore_start(struct hv_op *op, const struct vm_spec *s, int fd)
{
	libxl_domain_restore_params params;
	struct hv *hv = op->hv;
	int	 rc;

	if (spec_to_config(s, &op->config) == -1) {
		LIST_REMOVE(op, entry);
		op_free(op);
		return -1;
	}
	op_how(op);
	libxl_domain_restore_params_init(&params);
	/* One image, then the stream's END record: no Remus, no COLO. */
	params.checkpointed_stream = LIBXL_CHECKPOINTED_STREAM_NONE;
	/*
	 * Our images are libxl's own stream, version 2 since Xen 4.6; left
	 * at its default, libxl takes it for a legacy stream to convert.
	 */
	params.stream_version = 2;
	rc = libxl_domain_create_restore(hv->ctx, &op->config, &op->domid, fd,
	    -1, &params, &op->how, NULL);
	libxl_domain_restore_params_dispose(&params);
	if (rc != 0)
		return op_abandon(op, rc);
	return 0;
}

int
hv_restore(struct hv *hv, const struct vm_spec *s, const char *image,
    bool paused, hv_done_cb cb, void *arg)
{
	struct hv_op *op;

	if ((op = op_new(hv, OP_RESTORE, INVALID_DOMID, cb, arg)) == NULL)
		return -1;
	op->paused = paused;
	if ((op->fd = open(image, O_RDONLY | O_CLOEXEC)) == -1) {
		log_warn("%s: restore from %s", s->name, image);
		LIST_REMOVE(op, entry);
		op_free(op);
		return -1;
	}
	return restore_start(op, s, op->fd);
}

/*
 * libxl reads the stream record by record, exactly to its END record,
 * so the caller's protocol goes on after it on the same socket (as xl's
 * migration ready message does).
 */
int
hv_migrate_receive(struct hv *hv, const struct vm_spec *s, int fd,
    hv_done_cb cb, void *arg)
{
	struct hv_op *op;

	if ((op = op_new(hv, OP_MIGRATE_RECEIVE, INVALID_DOMID, cb, arg)) == NULL)
		return -1;
	/* The caller renames it and starts it once the sender lets go. */
	op->paused = true;
	if ((op->sock_flags = fcntl(fd, F_GETFL)) == -1) {
		log_warn("%s: migrate receive: socket %d", s->name, fd);
		LIST_REMOVE(op, entry);
		op_free(op);
		return -1;
	}
	op->sock = fd;
	return restore_start(op, s, fd);
}

/*
 * Save and migrate send: libxl suspends the guest (live: after copying
 * its memory while it runs), streams it to fd and leaves it suspended.
 */
static int
suspend_start(struct hv_op *op, const struct hv_domain *d, int fd, int flags)
{
	struct hv *hv = op->hv;
	int	 rc;

	/* A guest that shut down cannot answer: libxl would wait in vain. */
	if (d->state == HV_DOM_SHUTDOWN || d->state == HV_DOM_DYING) {
		log_warnx("domain %u: %s: the domain has shut down", op->domid,
		    op_names[op->kind]);
		op_finish(op, HV_FAILED);
		return 0;
	}
	/* A paused guest cannot acknowledge the suspend request. */
	op->paused = d->state == HV_DOM_PAUSED;
	if (op->paused && libxl_domain_unpause(hv->ctx, op->domid, NULL) != 0) {
		log_warnx("domain %u: cannot unpause it to %s it", op->domid,
		    op_names[op->kind]);
		LIST_REMOVE(op, entry);
		op_free(op);
		return -1;
	}
	op_how(op);
	rc = libxl_domain_suspend(hv->ctx, op->domid, fd, flags, &op->how);
	if (rc != 0) {
		if (op->paused && libxl_domain_pause(hv->ctx, op->domid, NULL) != 0)
			log_warnx("domain %u: cannot pause it again", op->domid);
		return op_abandon(op, rc);
	}
	return 0;
}

int
hv_save(struct hv *hv, uint32_t domid, const char *image, hv_done_cb cb,
    void *arg)
{
	struct hv_domain d;
	struct hv_op *op;

	if (hv_domain_info(hv, domid, &d) == -1)
		return -1;
	if ((op = op_new(hv, OP_SAVE, domid, cb, arg)) == NULL)
		return -1;
	op->path = strdup(image);
	if (op->path == NULL ||
	    asprintf(&op->tmp_path, "%s.partial", image) == -1) {
		op->tmp_path = NULL;
		LIST_REMOVE(op, entry);
		op_free(op);
		return -1;
	}
	op->fd = open(op->tmp_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (op->fd == -1) {
		log_warn("domain %u: save to %s", domid, op->tmp_path);
		free(op->tmp_path);
		op->tmp_path = NULL;
		LIST_REMOVE(op, entry);
		op_free(op);
		return -1;
	}
	return suspend_start(op, &d, op->fd, 0);
}

int
hv_migrate_send(struct hv *hv, uint32_t domid, int fd, bool live,
    hv_done_cb cb, void *arg)
{
	struct hv_domain d;
	struct hv_op *op;

	if (domid == 0) {
		log_warnx("%s: domain 0 is dom0", __func__);
		errno = EPERM;
		return -1;
	}
	if (hv_domain_info(hv, domid, &d) == -1)
		return -1;
	if ((op = op_new(hv, OP_MIGRATE_SEND, domid, cb, arg)) == NULL)
		return -1;
	if ((op->sock_flags = fcntl(fd, F_GETFL)) == -1) {
		log_warn("domain %u: migrate send: socket %d", domid, fd);
		LIST_REMOVE(op, entry);
		op_free(op);
		return -1;
	}
	op->sock = fd;
	return suspend_start(op, &d, fd, live ? LIBXL_SUSPEND_LIVE : 0);
}

/* The operations that take only a domain. */
static int
simple_op(struct hv *hv, enum hv_op_kind kind, uint32_t domid, hv_done_cb cb,
    void *arg)
{
	struct hv_op *op;
	int	 rc;

	if (!domain_exists(hv, domid)) {
		log_debug("domain %u: %s: no such domain", domid, op_names[kind]);
		errno = ENOENT;
		return -1;
	}
	if ((op = op_new(hv, kind, domid, cb, arg)) == NULL)
		return -1;
	op_how(op);
	switch (kind) {
	case OP_PAUSE:
		rc = libxl_domain_pause(hv->ctx, domid, &op->how);
		break;
	case OP_UNPAUSE:
		rc = libxl_domain_unpause(hv->ctx, domid, &op->how);
		break;
	case OP_SHUTDOWN:
		rc = libxl_domain_shutdown(hv->ctx, domid, &op->how);
		break;
	case OP_DESTROY:
		rc = libxl_domain_destroy(hv->ctx, domid, &op->how);
		break;
	default:
		rc = ERROR_INVAL;
		break;
	}
	if (rc != 0)
		return op_abandon(op, rc);
	return 0;
}

int
hv_pause(struct hv *hv, uint32_t domid, hv_done_cb cb, void *arg)
{
	return simple_op(hv, OP_PAUSE, domid, cb, arg);
}

int
hv_unpause(struct hv *hv, uint32_t domid, hv_done_cb cb, void *arg)
{
	return simple_op(hv, OP_UNPAUSE, domid, cb, arg);
}

int
hv_shutdown(struct hv *hv, uint32_t domid, hv_done_cb cb, void *arg)
{
	return simple_op(hv, OP_SHUTDOWN, domid, cb, arg);
}

int
hv_destroy(struct hv *hv, uint32_t domid, hv_done_cb cb, void *arg)
{
	return simple_op(hv, OP_DESTROY, domid, cb, arg);
}

int
hv_set_vcpus(struct hv *hv, uint32_t domid, unsigned n, hv_done_cb cb,
    void *arg)
{
	libxl_bitmap map;
	struct hv_op *op;
	unsigned v;
	int	 rc;

	if (n == 0 || !domain_exists(hv, domid)) {
		log_debug("domain %u: set vcpus %u: no such domain, or zero", domid, n);
		errno = n == 0 ? EINVAL : ENOENT;
		return -1;
	}
	if ((op = op_new(hv, OP_SET_VCPUS, domid, cb, arg)) == NULL)
		return -1;
	libxl_bitmap_init(&map);
	if (libxl_bitmap_alloc(hv->ctx, &map, (int)n) != 0) {
		LIST_REMOVE(op, entry);
		op_free(op);
		return -1;
	}
	for (v = 0; v < n; v++)
		libxl_bitmap_set(&map, (int)v);
	op_how(op);
	rc = libxl_set_vcpuonline(hv->ctx, domid, &map, &op->how);
	libxl_bitmap_dispose(&map);
	if (rc != 0)
		return op_abandon(op, rc);
	return 0;
}

/* Synchronous in libxl; completed through the loop like the rest. */
int
hv_set_memory(struct hv *hv, uint32_t domid, uint64_t mib, hv_done_cb cb,
    void *arg)
{
	struct hv_op *op;
	int	 rc;

	if (mib == 0 || !domain_exists(hv, domid)) {
		log_debug("domain %u: set memory: no such domain, or zero", domid);
		errno = mib == 0 ? EINVAL : ENOENT;
		return -1;
	}
	if ((op = op_new(hv, OP_SET_MEMORY, domid, cb, arg)) == NULL)
		return -1;
	rc = libxl_set_memory_target(hv->ctx, domid, (int64_t)(mib * 1024), 0, 1);
	if (rc != 0)
		return op_abandon(op, rc);
	op_finish(op, HV_OK);
	return 0;
}

int
hv_rename(struct hv *hv, uint32_t domid, const char *name)
{
	char	*old = NULL;
	uint32_t other;
	int	 rc = -1;

	if (domid == 0) {
		log_warnx("%s: domain 0 is dom0", __func__);
		errno = EPERM;
		return -1;
	}
	if (name == NULL || name[0] == '\0' || strlen(name) > VMSPEC_NAME_MAX) {
		log_warnx("domain %u: rename: bad name", domid);
		errno = EINVAL;
		return -1;
	}
	if ((old = libxl_domid_to_name(hv->ctx, domid)) == NULL) {
		log_debug("domain %u: rename: no such domain", domid);
		errno = ENOENT;
		goto out;
	}
	if (strcmp(old, name) == 0) {
		rc = 0;		/* already so named */
		goto out;
	}
	/* libxl checks it too, but says only ERROR_INVAL. */
	if (libxl_name_to_domid(hv->ctx, name, &other) == 0 && other != domid) {
		log_warnx("domain %u: rename: domain %u is named %s", domid,
		    other, name);
		errno = EEXIST;
		goto out;
	}
	/* With the old name, libxl checks in its transaction that it holds. */
	if (libxl_domain_rename(hv->ctx, domid, old, name) != 0) {
		log_warnx("libxl: domain %u: cannot rename %s to %s", domid, old,
		    name);
		errno = EIO;
		goto out;
	}
	rc = 0;
 out:
	free(old);
	return rc;
}

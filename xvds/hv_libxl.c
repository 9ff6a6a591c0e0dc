/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * hv_libxl.c — the hypervisor seam over libxl.  The only file of XVDS that
 * includes libxl.h; it owns the libxl context and routes libxl's own log
 * (xentoollog) into ours.
 */
#include <config.h>

/* The libxl API we are written against; newer Xen keeps it available. */
#define LIBXL_API_VERSION 0x041300

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>

#include <libxl.h>
#include <libxl_utils.h>
#include <xentoollog.h>

#include "hv.h"
#include "log.h"

const char *const hv_dom_state_names[] = {
	[HV_DOM_RUNNING] = "running",
	[HV_DOM_BLOCKED] = "blocked",
	[HV_DOM_PAUSED] = "paused",
	[HV_DOM_SHUTDOWN] = "shutdown",
	[HV_DOM_DYING] = "dying",
};

/* A xentoollog logger whose messages land in log.c. */
struct hv_logger {
	xentoollog_logger vtable;	/* first: libxl sees only this */
};

struct hv {
	libxl_ctx	*ctx;
	struct hv_logger logger;
};

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
	if (prio == LOG_DEBUG && !log_getverbose())
		return;
	vsnprintf(msg, sizeof(msg), fmt, ap);
	if (errnoval >= 0)
		log_at(prio, "libxl: %s%s%s: %s", context ? context : "",
		    context ? ": " : "", msg, strerror(errnoval));
	else
		log_at(prio, "libxl: %s%s%s", context ? context : "",
		    context ? ": " : "", msg);
}

static void
logger_progress(xentoollog_logger *lg, const char *context,
    const char *doing_what, int percent, unsigned long done,
    unsigned long total)
{
	(void)lg;
	(void)done;
	(void)total;
	log_debug("libxl: %s: %s: %d%%", context ? context : "", doing_what,
	    percent);
}

static void
logger_destroy(xentoollog_logger *lg)
{
	(void)lg;	/* embedded in struct hv */
}

struct hv *
hv_open(struct event_base *base, const struct hv_callbacks *cbs)
{
	struct hv *hv;
	int	 rc;

	if ((hv = calloc(1, sizeof(*hv))) == NULL) {
		log_warn("%s", __func__);
		return NULL;
	}
	(void)base;
	(void)cbs;
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
	return hv;
}

void
hv_close(struct hv *hv)
{
	if (hv == NULL)
		return;
	libxl_ctx_free(hv->ctx);
	free(hv);
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
	for (i = 0; i < n; i++) {
		struct hv_domain *d = &list[i];
		char	*name;

		d->domid = info[i].domid;
		name = libxl_domid_to_name(hv->ctx, d->domid);
		/* A name no longer there: the domain is going away. */
		snprintf(d->name, sizeof(d->name), "%s", name ? name : "-");
		free(name);
		snprintf(d->uuid, sizeof(d->uuid), LIBXL_UUID_FMT,
		    LIBXL_UUID_BYTES(info[i].uuid));
		d->state = dom_state(&info[i]);
		d->mem_kib = info[i].current_memkb;
		d->max_mem_kib = info[i].max_memkb;
		d->vcpus = info[i].vcpu_online;
		d->cpu_time_ns = info[i].cpu_time;
	}
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
hv_domain_start_time(struct hv *hv, uint32_t domid, time_t *t_r)
{
	uint32_t t;

	t = libxl_vm_get_start_time(hv->ctx, domid);
	if (t == (uint32_t)-1)
		return -1;
	*t_r = (time_t)t;
	return 0;
}

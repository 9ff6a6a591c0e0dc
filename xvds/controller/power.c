/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * controller/power.c — power operations under way, per host
 * (controller/power.h).  A short list: only hosts with an operation under way
 * are in it.
 */
#include <config.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent/msg.h"
#include "controller/power.h"
#include "common/log.h"

struct slot {
	char		 host[AGENT_HOST_MAX + 1];
	unsigned	 n;
	struct slot	*next;
};

static struct {
	struct slot	*slots;
	unsigned	 total;
	unsigned	 host_ops, cluster_ops;
} power_state;

static struct slot *
find(const char *host)
{
	struct slot *s;

	for (s = power_state.slots; s != NULL; s = s->next)
		if (strcmp(s->host, host) == 0)
			return s;
	return NULL;
}

void
ctrl_power_limits(unsigned host_ops, unsigned cluster_ops)
{
	power_state.host_ops = host_ops;
	power_state.cluster_ops = cluster_ops;
}

unsigned
ctrl_power_inflight(const char *host)
{
	struct slot *s;

	if (host == NULL)
		return power_state.total;
	return (s = find(host)) != NULL ? s->n : 0;
}

void
ctrl_power_take(const char *host)
{
	struct slot *s;

	if ((s = find(host)) == NULL) {
		if ((s = calloc(1, sizeof(*s))) == NULL) {
			/* Uncounted: the limit may be passed, nothing worse. */
			log_warn("%s", __func__);
			return;
		}
		snprintf(s->host, sizeof(s->host), "%s", host);
		s->next = power_state.slots;
		power_state.slots = s;
	}
	s->n++;
	power_state.total++;
}

bool
ctrl_power_try(const char *host)
{
	if ((power_state.cluster_ops != 0 &&
	    power_state.total >= power_state.cluster_ops) ||
	    (power_state.host_ops != 0 &&
	    ctrl_power_inflight(host) >= power_state.host_ops))
		return false;
	ctrl_power_take(host);
	return true;
}

void
ctrl_power_give(const char *host)
{
	struct slot **sp, *s;

	for (sp = &power_state.slots; (s = *sp) != NULL; sp = &s->next)
		if (strcmp(s->host, host) == 0)
			break;
	if (s == NULL)
		return;		/* taken uncounted */
	power_state.total--;
	if (--s->n == 0) {
		*sp = s->next;
		free(s);
	}
}

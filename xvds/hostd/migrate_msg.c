/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * hostd/migrate_msg.c — what travels between two xvdsd besides the domain: the
 * offer (checked field by field, since it comes from the network) and the
 * peer's "host[:port]" (hostd/migrate.h).  No I/O, so that the fuzzer and the
 * unit tests take it alone.
 */
#include <config.h>

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "common/jsonerr.h"
#include "common/log.h"
#include "hostd/migrate.h"

int
migrate_parse_peer(const char *peer, char *host, size_t hostlen,
    uint16_t *port_r, uint16_t deflt)
{
	const char *colon, *end;
	size_t	 n;
	char	*ep;
	unsigned long port = deflt;

	if (peer[0] == '[') {
		if ((end = strchr(peer, ']')) == NULL)
			return -1;
		n = (size_t)(end - peer - 1);
		peer++;
		colon = end[1] == ':' ? end + 1 : NULL;
		if (end[1] != '\0' && colon == NULL)
			return -1;
	} else {
		colon = strchr(peer, ':');
		if (colon != NULL && strchr(colon + 1, ':') != NULL)
			return -1;	/* a bare IPv6 address needs brackets */
		n = colon != NULL ? (size_t)(colon - peer) : strlen(peer);
	}
	if (n == 0 || n >= hostlen)
		return -1;
	memcpy(host, peer, n);
	host[n] = '\0';
	if (colon != NULL) {
		errno = 0;
		port = strtoul(colon + 1, &ep, 10);
		if (colon[1] == '\0' || *ep != '\0' || errno != 0 || port == 0 ||
		    port > 65535)
			return -1;
	}
	*port_r = (uint16_t)port;
	return 0;
}

/* The offer on the wire. */

char *
migrate_offer_encode(const struct migrate_offer *o)
{
	json_t	*j;
	char	*s;

	j = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:I, s:I, s:s, s:b}",
	    "msg", "offer", "vm", o->name, "pool", o->pool, "template", o->template,
	    "kind", vm_kind_names[o->kind], "state", vm_state_names[o->state],
	    "vcpus", (json_int_t)o->vcpus, "memory_mib", (json_int_t)o->memory_mib,
	    "boot_id", o->boot_id, "live", o->live);
	if (j == NULL || (s = json_dumps(j, JSON_COMPACT)) == NULL)
		fatalx("%s: cannot encode", __func__);
	json_decref(j);
	return s;
}

static bool
offer_name_ok(const char *s, size_t max, bool may_be_empty)
{
	size_t	 i, n = strlen(s);

	if (n == 0)
		return may_be_empty;
	if (n > max || !((s[0] >= 'a' && s[0] <= 'z') || (s[0] >= 'A' &&
	    s[0] <= 'Z') || (s[0] >= '0' && s[0] <= '9')))
		return false;
	for (i = 1; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') ||
		    (s[i] >= '0' && s[i] <= '9') || s[i] == '_' || s[i] == '-' ||
		    s[i] == '.'))
			return false;
	return true;
}

int
migrate_offer_decode(const char *line, size_t len, struct migrate_offer *o,
    char *msg, size_t msglen)
{
	json_error_t jerr;
	json_t	*j;
	const char *type, *name, *pool, *tmpl, *kind, *state, *boot_id;
	json_int_t vcpus, mib;
	int	 live, k, st;

	memset(o, 0, sizeof(*o));
	if ((j = json_loadb(line, len, JSON_REJECT_DUPLICATES, &jerr)) == NULL) {
		snprintf(msg, msglen, "offer: not JSON: %s", jsonerr(&jerr));
		return -1;
	}
	if (json_unpack_ex(j, &jerr, JSON_STRICT, "{s:s, s:s, s:s, s:s, s:s, s:s, "
	    "s:I, s:I, s:s, s:b}", "msg", &type, "vm", &name, "pool", &pool,
	    "template", &tmpl, "kind", &kind, "state", &state, "vcpus", &vcpus,
	    "memory_mib", &mib, "boot_id", &boot_id, "live", &live) == -1) {
		snprintf(msg, msglen, "offer: %s", jsonerr(&jerr));
		json_decref(j);
		return -1;
	}
	k = vm_kind_from_name(kind);
	st = vm_state_from_name(state);
	if (strcmp(type, "offer") != 0)
		snprintf(msg, msglen, "offer: not an offer");
	else if (!offer_name_ok(name, MIGRATE_NAME_MAX, false))
		snprintf(msg, msglen, "offer: bad VM name");
	else if (!offer_name_ok(pool, TEMPLATE_NAME_MAX, true) ||
	    !offer_name_ok(tmpl, TEMPLATE_NAME_MAX, false))
		snprintf(msg, msglen, "offer: bad pool or template name");
	else if (k < 0)
		snprintf(msg, msglen, "offer: bad kind");
	else if (st != VM_S_READY && st != VM_S_RUNNING)
		snprintf(msg, msglen, "offer: a VM migrates from ready or running");
	else if (vcpus < 0 || vcpus > 4096 || mib < 0 || mib > (1LL << 40))
		snprintf(msg, msglen, "offer: vcpus or memory out of range");
	else if (strlen(boot_id) > REPORT_BOOT_ID_LEN ||
	    strspn(boot_id, "0123456789abcdef") != strlen(boot_id))
		snprintf(msg, msglen, "offer: bad boot id");
	else
		msg[0] = '\0';
	if (msg[0] != '\0') {
		json_decref(j);
		return -1;
	}
	snprintf(o->name, sizeof(o->name), "%s", name);
	snprintf(o->pool, sizeof(o->pool), "%s", pool);
	snprintf(o->template, sizeof(o->template), "%s", tmpl);
	o->kind = (enum vm_kind)k;
	o->state = (enum vm_state)st;
	o->vcpus = (unsigned)vcpus;
	o->memory_mib = (uint64_t)mib;
	snprintf(o->boot_id, sizeof(o->boot_id), "%s", boot_id);
	o->live = live != 0;
	json_decref(j);
	return 0;
}

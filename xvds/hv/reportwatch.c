/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * hv/reportwatch.c — xenstore watches over the guests' report records; the
 * decisions are common/reportstate.c's.
 */
#include <config.h>

#include <sys/queue.h>

#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <xenstore.h>

#include "common/log.h"
#include "hv/reportwatch.h"

#define TOKEN_PREFIX	"xvds-report:"

struct rw_domain {
	TAILQ_ENTRY(rw_domain) entry;
	struct reportstate rs;
	char	 path[64];
	char	 token[32];
	bool	 dirty;
};

struct reportwatch {
	struct xs_handle *xs;
	report_cb	 cb;
	void		*arg;
	unsigned	 max_skew;
	TAILQ_HEAD(, rw_domain) domains;
};

struct reportwatch *
reportwatch_open(report_cb cb, void *arg, unsigned max_skew)
{
	struct reportwatch *rw;

	if ((rw = calloc(1, sizeof(*rw))) == NULL) {
		log_warn("%s", __func__);
		return NULL;
	}
	if ((rw->xs = xs_open(0)) == NULL) {
		log_warn("cannot open xenstore");
		free(rw);
		return NULL;
	}
	rw->cb = cb;
	rw->arg = arg;
	rw->max_skew = max_skew;
	TAILQ_INIT(&rw->domains);
	return rw;
}

static void
domain_free(struct rw_domain *d)
{
	reportstate_free(&d->rs);
	free(d);
}

void
reportwatch_close(struct reportwatch *rw)
{
	struct rw_domain *d;

	if (rw == NULL)
		return;
	while ((d = TAILQ_FIRST(&rw->domains)) != NULL) {
		TAILQ_REMOVE(&rw->domains, d, entry);
		domain_free(d);
	}
	xs_close(rw->xs);
	free(rw);
}

int
reportwatch_fd(struct reportwatch *rw)
{
	return xs_fileno(rw->xs);
}

static struct rw_domain *
find_domain(struct reportwatch *rw, uint32_t domid)
{
	struct rw_domain *d;

	TAILQ_FOREACH(d, &rw->domains, entry)
		if (d->rs.dom.domid == domid)
			return d;
	return NULL;
}

int
reportwatch_add(struct reportwatch *rw, uint32_t domid, time_t not_before,
    const char *old_boot_id)
{
	struct rw_domain *d;

	if (find_domain(rw, domid) != NULL)
		return 0;
	if ((d = calloc(1, sizeof(*d))) == NULL) {
		log_warn("%s", __func__);
		return -1;
	}
	reportstate_init(&d->rs, domid, not_before, old_boot_id, rw->max_skew,
	    rw->cb, rw->arg);
	snprintf(d->path, sizeof(d->path), "/local/domain/%" PRIu32 "/%s",
	    domid, REPORT_DIR);
	snprintf(d->token, sizeof(d->token), TOKEN_PREFIX "%" PRIu32, domid);
	/* xenstore fires a new watch once at once: that is the first read. */
	if (!xs_watch(rw->xs, d->path, d->token)) {
		log_warn("xenstore: watch %s", d->path);
		domain_free(d);
		return -1;
	}
	TAILQ_INSERT_TAIL(&rw->domains, d, entry);
	return 0;
}

int
reportwatch_remove(struct reportwatch *rw, uint32_t domid)
{
	struct rw_domain *d;

	if ((d = find_domain(rw, domid)) == NULL)
		return -1;
	if (!xs_unwatch(rw->xs, d->path, d->token))
		log_warn("xenstore: unwatch %s", d->path);
	TAILQ_REMOVE(&rw->domains, d, entry);
	domain_free(d);
	return 0;
}

const struct report_domain *
reportwatch_get(struct reportwatch *rw, uint32_t domid)
{
	struct rw_domain *d = find_domain(rw, domid);

	return d != NULL ? &d->rs.dom : NULL;
}

size_t
reportwatch_domains(struct reportwatch *rw, uint32_t *ids, size_t max)
{
	struct rw_domain *d;
	size_t	 n = 0;

	TAILQ_FOREACH(d, &rw->domains, entry) {
		if (n < max)
			ids[n] = d->rs.dom.domid;
		n++;
	}
	return n;
}

/* Reads a key: 0 with *val_r NULL if absent, -1 if xenstore failed. */
static int
read_key(struct reportwatch *rw, struct rw_domain *d, const char *key,
    char **val_r, unsigned *len_r)
{
	char	 path[96];

	snprintf(path, sizeof(path), "%s/%s", d->path, key);
	*len_r = 0;
	*val_r = xs_read(rw->xs, XBT_NULL, path, len_r);
	if (*val_r == NULL && errno != ENOENT) {
		log_warn("xenstore: read %s", path);
		return -1;
	}
	return 0;
}

static void
refresh(struct reportwatch *rw, struct rw_domain *d)
{
	char	*boot = NULL, *addrs = NULL, *session = NULL, *cred = NULL;
	struct report_values v;

	memset(&v, 0, sizeof(v));
	if (read_key(rw, d, REPORT_KEY_BOOT, &boot, &v.boot_len) == 0 &&
	    read_key(rw, d, REPORT_KEY_ADDRS, &addrs, &v.addrs_len) == 0 &&
	    read_key(rw, d, REPORT_KEY_SESSION, &session, &v.session_len) == 0 &&
	    read_key(rw, d, REPORT_KEY_CREDENTIAL, &cred, &v.credential_len) == 0) {
		v.boot = boot;
		v.addrs = addrs;
		v.session = session;
		v.credential = cred;
		if (reportstate_update(&d->rs, &v, time(NULL)) == -1)
			log_warn("domain %" PRIu32 ": reports", d->rs.dom.domid);
	}
	free(boot);
	free(addrs);
	free(session);
	free(cred);
}

#define SECRET_TXN_RETRIES	16

int
reportwatch_secret_put(struct reportwatch *rw, uint32_t domid, const char *val,
    size_t len)
{
	struct xs_permissions perms[2] = {
		{ .id = 0, .perms = XS_PERM_NONE },	/* owner dom0; others none */
		{ .id = domid, .perms = XS_PERM_READ },
	};
	char	 dir[64], path[96];
	xs_transaction_t t;
	int	 try;

	snprintf(dir, sizeof(dir), "/local/domain/%" PRIu32 "/%s", domid,
	    REPORT_SECRET_DIR);
	snprintf(path, sizeof(path), "/local/domain/%" PRIu32 "/%s", domid,
	    REPORT_SECRET_PATH);
	/*
	 * One transaction: the guest never sees the key with the permissions
	 * it would inherit, nor a directory it could write into.
	 */
	for (try = 0; try < SECRET_TXN_RETRIES; try++) {
		if ((t = xs_transaction_start(rw->xs)) == XBT_NULL) {
			log_warn("xenstore: transaction start");
			return -1;
		}
		if (!xs_mkdir(rw->xs, t, dir) ||
		    !xs_set_permissions(rw->xs, t, dir, perms, 2) ||
		    !xs_write(rw->xs, t, path, val, (unsigned)len) ||
		    !xs_set_permissions(rw->xs, t, path, perms, 2)) {
			log_warn("xenstore: write %s", path);
			xs_transaction_end(rw->xs, t, true);
			return -1;
		}
		if (xs_transaction_end(rw->xs, t, false))
			return 0;
		if (errno != EAGAIN) {
			log_warn("xenstore: transaction end (%s)", path);
			return -1;
		}
	}
	log_warnx("xenstore: %s: transaction kept conflicting", path);
	return -1;
}

int
reportwatch_secret_remove(struct reportwatch *rw, uint32_t domid)
{
	char	 dir[64];

	snprintf(dir, sizeof(dir), "/local/domain/%" PRIu32 "/%s", domid,
	    REPORT_SECRET_DIR);
	if (!xs_rm(rw->xs, XBT_NULL, dir) && errno != ENOENT) {
		log_warn("xenstore: remove %s", dir);
		return -1;
	}
	return 0;
}

int
reportwatch_dispatch(struct reportwatch *rw)
{
	struct rw_domain *d;
	char	**ev;

	while ((ev = xs_check_watch(rw->xs)) != NULL) {
		const char *tok = ev[XS_WATCH_TOKEN];
		char	*end;
		unsigned long id;

		if (strncmp(tok, TOKEN_PREFIX, strlen(TOKEN_PREFIX)) == 0) {
			errno = 0;
			id = strtoul(tok + strlen(TOKEN_PREFIX), &end, 10);
			if (errno == 0 && *end == '\0' && id <= UINT32_MAX &&
			    (d = find_domain(rw, (uint32_t)id)) != NULL)
				d->dirty = true;
		}
		free(ev);
	}
	if (errno != EAGAIN) {
		log_warn("xenstore: watch");
		return -1;
	}
	/* Several events for one domain cost one read of its two keys. */
	TAILQ_FOREACH(d, &rw->domains, entry) {
		if (!d->dirty)
			continue;
		d->dirty = false;
		refresh(rw, d);
	}
	return 0;
}

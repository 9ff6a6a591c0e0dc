/*
 * reportwatch.c — watch, read and validate what guests report through
 * xenstore (report.h).  The guest's area is hostile input: a record is
 * accepted only if it parses, is not stale, and (for addrs) belongs to
 * the boot that the valid boot-complete record names.  Rejections reach
 * the caller at a bounded rate, so that a guest cannot flood dom0's log.
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

#include "log.h"
#include "reportwatch.h"

#define TOKEN_PREFIX	"xvds-report:"
#define REJECT_WINDOW	60	/* seconds */
#define REJECT_BURST	5	/* rejections passed on per window and domain */

/* The last raw value seen at a key: a repeated event re-reads the same bytes. */
struct raw {
	bool	 known;		/* read at least once */
	char	*val;		/* NULL: absent */
	unsigned len;
};

struct rw_domain {
	TAILQ_ENTRY(rw_domain) entry;
	struct reportwatch_state st;
	time_t	 not_before;
	char	 old_boot_id[REPORT_BOOT_ID_LEN + 1];	/* "" if none */
	char	 path[64];
	char	 token[32];
	bool	 dirty;
	struct raw raw_boot;
	struct raw raw_addrs;
	time_t	 reject_window;
	unsigned reject_count;
	unsigned suppressed;
};

struct reportwatch {
	struct xs_handle *xs;
	reportwatch_cb	 cb;
	void		*arg;
	unsigned	 max_skew;
	TAILQ_HEAD(, rw_domain) domains;
};

struct reportwatch *
reportwatch_open(reportwatch_cb cb, void *arg, unsigned max_skew)
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
raw_clear(struct raw *r)
{
	free(r->val);
	memset(r, 0, sizeof(*r));
}

static void
domain_free(struct rw_domain *d)
{
	raw_clear(&d->raw_boot);
	raw_clear(&d->raw_addrs);
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
		if (d->st.domid == domid)
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
	d->st.domid = domid;
	d->not_before = not_before;
	if (old_boot_id != NULL)
		snprintf(d->old_boot_id, sizeof(d->old_boot_id), "%s", old_boot_id);
	snprintf(d->path, sizeof(d->path), "/local/domain/%" PRIu32 "/%s",
	    domid, REPORT_DIR);
	snprintf(d->token, sizeof(d->token), TOKEN_PREFIX "%" PRIu32, domid);
	/* xenstore fires a new watch once, which triggers the first read. */
	if (!xs_watch(rw->xs, d->path, d->token)) {
		log_warn("xenstore: watch %s", d->path);
		free(d);
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

const struct reportwatch_state *
reportwatch_get(struct reportwatch *rw, uint32_t domid)
{
	struct rw_domain *d = find_domain(rw, domid);

	return d != NULL ? &d->st : NULL;
}

size_t
reportwatch_domains(struct reportwatch *rw, uint32_t *ids, size_t max)
{
	struct rw_domain *d;
	size_t	 n = 0;

	TAILQ_FOREACH(d, &rw->domains, entry) {
		if (n < max)
			ids[n] = d->st.domid;
		n++;
	}
	return n;
}

static void
reject(struct reportwatch *rw, struct rw_domain *d, const char *key,
    const char *reason)
{
	char	 msg[REPORT_ERR_MAX + 64];
	time_t	 now = time(NULL);

	if (now - d->reject_window >= REJECT_WINDOW) {
		d->reject_window = now;
		d->reject_count = 0;
	}
	if (d->reject_count++ >= REJECT_BURST) {
		d->suppressed++;
		return;
	}
	if (d->suppressed > 0) {
		snprintf(msg, sizeof(msg), "%s (%u earlier rejections of this "
		    "domain not shown)", reason, d->suppressed);
		d->suppressed = 0;
		reason = msg;
	}
	rw->cb(rw->arg, REPORTWATCH_REJECTED, key, &d->st, reason);
}

/*
 * Reads one key into r.  Returns 1 if its value changed since the last
 * read, 0 if not, -1 if xenstore failed.
 */
static int
read_key(struct reportwatch *rw, struct rw_domain *d, const char *key,
    struct raw *r)
{
	char	 path[96];
	char	*val;
	unsigned len = 0;

	snprintf(path, sizeof(path), "%s/%s", d->path, key);
	val = xs_read(rw->xs, XBT_NULL, path, &len);
	if (val == NULL && errno != ENOENT) {
		log_warn("xenstore: read %s", path);
		return -1;
	}
	if (r->known && ((val == NULL && r->val == NULL) ||
	    (val != NULL && r->val != NULL && len == r->len &&
	    memcmp(val, r->val, len) == 0))) {
		free(val);
		return 0;
	}
	free(r->val);
	r->known = true;
	r->val = val;
	r->len = val != NULL ? len : 0;
	return 1;
}

/* Returns true if a new valid boot record was accepted. */
static bool
refresh_boot(struct reportwatch *rw, struct rw_domain *d)
{
	struct report_boot b;
	char	 err[REPORT_ERR_MAX];

	if (read_key(rw, d, REPORT_KEY_BOOT, &d->raw_boot) != 1)
		return false;
	if (d->raw_boot.val == NULL) {
		if (d->st.have_boot) {
			d->st.have_boot = 0;
			rw->cb(rw->arg, REPORTWATCH_GONE, REPORT_KEY_BOOT, &d->st, NULL);
		}
		return false;
	}
	/*
	 * A refused record leaves the last valid one in force: garbage written
	 * later does not undo a boot that was seen to complete.
	 */
	if (report_boot_parse(d->raw_boot.val, d->raw_boot.len, &b, err,
	    sizeof(err)) == -1 ||
	    report_boot_check(&b, time(NULL), d->not_before, rw->max_skew,
	    d->old_boot_id[0] != '\0' ? d->old_boot_id : NULL, err,
	    sizeof(err)) == -1) {
		reject(rw, d, REPORT_KEY_BOOT, err);
		return false;
	}
	if (d->st.have_boot && strcmp(b.boot_id, d->st.boot.boot_id) != 0) {
		/* A new boot: addresses of the old one no longer count. */
		d->st.have_addrs = 0;
	}
	d->st.boot = b;
	d->st.have_boot = 1;
	rw->cb(rw->arg, REPORTWATCH_BOOT, REPORT_KEY_BOOT, &d->st, NULL);
	return true;
}

static void
refresh_addrs(struct reportwatch *rw, struct rw_domain *d, bool boot_changed)
{
	struct report_addrs a;
	char	 err[REPORT_ERR_MAX];
	int	 changed;

	changed = read_key(rw, d, REPORT_KEY_ADDRS, &d->raw_addrs);
	if (changed == -1 || (changed == 0 && !boot_changed))
		return;
	if (d->raw_addrs.val == NULL) {
		if (d->st.have_addrs) {
			d->st.have_addrs = 0;
			rw->cb(rw->arg, REPORTWATCH_GONE, REPORT_KEY_ADDRS, &d->st, NULL);
		}
		return;
	}
	if (report_addrs_parse(d->raw_addrs.val, d->raw_addrs.len, &a, err,
	    sizeof(err)) == -1) {
		reject(rw, d, REPORT_KEY_ADDRS, err);
		return;
	}
	if (!d->st.have_boot) {
		reject(rw, d, REPORT_KEY_ADDRS, "no valid boot-complete record "
		    "to go with it");
		return;
	}
	if (strcmp(a.boot_id, d->st.boot.boot_id) != 0) {
		reject(rw, d, REPORT_KEY_ADDRS, "boot id differs from the "
		    "boot-complete record's: stale record");
		return;
	}
	if (d->st.have_addrs && !boot_changed && a.seq < d->st.addrs.seq) {
		snprintf(err, sizeof(err), "seq went backwards (%" PRIu64
		    " after %" PRIu64 ")", a.seq, d->st.addrs.seq);
		reject(rw, d, REPORT_KEY_ADDRS, err);
		return;
	}
	d->st.addrs = a;
	d->st.have_addrs = 1;
	rw->cb(rw->arg, REPORTWATCH_ADDRS, REPORT_KEY_ADDRS, &d->st, NULL);
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
	TAILQ_FOREACH(d, &rw->domains, entry) {
		bool	 boot_changed;

		if (!d->dirty)
			continue;
		d->dirty = false;
		boot_changed = refresh_boot(rw, d);
		refresh_addrs(rw, d, boot_changed);
	}
	return 0;
}

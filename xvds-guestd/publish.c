/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * publish.c — write the guest's report records into its own xenstore area.
 * Paths are relative: xenstored resolves them under /local/domain/<domid>/,
 * so the agent never needs (or trusts) its own domain id.
 */
#include <config.h>

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <xenstore.h>

#include "common/log.h"
#include "publish.h"
#include "common/report.h"

#define PATH_BOOT	REPORT_DIR "/" REPORT_KEY_BOOT
#define PATH_ADDRS	REPORT_DIR "/" REPORT_KEY_ADDRS
#define PATH_SESSION	REPORT_DIR "/" REPORT_KEY_SESSION
#define PATH_ACK	REPORT_DIR "/" REPORT_KEY_CREDENTIAL
#define WATCH_TOKEN	"xvds-guestd"
#define CRED_TOKEN	"xvds-guestd-credential"
#define TXN_RETRIES	16

struct xs_handle *
publish_connect(void)
{
	struct xs_handle *xs;
	int	 saved_errno;

	if ((xs = xs_open(0)) == NULL)
		return NULL;
	/*
	 * The watches fire once at once, and again after a restore; the
	 * credential's also when dom0 writes one.
	 */
	if (!xs_watch(xs, REPORT_DIR, WATCH_TOKEN) ||
	    !xs_watch(xs, REPORT_SECRET_PATH, CRED_TOKEN)) {
		saved_errno = errno;
		xs_close(xs);
		errno = saved_errno;
		return NULL;
	}
	return xs;
}

void
publish_close(struct xs_handle *xs)
{
	if (xs != NULL)
		xs_close(xs);
}

int
publish_fd(struct xs_handle *xs)
{
	return xs_fileno(xs);
}

/* Writes the records given (NULL: left alone) in one transaction. */
static int
write_txn(struct xs_handle *xs, const char *boot, const char *addrs,
    const char *session)
{
	xs_transaction_t t;
	int	 try;

	for (try = 0; try < TXN_RETRIES; try++) {
		if ((t = xs_transaction_start(xs)) == XBT_NULL) {
			log_warn("xenstore: transaction start");
			return -1;
		}
		if ((addrs != NULL &&
		    !xs_write(xs, t, PATH_ADDRS, addrs, strlen(addrs))) ||
		    (session != NULL &&
		    !xs_write(xs, t, PATH_SESSION, session, strlen(session))) ||
		    (boot != NULL && !xs_write(xs, t, PATH_BOOT, boot, strlen(boot)))) {
			log_warn("xenstore: write %s", REPORT_DIR);
			xs_transaction_end(xs, t, true);
			return -1;
		}
		if (xs_transaction_end(xs, t, false))
			return 0;
		if (errno != EAGAIN) {
			log_warn("xenstore: transaction end");
			return -1;
		}
	}
	log_warnx("xenstore: transaction kept conflicting, %d tries", TXN_RETRIES);
	return -1;
}

int
publish_records(struct xs_handle *xs, const char *boot, const char *addrs,
    const char *session)
{
	return write_txn(xs, boot, addrs, session);
}

int
publish_addrs(struct xs_handle *xs, const char *addrs)
{
	return write_txn(xs, NULL, addrs, NULL);
}

int
publish_session(struct xs_handle *xs, const char *session)
{
	return write_txn(xs, NULL, NULL, session);
}

static bool
present(struct xs_handle *xs, const char *path, bool *failed)
{
	unsigned int len;
	void	*v;

	v = xs_read(xs, XBT_NULL, path, &len);
	if (v != NULL) {
		free(v);
		return true;
	}
	if (errno != ENOENT) {
		log_warn("xenstore: read %s", path);
		*failed = true;
	}
	return false;
}

int
publish_credential(struct xs_handle *xs, const char *ack)
{
	xs_transaction_t t;
	int	 try;

	for (try = 0; try < TXN_RETRIES; try++) {
		if ((t = xs_transaction_start(xs)) == XBT_NULL) {
			log_warn("xenstore: transaction start");
			return -1;
		}
		if (!xs_write(xs, t, PATH_ACK, ack, strlen(ack))) {
			log_warn("xenstore: write %s", PATH_ACK);
			xs_transaction_end(xs, t, true);
			return -1;
		}
		if (xs_transaction_end(xs, t, false))
			return 0;
		if (errno != EAGAIN) {
			log_warn("xenstore: transaction end");
			return -1;
		}
	}
	return -1;
}

int
publish_read_secret(struct xs_handle *xs, char *buf, size_t len)
{
	unsigned int n;
	char	*v;
	int	 rc;

	if ((v = xs_read(xs, XBT_NULL, REPORT_SECRET_PATH, &n)) == NULL)
		return errno == ENOENT || errno == EACCES ? 0 : -1;
	if (n >= len) {
		log_warnx("%s: longer than %zu bytes", REPORT_SECRET_PATH, len - 1);
		rc = -2;
	} else {
		memcpy(buf, v, n);
		buf[n] = '\0';
		rc = (int)n;
	}
	/* xs_read's copy holds the password too. */
	explicit_bzero(v, n);
	free(v);
	return rc;
}

int
publish_check(struct xs_handle *xs, bool *cred_r)
{
	char	**ev;
	bool	 fired = false, failed = false, missing;

	*cred_r = false;
	while ((ev = xs_check_watch(xs)) != NULL) {
		if (strcmp(ev[XS_WATCH_TOKEN], CRED_TOKEN) == 0)
			*cred_r = true;
		else
			fired = true;
		free(ev);
	}
	if (errno != EAGAIN) {
		log_warn("xenstore: watch");
		return -1;
	}
	if (!fired)
		return 0;
	missing = !present(xs, PATH_BOOT, &failed) ||
	    !present(xs, PATH_ADDRS, &failed);
	if (failed)
		return -1;
	return missing ? 1 : 0;
}

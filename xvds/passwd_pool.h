/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * passwd_pool.h — argon2id checks (passwd.h) on worker threads, so that
 * the broker's event loop does not stall 13 ms a login: a boot storm of
 * 100 logins a second would otherwise need 1.3 s of loop a second.
 *
 * The loop hands a job over with passwd_pool_verify; a worker runs
 * passwd_verify (or passwd_verify_dummy for an unknown user) and the
 * result comes back to the loop through a pipe, where the callback runs.
 * Callbacks only ever run on the loop.
 */
#ifndef XVDS_PASSWD_POOL_H
#define XVDS_PASSWD_POOL_H

#include <stdbool.h>

#include "passwd.h"

#define PASSWD_POOL_THREADS_MAX	16
/* Jobs waiting beyond this are refused: each costs 19 MiB once running,
 * and a client waiting this far back would give up anyway. */
#define PASSWD_POOL_QUEUE_MAX	4096

struct event_base;
struct passwd_pool;

/*
 * The result (why holds PASSWD_BADHASH's reason), or cancelled true when
 * the pool was freed before the job ran: then r means nothing.
 */
typedef void (*passwd_pool_cb)(enum passwd_result r, const char *why,
	    bool cancelled, void *arg);

/* threads 0: one per online CPU, at most PASSWD_POOL_THREADS_MAX.  NULL
 * if the threads or the pipe cannot be made. */
struct passwd_pool *passwd_pool_new(struct event_base *, unsigned threads);
/* Joins the workers; every job not yet called back is, cancelled. */
void	passwd_pool_free(struct passwd_pool *);

/*
 * Queues the check of password against stored (NULL: an unknown user,
 * the dummy check).  Both are copied; the copies are wiped after use.
 * 0, or -1 if the queue is full or out of memory (cb is not called).
 */
int	passwd_pool_verify(struct passwd_pool *, const char *stored,
	    const char *password, passwd_pool_cb, void *arg);

/* Jobs queued or running now. */
unsigned passwd_pool_pending(const struct passwd_pool *);

#endif

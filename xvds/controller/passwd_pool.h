/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * controller/passwd_pool.h — argon2id checks (common/passwd.h) on worker
 * threads, so that the broker's event loop does not stall 13 ms a login: a boot
 * storm of 100 logins a second would otherwise need 1.3 s of loop a second.
 *
 * The loop hands a job over with passwd_pool_verify; a worker runs
 * passwd_verify (or passwd_verify_dummy for an unknown user) and the
 * result comes back to the loop through a pipe, where the callback runs.
 * Callbacks only ever run on the loop.
 */
#ifndef XVDS_CONTROLLER_PASSWD_POOL_H
#define XVDS_CONTROLLER_PASSWD_POOL_H

#include <stdbool.h>

#include "common/passwd.h"

#define PASSWD_POOL_THREADS_MAX	16
/*
 * The checks queued or running are bounded, in all and per client (an
 * address, ratelimit_addr_key): beyond either bound a check is refused
 * at once, to be tried again shortly, rather than queued behind a flood.
 * The workers take the clients in turn, one check each, so that a
 * client's check waits for one of each other client's at most, however
 * many the others have queued.  Each check costs 19 MiB while it runs.
 */
#define PASSWD_POOL_QUEUE_MAX	512
#define PASSWD_POOL_CLIENT_MAX	8
#define PASSWD_POOL_CLIENT_KEY	64	/* longer client keys are cut */

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
 * the dummy check) for client.  Both are copied; the copies are wiped
 * after use.  0; else cb is not called and -1: the client has
 * PASSWD_POOL_CLIENT_MAX checks under way, or the pool
 * PASSWD_POOL_QUEUE_MAX, or memory is short.
 */
int	passwd_pool_verify(struct passwd_pool *, const char *client,
	    const char *stored, const char *password, passwd_pool_cb,
	    void *arg);

/* Jobs queued or running now, in all or for client. */
unsigned passwd_pool_pending(const struct passwd_pool *);
unsigned passwd_pool_client_pending(const struct passwd_pool *,
	    const char *client);

#endif

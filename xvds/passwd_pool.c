/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * passwd_pool.c — argon2id checks on worker threads (passwd_pool.h).
 *
 * One mutex guards the queue; workers wait on a condition.  A finished
 * job goes back to the loop as its pointer written into a pipe: a write
 * of a pointer is atomic (far below PIPE_BUF), and the pipe holds more
 * pointers than the queue may (64 KiB of them), so a worker never blocks
 * on it for long, nor at all while the pool is being freed.
 */
#include <config.h>

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>
#include <sodium.h>

#include "log.h"
#include "passwd_pool.h"

struct job {
	char		 stored[PASSWD_HASH_MAX];
	bool		 dummy;		/* an unknown user */
	char		 password[PASSWD_MAX + 1];
	passwd_pool_cb	 cb;
	void		*arg;
	enum passwd_result r;
	char		 why[128];
	struct job	*next;
};

struct passwd_pool {
	pthread_mutex_t	 lock;
	pthread_cond_t	 more;
	struct job	*head, *tail;	/* waiting for a worker */
	unsigned	 pending;	/* queued, running, or in the pipe */
	bool		 stopping;
	pthread_t	 threads[PASSWD_POOL_THREADS_MAX];
	unsigned	 nthreads;
	int		 pipe[2];
	struct event	*done_ev;
};

static void
job_free(struct job *j)
{
	sodium_memzero(j, sizeof(*j));
	free(j);
}

static void *
worker(void *arg)
{
	struct passwd_pool *p = arg;
	struct job *j;

	for (;;) {
		pthread_mutex_lock(&p->lock);
		while (!p->stopping && p->head == NULL)
			pthread_cond_wait(&p->more, &p->lock);
		if (p->stopping) {
			pthread_mutex_unlock(&p->lock);
			return NULL;
		}
		j = p->head;
		if ((p->head = j->next) == NULL)
			p->tail = NULL;
		pthread_mutex_unlock(&p->lock);

		if (j->dummy) {
			passwd_verify_dummy(j->password);
			j->r = PASSWD_MISMATCH;
		} else
			j->r = passwd_verify(j->stored, j->password, j->why,
			    sizeof(j->why));
		sodium_memzero(j->password, sizeof(j->password));
		while (write(p->pipe[1], &j, sizeof(j)) == -1 && errno == EINTR)
			;
	}
}

/* On the loop: the finished jobs' callbacks. */
static void
done_cb(evutil_socket_t fd, short what, void *arg)
{
	struct passwd_pool *p = arg;
	struct job *j;
	ssize_t	 n;

	(void)what;
	while ((n = read(fd, &j, sizeof(j))) == (ssize_t)sizeof(j)) {
		pthread_mutex_lock(&p->lock);
		p->pending--;
		pthread_mutex_unlock(&p->lock);
		j->cb(j->r, j->why, false, j->arg);
		job_free(j);
	}
}

struct passwd_pool *
passwd_pool_new(struct event_base *base, unsigned threads)
{
	struct passwd_pool *p;
	long	 cpus;

	if (threads == 0) {
		cpus = sysconf(_SC_NPROCESSORS_ONLN);
		threads = cpus > 0 ? (unsigned)cpus : 1;
	}
	if (threads > PASSWD_POOL_THREADS_MAX)
		threads = PASSWD_POOL_THREADS_MAX;
	if ((p = calloc(1, sizeof(*p))) == NULL)
		return NULL;
	p->pipe[0] = p->pipe[1] = -1;
	if (pthread_mutex_init(&p->lock, NULL) != 0) {
		free(p);
		return NULL;
	}
	if (pthread_cond_init(&p->more, NULL) != 0) {
		pthread_mutex_destroy(&p->lock);
		free(p);
		return NULL;
	}
	if (pipe2(p->pipe, O_CLOEXEC) == -1 ||
	    fcntl(p->pipe[0], F_SETFL, O_NONBLOCK) == -1 ||
	    (p->done_ev = event_new(base, p->pipe[0], EV_READ | EV_PERSIST,
	    done_cb, p)) == NULL || event_add(p->done_ev, NULL) == -1) {
		log_warn("password checks: pipe");
		passwd_pool_free(p);
		return NULL;
	}
	for (p->nthreads = 0; p->nthreads < threads; p->nthreads++)
		if (pthread_create(&p->threads[p->nthreads], NULL, worker,
		    p) != 0) {
			log_warnx("password checks: cannot start a thread");
			passwd_pool_free(p);
			return NULL;
		}
	return p;
}

void
passwd_pool_free(struct passwd_pool *p)
{
	struct job *j;
	unsigned i;

	if (p == NULL)
		return;
	pthread_mutex_lock(&p->lock);
	p->stopping = true;
	pthread_cond_broadcast(&p->more);
	pthread_mutex_unlock(&p->lock);
	for (i = 0; i < p->nthreads; i++)
		pthread_join(p->threads[i], NULL);
	/* Finished but not delivered, then never started: cancelled. */
	if (p->pipe[0] != -1)
		while (read(p->pipe[0], &j, sizeof(j)) == (ssize_t)sizeof(j)) {
			j->cb(j->r, j->why, true, j->arg);
			job_free(j);
		}
	while ((j = p->head) != NULL) {
		p->head = j->next;
		j->cb(PASSWD_MISMATCH, "", true, j->arg);
		job_free(j);
	}
	if (p->done_ev != NULL)
		event_free(p->done_ev);
	if (p->pipe[0] != -1)
		close(p->pipe[0]);
	if (p->pipe[1] != -1)
		close(p->pipe[1]);
	pthread_cond_destroy(&p->more);
	pthread_mutex_destroy(&p->lock);
	free(p);
}

int
passwd_pool_verify(struct passwd_pool *p, const char *stored,
    const char *password, passwd_pool_cb cb, void *arg)
{
	struct job *j;
	int	 rc = -1;

	if ((j = calloc(1, sizeof(*j))) == NULL)
		return -1;
	/* A password longer than any passwd_verify takes is refused at the
	 * same cost, never cut short into one that might match. */
	j->dummy = stored == NULL || strlen(password) > PASSWD_MAX;
	if (stored != NULL)
		snprintf(j->stored, sizeof(j->stored), "%s", stored);
	if (!j->dummy || strlen(password) <= PASSWD_MAX)
		snprintf(j->password, sizeof(j->password), "%s", password);
	j->cb = cb;
	j->arg = arg;
	pthread_mutex_lock(&p->lock);
	if (!p->stopping && p->pending < PASSWD_POOL_QUEUE_MAX) {
		if (p->tail != NULL)
			p->tail->next = j;
		else
			p->head = j;
		p->tail = j;
		p->pending++;
		pthread_cond_signal(&p->more);
		rc = 0;
	}
	pthread_mutex_unlock(&p->lock);
	if (rc == -1)
		job_free(j);
	return rc;
}

unsigned
passwd_pool_pending(const struct passwd_pool *p)
{
	unsigned n;

	pthread_mutex_lock((pthread_mutex_t *)&p->lock);
	n = p->pending;
	pthread_mutex_unlock((pthread_mutex_t *)&p->lock);
	return n;
}

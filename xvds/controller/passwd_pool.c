/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * controller/passwd_pool.c — argon2id checks on worker threads
 * (controller/passwd_pool.h).
 *
 * One mutex guards the queue; workers wait on a condition.  A finished
 * job goes back to the loop as its pointer written into a pipe: a write
 * of a pointer is atomic (far below PIPE_BUF), and the pipe holds more
 * pointers than the queue may (64 KiB of them), so a worker never blocks
 * on it for long, nor at all while the pool is being freed.
 *
 * Each client with checks under way has a queue of its own; the clients
 * with checks waiting take turns, in a list a worker takes the first of
 * and puts back last while it has more (controller/passwd_pool.h).
 */
#include <config.h>

#include <sys/queue.h>

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>
#include <sodium.h>

#include "common/log.h"
#include "controller/passwd_pool.h"

struct client {
	char		 key[PASSWD_POOL_CLIENT_KEY + 1];
	struct job	*head, *tail;	/* waiting for a worker */
	unsigned	 pending;	/* queued, running, or in the pipe */
	bool		 turn;		/* in the turns' list */
	struct client	*next_turn;
	LIST_ENTRY(client) entry;	/* while pending */
};

struct job {
	struct client	*client;
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
	LIST_HEAD(, client) clients;	/* with checks under way */
	struct client	*turn, *last_turn;	/* with checks waiting */
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

/* In the turns' list, last.  Under the lock. */
static void
turn_append(struct passwd_pool *p, struct client *c)
{
	c->turn = true;
	c->next_turn = NULL;
	if (p->last_turn != NULL)
		p->last_turn->next_turn = c;
	else
		p->turn = c;
	p->last_turn = c;
}

/* The first client's first job; the client goes last if it has more. */
static struct job *
turn_take(struct passwd_pool *p)
{
	struct client *c = p->turn;
	struct job *j = c->head;

	if ((p->turn = c->next_turn) == NULL)
		p->last_turn = NULL;
	c->turn = false;
	if ((c->head = j->next) == NULL)
		c->tail = NULL;
	else
		turn_append(p, c);
	return j;
}

/* A job of c's is over.  Under the lock. */
static void
client_done(struct client *c)
{
	if (--c->pending == 0) {
		LIST_REMOVE(c, entry);
		free(c);
	}
}

static void *
worker(void *arg)
{
	struct passwd_pool *p = arg;
	struct job *j;

	for (;;) {
		pthread_mutex_lock(&p->lock);
		while (!p->stopping && p->turn == NULL)
			pthread_cond_wait(&p->more, &p->lock);
		if (p->stopping) {
			pthread_mutex_unlock(&p->lock);
			return NULL;
		}
		j = turn_take(p);
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
		client_done(j->client);
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
	LIST_INIT(&p->clients);
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
	struct client *c;
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
	while (p->turn != NULL) {
		j = turn_take(p);
		j->cb(PASSWD_MISMATCH, "", true, j->arg);
		job_free(j);
	}
	while ((c = LIST_FIRST(&p->clients)) != NULL) {
		LIST_REMOVE(c, entry);
		free(c);
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

/* client's queue, if it has checks under way.  Under the lock. */
static struct client *
client_find(const struct passwd_pool *p, const char *key)
{
	struct client *c;

	LIST_FOREACH(c, &p->clients, entry)
		if (strncmp(c->key, key, PASSWD_POOL_CLIENT_KEY) == 0)
			return c;
	return NULL;
}

int
passwd_pool_verify(struct passwd_pool *p, const char *client,
    const char *stored, const char *password, passwd_pool_cb cb, void *arg)
{
	struct client *c;
	struct job *j;
	int	 rc = -1;

	if (client == NULL)
		client = "";
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
	if (p->stopping || p->pending >= PASSWD_POOL_QUEUE_MAX)
		goto out;
	if ((c = client_find(p, client)) == NULL) {
		if ((c = calloc(1, sizeof(*c))) == NULL)
			goto out;
		snprintf(c->key, sizeof(c->key), "%s", client);
		LIST_INSERT_HEAD(&p->clients, c, entry);
	} else if (c->pending >= PASSWD_POOL_CLIENT_MAX)
		goto out;
	j->client = c;
	if (c->tail != NULL)
		c->tail->next = j;
	else
		c->head = j;
	c->tail = j;
	if (!c->turn)
		turn_append(p, c);
	c->pending++;
	p->pending++;
	pthread_cond_signal(&p->more);
	rc = 0;
out:
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

unsigned
passwd_pool_client_pending(const struct passwd_pool *p, const char *client)
{
	const struct client *c;
	unsigned n;

	pthread_mutex_lock((pthread_mutex_t *)&p->lock);
	c = client_find(p, client != NULL ? client : "");
	n = c != NULL ? c->pending : 0;
	pthread_mutex_unlock((pthread_mutex_t *)&p->lock);
	return n;
}

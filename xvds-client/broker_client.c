/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * broker_client.c — the broker protocol over blocking TLS
 * (broker_client.h).  Replies are read a record at a time into a buffer
 * bounded by BROKER_MSG_MAX; a reply without its newline within that is
 * refused, as the broker refuses such a request.
 */
#include <config.h>

#include <sys/socket.h>
#include <sys/time.h>

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <sodium.h>

#include "broker_client.h"
#include "net_dial.h"

struct broker_client {
	int	 fd;
	SSL_CTX	*ctx;
	SSL	*ssl;
	char	 buf[BROKER_MSG_MAX + 1];	/* read, not yet a whole line */
	size_t	 len;
	broker_client_progress_fn *progress;	/* NULL: not asked for */
	void	*progress_arg;
};

static void
tls_error(char *err, size_t errlen, const char *what)
{
	char	 buf[256];
	unsigned long e = ERR_get_error();

	if (e != 0) {
		ERR_error_string_n(e, buf, sizeof(buf));
		snprintf(err, errlen, "%s: %s", what, buf);
	} else
		snprintf(err, errlen, "%s: %s", what, errno != 0 ?
		    strerror(errno) : "connection closed");
}

struct broker_client *
broker_client_open(const char *server, uint16_t port, const char *ca_file,
    char *err, size_t errlen)
{
	struct broker_client *c;

	if ((c = calloc(1, sizeof(*c))) == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	c->fd = -1;
	if ((c->fd = net_dial(server, port, BROKER_CLIENT_REQUEST_S, err,
	    errlen)) == -1)
		goto fail;
	ERR_clear_error();
	errno = 0;
	if ((c->ctx = SSL_CTX_new(TLS_client_method())) == NULL ||
	    SSL_CTX_set_min_proto_version(c->ctx, TLS1_2_VERSION) != 1) {
		tls_error(err, errlen, "TLS");
		goto fail;
	}
	if ((ca_file != NULL ? SSL_CTX_load_verify_locations(c->ctx, ca_file,
	    NULL) : SSL_CTX_set_default_verify_paths(c->ctx)) != 1) {
		tls_error(err, errlen, ca_file != NULL ? ca_file :
		    "the system's CA certificates");
		goto fail;
	}
	SSL_CTX_set_verify(c->ctx, SSL_VERIFY_PEER, NULL);
	/* The desktop's credential and token: not left in the record buffer. */
	SSL_CTX_set_options(c->ctx, SSL_OP_CLEANSE_PLAINTEXT);
	if ((c->ssl = SSL_new(c->ctx)) == NULL ||
	    SSL_set_fd(c->ssl, c->fd) != 1 ||
	    SSL_set_tlsext_host_name(c->ssl, server) != 1 ||
	    SSL_set1_host(c->ssl, server) != 1) {
		tls_error(err, errlen, "TLS");
		goto fail;
	}
	if (SSL_connect(c->ssl) != 1) {
		long v = SSL_get_verify_result(c->ssl);

		if (v != X509_V_OK)
			snprintf(err, errlen, "%s: the controller's certificate: "
			    "%s", server, X509_verify_cert_error_string(v));
		else
			tls_error(err, errlen, server);
		goto fail;
	}
	return c;
fail:
	broker_client_close(c);
	return NULL;
}

void
broker_client_close(struct broker_client *c)
{
	if (c == NULL)
		return;
	if (c->ssl != NULL) {
		(void)SSL_shutdown(c->ssl);
		SSL_free(c->ssl);
	}
	SSL_CTX_free(c->ctx);
	if (c->fd != -1)
		close(c->fd);
	sodium_memzero(c->buf, sizeof(c->buf));
	free(c);
}

/* One line (without its newline) into c->buf; its length, or -1. */
static int
read_line(struct broker_client *c, size_t *len_r, char *err, size_t errlen)
{
	char	*nl;
	int	 n;

	for (;;) {
		if ((nl = memchr(c->buf, '\n', c->len)) != NULL) {
			*len_r = (size_t)(nl - c->buf);
			return 0;
		}
		if (c->len >= BROKER_MSG_MAX) {
			snprintf(err, errlen, "a reply longer than %d bytes",
			    BROKER_MSG_MAX);
			return -1;
		}
		ERR_clear_error();
		errno = 0;
		if ((n = SSL_read(c->ssl, c->buf + c->len,
		    (int)(BROKER_MSG_MAX - c->len))) <= 0) {
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				snprintf(err, errlen, "no reply in time");
			else
				tls_error(err, errlen, "the controller");
			return -1;
		}
		c->len += (size_t)n;
	}
}

void
broker_client_set_progress(struct broker_client *c,
    broker_client_progress_fn *fn, void *arg)
{
	c->progress = fn;
	c->progress_arg = arg;
}

/* Sends req as one line; a login asks for progress if c hears it. */
static int
send_request(struct broker_client *c, const struct broker_request *req,
    char *err, size_t errlen)
{
	struct broker_request ask = *req;
	char	*line;
	size_t	 n;
	int	 rc;

	if (ask.type == BROKER_LOGIN)
		ask.progress = c->progress != NULL;
	line = broker_request_encode(&ask, err, errlen);
	sodium_memzero(&ask, sizeof(ask));
	if (line == NULL)
		return -1;
	n = strlen(line);
	line[n] = '\n';		/* over the NUL: written with its length */
	ERR_clear_error();
	errno = 0;
	rc = SSL_write(c->ssl, line, (int)n + 1);
	sodium_memzero(line, n + 1);
	free(line);
	if (rc != (int)n + 1) {
		tls_error(err, errlen, "the controller");
		return -1;
	}
	return 0;
}

/* The time from now to deadline (CLOCK_MONOTONIC) in tv; 0 if past. */
static int
time_left(const struct timespec *deadline, struct timeval *tv)
{
	struct timespec now;
	long	 ns;

	clock_gettime(CLOCK_MONOTONIC, &now);
	tv->tv_sec = deadline->tv_sec - now.tv_sec;
	ns = deadline->tv_nsec - now.tv_nsec;
	if (ns < 0) {
		tv->tv_sec--;
		ns += 1000000000L;
	}
	tv->tv_usec = (suseconds_t)(ns / 1000);
	return tv->tv_sec > 0 || (tv->tv_sec == 0 && tv->tv_usec > 0);
}

/* The next line decoded into rep, read by the deadline; 0 or -1. */
static int
read_reply(struct broker_client *c, const struct timespec *deadline,
    struct broker_reply *rep, char *err, size_t errlen)
{
	struct timeval tv;
	char	 derr[BROKER_TEXT_MAX];
	size_t	 len;
	int	 rc;

	if (!time_left(deadline, &tv)) {
		snprintf(err, errlen, "no reply in time");
		return -1;
	}
	(void)setsockopt(c->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	if (read_line(c, &len, err, errlen) == -1)
		return -1;
	rc = broker_reply_decode(c->buf, len, rep, derr, sizeof(derr));
	/* What follows the line stays for the next reply. */
	memmove(c->buf, c->buf + len + 1, c->len - len - 1);
	c->len -= len + 1;
	sodium_memzero(c->buf + c->len, len + 1);
	if (rc == -1) {
		snprintf(err, errlen, "a bad reply: %s", derr);
		return -1;
	}
	return 0;
}

int
broker_client_ask(struct broker_client *c, const struct broker_request *req,
    unsigned timeout_s, struct broker_reply *rep, char *err, size_t errlen)
{
	struct timespec deadline;
	bool	 asked = req->type == BROKER_LOGIN && c->progress != NULL;

	clock_gettime(CLOCK_MONOTONIC, &deadline);
	deadline.tv_sec += (time_t)timeout_s;
	if (send_request(c, req, err, errlen) == -1)
		return -1;
	for (;;) {
		if (read_reply(c, &deadline, rep, err, errlen) == -1)
			return -1;
		if (rep->type != BROKER_R_PROGRESS)
			return 0;
		if (!asked) {
			snprintf(err, errlen, "a bad reply: progress not asked "
			    "for");
			return -1;
		}
		c->progress(rep->step, c->progress_arg);
	}
}

/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * flood.c — tests/ctrl/flood, an attacker's connections for the
 * controller's flood tests (tests/ctrl/flood.test): it opens -n
 * connections to 127.0.0.1:-p from the source addresses -a (loopback is
 * 127/8: each a client address of its own), round robin, and holds them.
 *
 *   -m tcp    a TCP connection that sends nothing
 *   -m tls    a TLS handshake completed (no certificate), then nothing
 *   -m hello  the first 5 bytes of a TLS record, a handshake that never ends
 *   -k MS     trickles one byte on every open connection each MS ms
 *             (tls: a request line never ended; tcp, hello: TLS bytes)
 *   -t S      holds them S seconds, then closes them all and exits
 *   -c        keeps opening: a connection closed by the server is opened
 *             again, as a flooder that wants to keep its count would
 *
 * stdout: "opened N" once the first round is tried, then every 250 ms
 * "open K" (those the server has not closed), and at the end "closed C
 * min MIN max MAX" (the server-closed ones' lifetimes, ms) and "done".
 */
#include <config.h>

#include <sys/resource.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <openssl/ssl.h>

#define SRC_MAX		64

struct fconn {
	int		 fd;		/* -1: closed by the server, or never */
	SSL		*ssl;
	long long	 opened;	/* ms */
};

static struct {
	struct in_addr	 src[SRC_MAX];
	int		 nsrc, port, n, trickle_ms, seconds, again;
	const char	*mode;
	SSL_CTX		*ctx;
	struct fconn	*c;
	long long	 closed, min_ms, max_ms;
} F;

static long long
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static _Noreturn void
usage(void)
{
	fprintf(stderr, "usage: flood -p port -n count -a src[,src...] "
	    "[-m tcp|tls|hello] [-k ms] [-t seconds] [-c]\n");
	exit(2);
}

/* One connection from source i; -1 if it could not be made. */
static int
open_one(struct fconn *c, int i)
{
	static const unsigned char hello[5] = { 0x16, 0x03, 0x01, 0x02, 0x00 };
	struct sockaddr_in src, dst;
	struct timeval tv = { 5, 0 };
	int	 fd;

	c->fd = -1;
	c->ssl = NULL;
	if ((fd = socket(AF_INET, SOCK_STREAM, 0)) == -1)
		return -1;
	memset(&src, 0, sizeof(src));
	src.sin_family = AF_INET;
	src.sin_addr = F.src[i % F.nsrc];
	memset(&dst, 0, sizeof(dst));
	dst.sin_family = AF_INET;
	dst.sin_port = htons((uint16_t)F.port);
	dst.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	/* A server that takes no more makes connect wait: bounded. */
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	if (bind(fd, (struct sockaddr *)&src, sizeof(src)) == -1 ||
	    connect(fd, (struct sockaddr *)&dst, sizeof(dst)) == -1)
		goto fail;
	if (strcmp(F.mode, "tls") == 0) {
		if ((c->ssl = SSL_new(F.ctx)) == NULL ||
		    SSL_set_fd(c->ssl, fd) != 1 || SSL_connect(c->ssl) != 1)
			goto fail;
	} else if (strcmp(F.mode, "hello") == 0 &&
	    write(fd, hello, sizeof(hello)) != (ssize_t)sizeof(hello))
		goto fail;
	c->fd = fd;
	c->opened = now_ms();
	return 0;
fail:
	SSL_free(c->ssl);
	c->ssl = NULL;
	close(fd);
	return -1;
}

/* The server closed it: noted, and forgotten. */
static void
lost(struct fconn *c)
{
	long long ms = now_ms() - c->opened;

	if (F.closed == 0 || ms < F.min_ms)
		F.min_ms = ms;
	if (ms > F.max_ms)
		F.max_ms = ms;
	F.closed++;
	SSL_free(c->ssl);
	c->ssl = NULL;
	close(c->fd);
	c->fd = -1;
}

/* Which connections the server has closed (EOF, or a reset). */
static void
check(void)
{
	struct pollfd *p;
	char	 buf[4096];
	ssize_t	 r;
	int	 i;

	if ((p = calloc((size_t)F.n, sizeof(*p))) == NULL)
		exit(1);
	for (i = 0; i < F.n; i++) {
		p[i].fd = F.c[i].fd;
		p[i].events = POLLIN | POLLRDHUP;
	}
	if (poll(p, (nfds_t)F.n, 0) > 0)
		for (i = 0; i < F.n; i++) {
			if (p[i].fd == -1 || p[i].revents == 0)
				continue;
			/* Whatever came (a TLS alert), then the end. */
			while ((r = recv(p[i].fd, buf, sizeof(buf),
			    MSG_DONTWAIT)) > 0)
				continue;
			if (r == 0 || (errno != EAGAIN && errno != EWOULDBLOCK))
				lost(&F.c[i]);
		}
	free(p);
}

static void
trickle(void)
{
	int	 i;

	for (i = 0; i < F.n; i++) {
		if (F.c[i].fd == -1)
			continue;
		if (F.c[i].ssl != NULL)
			(void)SSL_write(F.c[i].ssl, "x", 1);
		else
			(void)send(F.c[i].fd, "\0", 1, MSG_DONTWAIT);
	}
}

static int
count_open(void)
{
	int	 i, k = 0;

	for (i = 0; i < F.n; i++)
		k += F.c[i].fd != -1;
	return k;
}

int
main(int argc, char *argv[])
{
	struct rlimit rl;
	long long start, next_trickle, next_print, end;
	char	*s, *tok;
	int	 ch, i, k;

	F.mode = "tcp";
	F.seconds = 10;
	while ((ch = getopt(argc, argv, "a:ck:m:n:p:t:")) != -1) {
		switch (ch) {
		case 'a':
			s = optarg;
			while ((tok = strsep(&s, ",")) != NULL) {
				if (F.nsrc == SRC_MAX ||
				    inet_pton(AF_INET, tok, &F.src[F.nsrc]) != 1)
					usage();
				F.nsrc++;
			}
			break;
		case 'c':
			F.again = 1;
			break;
		case 'k':
			F.trickle_ms = atoi(optarg);
			break;
		case 'm':
			F.mode = optarg;
			break;
		case 'n':
			F.n = atoi(optarg);
			break;
		case 'p':
			F.port = atoi(optarg);
			break;
		case 't':
			F.seconds = atoi(optarg);
			break;
		default:
			usage();
		}
	}
	if (F.n <= 0 || F.port <= 0 || F.nsrc == 0 || (strcmp(F.mode, "tcp") &&
	    strcmp(F.mode, "tls") && strcmp(F.mode, "hello")))
		usage();
	signal(SIGPIPE, SIG_IGN);
	/* Its own descriptors are not what is tested. */
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		(void)setrlimit(RLIMIT_NOFILE, &rl);
	}
	if ((F.ctx = SSL_CTX_new(TLS_client_method())) == NULL ||
	    (F.c = calloc((size_t)F.n, sizeof(*F.c))) == NULL)
		return 1;
	SSL_CTX_set_verify(F.ctx, SSL_VERIFY_NONE, NULL);
	start = now_ms();
	end = start + (long long)F.seconds * 1000;
	for (i = 0, k = 0; i < F.n && now_ms() < end; i++)
		k += open_one(&F.c[i], i) == 0;
	for (; i < F.n; i++)
		F.c[i].fd = -1;
	printf("opened %d\n", k);
	fflush(stdout);
	next_trickle = now_ms() + F.trickle_ms;
	next_print = now_ms();
	while (now_ms() < end) {
		check();
		if (F.again)
			for (i = 0; i < F.n && now_ms() < end; i++)
				if (F.c[i].fd == -1)
					(void)open_one(&F.c[i], i);
		if (F.trickle_ms > 0 && now_ms() >= next_trickle) {
			trickle();
			next_trickle = now_ms() + F.trickle_ms;
		}
		if (now_ms() >= next_print) {
			printf("open %d\n", count_open());
			fflush(stdout);
			next_print += 250;
		}
		usleep(20000);
	}
	printf("closed %lld min %lld max %lld\n", F.closed, F.min_ms,
	    F.max_ms);
	for (i = 0; i < F.n; i++) {
		SSL_free(F.c[i].ssl);
		if (F.c[i].fd != -1)
			close(F.c[i].fd);
	}
	printf("done\n");
	fflush(stdout);
	SSL_CTX_free(F.ctx);
	free(F.c);
	return 0;
}

/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * admin_send.c — admin-send, the raw client of the controller's admin
 * socket for tests/ctrl/admin.test: it sends each line of its standard
 * input as it is, malformed or not, and prints the reply line that comes
 * back, or "closed" when the controller closes the connection instead.
 *
 *   admin-send SOCKET < lines
 *   admin-send -b SOCKET     binds SOCKET and exits: a stale socket
 *
 * Exit 0 when every line had a reply, 1 when the connection was closed
 * first, 2 on a usage or system error, 3 after 5 s without a reply.
 */
#include <config.h>

#include <sys/socket.h>
#include <sys/un.h>

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define WAIT_MS		5000
#define LINE_MAX_	(1024 * 1024)

static int
send_all(int fd, const char *p, size_t n)
{
	ssize_t	 w;

	while (n > 0) {
		if ((w = write(fd, p, n)) == -1) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

/* One reply line to stdout: 0, 1 closed, 3 timeout. */
static int
recv_line(int fd)
{
	struct pollfd pfd = { fd, POLLIN, 0 };
	char	 c;
	ssize_t	 r;

	for (;;) {
		if (poll(&pfd, 1, WAIT_MS) <= 0)
			return 3;
		if ((r = read(fd, &c, 1)) <= 0) {
			printf("closed\n");
			return 1;
		}
		putchar(c);
		if (c == '\n')
			return 0;
	}
}

int
main(int argc, char *argv[])
{
	struct sockaddr_un sun;
	char	*line;
	size_t	 n;
	int	 fd, rc = 0;

	if ((argc != 2 && (argc != 3 || strcmp(argv[1], "-b") != 0)) ||
	    strlen(argv[argc - 1]) >= sizeof(sun.sun_path)) {
		fprintf(stderr, "usage: admin-send [-b] SOCKET < lines\n");
		return 2;
	}
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	memcpy(sun.sun_path, argv[argc - 1], strlen(argv[argc - 1]) + 1);
	if ((fd = socket(AF_UNIX, SOCK_STREAM, 0)) == -1) {
		perror("socket");
		return 2;
	}
	if (argc == 3) {
		/* Bound, never listened on: what a dead daemon leaves. */
		if (bind(fd, (struct sockaddr *)&sun, sizeof(sun)) == -1) {
			perror(argv[2]);
			return 2;
		}
		return 0;
	}
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == -1) {
		perror(argv[1]);
		return 2;
	}
	/* A controller that closes first is a "closed" line, not a death. */
	signal(SIGPIPE, SIG_IGN);
	if ((line = malloc(LINE_MAX_ + 2)) == NULL)
		return 2;
	while (rc == 0 && fgets(line, LINE_MAX_ + 2, stdin) != NULL) {
		n = strlen(line);
		if (send_all(fd, line, n) == -1) {
			printf("closed\n");
			rc = 1;
			break;
		}
		rc = recv_line(fd);
		fflush(stdout);
	}
	free(line);
	close(fd);
	return rc;
}

/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * net_dial.c — a TCP connection (net_dial.h).
 */
#include <config.h>

#include <sys/socket.h>
#include <sys/time.h>

#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "net_dial.h"

int
net_dial(const char *server, uint16_t port, unsigned timeout_s, char *err,
    size_t errlen)
{
	struct addrinfo hints, *ai, *a;
	struct timeval tv = { (time_t)timeout_s, 0 };
	char	 portstr[8];
	int	 fd = -1, rc, saved = ECONNREFUSED;

	memset(&hints, 0, sizeof(hints));
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_NUMERICSERV;
	snprintf(portstr, sizeof(portstr), "%u", (unsigned)port);
	if ((rc = getaddrinfo(server, portstr, &hints, &ai)) != 0) {
		snprintf(err, errlen, "%s: %s", server, gai_strerror(rc));
		return -1;
	}
	for (a = ai; a != NULL; a = a->ai_next) {
		if ((fd = socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC,
		    a->ai_protocol)) == -1) {
			saved = errno;
			continue;
		}
		(void)setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
		(void)setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
		if (connect(fd, a->ai_addr, a->ai_addrlen) == 0)
			break;
		saved = errno;
		close(fd);
		fd = -1;
	}
	freeaddrinfo(ai);
	if (fd == -1)
		snprintf(err, errlen, "%s port %u: %s", server, (unsigned)port,
		    strerror(saved));
	return fd;
}

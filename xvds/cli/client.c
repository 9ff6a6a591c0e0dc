/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * cli/client.c — xvdsctl's side of xvdsd's control socket
 * (xvds-control(7)) and of the controller's admin socket (xvds-admin(7)),
 * which speaks the same framing: connect, send one request, wait for its reply, and
 * turn an error reply into a message and an exit status.
 */
#include <config.h>

#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>

#include <errno.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "common/jsonerr.h"
#include "common/log.h"
#include "common/sockets.h"
#include "cli/xvdsctl.h"

/* Both sockets speak version 1 (xvds-control(7), xvds-admin(7)). */
#define CTL_PROTOCOL		SOCKETS_CONTROL_VERSION
_Static_assert(SOCKETS_CONTROL_VERSION == SOCKETS_ADMIN_VERSION,
    "xvdsctl sends one version to both sockets");
#define CTL_REQUEST_ID		1
/* A reply as large as this is a broken daemon, not a large host. */
#define CTL_REPLY_MAX		(256 * 1024 * 1024)

/* The protocol's error names, how xvdsctl says them, and its exit status. */
static const struct {
	const char	*name;
	const char	*label;
	int		 exit;
} ctl_errors[] = {
	{ "invalid", "invalid request", CTL_EXIT_FAILED },
	{ "no-such-vm", "no such VM", CTL_EXIT_NOVM },
	{ "exists", "already exists", CTL_EXIT_EXISTS },
	{ "illegal-transition", "illegal transition", CTL_EXIT_ILLEGAL },
	{ "busy", "busy", CTL_EXIT_BUSY },
	{ "failed", "failed", CTL_EXIT_FAILED },
	{ "not-supported", "not supported", CTL_EXIT_FAILED },
	{ "internal", "internal error", CTL_EXIT_FAILED },
	/* The controller's (xvds-admin(7)). */
	{ "standby", "not served", CTL_EXIT_UNREACHABLE },
	{ "not-found", "not found", CTL_EXIT_NOVM },
	{ "conflict", "refused", CTL_EXIT_ILLEGAL },
	{ "guest-failed", "the guest's agent failed", CTL_EXIT_FAILED },
	{ "guest-timeout", "no answer from the guest's agent", CTL_EXIT_FAILED },
};

static int64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int
ctl_connect(struct ctl *ctl)
{
	struct sockaddr_un sun;
	struct timeval tv = { (time_t)ctl->timeout, 0 };
	int	 fd;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (strlen(ctl->socket) >= sizeof(sun.sun_path)) {
		log_warnx("socket path too long: %s", ctl->socket);
		return CTL_EXIT_USAGE;
	}
	memcpy(sun.sun_path, ctl->socket, strlen(ctl->socket) + 1);
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1) {
		log_warn("socket");
		return CTL_EXIT_FAILED;
	}
	/* A daemon at its client limit leaves us in its backlog: bound it. */
	if (ctl->timeout != 0)
		setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == -1) {
		int	 saved = errno;

		close(fd);
		if (saved == ENOENT)
			log_warnx("%s is not running: no socket at %s",
			    ctl->peer, ctl->socket);
		else if (saved == ECONNREFUSED)
			log_warnx("%s is not running: connection refused at %s",
			    ctl->peer, ctl->socket);
		else if (saved == EACCES || saved == EPERM)
			log_warnx("cannot connect to %s: %s (xvdsctl must run as "
			    "root)", ctl->socket, strerror(saved));
		else if (saved == EAGAIN || saved == EINPROGRESS ||
		    saved == ETIMEDOUT)
			log_warnx("%s at %s does not take connections (too many "
			    "clients?)", ctl->peer, ctl->socket);
		else
			log_warnx("cannot connect to %s: %s", ctl->socket,
			    strerror(saved));
		return CTL_EXIT_UNREACHABLE;
	}
	ctl->fd = fd;
	return CTL_EXIT_OK;
}

void
ctl_disconnect(struct ctl *ctl)
{
	if (ctl->fd != -1)
		close(ctl->fd);
	ctl->fd = -1;
}

/* 0, or -1 with errno set. */
static int
ctl_send(struct ctl *ctl, const char *buf, size_t len)
{
	ssize_t	 n;

	while (len > 0) {
		if ((n = write(ctl->fd, buf, len)) == -1) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

/* Reads one line into *line_r (the caller frees it). */
static int
ctl_recv(struct ctl *ctl, char **line_r)
{
	int64_t	 deadline = ctl->timeout ? now_ms() + (int64_t)ctl->timeout * 1000 : 0;
	size_t	 len = 0, size = 0;
	char	*buf = NULL, *nl, *p;
	ssize_t	 n;

	for (;;) {
		struct pollfd pfd = { ctl->fd, POLLIN, 0 };
		int	 wait = -1, r;

		if (deadline) {
			int64_t	 left = deadline - now_ms();

			if (left <= 0)
				goto timeout;
			wait = left > INT32_MAX ? INT32_MAX : (int)left;
		}
		if ((r = poll(&pfd, 1, wait)) == -1) {
			if (errno == EINTR)
				continue;
			log_warn("poll");
			goto fail;
		}
		if (r == 0)
			goto timeout;
		if (size - len < 65536) {
			if (size >= CTL_REPLY_MAX) {
				log_warnx("%s: the reply is larger than %d bytes",
				    ctl->what, CTL_REPLY_MAX);
				goto fail;
			}
			size = size ? size * 2 : 65536 * 2;
			if ((p = realloc(buf, size)) == NULL) {
				log_warn("%s", __func__);
				goto fail;
			}
			buf = p;
		}
		if ((n = read(ctl->fd, buf + len, size - len - 1)) == -1) {
			if (errno == EINTR || errno == EAGAIN)
				continue;
			log_warnx("%s: lost %s: %s", ctl->what, ctl->peer,
			    strerror(errno));
			free(buf);
			return CTL_EXIT_UNREACHABLE;
		}
		if (n == 0) {
			log_warnx("%s: %s closed the connection before it "
			    "replied", ctl->what, ctl->peer);
			free(buf);
			return CTL_EXIT_UNREACHABLE;
		}
		len += (size_t)n;
		buf[len] = '\0';
		if ((nl = memchr(buf + len - n, '\n', (size_t)n)) != NULL) {
			*nl = '\0';
			*line_r = buf;
			return CTL_EXIT_OK;
		}
	}
 timeout:
	log_warnx("%s: no reply within %u s; %s may still carry the request "
	    "out", ctl->what, ctl->timeout, ctl->peer);
	free(buf);
	return CTL_EXIT_TIMEOUT;
 fail:
	free(buf);
	return CTL_EXIT_FAILED;
}

/*
 * Sends the request line and reads the reply.  A daemon that refuses the
 * client outright (the controller's admin socket, to anyone but root:
 * xvds-admin(7)) writes its reply and closes without reading: the write
 * then fails (EPIPE) while the reply waits to be read.  Read, it says why.
 */
static int
ctl_exchange(struct ctl *ctl, const char *s, char **line_r)
{
	int	 saved;

	if (ctl_send(ctl, s, strlen(s)) == 0 && ctl_send(ctl, "\n", 1) == 0)
		return ctl_recv(ctl, line_r);
	saved = errno;
	if ((saved == EPIPE || saved == ECONNRESET) &&
	    ctl_recv(ctl, line_r) == CTL_EXIT_OK)
		return CTL_EXIT_OK;
	log_warnx("%s: cannot send the request to %s: %s", ctl->what,
	    ctl->peer, strerror(saved));
	return CTL_EXIT_UNREACHABLE;
}

/* An error reply: the daemon's message, prefixed with what was asked. */
static int
ctl_error(struct ctl *ctl, json_t *reply)
{
	const char *name = json_string_value(json_object_get(reply, "error"));
	const char *msg = json_string_value(json_object_get(reply, "message"));
	size_t	 i;

	if (name == NULL)
		name = "unknown";
	if (msg == NULL)
		msg = "(no message)";
	for (i = 0; i < sizeof(ctl_errors) / sizeof(ctl_errors[0]); i++)
		if (strcmp(ctl_errors[i].name, name) == 0) {
			log_warnx("%s: %s: %s", ctl->what, ctl_errors[i].label, msg);
			return ctl_errors[i].exit;
		}
	/* A newer daemon's error. */
	log_warnx("%s: %s: %s", ctl->what, name, msg);
	return CTL_EXIT_FAILED;
}

json_t *
ctl_call(struct ctl *ctl, const char *cmd, json_t *args, int *exit_r)
{
	json_t	*req, *reply = NULL, *result = NULL, *v, *id, *ok;
	json_error_t jerr;
	char	*s = NULL, *line = NULL;
	int	 rc;

	req = args != NULL ? args : json_object();
	json_object_set_new(req, "v", json_integer(CTL_PROTOCOL));
	json_object_set_new(req, "id", json_integer(CTL_REQUEST_ID));
	json_object_set_new(req, "cmd", json_string(cmd));
	if ((s = json_dumps(req, JSON_COMPACT)) == NULL) {
		log_warnx("%s: cannot encode the request", ctl->what);
		rc = CTL_EXIT_FAILED;
		goto out;
	}
	if (ctl->fd == -1 && (rc = ctl_connect(ctl)) != CTL_EXIT_OK)
		goto out;
	if ((rc = ctl_exchange(ctl, s, &line)) != CTL_EXIT_OK)
		goto out;
	rc = CTL_EXIT_FAILED;
	if ((reply = json_loads(line, 0, &jerr)) == NULL) {
		log_warnx("%s: malformed reply from %s: %s", ctl->what,
		    ctl->peer, jsonerr(&jerr));
		goto out;
	}
	v = json_object_get(reply, "v");
	id = json_object_get(reply, "id");
	ok = json_object_get(reply, "ok");
	if (json_integer_value(v) != CTL_PROTOCOL || !json_is_boolean(ok)) {
		log_warnx("%s: unexpected reply from %s (protocol %d expected): "
		    "%.200s", ctl->what, ctl->peer, CTL_PROTOCOL, line);
		goto out;
	}
	if (!json_is_true(ok)) {
		rc = ctl_error(ctl, reply);
		goto out;
	}
	if (json_integer_value(id) != CTL_REQUEST_ID ||
	    (result = json_object_get(reply, "result")) == NULL) {
		log_warnx("%s: unexpected reply from %s: %.200s", ctl->what,
		    ctl->peer, line);
		goto out;
	}
	json_incref(result);
	rc = CTL_EXIT_OK;
 out:
	json_decref(reply);
	json_decref(req);
	free(line);
	/* vm.credential's request holds a password. */
	if (s != NULL)
		explicit_bzero(s, strlen(s));
	free(s);
	*exit_r = rc;
	return result;
}

void
ctl_print_json(const json_t *j)
{
	char	*s;

	if ((s = json_dumps(j, JSON_INDENT(2) | JSON_ENCODE_ANY |
	    JSON_REAL_PRECISION(15))) == NULL)
		fatalx("cannot encode the result");
	printf("%s\n", s);
	free(s);
}

/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * viewer.c — FreeRDP's client as the session's viewer (viewer.h).  The
 * exit statuses are xfreerdp3's and sdl-freerdp3's (FreeRDP 3.10, checked
 * against a real server by tests/client/session.test).
 */
#include <config.h>

#include <errno.h>
#include <fcntl.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <sodium.h>

#include "viewer.h"

extern char **environ;

#define ARGS_MAX	16
#define ARG_LEN		320
/* The log line of FreeRDP's post-connect: the session is up. */
#define CONNECTED_MARK	"gdi_init_ex"

/* FreeRDP 3.10's client exit statuses, by what they mean to the user. */
static const int closed_codes[] = { 0, 1, -1 };
static const int logoff_codes[] = { 2, 3, 4, 5, 11, 12, -1 };
static const int auth_codes[] = { 132, 134, 135, 148, 149, 151, 152, 154,
	155, 156, 157, 158, 159, -1 };
static const int untrusted_codes[] = { 143, -1 };
static const int network_codes[] = { 131, 133, 137, 139, 140, 141, 142,
	147, 150, -1 };

struct args {
	char	 buf[ARGS_MAX][ARG_LEN];
	char	*argv[ARGS_MAX + 1];
	int	 n;
};

static void
add(struct args *a, const char *prefix, const char *s, const char *suffix)
{
	snprintf(a->buf[a->n], ARG_LEN, "%s%s%s", prefix, s, suffix);
	a->argv[a->n] = a->buf[a->n];
	a->argv[++a->n] = NULL;
}

static void
add_flag(struct args *a, bool on, const char *name)
{
	add(a, on ? "/" : "-", name, "");
}

/* The viewer's command line: nothing secret (the user is a name). */
static void
build_args(struct args *a, const struct rdp_conf *c,
    const struct broker_desktop *d)
{
	char	 port[16], retries[16];

	memset(a, 0, sizeof(*a));
	snprintf(port, sizeof(port), "%u", (unsigned)d->port);
	snprintf(retries, sizeof(retries), "%u", c->reconnect_retries);
	add(a, "", c->viewer, "");
	if (strchr(d->address, ':') != NULL)	/* IPv6 */
		add(a, "/v:[", d->address, "]");
	else
		add(a, "/v:", d->address, "");
	add(a, "/port:", port, "");
	add(a, "/u:", d->rdp_user, "");
	add(a, "", "/from-stdin:force", "");
	add(a, "/cert:deny,fingerprint:sha256:", d->cert_fingerprint, "");
	add_flag(a, c->gfx, "gfx");
	if (c->rfx)
		add(a, "", "/rfx", "");
	add_flag(a, c->compression, "compression");
	if (c->sound)
		add(a, "", "/sound", "");
	add(a, c->auto_reconnect ? "+" : "-", "auto-reconnect", "");
	if (c->auto_reconnect)
		add(a, "/auto-reconnect-max-retries:", retries, "");
	if (c->fullscreen)
		add(a, "", "/f", "");
}

static int
spawn(struct viewer *v, const struct args *a, int in, int out, char *err,
    size_t errlen)
{
	posix_spawn_file_actions_t fa;
	int	 rc;

	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, in, STDIN_FILENO);
	posix_spawn_file_actions_adddup2(&fa, out, STDOUT_FILENO);
	posix_spawn_file_actions_adddup2(&fa, out, STDERR_FILENO);
	rc = (a->argv[0][0] == '/' ? posix_spawn : posix_spawnp)(&v->pid,
	    a->argv[0], &fa, NULL, a->argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	if (rc != 0)
		snprintf(err, errlen, "%s: %s", a->argv[0], strerror(rc));
	return rc == 0 ? 0 : -1;
}

/*
 * The password, a line on the pipe; a pipe holds far more than one.
 * With /u given, /from-stdin:force makes FreeRDP 3.10 read the password
 * alone, one line, before it connects; the pipe's end then answers any
 * later prompt (an unpinned certificate's) with "no".
 */
static int
hand_password(int fd, const char *password)
{
	char	 line[BROKER_RDP_PASSWORD_MAX + 2];
	size_t	 n = strlen(password);
	ssize_t	 w;

	memcpy(line, password, n);
	line[n++] = '\n';
	while ((w = write(fd, line, n)) == -1 && errno == EINTR)
		;
	sodium_memzero(line, sizeof(line));
	return w == (ssize_t)n ? 0 : -1;
}

/*
 * A pseudo-terminal for the viewer's log: FreeRDP writes it with stdio,
 * which holds back what goes to a pipe, but writes a terminal's lines
 * as they come.  The reading end into *master; the viewer's, returned.
 */
static int
log_terminal(int *master, char *err, size_t errlen)
{
	const char *name;
	int	 fd;

	if ((*master = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC)) == -1 ||
	    grantpt(*master) == -1 || unlockpt(*master) == -1 ||
	    (name = ptsname(*master)) == NULL ||
	    (fd = open(name, O_RDWR | O_NOCTTY | O_CLOEXEC)) == -1) {
		snprintf(err, errlen, "a terminal for the viewer's log: %s",
		    strerror(errno));
		if (*master != -1)
			close(*master);
		return -1;
	}
	return fd;
}

int
viewer_start(struct viewer *v, const struct rdp_conf *c,
    const struct broker_desktop *d, char *err, size_t errlen)
{
	struct args a;
	int	 in[2], log_master, log_viewer, rc;

	memset(v, 0, sizeof(*v));
	v->pid = -1;
	v->log_fd = -1;
	build_args(&a, c, d);
	if ((log_viewer = log_terminal(&log_master, err, errlen)) == -1)
		return -1;
	if (pipe2(in, O_CLOEXEC) == -1) {
		snprintf(err, errlen, "pipe: %s", strerror(errno));
		close(log_master);
		close(log_viewer);
		return -1;
	}
	rc = spawn(v, &a, in[0], log_viewer, err, errlen);
	close(in[0]);
	close(log_viewer);
	if (rc == 0 && hand_password(in[1], d->rdp_password) == -1)
		snprintf(err, errlen, "the viewer did not take the password");
	close(in[1]);	/* EOF: a prompt after the password gets no answer */
	if (rc == -1) {
		close(log_master);
		return -1;
	}
	v->log_fd = log_master;
	return 0;
}

static void
log_line(struct viewer *v)
{
	v->line[v->len] = '\0';
	fprintf(stderr, "%s\n", v->line);
	if (strstr(v->line, CONNECTED_MARK) != NULL)
		v->connected = true;
	v->len = 0;
}

int
viewer_read_log(struct viewer *v)
{
	char	 buf[4096];
	ssize_t	 n, i;

	while ((n = read(v->log_fd, buf, sizeof(buf))) == -1 && errno == EINTR)
		;
	if (n <= 0)
		return -1;
	for (i = 0; i < n; i++) {
		if (buf[i] == '\n' || v->len == sizeof(v->line) - 1)
			log_line(v);
		if (buf[i] != '\n' && buf[i] != '\r')
			v->line[v->len++] = buf[i];
	}
	return 0;
}

static bool
among(const int *codes, int code)
{
	for (; *codes != -1; codes++)
		if (*codes == code)
			return true;
	return false;
}

enum viewer_outcome
viewer_outcome(const struct viewer *v, int wstatus, enum status_end *end,
    enum status_error *error)
{
	int	 code = WIFEXITED(wstatus) ? WEXITSTATUS(wstatus) : -2;

	*error = STATUS_E_INTERNAL;
	if (among(closed_codes, code))
		*end = STATUS_END_CLOSED;
	else if (among(logoff_codes, code))
		*end = STATUS_END_LOGOFF;
	else if (among(network_codes, code) && v->connected)
		*end = STATUS_END_LOST;
	else {
		if (among(auth_codes, code))
			*error = STATUS_E_RDP_AUTH;
		else if (among(untrusted_codes, code))
			*error = STATUS_E_DESKTOP_UNTRUSTED;
		else if (among(network_codes, code))
			*error = STATUS_E_DESKTOP_UNREACHABLE;
		return VIEWER_FAILED;
	}
	return VIEWER_ENDED;
}

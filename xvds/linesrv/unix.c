/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * linesrv/unix.c — the unix listeners of xvdsd's control socket and the
 * controller's admin socket (linesrv/linesrv.h): made private from the
 * start, a dead daemon's socket replaced, a live one left alone.
 */
#include <config.h>

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "common/log.h"
#include "linesrv/linesrv.h"

/* Creates the socket's directory, private, unless it exists. */
static int
make_dir(const char *who, const char *path)
{
	char	 dir[sizeof(((struct sockaddr_un *)0)->sun_path)], *slash;
	struct stat st;

	snprintf(dir, sizeof(dir), "%s", path);
	if ((slash = strrchr(dir, '/')) == NULL || slash == dir)
		return 0;
	*slash = '\0';
	if (stat(dir, &st) == 0) {
		if (S_ISDIR(st.st_mode))
			return 0;
		log_warnx("%s: %s is not a directory", who, dir);
		return -1;
	}
	if (errno != ENOENT || (mkdir(dir, 0700) == -1 && errno != EEXIST)) {
		log_warn("%s: %s", who, dir);
		return -1;
	}
	return 0;
}

/*
 * A socket left by a daemon that died is removed; one somebody answers
 * on is another daemon's, and taking it over would leave that one deaf.
 */
static int
remove_stale(const char *who, const char *rival,
    const struct sockaddr_un *sun)
{
	struct stat st;
	int	 fd, rc, saved;

	if (lstat(sun->sun_path, &st) == -1) {
		if (errno == ENOENT)
			return 0;
		log_warn("%s: %s", who, sun->sun_path);
		return -1;
	}
	if (!S_ISSOCK(st.st_mode)) {
		log_warnx("%s: %s exists and is not a socket", who,
		    sun->sun_path);
		return -1;
	}
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
	    0)) == -1) {
		log_warn("%s: socket", who);
		return -1;
	}
	rc = connect(fd, (const struct sockaddr *)sun, sizeof(*sun));
	saved = errno;
	close(fd);
	/* EAGAIN: a full backlog, so someone is listening. */
	if (rc == 0 || saved == EAGAIN) {
		log_warnx("%s: another %s is listening on %s", who, rival,
		    sun->sun_path);
		return -1;
	}
	if (saved != ECONNREFUSED) {
		errno = saved;
		log_warn("%s: connect %s", who, sun->sun_path);
		return -1;
	}
	if (unlink(sun->sun_path) == -1 && errno != ENOENT) {
		log_warn("%s: unlink %s", who, sun->sun_path);
		return -1;
	}
	log_info("%s: removed the stale socket %s", who, sun->sun_path);
	return 0;
}

/* Bound, private, and listened on if backlog; -1 (logged, fd closed). */
static int
bind_private(struct linesrv_unix *u, const char *who,
    const struct sockaddr_un *sun, int backlog)
{
	struct stat st;
	mode_t	 old_umask;
	int	 fd;

	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
	    0)) == -1) {
		log_warn("%s: socket", who);
		return -1;
	}
	/* No moment in which the socket is open to others. */
	old_umask = umask(S_IXUSR | S_IRWXG | S_IRWXO);
	if (bind(fd, (const struct sockaddr *)sun, sizeof(*sun)) == -1) {
		log_warn("%s: bind %s", who, sun->sun_path);
		umask(old_umask);
		close(fd);
		return -1;
	}
	umask(old_umask);
	if (chmod(sun->sun_path, S_IRUSR | S_IWUSR) == -1 ||
	    lstat(sun->sun_path, &st) == -1) {
		log_warn("%s: chmod %s", who, sun->sun_path);
		goto fail;
	}
	if (backlog > 0 && listen(fd, backlog) == -1) {
		log_warn("%s: listen %s", who, sun->sun_path);
		goto fail;
	}
	u->dev = st.st_dev;
	u->ino = st.st_ino;
	u->fd = fd;
	return 0;
fail:
	unlink(sun->sun_path);
	close(fd);
	return -1;
}

int
linesrv_unix_listen(struct linesrv_unix *u, const char *who,
    const char *rival, const char *path, int backlog)
{
	struct sockaddr_un sun;

	memset(u, 0, sizeof(*u));
	u->fd = -1;
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (path[0] == '\0' || strlen(path) >= sizeof(sun.sun_path)) {
		log_warnx("%s: bad socket path (empty, or longer than %zu "
		    "bytes): %s", who, sizeof(sun.sun_path) - 1, path);
		return -1;
	}
	memcpy(sun.sun_path, path, strlen(path) + 1);
	if (make_dir(who, path) == -1 || remove_stale(who, rival, &sun) == -1 ||
	    bind_private(u, who, &sun, backlog) == -1)
		return -1;
	memcpy(u->path, path, strlen(path) + 1);
	return 0;
}

void
linesrv_unix_unlink(const struct linesrv_unix *u, const char *who)
{
	struct stat st;

	/* Only our own socket: never one a successor has made since. */
	if (lstat(u->path, &st) == 0 && st.st_dev == u->dev &&
	    st.st_ino == u->ino && unlink(u->path) == -1)
		log_warn("%s: unlink %s", who, u->path);
}

int
linesrv_peer_allowed(int fd, const char *who, const char *refused_as,
    const char *refusal, long *pid, long *uid)
{
	struct ucred cred;
	socklen_t len = sizeof(cred);

	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) == -1) {
		log_warn("%s: SO_PEERCRED", who);
		return 0;
	}
	*pid = (long)cred.pid;
	*uid = (long)cred.uid;
	if (cred.uid == 0 || cred.uid == geteuid())
		return 1;
	log_warnx("%s: refused client pid %ld uid %ld%s", who, *pid, *uid,
	    refused_as);
	/* Best effort: the socket is fresh, the line fits its buffer. */
	if (refusal != NULL && write(fd, refusal, strlen(refusal)) == -1)
		log_debug("%s: refusal not written: %s", who, strerror(errno));
	return 0;
}

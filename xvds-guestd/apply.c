/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * apply.c — runs the command that applies a one-time credential in the
 * guest (apply.h).  The password goes through a pipe, never through
 * argv or the environment, where ps(1) and /proc would show it.
 */
#include <config.h>

#include <sys/types.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "apply.h"
#include "common/log.h"

#define LINE_MAX_CRED	128
#define POLL_MS		20

static void
child(const char *cmd, int in)
{
	sigset_t none;
	int	 fd, devnull;

	/* guestd blocks its signals for signalfd: the command must not. */
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	signal(SIGPIPE, SIG_DFL);
	if (dup2(in, STDIN_FILENO) == -1)
		_exit(126);
	if ((devnull = open("/dev/null", O_WRONLY)) != -1) {
		dup2(devnull, STDOUT_FILENO);
		if (devnull != STDOUT_FILENO)
			close(devnull);
	}
	/* Nothing of guestd's (its xenstore connection) for the command. */
	for (fd = 3; fd < 1024; fd++)
		close(fd);
	execl(cmd, cmd, (char *)NULL);
	_exit(127);
}

/* Writes all of buf; -1 if the command would not take it. */
static int
write_all(int fd, const char *buf, size_t len)
{
	ssize_t	 n;

	while (len > 0) {
		if ((n = write(fd, buf, len)) == -1) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

int
apply_credential(const char *cmd, const char *user, const char *password,
    unsigned timeout_s)
{
	struct timespec tick = { 0, POLL_MS * 1000000L };
	char	 line[LINE_MAX_CRED];
	pid_t	 pid, r;
	int	 p[2], status, n, waited = 0;

	n = snprintf(line, sizeof(line), "%s:%s\n", user, password);
	if (n < 0 || (size_t)n >= sizeof(line)) {
		explicit_bzero(line, sizeof(line));
		log_warnx("credential for %s: too long", user);
		return -1;
	}
	if (pipe2(p, O_CLOEXEC) == -1) {
		explicit_bzero(line, sizeof(line));
		log_warn("credential for %s: pipe", user);
		return -1;
	}
	if ((pid = fork()) == -1) {
		explicit_bzero(line, sizeof(line));
		log_warn("credential for %s: fork", user);
		close(p[0]);
		close(p[1]);
		return -1;
	}
	if (pid == 0) {
		explicit_bzero(line, sizeof(line));
		close(p[1]);
		child(cmd, p[0]);
	}
	close(p[0]);
	/* A command that exits unread gives EPIPE, not a signal (SIG_IGN). */
	if (write_all(p[1], line, (size_t)n) == -1)
		log_debug("credential for %s: %s did not read it", user, cmd);
	explicit_bzero(line, sizeof(line));
	close(p[1]);
	while ((r = waitpid(pid, &status, WNOHANG)) == 0 &&
	    waited < (int)timeout_s * 1000) {
		nanosleep(&tick, NULL);
		waited += POLL_MS;
	}
	if (r == 0) {
		kill(pid, SIGKILL);
		waitpid(pid, &status, 0);
		log_warnx("credential for %s: %s took more than %u s: killed",
		    user, cmd, timeout_s);
		return -1;
	}
	if (r == -1) {
		log_warn("credential for %s: waitpid", user);
		return -1;
	}
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
		return 0;
	if (WIFEXITED(status) && WEXITSTATUS(status) == 127)
		log_warnx("credential for %s: cannot run %s", user, cmd);
	else if (WIFEXITED(status))
		log_warnx("credential for %s: %s exited %d", user, cmd,
		    WEXITSTATUS(status));
	else
		log_warnx("credential for %s: %s killed by signal %d", user, cmd,
		    WTERMSIG(status));
	return -1;
}

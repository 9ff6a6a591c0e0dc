/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * common/log.c — logging to stderr (foreground) or syslog (daemon), in the
 * manner of OpenBSD's daemons.
 */
#include <config.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>

#include "common/log.h"

static int	 log_foreground = 1;
static int	 log_verbose;
static const char *log_name = PACKAGE;

static void	 vlog_errno(int, const char *, va_list) __attribute__((format(printf, 2, 0)));

void
log_procname(const char *name)
{
	log_name = name;
}

void
log_init(int foreground, int facility)
{
	log_foreground = foreground;
	if (!foreground)
		openlog(log_name, LOG_PID | LOG_NDELAY, facility);
	tzset();
}

void
log_setverbose(int verbose)
{
	log_verbose = verbose;
}

int
log_getverbose(void)
{
	return log_verbose;
}

void
vlog(int level, const char *fmt, va_list ap)
{
	int	 saved_errno = errno;

	if (level == LOG_DEBUG && !log_verbose)
		return;
	if (log_foreground) {
		/* One write per line so that concurrent writers don't interleave. */
		char	 line[2048];

		vsnprintf(line, sizeof(line), fmt, ap);
		fprintf(stderr, "%s: %s\n", log_name, line);
		fflush(stderr);
	} else
		vsyslog(level, fmt, ap);
	errno = saved_errno;
}

void
log_at(int level, const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	vlog(level, fmt, ap);
	va_end(ap);
}

/* Logs fmt followed by ": " and the text of the current errno. */
static void
vlog_errno(int level, const char *fmt, va_list ap)
{
	char	 msg[1536];
	int	 saved_errno = errno;

	vsnprintf(msg, sizeof(msg), fmt, ap);
	if (saved_errno != 0)
		log_at(level, "%s: %s", msg, strerror(saved_errno));
	else
		log_at(level, "%s", msg);
	errno = saved_errno;
}

void
log_warn(const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	vlog_errno(LOG_WARNING, fmt, ap);
	va_end(ap);
}

void
log_warnx(const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	vlog(LOG_WARNING, fmt, ap);
	va_end(ap);
}

void
log_info(const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	vlog(LOG_INFO, fmt, ap);
	va_end(ap);
}

void
log_debug(const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	vlog(LOG_DEBUG, fmt, ap);
	va_end(ap);
}

void
fatal(const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	vlog_errno(LOG_CRIT, fmt, ap);
	va_end(ap);
	exit(1);
}

void
fatalx(const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	vlog(LOG_CRIT, fmt, ap);
	va_end(ap);
	exit(1);
}

/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * common/log.h — the one logging interface of every XVDS program.
 *
 * In the foreground (log_init(1, ...)) messages go to stderr prefixed with
 * the program's name; as a daemon they go to syslog.  The log_warn family
 * appends strerror(errno); the warnx family does not.
 */
#ifndef XVDS_COMMON_LOG_H
#define XVDS_COMMON_LOG_H

#include <stdarg.h>

void	log_init(int foreground, int facility);
void	log_setverbose(int verbose);
int	log_getverbose(void);
void	log_procname(const char *name);

void	log_warn(const char *, ...) __attribute__((format(printf, 1, 2)));
void	log_warnx(const char *, ...) __attribute__((format(printf, 1, 2)));
void	log_info(const char *, ...) __attribute__((format(printf, 1, 2)));
void	log_debug(const char *, ...) __attribute__((format(printf, 1, 2)));
/* Level is a syslog priority (LOG_ERR ... LOG_DEBUG). */
void	log_at(int level, const char *, ...) __attribute__((format(printf, 2, 3)));
void	vlog(int level, const char *, va_list) __attribute__((format(printf, 2, 0)));
_Noreturn void fatal(const char *, ...) __attribute__((format(printf, 1, 2)));
_Noreturn void fatalx(const char *, ...) __attribute__((format(printf, 1, 2)));

#endif

/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * common/errbuf.h — the "char *err, size_t errlen" convention of XVDS's parsers
 * and helpers: a function that fails says why in the caller's buffer.
 */
#ifndef XVDS_COMMON_ERRBUF_H
#define XVDS_COMMON_ERRBUF_H

#include <stddef.h>

/* Formats into err (if not NULL); errno is left as it was. */
void	errbuf_set(char *err, size_t errlen, const char *fmt, ...)
	    __attribute__((format(printf, 3, 4)));

#endif

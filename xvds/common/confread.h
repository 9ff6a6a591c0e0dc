/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * common/confread.h — what the two configuration readers share,
 * common/conf.c for xvds.conf(5) and controller/conf.c for controller.conf
 * (xvds-controller(8)): a keyword is a row of a table that says what its
 * value is, its bounds and where it is stored, and one generic handler in
 * each reader sets it; only the few keywords with a syntax of their own
 * keep a handler.  Each file keeps its own syntax and messages.
 */
#ifndef XVDS_COMMON_CONFREAD_H
#define XVDS_COMMON_CONFREAD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

enum confread_type {
	CONFREAD_SPECIAL,	/* its own handler */
	CONFREAD_STRING,	/* any string, at most max bytes */
	CONFREAD_FILE,		/* a path that may not be empty */
	CONFREAD_PATH,		/* an absolute path, at most max bytes */
	CONFREAD_NAME,		/* a letter, then letters, digits, _ and - */
	CONFREAD_UINT,		/* a number from min to max */
	CONFREAD_DURATION,	/* seconds from min to max, written with a unit */
	CONFREAD_ENUM,		/* one of the names from_name knows */
};

struct confread_kw {
	const char	*name;
	enum confread_type type;
	const char	*what;		/* its value, in messages */
	unsigned	 min;
	unsigned	 max;		/* a string's: its length */
	size_t		 offset;	/* of its field in the block's struct */
	int		(*from_name)(const char *);	/* CONFREAD_ENUM: -1 or a value */
};

/* The row named name among n, or NULL. */
const struct confread_kw *confread_find(const struct confread_kw *, size_t n,
	    const char *name);
/* The field a row stores into, in the struct at base. */
void	*confread_field(void *base, const struct confread_kw *);
/* A value in "double quotes", escaped as both readers read it back. */
void	 confread_print_string(FILE *, const char *);

#endif

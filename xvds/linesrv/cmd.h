/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * linesrv/cmd.h — the one shape of a command socket's table of commands,
 * xvdsd's control socket's (hostd/control.c, xvds-control(7)) and the
 * controller's admin socket's (controller/admin_cmd.c, xvds-admin(7)): a
 * command's name, the members it takes, its handler and a line of help.
 * What an argument's type means, and the words of a refusal, are each
 * table's own.
 */
#ifndef XVDS_LINESRV_CMD_H
#define XVDS_LINESRV_CMD_H

#include <stddef.h>

#include <jansson.h>

#define LINESRV_CMD_ARGS_MAX	6

struct linesrv_arg {
	const char	*member;	/* NULL: the list ends */
	int		 type;		/* the table's own enum */
	int		 required;
	long long	 min, max;	/* integers' bounds, where the table has any */
};

struct linesrv_cmd {
	const char	*name;
	/* Ends at a NULL member, or after LINESRV_CMD_ARGS_MAX. */
	struct linesrv_arg args[LINESRV_CMD_ARGS_MAX];
	/* The request being answered, the table's own (NULL: its default). */
	void		(*handler)(void *call);
	int		 flags;		/* the table's own */
	const char	*help;
};

/*
 * The command of that name in a table of n rows of size bytes each, each
 * beginning with its struct linesrv_cmd; NULL if none.
 */
const struct linesrv_cmd *linesrv_cmd_find(const void *table, size_t n,
	    size_t size, const char *name);
/* The arguments cmd takes, LINESRV_CMD_ARGS_MAX at the most. */
size_t	linesrv_cmd_nargs(const struct linesrv_cmd *);
/* The first member of req, the envelope's (v, id, cmd) aside, that cmd
 * does not take; NULL if none. */
const char *linesrv_cmd_unknown_member(const struct linesrv_cmd *,
	    json_t *req);

#endif

/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * linesrv/cmd.c — looking up a command socket's command and the members
 * it takes (linesrv/cmd.h).
 */
#include <config.h>

#include <string.h>

#include <jansson.h>

#include "linesrv/cmd.h"

const struct linesrv_cmd *
linesrv_cmd_find(const void *table, size_t n, size_t size, const char *name)
{
	const struct linesrv_cmd *cmd;
	size_t	 i;

	for (i = 0; i < n; i++) {
		cmd = (const void *)((const char *)table + i * size);
		if (strcmp(cmd->name, name) == 0)
			return cmd;
	}
	return NULL;
}

size_t
linesrv_cmd_nargs(const struct linesrv_cmd *cmd)
{
	size_t	 n;

	for (n = 0; n < LINESRV_CMD_ARGS_MAX && cmd->args[n].member != NULL; n++)
		;
	return n;
}

static int
envelope_member(const char *key)
{
	return strcmp(key, "v") == 0 || strcmp(key, "id") == 0 ||
	    strcmp(key, "cmd") == 0;
}

const char *
linesrv_cmd_unknown_member(const struct linesrv_cmd *cmd, json_t *req)
{
	const char *key;
	json_t	*val;
	size_t	 i, n = linesrv_cmd_nargs(cmd);

	json_object_foreach(req, key, val) {
		if (envelope_member(key))
			continue;
		for (i = 0; i < n; i++)
			if (strcmp(cmd->args[i].member, key) == 0)
				break;
		if (i == n)
			return key;
	}
	return NULL;
}

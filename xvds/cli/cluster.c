/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * cli/cluster.c — what xvdsctl's cluster commands share: the call to the
 * controller's admin socket (xvds-admin(7)), their argument parser and
 * their tables; and the text of cluster migrate.  Most commands are rows
 * of cli/cluster_table.c; the hooks and hand-written commands of the
 * other groups are in cli/cluster_pool.c (templates, pools),
 * cli/cluster_user.c (users, groups, sessions) and cli/cluster_policy.c
 * (policy, events).
 */
#include <config.h>

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "common/log.h"
#include "cli/xvdsctl.h"

json_t *
ctl_cluster_call(struct ctl *ctl, const char *cmd, json_t *args, int *exit_r)
{
	/* Another daemon than xvdsd's: its socket, and its name in errors. */
	if (ctl->fd != -1 && ctl->socket != ctl->admin_socket)
		ctl_disconnect(ctl);
	ctl->socket = ctl->admin_socket;
	ctl->peer = "the controller";
	return ctl_call(ctl, cmd, args, exit_r);
}

/*
 * Not getopt: a negative number ("pool resize p -1") must reach the
 * controller as an argument, for its refusal to say what is wrong.
 */
int
ctl_cluster_args(const struct ctl_cmd *cmd, int argc, char *argv[],
    const struct ctl_opt *opts, int min, int max, char **pos, int *npos_r)
{
	const struct ctl_opt *o;
	const char *a, *eq;
	size_t	 len;
	int	 i, n = 0, only_pos = 0;

	for (i = 1; i < argc; i++) {
		a = argv[i];
		if (only_pos || a[0] != '-' || a[1] == '\0' ||
		    (a[1] >= '0' && a[1] <= '9')) {
			if (n >= max)
				return ctl_usage(cmd, "too many arguments");
			pos[n++] = argv[i];
			continue;
		}
		if (strcmp(a, "--") == 0) {
			only_pos = 1;
			continue;
		}
		eq = NULL;
		for (o = opts; o != NULL && o->name != NULL; o++) {
			if (a[1] == '-') {
				len = (eq = strchr(a, '=')) != NULL ?
				    (size_t)(eq - a - 2) : strlen(a + 2);
				if (strlen(o->name) == len &&
				    strncmp(a + 2, o->name, len) == 0)
					break;
			} else if (o->short_name != 0 &&
			    a[1] == o->short_name && a[2] == '\0')
				break;
		}
		if (o == NULL || o->name == NULL)
			return ctl_usage(cmd, "unknown option %s", a);
		if (o->flag != NULL) {
			if (eq != NULL)
				return ctl_usage(cmd, "%s takes no value", a);
			*o->flag = 1;
			continue;
		}
		if (eq != NULL)
			*o->value = eq + 1;
		else if (i + 1 < argc)
			*o->value = argv[++i];
		else
			return ctl_usage(cmd, "%s needs a value", a);
	}
	if (n < min)
		return ctl_usage(cmd, "missing argument");
	if (npos_r != NULL)
		*npos_r = n;
	return CTL_EXIT_OK;
}

int
ctl_cluster_int(const struct ctl_cmd *cmd, const char *what, const char *s,
    json_int_t *v_r)
{
	long long v;
	char	*end;
	const char *d = s[0] == '-' ? s + 1 : s;

	errno = 0;
	if (*d < '0' || *d > '9')
		return ctl_usage(cmd, "%s: not a whole number: %s", what, s);
	v = strtoll(s, &end, 10);
	if (*end != '\0' || errno != 0)
		return ctl_usage(cmd, "%s: not a whole number: %s", what, s);
	*v_r = (json_int_t)v;
	return CTL_EXIT_OK;
}

/* A member by key, "a.b" looking into an object member. */
static const json_t *
lookup(const json_t *o, const char *key)
{
	const char *dot = strchr(key, '.');
	char	 head[64];

	if (dot == NULL || (size_t)(dot - key) >= sizeof(head))
		return json_object_get(o, key);
	memcpy(head, key, (size_t)(dot - key));
	head[dot - key] = '\0';
	return json_object_get(json_object_get(o, head), dot + 1);
}

/* A value as a table shows it; "-" for none. */
void
ctl_cluster_cell(const json_t *v, char *buf, size_t len)
{
	const json_t *e;
	size_t	 i, used;

	if (json_is_string(v) && json_string_value(v)[0] != '\0')
		snprintf(buf, len, "%s", json_string_value(v));
	else if (json_is_integer(v))
		snprintf(buf, len, "%" JSON_INTEGER_FORMAT,
		    json_integer_value(v));
	else if (json_is_real(v))
		snprintf(buf, len, "%.1f", json_real_value(v));
	else if (json_is_boolean(v))
		snprintf(buf, len, "%s", json_is_true(v) ? "yes" : "no");
	else if (json_is_array(v) && json_array_size(v) > 0) {
		buf[0] = '\0';
		json_array_foreach(v, i, e) {
			used = strlen(buf);
			snprintf(buf + used, len - used, "%s%s", i ? "," : "",
			    json_is_string(e) ? json_string_value(e) : "?");
		}
	} else
		snprintf(buf, len, "-");
}

static void
put(const char *s, size_t w, int right, int last)
{
	if (last && !right)
		printf("%s\n", s);
	else
		printf(right ? "%*s%s" : "%-*s%s", (int)w, s,
		    last ? "\n" : "  ");
}

void
ctl_cluster_table(const json_t *rows, const struct ctl_col *cols)
{
	const json_t *r;
	char	 cell[256];
	size_t	 i, c, ncols, w[16];

	for (ncols = 0; ncols < 16 && cols[ncols].title != NULL; ncols++)
		w[ncols] = strlen(cols[ncols].title);
	json_array_foreach(rows, i, r)
		for (c = 0; c < ncols; c++) {
			ctl_cluster_cell(lookup(r, cols[c].key), cell,
			    sizeof(cell));
			if (strlen(cell) > w[c])
				w[c] = strlen(cell);
		}
	for (c = 0; c < ncols; c++)
		put(cols[c].title, w[c], cols[c].right, c + 1 == ncols);
	json_array_foreach(rows, i, r)
		for (c = 0; c < ncols; c++) {
			ctl_cluster_cell(lookup(r, cols[c].key), cell,
			    sizeof(cell));
			put(cell, w[c], cols[c].right, c + 1 == ncols);
		}
}

/* A change: its result is not printed (xvdsctl says nothing when done). */
int
ctl_cluster_do(struct ctl *ctl, const char *cmd, json_t *args)
{
	json_t	*r;
	int	 rc;

	if ((r = ctl_cluster_call(ctl, cmd, args, &rc)) == NULL)
		return rc;
	json_decref(r);
	return CTL_EXIT_OK;
}

/* cluster migrate VM HOST: planned, the pool's executor carries it out. */
void
ctl_cluster_migrate_text(const json_t *result, const json_t *req)
{
	printf("migration %" JSON_INTEGER_FORMAT " planned: %s from %s to %s\n",
	    json_integer_value(json_object_get(result, "id")),
	    json_string_value(json_object_get(req, "vm")),
	    json_string_value(json_object_get(result, "from")),
	    json_string_value(json_object_get(req, "host")));
}

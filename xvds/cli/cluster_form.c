/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * cli/cluster_form.c — carries out a cluster command that is a row of
 * cli/cluster_table.c: its arguments and options by the row into the
 * request's members (xvds-admin(7)), what names it in errors, the request
 * to the controller, and its result as xvdsctl(8) prints it.
 */
#include <config.h>

#include <stdio.h>
#include <string.h>

#include <jansson.h>

#include "cli/xvdsctl.h"

/* What one command line gave, by the row's args. */
struct given {
	const char	*value[CTL_FORM_ARGS];	/* NULL: not given */
	int		 flag[CTL_FORM_ARGS];
	int		 json;
};

/* The row's options (and --json) and positionals, from argv. */
static int
form_parse(const struct ctl_cmd *cmd, const struct ctl_form *form, int argc,
    char *argv[], struct given *g)
{
	struct ctl_opt opts[CTL_FORM_ARGS + 2];
	char	*pos[CTL_FORM_ARGS];
	int	 i, nopts = 0, npos = 0, rc;

	memset(g, 0, sizeof(*g));
	memset(opts, 0, sizeof(opts));
	if (form->json)
		opts[nopts++] = (struct ctl_opt){ "json", 0, NULL, &g->json };
	for (i = 0; form->args[i].key != NULL; i++) {
		if (form->args[i].option == NULL)
			npos++;
		else if (form->args[i].type == CTL_ARG_FLAG)
			opts[nopts++] = (struct ctl_opt){ form->args[i].option,
			    0, NULL, &g->flag[i] };
		else
			opts[nopts++] = (struct ctl_opt){ form->args[i].option,
			    0, &g->value[i], NULL };
	}
	if ((rc = ctl_cluster_args(cmd, argc, argv, opts, npos, npos, pos,
	    NULL)) != CTL_EXIT_OK)
		return rc;
	for (i = 0, npos = 0; form->args[i].key != NULL; i++)
		if (form->args[i].option == NULL)
			g->value[i] = pos[npos++];
	return CTL_EXIT_OK;
}

/* One argument into req, a whole number checked as such. */
static int
form_member(const struct ctl_cmd *cmd, const struct ctl_arg *arg,
    const char *value, int flag, json_t *req)
{
	char	 label[64];
	json_int_t v;
	int	 rc;
	json_t	*member;

	if (arg->type == CTL_ARG_FLAG)
		member = json_boolean(flag);
	else if (value == NULL)
		return CTL_EXIT_OK;
	else if (arg->type == CTL_ARG_STRING)
		member = json_string(value);
	else {
		snprintf(label, sizeof(label), "%s%s", arg->option != NULL ?
		    "--" : "", arg->option != NULL ? arg->option : arg->label);
		if ((rc = ctl_cluster_int(cmd, label, value, &v)) !=
		    CTL_EXIT_OK)
			return rc;
		member = json_integer(v);
	}
	json_object_set_new(req, arg->key, member);
	return CTL_EXIT_OK;
}

/* "pool create p1": the command and its first nwhat positionals. */
static void
form_what(struct ctl *ctl, const struct ctl_form *form, const struct given *g)
{
	size_t	 used;
	int	 i, n = 0;

	snprintf(ctl->what, sizeof(ctl->what), "%s %s", form->cmd.group,
	    form->cmd.name);
	for (i = 0; form->args[i].key != NULL && n < form->nwhat; i++) {
		if (form->args[i].option != NULL)
			continue;
		used = strlen(ctl->what);
		snprintf(ctl->what + used, sizeof(ctl->what) - used, " %.64s",
		    g->value[i]);
		n++;
	}
}

static void
form_print(const struct ctl_form *form, const struct given *g,
    const json_t *result, const json_t *req)
{
	if (g->json)
		ctl_print_json(result);
	else if (form->cols != NULL)
		ctl_cluster_table(result, form->cols);
	else if (form->text != NULL)
		form->text(result, req);
}

int
ctl_cluster_run(struct ctl *ctl, const struct ctl_cmd *cmd, int argc,
    char *argv[])
{
	/* cmd is the first member of its row (cli/cluster_table.c). */
	const struct ctl_form *form = (const struct ctl_form *)cmd;
	struct given g;
	json_t	*req, *result;
	int	 i, rc;

	if ((rc = form_parse(cmd, form, argc, argv, &g)) != CTL_EXIT_OK)
		return rc;
	req = json_object();
	for (i = 0; form->args[i].key != NULL; i++)
		if ((rc = form_member(cmd, &form->args[i], g.value[i],
		    g.flag[i], req)) != CTL_EXIT_OK)
			goto out;
	form_what(ctl, form, &g);
	if (form->prepare != NULL &&
	    (rc = form->prepare(ctl, cmd, req)) != CTL_EXIT_OK)
		goto out;
	/* ctl_call takes the request; the result's text may want it. */
	if ((result = ctl_cluster_call(ctl, form->request, json_incref(req),
	    &rc)) == NULL)
		goto out;
	form_print(form, &g, result, req);
	json_decref(result);
out:
	json_decref(req);
	return rc;
}

void
ctl_cluster_json_text(const json_t *result, const json_t *req)
{
	(void)req;
	ctl_print_json(result);
}

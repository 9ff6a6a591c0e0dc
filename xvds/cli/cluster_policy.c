/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * cli/cluster_policy.c — xvdsctl's policy commands on the live cluster
 * (policy show's text, policy show and snapshot being rows of
 * cli/cluster_table.c; policy plan without a file) and events tail, on the
 * controller (xvds-admin(7)).
 *
 * The live plan is made here, by the same planner as a snapshot file's
 * (policy/plan.c): the controller sends its snapshot, xvdsctl plans.  One
 * planner, two sources, so that what an operator rehearses on a saved
 * snapshot is what the live cluster would get.
 */
#include <config.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "common/log.h"
#include "policy/plan.h"
#include "cli/xvdsctl.h"

#define EVENTS_FOLLOW_MS	1000	/* how often -f asks for new events */
#define EVENTS_PAGE		1000

/* policy show: the sampling, then each parameter, reals as %g. */
void
ctl_cluster_policy_text(const json_t *r, const json_t *req)
{
	const char *key;
	json_t	*v;
	char	 cell[64];

	(void)req;
	printf("sample-interval %" JSON_INTEGER_FORMAT " s, window %"
	    JSON_INTEGER_FORMAT " s\n",
	    json_integer_value(json_object_get(r, "sample_interval")),
	    json_integer_value(json_object_get(r, "window_seconds")));
	json_object_foreach(json_object_get(r, "params"), key, v) {
		if (json_is_real(v))
			snprintf(cell, sizeof(cell), "%g", json_real_value(v));
		else
			ctl_cluster_cell(v, cell, sizeof(cell));
		printf("%-17s %s\n", key, cell);
	}
}

/* Whether plan's arguments name a snapshot file (getopt's "o:p:t:"). */
static int
names_file(int argc, char *argv[])
{
	int	 i;

	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--") == 0)
			return i + 1 < argc;
		if (argv[i][0] != '-' || argv[i][1] == '\0')
			return 1;
		if (argv[i][2] == '\0' && strchr("opt", argv[i][1]) != NULL)
			i++;	/* its value */
	}
	return 0;
}

/*
 * policy plan [options] [SNAPSHOT]: with a file, the offline planner as
 * ever; without, the controller's live snapshot through a private file.
 */
int
ctl_cluster_policy_plan(struct ctl *ctl, const struct ctl_cmd *cmd,
    int argc, char *argv[])
{
	char	 path[] = "/tmp/xvdsctl-snapshot.XXXXXX", **av = NULL;
	json_t	*r;
	FILE	*f = NULL;
	int	 fd, rc;

	if (names_file(argc, argv))
		return ctl_policy_plan_cmd(ctl, cmd, argc, argv);
	snprintf(ctl->what, sizeof(ctl->what), "policy plan");
	if ((r = ctl_cluster_call(ctl, "policy.snapshot", NULL, &rc)) == NULL)
		return rc;
	rc = CTL_EXIT_FAILED;
	if ((fd = mkstemp(path)) == -1 || (f = fdopen(fd, "w")) == NULL) {
		log_warn("policy plan: %s", path);
		if (fd != -1)
			close(fd);
		goto out;
	}
	if (json_dumpf(r, f, JSON_COMPACT | JSON_REAL_PRECISION(17)) == -1 ||
	    fclose(f) == EOF) {
		f = NULL;
		log_warn("policy plan: %s", path);
		goto out;
	}
	f = NULL;
	if (json_array_size(json_object_get(r, "hosts_without_figures")) > 0)
		log_warnx("policy plan: %zu hosts up without figures yet are "
		    "left out", json_array_size(json_object_get(r,
		    "hosts_without_figures")));
	if ((av = calloc((size_t)argc + 2, sizeof(*av))) == NULL) {
		log_warn("policy plan");
		goto out;
	}
	memcpy(av, argv, (size_t)argc * sizeof(*av));
	av[argc] = path;
	rc = ctl_policy_plan_cmd(ctl, cmd, argc + 1, av);
out:
	if (f != NULL)
		fclose(f);
	unlink(path);
	free(av);
	json_decref(r);
	return rc;
}

static void
event_line(const json_t *e, int json)
{
	char	*detail;

	if (json) {
		if ((detail = json_dumps(e, JSON_COMPACT)) != NULL)
			printf("%s\n", detail);
		free(detail);
		return;
	}
	detail = json_dumps(json_object_get(e, "detail"), JSON_COMPACT);
	printf("%" JSON_INTEGER_FORMAT " %s %s %s %s %s\n",
	    json_integer_value(json_object_get(e, "id")),
	    json_string_value(json_object_get(e, "at")),
	    json_string_value(json_object_get(e, "kind")),
	    json_string_value(json_object_get(e, "actor")),
	    json_is_string(json_object_get(e, "subject")) ?
	    json_string_value(json_object_get(e, "subject")) : "-",
	    detail != NULL ? detail : "{}");
	free(detail);
}

/* events tail [-n N] [-f] [--json]: -f asks again every second. */
int
ctl_cluster_events_tail(struct ctl *ctl, const struct ctl_cmd *cmd,
    int argc, char *argv[])
{
	const char *count = NULL;
	int	 json = 0, follow = 0, rc;
	const struct ctl_opt opts[] = {
		{ "json", 0, NULL, &json }, { "follow", 'f', NULL, &follow },
		{ "lines", 'n', &count, NULL }, { NULL, 0, NULL, NULL },
	};
	json_int_t n = 20, last = 0;
	json_t	*r, *e, *a;
	size_t	 i;

	if ((rc = ctl_cluster_args(cmd, argc, argv, opts, 0, 0, NULL,
	    NULL)) != CTL_EXIT_OK)
		return rc;
	if (count != NULL && ((rc = ctl_cluster_int(cmd, "-n", count, &n)) !=
	    CTL_EXIT_OK || n < 1 || n > 10000))
		return rc != CTL_EXIT_OK ? rc : ctl_usage(cmd, "-n: from 1 to "
		    "10000 events, not %s", count);
	snprintf(ctl->what, sizeof(ctl->what), "events tail");
	a = json_pack("{sI}", "n", n);
	for (;;) {
		if ((r = ctl_cluster_call(ctl, "events.tail", a, &rc)) == NULL)
			return rc;
		if (json && !follow)
			ctl_print_json(r);
		json_array_foreach(r, i, e) {
			if (!json || follow)
				event_line(e, json);
			last = json_integer_value(json_object_get(e, "id"));
		}
		json_decref(r);
		if (!follow)
			return CTL_EXIT_OK;
		if (fflush(stdout) == EOF)
			return CTL_EXIT_FAILED;
		usleep(EVENTS_FOLLOW_MS * 1000);
		a = json_pack("{sIsI}", "n", (json_int_t)EVENTS_PAGE, "after",
		    last);
	}
}

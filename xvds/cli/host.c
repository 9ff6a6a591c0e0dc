/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * cli/host.c — xvdsctl's host commands: host info, in the columns
 * operators know from OpenNebula's host list.
 */
#include <config.h>

#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include <jansson.h>

#include "common/log.h"
#include "cli/xvdsctl.h"

static json_int_t
num(const json_t *o, const char *key)
{
	return json_integer_value(json_object_get(o, key));
}

static const char *
str(const json_t *o, const char *key)
{
	const char *s = json_string_value(json_object_get(o, key));

	return s != NULL && s[0] != '\0' ? s : "-";
}

int
ctl_host_info(struct ctl *ctl, const struct ctl_cmd *cmd, int argc, char *argv[])
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ NULL, 0, NULL, 0 },
	};
	json_t	*h;
	int	 ch, json = 0, rc;
	int	 wn, wh;

	opterr = 0;
	optind = 0;
	while ((ch = getopt_long(argc, argv, ":", opts, NULL)) != -1) {
		if (ch != 'j')
			return ctl_usage(cmd, "unknown option %s", argv[optind - 1]);
		json = 1;
	}
	if (optind != argc)
		return ctl_usage(cmd, "too many arguments");
	snprintf(ctl->what, sizeof(ctl->what), "host info");
	if ((h = ctl_call(ctl, "host.info", NULL, &rc)) == NULL)
		return rc;
	if (json) {
		ctl_print_json(h);
		json_decref(h);
		return CTL_EXIT_OK;
	}
	wn = (int)strlen(str(h, "hostname"));
	wh = (int)strlen(str(h, "hypervisor"));
	if (wn < 8)
		wn = 8;
	if (wh < 10)
		wh = 10;
	/* CPU: 100 per physical CPU; memory in MiB (xvdsctl(8)). */
	printf("%-*s  %-*s %5s %6s %6s %6s %8s %8s %8s\n", wn, "HOSTNAME", wh,
	    "HYPERVISOR", "RVM", "TCPU", "FCPU", "ACPU", "TMEM", "FMEM", "AMEM");
	printf("%-*s  %-*s %5" JSON_INTEGER_FORMAT " %6" JSON_INTEGER_FORMAT
	    " %6" JSON_INTEGER_FORMAT " %6" JSON_INTEGER_FORMAT
	    " %8" JSON_INTEGER_FORMAT " %8" JSON_INTEGER_FORMAT
	    " %8" JSON_INTEGER_FORMAT "\n", wn, str(h, "hostname"), wh,
	    str(h, "hypervisor"), num(h, "rvm"), num(h, "tcpu"), num(h, "fcpu"),
	    num(h, "acpu"), num(h, "tmem_mib"), num(h, "fmem_mib"),
	    num(h, "amem_mib"));
	json_decref(h);
	return CTL_EXIT_OK;
}

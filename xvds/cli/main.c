/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * cli/main.c — xvdsctl(8), the operator's CLI on a Xen host: global
 * options, dispatch through the command table (cli/cmdtable.c), usage and
 * help.  It speaks to the local xvdsd over its control socket
 * (cli/client.c, xvds-control(7)), and its cluster commands to the
 * controller over the admin socket (cli/cluster*.c, xvds-admin(7)).
 */
#include <config.h>

#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#include "common/log.h"
#include "common/sockets.h"
#include "cli/xvdsctl.h"

#define CTL_TIMEOUT_MAX		(24 * 3600)

static const char synopsis[] = "xvdsctl [-C admin-socket] [-s socket] "
    "[-t timeout]";

static void
print_commands(FILE *f, const char *group)
{
	const struct ctl_cmd *c;
	size_t	 i;

	for (i = 0; (c = ctl_cmd_nth(i)) != NULL; i++) {
		if (group != NULL && strcmp(c->group, group) != 0)
			continue;
		fprintf(f, "  %s %s %s\n\t%s\n", c->group, c->name, c->usage,
		    c->help);
	}
	if (group == NULL)
		fprintf(f, "  help [COMMAND]\n\tShow the commands, or one "
		    "command's usage.\n");
}

static _Noreturn void
usage(void)
{
	fprintf(stderr, "usage: %s command [argument ...]\n\ncommands:\n",
	    synopsis);
	print_commands(stderr, NULL);
	exit(CTL_EXIT_USAGE);
}

int
ctl_usage(const struct ctl_cmd *cmd, const char *fmt, ...)
{
	char	 msg[256];
	va_list	 ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	log_warnx("%s %s: %s", cmd->group, cmd->name, msg);
	fprintf(stderr, "usage: %s %s %s %s\n", synopsis, cmd->group, cmd->name,
	    cmd->usage);
	return CTL_EXIT_USAGE;
}

static int
group_known(const char *group)
{
	const struct ctl_cmd *c;
	size_t	 i;

	for (i = 0; (c = ctl_cmd_nth(i)) != NULL; i++)
		if (strcmp(c->group, group) == 0)
			return 1;
	return 0;
}

static const struct ctl_cmd *
cmd_find(const char *group, const char *name)
{
	const struct ctl_cmd *c;
	size_t	 i;

	for (i = 0; (c = ctl_cmd_nth(i)) != NULL; i++)
		if (strcmp(c->group, group) == 0 && strcmp(c->name, name) == 0)
			return c;
	return NULL;
}

/* Finds the command named by argv[0] and argv[1], or says why not. */
static const struct ctl_cmd *
cmd_resolve(const char *what, int argc, char *argv[])
{
	const struct ctl_cmd *cmd;

	if (!group_known(argv[0])) {
		log_warnx("%sunknown command: %s", what, argv[0]);
		fprintf(stderr, "Run 'xvdsctl help' for the commands.\n");
		return NULL;
	}
	if (argc < 2) {
		log_warnx("%s%s: which command?", what, argv[0]);
		fprintf(stderr, "commands:\n");
		print_commands(stderr, argv[0]);
		return NULL;
	}
	if ((cmd = cmd_find(argv[0], argv[1])) == NULL) {
		log_warnx("%sunknown command: %s %s", what, argv[0], argv[1]);
		fprintf(stderr, "commands:\n");
		print_commands(stderr, argv[0]);
	}
	return cmd;
}

static int
cmd_help(int argc, char *argv[])
{
	const struct ctl_cmd *cmd;

	if (argc == 0) {
		printf("usage: %s command [argument ...]\n\ncommands:\n", synopsis);
		print_commands(stdout, NULL);
		return CTL_EXIT_OK;
	}
	if (argc == 1 && group_known(argv[0])) {
		printf("commands:\n");
		print_commands(stdout, argv[0]);
		return CTL_EXIT_OK;
	}
	if (argc > 2 || (cmd = cmd_resolve("help: ", argc, argv)) == NULL) {
		if (argc > 2)
			log_warnx("help: too many arguments");
		fprintf(stderr, "usage: xvdsctl help [COMMAND]\n");
		return CTL_EXIT_USAGE;
	}
	printf("usage: %s %s %s %s\n\n%s\n", synopsis, cmd->group, cmd->name,
	    cmd->usage, cmd->help);
	return CTL_EXIT_OK;
}

static unsigned
parse_timeout(const char *s)
{
	unsigned long v;
	char	*end;

	errno = 0;
	v = strtoul(s, &end, 10);
	if (s[0] < '0' || s[0] > '9' || *end != '\0' || errno != 0 ||
	    v > CTL_TIMEOUT_MAX) {
		log_warnx("-t: not a number of seconds from 0 to %d: %s",
		    CTL_TIMEOUT_MAX, s);
		usage();
	}
	return (unsigned)v;
}

int
main(int argc, char *argv[])
{
	static const struct option longopts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const struct ctl_cmd *cmd;
	struct ctl ctl;
	int	 ch, rc;

	log_procname("xvdsctl");
	log_init(1, LOG_USER);
	/* A daemon that goes away is an error message, not a signal. */
	signal(SIGPIPE, SIG_IGN);

	memset(&ctl, 0, sizeof(ctl));
	ctl.socket = SOCKETS_CONTROL_PATH;
	ctl.peer = "xvdsd";
	if ((ctl.admin_socket = getenv("XVDS_ADMIN_SOCKET")) == NULL ||
	    ctl.admin_socket[0] == '\0')
		ctl.admin_socket = SOCKETS_ADMIN_PATH;
	ctl.timeout = CTL_DEFAULT_TIMEOUT;
	ctl.fd = -1;
	while ((ch = getopt_long(argc, argv, "+C:hs:t:", longopts,
	    NULL)) != -1) {
		switch (ch) {
		case 'C':
			ctl.admin_socket = optarg;
			break;
		case 's':
			ctl.socket = optarg;
			break;
		case 't':
			ctl.timeout = parse_timeout(optarg);
			break;
		case 'h':
			return cmd_help(0, NULL);
		default:
			usage();
		}
	}
	argc -= optind;
	argv += optind;
	if (argc < 1)
		usage();
	if (strcmp(argv[0], "help") == 0)
		rc = cmd_help(argc - 1, argv + 1);
	else if ((cmd = cmd_resolve("", argc, argv)) == NULL)
		rc = CTL_EXIT_USAGE;
	else
		rc = cmd->fn(&ctl, cmd, argc - 1, argv + 1);
	ctl_disconnect(&ctl);
	if (fflush(stdout) == EOF || ferror(stdout)) {
		log_warn("standard output");
		if (rc == CTL_EXIT_OK)
			rc = CTL_EXIT_FAILED;
	}
	return rc;
}

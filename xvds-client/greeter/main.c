/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * greeter/main.c — xvds-greeter(1): the thin client's full-screen login,
 * which runs xvds-client for every login (greeter/child.c).
 */
#include <config.h>

#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <glib-unix.h>
#include <gtk/gtk.h>

#include "child.h"
#include "config.h"
#include "window.h"

static void
usage(FILE *out)
{
	fputs("usage: xvds-greeter [-n] [-c config]\n", out);
}

/* SIGTERM: end the session under way, then quit. */
static gboolean
on_term(gpointer data)
{
	(void)data;
	greeter_child_stop();
	gtk_main_quit();
	return G_SOURCE_REMOVE;
}

static int
run(const struct greeter_config *conf)
{
	greeter_window_new(conf);
	g_unix_signal_add(SIGTERM, on_term, NULL);
	g_unix_signal_add(SIGINT, on_term, NULL);
	gtk_main();
	return 0;
}

int
main(int argc, char **argv)
{
	const char		*path = GREETER_CONF_PATH;
	struct greeter_config	*conf;
	GError			*error = NULL;
	int			 c, check_only = 0, rc;

	if (argc > 1 && strcmp(argv[1], "--help") == 0) {
		usage(stdout);
		return 0;
	}
	while ((c = getopt(argc, argv, "c:hn")) != -1) {
		switch (c) {
		case 'c':
			path = optarg;
			break;
		case 'h':
			usage(stdout);
			return 0;
		case 'n':
			check_only = 1;
			break;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind != argc) {
		usage(stderr);
		return 2;
	}
	conf = greeter_config_load(path, &error);
	if (conf == NULL) {
		fprintf(stderr, "xvds-greeter: %s\n", error->message);
		g_error_free(error);
		return 1;
	}
	if (check_only) {
		greeter_config_free(conf);
		return 0;
	}
	if (!gtk_init_check(&argc, &argv)) {
		fprintf(stderr, "xvds-greeter: cannot open the display\n");
		greeter_config_free(conf);
		return 1;
	}
	/* xvds-client may exit before reading the password (child.c). */
	signal(SIGPIPE, SIG_IGN);
	rc = run(conf);
	greeter_config_free(conf);
	return rc;
}

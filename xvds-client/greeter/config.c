/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * greeter/config.c — reads greeter.conf (greeter/config.h): one keyword
 * and its words a line, strictly; a bad line is an error naming it.
 */
#include <config.h>

#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"

#ifndef GREETER_CLIENT_DEFAULT
#define GREETER_CLIENT_DEFAULT	"/usr/bin/xvds-client"
#endif
#define GREETER_LABEL_MAX	64	/* bytes: a label fits on the screen */

/* The keywords given once at most, each with one word. */
static const char *const once_only[] =
    { "server", "port", "ca-file", "client" };

struct reader {
	struct greeter_config	*conf;
	const char		*path;
	unsigned		 line;
	unsigned		 seen[G_N_ELEMENTS(once_only)]; /* lines */
	GError			**error;
};

static bool fail(struct reader *, const char *fmt, ...) G_GNUC_PRINTF(2, 3);

static bool
fail(struct reader *r, const char *fmt, ...)
{
	va_list	 ap;
	char	*what;

	va_start(ap, fmt);
	what = g_strdup_vprintf(fmt, ap);
	va_end(ap);
	g_set_error(r->error, g_quark_from_static_string("greeter-config"), 1,
	    "%s:%u: %s", r->path, r->line, what);
	g_free(what);
	return false;
}

static bool
is_name(const char *s)
{
	if (!g_ascii_isalpha(*s))
		return false;
	for (; *s != '\0'; s++)
		if (!g_ascii_isalnum(*s) && *s != '_' && *s != '-')
			return false;
	return true;
}

static bool
set_port(struct reader *r, char **words)
{
	char		*end;
	unsigned long	 n;

	errno = 0;
	n = strtoul(words[0], &end, 10);
	if (!g_ascii_isdigit(words[0][0]) || *end != '\0' || errno != 0 ||
	    n < 1 || n > 65535)
		return fail(r, "port: \"%s\" is not a number from 1 to 65535",
		    words[0]);
	r->conf->port = n;
	return true;
}

static bool
set_path(struct reader *r, char **words, char **field, const char *kw)
{
	if (words[0][0] != '/')
		return fail(r, "%s: the path must be absolute", kw);
	*field = g_strdup(words[0]);
	return true;
}

static bool
set_server(struct reader *r, char **words)
{
	r->conf->server = g_strdup(words[0]);
	return true;
}

static bool
set_viewer(struct reader *r, char **words)
{
	for (; *words != NULL; words++)
		g_ptr_array_add(r->conf->viewer_args, g_strdup(*words));
	return true;
}

static bool
label_taken(struct reader *r, const char *label)
{
	guint	 i;

	for (i = 0; i < r->conf->desktops->len; i++) {
		struct greeter_desktop *d = r->conf->desktops->pdata[i];

		if (strcmp(d->label, label) == 0)
			return true;
	}
	return false;
}

/* "desktop KIND[/POOL] LABEL...": the label is the rest of the line. */
static bool
add_desktop(struct reader *r, char **words)
{
	struct greeter_desktop	*d;
	char			*pool = strchr(words[0], '/');
	char			*label;

	if (pool != NULL)
		*pool++ = '\0';
	if (strcmp(words[0], "cvm") != 0 && strcmp(words[0], "pvm") != 0)
		return fail(r, "desktop: kind \"%s\" is neither cvm nor pvm",
		    words[0]);
	if (pool != NULL && !is_name(pool))
		return fail(r, "desktop: \"%s\" is not a pool name", pool);
	if (words[1] == NULL)
		return fail(r, "desktop: no label after the kind");
	label = g_strjoinv(" ", words + 1);
	if (strlen(label) > GREETER_LABEL_MAX || label_taken(r, label)) {
		fail(r, "desktop: label \"%s\" %s", label,
		    label_taken(r, label) ? "given twice" : "is too long");
		g_free(label);
		return false;
	}
	d = g_new0(struct greeter_desktop, 1);
	d->label = label;
	d->kind = g_strdup(words[0]);
	d->pool = g_strdup(pool);
	g_ptr_array_add(r->conf->desktops, d);
	return true;
}

/* A keyword given once at most, with exactly one word unless many. */
static bool
keyword(struct reader *r, const char *kw, char **words)
{
	unsigned	 n = g_strv_length(words), i;

	for (i = 0; i < G_N_ELEMENTS(once_only); i++) {
		if (strcmp(kw, once_only[i]) != 0)
			continue;
		if (r->seen[i] != 0)
			return fail(r, "%s given twice", kw);
		r->seen[i] = r->line;
		if (n != 1)
			return fail(r, "%s takes one word", kw);
	}
	if (strcmp(kw, "server") == 0)
		return set_server(r, words);
	if (strcmp(kw, "port") == 0)
		return set_port(r, words);
	if (strcmp(kw, "ca-file") == 0)
		return set_path(r, words, &r->conf->ca_file, kw);
	if (strcmp(kw, "client") == 0)
		return set_path(r, words, &r->conf->client, kw);
	if (strcmp(kw, "viewer-options") != 0 && strcmp(kw, "desktop") != 0)
		return fail(r, "unknown keyword \"%s\"", kw);
	if (n == 0)
		return fail(r, "%s needs a value", kw);
	if (strcmp(kw, "viewer-options") == 0)
		return set_viewer(r, words);
	return add_desktop(r, words);
}

/* Runs of blanks split into empty words: drop them. */
static char **
drop_empty(char **words)
{
	unsigned i, j;

	for (i = j = 0; words[i] != NULL; i++)
		if (words[i][0] != '\0')
			words[j++] = words[i];
		else
			g_free(words[i]);
	words[j] = NULL;
	return words;
}

static bool
read_line(struct reader *r, char *line)
{
	char	**words;
	bool	 ok;

	if (!g_utf8_validate(line, -1, NULL))
		return fail(r, "not UTF-8 text");
	g_strstrip(line);
	if (line[0] == '\0' || line[0] == '#')
		return true;
	g_strdelimit(line, "\t", ' ');
	words = drop_empty(g_strsplit(line, " ", -1));
	ok = keyword(r, words[0], words + 1);
	g_strfreev(words);
	return ok;
}

static void
desktop_free(gpointer data)
{
	struct greeter_desktop	*d = data;

	g_free(d->label);
	g_free(d->kind);
	g_free(d->pool);
	g_free(d);
}

static struct greeter_config *
config_new(void)
{
	struct greeter_config	*conf = g_new0(struct greeter_config, 1);

	conf->viewer_args = g_ptr_array_new_with_free_func(g_free);
	conf->desktops = g_ptr_array_new_with_free_func(desktop_free);
	return conf;
}

static bool
read_all(struct reader *r, char *text)
{
	char	**lines = g_strsplit(text, "\n", -1);
	bool	 ok = true;
	unsigned i;

	for (i = 0; ok && lines[i] != NULL; i++) {
		r->line = i + 1;
		ok = read_line(r, lines[i]);
	}
	g_strfreev(lines);
	if (ok && r->conf->server == NULL) {
		g_set_error(r->error, g_quark_from_static_string(
		    "greeter-config"), 1, "%s: no server", r->path);
		ok = false;
	}
	return ok;
}

struct greeter_config *
greeter_config_load(const char *path, GError **error)
{
	struct reader	 r = { .path = path, .error = error };
	char		*text;
	bool		 ok;

	if (!g_file_get_contents(path, &text, NULL, error))
		return NULL;
	r.conf = config_new();
	ok = read_all(&r, text);
	g_free(text);
	if (!ok) {
		greeter_config_free(r.conf);
		return NULL;
	}
	if (r.conf->client == NULL)
		r.conf->client = g_strdup(GREETER_CLIENT_DEFAULT);
	return r.conf;
}

void
greeter_config_free(struct greeter_config *conf)
{
	if (conf == NULL)
		return;
	g_free(conf->server);
	g_free(conf->ca_file);
	g_free(conf->client);
	g_ptr_array_free(conf->viewer_args, TRUE);
	g_ptr_array_free(conf->desktops, TRUE);
	g_free(conf);
}

/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * rdp_conf.c — the RDP session's options (rdp_conf.h): the configuration
 * file, a keyword and its value a line, '#' a comment.
 */
#include <config.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rdp_conf.h"

#define RETRIES_MAX	1000

void
rdp_conf_defaults(struct rdp_conf *c)
{
	memset(c, 0, sizeof(*c));
	snprintf(c->viewer, sizeof(c->viewer), "xfreerdp3");
	c->gfx = c->rfx = c->compression = c->sound = true;
	c->fullscreen = c->auto_reconnect = true;
	c->reconnect_retries = 20;	/* FreeRDP's own default */
}

bool
rdp_conf_has_viewer(const struct rdp_conf *c)
{
	return strcmp(c->viewer, "none") != 0;
}

static int
parse_bool(const char *value, bool *b)
{
	if (strcmp(value, "yes") == 0)
		*b = true;
	else if (strcmp(value, "no") == 0)
		*b = false;
	else
		return -1;
	return 0;
}

static int
parse_retries(const char *value, unsigned *u)
{
	char	*end;
	unsigned long n;

	errno = 0;
	n = strtoul(value, &end, 10);
	if (*value < '0' || *value > '9' || *end != '\0' || errno != 0 ||
	    n > RETRIES_MAX)
		return -1;
	*u = (unsigned)n;
	return 0;
}

/* A viewer is one of FreeRDP's two clients, "none", or an absolute path. */
static int
parse_viewer(const char *value, char *viewer)
{
	if (strcmp(value, "none") != 0 && strcmp(value, "xfreerdp3") != 0 &&
	    strcmp(value, "sdl-freerdp3") != 0 && value[0] != '/')
		return -1;
	if (strlen(value) > RDP_CONF_VIEWER_MAX)
		return -1;
	snprintf(viewer, RDP_CONF_VIEWER_MAX + 1, "%s", value);
	return 0;
}

int
rdp_conf_set(struct rdp_conf *c, const char *keyword, const char *value,
    char *err, size_t errlen)
{
	static const struct {
		const char	*keyword;
		size_t		 offset;
	} flags[] = {
		{ "gfx", offsetof(struct rdp_conf, gfx) },
		{ "rfx", offsetof(struct rdp_conf, rfx) },
		{ "compression", offsetof(struct rdp_conf, compression) },
		{ "sound", offsetof(struct rdp_conf, sound) },
		{ "fullscreen", offsetof(struct rdp_conf, fullscreen) },
		{ "auto-reconnect", offsetof(struct rdp_conf, auto_reconnect) },
	};
	size_t	 i;

	for (i = 0; i < sizeof(flags) / sizeof(flags[0]); i++) {
		if (strcmp(keyword, flags[i].keyword) != 0)
			continue;
		if (parse_bool(value, (bool *)((char *)c +
		    flags[i].offset)) == 0)
			return 0;
		snprintf(err, errlen, "%s %s: yes or no expected", keyword,
		    value);
		return -1;
	}
	if (strcmp(keyword, "reconnect-retries") == 0) {
		if (parse_retries(value, &c->reconnect_retries) == 0)
			return 0;
		snprintf(err, errlen, "%s %s: 0 to %d expected", keyword, value,
		    RETRIES_MAX);
		return -1;
	}
	if (strcmp(keyword, "viewer") == 0) {
		if (parse_viewer(value, c->viewer) == 0)
			return 0;
		snprintf(err, errlen, "viewer %s: xfreerdp3, sdl-freerdp3, none "
		    "or an absolute path expected", value);
		return -1;
	}
	snprintf(err, errlen, "%s: no such keyword", keyword);
	return -1;
}

int
rdp_conf_set_option(struct rdp_conf *c, const char *kv, char *err,
    size_t errlen)
{
	char	 buf[RDP_CONF_VIEWER_MAX + 64], *eq;

	if (strlen(kv) >= sizeof(buf) || (eq = strchr(kv, '=')) == NULL) {
		snprintf(err, errlen, "-o %s: keyword=value expected", kv);
		return -1;
	}
	snprintf(buf, sizeof(buf), "%s", kv);
	buf[eq - kv] = '\0';
	return rdp_conf_set(c, buf, buf + (eq - kv) + 1, err, errlen);
}

/* One line, its comment and blanks stripped; 0 for a blank line. */
static int
load_line(struct rdp_conf *c, char *line, char *err, size_t errlen)
{
	char	*keyword, *value, *rest;

	line[strcspn(line, "#\r\n")] = '\0';
	if ((keyword = strtok_r(line, " \t", &rest)) == NULL)
		return 0;
	if ((value = strtok_r(NULL, " \t", &rest)) == NULL ||
	    strtok_r(NULL, " \t", &rest) != NULL) {
		snprintf(err, errlen, "%s: one value expected", keyword);
		return -1;
	}
	return rdp_conf_set(c, keyword, value, err, errlen);
}

int
rdp_conf_load(struct rdp_conf *c, const char *path, bool must_exist,
    char *err, size_t errlen)
{
	char	 line[512], why[256];
	FILE	*f;
	int	 lineno = 0, rc = 0;

	if ((f = fopen(path, "re")) == NULL) {
		if (errno == ENOENT && !must_exist)
			return 0;
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	while (rc == 0 && fgets(line, sizeof(line), f) != NULL) {
		lineno++;
		if ((rc = load_line(c, line, why, sizeof(why))) == -1)
			snprintf(err, errlen, "%s line %d: %s", path, lineno,
			    why);
	}
	fclose(f);
	return rc;
}

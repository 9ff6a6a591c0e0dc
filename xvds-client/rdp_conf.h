/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * rdp_conf.h — the RDP session's options: the viewer and the seed's
 * defaults (/gfx /rfx /compression /sound +auto-reconnect /f), each set
 * by the configuration file (/etc/xvds/client.conf) and then by -o
 * keyword=value (xvds-client(1) CONFIGURATION).
 */
#ifndef XVDS_CLIENT_RDP_CONF_H
#define XVDS_CLIENT_RDP_CONF_H

#include <stdbool.h>
#include <stddef.h>

#define RDP_CONF_FILE		"/etc/xvds/client.conf"
#define RDP_CONF_VIEWER_MAX	256

struct rdp_conf {
	/* "none", "xfreerdp3", "sdl-freerdp3" or a path. */
	char		 viewer[RDP_CONF_VIEWER_MAX + 1];
	bool		 gfx, rfx, compression, sound, fullscreen;
	bool		 auto_reconnect;
	unsigned	 reconnect_retries;
};

void	rdp_conf_defaults(struct rdp_conf *);
/*
 * "keyword value" (a configuration file's line) or "keyword=value" (-o):
 * 0, or -1 with why in err.
 */
int	rdp_conf_set(struct rdp_conf *, const char *keyword, const char *value,
	    char *err, size_t errlen);
int	rdp_conf_set_option(struct rdp_conf *, const char *kv, char *err,
	    size_t errlen);
/*
 * Reads path: 0, or -1 with why in err.  A missing file is fine when
 * must_exist is false (the default file).
 */
int	rdp_conf_load(struct rdp_conf *, const char *path, bool must_exist,
	    char *err, size_t errlen);
bool	rdp_conf_has_viewer(const struct rdp_conf *);

#endif

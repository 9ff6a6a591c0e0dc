/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * common/conf.h — xvdsd's configuration file, xvds.conf(5): the daemon's
 * settings, the VM templates and the pools of this host.  Keep the two
 * in step: every keyword, default and limit here is in the manual.
 *
 * conf_load() returns a whole, checked configuration or nothing: the
 * daemon never runs on half a file, at start-up or on SIGHUP.
 */
#ifndef XVDS_COMMON_CONF_H
#define XVDS_COMMON_CONF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "common/template.h"
#include "common/vm_fsm.h"

#define CONF_PATH		"/etc/xvds/xvds.conf"
#define CONF_FILE_MAX		(1024 * 1024)	/* bytes in the file */
#define CONF_LINE_MAX		4096		/* bytes in a line, without newline */
#define CONF_TEMPLATES_MAX	256
#define CONF_POOLS_MAX		256
#define CONF_POOL_SIZE_MAX	999		/* VMs of one pool on this host */
#define CONF_ERR_MAX		512		/* enough for "path:line: message" */
#define CONF_SOCKET_MAX		107		/* sizeof(sun_path) - 1 */
#define CONF_ADDR_MAX		45		/* INET6_ADDRSTRLEN - 1 */
/*
 * The longest store path: a per-VM disk "<store>/vms/<pool>-<NNN>/
 * <vdev>.qcow2" must fit in VMSPEC_PATH_MAX (255 - 5 - 35 - 1 - 4 - 6).
 */
#define CONF_STORE_MAX		204

#define CONF_DEFAULT_STATE_DIR		"/var/lib/xvds"
#define CONF_DEFAULT_CONTROL_SOCKET	"/run/xvds/xvdsd.sock"
#define CONF_DEFAULT_LISTEN		"0.0.0.0"
#define CONF_DEFAULT_PORT		8002
#define CONF_DEFAULT_KEY_FILE		"/etc/xvds/migration.key"
#define CONF_DEFAULT_AGENT_PORT		8004	/* AGENT_PORT, xvds-agent(7) */
#define CONF_DEFAULT_AGENT_CA		"/etc/xvds/agent-ca.pem"
#define CONF_DEFAULT_AGENT_CERT		"/etc/xvds/agent.pem"
#define CONF_DEFAULT_AGENT_KEY		"/etc/xvds/agent.key"
#define CONF_SERVER_NAME_MAX		253	/* a DNS name */

/* The daemon's own settings; durations in seconds. */
struct conf_settings {
	char		 host_name[TEMPLATE_NAME_MAX + 1];	/* this xvdsd among its peers */
	char		 state_dir[VMSPEC_PATH_MAX + 1];	/* not reloadable */
	char		 control_socket[CONF_SOCKET_MAX + 1];	/* not reloadable */
	char		 store[CONF_STORE_MAX + 1];
	unsigned	 sample_interval;	/* MIGRATE_TERM, default 5 */
	unsigned	 sample_window;		/* WINDOW_SIZE in samples, default 7 */
	unsigned	 boot_timeout;		/* default 180 */
	unsigned	 shutdown_timeout;	/* default 60 */
	unsigned	 session_grace;		/* default 120 */
	unsigned	 credential_timeout;	/* default 30 */
	unsigned	 max_clock_skew;	/* default 300 */
	char		 migration_listen[CONF_ADDR_MAX + 1];	/* numeric address */
	uint16_t	 migration_port;
	char		 migration_key_file[VMSPEC_PATH_MAX + 1];
	/*
	 * controller { }: the link to the controller (hostd/agent_link.c);
	 * without the block (controller false) xvdsd runs alone.  All
	 * reloadable.
	 */
	bool		 controller;
	char		 controller_address[CONF_ADDR_MAX + 1];	/* numeric */
	uint16_t	 controller_port;
	char		 controller_server_name[CONF_SERVER_NAME_MAX + 1];	/* "": the address */
	char		 controller_ca_file[VMSPEC_PATH_MAX + 1];
	char		 controller_cert_file[VMSPEC_PATH_MAX + 1];
	char		 controller_key_file[VMSPEC_PATH_MAX + 1];
};

struct conf_pool {
	char		 name[TEMPLATE_NAME_MAX + 1];
	const struct conf_template *tmpl;	/* never NULL in a loaded config */
	enum vm_kind	 kind;
	unsigned	 size;		/* VMs on this host, numbered 1..size */
	unsigned	 ready;		/* CVMs kept Ready, <= size; 0 for PVMs */
	unsigned	 idle_pause;	/* seconds, 0 = never; 0 for PVMs */
	unsigned	 idle_save;	/* seconds, 0 = never; 0 for PVMs */
};

struct xvds_conf;

/*
 * Reads and checks the file at path.  Returns the configuration, or NULL
 * with "path:line: message" (or "path: message" for the file as a whole)
 * in err.  Nothing is kept from a refused file.
 */
struct xvds_conf *conf_load(const char *path, char *err, size_t errlen);
/*
 * A configuration file's bytes, NUL-terminated, *len_r of them: a regular
 * file of at most 1 MiB (a FIFO or a device is refused, never waited on).
 * NULL with "path: message" in err.  Freed by the caller.  Also for the
 * controller's file (controller/conf.c).
 */
char	*conf_read_file(const char *path, size_t *len_r, char *err, size_t errlen);
/* The same for a file already in memory, named name in messages. */
struct xvds_conf *conf_parse(const char *name, const char *buf, size_t len,
	    char *err, size_t errlen);
void	conf_free(struct xvds_conf *);

const struct conf_settings *conf_settings(const struct xvds_conf *);

/* By name, or NULL. */
const struct conf_template *conf_template(const struct xvds_conf *, const char *);
const struct conf_pool *conf_pool(const struct xvds_conf *, const char *);

/* In the order of the file: for (i = 0; i < conf_npools(c); i++) ... */
size_t	conf_ntemplates(const struct xvds_conf *);
const struct conf_template *conf_template_at(const struct xvds_conf *, size_t);
size_t	conf_npools(const struct xvds_conf *);
const struct conf_pool *conf_pool_at(const struct xvds_conf *, size_t);

/*
 * Writes the configuration as a file that conf_load() reads back to the
 * same configuration: every setting, defaults included, in a fixed order
 * (xvdsd -n -v).  Returns 0, or -1 on a write error.
 */
int	conf_print(const struct xvds_conf *, FILE *);

/*
 * Whether next may replace cur on SIGHUP.  Everything may change but the
 * settings xvdsd uses before it can read a new file (state-dir,
 * control-socket); a changed controller block (or host-name) only makes
 * the link to the controller reconnect.  Returns 0, or -1 with the setting that changed and
 * its two values in msg; the daemon then keeps cur entirely.
 */
int	conf_reload_check(const struct xvds_conf *cur, const struct xvds_conf *next,
	    char *msg, size_t msglen);

#endif

/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * controller/conf.h — the controller's configuration, /etc/xvds/controller.conf
 * (xvds-controller(8)): small and its own, apart from xvds.conf(5), which
 * describes a host.
 */
#ifndef XVDS_CONTROLLER_CONF_H
#define XVDS_CONTROLLER_CONF_H

#include <stdint.h>
#include <stdio.h>

#include "common/sockets.h"
#include "policy/policy.h"

#define CTRL_CONF_PATH		"/etc/xvds/controller.conf"
#define CTRL_CONF_ERR_MAX	512
#define CTRL_BROKER_PORT	8443
#define CTRL_ADMIN_SOCKET_PATH	SOCKETS_ADMIN_PATH
/*
 * The broker's connections (xvds-broker(7), CONNECTION LIMITS): in all;
 * from one address, which may be a whole school's behind NAT, each of its
 * thin clients holding one only while a request of its is under way; and
 * the seconds a connection has for its TLS handshake and request line.
 */
#define CTRL_BROKER_CONNS_MAX		4096
#define CTRL_BROKER_CONNS_PER_ADDR	256
#define CTRL_BROKER_REQUEST_S		10

struct ctrl_conf {
	char		*database;	/* libpq conninfo; "" for PGHOST... */
	char		*agent_addr;	/* agent listen ADDRESS */
	uint16_t	 agent_port;
	char		*ca_file;
	char		*cert_file;
	char		*key_file;
	char		*broker_addr;	/* broker listen ADDRESS (not served yet) */
	uint16_t	 broker_port;
	struct policy_params policy;	/* policy NAME threshold N */
	char		*policy_name;	/* NAME as written: "3B", "4C:30" */
	unsigned	 sample_interval;	/* seconds: MIGRATE_TERM */
	unsigned	 op_timeout;	/* seconds an op may take */
	unsigned	 host_timeout;	/* seconds an "up" host may be silent */
	unsigned	 session_lease;	/* seconds a session lives unrenewed */
	unsigned	 session_grace;	/* seconds more before a lapsed one ends */
	unsigned	 rdp_port;	/* the desktops' RDP servers' port */
	char		*admin_socket;	/* the admin socket's path (xvds-admin(7)) */
	/* upkeep ...: the pools' upkeep (controller/pool.c). */
	unsigned	 upkeep_interval;	/* seconds between ticks */
	unsigned	 upkeep_host_ops;	/* power ops at once, a host */
	unsigned	 upkeep_cluster_ops;	/* power ops at once, in all */
	unsigned	 upkeep_give_up;	/* failures in a row, then stop */
	/* broker-connections ...: the broker's limits (controller/broker.c). */
	unsigned	 broker_conns_max;	/* connections in all */
	unsigned	 broker_conns_per_addr;	/* from one address (IPv6: /64) */
	unsigned	 broker_request_timeout;	/* seconds to a request line */
};

/* NULL with "file:line: why" in err. */
struct ctrl_conf *ctrl_conf_load(const char *path, char *err, size_t errlen);
/* The same from a string (tests, fuzzing); name is used in messages. */
struct ctrl_conf *ctrl_conf_parse(const char *text, const char *name,
	    char *err, size_t errlen);
/* The configuration as read, defaults included, in its own syntax. */
int	ctrl_conf_print(const struct ctrl_conf *, FILE *);
void	ctrl_conf_free(struct ctrl_conf *);
/*
 * For a reload: the settings a running controller cannot change (the
 * database, the listen addresses and ports, the certificate files and the
 * admin socket) are copied from old into new where they differ, and
 * their keywords listed in changed ("database, agent").  How many
 * differed, or -1 out of memory.
 */
int	ctrl_conf_keep_fixed(struct ctrl_conf *new, const struct ctrl_conf *old,
	    char *changed, size_t len);

#endif

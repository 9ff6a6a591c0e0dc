/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * cli/xvdsctl.h — the parts of xvdsctl(8), the operator's CLI, as xl splits
 * its own: the command table (cli/cmdtable.c), the client of xvdsd's
 * control socket (cli/client.c), one file per command group (cli/host.c,
 * cli/vm.c; cli/cluster*.c for the controller's) and main, usage and
 * help (cli/main.c).
 */
#ifndef XVDS_CLI_XVDSCTL_H
#define XVDS_CLI_XVDSCTL_H

#include <stddef.h>

#include <jansson.h>

#include "common/vm_fsm.h"

#define CTL_DEFAULT_TIMEOUT	300	/* seconds to wait for a reply */

/* Exit statuses, as xvdsctl(8) lists them. */
enum ctl_exit {
	CTL_EXIT_OK = 0,
	CTL_EXIT_FAILED = 1,		/* failed, or any other error reply */
	CTL_EXIT_USAGE = 2,
	CTL_EXIT_UNREACHABLE = 3,	/* xvdsd not running, or gone */
	CTL_EXIT_NOVM = 4,
	CTL_EXIT_EXISTS = 5,
	CTL_EXIT_ILLEGAL = 6,
	CTL_EXIT_BUSY = 7,
	CTL_EXIT_TIMEOUT = 8,
};

struct ctl {
	const char	*socket;
	const char	*peer;		/* "xvdsd", "the controller": in errors */
	const char	*admin_socket;	/* the controller's (-C) */
	unsigned	 timeout;	/* seconds; 0: wait for ever */
	char		 what[160];	/* "vm pause desk-01", to prefix errors */
	int		 fd;
};

struct ctl_cmd;
typedef int (*ctl_fn)(struct ctl *, const struct ctl_cmd *, int argc, char *argv[]);

/* One row of the command table (xl's struct cmd_spec). */
struct ctl_cmd {
	const char	*group;		/* "vm" */
	const char	*name;		/* "start" */
	ctl_fn		 fn;
	enum vm_event	 ev;		/* the request of a vm action */
	const char	*usage;		/* what follows the command's name */
	const char	*help;
};

/* cli/cmdtable.c */
extern const struct ctl_cmd ctl_cmds[];
extern const size_t ctl_ncmds;

/* cli/main.c */
/* Prints the command's usage to stderr; returns CTL_EXIT_USAGE. */
int	ctl_usage(const struct ctl_cmd *, const char *fmt, ...)
	    __attribute__((format(printf, 2, 3)));

/* cli/client.c */
/*
 * Sends cmd with the members of args (taken; NULL for none) and waits for
 * the reply.  Returns its result (the caller's), or NULL after printing
 * why, with the exit status in *exit_r.
 */
json_t	*ctl_call(struct ctl *, const char *cmd, json_t *args, int *exit_r);
void	 ctl_disconnect(struct ctl *);
/* The result as --json prints it: indented, on stdout. */
void	 ctl_print_json(const json_t *);

/* cli/host.c */
int	ctl_host_info(struct ctl *, const struct ctl_cmd *, int, char *[]);

/* cli/vm.c */
int	ctl_vm_list(struct ctl *, const struct ctl_cmd *, int, char *[]);
int	ctl_vm_show(struct ctl *, const struct ctl_cmd *, int, char *[]);
int	ctl_vm_create(struct ctl *, const struct ctl_cmd *, int, char *[]);
int	ctl_vm_undefine(struct ctl *, const struct ctl_cmd *, int, char *[]);
int	ctl_vm_action(struct ctl *, const struct ctl_cmd *, int, char *[]);
int	ctl_vm_set(struct ctl *, const struct ctl_cmd *, int, char *[]);
int	ctl_vm_migrate(struct ctl *, const struct ctl_cmd *, int, char *[]);
int	ctl_vm_credential(struct ctl *, const struct ctl_cmd *, int, char *[]);

/* cli/policy.c */
int	ctl_policy_plan_cmd(struct ctl *, const struct ctl_cmd *, int, char *[]);

/* cli/cluster.c: the cluster commands' share (xvds-admin(7)) */
struct ctl_opt {
	const char	*name;		/* "pool": --pool */
	char		 short_name;	/* 'n': -n; 0 for none */
	const char	**value;	/* an option with a value, or */
	int		*flag;		/* one without */
};
struct ctl_col {
	const char	*title;
	const char	*key;		/* "figures.rvm" looks into "figures" */
	int		 right;		/* aligned right: numbers */
};
/* ctl_call on the controller's admin socket. */
json_t	*ctl_cluster_call(struct ctl *, const char *cmd, json_t *args,
	    int *exit_r);
/*
 * The options of opts (a NULL name ends them; NULL for none) and min to
 * max positional arguments into pos, argv[0] being the command's name.
 * CTL_EXIT_OK, or a usage error printed.
 */
int	ctl_cluster_args(const struct ctl_cmd *, int argc, char *argv[],
	    const struct ctl_opt *opts, int min, int max, char **pos,
	    int *npos_r);
int	ctl_cluster_json_only(const struct ctl_cmd *, int, char *[], int *);
/* A whole number, negative ones too (the controller judges the range). */
int	ctl_cluster_int(const struct ctl_cmd *, const char *what,
	    const char *s, json_int_t *v_r);
void	ctl_cluster_cell(const json_t *, char *buf, size_t len);
void	ctl_cluster_table(const json_t *rows, const struct ctl_col *cols);
int	ctl_cluster_list(struct ctl *, const char *cmd, json_t *args,
	    int json, const struct ctl_col *cols);
int	ctl_cluster_do(struct ctl *, const char *cmd, json_t *args);
int	ctl_cluster_host_list(struct ctl *, const struct ctl_cmd *, int, char *[]);
int	ctl_cluster_vms(struct ctl *, const struct ctl_cmd *, int, char *[]);
int	ctl_cluster_migrate(struct ctl *, const struct ctl_cmd *, int, char *[]);

/* cli/cluster_pool.c */
int	ctl_cluster_pvm_create(struct ctl *, const struct ctl_cmd *, int,
	    char *[]);
int	ctl_cluster_template_add(struct ctl *, const struct ctl_cmd *, int,
	    char *[]);
int	ctl_cluster_template_list(struct ctl *, const struct ctl_cmd *, int,
	    char *[]);
int	ctl_cluster_pool_create(struct ctl *, const struct ctl_cmd *, int,
	    char *[]);
int	ctl_cluster_pool_resize(struct ctl *, const struct ctl_cmd *, int,
	    char *[]);
int	ctl_cluster_pool_show(struct ctl *, const struct ctl_cmd *, int, char *[]);
int	ctl_cluster_pool_list(struct ctl *, const struct ctl_cmd *, int, char *[]);

/* cli/cluster_user.c */
int	ctl_cluster_user_pw(struct ctl *, const struct ctl_cmd *, int, char *[]);
int	ctl_cluster_names(struct ctl *, const struct ctl_cmd *, int, char *[]);
int	ctl_cluster_user_list(struct ctl *, const struct ctl_cmd *, int, char *[]);
int	ctl_cluster_group_member(struct ctl *, const struct ctl_cmd *, int,
	    char *[]);
int	ctl_cluster_group_list(struct ctl *, const struct ctl_cmd *, int,
	    char *[]);
int	ctl_cluster_session_list(struct ctl *, const struct ctl_cmd *, int,
	    char *[]);
int	ctl_cluster_session_end(struct ctl *, const struct ctl_cmd *, int,
	    char *[]);

/* cli/cluster_policy.c */
int	ctl_cluster_policy_show(struct ctl *, const struct ctl_cmd *, int,
	    char *[]);
int	ctl_cluster_policy_snapshot(struct ctl *, const struct ctl_cmd *, int,
	    char *[]);
int	ctl_cluster_policy_plan(struct ctl *, const struct ctl_cmd *, int,
	    char *[]);
int	ctl_cluster_events_tail(struct ctl *, const struct ctl_cmd *, int,
	    char *[]);

#endif

/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * cli/xvdsctl.h — the parts of xvdsctl(8), the operator's CLI, as xl splits
 * its own: the command table (cli/cmdtable.c), the client of xvdsd's
 * control socket (cli/client.c), one file per command group (cli/host.c,
 * cli/vm.c; cli/cluster*.c for the controller's, most of them rows of
 * cli/cluster_table.c) and main, usage and help (cli/main.c).
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

/*
 * cli/cmdtable.c: the host's commands, then the cluster's
 * (ctl_cluster_forms), in the order help lists them.  NULL past the last.
 */
const struct ctl_cmd *ctl_cmd_nth(size_t);

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
/* A whole number, negative ones too (the controller judges the range). */
int	ctl_cluster_int(const struct ctl_cmd *, const char *what,
	    const char *s, json_int_t *v_r);
void	ctl_cluster_cell(const json_t *, char *buf, size_t len);
void	ctl_cluster_table(const json_t *rows, const struct ctl_col *cols);
int	ctl_cluster_do(struct ctl *, const char *cmd, json_t *args);
void	ctl_cluster_migrate_text(const json_t *result, const json_t *req);

/*
 * cli/cluster_form.c: most cluster commands are one row of a table
 * (cli/cluster_table.c) that ctl_cluster_run() carries out: positional
 * arguments and options into the request's members, the request, and
 * its result printed.
 */
enum ctl_arg_type {
	CTL_ARG_STRING,
	CTL_ARG_INT,		/* a whole number (ctl_cluster_int) */
	CTL_ARG_FLAG,		/* an option without a value: true or false */
};
struct ctl_arg {
	const char	*key;		/* the request's member; NULL ends */
	enum ctl_arg_type type;
	const char	*option;	/* "ready": --ready; NULL: positional */
	const char	*label;		/* a positional's name in errors */
};
#define CTL_FORM_ARGS	7	/* and the NULL key that ends them */
struct ctl_form {
	struct ctl_cmd	 cmd;		/* first: the row from its command */
	const char	*request;	/* "pool.create" (xvds-admin(7)) */
	struct ctl_arg	 args[CTL_FORM_ARGS];	/* in the request's order */
	int		 nwhat;		/* positionals that name it in errors */
	int		 json;		/* --json prints the result as is */
	const struct ctl_col *cols;	/* a list: its table, or */
	/* the result's text (req: the request's members); NULL: none */
	void		(*text)(const json_t *result, const json_t *req);
	/* Refuses or completes the request's members before it is sent. */
	int		(*prepare)(struct ctl *, const struct ctl_cmd *,
			    json_t *req);
};
extern const struct ctl_form ctl_cluster_forms[];
extern const size_t ctl_cluster_nforms;
/* Any command of ctl_cluster_forms whose fn it is. */
int	ctl_cluster_run(struct ctl *, const struct ctl_cmd *, int, char *[]);
/* A text that is the result as --json prints it. */
void	ctl_cluster_json_text(const json_t *result, const json_t *req);

/* cli/cluster_pool.c */
int	ctl_cluster_pvm_name_check(struct ctl *, const struct ctl_cmd *,
	    json_t *req);
void	ctl_cluster_pool_text(const json_t *result, const json_t *req);

/* cli/cluster_user.c */
int	ctl_cluster_user_pwhash(struct ctl *, const struct ctl_cmd *,
	    json_t *req);
int	ctl_cluster_group_member(struct ctl *, const struct ctl_cmd *,
	    int, char *[]);
int	ctl_cluster_session_end(struct ctl *, const struct ctl_cmd *,
	    int, char *[]);

/* cli/cluster_policy.c */
void	ctl_cluster_policy_text(const json_t *result, const json_t *req);
int	ctl_cluster_policy_plan(struct ctl *, const struct ctl_cmd *, int,
	    char *[]);
int	ctl_cluster_events_tail(struct ctl *, const struct ctl_cmd *, int,
	    char *[]);

#endif

/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * cli/cluster_user.c — xvdsctl's user, group and session commands, on the
 * controller (xvds-admin(7)).
 *
 * A password is hashed here (common/passwd.h) and only its argon2id hash is
 * sent: the clear password never crosses the socket, never reaches the
 * controller's memory or logs.
 */
#include <config.h>

#include <stdio.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include <jansson.h>
#include <sodium.h>

#include "common/log.h"
#include "common/passwd.h"
#include "cli/xvdsctl.h"

/* One line of fp into buf, without its newline; -1 if none or too long. */
static int
read_line(FILE *fp, char *buf, size_t len)
{
	size_t	 n;

	if (fgets(buf, (int)len, fp) == NULL)
		return -1;
	n = strlen(buf);
	if (n > 0 && buf[n - 1] == '\n')
		buf[--n] = '\0';
	else if (!feof(fp))
		return -1;	/* longer than the buffer */
	if (n > 0 && buf[n - 1] == '\r')
		buf[--n] = '\0';
	return 0;
}

/* Asks on the terminal, without echo. */
static int
prompt(const char *text, char *buf, size_t len)
{
	struct termios old, quiet;
	int	 rc, echo_off;

	fprintf(stderr, "%s", text);
	fflush(stderr);
	echo_off = tcgetattr(STDIN_FILENO, &old) == 0;
	if (echo_off) {
		quiet = old;
		quiet.c_lflag &= ~(tcflag_t)ECHO;
		quiet.c_lflag |= ECHONL;
		tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet);
	}
	rc = read_line(stdin, buf, len);
	if (echo_off)
		tcsetattr(STDIN_FILENO, TCSAFLUSH, &old);
	return rc;
}

/*
 * The new password, from the terminal (asked twice) or the first line of
 * standard input, hashed into hash.
 */
static int
password_hash(const char *what, char *hash)
{
	char	 pw[PASSWD_MAX + 2], again[PASSWD_MAX + 2], err[128];
	int	 rc = CTL_EXIT_FAILED;

	if (isatty(STDIN_FILENO)) {
		if (prompt("New password: ", pw, sizeof(pw)) == -1 ||
		    prompt("Again: ", again, sizeof(again)) == -1) {
			log_warnx("%s: no password read (at most %d bytes)",
			    what, PASSWD_MAX);
			goto out;
		}
		if (strcmp(pw, again) != 0) {
			log_warnx("%s: the passwords differ", what);
			goto out;
		}
	} else if (read_line(stdin, pw, sizeof(pw)) == -1) {
		log_warnx("%s: no password on standard input (one line of at "
		    "most %d bytes)", what, PASSWD_MAX);
		goto out;
	}
	if (strlen(pw) > PASSWD_MAX || passwd_hash(pw, hash, err,
	    sizeof(err)) == -1) {
		log_warnx("%s: %s", what, strlen(pw) > PASSWD_MAX ?
		    "the password is too long" : err);
		goto out;
	}
	rc = CTL_EXIT_OK;
out:
	sodium_memzero(pw, sizeof(pw));
	sodium_memzero(again, sizeof(again));
	return rc;
}

/* user add NAME, user passwd NAME: the same but for the command. */
int
ctl_cluster_user_pw(struct ctl *ctl, const struct ctl_cmd *cmd, int argc,
    char *argv[])
{
	char	*pos[1], hash[PASSWD_HASH_MAX], call[32];
	int	 rc;

	if ((rc = ctl_cluster_args(cmd, argc, argv, NULL, 1, 1, pos,
	    NULL)) != CTL_EXIT_OK)
		return rc;
	snprintf(ctl->what, sizeof(ctl->what), "user %s %.64s", cmd->name,
	    pos[0]);
	if ((rc = password_hash(ctl->what, hash)) != CTL_EXIT_OK)
		return rc;
	snprintf(call, sizeof(call), "user.%s", cmd->name);
	return ctl_cluster_do(ctl, call, json_pack("{ssss}", "name", pos[0],
	    "pwhash", hash));
}

/* Commands of one or two names: user disable|enable, group add|permit... */
int
ctl_cluster_names(struct ctl *ctl, const struct ctl_cmd *cmd, int argc,
    char *argv[])
{
	/* The request's command and its arguments, by table row. */
	static const struct {
		const char *group, *name, *call, *key0, *key1;
	} forms[] = {
		{ "user", "disable", "user.disable", "name", NULL },
		{ "user", "enable", "user.enable", "name", NULL },
		{ "group", "add", "group.add", "name", NULL },
		{ "group", "permit", "group.permit", "group", "pool" },
		{ "group", "revoke", "group.revoke", "group", "pool" },
	};
	char	*pos[2];
	size_t	 i;
	json_t	*a;
	int	 rc, n;

	for (i = 0; i < sizeof(forms) / sizeof(forms[0]); i++)
		if (strcmp(forms[i].group, cmd->group) == 0 &&
		    strcmp(forms[i].name, cmd->name) == 0)
			break;
	if (i == sizeof(forms) / sizeof(forms[0]))
		fatalx("%s: no form for %s %s", __func__, cmd->group,
		    cmd->name);
	n = forms[i].key1 != NULL ? 2 : 1;
	if ((rc = ctl_cluster_args(cmd, argc, argv, NULL, n, n, pos,
	    NULL)) != CTL_EXIT_OK)
		return rc;
	a = json_pack("{ss}", forms[i].key0, pos[0]);
	if (n == 2)
		json_object_set_new(a, forms[i].key1, json_string(pos[1]));
	snprintf(ctl->what, sizeof(ctl->what), "%s %s %.64s%s%.64s",
	    cmd->group, cmd->name, pos[0], n == 2 ? " " : "",
	    n == 2 ? pos[1] : "");
	return ctl_cluster_do(ctl, forms[i].call, a);
}

int
ctl_cluster_user_list(struct ctl *ctl, const struct ctl_cmd *cmd, int argc,
    char *argv[])
{
	static const struct ctl_col cols[] = {
		{ "NAME", "name", 0 }, { "DISABLED", "disabled", 0 },
		{ "SESSIONS", "sessions", 1 }, { "PVM", "pvm", 0 },
		{ "GROUPS", "groups", 0 }, { NULL, NULL, 0 },
	};
	int	 json, rc;

	if ((rc = ctl_cluster_json_only(cmd, argc, argv, &json)) != CTL_EXIT_OK)
		return rc;
	snprintf(ctl->what, sizeof(ctl->what), "user list");
	return ctl_cluster_list(ctl, "user.list", NULL, json, cols);
}

int
ctl_cluster_group_member(struct ctl *ctl, const struct ctl_cmd *cmd,
    int argc, char *argv[])
{
	char	*pos[3];
	const char *call;
	int	 rc;

	if ((rc = ctl_cluster_args(cmd, argc, argv, NULL, 3, 3, pos,
	    NULL)) != CTL_EXIT_OK)
		return rc;
	if (strcmp(pos[0], "add") == 0)
		call = "group.member-add";
	else if (strcmp(pos[0], "remove") == 0)
		call = "group.member-remove";
	else
		return ctl_usage(cmd, "add or remove, not %s", pos[0]);
	snprintf(ctl->what, sizeof(ctl->what), "group member %s %.64s %.64s",
	    pos[0], pos[1], pos[2]);
	return ctl_cluster_do(ctl, call, json_pack("{ssss}", "group", pos[1],
	    "user", pos[2]));
}

int
ctl_cluster_group_list(struct ctl *ctl, const struct ctl_cmd *cmd, int argc,
    char *argv[])
{
	static const struct ctl_col cols[] = {
		{ "NAME", "name", 0 }, { "POOLS", "pools", 0 },
		{ "MEMBERS", "members", 0 }, { NULL, NULL, 0 },
	};
	int	 json, rc;

	if ((rc = ctl_cluster_json_only(cmd, argc, argv, &json)) != CTL_EXIT_OK)
		return rc;
	snprintf(ctl->what, sizeof(ctl->what), "group list");
	return ctl_cluster_list(ctl, "group.list", NULL, json, cols);
}

int
ctl_cluster_session_list(struct ctl *ctl, const struct ctl_cmd *cmd,
    int argc, char *argv[])
{
	static const struct ctl_col cols[] = {
		{ "ID", "id", 1 }, { "USER", "user", 0 }, { "VM", "vm", 0 },
		{ "HOST", "host", 0 }, { "CLIENT", "client", 0 },
		{ "STARTED", "started", 0 }, { "LEASE", "lease_until", 0 },
		{ "ENDED", "ended", 0 }, { "REASON", "end_reason", 0 },
		{ NULL, NULL, 0 },
	};
	int	 json = 0, all = 0, rc;
	const struct ctl_opt opts[] = {
		{ "json", 0, NULL, &json }, { "all", 0, NULL, &all },
		{ NULL, 0, NULL, NULL },
	};

	if ((rc = ctl_cluster_args(cmd, argc, argv, opts, 0, 0, NULL,
	    NULL)) != CTL_EXIT_OK)
		return rc;
	snprintf(ctl->what, sizeof(ctl->what), "session list");
	return ctl_cluster_list(ctl, "session.list", json_pack("{sb}", "all",
	    all), json, cols);
}

int
ctl_cluster_session_end(struct ctl *ctl, const struct ctl_cmd *cmd,
    int argc, char *argv[])
{
	char	*pos[1];
	json_int_t id;
	int	 rc;

	if ((rc = ctl_cluster_args(cmd, argc, argv, NULL, 1, 1, pos,
	    NULL)) != CTL_EXIT_OK ||
	    (rc = ctl_cluster_int(cmd, "ID", pos[0], &id)) != CTL_EXIT_OK)
		return rc;
	if (id <= 0)
		return ctl_usage(cmd, "ID: a session number, 1 or more: %s",
		    pos[0]);
	snprintf(ctl->what, sizeof(ctl->what), "session end %.24s", pos[0]);
	return ctl_cluster_do(ctl, "session.end", json_pack("{sI}", "session",
	    id));
}

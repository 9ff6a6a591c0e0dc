/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * cli/cluster_user.c — what xvdsctl's user, group and session commands, on
 * the controller (xvds-admin(7)), do besides the rows of
 * cli/cluster_table.c: the password of user add and passwd, group member
 * and session end.
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

/* user add NAME, user passwd NAME: the new password's hash, sent instead. */
int
ctl_cluster_user_pwhash(struct ctl *ctl, const struct ctl_cmd *cmd,
    json_t *req)
{
	char	 hash[PASSWD_HASH_MAX];
	int	 rc;

	(void)cmd;
	if ((rc = password_hash(ctl->what, hash)) != CTL_EXIT_OK)
		return rc;
	json_object_set_new(req, "pwhash", json_string(hash));
	return CTL_EXIT_OK;
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

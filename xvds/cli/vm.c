/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * cli/vm.c — xvdsctl's vm commands: list, show, create, undefine, the
 * lifecycle actions (start ... destroy, session-start, session-end), set,
 * migrate and credential.  The words printed (states, kinds) are the daemon's, which
 * come from common/vm_fsm.c's name tables.
 */
#include <config.h>

#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>
#include <sodium.h>
#include <termios.h>
#include <unistd.h>

#include "common/credential.h"
#include "common/log.h"
#include "cli/xvdsctl.h"

enum { OPT_JSON = 1, OPT_PVM, OPT_VCPUS, OPT_MEMORY, OPT_NON_LIVE };

static const struct option json_opts[] = {
	{ "json", no_argument, NULL, OPT_JSON },
	{ NULL, 0, NULL, 0 },
};
static const struct option no_opts[] = {
	{ NULL, 0, NULL, 0 },
};

/* Reports a bad option the way every command does. */
static int
bad_option(const struct ctl_cmd *cmd, int ch, char *argv[])
{
	if (ch == ':')
		return ctl_usage(cmd, "%s needs a value", argv[optind - 1]);
	return ctl_usage(cmd, "unknown option %s", argv[optind - 1]);
}

/* The positional arguments after the options, exactly n of them. */
static int
positional(const struct ctl_cmd *cmd, int argc, int n)
{
	if (argc - optind < n)
		return ctl_usage(cmd, "missing argument");
	if (argc - optind > n)
		return ctl_usage(cmd, "too many arguments");
	return CTL_EXIT_OK;
}

/* Only --json; 0 or a usage error. */
static int
json_only(const struct ctl_cmd *cmd, int argc, char *argv[], int *json_r)
{
	int	 ch;

	opterr = 0;
	optind = 0;
	*json_r = 0;
	while ((ch = getopt_long(argc, argv, ":", json_opts, NULL)) != -1) {
		if (ch != OPT_JSON)
			return bad_option(cmd, ch, argv);
		*json_r = 1;
	}
	return CTL_EXIT_OK;
}

/* For the commands without options: "--" passes, anything else is refused. */
static int
no_options(const struct ctl_cmd *cmd, int argc, char *argv[])
{
	int	 ch;

	opterr = 0;
	optind = 0;
	if ((ch = getopt_long(argc, argv, ":", no_opts, NULL)) != -1)
		return bad_option(cmd, ch, argv);
	return CTL_EXIT_OK;
}

static const char *
str(const json_t *o, const char *key)
{
	const char *s = json_string_value(json_object_get(o, key));

	return s != NULL && s[0] != '\0' ? s : "-";
}

static json_t *
name_args(const char *name)
{
	json_t	*a = json_object();

	json_object_set_new(a, "name", json_string(name));
	return a;
}

static int
parse_count(const char *s, uint64_t max, uint64_t *v_r)
{
	unsigned long long v;
	char	*end;

	errno = 0;
	if (s[0] < '0' || s[0] > '9')
		return -1;
	v = strtoull(s, &end, 10);
	if (*end != '\0' || errno != 0 || v == 0 || v > max)
		return -1;
	*v_r = v;
	return 0;
}

static int
width(const json_t *arr, const char *key, const char *title)
{
	size_t	 i, w = strlen(title), n;
	json_t	*vm;

	json_array_foreach(arr, i, vm)
		if ((n = strlen(str(vm, key))) > w)
			w = n;
	return (int)w;
}

int
ctl_vm_list(struct ctl *ctl, const struct ctl_cmd *cmd, int argc, char *argv[])
{
	json_t	*arr, *vm;
	size_t	 i;
	int	 json, rc, wname, wpool, wstate;

	if ((rc = json_only(cmd, argc, argv, &json)) != CTL_EXIT_OK ||
	    (rc = positional(cmd, argc, 0)) != CTL_EXIT_OK)
		return rc;
	snprintf(ctl->what, sizeof(ctl->what), "vm list");
	if ((arr = ctl_call(ctl, "vm.list", NULL, &rc)) == NULL)
		return rc;
	if (json) {
		ctl_print_json(arr);
		json_decref(arr);
		return CTL_EXIT_OK;
	}
	wname = width(arr, "name", "NAME");
	wpool = width(arr, "pool", "POOL");
	wstate = width(arr, "state", "STATE");
	printf("%-*s %-*s %-4s %-*s %5s %5s %8s %6s %s\n", wname, "NAME", wpool,
	    "POOL", "KIND", wstate, "STATE", "DOMID", "VCPUS", "MEM(MiB)", "CPU%",
	    "ADDRESS");
	json_array_foreach(arr, i, vm) {
		json_t	*domid = json_object_get(vm, "domid");
		json_t	*moved = json_object_get(vm, "moved_to");
		char	 dom[24], where[300];

		if (json_is_integer(domid))
			snprintf(dom, sizeof(dom), "%" JSON_INTEGER_FORMAT,
			    json_integer_value(domid));
		else
			snprintf(dom, sizeof(dom), "-");
		/* A pool VM that migrated away says where it went. */
		if (json_is_string(moved))
			snprintf(where, sizeof(where), "moved to %s",
			    json_string_value(moved));
		else
			snprintf(where, sizeof(where), "%s", str(vm, "addr"));
		printf("%-*s %-*s %-4s %-*s %5s %5" JSON_INTEGER_FORMAT " %8"
		    JSON_INTEGER_FORMAT " %6.1f %s\n", wname, str(vm, "name"),
		    wpool, str(vm, "pool"), str(vm, "kind"), wstate,
		    str(vm, "state"), dom,
		    json_integer_value(json_object_get(vm, "vcpus")),
		    json_integer_value(json_object_get(vm, "memory_mib")),
		    json_number_value(json_object_get(vm, "cpu_pct")), where);
	}
	json_decref(arr);
	return CTL_EXIT_OK;
}

int
ctl_vm_show(struct ctl *ctl, const struct ctl_cmd *cmd, int argc, char *argv[])
{
	const char *key;
	json_t	*vm, *val;
	int	 json, rc;

	if ((rc = json_only(cmd, argc, argv, &json)) != CTL_EXIT_OK ||
	    (rc = positional(cmd, argc, 1)) != CTL_EXIT_OK)
		return rc;
	snprintf(ctl->what, sizeof(ctl->what), "vm show %s", argv[optind]);
	if ((vm = ctl_call(ctl, "vm.show", name_args(argv[optind]), &rc)) == NULL)
		return rc;
	if (json) {
		ctl_print_json(vm);
		json_decref(vm);
		return CTL_EXIT_OK;
	}
	/* Every member the daemon sends, in its order, under its own name. */
	json_object_foreach(vm, key, val) {
		printf("%-16s", key);
		if (strcmp(key, "since") == 0 && json_integer_value(val) > 0) {
			time_t	 t = (time_t)json_integer_value(val);
			char	 buf[64];

			struct tm *tm = localtime(&t);

			if (tm == NULL || strftime(buf, sizeof(buf),
			    "%Y-%m-%d %H:%M:%S %z", tm) == 0)
				snprintf(buf, sizeof(buf), "%" JSON_INTEGER_FORMAT,
				    json_integer_value(val));
			printf("%s\n", buf);
		} else if (json_is_string(val))
			printf("%s\n", json_string_length(val) ?
			    json_string_value(val) : "-");
		else if (json_is_integer(val))
			printf("%" JSON_INTEGER_FORMAT "\n", json_integer_value(val));
		else if (json_is_real(val))
			printf("%.1f\n", json_real_value(val));
		else if (json_is_null(val))
			printf("-\n");
		else {
			char	*s = json_dumps(val, JSON_COMPACT | JSON_ENCODE_ANY);

			printf("%s\n", s ? s : "?");
			free(s);
		}
	}
	json_decref(vm);
	return CTL_EXIT_OK;
}

int
ctl_vm_create(struct ctl *ctl, const struct ctl_cmd *cmd, int argc, char *argv[])
{
	static const struct option opts[] = {
		{ "pvm", no_argument, NULL, OPT_PVM },
		{ NULL, 0, NULL, 0 },
	};
	enum vm_kind kind = VM_CVM;
	json_t	*a, *vm;
	int	 ch, rc;

	opterr = 0;
	optind = 0;
	while ((ch = getopt_long(argc, argv, ":", opts, NULL)) != -1) {
		if (ch != OPT_PVM)
			return bad_option(cmd, ch, argv);
		kind = VM_PVM;
	}
	if ((rc = positional(cmd, argc, 2)) != CTL_EXIT_OK)
		return rc;
	snprintf(ctl->what, sizeof(ctl->what), "vm create %s", argv[optind]);
	a = name_args(argv[optind]);
	json_object_set_new(a, "template", json_string(argv[optind + 1]));
	json_object_set_new(a, "kind", json_string(vm_kind_names[kind]));
	if ((vm = ctl_call(ctl, "vm.create", a, &rc)) == NULL)
		return rc;
	json_decref(vm);
	return CTL_EXIT_OK;
}

int
ctl_vm_undefine(struct ctl *ctl, const struct ctl_cmd *cmd, int argc, char *argv[])
{
	json_t	*r;
	int	 rc;

	if ((rc = no_options(cmd, argc, argv)) != CTL_EXIT_OK ||
	    (rc = positional(cmd, argc, 1)) != CTL_EXIT_OK)
		return rc;
	snprintf(ctl->what, sizeof(ctl->what), "vm undefine %s", argv[optind]);
	if ((r = ctl_call(ctl, "vm.undefine", name_args(argv[optind]), &rc)) == NULL)
		return rc;
	json_decref(r);
	return CTL_EXIT_OK;
}

/* start, pause ... session-end: the request is the event of the same name. */
int
ctl_vm_action(struct ctl *ctl, const struct ctl_cmd *cmd, int argc, char *argv[])
{
	char	 wire[64];
	json_t	*r;
	int	 rc;

	if ((rc = no_options(cmd, argc, argv)) != CTL_EXIT_OK ||
	    (rc = positional(cmd, argc, 1)) != CTL_EXIT_OK)
		return rc;
	snprintf(wire, sizeof(wire), "vm.%s", vm_event_names[cmd->ev]);
	snprintf(ctl->what, sizeof(ctl->what), "vm %s %s", cmd->name,
	    argv[optind]);
	if ((r = ctl_call(ctl, wire, name_args(argv[optind]), &rc)) == NULL)
		return rc;
	json_decref(r);
	return CTL_EXIT_OK;
}

int
ctl_vm_set(struct ctl *ctl, const struct ctl_cmd *cmd, int argc, char *argv[])
{
	static const struct option opts[] = {
		{ "vcpus", required_argument, NULL, OPT_VCPUS },
		{ "memory", required_argument, NULL, OPT_MEMORY },
		{ NULL, 0, NULL, 0 },
	};
	uint64_t vcpus = 0, mib = 0;
	json_t	*a, *r;
	int	 ch, rc;

	opterr = 0;
	optind = 0;
	while ((ch = getopt_long(argc, argv, ":", opts, NULL)) != -1) {
		switch (ch) {
		case OPT_VCPUS:
			if (parse_count(optarg, UINT_MAX, &vcpus) == -1)
				return ctl_usage(cmd, "--vcpus: not a positive "
				    "number: %s", optarg);
			break;
		case OPT_MEMORY:
			if (parse_count(optarg, INT64_MAX, &mib) == -1)
				return ctl_usage(cmd, "--memory: not a positive "
				    "number of MiB: %s", optarg);
			break;
		default:
			return bad_option(cmd, ch, argv);
		}
	}
	if ((rc = positional(cmd, argc, 1)) != CTL_EXIT_OK)
		return rc;
	if (vcpus == 0 && mib == 0)
		return ctl_usage(cmd, "nothing to change: give --vcpus, --memory "
		    "or both");
	snprintf(ctl->what, sizeof(ctl->what), "vm set %s", argv[optind]);
	a = name_args(argv[optind]);
	if (vcpus)
		json_object_set_new(a, "vcpus", json_integer((json_int_t)vcpus));
	if (mib)
		json_object_set_new(a, "memory_mib", json_integer((json_int_t)mib));
	if ((r = ctl_call(ctl, "vm.set", a, &rc)) == NULL)
		return rc;
	json_decref(r);
	return CTL_EXIT_OK;
}

int
ctl_vm_migrate(struct ctl *ctl, const struct ctl_cmd *cmd, int argc, char *argv[])
{
	static const struct option opts[] = {
		{ "non-live", no_argument, NULL, OPT_NON_LIVE },
		{ NULL, 0, NULL, 0 },
	};
	json_t	*a, *r;
	int	 ch, rc, live = 1;

	opterr = 0;
	optind = 0;
	while ((ch = getopt_long(argc, argv, ":", opts, NULL)) != -1) {
		if (ch != OPT_NON_LIVE)
			return bad_option(cmd, ch, argv);
		live = 0;
	}
	if ((rc = positional(cmd, argc, 2)) != CTL_EXIT_OK)
		return rc;
	snprintf(ctl->what, sizeof(ctl->what), "vm migrate %s", argv[optind]);
	a = name_args(argv[optind]);
	json_object_set_new(a, "host", json_string(argv[optind + 1]));
	json_object_set_new(a, "live", json_boolean(live));
	if ((r = ctl_call(ctl, "vm.migrate", a, &rc)) == NULL)
		return rc;
	json_decref(r);
	return CTL_EXIT_OK;
}

/*
 * The password from stdin, one line (not echoed on a terminal): never on
 * the command line, where ps(1) and the shell's history would show it.
 */
static int
read_password(char *buf, size_t len)
{
	struct termios t, quiet;
	int	 tty = isatty(STDIN_FILENO), c;
	size_t	 n = 0;

	if (tty) {
		fprintf(stderr, "password: ");
		if (tcgetattr(STDIN_FILENO, &t) == 0) {
			quiet = t;
			quiet.c_lflag &= ~(tcflag_t)ECHO;
			tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet);
		} else
			tty = 0;
	}
	while ((c = getchar()) != EOF && c != '\n')
		if (n + 1 < len)
			buf[n++] = (char)c;
		else
			n = len;	/* too long: refused below */
	if (tty) {
		tcsetattr(STDIN_FILENO, TCSAFLUSH, &t);
		fprintf(stderr, "\n");
	}
	if (n >= len) {
		sodium_memzero(buf, len);
		return -1;
	}
	buf[n] = '\0';
	return 0;
}

int
ctl_vm_credential(struct ctl *ctl, const struct ctl_cmd *cmd, int argc,
    char *argv[])
{
	char	 pass[CREDENTIAL_PASSWORD_LEN + 8];
	json_t	*a, *r, *pw;
	int	 rc;

	if ((rc = no_options(cmd, argc, argv)) != CTL_EXIT_OK ||
	    (rc = positional(cmd, argc, 2)) != CTL_EXIT_OK)
		return rc;
	if (!credential_user_ok(argv[optind + 1]))
		return ctl_usage(cmd, "USER is \"%s\" and 8 of "
		    "[a-hj-km-np-z2-9]", CREDENTIAL_USER_PREFIX);
	if (read_password(pass, sizeof(pass)) == -1 ||
	    !credential_password_ok(pass)) {
		sodium_memzero(pass, sizeof(pass));
		return ctl_usage(cmd, "the password on stdin must be one line of "
		    "%d letters and digits", CREDENTIAL_PASSWORD_LEN);
	}
	snprintf(ctl->what, sizeof(ctl->what), "vm credential %s", argv[optind]);
	a = name_args(argv[optind]);
	json_object_set_new(a, "user", json_string(argv[optind + 1]));
	/* Ours too, so that it can be wiped once the request is gone. */
	pw = json_string(pass);
	sodium_memzero(pass, sizeof(pass));
	json_object_set(a, "password", pw);
	r = ctl_call(ctl, "vm.credential", a, &rc);
	if (pw != NULL) {
		sodium_memzero((char *)json_string_value(pw),
		    json_string_length(pw));
		json_decref(pw);
	}
	if (r == NULL)
		return rc;
	json_decref(r);
	return CTL_EXIT_OK;
}

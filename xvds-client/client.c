/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * client.c — xvds-client, the thin client's program (xvds-client(1)):
 * logs a user in at the broker, runs the desktop's session in FreeRDP's
 * viewer while it keeps the lease (session.c), and logs out when the
 * session ends; or, with --viewer none, prints the desktop for a script.
 */
#include <config.h>

#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include <sodium.h>

#include "broker_ask.h"
#include "rdp_conf.h"
#include "session.h"
#include "status.h"

enum {
	OPT_VIEWER = 256,
	OPT_STATUS_FD,
	OPT_CONFIG,
};

static struct {
	struct broker_target target;
	const char	*user, *pool, *config;
	enum vm_kind	 kind;
	int		 once;		/* -1: print and leave the session */
	int		 status_fd;
	const char	*viewer;	/* --viewer, over the file's */
	const char	*options[32];	/* -o, over the file's */
	int		 noptions;
} O;

static void
print_usage(FILE *f)
{
	fprintf(f,
	    "usage: xvds-client [-1h] [-C ca-file] [-k cvm|pvm] [-P pool] "
	    "[-p port]\n"
	    "           [--config file] [-o keyword=value] [--status-fd fd]\n"
	    "           [--viewer xfreerdp3|sdl-freerdp3|none|path] -u user "
	    "server\n"
	    "       xvds-client -L session [-C ca-file] [-p port] server\n"
	    "       xvds-client -R session [-C ca-file] [-p port] server\n"
	    "(the password, or -L's and -R's token, on standard input)\n");
}

static _Noreturn void
usage(void)
{
	print_usage(stderr);
	exit(STATUS_EXIT_USAGE);
}
/*
 * A secret (the password, a session's token): a line of stdin, not echoed
 * if it is a terminal.  Never an argument: every local user can read a
 * process's command line.
 */
static int
read_secret(const char *prompt, const char *whose, char *buf, size_t len)
{
	struct termios t, quiet;
	int	 tty = isatty(STDIN_FILENO), ok;
	size_t	 n;

	if (tty) {
		fprintf(stderr, "%s %s: ", prompt, whose);
		if (tcgetattr(STDIN_FILENO, &t) == 0) {
			quiet = t;
			quiet.c_lflag &= ~(tcflag_t)ECHO;
			(void)tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet);
		}
	}
	ok = fgets(buf, (int)len, stdin) != NULL;
	if (tty) {
		(void)tcsetattr(STDIN_FILENO, TCSAFLUSH, &t);
		fputc('\n', stderr);
	}
	if (!ok)
		return -1;
	n = strcspn(buf, "\r\n");
	if (buf[n] == '\0' && n == len - 1)
		return -1;	/* longer than any password the broker takes */
	buf[n] = '\0';
	return 0;
}

/* -L's or -R's session into req, and its token from stdin. */
static void
session_arg(int opt, const char *arg, struct broker_request *req)
{
	/* The old "session:token": refused, not split, so the token is
	 * not used (it was on the command line). */
	if (strchr(arg, ':') != NULL) {
		fprintf(stderr, "xvds-client: -%c takes the session alone: the "
		    "token is read from standard input, never taken from the "
		    "command line, which every local user can read\n", opt);
		exit(STATUS_EXIT_USAGE);
	}
	if (arg[0] == '\0' || strlen(arg) > BROKER_SESSION_MAX) {
		fprintf(stderr, "xvds-client: -%c %s: a session expected\n", opt,
		    arg);
		exit(STATUS_EXIT_USAGE);
	}
	snprintf(req->session, sizeof(req->session), "%s", arg);
	if (read_secret("Token for session", arg, req->token,
	    sizeof(req->token)) == -1 || req->token[0] == '\0') {
		sodium_memzero(req->token, sizeof(req->token));
		fprintf(stderr, "xvds-client: no token read\n");
		exit(STATUS_EXIT_USAGE);
	}
}

static int
session_request(enum broker_request_type type, int opt, const char *arg)
{
	struct broker_request req;
	struct broker_reply rep;
	enum status_error why;
	int	 rc;

	memset(&req, 0, sizeof(req));
	req.type = type;
	session_arg(opt, arg, &req);
	rc = broker_ask(&O.target, &req, BROKER_CLIENT_REQUEST_S, &rep, &why);
	sodium_memzero(&req, sizeof(req));
	if (rc == -1)
		return STATUS_EXIT_BROKER;
	if (rep.type == BROKER_R_ERROR)
		return broker_refused(&rep);
	if (rep.type == BROKER_R_RENEWED)
		printf("lease=%u\n", rep.lease_seconds);
	return 0;
}

/* For --viewer none and -1 only: the lab's scripts read these lines. */
static void
print_desktop(const struct broker_desktop *d)
{
	printf("address=%s\nport=%u\nrdp_user=%s\nrdp_password=%s\n"
	    "cert_fingerprint=%s\nsession=%s\ntoken=%s\nlease=%u\n",
	    d->address, (unsigned)d->port, d->rdp_user, d->rdp_password,
	    d->cert_fingerprint, d->session, d->token, d->lease_seconds);
	fflush(stdout);
}

static unsigned long
number_arg(const char *opt, const char *arg, unsigned long min,
    unsigned long max)
{
	unsigned long n;
	char	*end;

	errno = 0;
	n = strtoul(arg, &end, 10);
	if (*arg < '0' || *arg > '9' || *end != '\0' || errno != 0 ||
	    n < min || n > max) {
		fprintf(stderr, "xvds-client: %s %s: a number from %lu to %lu "
		    "expected\n", opt, arg, min, max);
		exit(STATUS_EXIT_USAGE);
	}
	return n;
}

static void
kind_arg(const char *arg)
{
	if (strcmp(arg, "cvm") == 0)
		O.kind = VM_CVM;
	else if (strcmp(arg, "pvm") == 0)
		O.kind = VM_PVM;
	else
		usage();
}

/* The session's options: the file's, then -o's, then --viewer. */
static void
load_conf(struct rdp_conf *c)
{
	char	 err[512];
	int	 i, rc;

	rdp_conf_defaults(c);
	rc = rdp_conf_load(c, O.config != NULL ? O.config : RDP_CONF_FILE,
	    O.config != NULL, err, sizeof(err));
	for (i = 0; rc == 0 && i < O.noptions; i++)
		rc = rdp_conf_set_option(c, O.options[i], err, sizeof(err));
	if (rc == 0 && O.viewer != NULL)
		rc = rdp_conf_set(c, "viewer", O.viewer, err, sizeof(err));
	if (rc == -1) {
		fprintf(stderr, "xvds-client: %s\n", err);
		exit(STATUS_EXIT_USAGE);
	}
}

static void
parse_args(int argc, char *argv[], const char **logout, const char **renew)
{
	static const struct option longopts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ "viewer", required_argument, NULL, OPT_VIEWER },
		{ "status-fd", required_argument, NULL, OPT_STATUS_FD },
		{ "config", required_argument, NULL, OPT_CONFIG },
		{ NULL, 0, NULL, 0 },
	};
	int	 ch;

	while ((ch = getopt_long(argc, argv, "1C:hk:L:o:P:p:R:u:", longopts,
	    NULL)) != -1) {
		switch (ch) {
		case '1':
			O.once = 1;
			break;
		case 'C':
			O.target.ca_file = optarg;
			break;
		case 'h':
			print_usage(stdout);
			exit(0);
		case 'k':
			kind_arg(optarg);
			break;
		case 'L':
			*logout = optarg;
			break;
		case 'o':
			if (O.noptions == (int)(sizeof(O.options) /
			    sizeof(O.options[0])))
				usage();
			O.options[O.noptions++] = optarg;
			break;
		case 'P':
			O.pool = optarg;
			break;
		case 'p':
			O.target.port = (uint16_t)number_arg("-p", optarg, 1,
			    65535);
			break;
		case 'R':
			*renew = optarg;
			break;
		case 'u':
			O.user = optarg;
			break;
		case OPT_VIEWER:
			O.viewer = optarg;
			break;
		case OPT_STATUS_FD:
			O.status_fd = (int)number_arg("--status-fd", optarg, 3,
			    INT_MAX);
			break;
		case OPT_CONFIG:
			O.config = optarg;
			break;
		default:
			usage();
		}
	}
	if (argc - optind != 1 || (*logout != NULL) + (*renew != NULL) +
	    (O.user != NULL) != 1)
		usage();
	O.target.server = argv[optind];
}

/* The login's request, the password read from stdin. */
static void
login_request(struct broker_request *req)
{
	memset(req, 0, sizeof(*req));
	req->type = BROKER_LOGIN;
	req->kind = O.kind;
	if (strlen(O.user) > BROKER_USER_MAX || (O.pool != NULL &&
	    strlen(O.pool) > BROKER_POOL_MAX)) {
		fprintf(stderr, "xvds-client: the user or pool name is too "
		    "long\n");
		exit(STATUS_EXIT_USAGE);
	}
	snprintf(req->user, sizeof(req->user), "%s", O.user);
	if (O.pool != NULL)
		snprintf(req->pool, sizeof(req->pool), "%s", O.pool);
	if (read_secret("Password for", O.user, req->password,
	    sizeof(req->password)) == -1) {
		fprintf(stderr, "xvds-client: no password read\n");
		exit(STATUS_EXIT_USAGE);
	}
}

static int
login(const struct rdp_conf *conf)
{
	struct broker_request req;
	struct broker_reply rep;
	enum status_error why;
	int	 rc;

	login_request(&req);
	session_signals();
	status_progress("login", NULL);
	rc = broker_ask(&O.target, &req, BROKER_CLIENT_LOGIN_S, &rep, &why);
	sodium_memzero(&req, sizeof(req));
	if (rc == -1)
		return status_error(why, why == STATUS_E_BROKER_UNTRUSTED ?
		    "the login server's identity could not be verified; ask "
		    "your administrator" : "the login server cannot be "
		    "reached; try again later");
	if (rep.type != BROKER_R_DESKTOP)
		return broker_refused(&rep);
	if (O.once || !rdp_conf_has_viewer(conf))
		print_desktop(&rep.desktop);
	rc = O.once ? 0 : session_run(&O.target, conf, &rep.desktop);
	sodium_memzero(&rep, sizeof(rep));
	return rc;
}

int
main(int argc, char *argv[])
{
	struct rdp_conf conf;
	const char *logout = NULL, *renew = NULL;

	O.target.port = BROKER_CLIENT_PORT;
	O.kind = VM_CVM;
	O.status_fd = -1;
	parse_args(argc, argv, &logout, &renew);
	load_conf(&conf);
	if (status_open(O.status_fd) == -1) {
		fprintf(stderr, "xvds-client: --status-fd %d: not open\n",
		    O.status_fd);
		return STATUS_EXIT_USAGE;
	}
	if (sodium_init() == -1)
		return status_error(STATUS_E_INTERNAL, "libsodium does not "
		    "start");
	signal(SIGPIPE, SIG_IGN);
	if (logout != NULL)
		return session_request(BROKER_LOGOUT, 'L', logout);
	if (renew != NULL)
		return session_request(BROKER_RENEW, 'R', renew);
	return login(&conf);
}

/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * client.c — xvds-client, the thin client's program (xvds-client(1)):
 * logs a user in at the broker, prints the desktop it got, keeps the
 * session's lease renewed, and logs out when told to stop.  This first
 * slice prints the desktop for an RDP viewer instead of starting one.
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
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "broker_client.h"

enum {
	EXIT_USAGE = 2,
	EXIT_AUTH = 3,		/* wrong password, rate-limited, disabled */
	EXIT_NO_DESKTOP = 4,
	EXIT_SESSION_GONE = 5,
};

static struct {
	const char	*server, *ca_file, *user, *pool;
	uint16_t	 port;
	enum vm_kind	 kind;
	int		 once;		/* -1: print and leave the session */
} O;

static volatile sig_atomic_t stop_signal;

static void
print_usage(FILE *f)
{
	fprintf(f,
	    "usage: xvds-client [-1h] [-C ca-file] [-k cvm|pvm] [-P pool] "
	    "[-p port] -u user server\n"
	    "       xvds-client -L session [-C ca-file] [-p port] server\n"
	    "       xvds-client -R session [-C ca-file] [-p port] server\n"
	    "(the password, or -L's and -R's token, on standard input)\n");
}

static _Noreturn void
usage(void)
{
	print_usage(stderr);
	exit(EXIT_USAGE);
}

static void
on_signal(int sig)
{
	stop_signal = sig;
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

/* One request on a connection of its own: the broker closes idle ones. */
static int
ask(const struct broker_request *req, unsigned timeout_s,
    struct broker_reply *rep)
{
	struct broker_client *c;
	char	 err[512];
	int	 rc;

	if ((c = broker_client_open(O.server, O.port, O.ca_file, err,
	    sizeof(err))) == NULL) {
		fprintf(stderr, "xvds-client: %s\n", err);
		return -1;
	}
	rc = broker_client_ask(c, req, timeout_s, rep, err, sizeof(err));
	broker_client_close(c);
	if (rc == -1)
		fprintf(stderr, "xvds-client: %s\n", err);
	return rc;
}

/* An error reply, said; the exit status it calls for. */
static int
refused(const struct broker_reply *rep)
{
	fprintf(stderr, "xvds-client: %s", rep->message);
	if (rep->code == BROKER_E_RATE_LIMITED)
		fprintf(stderr, " (%u s)", rep->retry_after);
	if (rep->code == BROKER_E_NO_DESKTOP)
		fprintf(stderr, " (%s)", broker_reason_names[rep->reason]);
	fputc('\n', stderr);
	switch (rep->code) {
	case BROKER_E_AUTH_FAILED:
	case BROKER_E_RATE_LIMITED:
		return EXIT_AUTH;
	case BROKER_E_NO_DESKTOP:
		return rep->reason == BROKER_NR_DISABLED ? EXIT_AUTH :
		    EXIT_NO_DESKTOP;
	case BROKER_E_BAD_SESSION:
		return EXIT_SESSION_GONE;
	default:
		return EXIT_FAILURE;
	}
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
		exit(EXIT_USAGE);
	}
	if (arg[0] == '\0' || strlen(arg) > BROKER_SESSION_MAX) {
		fprintf(stderr, "xvds-client: -%c %s: a session expected\n", opt,
		    arg);
		exit(EXIT_USAGE);
	}
	snprintf(req->session, sizeof(req->session), "%s", arg);
	if (read_secret("Token for session", arg, req->token,
	    sizeof(req->token)) == -1 || req->token[0] == '\0') {
		sodium_memzero(req->token, sizeof(req->token));
		fprintf(stderr, "xvds-client: no token read\n");
		exit(EXIT_USAGE);
	}
}

static int
session_request(enum broker_request_type type, int opt, const char *arg)
{
	struct broker_request req;
	struct broker_reply rep;
	int	 rc;

	memset(&req, 0, sizeof(req));
	req.type = type;
	session_arg(opt, arg, &req);
	rc = ask(&req, BROKER_CLIENT_REQUEST_S, &rep);
	sodium_memzero(&req, sizeof(req));
	if (rc == -1)
		return EXIT_FAILURE;
	if (rep.type == BROKER_R_ERROR)
		return refused(&rep);
	if (rep.type == BROKER_R_RENEWED)
		printf("lease=%u\n", rep.lease_seconds);
	return 0;
}

static void
print_desktop(const struct broker_desktop *d)
{
	printf("address=%s\nport=%u\nrdp_user=%s\nrdp_password=%s\n"
	    "cert_fingerprint=%s\nsession=%s\ntoken=%s\nlease=%u\n",
	    d->address, (unsigned)d->port, d->rdp_user, d->rdp_password,
	    d->cert_fingerprint, d->session, d->token, d->lease_seconds);
	fflush(stdout);
}

/*
 * Renews the lease half-way through, until a signal; then logs out.  A
 * renew that cannot reach the broker is tried again at the next turn:
 * the controller's grace time covers a short outage.
 */
static int
keep(const struct broker_desktop *d)
{
	struct broker_request req;
	struct broker_reply rep;
	struct timespec ts;
	unsigned lease = d->lease_seconds;

	memset(&req, 0, sizeof(req));
	snprintf(req.session, sizeof(req.session), "%s", d->session);
	snprintf(req.token, sizeof(req.token), "%s", d->token);
	while (!stop_signal) {
		ts.tv_sec = lease / 2 > 0 ? lease / 2 : 1;
		ts.tv_nsec = 0;
		while (!stop_signal && nanosleep(&ts, &ts) == -1 &&
		    errno == EINTR)
			;
		if (stop_signal)
			break;
		req.type = BROKER_RENEW;
		if (ask(&req, BROKER_CLIENT_REQUEST_S, &rep) == -1)
			continue;
		if (rep.type == BROKER_R_ERROR)
			return refused(&rep);
		lease = rep.lease_seconds;
	}
	req.type = BROKER_LOGOUT;
	if (ask(&req, BROKER_CLIENT_REQUEST_S, &rep) == -1)
		return EXIT_FAILURE;
	if (rep.type == BROKER_R_ERROR)
		return refused(&rep);
	fprintf(stderr, "xvds-client: logged out\n");
	return 0;
}

int
main(int argc, char *argv[])
{
	static const struct option longopts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct broker_request req;
	struct broker_reply rep;
	struct sigaction sa;
	const char *logout = NULL, *renew = NULL;
	char	*end;
	unsigned long port;
	int	 ch, rc;

	O.port = BROKER_CLIENT_PORT;
	O.kind = VM_CVM;
	while ((ch = getopt_long(argc, argv, "1C:hk:L:P:p:R:u:", longopts,
	    NULL)) != -1) {
		switch (ch) {
		case '1':
			O.once = 1;
			break;
		case 'C':
			O.ca_file = optarg;
			break;
		case 'h':
			print_usage(stdout);
			return 0;
		case 'k':
			if (strcmp(optarg, "cvm") == 0)
				O.kind = VM_CVM;
			else if (strcmp(optarg, "pvm") == 0)
				O.kind = VM_PVM;
			else
				usage();
			break;
		case 'L':
			logout = optarg;
			break;
		case 'P':
			O.pool = optarg;
			break;
		case 'p':
			errno = 0;
			port = strtoul(optarg, &end, 10);
			if (*optarg == '\0' || *end != '\0' || errno != 0 ||
			    port < 1 || port > 65535) {
				fprintf(stderr, "xvds-client: -p %s: a port from 1 "
				    "to 65535 expected\n", optarg);
				exit(EXIT_USAGE);
			}
			O.port = (uint16_t)port;
			break;
		case 'R':
			renew = optarg;
			break;
		case 'u':
			O.user = optarg;
			break;
		default:
			usage();
		}
	}
	if (argc - optind != 1 || (logout != NULL) + (renew != NULL) +
	    (O.user != NULL) != 1)
		usage();
	O.server = argv[optind];
	if (sodium_init() == -1) {
		fprintf(stderr, "xvds-client: libsodium does not start\n");
		return EXIT_FAILURE;
	}
	signal(SIGPIPE, SIG_IGN);
	if (logout != NULL)
		return session_request(BROKER_LOGOUT, 'L', logout);
	if (renew != NULL)
		return session_request(BROKER_RENEW, 'R', renew);

	memset(&req, 0, sizeof(req));
	req.type = BROKER_LOGIN;
	req.kind = O.kind;
	if (strlen(O.user) > BROKER_USER_MAX || (O.pool != NULL &&
	    strlen(O.pool) > BROKER_POOL_MAX)) {
		fprintf(stderr, "xvds-client: the user or pool name is too "
		    "long\n");
		return EXIT_USAGE;
	}
	snprintf(req.user, sizeof(req.user), "%s", O.user);
	if (O.pool != NULL)
		snprintf(req.pool, sizeof(req.pool), "%s", O.pool);
	if (read_secret("Password for", O.user, req.password,
	    sizeof(req.password)) == -1) {
		fprintf(stderr, "xvds-client: no password read\n");
		return EXIT_USAGE;
	}
	rc = ask(&req, BROKER_CLIENT_LOGIN_S, &rep);
	sodium_memzero(&req, sizeof(req));
	if (rc == -1)
		return EXIT_FAILURE;
	if (rep.type != BROKER_R_DESKTOP)
		return refused(&rep);
	print_desktop(&rep.desktop);
	if (O.once) {
		sodium_memzero(&rep, sizeof(rep));
		return 0;
	}
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;	/* no SA_RESTART: the sleep ends */
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	rc = keep(&rep.desktop);
	sodium_memzero(&rep, sizeof(rep));
	return rc;
}

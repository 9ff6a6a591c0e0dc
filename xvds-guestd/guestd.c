/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * guestd.c — xvds-guestd, the XVDS agent inside a Linux desktop guest.
 *
 * It tells dom0, through the guest's own xenstore data/ area, that the
 * guest has booted (boot-complete) and where it can be reached (addrs),
 * keeps the addresses current, and writes the records again if they
 * vanish.  It applies the one-time RDP credentials dom0 hands it (a key
 * dom0 owns, that this guest may only read) and says how that went.  It waits for xenstore patiently: early in boot the xenbus
 * device may not be there yet.  See xvds-guestd(8).
 */
#include <config.h>

#include <sys/signalfd.h>

#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "addrs.h"
#include "apply.h"
#include "common/credential.h"
#include "common/log.h"
#include "publish.h"
#include "common/report.h"
#include "rdpcert.h"
#include "sessions.h"

#define BOOT_ID_PATH	"/proc/sys/kernel/random/boot_id"
#define RETRY_MIN	1	/* seconds before the first retry */
#define RETRY_MAX	30	/* and the most between two retries */
#define RETRY_LOG_EVERY	10	/* log every n-th failure once it repeats */
#define SESSION_POLL	2	/* default seconds between session checks */

struct agent {
	struct xs_handle *xs;
	struct report_addrs addrs;	/* as last published */
	char		 boot_id[REPORT_BOOT_ID_LEN + 1];
	int		 sigfd;
	int		 nlfd;
	unsigned	 retry_delay;	/* seconds, while not connected */
	unsigned	 failures;	/* consecutive connection failures */
	int		 last_errno;
	time_t		 retry_at;
	unsigned	 rdp_port;	/* 0: sessions not watched */
	unsigned	 session_poll;	/* seconds */
	time_t		 session_at;	/* next check */
	struct report_session session;	/* as last published */
	int		 session_known;	/* checked at least once */
	int		 session_warned;	/* said the tables are unreadable */
	const char	*apply_cmd;	/* applies a credential (-c) */
	const char	*rdp_cert;	/* the RDP server's certificate (-r) */
	int		 rdp_cert_warned;
	uint64_t	 cred_seq;	/* the last credential answered */
	int		 cred_answered;
};

static void
print_usage(FILE *f)
{
	fprintf(f, "usage: xvds-guestd [-dhv] [-c command] [-i seconds] "
	    "[-p rdp-port] [-r rdp-cert.pem]\n");
}

static _Noreturn void
usage(void)
{
	print_usage(stderr);
	exit(2);
}

/* boot_id is a UUID; the protocol carries its 32 hex digits. */
static int
read_boot_id(char *id)
{
	char	 buf[64];
	FILE	*f;
	size_t	 i, n = 0;

	if ((f = fopen(BOOT_ID_PATH, "r")) == NULL) {
		log_warn("%s", BOOT_ID_PATH);
		return -1;
	}
	if (fgets(buf, sizeof(buf), f) == NULL) {
		log_warnx("%s: empty", BOOT_ID_PATH);
		fclose(f);
		return -1;
	}
	fclose(f);
	for (i = 0; buf[i] != '\0' && buf[i] != '\n'; i++) {
		if (buf[i] == '-')
			continue;
		if (n == REPORT_BOOT_ID_LEN || !((buf[i] >= '0' && buf[i] <= '9') ||
		    (buf[i] >= 'a' && buf[i] <= 'f'))) {
			log_warnx("%s: not a UUID", BOOT_ID_PATH);
			return -1;
		}
		id[n++] = buf[i];
	}
	id[n] = '\0';
	if (n != REPORT_BOOT_ID_LEN) {
		log_warnx("%s: not a UUID", BOOT_ID_PATH);
		return -1;
	}
	return 0;
}

static int
format_addrs(struct agent *a, char *buf, size_t len)
{
	if (report_addrs_format(&a->addrs, buf, len) == -1) {
		log_warnx("cannot format the address record");
		return -1;
	}
	return 0;
}

static void
disconnect(struct agent *a)
{
	publish_close(a->xs);
	a->xs = NULL;
	a->failures = 0;
	a->retry_delay = RETRY_MIN;
	a->retry_at = time(NULL) + RETRY_MIN;
	log_warnx("lost xenstore; reconnecting");
}

static int
format_session(struct agent *a, char *buf, size_t len)
{
	if (report_session_format(&a->session, buf, len) == -1) {
		log_warnx("cannot format the session record");
		return -1;
	}
	return 0;
}

/* Writes every record: at start, after reconnecting, when they vanished. */
static void
publish_all(struct agent *a)
{
	struct report_boot boot;
	char	 bootbuf[REPORT_BOOT_MAX + 1], addrbuf[REPORT_ADDRS_MAX + 1];
	char	 sessbuf[REPORT_SESSION_MAX + 1];
	char	 ip[REPORT_ADDR_STRLEN];
	int	 pick;

	memset(&boot, 0, sizeof(boot));
	boot.version = REPORT_VERSION;
	strcpy(boot.boot_id, a->boot_id);
	boot.time = (int64_t)time(NULL);
	strcpy(boot.agent, PACKAGE_VERSION);
	/* Read at every publication: the RDP server may make it after us. */
	if (a->rdp_cert != NULL) {
		char	 err[256];

		if (rdpcert_sha256(a->rdp_cert, boot.rdp_sha256, err,
		    sizeof(err)) == -1) {
			boot.rdp_sha256[0] = '\0';
			if (!a->rdp_cert_warned++)
				log_warnx("the RDP certificate's fingerprint is "
				    "not published: %s", err);
		} else
			a->rdp_cert_warned = 0;
	}
	if (report_boot_format(&boot, bootbuf, sizeof(bootbuf)) == -1)
		fatalx("cannot format the boot-complete record");
	if (format_addrs(a, addrbuf, sizeof(addrbuf)) == -1)
		return;
	if (a->session_known && format_session(a, sessbuf, sizeof(sessbuf)) == -1)
		return;
	if (publish_records(a->xs, bootbuf, addrbuf,
	    a->session_known ? sessbuf : NULL) == -1) {
		disconnect(a);
		return;
	}
	pick = report_addrs_pick(&a->addrs);
	log_info("boot-complete published: boot %s, %zu address%s%s%s",
	    a->boot_id, a->addrs.n, a->addrs.n == 1 ? "" : "es",
	    pick >= 0 ? ", first " : "",
	    pick >= 0 ? report_addr_str(&a->addrs.addr[pick], ip, sizeof(ip)) : "");
}

static void
try_connect(struct agent *a)
{
	if ((a->xs = publish_connect()) != NULL) {
		if (a->failures > 0)
			log_info("xenstore available after %u failed attempt%s",
			    a->failures, a->failures == 1 ? "" : "s");
		publish_all(a);
		return;
	}
	a->failures++;
	/* Say so at once, then only when the reason changes or now and then. */
	if (a->failures == 1 || errno != a->last_errno ||
	    a->failures % RETRY_LOG_EVERY == 0)
		log_warn("xenstore not available (attempt %u; retrying in %u s)",
		    a->failures, a->retry_delay);
	a->last_errno = errno;
	a->retry_at = time(NULL) + a->retry_delay;
	a->retry_delay = a->retry_delay * 2 > RETRY_MAX ? RETRY_MAX :
	    a->retry_delay * 2;
}

static void
addresses_changed(struct agent *a)
{
	struct report_addrs now;
	char	 addrbuf[REPORT_ADDRS_MAX + 1];

	memset(&now, 0, sizeof(now));
	if (addrs_collect(&now) == -1 || addrs_equal(&now, &a->addrs))
		return;
	a->addrs.n = now.n;
	memcpy(a->addrs.addr, now.addr, sizeof(now.addr));
	a->addrs.seq++;
	if (a->xs == NULL)
		return;		/* published whole once connected */
	if (format_addrs(a, addrbuf, sizeof(addrbuf)) == -1)
		return;
	if (publish_addrs(a->xs, addrbuf) == -1) {
		disconnect(a);
		return;
	}
	log_info("addresses published: seq %ju, %zu address%s",
	    (uintmax_t)a->addrs.seq, a->addrs.n, a->addrs.n == 1 ? "" : "es");
}

/* Looks for RDP connections; publishes the session record when it changes. */
static void
check_session(struct agent *a)
{
	char	 buf[REPORT_SESSION_MAX + 1];
	int	 n, active;

	a->session_at = time(NULL) + a->session_poll;
	if ((n = sessions_count(a->rdp_port)) == -1) {
		if (!a->session_warned)
			log_warnx("cannot read /proc/net/tcp or tcp6: sessions "
			    "not reported");
		a->session_warned = 1;
		return;
	}
	active = n > 0;
	if (a->session_known && active == a->session.active)
		return;
	if (a->session_known)
		a->session.seq++;
	a->session.active = active;
	a->session_known = 1;
	log_info("session %s (%d connection%s to port %u)", active ? "active" :
	    "none", n, n == 1 ? "" : "s", a->rdp_port);
	if (a->xs == NULL || format_session(a, buf, sizeof(buf)) == -1)
		return;		/* published whole once connected */
	if (publish_session(a->xs, buf) == -1)
		disconnect(a);
}

/*
 * dom0's credential key changed: apply a new credential, once per seq,
 * and answer.  The password is in this function's buffers only, wiped
 * before it returns, and never logged.
 */
static void
handle_credential(struct agent *a)
{
	struct report_secret rec;
	struct report_credential ack;
	char	 buf[REPORT_SECRET_MAX + 1], out[REPORT_CREDENTIAL_MAX + 1];
	char	 err[REPORT_ERR_MAX];
	int	 n;

	if ((n = publish_read_secret(a->xs, buf, sizeof(buf))) == -1) {
		disconnect(a);
		return;
	}
	if (n <= 0)
		return;		/* none (removed once answered), or too long */
	if (report_secret_parse(buf, (size_t)n, &rec, err, sizeof(err)) == -1) {
		explicit_bzero(buf, sizeof(buf));
		log_warnx("credential record refused: %s", err);
		return;
	}
	explicit_bzero(buf, sizeof(buf));
	if (a->cred_answered && rec.seq == a->cred_seq) {
		explicit_bzero(&rec, sizeof(rec));
		return;		/* answered; dom0 has yet to remove it */
	}
	memset(&ack, 0, sizeof(ack));
	ack.version = REPORT_VERSION;
	strcpy(ack.boot_id, a->boot_id);
	ack.seq = rec.seq;
	/* The narrower alphabets: a user name that useradd takes as is. */
	if (!credential_user_ok(rec.user) ||
	    !credential_password_ok(rec.password)) {
		log_warnx("credential %ju refused: not of the expected form",
		    (uintmax_t)rec.seq);
		ack.applied = 0;
	} else {
		ack.applied = apply_credential(a->apply_cmd, rec.user,
		    rec.password, APPLY_TIMEOUT) == 0;
		log_info("credential %ju for %s %s", (uintmax_t)rec.seq, rec.user,
		    ack.applied ? "applied" : "not applied");
	}
	explicit_bzero(&rec, sizeof(rec));
	if (report_credential_format(&ack, out, sizeof(out)) == -1) {
		log_warnx("cannot format the credential acknowledgement");
		return;
	}
	if (publish_credential(a->xs, out) == -1) {
		disconnect(a);
		return;
	}
	a->cred_seq = ack.seq;
	a->cred_answered = 1;
}

/* Returns the signal that asks us to stop, or 0. */
static int
handle_signal(struct agent *a)
{
	struct signalfd_siginfo si;

	while (read(a->sigfd, &si, sizeof(si)) == sizeof(si)) {
		switch (si.ssi_signo) {
		case SIGTERM:
		case SIGINT:
			return (int)si.ssi_signo;
		case SIGHUP:
			log_info("SIGHUP: publishing again");
			if (a->xs != NULL)
				publish_all(a);
			break;
		}
	}
	return 0;
}

static int
run(struct agent *a)
{
	for (;;) {
		struct pollfd pfd[3];
		nfds_t	 n = 0;
		int	 timeout = -1, sig, r;

		pfd[n].fd = a->sigfd;
		pfd[n++].events = POLLIN;
		if (a->nlfd != -1) {
			pfd[n].fd = a->nlfd;
			pfd[n++].events = POLLIN;
		}
		if (a->xs != NULL) {
			pfd[n].fd = publish_fd(a->xs);
			pfd[n++].events = POLLIN;
		} else {
			time_t now = time(NULL);

			timeout = a->retry_at > now ? (int)(a->retry_at - now) * 1000 : 0;
		}
		if (a->rdp_port != 0) {
			time_t now = time(NULL);
			int	 t = a->session_at > now ?
			    (int)(a->session_at - now) * 1000 : 0;

			if (timeout == -1 || t < timeout)
				timeout = t;
		}
		if (poll(pfd, n, timeout) == -1) {
			if (errno == EINTR)
				continue;
			fatal("poll");
		}
		if (pfd[0].revents & POLLIN && (sig = handle_signal(a)) != 0) {
			log_info("stopping on %s", sig == SIGTERM ? "SIGTERM" : "SIGINT");
			return 0;
		}
		if (a->nlfd != -1 && pfd[1].revents) {
			if (addrs_monitor_drain(a->nlfd) == -1) {
				/* Fall back to what we have; say so once. */
				log_warnx("address changes will no longer be noticed");
				close(a->nlfd);
				a->nlfd = -1;
			} else
				addresses_changed(a);
		}
		if (a->rdp_port != 0 && time(NULL) >= a->session_at)
			check_session(a);
		if (a->xs == NULL) {
			if (time(NULL) >= a->retry_at)
				try_connect(a);
			continue;
		}
		if (pfd[n - 1].revents) {
			bool	 cred;

			r = publish_check(a->xs, &cred);
			if (r == -1)
				disconnect(a);
			else if (r == 1) {
				log_info("records missing from xenstore "
				    "(restored, or removed by dom0): writing them again");
				publish_all(a);
			}
			if (r != -1 && a->xs != NULL && cred)
				handle_credential(a);
		}
	}
}

int
main(int argc, char *argv[])
{
	static const struct option longopts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct agent a;
	sigset_t mask;
	int	 ch, foreground = 0, verbose = 0;
	unsigned rdp_port = SESSIONS_PORT_DEFAULT, poll_s = SESSION_POLL;
	const char *apply_cmd = GUESTD_APPLY_DEFAULT, *rdp_cert = NULL;
	char	*end;
	unsigned long v;

	while ((ch = getopt_long(argc, argv, "c:dhi:p:r:v", longopts,
	    NULL)) != -1) {
		switch (ch) {
		case 'c':
			if (optarg[0] != '/') {
				fprintf(stderr, "xvds-guestd: -c %s: an absolute "
				    "path\n", optarg);
				exit(2);
			}
			apply_cmd = optarg;
			break;
		case 'd':
			foreground = 1;
			break;
		case 'h':
			print_usage(stdout);
			return 0;
		case 'i':
			v = strtoul(optarg, &end, 10);
			if (*optarg == '\0' || *end != '\0' || v < 1 || v > 3600) {
				fprintf(stderr, "xvds-guestd: -i %s: seconds from 1 "
				    "to 3600\n", optarg);
				exit(2);
			}
			poll_s = (unsigned)v;
			break;
		case 'p':
			v = strtoul(optarg, &end, 10);
			if (*optarg == '\0' || *end != '\0' || v > 65535) {
				fprintf(stderr, "xvds-guestd: -p %s: a port from 1 "
				    "to 65535, or 0 for none\n", optarg);
				exit(2);
			}
			rdp_port = (unsigned)v;
			break;
		case 'r':
			rdp_cert = optarg;
			break;
		case 'v':
			verbose++;
			break;
		default:
			usage();
		}
	}
	if (optind != argc)
		usage();

	log_procname("xvds-guestd");
	log_init(foreground, LOG_DAEMON);
	log_setverbose(verbose);

	memset(&a, 0, sizeof(a));
	a.addrs.version = REPORT_VERSION;
	a.retry_delay = RETRY_MIN;
	a.rdp_port = rdp_port;
	a.session_poll = poll_s;
	a.apply_cmd = apply_cmd;
	a.rdp_cert = rdp_cert;
	if (read_boot_id(a.boot_id) == -1)
		fatalx("cannot tell this boot's identifier; is /proc mounted?");
	strcpy(a.addrs.boot_id, a.boot_id);
	strcpy(a.session.boot_id, a.boot_id);
	a.session.version = REPORT_VERSION;
	/* The first check before the first publication: the record is whole. */
	if (a.rdp_port != 0)
		check_session(&a);

	sigemptyset(&mask);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGHUP);
	if (sigprocmask(SIG_BLOCK, &mask, NULL) == -1)
		fatal("sigprocmask");
	/* An apply command that exits without reading its stdin. */
	signal(SIGPIPE, SIG_IGN);
	if ((a.sigfd = signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC)) == -1)
		fatal("signalfd");
	/* Without the monitor the agent still works, with the addresses of its start. */
	a.nlfd = addrs_monitor_open();
	if (addrs_collect(&a.addrs) == -1)
		log_warnx("starting with no addresses");

	if (!foreground && daemon(0, 0) == -1)
		fatal("daemon");
	log_info("starting, boot %s, protocol %d", a.boot_id, REPORT_VERSION);
	try_connect(&a);
	run(&a);
	publish_close(a.xs);
	return 0;
}

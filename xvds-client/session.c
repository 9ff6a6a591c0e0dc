/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * session.c — the session's life (session.h): one ppoll(2) waits for a
 * signal, the viewer's exit (SIGCHLD), its log, or the next renewal at
 * half the lease; nothing busy.  A renew that cannot reach the broker is
 * tried again at the next turn: the controller's grace time covers a
 * short outage.
 */
#include <config.h>

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "rdp_probe.h"
#include "session.h"
#include "viewer.h"

/* How long a stopped viewer has to exit before it is killed. */
#define VIEWER_STOP_MS	5000

static volatile sig_atomic_t stop_signal, child_exited;
static sigset_t wait_mask;	/* the mask ppoll(2) waits with */

static void
on_signal(int sig)
{
	if (sig == SIGCHLD)
		child_exited = 1;
	else
		stop_signal = sig;
}

void
session_signals(void)
{
	static const int sigs[] = { SIGINT, SIGTERM, SIGHUP, SIGCHLD };
	struct sigaction sa;
	sigset_t block;
	size_t	 i;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigemptyset(&block);
	for (i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++) {
		sigaction(sigs[i], &sa, NULL);
		sigaddset(&block, sigs[i]);
	}
	sigprocmask(SIG_BLOCK, &block, &wait_mask);
	for (i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		sigdelset(&wait_mask, sigs[i]);
}

static time_t
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec;
}

/* SIGTERM, then SIGKILL if it lingers; its wait status. */
static int
stop_viewer(pid_t pid)
{
	struct timespec tick = { 0, 100 * 1000 * 1000 };
	int	 ws = 0, ms;

	(void)kill(pid, SIGTERM);
	for (ms = 0; waitpid(pid, &ws, WNOHANG) == 0; ms += 100) {
		if (ms == VIEWER_STOP_MS)
			(void)kill(pid, SIGKILL);
		nanosleep(&tick, NULL);
	}
	return ws;
}

struct run {
	const struct broker_target *target;
	struct broker_request	 req;	/* renew and logout: session, token */
	struct viewer		 viewer;
	unsigned		 lease;
	int			 status;	/* exit status, once decided */
	enum broker_logout_reason why;	/* what the broker hears */
	bool			 over;
};

/* What the broker hears of a connection that failed (xvds-broker(7)). */
static enum broker_logout_reason
error_reason(enum status_error error)
{
	switch (error) {
	case STATUS_E_RDP_AUTH:
		return BROKER_LR_RDP_AUTH;
	case STATUS_E_DESKTOP_UNTRUSTED:
		return BROKER_LR_UNTRUSTED;
	case STATUS_E_DESKTOP_UNREACHABLE:
		return BROKER_LR_UNREACHABLE;
	default:
		return BROKER_LR_NONE;
	}
}

/* The viewer's end, as a status line (its exit status in r->status). */
static void
viewer_over(struct run *r, int ws)
{
	enum status_end end;
	enum status_error error;

	r->over = true;
	r->viewer.pid = -1;
	if (viewer_outcome(&r->viewer, ws, &end, &error) == VIEWER_ENDED) {
		r->why = end == STATUS_END_LOGOFF ? BROKER_LR_LOGOFF :
		    end == STATUS_END_LOST ? BROKER_LR_LOST : BROKER_LR_CLOSED;
		r->status = status_ended(end);
		return;
	}
	r->why = error_reason(error);
	if (error == STATUS_E_RDP_AUTH)
		r->status = status_error(error, "the desktop refused its "
		    "one-time credential; try logging in again");
	else if (error == STATUS_E_DESKTOP_UNTRUSTED)
		r->status = status_error(error, "the desktop's identity could "
		    "not be verified; ask your administrator");
	else if (error == STATUS_E_DESKTOP_UNREACHABLE)
		r->status = status_error(error, "the desktop cannot be "
		    "reached; try again later");
	else
		r->status = status_error(error, "the desktop's viewer failed");
}

static void
renew(struct run *r)
{
	struct broker_reply rep;
	enum status_error why;

	r->req.type = BROKER_RENEW;
	if (broker_ask(r->target, &r->req, BROKER_CLIENT_REQUEST_S, &rep,
	    &why) == -1)
		return;
	if (rep.type == BROKER_R_ERROR && rep.code == BROKER_E_BAD_SESSION) {
		if (r->viewer.pid != -1)
			(void)stop_viewer(r->viewer.pid);
		r->viewer.pid = -1;
		r->status = status_ended(STATUS_END_LEASE);
		r->over = true;
	} else if (rep.type == BROKER_R_RENEWED)
		r->lease = rep.lease_seconds;
}

/* Whatever woke the wait: the viewer's log, its exit, a signal. */
static void
woken(struct run *r, struct pollfd *pfd)
{
	int	 ws;
	bool	 was = r->viewer.connected;

	if (pfd->fd != -1 && pfd->revents != 0 &&
	    viewer_read_log(&r->viewer) == -1) {
		close(r->viewer.log_fd);
		r->viewer.log_fd = -1;
	}
	if (!was && r->viewer.connected)
		status_connected();
	if (child_exited) {
		child_exited = 0;
		if (r->viewer.pid != -1 &&
		    waitpid(r->viewer.pid, &ws, WNOHANG) == r->viewer.pid)
			viewer_over(r, ws);
	}
	if (!r->over && stop_signal) {
		if (r->viewer.pid != -1)
			(void)stop_viewer(r->viewer.pid);
		r->viewer.pid = -1;
		r->why = BROKER_LR_SIGNAL;
		r->status = status_ended(STATUS_END_SIGNAL);
		r->over = true;
	}
}

static void
wait_loop(struct run *r)
{
	struct pollfd pfd;
	struct timespec ts;
	time_t	 next = now_s() + (r->lease / 2 > 0 ? r->lease / 2 : 1);

	while (!r->over) {
		pfd.fd = r->viewer.log_fd;
		pfd.events = POLLIN;
		pfd.revents = 0;
		ts.tv_sec = next > now_s() ? next - now_s() : 0;
		ts.tv_nsec = 0;
		if (ppoll(&pfd, 1, &ts, &wait_mask) == -1 && errno != EINTR)
			break;
		woken(r, &pfd);
		if (!r->over && now_s() >= next) {
			renew(r);
			next = now_s() + (r->lease / 2 > 0 ? r->lease / 2 : 1);
		}
	}
	if (r->viewer.log_fd != -1)
		close(r->viewer.log_fd);
}

/* The broker hears the end, unless it ended the session itself. */
static void
logout(struct run *r)
{
	struct broker_reply rep;
	enum status_error why;

	r->req.type = BROKER_LOGOUT;
	r->req.reason = r->why;
	if (broker_ask(r->target, &r->req, BROKER_CLIENT_REQUEST_S, &rep,
	    &why) == 0 && rep.type == BROKER_R_DONE)
		fprintf(stderr, "xvds-client: logged out\n");
}

/* The desktop is there and is the one the broker vouched for. */
static int
check_desktop(const struct broker_desktop *d)
{
	char	 seen[RDP_PROBE_FP_LEN + 1], err[256];

	switch (rdp_probe(d->address, d->port, d->cert_fingerprint, seen,
	    err, sizeof(err))) {
	case RDP_PROBE_OK:
		return 0;
	case RDP_PROBE_MISMATCH:
		syslog(LOG_WARNING, "desktop %s port %u: certificate SHA-256 "
		    "%s, the broker's fingerprint %s: refused", d->address,
		    (unsigned)d->port, seen, d->cert_fingerprint[0] != '\0' ?
		    d->cert_fingerprint : "(none)");
		fprintf(stderr, "xvds-client: %s port %u: %s\n", d->address,
		    (unsigned)d->port, err);
		return status_error(STATUS_E_DESKTOP_UNTRUSTED, "the desktop's "
		    "identity could not be verified; ask your administrator");
	default:
		fprintf(stderr, "xvds-client: %s\n", err);
		return status_error(STATUS_E_DESKTOP_UNREACHABLE, "the desktop "
		    "cannot be reached; try again later");
	}
}

static void
start(struct run *r, const struct rdp_conf *c, const struct broker_desktop *d)
{
	char	 err[512];

	r->viewer.pid = -1;
	r->viewer.log_fd = -1;
	if (!rdp_conf_has_viewer(c))
		return;
	status_progress("connecting", d->address);
	if ((r->status = check_desktop(d)) != 0) {
		r->why = r->status == STATUS_EXIT_UNTRUSTED ?
		    BROKER_LR_UNTRUSTED : BROKER_LR_UNREACHABLE;
		r->over = true;
		return;
	}
	if (viewer_start(&r->viewer, c, d, err, sizeof(err)) == -1) {
		fprintf(stderr, "xvds-client: %s\n", err);
		r->status = status_error(STATUS_E_INTERNAL, "the desktop's "
		    "viewer cannot start");
		r->over = true;
	}
}

int
session_run(const struct broker_target *t, const struct rdp_conf *c,
    struct broker_desktop *d)
{
	struct run r;

	memset(&r, 0, sizeof(r));
	r.target = t;
	r.lease = d->lease_seconds;
	snprintf(r.req.session, sizeof(r.req.session), "%s", d->session);
	snprintf(r.req.token, sizeof(r.req.token), "%s", d->token);
	start(&r, c, d);
	sodium_memzero(d->rdp_password, sizeof(d->rdp_password));
	wait_loop(&r);
	if (r.status != STATUS_EXIT_SESSION_GONE)
		logout(&r);
	sodium_memzero(&r.req, sizeof(r.req));
	return r.status;
}

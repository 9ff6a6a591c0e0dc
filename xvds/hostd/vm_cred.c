/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * hostd/vm_cred.c — a session's one-time RDP credential, into a VM's guest.
 *
 * The record (common/report.h: "v=1 seq=<n> user=<u> password=<p>") goes into
 * the domain's xenstore key xvds/credential, which dom0 owns and the
 * guest may only read; xvds-guestd applies it and answers in its report
 * area (data/xvds/credential, same seq).  Whatever happens next (the
 * answer, the deadline, the VM leaving ready or running, its domain
 * going, xvdsd stopping) the key is removed and the request answered
 * once.  The password lives here only while the record is formatted: the
 * guest's answer is matched by seq, and neither is ever logged.
 */
#include <config.h>

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "common/credential.h"
#include "common/log.h"
#include "hv/reportwatch.h"
#include "hostd/vm_cred.h"
#include "hostd/vm_priv.h"

/* One delivery under way (vm->cred). */
struct vm_cred {
	uint64_t	 seq;
	uint32_t	 domid;		/* where the key was written */
	char		 user[CREDENTIAL_USER_LEN + 1];
	struct event	*timer;
	xvds_reply_cb	 cb;
	void		*arg;
};

/*
 * Numbers deliveries on this host.  Started from the clock, so that a
 * restarted xvdsd does not repeat one that a guest already answered.
 */
static uint64_t
next_seq(void)
{
	static uint64_t seq;

	if (seq == 0)
		seq = (uint64_t)time(NULL) * 1000;
	return ++seq;
}

/* The key goes, then the request is answered: the order that cannot leak. */
static void
finish(struct vm *vm, enum xvds_err err, const char *why)
{
	struct vm_cred *c = vm->cred;

	if (c == NULL)
		return;
	vm->cred = NULL;
	if (reportwatch_secret_remove(vm_reportwatch(), c->domid) == -1)
		log_warnx("%s: domain %u: the credential key could not be "
		    "removed from xenstore", vm->name, c->domid);
	event_free(c->timer);
	log_info("%s: credential %" PRIu64 " for %s: %s%s%s", vm->name, c->seq,
	    c->user, xvds_err_names[err], why != NULL ? ": " : "",
	    why != NULL ? why : "");
	if (err == XVDS_OK)
		vm_reply_later(c->cb, c->arg, err, "%s: credential applied",
		    vm->name);
	else
		vm_reply_later(c->cb, c->arg, err, "%s: credential not applied: %s",
		    vm->name, why != NULL ? why : "see the log");
	free(c);
}

static void
cred_timeout(evutil_socket_t fd, short what, void *arg)
{
	struct vm *vm = arg;
	char	 why[64];

	(void)fd;
	(void)what;
	snprintf(why, sizeof(why), "no answer from its agent in %u s",
	    vm_settings()->credential_timeout);
	finish(vm, XVDS_E_GUEST_TIMEOUT, why);
}

/* A VM with a validated boot whose guest is up: ready or running. */
static bool
can_take(const struct vm *vm)
{
	return !vm->away && vm->domid != XVDSD_NODOMAIN &&
	    vm->boot_id[0] != '\0' && (vm->fsm.state == VM_S_READY ||
	    vm->fsm.state == VM_S_RUNNING);
}

enum xvds_err
vm_credential(const char *name, const char *user, const char *password,
    xvds_reply_cb cb, void *arg, char *msg, size_t msglen)
{
	struct vm *vm = vm_find(name);
	struct report_secret rec;
	struct vm_cred *c;
	char	 buf[REPORT_SECRET_MAX + 1];
	struct timeval tv = { 0, 0 };
	int	 n;

	if (vm == NULL) {
		snprintf(msg, msglen, "no VM named %s", name);
		return XVDS_E_NOVM;
	}
	/* Never quoted back: the password may be the one thing wrong. */
	if (!credential_user_ok(user) || !credential_password_ok(password)) {
		snprintf(msg, msglen, "a credential is a user \"%sxxxxxxxx\" and a "
		    "password of %d letters and digits", CREDENTIAL_USER_PREFIX,
		    CREDENTIAL_PASSWORD_LEN);
		return XVDS_E_INVAL;
	}
	if (!can_take(vm)) {
		snprintf(msg, msglen, "%s is %s%s: a credential needs a ready or "
		    "running VM whose guest has booted", vm->name,
		    vm_state_names[vm->fsm.state], vm->away ? " elsewhere" : "");
		return XVDS_E_ILLEGAL;
	}
	if (vm->cred != NULL) {
		snprintf(msg, msglen, "%s: a credential is being delivered",
		    vm->name);
		return XVDS_E_BUSY;
	}
	if ((c = calloc(1, sizeof(*c))) == NULL ||
	    (c->timer = evtimer_new(vm_base(), cred_timeout, vm)) == NULL) {
		free(c);
		snprintf(msg, msglen, "out of memory");
		return XVDS_E_INTERNAL;
	}
	memset(&rec, 0, sizeof(rec));
	rec.version = REPORT_VERSION;
	rec.seq = next_seq();
	memcpy(rec.user, user, CREDENTIAL_USER_LEN + 1);
	memcpy(rec.password, password, CREDENTIAL_PASSWORD_LEN + 1);
	n = report_secret_format(&rec, buf, sizeof(buf));
	sodium_memzero(&rec.password, sizeof(rec.password));
	if (n < 0 || reportwatch_secret_put(vm_reportwatch(), vm->domid, buf,
	    (size_t)n) == -1) {
		sodium_memzero(buf, sizeof(buf));
		/* A half-written key must not stay either. */
		if (n >= 0)
			reportwatch_secret_remove(vm_reportwatch(), vm->domid);
		event_free(c->timer);
		free(c);
		snprintf(msg, msglen, "%s: the credential could not be written "
		    "into xenstore", vm->name);
		return XVDS_E_FAILED;
	}
	sodium_memzero(buf, sizeof(buf));
	c->seq = rec.seq;
	c->domid = vm->domid;
	memcpy(c->user, user, sizeof(c->user));
	c->cb = cb;
	c->arg = arg;
	tv.tv_sec = (time_t)vm_settings()->credential_timeout;
	evtimer_add(c->timer, &tv);
	vm->cred = c;
	log_info("%s: credential %" PRIu64 " for %s handed to domain %u",
	    vm->name, c->seq, c->user, c->domid);
	return XVDS_OK;
}

void
vm_cred_answer(struct vm *vm, const struct report_credential *a)
{
	if (vm->cred == NULL || a->seq != vm->cred->seq) {
		log_debug("%s: credential answer %" PRIu64 " matches nothing "
		    "under way", vm->name, a->seq);
		return;
	}
	if (a->applied)
		finish(vm, XVDS_OK, NULL);
	else
		finish(vm, XVDS_E_GUEST_FAILED,
		    "the guest's agent could not apply it");
}

void
vm_cred_check(struct vm *vm)
{
	char	 why[64];

	if (vm->cred == NULL)
		return;
	if (vm->domid != vm->cred->domid || vm->away ||
	    (vm->fsm.state != VM_S_READY && vm->fsm.state != VM_S_RUNNING)) {
		snprintf(why, sizeof(why), "the VM became %s",
		    vm_state_names[vm->fsm.state]);
		finish(vm, XVDS_E_FAILED, why);
	}
}

void
vm_cred_cancel(struct vm *vm, const char *why)
{
	finish(vm, XVDS_E_FAILED, why);
}

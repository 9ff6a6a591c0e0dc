/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * controller/login.c — a login, from the password to the desktop's answer
 * (xvds-broker(7), xvds-controller(8) "Logins").
 *
 * A login is a machine of steps (enum login_step, controller/login.h),
 * written here in the order it runs them.  login_advance runs the step
 * the request is at; a step either answers (and so frees the request),
 * or starts something asynchronous whose completion sets the next step
 * and advances again.
 *
 *   admit, password  the rate limits; the user's row; argon2id on a worker
 *   resume      the user's open session if there is one (a reconnect: the
 *               same desktop), with new secrets
 *   claim       else a desktop: for a CVM the pool's first Ready, else
 *               Paused, else Saved one; for a PVM the user's own, placed on
 *               a host by the policy's rule if it has no domain.  The
 *               desktop is taken and its session opened by one statement.
 *   wake        define, then unpause, restore, or start, through its host
 *               and a power slot (throttled); an op's result comes when the
 *               VM has settled (Ready, its boot-complete validated)
 *   address     the desktop's address, as its host last reported it
 *   credential  a new one-time RDP credential, into the guest through the
 *               host's xvdsd and xenstore; its result says it is applied
 *   answer      the desktop
 *
 * A client that asked for it hears of the steps that take time, each once
 * (xvds-broker(7), PROGRESS): queued for a power slot, waking (unpause,
 * restore) or booting (define, start), starting (woken: its address
 * awaited), credential (applied in the guest).
 *
 * A step that fails after the claim ends the session it opened
 * ("desktop-failed"); the session module then resets or shuts the desktop
 * down, so that nothing half-woken is handed out later.
 *
 * The login owns its request from login_begin on and answers it through
 * the broker's hooks (controller/login.h); it calls nothing of the broker.
 *
 * The work connection runs one statement at a time, shared with the
 * agents: each step that must be atomic is one statement (see
 * controller/broker.c).  FOR UPDATE SKIP LOCKED and sessions_one_open_per_vm
 * keep two logins, or two controllers, from taking one desktop; a VM
 * whose last session is not released yet is nobody's to take.
 */
#include <config.h>

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>
#include <sodium.h>

#include "controller/agent.h"
#include "controller/cluster.h"
#include "controller/login.h"
#include "controller/power.h"
#include "controller/sql.h"
#include "db/db.h"
#include "common/log.h"
#include "controller/passwd_pool.h"

#define ADDRESS_POLLS	40	/* looks for the address, ADDRESS_POLL_MS apart */
#define ADDRESS_POLL_MS	250
#define THROTTLE_WAITS	150	/* looks for a power slot, THROTTLE_MS apart */
#define THROTTLE_MS	200

/* The steps, in the order they run. */
static void	admit(struct broker_req *);
static void	password_check(struct broker_req *);
static void	resume(struct broker_req *);
static void	cvm_claim(struct broker_req *);
static void	pvm_find(struct broker_req *);
static void	pvm_claim(struct broker_req *);
static void	wake(struct broker_req *);
static void	define(struct broker_req *);
static void	throttled(struct broker_req *);
static void	power_on(struct broker_req *);
static void	address_read(struct broker_req *);
static void	credential_send(struct broker_req *);
static void	answer(struct broker_req *);

/* The client told of a step that takes time, once. */
static void	tell(struct broker_req *, enum broker_progress);

/* How a login ends early. */
static bool	still_wanted(struct broker_req *);
static void	login_error(struct broker_req *, enum broker_error,
		    const char *msg, unsigned retry_after, enum broker_reason);
static void	fail_internal(struct broker_req *, const char *what,
		    const char *err);
static void	refuse(struct broker_req *, const char *why, const char *msg,
		    enum broker_reason);
static void	abandon_for(struct broker_req *, const char *why,
		    const char *msg, enum broker_reason);
static void	abandon(struct broker_req *, const char *why, const char *msg);

/* Runs the step q is at. */
static void
login_advance(struct broker_req *q)
{
	switch (q->step) {
	case LOGIN_ADMIT:
		admit(q);
		break;
	case LOGIN_PASSWORD:
		password_check(q);
		break;
	case LOGIN_RESUME:
		resume(q);
		break;
	case LOGIN_CLAIM_CVM:
		cvm_claim(q);
		break;
	case LOGIN_FIND_PVM:
		pvm_find(q);
		break;
	case LOGIN_CLAIM_PVM:
		pvm_claim(q);
		break;
	case LOGIN_WAKE:
		wake(q);
		break;
	case LOGIN_DEFINE:
		define(q);
		break;
	case LOGIN_THROTTLED:
		throttled(q);
		break;
	case LOGIN_POWER:
		power_on(q);
		break;
	case LOGIN_ADDRESS:
		address_read(q);
		break;
	case LOGIN_ADDRESS_WAIT:
		break;		/* a report or the poll's timer advances it */
	case LOGIN_CREDENTIAL:
		credential_send(q);
		break;
	case LOGIN_ANSWER:
		answer(q);
		break;
	}
}

void
login_begin(struct broker_req *q, const struct login_hooks *hooks)
{
	q->hooks = hooks;
	q->step = LOGIN_ADMIT;
	login_advance(q);
}

/*
 * LOGIN_ADMIT: counted as in flight from here to its verdict, so that
 * guesses sent at once are held as those sent one by one
 * (common/ratelimit.h); then the user's row.
 */
static void	user_read(PGresult *, const char *, void *);

static void
admit(struct broker_req *q)
{
	const char *p[1] = { q->r.user };
	unsigned wait;

	if ((wait = q->hooks->admit(q)) > 0) {
		sodium_memzero(q->r.password, sizeof(q->r.password));
		login_error(q, BROKER_E_RATE_LIMITED,
		    "too many failed logins; wait", wait, 0);
		return;
	}
	snprintf(q->pool, sizeof(q->pool), "%s", q->r.pool);
	if (db_query(q->hooks->env->db, DB_IDEMPOTENT, user_read, q,
	    sql_login_user, 1, p) == -1) {
		sodium_memzero(q->r.password, sizeof(q->r.password));
		login_error(q, BROKER_E_INTERNAL, "try again later", 0, 0);
	}
}

/* The user's row, if any: an unknown user's check costs the same. */
static void
user_read(PGresult *res, const char *err, void *arg)
{
	struct broker_req *q = arg;

	if (err != NULL) {
		sodium_memzero(q->r.password, sizeof(q->r.password));
		fail_internal(q, "user", err);
		return;
	}
	/* Stopped meanwhile (perhaps started again): take no VM for nobody. */
	if (!still_wanted(q))
		return;
	if (PQntuples(res) == 1) {
		q->user_id = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
		q->user_known = true;
		snprintf(q->pwhash, sizeof(q->pwhash), "%s",
		    PQgetvalue(res, 0, 1));
		q->disabled = PQgetvalue(res, 0, 2)[0] == 't';
	}
	q->step = LOGIN_PASSWORD;
	login_advance(q);
}

/*
 * LOGIN_PASSWORD: checked on a worker (13 ms of argon2id,
 * controller/passwd_pool.h).
 */
static void	verified(enum passwd_result, const char *, bool, void *);

static void
password_check(struct broker_req *q)
{
	int	 rc;

	rc = passwd_pool_verify(q->hooks->env->pwpool, q->addr,
	    q->user_known ? q->pwhash : NULL, q->r.password, verified, q);
	sodium_memzero(q->r.password, sizeof(q->r.password));
	sodium_memzero(q->pwhash, sizeof(q->pwhash));
	if (rc == -1) {
		/* Its address's share of the checks, or all, are under way:
		 * refused now rather than queued behind them
		 * (controller/passwd_pool.h); not a guess, so not counted
		 * (the broker's drop settles it). */
		q->hooks->event("login-refused", q->r.user, q->peer, "busy");
		login_error(q, BROKER_E_RATE_LIMITED, "too many logins at "
		    "once; try again in a moment", 1, 0);
	}
}

/* The password's verdict, from a worker thread. */
static void
verified(enum passwd_result pr, const char *why, bool cancelled, void *arg)
{
	struct broker_req *q = arg;

	if (cancelled) {
		/* The broker stopped: nobody to answer. */
		q->hooks->drop(q);
		return;
	}
	/* A guess counts even if its client left before the verdict. */
	q->hooks->settle(q, pr == PASSWD_MATCH ? RATELIMIT_SUCCEEDED :
	    RATELIMIT_FAILED);
	if (!still_wanted(q))
		return;
	if (pr == PASSWD_BADHASH)
		log_warnx("broker: user %s: %s", q->r.user, why);
	if (pr != PASSWD_MATCH) {
		q->hooks->event("login-failed", q->r.user, q->peer,
		    "auth-failed");
		login_error(q, BROKER_E_AUTH_FAILED,
		    "wrong user name or password", 0, 0);
		return;
	}
	if (q->disabled) {
		refuse(q, "disabled", "the account is disabled",
		    BROKER_NR_DISABLED);
		return;
	}
	q->step = LOGIN_RESUME;
	login_advance(q);
}

/* The session's secrets' digests, and the lease, as parameters. */
struct secrets {
	char	 uid[24], lease[16];
	char	 cdig[CREDENTIAL_DIGEST_LEN + 1], tdig[CREDENTIAL_DIGEST_LEN + 1];
};

static void
secrets(struct broker_req *q, struct secrets *s)
{
	credential_digest(CREDENTIAL_RDP, q->cred.password, s->cdig);
	credential_digest(CREDENTIAL_TOKEN, q->token, s->tdig);
	snprintf(s->uid, sizeof(s->uid), "%" PRId64, q->user_id);
	snprintf(s->lease, sizeof(s->lease), "%u", q->hooks->env->lease_s);
}

/* LOGIN_RESUME: the session's new secrets; the user's open session. */
static void	resumed(PGresult *, const char *, void *);

static void
resume(struct broker_req *q)
{
	struct secrets s;
	const char *p[8];

	if (credential_new(&q->cred) == -1 || credential_token(q->token) == -1) {
		login_error(q, BROKER_E_INTERNAL, "try again later", 0, 0);
		return;
	}
	secrets(q, &s);
	p[0] = s.uid;
	p[1] = vm_kind_names[q->r.kind];
	p[2] = q->pool;
	p[3] = s.cdig;
	p[4] = s.tdig;
	p[5] = s.lease;
	p[6] = q->r.user;
	p[7] = q->peer;
	if (db_query(q->hooks->env->db, 0, resumed, q, sql_login_resume, 8,
	    p) == -1)
		login_error(q, BROKER_E_INTERNAL, "try again later", 0, 0);
}

/* A resumed session, or none: then a new desktop of the kind asked. */
static void
resumed(PGresult *res, const char *err, void *arg)
{
	struct broker_req *q = arg;

	if (err != NULL) {
		fail_internal(q, "resume", err);
		return;
	}
	if (!still_wanted(q))
		return;
	if (PQntuples(res) != 1) {
		q->step = q->r.kind == VM_CVM ? LOGIN_CLAIM_CVM :
		    LOGIN_FIND_PVM;
		login_advance(q);
		return;
	}
	snprintf(q->session, sizeof(q->session), "%s", PQgetvalue(res, 0, 0));
	snprintf(q->vm, sizeof(q->vm), "%s", PQgetvalue(res, 0, 1));
	snprintf(q->from, sizeof(q->from), "%s", PQgetvalue(res, 0, 2));
	snprintf(q->address, sizeof(q->address), "%s", PQgetvalue(res, 0, 3));
	snprintf(q->host, sizeof(q->host), "%s", PQgetvalue(res, 0, 4));
	snprintf(q->tmpl_name, sizeof(q->tmpl_name), "%s",
	    PQgetvalue(res, 0, 5));
	if (vm_state_from_name(q->from) == VM_S_INACTIVE) {
		snprintf(q->template, sizeof(q->template), "%s", q->tmpl_name);
		q->define_kind = q->r.kind;
	}
	snprintf(q->rdp_sha256, sizeof(q->rdp_sha256), "%s",
	    PQgetvalue(res, 0, 6));
	q->mem_mib = (unsigned)strtoul(PQgetvalue(res, 0, 7), NULL, 10);
	log_info("broker: %s resumes session %s on %s", q->r.user,
	    q->session, q->vm);
	q->resumed = true;
	q->step = LOGIN_WAKE;
	login_advance(q);
}

/* LOGIN_CLAIM_CVM: the pool's first free CVM taken, or none. */
static void	cvm_claimed(PGresult *, const char *, void *);

static void
cvm_claim(struct broker_req *q)
{
	struct secrets s;
	const char *p[11];
	char	*up;
	int	 rc = -1;

	secrets(q, &s);
	p[0] = s.uid;
	p[1] = q->pool;
	p[2] = q->peer;
	p[3] = s.cdig;
	p[4] = s.tdig;
	p[5] = s.lease;
	p[6] = q->r.user;
	p[8] = vm_fsm_state_name(vm_fsm_login_marks(VM_CVM, VM_S_READY));
	p[9] = vm_fsm_state_name(vm_fsm_login_marks(VM_CVM, VM_S_PAUSED));
	p[10] = vm_fsm_state_name(vm_fsm_login_marks(VM_CVM, VM_S_SAVED));
	/* A Ready or Paused CVM is of use only through its host's agent. */
	if ((p[7] = up = ctrl_hosts_connected_array()) != NULL)
		rc = db_query(q->hooks->env->db, 0, cvm_claimed, q,
		    sql_login_cvm, 11, p);
	free(up);
	if (rc == -1)
		login_error(q, BROKER_E_INTERNAL, "try again later", 0, 0);
}

/* A claim's row; else the login failed (err), or is refused as why. */
static bool
claim_taken(struct broker_req *q, PGresult *res, const char *err,
    const char *why, const char *msg, enum broker_reason reason)
{
	if (err != NULL) {
		fail_internal(q, "claim", err);
		return false;
	}
	if (PQntuples(res) != 1) {
		refuse(q, why, msg, reason);
		return false;
	}
	return true;
}

static void
cvm_claimed(PGresult *res, const char *err, void *arg)
{
	struct broker_req *q = arg;

	if (!claim_taken(q, res, err, "pool-empty", "no desktop is ready now",
	    BROKER_NR_POOL_EMPTY))
		return;
	snprintf(q->session, sizeof(q->session), "%s", PQgetvalue(res, 0, 0));
	snprintf(q->vm, sizeof(q->vm), "%s", PQgetvalue(res, 0, 1));
	snprintf(q->from, sizeof(q->from), "%s", PQgetvalue(res, 0, 2));
	snprintf(q->address, sizeof(q->address), "%s", PQgetvalue(res, 0, 3));
	snprintf(q->host, sizeof(q->host), "%s", PQgetvalue(res, 0, 4));
	snprintf(q->rdp_sha256, sizeof(q->rdp_sha256), "%s",
	    PQgetvalue(res, 0, 5));
	snprintf(q->tmpl_name, sizeof(q->tmpl_name), "%s",
	    PQgetvalue(res, 0, 6));
	q->mem_mib = (unsigned)strtoul(PQgetvalue(res, 0, 7), NULL, 10);
	if (!still_wanted(q))
		return;
	q->step = LOGIN_WAKE;
	login_advance(q);
}

/* LOGIN_FIND_PVM: the user's PVM as it is. */
static void	pvm_found(PGresult *, const char *, void *);

static void
pvm_find(struct broker_req *q)
{
	const char *p[1];
	char	 uid[24];

	snprintf(uid, sizeof(uid), "%" PRId64, q->user_id);
	p[0] = uid;
	if (db_query(q->hooks->env->db, DB_IDEMPOTENT, pvm_found, q,
	    sql_login_pvm, 1, p) == -1)
		login_error(q, BROKER_E_INTERNAL, "try again later", 0, 0);
}

/*
 * The state a claim marks a desktop seen in from; NULL: not claimable.
 * The CVM's rows, a PVM's and Paused and Saved besides, which xvdsd never
 * reports of a PVM (doc/architecture.md).
 */
static const char *
claim_marked(const char *from)
{
	return vm_fsm_state_name(vm_fsm_login_marks(VM_CVM,
	    vm_state_from_name(from)));
}

/* Claimable now, on a host that is up, or placed on one if it has none. */
static void
pvm_found(PGresult *res, const char *err, void *arg)
{
	struct broker_req *q = arg;
	enum policy_reason why;
	char	 placed[AGENT_HOST_MAX + 1] = "";

	if (err != NULL) {
		fail_internal(q, "the user's PVM", err);
		return;
	}
	if (!still_wanted(q))
		return;
	if (PQntuples(res) != 1) {
		refuse(q, "no-pvm", "this account has no personal desktop",
		    BROKER_NR_NO_POOL);
		return;
	}
	snprintf(q->vm, sizeof(q->vm), "%s", PQgetvalue(res, 0, 0));
	snprintf(q->from, sizeof(q->from), "%s", PQgetvalue(res, 0, 1));
	snprintf(q->host, sizeof(q->host), "%s", PQgetvalue(res, 0, 4));
	if (claim_marked(q->from) == NULL || PQgetvalue(res, 0, 6)[0] == 't') {
		refuse(q, "busy", "your desktop is busy; try again in a moment",
		    BROKER_NR_BUSY);
		return;
	}
	if (vm_state_from_name(q->from) == VM_S_INACTIVE) {
		/* No domain: the host the policy's placement rule picks. */
		if (ctrl_cluster_place(q->vm, (unsigned)strtoul(PQgetvalue(res,
		    0, 2), NULL, 10), placed, &why) == -1) {
			refuse(q, policy_reason_names[why], "no host has room "
			    "for your desktop now", BROKER_NR_NO_CAPACITY);
			return;
		}
		snprintf(q->host, sizeof(q->host), "%s", placed);
		snprintf(q->template, sizeof(q->template), "%s",
		    PQgetvalue(res, 0, 3));
		q->define_kind = VM_PVM;
	} else if (PQgetvalue(res, 0, 5)[0] != 't') {
		refuse(q, "host-down", "your desktop's host is down",
		    BROKER_NR_NO_CAPACITY);
		return;
	}
	q->step = LOGIN_CLAIM_PVM;
	login_advance(q);
}

/* LOGIN_CLAIM_PVM: taken if still as seen, moved to the host placed on. */
static void	pvm_claimed(PGresult *, const char *, void *);

static void
pvm_claim(struct broker_req *q)
{
	struct secrets s;
	const char *p[10];

	secrets(q, &s);
	p[0] = q->vm;
	p[1] = q->from;
	p[2] = claim_marked(q->from);
	/* A define is due where the PVM was placed (pvm_found). */
	p[3] = q->template[0] != '\0' ? q->host : "";
	p[4] = s.uid;
	p[5] = q->peer;
	p[6] = s.cdig;
	p[7] = s.tdig;
	p[8] = s.lease;
	p[9] = q->r.user;
	if (db_query(q->hooks->env->db, 0, pvm_claimed, q,
	    sql_login_pvm_claim, 10, p) == -1)
		login_error(q, BROKER_E_INTERNAL, "try again later", 0, 0);
}

static void
pvm_claimed(PGresult *res, const char *err, void *arg)
{
	struct broker_req *q = arg;

	/* None: taken or changed since it was looked at. */
	if (!claim_taken(q, res, err, "busy", "your desktop is busy; try "
	    "again in a moment", BROKER_NR_BUSY))
		return;
	snprintf(q->session, sizeof(q->session), "%s", PQgetvalue(res, 0, 0));
	if (!still_wanted(q))
		return;
	q->step = LOGIN_WAKE;
	login_advance(q);
}

/*
 * What waking a desktop seen in state from is, an event of
 * common/vm_fsm.c: by the CVM's rows for a PVM too (doc/architecture.md).
 */
static int
wake_event(const char *from)
{
	return vm_fsm_login_event(VM_CVM, vm_state_from_name(from));
}

/* The power op of that event; AGENT_A__COUNT: none would (the desktop is
 * on its way somewhere). */
static enum agent_action
power_action(int ev)
{
	if (ev == VM_EV_UNPAUSE)
		return AGENT_A_UNPAUSE;
	if (ev == VM_EV_RESTORE)
		return AGENT_A_RESTORE;
	if (ev == VM_EV_START)
		return AGENT_A_START;
	return AGENT_A__COUNT;
}

static bool	restore_elsewhere(struct broker_req *);
static int	relocate(struct broker_req *);

/*
 * LOGIN_WAKE: an up desktop needs nothing; else a define if one is due,
 * then its power op, which waits for a slot of the boot-storm throttle.
 */
static void
wake(struct broker_req *q)
{
	int	 ev = wake_event(q->from);

	if (ev == VM_EV_SESSION_START) {
		q->step = q->address[0] != '\0' ? LOGIN_CREDENTIAL :
		    LOGIN_ADDRESS;
		login_advance(q);
		return;
	}
	if (ev == VM_EV_RESTORE && q->r.kind == VM_CVM &&
	    !q->relocated && !q->resumed && restore_elsewhere(q) &&
	    relocate(q) == -1)
		return;
	if (q->template[0] == '\0' && power_action(ev) == AGENT_A__COUNT) {
		/* Resumed while its desktop is on its way somewhere. */
		q->hooks->event("login-refused", q->r.user, q->peer, "busy");
		login_error(q, BROKER_E_NO_DESKTOP, "your desktop is busy; "
		    "try again in a moment", 0, BROKER_NR_BUSY);
		return;
	}
	if (q->host[0] == '\0') {
		abandon(q, "host-away", "the desktop's host is not connected");
		return;
	}
	if (q->template[0] != '\0')
		q->step = LOGIN_DEFINE;
	else if (ctrl_power_try(q->host))
		q->step = LOGIN_POWER;
	else
		q->step = LOGIN_THROTTLED;
	login_advance(q);
}

/*
 * A Saved CVM is restored on the best host for it: its own, unless the
 * placement rule would not put it there now (away, out of memory or CPU
 * by the policy, draining, disabled, given up).  Its image is on the
 * shared store (xvds.conf(5), store), so any host can restore
 * it, once it is defined there.  Its own host is kept while nothing is
 * known of its load yet (no sample since it connected).
 */
static bool
restore_elsewhere(struct broker_req *q)
{
	enum policy_reason why;

	if (!ctrl_host_connected(q->host)) {
		snprintf(q->relocate_why, sizeof(q->relocate_why),
		    "its host is not connected");
		return true;
	}
	if (ctrl_cluster_admits(q->host, q->mem_mib, &why) != 0)
		return false;
	snprintf(q->relocate_why, sizeof(q->relocate_why), "%s",
	    why == POLICY_R_NO_MEMORY ? "its host has not the memory" :
	    why == POLICY_R_CPU ? "its host is at the CPU limit" :
	    "its host is draining, disabled or given up");
	return true;
}

static void	noted(PGresult *, const char *, void *);

/*
 * The Saved CVM's new host, by the policy's placement rule; its row moves
 * there before anything is sent, so that the new host's reports of it
 * are taken.  -1 (and the login refused) if no host has room.
 */
static int
relocate(struct broker_req *q)
{
	enum policy_reason why;
	char	 placed[AGENT_HOST_MAX + 1];
	const char *p[4];

	if (ctrl_cluster_place(q->vm, q->mem_mib, placed, &why) == -1) {
		abandon_for(q, policy_reason_names[why], "no host has room for "
		    "your desktop now", BROKER_NR_NO_CAPACITY);
		return -1;
	}
	p[0] = q->vm;
	p[1] = placed;
	p[2] = q->host;
	p[3] = q->relocate_why;
	log_info("broker: %s saved on %s (%s): restored on %s", q->vm,
	    q->host, q->relocate_why, placed);
	if (db_query(q->hooks->env->db, DB_IDEMPOTENT, noted, "relocation not "
	    "recorded", sql_login_relocate, 4, p) == -1) {
		ctrl_cluster_unplace(placed, q->vm);
		abandon(q, "internal", "try again later");
		return -1;
	}
	snprintf(q->left, sizeof(q->left), "%s", q->host);
	snprintf(q->host, sizeof(q->host), "%s", placed);
	snprintf(q->template, sizeof(q->template), "%s", q->tmpl_name);
	q->define_kind = VM_CVM;
	q->relocated = 1;
	return 0;
}

static void
not_woken(struct broker_req *q, const struct agent_result *res)
{
	log_warnx("broker: %s on %s did not wake: %s %s", q->vm, q->host,
	    res->code, res->message);
	abandon(q, "desktop-failed", "the desktop did not come up");
}

/* LOGIN_DEFINE: the VM defined where it is placed; then woken anew. */
static void	defined(const char *, const struct agent_result *, void *);

static void
define(struct broker_req *q)
{
	struct agent_op op;

	memset(&op, 0, sizeof(op));
	snprintf(op.vm, sizeof(op.vm), "%s", q->vm);
	op.action = AGENT_A_DEFINE;
	op.kind = q->define_kind;
	snprintf(op.template, sizeof(op.template), "%s", q->template);
	if (ctrl_host_op(q->host, &op, 0, defined, q) == -1) {
		abandon(q, "host-away", "the desktop's host is not connected");
		return;
	}
	q->sent = true;
	/* A Saved CVM defined elsewhere is woken; a PVM's domain is new. */
	tell(q, q->define_kind == VM_PVM ? BROKER_P_BOOTING : BROKER_P_WAKING);
}

static void
defined(const char *host, const struct agent_result *res, void *arg)
{
	struct broker_req *q = arg;

	(void)host;
	if (!still_wanted(q))
		return;
	q->template[0] = '\0';
	/* A host that has the VM already is as good. */
	if (!res->ok && strcmp(res->code, "exists") != 0) {
		not_woken(q, res);
		return;
	}
	q->step = LOGIN_WAKE;
	login_advance(q);
}

/* LOGIN_THROTTLED: no power slot: look again shortly, for a while, then
 * say busy. */
static void	throttle_over(evutil_socket_t, short, void *);

static void
throttled(struct broker_req *q)
{
	struct timeval tv = { 0, THROTTLE_MS * 1000 };

	if (++q->waits > THROTTLE_WAITS) {
		abandon_for(q, "busy", "too many desktops are starting; try "
		    "again in a moment", BROKER_NR_BUSY);
		return;
	}
	if (q->throttle == NULL && (q->throttle =
	    evtimer_new(q->hooks->env->base, throttle_over, q)) == NULL) {
		fail_internal(q, "throttle", "no timer");
		return;
	}
	evtimer_add(q->throttle, &tv);
	tell(q, BROKER_P_QUEUED);
}

static void
throttle_over(evutil_socket_t fd, short what, void *arg)
{
	struct broker_req *q = arg;

	(void)fd;
	(void)what;
	if (!still_wanted(q))
		return;
	q->step = LOGIN_WAKE;
	login_advance(q);
}

/* LOGIN_POWER: with its slot, the power op; its result when settled. */
static void	powered_on(const char *, const struct agent_result *, void *);

static void
power_on(struct broker_req *q)
{
	struct agent_op op;

	memset(&op, 0, sizeof(op));
	snprintf(op.vm, sizeof(op.vm), "%s", q->vm);
	op.action = power_action(wake_event(q->from));
	if (ctrl_host_op(q->host, &op, 0, powered_on, q) == -1) {
		ctrl_power_give(q->host);
		q->step = LOGIN_WAKE;	/* no slot held */
		abandon(q, "host-away", "the desktop's host is not connected");
		return;
	}
	q->sent = true;
	tell(q, op.action == AGENT_A_START ? BROKER_P_BOOTING :
	    BROKER_P_WAKING);
}

static void
powered_on(const char *host, const struct agent_result *res, void *arg)
{
	struct broker_req *q = arg;

	(void)host;
	ctrl_power_give(q->host);
	q->step = LOGIN_ADDRESS;	/* the slot is given back */
	if (!still_wanted(q))
		return;
	if (!res->ok) {
		not_woken(q, res);
		return;
	}
	/* Restored elsewhere: its old host's record is stale. */
	if (q->relocated && q->left[0] != '\0')
		ctrl_host_forget(q->left, q->vm);
	tell(q, BROKER_P_STARTING);
	login_advance(q);
}

/*
 * Logins waiting for their desktop's address (LOGIN_ADDRESS_WAIT): a
 * host's report of that VM (login_vm_reported) makes them look at once;
 * the poll is only the fallback.  A short list: the logins between a wake
 * and its report.
 */
static struct broker_req *address_waiting;

static void
address_unwait(struct broker_req *q)
{
	struct broker_req **qp;

	if (q->step != LOGIN_ADDRESS_WAIT)
		return;
	for (qp = &address_waiting; *qp != NULL; qp = &(*qp)->next_waiting)
		if (*qp == q) {
			*qp = q->next_waiting;
			break;
		}
	q->step = LOGIN_ADDRESS;
}

/* LOGIN_ADDRESS: the desktop's address, as its host last reported it. */
static void	address_got(PGresult *, const char *, void *);

static void
address_read(struct broker_req *q)
{
	const char *p[1] = { q->vm };

	if (!still_wanted(q))
		return;
	if (q->hooks->env->db == NULL || db_query(q->hooks->env->db,
	    DB_IDEMPOTENT, address_got, q, sql_login_address, 1, p) == -1)
		fail_internal(q, "address", "cannot query");
}

static void	address_poll(evutil_socket_t, short, void *);

static void
address_got(PGresult *res, const char *err, void *arg)
{
	struct broker_req *q = arg;
	struct timeval tv = { 0, ADDRESS_POLL_MS * 1000 };

	if (!still_wanted(q))
		return;
	if (err != NULL) {
		fail_internal(q, "address", err);
		return;
	}
	if (PQntuples(res) == 1 && PQgetvalue(res, 0, 0)[0] != '\0') {
		snprintf(q->address, sizeof(q->address), "%s",
		    PQgetvalue(res, 0, 0));
		snprintf(q->rdp_sha256, sizeof(q->rdp_sha256), "%s",
		    PQgetvalue(res, 0, 1));
		q->step = LOGIN_CREDENTIAL;
		login_advance(q);
		return;
	}
	/* The host's state report may follow its op's result: wait a little. */
	if (++q->polls >= ADDRESS_POLLS) {
		abandon(q, "no-address", "the desktop has no network address");
		return;
	}
	if (q->timer == NULL && (q->timer = evtimer_new(q->hooks->env->base,
	    address_poll, q)) == NULL) {
		fail_internal(q, "address", "no timer");
		return;
	}
	evtimer_add(q->timer, &tv);
	q->next_waiting = address_waiting;
	address_waiting = q;
	q->step = LOGIN_ADDRESS_WAIT;
}

static void
address_poll(evutil_socket_t fd, short what, void *arg)
{
	struct broker_req *q = arg;

	(void)fd;
	(void)what;
	address_unwait(q);
	login_advance(q);
}

void
login_vm_reported(const char *vm)
{
	struct broker_req *q, *next;

	for (q = address_waiting; q != NULL; q = next) {
		next = q->next_waiting;
		if (strcmp(q->vm, vm) != 0)
			continue;
		address_unwait(q);
		evtimer_del(q->timer);
		login_advance(q);
	}
}

/* LOGIN_CREDENTIAL: applied in the guest, or the login fails. */
static void	credential_done(const char *, const struct agent_result *,
		    void *);

static void
credential_send(struct broker_req *q)
{
	struct agent_op op;

	memset(&op, 0, sizeof(op));
	op.action = AGENT_A_CREDENTIAL;
	snprintf(op.vm, sizeof(op.vm), "%s", q->vm);
	memcpy(op.user, q->cred.user, sizeof(op.user));
	memcpy(op.password, q->cred.password, sizeof(op.password));
	if (ctrl_host_op(q->host, &op, 0, credential_done, q) == -1)
		abandon(q, "host-away", "the desktop's host is not connected");
	else {
		q->sent = true;
		tell(q, BROKER_P_CREDENTIAL);
	}
	sodium_memzero(&op, sizeof(op));
}

static void
credential_done(const char *host, const struct agent_result *res, void *arg)
{
	struct broker_req *q = arg;

	(void)host;
	if (!still_wanted(q))
		return;
	if (!res->ok) {
		log_warnx("broker: %s: credential not applied: %s %s", q->vm,
		    res->code, res->message);
		abandon(q, "credential-failed",
		    "the desktop did not take its credential");
		return;
	}
	q->step = LOGIN_ANSWER;
	login_advance(q);
}

/* LOGIN_ANSWER: the desktop, its credential and the session's lease. */
static void
answer(struct broker_req *q)
{
	struct broker_reply rep;
	struct broker_desktop *d = &rep.desktop;

	memset(&rep, 0, sizeof(rep));
	rep.type = BROKER_R_DESKTOP;
	snprintf(d->address, sizeof(d->address), "%s", q->address);
	d->port = (uint16_t)q->hooks->env->rdp_port;
	memcpy(d->rdp_user, q->cred.user, sizeof(q->cred.user));
	memcpy(d->rdp_password, q->cred.password, sizeof(q->cred.password));
	snprintf(d->cert_fingerprint, sizeof(d->cert_fingerprint), "%s",
	    q->rdp_sha256);
	snprintf(d->session, sizeof(d->session), "%s", q->session);
	memcpy(d->token, q->token, sizeof(q->token));
	d->lease_seconds = q->hooks->env->lease_s;
	log_info("broker: %s from %s: session %s on %s at %s", q->r.user,
	    q->peer, d->session, q->vm, d->address);
	q->hooks->reply(q, &rep);
	sodium_memzero(&rep, sizeof(rep));
}

void
login_end(struct broker_req *q)
{
	address_unwait(q);
	if (q->timer != NULL)
		event_free(q->timer);
	if (q->throttle != NULL)
		event_free(q->throttle);
	if (q->step == LOGIN_POWER)
		ctrl_power_give(q->host);
	credential_wipe(&q->cred);
}

static void
tell(struct broker_req *q, enum broker_progress step)
{
	if (!q->r.progress || (q->progress_told & (1u << step)) != 0)
		return;
	q->progress_told |= 1u << step;
	q->hooks->progress(q, step);
}

/* How a login ends early: the client gone, an error, a refusal. */

/* Whether the request may go on: not stopped meanwhile (a stop drops
 * every connection), client there. */
static bool
still_wanted(struct broker_req *q)
{
	if (q->conn != NULL && q->hooks->env->db != NULL)
		return true;
	/* Nobody to answer: the session, if opened, lapses with its lease. */
	if (q->session[0] != '\0')
		log_warnx("broker: session %s of %s opened for a client gone",
		    q->session, q->r.user);
	q->hooks->drop(q);
	return false;
}

static void
login_error(struct broker_req *q, enum broker_error code, const char *msg,
    unsigned retry_after, enum broker_reason reason)
{
	struct broker_reply rep;

	broker_reply_error(&rep, code, msg, retry_after, reason);
	q->hooks->reply(q, &rep);
}

static void
noted(PGresult *res, const char *err, void *arg)
{
	(void)res;
	if (err != NULL)
		log_warnx("broker: %s: %s", (const char *)arg, err);
}

static void
fail_internal(struct broker_req *q, const char *what, const char *err)
{
	log_warnx("broker: login of %s: %s: %s", q->r.user, what, err);
	login_error(q, BROKER_E_INTERNAL, "try again later", 0, 0);
}

static void
refuse(struct broker_req *q, const char *why, const char *msg,
    enum broker_reason reason)
{
	q->hooks->event("login-refused", q->r.user, q->peer, why);
	login_error(q, BROKER_E_NO_DESKTOP, msg, 0, reason);
}

/*
 * A step after the claim failed: the session ends (its desktop is then
 * released by the session module) and the user is told.
 */
static void
abandon_for(struct broker_req *q, const char *why, const char *msg,
    enum broker_reason reason)
{
	const char *p[4] = { q->session, why, q->from, NULL };
	struct db *db = q->hooks->env->db;

	log_warnx("broker: login of %s: %s %s: %s", q->r.user, q->vm,
	    q->host, why);
	/* A resumed session is the user's desktop still: it stays, for
	 * the next try, or its lease to end it. */
	if (q->resumed) {
		refuse(q, why, msg, reason);
		return;
	}
	if (!q->sent)
		p[3] = claim_marked(q->from);
	if (db != NULL && p[3] != NULL)
		db_query(db, DB_IDEMPOTENT, noted, "session not ended",
		    sql_login_abandon_unsent, 4, p);
	else if (db != NULL)
		db_query(db, DB_IDEMPOTENT, noted, "session not ended",
		    sql_login_abandon, 2, p);
	refuse(q, why, msg, reason);
}

static void
abandon(struct broker_req *q, const char *why, const char *msg)
{
	abandon_for(q, why, msg, BROKER_NR_BOOT_FAILED);
}

/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * controller/login.h — a login, from the password to the desktop's answer
 * (controller/login.c, xvds-broker(7)), run for the broker
 * (controller/broker.c), which hands each login its request and the ways to
 * answer it: the login never calls the broker by name.  The request is
 * defined here, where most of it is the login's; the broker fills its
 * first members.
 */
#ifndef XVDS_CONTROLLER_LOGIN_H
#define XVDS_CONTROLLER_LOGIN_H

#include <netinet/in.h>

#include <stdbool.h>
#include <stdint.h>

#include "agent/msg.h"
#include "common/broker_msg.h"
#include "common/credential.h"
#include "common/passwd.h"
#include "common/ratelimit.h"

struct broker_req;
struct broker_reply;
struct db;
struct event_base;
struct passwd_pool;

/*
 * The steps of a login, in the order it runs them (controller/login.c);
 * each async step's completion sets the next one.  A request that is no
 * login stays at LOGIN_ADMIT, which holds nothing.
 */
enum login_step {
	LOGIN_ADMIT,		/* the rate limits, then the user's row asked */
	LOGIN_PASSWORD,		/* argon2id's verdict awaited from a worker */
	LOGIN_RESUME,		/* the user's open session looked for */
	LOGIN_CLAIM_CVM,	/* a CVM of a pool taken, its session opened */
	LOGIN_FIND_PVM,		/* the user's PVM looked at */
	LOGIN_CLAIM_PVM,	/* that PVM taken if still as seen */
	LOGIN_WAKE,		/* what the desktop needs to come up */
	LOGIN_DEFINE,		/* a define sent, its result awaited */
	LOGIN_THROTTLED,	/* a power slot awaited (controller/power.h) */
	LOGIN_POWER,		/* unpause, restore, start sent; a slot held */
	LOGIN_ADDRESS,		/* the desktop's address read */
	LOGIN_ADDRESS_WAIT,	/* its host's report, or next poll, awaited */
	LOGIN_CREDENTIAL,	/* the one-time credential sent */
	LOGIN_ANSWER,		/* the desktop answered */
};

/*
 * The broker's state its logins run on, all NULL and 0 while it is
 * stopped.
 */
struct login_env {
	struct db	*db;
	struct event_base *base;
	struct passwd_pool *pwpool;	/* argon2id off the loop */
	unsigned	 lease_s;	/* controller.conf session-lease */
	unsigned	 rdp_port;	/* controller.conf rdp-port */
};

/*
 * What the broker lends its logins: its state, live (the broker's own, not
 * a copy), and functions that stay valid for good.
 */
struct login_hooks {
	const struct login_env *env;
	/* Sends the reply on the request's connection and frees it. */
	void	(*reply)(struct broker_req *, const struct broker_reply *);
	/* Tells the client, if it asked (xvds-broker(7)), that its login is
	 * at a step that takes time; the request stays the login's. */
	void	(*progress)(struct broker_req *, enum broker_progress);
	/* Frees a request that nobody is left to answer. */
	void	(*drop)(struct broker_req *);
	/* An event of the broker's: kind, subject (a user), the client, why. */
	void	(*event)(const char *kind, const char *subject,
		    const char *peer, const char *why);
	/*
	 * The rate limits: 0 and the attempt counted in flight, or the
	 * seconds to wait; then its verdict, once (drop settles one left
	 * undecided).
	 */
	unsigned (*admit)(struct broker_req *);
	void	(*settle)(struct broker_req *, enum ratelimit_verdict);
};

struct bconn;
struct event;

/* A request under way: the broker's connection and message, then its
 * login's. */

struct broker_req {
	struct bconn	*conn;		/* NULL: orphaned, answer dropped */
	struct broker_request r;
	char		 addr[RATELIMIT_KEY_MAX + 1];	/* the rate limit's key */
	char		 peer[INET6_ADDRSTRLEN + 8];	/* for the events */
	/* Admitted by the rate limits (common/ratelimit.h), not yet settled. */
	bool		 rl_held;
	unsigned	 rl_gen;	/* of the limits it was admitted by */
	struct ratelimit_ticket rl_ticket;
	/* login (controller/login.c) */
	const struct login_hooks *hooks;
	enum login_step	 step;
	int64_t		 user_id;
	bool		 user_known;	/* its row found */
	char		 pwhash[PASSWD_HASH_MAX];	/* until checked */
	bool		 disabled;
	char		 pool[BROKER_POOL_MAX + 1];
	struct credential cred;
	char		 token[CREDENTIAL_TOKEN_LEN + 1];
	char		 session[24];	/* opened (or resumed) */
	char		 vm[AGENT_VM_MAX + 1];
	char		 host[AGENT_HOST_MAX + 1];
	char		 template[AGENT_TMPL_MAX + 1];	/* "" or a define due */
	enum vm_kind	 define_kind;	/* of that define */
	char		 tmpl_name[AGENT_TMPL_MAX + 1];	/* the VM's template */
	unsigned	 mem_mib;	/* the VM's memory */
	int		 relocated;	/* a Saved CVM moved to another host */
	char		 relocate_why[64];	/* why not on its own */
	char		 left[AGENT_HOST_MAX + 1];	/* its host before */
	char		 from[16];	/* the VM's state when claimed */
	char		 address[BROKER_ADDRESS_MAX + 1];
	char		 rdp_sha256[BROKER_FINGERPRINT_LEN + 1];	/* or "" */
	unsigned	 polls;		/* LOGIN_ADDRESS: looks so far */
	struct event	*timer;		/* LOGIN_ADDRESS_WAIT */
	struct broker_req *next_waiting;	/* LOGIN_ADDRESS_WAIT: for its
						   host's report */
	unsigned	 waits;		/* LOGIN_THROTTLED: looks so far */
	struct event	*throttle;	/* LOGIN_THROTTLED */
	bool		 resumed;	/* the user's open session, not a new one */
	bool		 sent;		/* an op went to the host: the VM may
					   have changed, a release is owed */
	unsigned	 progress_told;	/* 1 << enum broker_progress, each
					   told once at most */
};

/* Runs the login of q, which it answers through hooks, and so frees. */
void	login_begin(struct broker_req *q, const struct login_hooks *hooks);
/* Lets go what q's login holds (its timers, power slot, credential):
 * for the broker freeing q. */
void	login_end(struct broker_req *q);
/*
 * A host's report about vm is in the database: a login waiting for that
 * desktop's address looks again now rather than at its next poll.  For
 * the agents' side (ctrl_agent_on_vm_reported, controller/agent.h).
 */
void	login_vm_reported(const char *vm);

#endif

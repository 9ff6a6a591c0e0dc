/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * controller/broker_priv.h — what the broker's connections
 * (controller/broker.c) and its logins (controller/login.c) share: a request
 * under way.  The broker makes it and hands a login request to
 * controller/login.h with the ways to answer it.  Not for the rest of the
 * controller.
 */
#ifndef XVDS_CONTROLLER_BROKER_PRIV_H
#define XVDS_CONTROLLER_BROKER_PRIV_H

#include <netinet/in.h>

#include <stdbool.h>
#include <stdint.h>

#include "agent/msg.h"
#include "common/broker_msg.h"
#include "common/credential.h"
#include "common/passwd.h"
#include "common/ratelimit.h"
#include "controller/login.h"

struct bconn;
struct event;

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
};

#endif

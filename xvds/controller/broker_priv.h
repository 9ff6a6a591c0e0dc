/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * controller/broker_priv.h — what the broker's connections
 * (controller/broker.c) and its logins (controller/login.c) share: a request
 * under way and the ways to answer it.  Not for the rest of the controller.
 */
#ifndef XVDS_CONTROLLER_BROKER_PRIV_H
#define XVDS_CONTROLLER_BROKER_PRIV_H

#include <netinet/in.h>

#include <stdbool.h>
#include <stdint.h>

#include "agent/msg.h"
#include "common/broker_msg.h"
#include "common/credential.h"
#include "common/ratelimit.h"

struct bconn;
struct event;
struct passwd_pool;

/* Where a login is, once the user is known (controller/login.c). */
enum login_step {
	LOGIN_AUTH,		/* the user's row, the password */
	LOGIN_CLAIM,		/* a desktop being chosen and its session opened */
	LOGIN_WAKE,		/* unpause, restore, or define and start */
	LOGIN_ADDRESS,		/* the desktop's address awaited */
	LOGIN_CREDENTIAL,	/* the one-time credential on its way in */
};

struct breq {
	struct bconn	*conn;		/* NULL: orphaned, answer dropped */
	struct broker_request r;
	char		 addr[RATELIMIT_KEY_MAX + 1];	/* the rate limit's key */
	char		 peer[INET6_ADDRSTRLEN + 8];	/* for the events */
	/* Admitted by the rate limits (common/ratelimit.h), not yet settled. */
	bool		 rl_held;
	unsigned	 rl_gen;	/* of the limits it was admitted by */
	struct ratelimit_ticket rl_ticket;
	/* login */
	enum login_step	 step;
	int64_t		 user_id;
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
	struct event	*timer;		/* LOGIN_ADDRESS */
	struct breq	*next_waiting;	/* LOGIN_ADDRESS: for its host's report */
	int		 waiting;
	unsigned	 waits;		/* LOGIN_WAKE: for a power slot */
	struct event	*throttle;	/* LOGIN_WAKE */
	int		 powered;	/* holds a power slot on host */
	int		 resumed;	/* the user's open session, not a new one */
	int		 sent;		/* an op went to the host: the VM may
					   have changed, a release is owed */
};

/* controller/broker.c */
struct db *broker_db(void);
struct event_base *broker_base(void);
unsigned broker_lease_s(void);
struct passwd_pool *broker_passwd_pool(void);
int	 broker_active(void);	/* not stopped since the request came */
/* Sends the reply and frees q; the connection takes its next request. */
void	 breq_reply(struct breq *, const struct broker_reply *);
void	 breq_error(struct breq *, enum broker_error, const char *msg,
	    unsigned retry_after, enum broker_reason);
void	 breq_free(struct breq *);
/* An event of the broker's: kind, subject (a user), the client, why. */
void	 broker_event(const char *kind, const char *subject, const char *peer,
	    const char *why);
/*
 * The rate limits: 0 and the attempt counted in flight, or the seconds to
 * wait; then its verdict, once (breq_free settles one left undecided).
 */
unsigned broker_ratelimit_admit(struct breq *);
void	 broker_ratelimit_settle(struct breq *, enum ratelimit_verdict);

/* controller/login.c */
void	 login_begin(struct breq *);
/* Out of the logins waiting for an address (breq_free). */
void	 login_forget(struct breq *);

#endif

/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * agent/msg.h — the messages of the agent channel between each host's
 * xvdsd (the agent) and the controller (xvds-agent(7)): one JSON object
 * per line, at most AGENT_MSG_MAX bytes.  The codec only: no I/O, so that
 * the unit tests and the fuzzer take it alone; agent/tls.c carries it.
 */
#ifndef XVDS_AGENT_MSG_H
#define XVDS_AGENT_MSG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/credential.h"
#include "common/template.h"
#include "common/vm_fsm.h"

#define AGENT_PROTO_VERSION	1
#define AGENT_MSG_MAX		65536	/* one line, its newline included */
/* Host names (a certificate's CN) follow the VM names' rule. */
#define AGENT_HOST_MAX		VMSPEC_NAME_MAX
#define AGENT_VM_MAX		VMSPEC_NAME_MAX
#define AGENT_TMPL_MAX		TEMPLATE_NAME_MAX
#define AGENT_HV_MAX		47	/* "xen 4.17.7", "simulated" */
#define AGENT_PEER_MAX		255	/* "address[:port]", "[v6]:port" */
#define AGENT_ADDR_MAX		45	/* an IPv4 or IPv6 address, no port */
#define AGENT_BOOT_ID_LEN	32	/* hex, or "" */
#define AGENT_SHA256_LEN	64	/* hex, or "" */
#define AGENT_CODE_MAX		31	/* error codes: [a-z0-9-] */
#define AGENT_TEXT_MAX		255	/* error messages */
#define AGENT_SAMPLE_VMS_MAX	400	/* VMs in one sample (the scale target
					   is 100); the longest 400 take 52 KB
					   of a line */
#define AGENT_ID_MAX		((int64_t)1 << 53)	/* exact in any JSON reader */
#define AGENT_DOMID_MAX		0x7fef	/* Xen's DOMID_FIRST_RESERVED - 1 */
#define AGENT_NODOMAIN		UINT32_MAX
#define AGENT_RESYNC_MAX	65536	/* states in one resync */

enum agent_msg_type {
	AGENT_M_HELLO,		/* agent: who it is and what it has */
	AGENT_M_WELCOME,	/* controller: accepted */
	AGENT_M_SAMPLE,		/* agent: host and VM figures */
	AGENT_M_STATE,		/* agent: a VM changed state */
	AGENT_M_OP,		/* controller: do this to a VM */
	AGENT_M_RESULT,		/* agent: how an op ended */
	AGENT_M_PING,		/* either side */
	AGENT_M_PONG,
	AGENT_M_RESYNCED,	/* agent: every VM's state has been sent */
	AGENT_M__COUNT,
};

enum agent_action {
	AGENT_A_START,
	AGENT_A_PAUSE,
	AGENT_A_UNPAUSE,
	AGENT_A_SAVE,
	AGENT_A_RESTORE,
	AGENT_A_RESET,
	AGENT_A_SHUTDOWN,
	AGENT_A_DESTROY,
	AGENT_A_MIGRATE,	/* args: host, live */
	AGENT_A_SET,		/* args: vcpus and/or memory_mib */
	AGENT_A_DEFINE,		/* args: template, kind */
	AGENT_A_CREDENTIAL,	/* args: user, password (into the guest) */
	AGENT_A_FORGET,		/* the host's record of a VM elsewhere */
	AGENT_A__COUNT,
};

extern const char *const agent_msg_names[];
extern const char *const agent_action_names[];

struct agent_hello {
	unsigned	 v;
	char		 host[AGENT_HOST_MAX + 1];
	unsigned	 cpus;
	uint64_t	 memory_mib;
	char		 hypervisor[AGENT_HV_MAX + 1];
};

struct agent_welcome {
	unsigned	 v;
	char		 host[AGENT_HOST_MAX + 1];	/* as the controller knows it */
	unsigned	 sample_s;	/* how often to sample (MIGRATE_TERM) */
};

struct agent_vm_sample {
	char		 vm[AGENT_VM_MAX + 1];
	double		 cpu_pct;	/* 100 = one CPU busy */
	uint64_t	 memory_mib;
};

/* The host figures are struct host_view's (hostd/xvdsd.h). */
struct agent_sample {
	int64_t		 time;		/* seconds since the epoch */
	unsigned	 rvm, tcpu, fcpu, acpu;
	uint64_t	 tmem_mib, fmem_mib;
	size_t		 nvms;
	struct agent_vm_sample *vms;	/* owned; agent_msg_clear frees */
};

struct agent_state {
	char		 vm[AGENT_VM_MAX + 1];
	enum vm_state	 state;
	uint32_t	 domid;		/* AGENT_NODOMAIN: none (null) */
	char		 boot_id[AGENT_BOOT_ID_LEN + 1];
	char		 addr[AGENT_ADDR_MAX + 1];
	/* The SHA-256 of the desktop's RDP certificate, or "". */
	char		 rdp_sha256[AGENT_SHA256_LEN + 1];
};

struct agent_op {
	int64_t		 id;		/* 1 .. AGENT_ID_MAX */
	char		 vm[AGENT_VM_MAX + 1];
	enum agent_action action;
	/* Arguments, by action; zero where they do not apply. */
	char		 host[AGENT_PEER_MAX + 1];	/* migrate */
	bool		 live;				/* migrate */
	unsigned	 vcpus;				/* set: 0 unchanged */
	uint64_t	 memory_mib;			/* set: 0 unchanged */
	char		 template[AGENT_TMPL_MAX + 1];	/* define */
	enum vm_kind	 kind;				/* define */
	char		 user[CREDENTIAL_USER_LEN + 1];		/* credential */
	char		 password[CREDENTIAL_PASSWORD_LEN + 1];	/* credential */
};

struct agent_result {
	int64_t		 id;
	bool		 ok;
	char		 code[AGENT_CODE_MAX + 1];	/* "" when ok */
	char		 message[AGENT_TEXT_MAX + 1];	/* "" when ok */
};

struct agent_msg {
	enum agent_msg_type type;
	union {
		struct agent_hello	hello;
		struct agent_welcome	welcome;
		struct agent_sample	sample;
		struct agent_state	state;
		struct agent_op		op;
		struct agent_result	result;
		int64_t			seq;	/* ping, pong */
		uint32_t		resynced;	/* states sent */
	} u;
};

/*
 * Decodes one line (without its newline).  Strict: duplicate or unknown
 * members, missing ones, wrong types, values out of range or names out of
 * their charset are refused with -1 and a reason in err.  0 on success;
 * then agent_msg_clear() frees what the message holds.  A hello of
 * another version is refused with *err naming the version, and
 * *version_r (if not NULL) set to it, so that the controller may say so.
 */
int	agent_msg_decode(const char *line, size_t len, struct agent_msg *,
	    unsigned *version_r, char *err, size_t errlen);
/*
 * Encodes a message as one line, newline not included (malloc'd).  What
 * it would not decode itself it refuses: NULL with the reason in err.
 * A credential op's line holds the password: wipe it (sodium_memzero)
 * before freeing it.  The codec wipes its own copies (the JSON trees),
 * and agent_msg_clear the message.
 */
char	*agent_msg_encode(const struct agent_msg *, char *err, size_t errlen);
void	 agent_msg_clear(struct agent_msg *);	/* wipes too */
bool	 agent_msg_equal(const struct agent_msg *, const struct agent_msg *);

/* Names' rules (common/template.h), for the transport's check of a CN. */
bool	 agent_host_name_ok(const char *);
bool	 agent_vm_name_ok(const char *);

#endif

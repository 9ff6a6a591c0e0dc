/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * hostd/migrate.h — live migration between two xvdsd: the connection, its
 * authentication and the two-phase handshake (xvdsd(8), MIGRATION).
 *
 * The sender offers the VM; the receiver accepts it, builds a paused copy
 * from the domain's stream and says "ready"; the sender makes the commit
 * point durable and says "go"; the receiver makes "committed" durable,
 * unpauses and says "done"; the sender destroys its copy.  Before the
 * receiver has "go" the sender's copy is the one; after it, the
 * receiver's.  A sender that said "go" and heard nothing back keeps its
 * copy suspended and asks the receiver later (migrate_ask) — never
 * resuming it on a guess.
 *
 * hostd/migrate.c owns sockets and protocol; the VMs' side
 * (hostd/vm_migrate.c) owns the VMs and decides: the sender's through the
 * callbacks of migrate_send and migrate_ask, the receiver's through the
 * hooks it hands migrate_init, since this file sits below it.
 */
#ifndef XVDS_HOSTD_MIGRATE_H
#define XVDS_HOSTD_MIGRATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/report.h"
#include "common/template.h"
#include "common/vm_fsm.h"
#include "common/vmspec.h"

struct event_base;
struct hv;
struct conf_settings;

#define MIGRATE_PROTO_VERSION	1
#define MIGRATE_MSG_MAX		4096	/* one JSON line, newline included */
/* Names the two copies carry while both exist on one host (as xl's). */
#define MIGRATE_SUFFIX_IN	"--incoming"
#define MIGRATE_SUFFIX_OUT	"--migratedaway"
/* The longest VM name that can migrate: the suffixes must still fit. */
#define MIGRATE_NAME_MAX	(VMSPEC_NAME_MAX - (sizeof(MIGRATE_SUFFIX_OUT) - 1))
#define MIGRATE_PEER_MAX	255	/* "address", "address:port", "[v6]:port" */

/* What the sender says of the VM it offers. */
struct migrate_offer {
	char		 name[VMSPEC_NAME_MAX + 1];
	char		 pool[TEMPLATE_NAME_MAX + 1];
	char		 template[TEMPLATE_NAME_MAX + 1];
	enum vm_kind	 kind;
	enum vm_state	 state;		/* ready or running, where it goes on */
	unsigned	 vcpus;		/* 0: the template's */
	uint64_t	 memory_mib;	/* 0: the template's */
	char		 boot_id[REPORT_BOOT_ID_LEN + 1];
	bool		 live;
};

/* How a migration ended, for the sender. */
enum migrate_outcome {
	MIGRATE_MOVED,		/* the receiver runs it: destroy the copy here */
	MIGRATE_STAYED,		/* nothing left there; the copy here runs on */
	MIGRATE_STAYED_SUSPENDED,	/* the same, but resume the copy here */
	MIGRATE_UNKNOWN,	/* "go" said, no answer: keep it, ask later */
};

/* What a receiver says it has of a VM (the answer to migrate_ask). */
enum migrate_has {
	MIGRATE_HAS_IT,		/* committed: it runs there */
	MIGRATE_HAS_NOT,	/* never had it, or gave it up */
	MIGRATE_HAS_UNSURE,	/* still arriving, or no answer: ask again */
};

extern const char *const migrate_has_names[];

/*
 * The receiving side's VM.  offer makes an incoming VM (or refuses, with
 * msg) and fills the spec to build its paused copy under a temporary name;
 * arrived adopts that copy; commit makes "go" durable and unpauses it (0,
 * or -1 if it could not be made durable); abort destroys what arrived and
 * forgets the VM; has says what this host has of a VM, for a sender that
 * lost its answer.
 */
struct vm_spec;
struct migrate_hooks {
	int	(*offer)(const struct migrate_offer *, const char *peer,
		    struct vm_spec *, char *msg, size_t msglen);
	void	(*arrived)(const char *name, uint32_t domid);
	int	(*commit)(const char *name);
	void	(*abort)(const char *name, const char *why);
	enum migrate_has (*has)(const char *name);
};

/*
 * Opens the listener and reads the key (common/conf.h, migration { }).  Without
 * a usable key file migration is disabled and says why when asked; that
 * is logged, not fatal.  -1 only if the listener cannot be opened.  The
 * hooks are kept until migrate_shutdown.
 */
int	migrate_init(struct event_base *, struct hv *, const struct conf_settings *,
	    const struct migrate_hooks *);
/* SIGHUP: the key is read again; a new address or port reopens the listener. */
void	migrate_reload(const struct conf_settings *);
/* Closes everything; migrations under way end as if the peer vanished. */
void	migrate_shutdown(void);

/*
 * Sender.  commit is called once the receiver holds a paused copy, just
 * before "go": it makes the commit point durable and returns 0, or -1 to
 * give up (the receiver is told).  done is called exactly once, from the
 * loop.  Returns 0 if started, else -1 with msg filled and no callback.
 */
typedef int (*migrate_commit_cb)(void *arg);
typedef void (*migrate_done_cb)(void *arg, enum migrate_outcome, const char *msg);
int	migrate_send(const struct migrate_offer *, const char *peer, uint32_t domid,
	    migrate_commit_cb, migrate_done_cb, void *arg, char *msg, size_t msglen);

/* Asks peer what it has of the VM; cb once, from the loop.  0 or -1. */
typedef void (*migrate_ask_cb)(void *arg, enum migrate_has);
int	migrate_ask(const char *peer, const char *name, migrate_ask_cb, void *arg);

/* Parses "host", "host:port" or "[v6]:port"; port defaults to deflt. */
int	migrate_parse_peer(const char *peer, char *host, size_t hostlen,
	    uint16_t *port_r, uint16_t deflt);

/*
 * The offer as it travels, and back; the decoder checks every field and
 * says what is wrong in msg.  Exposed for the unit tests and the fuzzer.
 */
char	*migrate_offer_encode(const struct migrate_offer *);
int	migrate_offer_decode(const char *line, size_t len, struct migrate_offer *,
	    char *msg, size_t msglen);

#endif

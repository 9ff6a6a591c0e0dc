/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * common/report.h — the guest report protocol, version 1: what xvds-guestd
 * writes under its domain's xenstore data/ area and how dom0 reads it back.
 * Shared by the guest agent (format) and dom0 (parse, validate).
 * Documented for operators in xvds-guestd(8), "PROTOCOL"; keep them equal.
 *
 * Every record is one xenstore value: fields "key=value" separated by
 * single spaces, the first field always "v=<protocol version>".
 *
 *   data/xvds/boot-complete  v=1 boot=<32 hex> time=<unix s> agent=<version>
 *                            [rdp=<64 hex>]
 *   data/xvds/addrs          v=1 boot=<32 hex> seq=<n> [ip=<if>,<addr>/<len> ...]
 *   data/xvds/session        v=1 boot=<32 hex> seq=<n> state=<active|none>
 *   data/xvds/credential     v=1 boot=<32 hex> seq=<n> state=<applied|failed>
 *
 * and one record the other way, which dom0 writes outside data/ (the
 * guest may read it, not write it) and removes once acknowledged:
 *
 *   xvds/credential          v=1 seq=<n> user=<name> password=<secret>
 *
 * Everything a guest writes is hostile input: the parsers accept only the
 * grammar below, bounded in size, and say precisely why they refuse.
 */
#ifndef XVDS_COMMON_REPORT_H
#define XVDS_COMMON_REPORT_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#define REPORT_VERSION		1
#define REPORT_DIR		"data/xvds"	/* relative to /local/domain/<id> */
#define REPORT_KEY_BOOT		"boot-complete"
#define REPORT_KEY_ADDRS	"addrs"
#define REPORT_KEY_SESSION	"session"
#define REPORT_KEY_CREDENTIAL	"credential"	/* the guest's acknowledgement */
/* dom0's one-time credential for the guest, relative to /local/domain/<id>. */
#define REPORT_SECRET_DIR	"xvds"
#define REPORT_SECRET_PATH	REPORT_SECRET_DIR "/credential"

#define REPORT_BOOT_MAX		256	/* bytes in a boot-complete value */
#define REPORT_ADDRS_MAX	2048	/* bytes in an addrs value */
#define REPORT_SESSION_MAX	256	/* bytes in a session value */
#define REPORT_CREDENTIAL_MAX	256	/* bytes in a credential acknowledgement */
#define REPORT_SECRET_MAX	256	/* bytes in dom0's credential record */
#define REPORT_SECRET_USER_MAX	32	/* Linux's user name limit */
#define REPORT_SECRET_PASS_MAX	64
#define REPORT_FIELDS_MAX	32	/* fields in any record */
#define REPORT_ADDRS_N		16	/* addresses in one addrs record */
#define REPORT_BOOT_ID_LEN	32	/* lowercase hex digits */
#define REPORT_AGENT_MAX	32	/* characters of the agent's version */
#define REPORT_SHA256_LEN	64	/* lowercase hex digits */
#define REPORT_IFNAME_MAX	15	/* Linux IFNAMSIZ - 1 */
#define REPORT_ERR_MAX		160	/* size of an error message buffer */
/* Largest seq and time accepted: 2^53, exact in a JSON number. */
#define REPORT_INT_MAX		9007199254740992ULL

struct report_boot {
	unsigned	 version;
	char		 boot_id[REPORT_BOOT_ID_LEN + 1];
	int64_t		 time;
	char		 agent[REPORT_AGENT_MAX + 1];
	/* The SHA-256 of the RDP server's certificate (DER), or "". */
	char		 rdp_sha256[REPORT_SHA256_LEN + 1];
};

struct report_addr {
	char		 ifname[REPORT_IFNAME_MAX + 1];
	int		 family;		/* AF_INET or AF_INET6 */
	unsigned char	 addr[16];		/* network byte order */
	unsigned	 prefix;
};

struct report_addrs {
	unsigned	 version;
	char		 boot_id[REPORT_BOOT_ID_LEN + 1];
	uint64_t	 seq;
	size_t		 n;
	struct report_addr addr[REPORT_ADDRS_N];
};

/* Whether a desktop session (an RDP connection) is on in the guest. */
struct report_session {
	unsigned	 version;
	char		 boot_id[REPORT_BOOT_ID_LEN + 1];
	uint64_t	 seq;
	int		 active;
};

/* The guest's answer to dom0's credential record of the same seq. */
struct report_credential {
	unsigned	 version;
	char		 boot_id[REPORT_BOOT_ID_LEN + 1];
	uint64_t	 seq;
	int		 applied;	/* 0: the guest failed to apply it */
};

/*
 * dom0's credential record.  The grammar takes letters, digits and '-'
 * only (common/credential.h's alphabets are narrower: its users check them).
 * It holds a password: wipe it, and the buffers it is formatted into.
 */
struct report_secret {
	unsigned	 version;
	uint64_t	 seq;
	char		 user[REPORT_SECRET_USER_MAX + 1];
	char		 password[REPORT_SECRET_PASS_MAX + 1];
};

/* Scope of an address, in the order dom0 prefers to reach a guest. */
enum report_scope {
	REPORT_SCOPE_GLOBAL4,
	REPORT_SCOPE_GLOBAL6,
	REPORT_SCOPE_LINK,	/* IPv4 169.254/16, IPv6 fe80::/10 */
	REPORT_SCOPE_HOST,	/* loopback, unspecified, multicast */
};

/*
 * Formatting: returns the length written (without the NUL) or -1 if the
 * record does not fit in len bytes or is itself invalid.
 */
int	report_boot_format(const struct report_boot *, char *, size_t);
int	report_addrs_format(const struct report_addrs *, char *, size_t);
int	report_session_format(const struct report_session *, char *, size_t);
int	report_credential_format(const struct report_credential *, char *, size_t);
int	report_secret_format(const struct report_secret *, char *, size_t);

/*
 * Parsing of a value of len bytes as read from xenstore (not necessarily
 * NUL-terminated).  Returns 0, or -1 with a reason in err.
 */
int	report_boot_parse(const char *, size_t, struct report_boot *, char *, size_t);
int	report_addrs_parse(const char *, size_t, struct report_addrs *, char *, size_t);
int	report_session_parse(const char *, size_t, struct report_session *, char *,
	    size_t);
int	report_credential_parse(const char *, size_t, struct report_credential *,
	    char *, size_t);
/* Never quotes the value in err. */
int	report_secret_parse(const char *, size_t, struct report_secret *, char *,
	    size_t);

/*
 * dom0's checks beyond the grammar.  A boot record is stale if its time is
 * before not_before or more than max_skew seconds ahead of now; old_boot_id,
 * if not NULL, is the previous boot's identifier, which must have changed.
 */
int	report_boot_check(const struct report_boot *, time_t now, time_t not_before,
	    unsigned max_skew, const char *old_boot_id, char *, size_t);

enum report_scope report_addr_scope(const struct report_addr *);
/* "eth0,10.0.0.2/24"; buf needs REPORT_ADDR_STRLEN bytes. */
#define REPORT_ADDR_STRLEN	(REPORT_IFNAME_MAX + 1 + 46 + 4 + 1)
const char *report_addr_str(const struct report_addr *, char *, size_t);
/* Just the address, for connecting to it. */
const char *report_addr_ntop(const struct report_addr *, char *, size_t);
/* Orders addresses by scope (stable), so that the best comes first. */
void	report_addrs_sort(struct report_addrs *);
/* Index of the address dom0 should use to reach the guest, or -1. */
int	report_addrs_pick(const struct report_addrs *);

#endif

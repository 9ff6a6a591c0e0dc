/*
 * reportwatch.h — dom0's watch over the guests' report records in xenstore.
 * For each domain added, it watches /local/domain/<id>/data/xvds, reads and
 * validates the records whenever they change, and calls back with what it
 * accepted or refused.  Poll reportwatch_fd(); call reportwatch_dispatch()
 * when it is readable.
 */
#ifndef XVDS_REPORTWATCH_H
#define XVDS_REPORTWATCH_H

#include <stdint.h>
#include <time.h>

#include "report.h"

enum reportwatch_event {
	REPORTWATCH_BOOT,	/* a new valid boot-complete record */
	REPORTWATCH_ADDRS,	/* a new valid addrs record (boot is valid too) */
	REPORTWATCH_REJECTED,	/* a record was refused; reason says why */
	REPORTWATCH_GONE,	/* a record that was valid has been removed */
};

struct reportwatch_state {
	uint32_t	 domid;
	int		 have_boot;	/* boot holds a valid record */
	int		 have_addrs;	/* addrs holds a valid record */
	struct report_boot boot;
	struct report_addrs addrs;
};

/*
 * key is REPORT_KEY_BOOT or REPORT_KEY_ADDRS; reason is NULL unless
 * rejected.  A callback must not add or remove domains.
 */
typedef void (*reportwatch_cb)(void *arg, enum reportwatch_event,
    const char *key, const struct reportwatch_state *, const char *reason);

struct reportwatch;

/* max_skew: seconds a guest's clock may be ahead of dom0's. */
struct reportwatch *reportwatch_open(reportwatch_cb, void *arg, unsigned max_skew);
void	reportwatch_close(struct reportwatch *);
int	reportwatch_fd(struct reportwatch *);
/*
 * Starts watching a domain.  not_before is when the domain started (0 if
 * not known); old_boot_id, if not NULL, is a previous boot's identifier
 * that a new record must not carry.
 */
int	reportwatch_add(struct reportwatch *, uint32_t domid, time_t not_before,
	    const char *old_boot_id);
int	reportwatch_remove(struct reportwatch *, uint32_t domid);
const struct reportwatch_state *reportwatch_get(struct reportwatch *, uint32_t domid);
/* The domains watched: fills up to max ids, returns how many there are. */
size_t	reportwatch_domains(struct reportwatch *, uint32_t *ids, size_t max);
/* Handles the pending watch events; -1 if the xenstore connection failed. */
int	reportwatch_dispatch(struct reportwatch *);

#endif

/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * probe/main.c — xvds-probe, dom0's diagnostic view of the hypervisor and of
 * the guests' reports: lists domains through libxl, watches and validates
 * what guests write through xvds-guestd, and waits for a guest's boot to
 * complete.  The lab tests drive XVDS through it; see xvds-probe(8).
 */
#include <config.h>

#include <sys/signalfd.h>

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "hv/hv.h"
#include "common/log.h"
#include "hv/reportwatch.h"

#define DEFAULT_SKEW	300	/* seconds a guest's clock may run ahead */
#define RESCAN_MS	1000	/* how often watch looks for new domains */

struct probe {
	struct hv	*hv;
	struct reportwatch *rw;
	bool		 all;		/* watch: follow every guest domain */
	bool		 print_events;	/* watch: every event on stdout */
	uint32_t	 wait_domid;	/* wait-boot: the domain awaited */
	bool		 done;
};

static void
print_usage(FILE *f)
{
	fprintf(f,
	    "usage: xvds-probe [-hv] list [--json]\n"
	    "       xvds-probe [-v] watch [-s skew] [-t seconds] [domid ...]\n"
	    "       xvds-probe [-v] wait-boot [-s skew] [-t seconds] [-x old-boot-id] domid\n");
}

static _Noreturn void
usage(void)
{
	print_usage(stderr);
	exit(2);
}

static int
parse_u32(const char *s, uint32_t *v_r)
{
	char	*end;
	unsigned long v;

	errno = 0;
	v = strtoul(s, &end, 10);
	if (s[0] < '0' || s[0] > '9' || *end != '\0' || errno != 0 ||
	    v > UINT32_MAX)
		return -1;
	*v_r = (uint32_t)v;
	return 0;
}

static uint32_t
arg_u32(const char *what, const char *s)
{
	uint32_t v;

	if (parse_u32(s, &v) == -1)
		fatalx("%s: not a number: %s", what, s);
	return v;
}

static const char *
domain_name(struct probe *p, uint32_t domid, char *buf, size_t len)
{
	struct hv_domain *list;
	size_t	 n, i;

	snprintf(buf, len, "-");
	if (hv_list_domains(p->hv, &list, &n) == -1)
		return buf;
	for (i = 0; i < n; i++)
		if (list[i].domid == domid)
			snprintf(buf, len, "%s", list[i].name);
	free(list);
	return buf;
}

static void
print_addrs(const struct report_addrs *a)
{
	char	 ip[REPORT_ADDR_STRLEN];
	size_t	 i;

	for (i = 0; i < a->n; i++)
		printf(" %s", report_addr_str(&a->addr[i], ip, sizeof(ip)));
}

static void
on_report(void *arg, enum report_event ev, const char *key,
    const struct report_domain *st, const char *reason)
{
	struct probe *p = arg;
	char	 name[64];

	if (ev == REPORT_EV_REJECTED)
		log_warnx("domain %" PRIu32 " (%s): %s record rejected: %s",
		    st->domid, domain_name(p, st->domid, name, sizeof(name)),
		    key, reason);
	if (!p->print_events)
		goto out;
	switch (ev) {
	case REPORT_EV_BOOT:
		printf("domain %" PRIu32 " boot-complete ok boot=%s time=%" PRId64
		    " agent=%s\n", st->domid, st->boot.boot_id, st->boot.time,
		    st->boot.agent);
		break;
	case REPORT_EV_ADDRS:
		printf("domain %" PRIu32 " addrs ok seq=%" PRIu64, st->domid,
		    st->addrs.seq);
		print_addrs(&st->addrs);
		printf("\n");
		break;
	case REPORT_EV_SESSION:
		printf("domain %" PRIu32 " session ok seq=%" PRIu64 " state=%s\n",
		    st->domid, st->session.seq, st->session.active ? "active" :
		    "none");
		break;
	case REPORT_EV_CREDENTIAL:
		printf("domain %" PRIu32 " credential ok seq=%" PRIu64 " state=%s\n",
		    st->domid, st->credential.seq, st->credential.applied ?
		    "applied" : "failed");
		break;
	case REPORT_EV_GONE:
		printf("domain %" PRIu32 " %s gone\n", st->domid, key);
		break;
	case REPORT_EV_REJECTED:
		printf("domain %" PRIu32 " %s rejected: %s\n", st->domid, key, reason);
		break;
	}
	fflush(stdout);
 out:
	if (p->wait_domid == st->domid && st->have_boot && st->have_addrs &&
	    report_addrs_pick(&st->addrs) >= 0)
		p->done = true;
}

/* watch with no domains named: follow guests as they come and go. */
static void
rescan(struct probe *p)
{
	struct hv_domain *list;
	uint32_t *ids;
	size_t	 n, nids, i, j;

	if (hv_list_domains(p->hv, &list, &n) == -1)
		return;
	for (i = 0; i < n; i++)
		if (list[i].domid != 0 && list[i].state != HV_DOM_DYING)
			/*
			 * Without the start time, which libxl does not know
			 * until the domain is built, records are not aged.
			 */
			reportwatch_add(p->rw, list[i].domid, 0, NULL);
	/* Forget the domains that are gone. */
	nids = reportwatch_domains(p->rw, NULL, 0);
	if ((ids = calloc(nids ? nids : 1, sizeof(*ids))) == NULL)
		fatal("%s", __func__);
	reportwatch_domains(p->rw, ids, nids);
	for (j = 0; j < nids; j++) {
		bool	 listed = false;

		for (i = 0; i < n && !listed; i++)
			listed = list[i].domid == ids[j] &&
			    list[i].state != HV_DOM_DYING;
		if (!listed) {
			printf("domain %" PRIu32 " gone\n", ids[j]);
			reportwatch_remove(p->rw, ids[j]);
		}
	}
	free(ids);
	free(list);
}

static int
signal_fd(void)
{
	sigset_t mask;
	int	 fd;

	sigemptyset(&mask);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	if (sigprocmask(SIG_BLOCK, &mask, NULL) == -1)
		fatal("sigprocmask");
	if ((fd = signalfd(-1, &mask, SFD_CLOEXEC)) == -1)
		fatal("signalfd");
	return fd;
}

static int64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Runs the watch until done, a signal, or the deadline; 0 if done. */
static int
loop(struct probe *p, unsigned timeout_s)
{
	int64_t	 deadline = timeout_s ? now_ms() + (int64_t)timeout_s * 1000 : 0;
	int64_t	 next_scan = 0;
	int	 sigfd = signal_fd();

	while (!p->done) {
		struct pollfd pfd[2];
		int64_t	 now = now_ms(), wait = -1;

		if (p->all && now >= next_scan) {
			rescan(p);
			next_scan = now + RESCAN_MS;
		}
		if (p->all)
			wait = next_scan - now;
		if (deadline) {
			if (now >= deadline)
				return 1;
			if (wait < 0 || deadline - now < wait)
				wait = deadline - now;
		}
		pfd[0].fd = reportwatch_fd(p->rw);
		pfd[0].events = POLLIN;
		pfd[1].fd = sigfd;
		pfd[1].events = POLLIN;
		if (poll(pfd, 2, (int)wait) == -1) {
			if (errno == EINTR)
				continue;
			fatal("poll");
		}
		if (pfd[1].revents)
			return 1;
		if (pfd[0].revents && reportwatch_dispatch(p->rw) == -1)
			fatalx("lost the xenstore connection");
	}
	return 0;
}

static int
cmd_list(struct probe *p, int argc, char *argv[])
{
	struct hv_domain *list;
	size_t	 n, i;
	bool	 json = false;

	if (argc == 2 && strcmp(argv[1], "--json") == 0)
		json = true;
	else if (argc != 1)
		usage();
	if (hv_list_domains(p->hv, &list, &n) == -1)
		return 1;
	if (json) {
		json_t	*arr = json_array();
		char	*s;

		for (i = 0; i < n; i++)
			json_array_append_new(arr, json_pack("{s:I, s:s, s:s, s:s, "
			    "s:I, s:I, s:i, s:I}", "domid", (json_int_t)list[i].domid,
			    "name", list[i].name, "uuid", list[i].uuid,
			    "state", hv_dom_state_names[list[i].state],
			    "mem_kib", (json_int_t)list[i].mem_kib,
			    "max_mem_kib", (json_int_t)list[i].max_mem_kib,
			    "vcpus", (int)list[i].vcpus,
			    "cpu_time_ns", (json_int_t)list[i].cpu_time_ns));
		s = json_dumps(arr, JSON_INDENT(2));
		printf("%s\n", s);
		free(s);
		json_decref(arr);
	} else {
		printf("%-6s %-24s %-8s %10s %5s %10s\n", "domid", "name", "state",
		    "mem_kib", "vcpus", "cpu_s");
		for (i = 0; i < n; i++)
			printf("%-6" PRIu32 " %-24s %-8s %10" PRIu64 " %5u %10.1f\n",
			    list[i].domid, list[i].name,
			    hv_dom_state_names[list[i].state], list[i].mem_kib,
			    list[i].vcpus, (double)list[i].cpu_time_ns / 1e9);
	}
	free(list);
	return 0;
}

/* Options common to watch and wait-boot. */
struct watch_opts {
	unsigned	 skew;
	unsigned	 timeout;
	const char	*old_boot;
};

static int
parse_watch_opts(int argc, char *argv[], struct watch_opts *o, bool wait)
{
	int	 ch;

	o->skew = DEFAULT_SKEW;
	o->timeout = 0;
	o->old_boot = NULL;
	optind = 1;
	while ((ch = getopt(argc, argv, wait ? "s:t:x:" : "s:t:")) != -1) {
		switch (ch) {
		case 's':
			o->skew = arg_u32("-s", optarg);
			break;
		case 't':
			o->timeout = arg_u32("-t", optarg);
			break;
		case 'x':
			o->old_boot = optarg;
			break;
		default:
			usage();
		}
	}
	return optind;
}

/* The domain's start time, 0 if not known; *found tells if it exists. */
static time_t
start_time(struct probe *p, uint32_t domid, bool *found)
{
	struct hv_domain *list;
	size_t	 n, i;
	time_t	 t = 0;

	*found = false;
	if (hv_list_domains(p->hv, &list, &n) == -1)
		return 0;
	for (i = 0; i < n; i++)
		if (list[i].domid == domid)
			*found = true;
	free(list);
	if (*found && domid != 0 && hv_domain_start_time(p->hv, domid, &t) == -1)
		t = 0;
	return t;
}

static int
cmd_watch(struct probe *p, int argc, char *argv[])
{
	struct watch_opts o;
	int	 i;

	i = parse_watch_opts(argc, argv, &o, false);
	p->all = i == argc;
	p->print_events = true;
	if ((p->rw = reportwatch_open(on_report, p, o.skew)) == NULL)
		return 1;
	for (; i < argc; i++) {
		uint32_t id = arg_u32("domid", argv[i]);
		bool	 found;
		time_t	 t = start_time(p, id, &found);

		if (!found)
			log_warnx("domain %" PRIu32 " does not exist (yet); "
			    "watching anyway", id);
		if (reportwatch_add(p->rw, id, t, NULL) == -1)
			return 1;
	}
	loop(p, o.timeout);
	return 0;
}

static int
cmd_wait_boot(struct probe *p, int argc, char *argv[])
{
	const struct report_domain *st;
	struct watch_opts o;
	char	 addr[64];
	bool	 found;
	time_t	 t;
	int	 i;

	i = parse_watch_opts(argc, argv, &o, true);
	if (argc - i != 1)
		usage();
	p->wait_domid = arg_u32("domid", argv[i]);
	t = start_time(p, p->wait_domid, &found);
	if (!found) {
		log_warnx("domain %" PRIu32 " does not exist", p->wait_domid);
		return 1;
	}
	if ((p->rw = reportwatch_open(on_report, p, o.skew)) == NULL)
		return 1;
	if (reportwatch_add(p->rw, p->wait_domid, t, o.old_boot) == -1)
		return 1;
	if (loop(p, o.timeout) != 0) {
		log_warnx("domain %" PRIu32 ": no valid boot-complete record with "
		    "an address within %u s", p->wait_domid, o.timeout);
		return 1;
	}
	st = reportwatch_get(p->rw, p->wait_domid);
	report_addr_ntop(&st->addrs.addr[report_addrs_pick(&st->addrs)], addr,
	    sizeof(addr));
	printf("boot=%s addr=%s\n", st->boot.boot_id, addr);
	return 0;
}

int
main(int argc, char *argv[])
{
	static const struct option longopts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct probe p;
	int	 ch, rc, verbose = 0;

	while ((ch = getopt_long(argc, argv, "+hv", longopts, NULL)) != -1) {
		switch (ch) {
		case 'h':
			print_usage(stdout);
			return 0;
		case 'v':
			verbose++;
			break;
		default:
			usage();
		}
	}
	argc -= optind;
	argv += optind;
	if (argc < 1)
		usage();

	log_procname("xvds-probe");
	log_init(1, LOG_DAEMON);
	log_setverbose(verbose);
	/* Output goes to logs and pipes: one line at a time. */
	setvbuf(stdout, NULL, _IOLBF, 0);

	memset(&p, 0, sizeof(p));
	p.wait_domid = UINT32_MAX;
	if (strcmp(argv[0], "list") != 0 && strcmp(argv[0], "watch") != 0 &&
	    strcmp(argv[0], "wait-boot") != 0)
		usage();
	if ((p.hv = hv_open(NULL, NULL)) == NULL)
		return 1;
	if (strcmp(argv[0], "list") == 0)
		rc = cmd_list(&p, argc, argv);
	else if (strcmp(argv[0], "watch") == 0)
		rc = cmd_watch(&p, argc, argv);
	else
		rc = cmd_wait_boot(&p, argc, argv);
	reportwatch_close(p.rw);
	hv_close(p.hv);
	return rc;
}

/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * policy/xvds-sim.c — xvds-sim(1): re-runs the paper's experiment
 * (policy/sim.c) for a grid of policies and thresholds over many seeds and
 * prints the means, the numbers of the paper's Figures 6–11; and `xvds-sim
 * plan`, the dry-run planner (policy/plan.c) until xvdsctl carries it.
 */
#include <config.h>

#include <math.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "policy/plan.h"
#include "policy/policy.h"
#include "policy/sim.h"

#define MAXLIST	32
#define MAXOPTS	64

static const char *default_policies = "none,1A,2A,2B,3A,3B,4A,4C";
static const char *default_thresholds = "60,70,80,90";

static void
print_usage(FILE *f)
{
	fprintf(f, "usage: xvds-sim [-hqv] [-n seeds] [-s seed] "
	    "[-p policy,...] [-t threshold,...]\n"
	    "\t[-o name=value] ...\n"
	    "       xvds-sim plan [-p policy] [-t threshold] [-o name=value] "
	    "... snapshot.json\n");
}

static void
usage(void)
{
	print_usage(stderr);
	exit(2);
}

/* Splits s (modified) at commas into at most MAXLIST words. */
static size_t
split(char *s, char **words)
{
	size_t	 n = 0;
	char	*w;

	while ((w = strsep(&s, ",")) != NULL) {
		if (*w == '\0')
			continue;
		if (n == MAXLIST) {
			fprintf(stderr, "xvds-sim: more than %d in a list\n",
			    MAXLIST);
			exit(2);
		}
		words[n++] = w;
	}
	return n;
}

static double
seconds(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/*
 * The policy's parameters for one cell of the grid: defaults, the
 * threshold, the name (which sets the paper's rates), then every -o the
 * simulation itself did not take.
 */
static void
cell_params(struct policy_params *p, const char *policy, const char *threshold,
    char **opts, size_t nopts)
{
	char	*eq;
	size_t	 i;

	policy_defaults(p);
	if (policy_set(p, "threshold", threshold) == -1) {
		fprintf(stderr, "xvds-sim: bad threshold %s\n", threshold);
		exit(2);
	}
	if (policy_set_name(p, policy) == -1) {
		fprintf(stderr, "xvds-sim: unknown policy %s\n", policy);
		exit(2);
	}
	for (i = 0; i < nopts; i++) {
		eq = strchr(opts[i], '=');
		*eq = '\0';
		if (policy_set(p, opts[i], eq + 1) == -1) {
			*eq = '=';
			fprintf(stderr, "xvds-sim: bad parameter %s\n", opts[i]);
			exit(2);
		}
		*eq = '=';
	}
}

static void
header(const struct sim_params *s, unsigned seeds, unsigned long seed,
    char **opts, size_t nopts)
{
	size_t	 i;

	printf("# xvds-sim: %u seeds from %lu; HOSTS %u HOSTMEM %u GUESTS %u "
	    "GUESTMEM %u MIGRATE_TERM %u MAXLOAD %g LOADTERM %u MINLOADTERM %u "
	    "GUEST_CREATE_TERM %u MIN_GUEST_CREATE_TERM %u MAXLOADCOUNT %u\n",
	    seeds, seed, s->hosts, s->hostmem, s->guests, s->guestmem,
	    s->migrate_term, s->maxload, s->loadterm, s->minloadterm,
	    s->create_term, s->min_create_term, s->maxloadcount);
	printf("# options:");
	for (i = 0; i < nopts; i++)
		printf(" %s", opts[i]);
	printf("%s\n", nopts ? "" : " none");
	printf("# %-6s %9s %9s %9s %9s %9s %9s %9s %9s %9s %9s\n", "policy",
	    "threshold", "deny_cpu", "deny_mem", "deny", "deny_sd",
	    "migrated", "given_up", "max_users", "hot", "requests");
}

int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct sim_params s;
	struct policy_params p;
	struct sim_result r;
	char	*opts[MAXOPTS], *pol[MAXLIST], *thr[MAXLIST], *eq;
	char	 pbuf[512], tbuf[512];
	size_t	 nopts = 0, npol, nthr, i, j, k, runs = 0;
	unsigned long seed = 1, seeds = 20;
	double	 start, sum[8], sq;
	int	 ch, quiet = 0, verbose = 0;

	if (argc > 1 && strcmp(argv[1], "plan") == 0)
		return ctl_policy_plan(argc - 1, argv + 1);
	sim_defaults(&s);
	snprintf(pbuf, sizeof(pbuf), "%s", default_policies);
	snprintf(tbuf, sizeof(tbuf), "%s", default_thresholds);
	while ((ch = getopt_long(argc, argv, "hn:o:p:qs:t:v", longopts,
	    NULL)) != -1) {
		switch (ch) {
		case 'h':
			print_usage(stdout);
			return 0;
		case 'n':
			seeds = strtoul(optarg, NULL, 10);
			if (seeds == 0 || seeds > 100000)
				usage();
			break;
		case 'o':
			if ((eq = strchr(optarg, '=')) == NULL)
				usage();
			*eq = '\0';
			i = sim_set(&s, optarg, eq + 1) == 0;
			*eq = '=';
			/* Not the simulation's: the policy's, checked below. */
			if (!i) {
				if (nopts == MAXOPTS)
					usage();
				opts[nopts++] = optarg;
			}
			break;
		case 'p':
			snprintf(pbuf, sizeof(pbuf), "%s", optarg);
			break;
		case 'q':
			quiet = 1;
			break;
		case 's':
			seed = strtoul(optarg, NULL, 10);
			break;
		case 't':
			snprintf(tbuf, sizeof(tbuf), "%s", optarg);
			break;
		case 'v':
			verbose = 1;
			break;
		default:
			usage();
		}
	}
	if (optind != argc)
		usage();
	npol = split(pbuf, pol);
	nthr = split(tbuf, thr);
	/* Every cell's parameters checked before the first run. */
	for (i = 0; i < npol; i++)
		for (j = 0; j < nthr; j++)
			cell_params(&p, pol[i], thr[j], opts, nopts);
	if (!quiet)
		header(&s, (unsigned)seeds, seed, opts, nopts);
	start = seconds();
	for (i = 0; i < npol; i++)
		for (j = 0; j < nthr; j++) {
			cell_params(&p, pol[i], thr[j], opts, nopts);
			memset(sum, 0, sizeof(sum));
			sq = 0;
			for (k = 0; k < seeds; k++, runs++) {
				if (sim_run(&s, &p, seed + k, &r) == -1) {
					fprintf(stderr, "xvds-sim: out of "
					    "memory\n");
					return 1;
				}
				sum[0] += r.deny_cpu;
				sum[1] += r.deny_mem;
				sum[2] += r.deny_cpu + r.deny_mem;
				sq += (double)(r.deny_cpu + r.deny_mem) *
				    (r.deny_cpu + r.deny_mem);
				sum[3] += r.migrations;
				sum[4] += r.given_up;
				sum[5] += r.max_users;
				sum[6] += r.requests;
				sum[7] += r.hot;
				if (verbose && !quiet)
					printf("#  seed %lu: %u %u %u %u %u "
					    "%u %u\n", seed + k, r.deny_cpu,
					    r.deny_mem, r.migrations,
					    r.given_up, r.max_users, r.hot,
					    r.ticks);
			}
			if (quiet)
				continue;
			for (k = 0; k < 8; k++)
				sum[k] /= (double)seeds;
			printf("%-8s %9s %9.2f %9.2f %9.2f %9.2f %9.2f %9.2f "
			    "%9.2f %9.2f %9.2f\n", pol[i], thr[j], sum[0],
			    sum[1], sum[2], sqrt(fmax(0, sq / (double)seeds -
			    sum[2] * sum[2])), sum[3], sum[4], sum[5], sum[7],
			    sum[6]);
		}
	fprintf(quiet ? stdout : stderr, "# xvds-sim: %zu runs in %.3f s\n",
	    runs, seconds() - start);
	return 0;
}

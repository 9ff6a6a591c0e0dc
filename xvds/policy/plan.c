/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * policy/plan.c — the dry-run planner (see policy/plan.h): reads a snapshot of
 * the cluster, runs one policy tick on it and prints what would be done and
 * what would be given up, and why.  Nothing is migrated.
 */
#include <config.h>

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "common/errbuf.h"
#include "policy/plan.h"

static int
get_id(json_t *o, char *id, const char *what, size_t i, char *err,
    size_t errlen)
{
	const char *s = json_string_value(json_object_get(o, "id"));

	if (s == NULL || *s == '\0' || strlen(s) >= POLICY_ID_MAX) {
		errbuf_set(err, errlen, "%s %zu: \"id\" must be a string of 1 "
		    "to %d characters", what, i, POLICY_ID_MAX - 1);
		return -1;
	}
	strcpy(id, s);
	return 0;
}

/* A whole number of MB in [0, 2^31): memory figures. */
static int
get_mb(json_t *o, const char *key, unsigned *v, bool need, const char *id,
    char *err, size_t errlen)
{
	json_t	*j = json_object_get(o, key);

	if (j == NULL && !need)
		return 1;
	if (!json_is_integer(j) || json_integer_value(j) < 0 ||
	    json_integer_value(j) > 0x7fffffff) {
		errbuf_set(err, errlen, "%s: \"%s\" must be a whole number of "
		    "MB", id, key);
		return -1;
	}
	*v = (unsigned)json_integer_value(j);
	return 0;
}

/* Each parameter as its text, through policy_set (xvds-policy(7)). */
static int
load_params(json_t *params, struct policy_params *p, char *err,
    size_t errlen)
{
	const char *key;
	json_t	*v;
	char	 buf[64];

	if (params == NULL)
		return 0;
	if (!json_is_object(params)) {
		errbuf_set(err, errlen, "\"params\" must be an object");
		return -1;
	}
	/* The policy's name first: it resets the rates the others may set. */
	if ((v = json_object_get(params, "policy")) != NULL &&
	    (!json_is_string(v) || policy_set_name(p, json_string_value(v)))) {
		errbuf_set(err, errlen, "params: bad policy");
		return -1;
	}
	json_object_foreach(params, key, v) {
		if (strcmp(key, "policy") == 0)
			continue;
		if (json_is_string(v))
			snprintf(buf, sizeof(buf), "%s", json_string_value(v));
		else if (json_is_integer(v))
			snprintf(buf, sizeof(buf), "%lld",
			    (long long)json_integer_value(v));
		else if (json_is_real(v))
			snprintf(buf, sizeof(buf), "%.17g", json_real_value(v));
		else
			buf[0] = '\0';
		if (policy_set(p, key, buf) == -1) {
			errbuf_set(err, errlen, "params: bad \"%s\"", key);
			return -1;
		}
	}
	return 0;
}

static int
load_vm(json_t *jv, size_t h, size_t i, struct policy_vm *vm, char *err,
    size_t errlen)
{
	json_t	*cpu;

	if (!json_is_object(jv)) {
		errbuf_set(err, errlen, "VM %zu must be an object", i);
		return -1;
	}
	if (get_id(jv, vm->id, "VM", i, err, errlen) == -1 ||
	    get_mb(jv, "mem_mb", &vm->mem_mb, true, vm->id, err, errlen) == -1)
		return -1;
	cpu = json_object_get(jv, "cpu");
	if (!json_is_number(cpu) || json_number_value(cpu) < 0) {
		errbuf_set(err, errlen, "%s: \"cpu\" must be a number, 0 or more",
		    vm->id);
		return -1;
	}
	vm->cpu = json_number_value(cpu);
	vm->host = h;
	return 0;
}

static int
load_host(json_t *jh, size_t h, struct policy_cluster *c, char *err,
    size_t errlen)
{
	struct policy_host *host = &c->hosts[h];
	json_t	*samples, *vms, *j;
	size_t	 i, k;
	unsigned used = 0;
	int	 rc;

	if (!json_is_object(jh)) {
		errbuf_set(err, errlen, "host %zu must be an object", h);
		return -1;
	}
	if (get_id(jh, host->id, "host", h, err, errlen) == -1)
		return -1;
	for (k = 0; k < h; k++)
		if (strcmp(c->hosts[k].id, host->id) == 0) {
			errbuf_set(err, errlen, "%s: two hosts of that id",
			    host->id);
			return -1;
		}
	if (get_mb(jh, "mem_mb", &host->mem_mb, true, host->id, err,
	    errlen) == -1)
		return -1;
	samples = json_object_get(jh, "samples");
	if (!json_is_array(samples)) {
		errbuf_set(err, errlen, "%s: \"samples\" must be an array",
		    host->id);
		return -1;
	}
	/* Oldest first; a longer array keeps its newest. */
	json_array_foreach(samples, i, j) {
		if (!json_is_number(j) || json_number_value(j) < 0) {
			errbuf_set(err, errlen, "%s: sample %zu must be a "
			    "number, 0 or more", host->id, i);
			return -1;
		}
		policy_host_sample(host, json_number_value(j));
	}
	vms = json_object_get(jh, "vms");
	if (vms != NULL && !json_is_array(vms)) {
		errbuf_set(err, errlen, "%s: \"vms\" must be an array",
		    host->id);
		return -1;
	}
	json_array_foreach(vms, i, j) {
		if (load_vm(j, h, i, &c->vms[c->nvms], err, errlen) == -1)
			return -1;
		for (k = 0; k < c->nvms; k++)
			if (strcmp(c->vms[k].id, c->vms[c->nvms].id) == 0) {
				errbuf_set(err, errlen, "%s: two VMs of that id",
				    c->vms[k].id);
				return -1;
			}
		used += c->vms[c->nvms++].mem_mb;
	}
	/* What the host reports, else what its VMs hold. */
	rc = get_mb(jh, "mem_used_mb", &host->mem_used_mb, false, host->id,
	    err, errlen);
	if (rc == -1)
		return -1;
	if (rc == 1)
		host->mem_used_mb = used;
	return 0;
}

int
plan_snapshot_load(const char *path, struct policy_cluster *c,
    struct policy_params *p, char *err, size_t errlen)
{
	json_error_t jerr;
	json_t	*root, *hosts, *jh;
	size_t	 h, nvms = 0;
	int	 rc = -1;

	memset(c, 0, sizeof(*c));
	if ((root = json_load_file(path, JSON_REJECT_DUPLICATES, &jerr)) ==
	    NULL) {
		errbuf_set(err, errlen, "line %d: %s", jerr.line, jerr.text);
		return -1;
	}
	hosts = json_object_get(root, "hosts");
	if (!json_is_object(root) || !json_is_array(hosts)) {
		errbuf_set(err, errlen, "a snapshot is an object with a "
		    "\"hosts\" array");
		goto out;
	}
	if (load_params(json_object_get(root, "params"), p, err, errlen) == -1)
		goto out;
	json_array_foreach(hosts, h, jh)
		nvms += json_array_size(json_object_get(jh, "vms"));
	c->hosts = calloc(json_array_size(hosts) + 1, sizeof(*c->hosts));
	c->vms = calloc(nvms + 1, sizeof(*c->vms));
	if (c->hosts == NULL || c->vms == NULL) {
		errbuf_set(err, errlen, "out of memory");
		goto out;
	}
	json_array_foreach(hosts, h, jh) {
		if (load_host(jh, h, c, err, errlen) == -1)
			goto out;
		c->nhosts++;
	}
	rc = 0;
out:
	if (rc == -1)
		plan_snapshot_free(c);
	json_decref(root);
	return rc;
}

void
plan_snapshot_free(struct policy_cluster *c)
{
	free(c->hosts);
	free(c->vms);
	memset(c, 0, sizeof(*c));
}

void
plan_print(FILE *f, const struct policy_cluster *c,
    const struct policy_params *p, const struct policy_plan *plan)
{
	char	 name[16], mem[32];
	size_t	 h, i, *nvms;
	double	 load;

	fprintf(f, "policy %s, threshold %g, window %u; %zu hosts, %zu VMs\n",
	    policy_name(p, name, sizeof(name)), p->threshold, p->window,
	    c->nhosts, c->nvms);
	fprintf(f, "%-20s %8s %6s %12s\n", "HOST", "LOAD", "VMS", "MEMORY MB");
	nvms = calloc(c->nhosts + 1, sizeof(*nvms));
	for (i = 0; nvms != NULL && i < c->nvms; i++)
		nvms[c->vms[i].host]++;
	for (h = 0; h < c->nhosts; h++) {
		load = policy_host_load(&c->hosts[h], p->window);
		snprintf(mem, sizeof(mem), "%u/%u", c->hosts[h].mem_used_mb,
		    c->hosts[h].mem_mb);
		fprintf(f, "%-20s ", c->hosts[h].id);
		if (load < 0)
			fprintf(f, "%8s", "-");
		else
			fprintf(f, "%8.1f", load);
		fprintf(f, " %6zu %12s%s\n", nvms ? nvms[h] : 0, mem,
		    load >= p->threshold ? "  over the threshold" : "");
	}
	free(nvms);
	for (i = 0; i < plan->n; i++) {
		const struct policy_move *m = &plan->moves[i];
		const char *vm = c->vms[m->vm].id, *from = c->hosts[m->from].id;

		if (m->to >= 0) {
			fprintf(f, "migrate %s %s -> %s (cpu %.1f; %s %.1f -> "
			    "%.1f, %s %.1f -> %.1f)\n", vm, from,
			    c->hosts[m->to].id, m->cpu, from, m->from_load,
			    m->from_load - m->cpu, c->hosts[m->to].id,
			    m->to_load, m->to_load + m->cpu);
			continue;
		}
		fprintf(f, "give up %s on %s: %s", vm, from,
		    policy_reason_names[m->why]);
		if (m->why == POLICY_R_BUSIER)
			fprintf(f, " (%s %.1f + %.1f > %.1f)",
			    c->hosts[m->tried].id, m->to_load, m->cpu,
			    m->from_load);
		fputc('\n', f);
	}
	fprintf(f, "plan: %zu migrations, %zu given up; sources %zu\n",
	    plan->migrations, plan->given_up, plan->sources);
}

static int
plan_usage(void)
{
	fprintf(stderr, "usage: plan [-p policy] [-t threshold] "
	    "[-o name=value] ... snapshot.json\n");
	return 2;
}

int
ctl_policy_plan(int argc, char **argv)
{
	struct policy_params p;
	struct policy_cluster c;
	struct policy_plan plan = { 0 };
	char	 err[256], *eq, *opts[64];
	size_t	 nopts = 0, i;
	const char *policy = NULL, *threshold = NULL;
	int	 ch;

	policy_defaults(&p);
	optind = 1;
	while ((ch = getopt(argc, argv, "o:p:t:")) != -1) {
		switch (ch) {
		case 'o':
			if (nopts == sizeof(opts) / sizeof(opts[0]))
				return plan_usage();
			opts[nopts++] = optarg;
			break;
		case 'p':
			policy = optarg;
			break;
		case 't':
			threshold = optarg;
			break;
		default:
			return plan_usage();
		}
	}
	if (argc - optind != 1)
		return plan_usage();
	if (plan_snapshot_load(argv[optind], &c, &p, err, sizeof(err)) == -1) {
		fprintf(stderr, "plan: %s: %s\n", argv[optind], err);
		return 1;
	}
	/* The command line over the snapshot's own params. */
	if (policy != NULL && policy_set_name(&p, policy) == -1) {
		fprintf(stderr, "plan: unknown policy %s\n", policy);
		goto fail;
	}
	if (threshold != NULL && policy_set(&p, "threshold", threshold) == -1) {
		fprintf(stderr, "plan: bad threshold %s\n", threshold);
		goto fail;
	}
	for (i = 0; i < nopts; i++) {
		if ((eq = strchr(opts[i], '=')) == NULL)
			goto badopt;
		*eq = '\0';
		if (policy_set(&p, opts[i], eq + 1) == -1) {
			*eq = '=';
			goto badopt;
		}
		*eq = '=';
	}
	if (policy_tick(&c, &p, &plan) == -1) {
		fprintf(stderr, "plan: out of memory\n");
		goto fail;
	}
	plan_print(stdout, &c, &p, &plan);
	policy_plan_free(&plan);
	plan_snapshot_free(&c);
	return 0;
badopt:
	fprintf(stderr, "plan: bad parameter %s (xvds-policy(7))\n", opts[i]);
fail:
	plan_snapshot_free(&c);
	return 1;
}

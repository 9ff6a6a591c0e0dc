/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * memscan.c — memscan, for the tests that check a daemon wiped its
 * secrets: counts each SECRET's copies in PID's writable memory (the heap,
 * threads' arenas and stacks, anonymous and private data mappings), read
 * through /proc/PID/mem as a debugger would (root, or PID's parent).
 *
 *   memscan [-v] PID SECRET... one line a secret: "COUNT SECRET"; with -v,
 *                              also "# MAPPING+OFFSET: BYTES AROUND" a copy
 *
 * Exit 0 when no secret is found, 1 when one is, 2 on an error.
 */
#include <config.h>

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define CHUNK	(1024 * 1024)
/*
 * Larger mappings are reservations, not data (AddressSanitizer's shadow
 * has terabytes): reading them would take hours.  Said, not read.
 */
#define REGION_MAX	((uintptr_t)16 << 30)

struct region {
	uintptr_t	 lo, hi;
	char		 name[256];
};

static int	verbose;

/* The writable mappings of pid, but the kernel's own ([vvar] and such). */
static struct region *
regions(const char *pid, size_t *n_r)
{
	struct region *r = NULL, *nr;
	char	 path[64], line[512], perms[8], name[256];
	uintmax_t lo, hi;
	size_t	 n = 0;
	FILE	*f;

	snprintf(path, sizeof(path), "/proc/%s/maps", pid);
	if ((f = fopen(path, "r")) == NULL)
		return NULL;
	while (fgets(line, sizeof(line), f) != NULL) {
		name[0] = '\0';
		if (sscanf(line, "%jx-%jx %7s %*s %*s %*s %255[^\n]", &lo, &hi,
		    perms, name) < 3 || perms[1] != 'w' ||
		    strcmp(name, "[vvar]") == 0 || strcmp(name, "[vsyscall]") == 0)
			continue;
		if ((nr = realloc(r, (n + 1) * sizeof(*r))) == NULL) {
			free(r);
			fclose(f);
			return NULL;
		}
		r = nr;
		r[n].lo = (uintptr_t)lo;
		r[n].hi = (uintptr_t)hi;
		snprintf(r[n].name, sizeof(r[n].name), "%s",
		    name[0] != '\0' ? name : "[anon]");
		n++;
	}
	fclose(f);
	*n_r = n;
	return r;
}

/* A copy's place and the bytes around it, to tell whose buffer it is. */
static void
show(const struct region *g, uintptr_t off, const char *buf, size_t have,
    size_t i, size_t len)
{
	size_t	 from = i > 48 ? i - 48 : 0, to = i + len + 48 < have ?
		    i + len + 48 : have, k;

	printf("# %s+%#jx: ", g->name, (uintmax_t)off);
	for (k = from; k < to; k++)
		putchar(buf[k] >= 0x20 && buf[k] < 0x7f ? buf[k] : '.');
	putchar('\n');
}

/* Copies of s in [lo, hi) of mem; a copy across two chunks counts too. */
static long
count(int mem, const struct region *g, const char *s)
{
	size_t	 len = strlen(s), keep = len - 1, have = 0, i;
	uintptr_t at = g->lo, base = g->lo;
	static char buf[CHUNK + 256];
	ssize_t	 r;
	long	 n = 0;

	while (at < g->hi) {
		size_t want = g->hi - at < CHUNK ? g->hi - at : CHUNK;

		if ((r = pread(mem, buf + have, want, (off_t)at)) <= 0)
			break;		/* unreadable (guard pages): skip */
		at += (uintptr_t)r;
		have += (size_t)r;
		for (i = 0; i + len <= have; i++)
			if (buf[i] == s[0] && memcmp(buf + i, s, len) == 0) {
				n++;
				if (verbose)
					show(g, base + i - g->lo, buf, have, i,
					    len);
			}
		if (have > keep) {
			memmove(buf, buf + have - keep, keep);
			base += have - keep;
			have = keep;
		}
	}
	return n;
}

int
main(int argc, char *argv[])
{
	struct region *g;
	char	 path[64];
	size_t	 ng, i;
	long	 n;
	int	 mem, a, found = 0;

	if (argc > 1 && strcmp(argv[1], "-v") == 0) {
		verbose = 1;
		argv++;
		argc--;
	}
	if (argc < 3) {
		fprintf(stderr, "usage: memscan [-v] pid secret...\n");
		return 2;
	}
	for (a = 2; a < argc; a++)
		if (strlen(argv[a]) < 8 || strlen(argv[a]) > 200) {
			fprintf(stderr, "memscan: a secret has 8 to 200 bytes\n");
			return 2;
		}
	snprintf(path, sizeof(path), "/proc/%s/mem", argv[1]);
	if ((mem = open(path, O_RDONLY)) == -1) {
		fprintf(stderr, "memscan: %s: %s\n", path, strerror(errno));
		return 2;
	}
	if ((g = regions(argv[1], &ng)) == NULL) {
		fprintf(stderr, "memscan: /proc/%s/maps unreadable\n", argv[1]);
		return 2;
	}
	for (i = 0; i < ng; i++)
		if (g[i].hi - g[i].lo > REGION_MAX)
			printf("# %s at %#jx: %ju MiB, not read\n", g[i].name,
			    (uintmax_t)g[i].lo, (uintmax_t)((g[i].hi - g[i].lo) >> 20));
	for (a = 2; a < argc; a++) {
		for (n = 0, i = 0; i < ng; i++)
			if (g[i].hi - g[i].lo <= REGION_MAX)
				n += count(mem, &g[i], argv[a]);
		printf("%ld %s\n", n, argv[a]);
		found |= n > 0;
	}
	free(g);
	close(mem);
	return found;
}

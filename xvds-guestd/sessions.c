/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * sessions.c — counts RDP connections from the kernel's socket tables.
 * Polled (xvds-guestd's -i): a session lasts minutes to hours, and the
 * tables need no privileges or extra packages to read.
 */
#include <config.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sessions.h"

#define TCP_ESTABLISHED	1	/* the kernel's "st" column */
#define TABLE_MAX	(4 * 1024 * 1024)

int
sessions_count_text(const char *text, size_t len, unsigned port)
{
	const char *p = text, *end = text + len, *nl;
	int	 count = 0, first = 1;

	while (p < end) {
		char	 line[512], local[64];
		unsigned lport, st;
		size_t	 n;

		nl = memchr(p, '\n', (size_t)(end - p));
		n = (size_t)((nl != NULL ? nl : end) - p);
		if (n >= sizeof(line))
			n = sizeof(line) - 1;
		memcpy(line, p, n);
		line[n] = '\0';
		p = nl != NULL ? nl + 1 : end;
		if (first) {
			/* The header names the columns this parser relies on. */
			if (strstr(line, "local_address") == NULL ||
			    strstr(line, " st ") == NULL)
				return -1;
			first = 0;
			continue;
		}
		/* "  0: 0100007F:0D3D 00000000:0000 01 ..." */
		if (sscanf(line, " %*u: %63s %*s %x", local, &st) != 2)
			continue;
		{
			const char *colon = strrchr(local, ':');

			if (colon == NULL || sscanf(colon + 1, "%x", &lport) != 1)
				continue;
		}
		if (st == TCP_ESTABLISHED && lport == port)
			count++;
	}
	return first ? -1 : count;
}

static int
count_file(const char *path, unsigned port)
{
	char	*buf;
	size_t	 len = 0, cap = 65536;
	FILE	*f;
	int	 n;

	if ((f = fopen(path, "r")) == NULL)
		return -1;
	if ((buf = malloc(cap)) == NULL) {
		fclose(f);
		return -1;
	}
	for (;;) {
		size_t	 r = fread(buf + len, 1, cap - len, f);

		len += r;
		if (r == 0 || len == TABLE_MAX)
			break;
		if (len == cap) {
			char	*nb;

			cap = cap * 2 > TABLE_MAX ? TABLE_MAX : cap * 2;
			if ((nb = realloc(buf, cap)) == NULL)
				break;
			buf = nb;
		}
	}
	fclose(f);
	n = sessions_count_text(buf, len, port);
	free(buf);
	return n;
}

int
sessions_count(unsigned port)
{
	int	 v4 = count_file("/proc/net/tcp", port);
	int	 v6 = count_file("/proc/net/tcp6", port);

	if (v4 < 0 && v6 < 0)
		return -1;
	return (v4 > 0 ? v4 : 0) + (v6 > 0 ? v6 : 0);
}

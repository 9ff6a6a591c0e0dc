/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * common/confread.c — the keyword tables of both configuration readers
 * (common/confread.h).
 */
#include <config.h>

#include <string.h>

#include "common/confread.h"

const struct confread_kw *
confread_find(const struct confread_kw *kw, size_t n, const char *name)
{
	size_t	 i;

	for (i = 0; i < n; i++)
		if (strcmp(kw[i].name, name) == 0)
			return &kw[i];
	return NULL;
}

void *
confread_field(void *base, const struct confread_kw *kw)
{
	return (char *)base + kw->offset;
}

void
confread_print_string(FILE *f, const char *s)
{
	fputc('"', f);
	for (; *s != '\0'; s++) {
		if (*s == '"' || *s == '\\')
			fputc('\\', f);
		fputc(*s, f);
	}
	fputc('"', f);
}

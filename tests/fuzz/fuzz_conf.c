/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * fuzz_conf.c — libFuzzer target for xvds.conf(5): any bytes must be
 * refused with a message or parsed, and what parses must print to a file
 * that parses again to the same text.
 */
#include <config.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/conf.h"

int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static char *
print(const struct xvds_conf *c, size_t *len)
{
	char	*buf = NULL;
	FILE	*f = open_memstream(&buf, len);

	if (f == NULL || conf_print(c, f) != 0)
		abort();
	fclose(f);
	return buf;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct xvds_conf *c, *again;
	char	 err[CONF_ERR_MAX];
	char	*one, *two;
	size_t	 n1, n2;

	err[0] = '\0';
	c = conf_parse("fuzz.conf", (const char *)data, size, err, sizeof(err));
	if (c == NULL) {
		if (err[0] == '\0')
			abort();	/* a refusal always says why */
		return 0;
	}
	one = print(c, &n1);
	again = conf_parse("printed.conf", one, n1, err, sizeof(err));
	if (again == NULL)
		abort();
	two = print(again, &n2);
	if (n1 != n2 || memcmp(one, two, n1) != 0)
		abort();
	free(one);
	free(two);
	conf_free(again);
	conf_free(c);
	return 0;
}

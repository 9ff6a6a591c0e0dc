/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * json_get.c — json-get: reads one JSON document from standard input,
 * refuses anything that is not exactly that, and prints the value at a
 * path, for the shell tests (no jq or python needed).
 *
 *   json-get [PATH]     PATH: members and array indices joined by dots,
 *                       "#" at the end for a length: "0.name", "#", "0.#"
 *
 * Strings print raw, other values as compact JSON.  Exits 1 if the input
 * is not JSON or the path leads nowhere.
 */
#include <config.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

int
main(int argc, char *argv[])
{
	json_error_t err;
	json_t	*doc, *v;
	char	*path, *part, *save = NULL, *end, *s;

	if (argc > 2) {
		fprintf(stderr, "usage: json-get [PATH]\n");
		return 2;
	}
	if ((doc = json_loadf(stdin, JSON_DECODE_ANY | JSON_REJECT_DUPLICATES,
	    &err)) == NULL) {
		fprintf(stderr, "json-get: line %d: %s\n", err.line, err.text);
		return 1;
	}
	v = doc;
	path = strdup(argc == 2 ? argv[1] : "");
	for (part = strtok_r(path, ".", &save); part != NULL && v != NULL;
	    part = strtok_r(NULL, ".", &save)) {
		if (strcmp(part, "#") == 0) {
			if (!json_is_array(v) && !json_is_object(v)) {
				v = NULL;
				break;
			}
			printf("%zu\n", json_is_array(v) ? json_array_size(v) :
			    json_object_size(v));
			free(path);
			json_decref(doc);
			return 0;
		}
		if (json_is_array(v)) {
			unsigned long i = strtoul(part, &end, 10);

			v = *end == '\0' ? json_array_get(v, i) : NULL;
		} else
			v = json_object_get(v, part);
	}
	free(path);
	if (v == NULL) {
		fprintf(stderr, "json-get: no %s\n", argv[1]);
		json_decref(doc);
		return 1;
	}
	if (json_is_string(v))
		printf("%s\n", json_string_value(v));
	else {
		s = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
		printf("%s\n", s);
		free(s);
	}
	json_decref(doc);
	return 0;
}

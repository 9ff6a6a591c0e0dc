/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * common/jsonerr.c — see common/jsonerr.h.
 */
#include <config.h>

#include <stdio.h>
#include <string.h>

#include "common/jsonerr.h"

/* What went wrong, by jansson's error code: words of ours, no input. */
static const char *
what(enum json_error_code code, int unpacking)
{
	switch (code) {
	case json_error_out_of_memory:
		return "out of memory";
	case json_error_stack_overflow:
		return "nested too deeply";
	case json_error_cannot_open_file:
		return "cannot be opened";
	case json_error_invalid_utf8:
		return "invalid UTF-8";
	case json_error_premature_end_of_input:
		return "cut short";
	case json_error_end_of_input_expected:
		/* Unpacking: members no format of ours names. */
		return unpacking ? "an unknown member" : "more after the value";
	case json_error_invalid_syntax:
		return "invalid syntax";
	case json_error_null_character:
	case json_error_null_byte_in_key:
		return "a NUL character";
	case json_error_duplicate_key:
		return "a duplicate member";
	case json_error_numeric_overflow:
		return "a number out of range";
	case json_error_index_out_of_range:
		return "too few items";
	default:
		return "malformed";
	}
}

/* Whether e comes from json_unpack_ex (its source is "<validation>"...). */
static int
unpacking(const json_error_t *e)
{
	static const char *const sources[] = {
		"<validation>", "<format>", "<args>", "<internal>", "<root>",
	};
	size_t	 i;

	for (i = 0; i < sizeof(sources) / sizeof(sources[0]); i++)
		if (strcmp(e->source, sources[i]) == 0)
			return 1;
	return 0;
}

const char *
jsonerr(const json_error_t *e)
{
	static _Thread_local char buf[JSON_ERROR_TEXT_LENGTH];
	enum json_error_code code = json_error_code(e);

	if (unpacking(e)) {
		/*
		 * Two texts are made of our format and type names alone:
		 * "Object item not found: KEY" (the key is the format's) and
		 * "Expected TYPE, got TYPE".
		 */
		if (code == json_error_item_not_found ||
		    code == json_error_wrong_type)
			snprintf(buf, sizeof(buf), "%s", e->text);
		else
			snprintf(buf, sizeof(buf), "%s", what(code, 1));
	} else if (e->position >= 0)
		snprintf(buf, sizeof(buf), "%s at byte %d", what(code, 0),
		    e->position);
	else
		snprintf(buf, sizeof(buf), "%s", what(code, 0));
	return buf;
}

/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * greeter/status.h — the lines xvds-client writes on its status fd
 * (xvds-client(1), STATUS LINES) and the plain words the user reads for
 * each.
 */
#ifndef XVDS_GREETER_STATUS_H
#define XVDS_GREETER_STATUS_H

#include <stdbool.h>

enum greeter_status_kind {
	GREETER_STATUS_PROGRESS,	/* word: login, waking, booting, ... */
	GREETER_STATUS_CONNECTED,
	GREETER_STATUS_ENDED,		/* word: the reason */
	GREETER_STATUS_ERROR,		/* word: the CODE, text: its sentence */
};

#define GREETER_STATUS_WORD_MAX	32

struct greeter_status {
	enum greeter_status_kind kind;
	char	 word[GREETER_STATUS_WORD_MAX];
	char	 text[256];
};

/* Parses one line (without its newline); false if it is malformed. */
bool	greeter_status_parse(const char *line, struct greeter_status *);
/* Whether it is the last line, "ended" or "error". */
bool	greeter_status_final(const struct greeter_status *);
/* What the progress screen says for a progress line. */
const char *greeter_status_progress_words(const struct greeter_status *);
/* The message after a session or an error, or NULL for none; to g_free. */
char	*greeter_status_outcome_words(const struct greeter_status *);
/* The message when xvds-client exited without a last line. */
char	*greeter_status_exit_words(int wait_status);

#endif

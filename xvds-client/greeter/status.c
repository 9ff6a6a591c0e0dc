/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * greeter/status.c — xvds-client's status lines read and put in plain
 * words (greeter/status.h).
 */
#include <config.h>

#include <string.h>
#include <sys/wait.h>

#include <glib.h>

#include "status.h"

struct words {
	const char	*word;
	const char	*say;
};

static const struct words progress_words[] = {
	{ "login",	"Finding your desktop\u2026" },
	{ "waking",	"Starting your desktop\u2026" },
	{ "booting",	"Starting your desktop\u2026 This can take a minute." },
	{ "connecting",	"Connecting\u2026" },
};

/* NULL: back to the login screen without a message. */
static const struct words ended_words[] = {
	{ "logoff",	NULL },
	{ "closed",	NULL },
	{ "signal",	NULL },
	{ "lost",	"The connection to your desktop was lost. "
			"Log in again to go back to it." },
	{ "lease",	"Your session was ended by the desktop service." },
};

static const struct words error_words[] = {
	{ "auth",	"Wrong user name or password." },
	{ "rate-limited", "Too many failed attempts." },
	{ "no-desktop",	"No desktop is free just now. "
			"Please try again in a few minutes." },
	{ "broker-unreachable", "The desktop service cannot be reached. "
			"Check the network cable or tell your administrator." },
	{ "broker-untrusted", "The desktop service could not prove who it is, "
			"so your password was not sent. "
			"Tell your administrator." },
	{ "desktop-unreachable", "Your desktop was found but cannot be "
			"reached. Please try again." },
	{ "desktop-untrusted", "Your desktop could not prove who it is, so it "
			"was not opened. Tell your administrator." },
	{ "rdp-auth",	"Your desktop refused the sign-in. Please try again." },
	{ "internal",	"Something went wrong." },
};

static const struct words *
lookup(const struct words *table, size_t n, const char *word)
{
	size_t	 i;

	for (i = 0; i < n; i++)
		if (strcmp(table[i].word, word) == 0)
			return &table[i];
	return NULL;
}

/* Copies the first word of *line to word and steps past it and a blank. */
static bool
take_word(const char **line, char *word)
{
	size_t	 n = strcspn(*line, " ");

	if (n == 0 || n >= GREETER_STATUS_WORD_MAX)
		return false;
	memcpy(word, *line, n);
	word[n] = '\0';
	*line += n;
	if (**line == ' ')
		(*line)++;
	return true;
}

static bool
printable(const char *s)
{
	for (; *s != '\0'; s++)
		if (*s < ' ' || *s > '~')
			return false;
	return true;
}

bool
greeter_status_parse(const char *line, struct greeter_status *st)
{
	char	 head[GREETER_STATUS_WORD_MAX];

	memset(st, 0, sizeof(*st));
	if (!printable(line) || !take_word(&line, head))
		return false;
	if (strcmp(head, "connected") == 0) {
		st->kind = GREETER_STATUS_CONNECTED;
		return *line == '\0';
	}
	if (strcmp(head, "progress") == 0)
		st->kind = GREETER_STATUS_PROGRESS;
	else if (strcmp(head, "ended") == 0)
		st->kind = GREETER_STATUS_ENDED;
	else if (strcmp(head, "error") == 0)
		st->kind = GREETER_STATUS_ERROR;
	else
		return false;
	if (!take_word(&line, st->word))
		return false;
	g_strlcpy(st->text, line, sizeof(st->text));
	return true;
}

bool
greeter_status_final(const struct greeter_status *st)
{
	return st->kind == GREETER_STATUS_ENDED ||
	    st->kind == GREETER_STATUS_ERROR;
}

const char *
greeter_status_progress_words(const struct greeter_status *st)
{
	const struct words *w = lookup(progress_words,
	    G_N_ELEMENTS(progress_words), st->word);

	return w != NULL ? w->say : "Please wait\u2026";
}

static char *
error_words_for(const struct greeter_status *st)
{
	const struct words *w = lookup(error_words, G_N_ELEMENTS(error_words),
	    st->word);
	const char	*say = w != NULL ? w->say : "Something went wrong.";

	/* xvds-client's own sentence says more (how long to wait, ...). */
	if (st->text[0] != '\0')
		return g_strdup_printf("%s\n%s", say, st->text);
	return g_strdup(say);
}

char *
greeter_status_outcome_words(const struct greeter_status *st)
{
	const struct words *w;

	if (st->kind == GREETER_STATUS_ERROR)
		return error_words_for(st);
	w = lookup(ended_words, G_N_ELEMENTS(ended_words), st->word);
	if (w == NULL)
		return g_strdup("Your session has ended.");
	return g_strdup(w->say);
}

char *
greeter_status_exit_words(int wait_status)
{
	if (WIFEXITED(wait_status))
		return g_strdup_printf("Something went wrong (xvds-client "
		    "exited with status %d).", WEXITSTATUS(wait_status));
	if (WIFSIGNALED(wait_status))
		return g_strdup_printf("Something went wrong (xvds-client "
		    "was killed by signal %d).", WTERMSIG(wait_status));
	return g_strdup("Something went wrong.");
}

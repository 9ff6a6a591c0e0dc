/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * common/conf.c — reads xvds.conf(5): a small hand-written lexer and a
 * recursive-descent parser over the whole file in memory, then the checks
 * that need the whole file (pools name templates defined later, shared
 * images, MAC collisions).  The first error ends the load and is reported
 * as "path:line: message"; a loaded configuration is always complete.
 *
 * Grammar (a statement ends at the end of its line):
 *
 *	file      = { stmt | NL }
 *	stmt      = setting | block
 *	block     = ("migration" | "controller" | "template" name | "pool" name)
 *		    [NL...] "{"
 *		    NL { setting NL | NL } "}"
 *	setting   = keyword value { value | optional-keyword }
 *
 * Values are bare words or "double-quoted strings" (escapes \" and \\).
 * Keywords, and the optional words inside a setting ("max", "port",
 * "golden", "overlay" ...), are recognised only unquoted.
 *
 * Each block's keywords are a table of rows (common/confread.h): a
 * setting of one value is set by set_value(); the keywords with a syntax
 * of their own, and the blocks, have a handler.
 */
#include <config.h>

#include <sys/types.h>
#include <sys/stat.h>
#include <arpa/inet.h>
#include <netinet/in.h>

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/conf.h"
#include "common/confread.h"

#define SHOW_MAX	64		/* bytes of a value quoted in a message */
/* Print a value of any length in a message: "%.*s%s", SHOW(s). */
#define SHOW(s)		(int)(strlen(s) > SHOW_MAX ? SHOW_MAX : strlen(s)), (s), \
			(strlen(s) > SHOW_MAX ? "..." : "")

#define MEMORY_MIN_MIB	32
#define MEMORY_MAX_MIB	(4096ULL * 1024)	/* 4096G: a typo's guard */
#define INTERVAL_MAX	3600			/* timeouts and the interval */
#define IDLE_MAX	(720 * 3600)		/* idle-pause, idle-save: 30 days */
#define WINDOW_MAX	1000
#define KW_MAX		16			/* keywords in a block */
#define HINT_MAX	32			/* longest word given a hint */

struct pool_entry {
	struct conf_pool pool;		/* what conf_pool_at() returns */
	char		 tmpl_name[TEMPLATE_NAME_MAX + 1];
	int		 line;
	int		 tmpl_line;
};

struct xvds_conf {
	struct conf_settings settings;
	struct conf_template **templates;
	size_t		 ntemplates;
	struct pool_entry **pools;
	size_t		 npools;
};

enum toktype {
	T_EOF,
	T_NL,
	T_LBRACE,
	T_RBRACE,
	T_WORD,		/* unquoted */
	T_STRING,	/* quoted, escapes resolved */
};

struct token {
	enum toktype	 type;
	int		 line;
	char		 text[CONF_LINE_MAX + 1];
};

struct parser {
	const char	*path;
	const char	*buf;
	size_t		 len;
	size_t		 pos;
	int		 line;
	struct token	 tok;		/* the current token */
	struct token	 ahead;		/* one token of lookahead */
	bool		 have_ahead;
	struct xvds_conf *conf;
	int		 tmpl_line[CONF_TEMPLATES_MAX];	/* where each began */
	char		*err;
	size_t		 errlen;
};

struct tmpl_ctx {
	struct conf_template *t;
	int		 disk_line[VMSPEC_DISKS_MAX];
};

static int	 perr(struct parser *, int, const char *, ...)
		    __attribute__((format(printf, 3, 4)));
static int	 ferr(char *, size_t, const char *, const char *, ...)
		    __attribute__((format(printf, 4, 5)));

/* "path:line: message"; returns -1 for the caller's return. */
static int
perr(struct parser *p, int line, const char *fmt, ...)
{
	va_list	 ap;
	int	 n;

	if (p->err == NULL || p->errlen == 0)
		return -1;
	n = snprintf(p->err, p->errlen, "%s:%d: ", p->path, line);
	if (n < 0 || (size_t)n >= p->errlen)
		return -1;
	va_start(ap, fmt);
	vsnprintf(p->err + n, p->errlen - (size_t)n, fmt, ap);
	va_end(ap);
	return -1;
}

/* "path: message", for the file as a whole. */
static int
ferr(char *err, size_t errlen, const char *path, const char *fmt, ...)
{
	va_list	 ap;
	int	 n;

	if (err == NULL || errlen == 0)
		return -1;
	n = snprintf(err, errlen, "%s: ", path);
	if (n < 0 || (size_t)n >= errlen)
		return -1;
	va_start(ap, fmt);
	vsnprintf(err + n, errlen - (size_t)n, fmt, ap);
	va_end(ap);
	return -1;
}

/*
 * Reading the file.
 */

char *
conf_read_file(const char *path, size_t *len_r, char *err, size_t errlen)
{
	struct stat st;
	char	*buf = NULL;
	size_t	 len = 0;
	ssize_t	 n;
	int	 fd;

	/* O_NONBLOCK: a FIFO in the file's place must not hang the daemon. */
	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK)) == -1) {
		ferr(err, errlen, path, "cannot open: %s", strerror(errno));
		return NULL;
	}
	if (fstat(fd, &st) == -1) {
		ferr(err, errlen, path, "cannot stat: %s", strerror(errno));
		goto fail;
	}
	if (!S_ISREG(st.st_mode)) {
		ferr(err, errlen, path, "not a regular file");
		goto fail;
	}
	/* One byte more than allowed, to tell a full file from a big one. */
	if ((buf = malloc(CONF_FILE_MAX + 1)) == NULL) {
		ferr(err, errlen, path, "out of memory");
		goto fail;
	}
	while (len < CONF_FILE_MAX + 1) {
		n = read(fd, buf + len, CONF_FILE_MAX + 1 - len);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1) {
			ferr(err, errlen, path, "read: %s", strerror(errno));
			goto fail;
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	if (len > CONF_FILE_MAX) {
		ferr(err, errlen, path, "larger than %d bytes (1 MiB): refused",
		    CONF_FILE_MAX);
		goto fail;
	}
	close(fd);
	buf[len] = '\0';	/* room for it: the buffer is one byte longer */
	*len_r = len;
	return buf;
 fail:
	free(buf);
	close(fd);
	return NULL;
}

/* Checks done on the raw bytes, before any token: NULs, line lengths. */
static int
scan_lines(struct parser *p)
{
	size_t	 i, start = 0;
	int	 line = 1;

	for (i = 0; i <= p->len; i++) {
		if (i < p->len && p->buf[i] == '\0')
			return perr(p, line, "contains a NUL byte");
		if (i == p->len || p->buf[i] == '\n') {
			if (i - start > CONF_LINE_MAX)
				return perr(p, line, "line is longer than %d bytes",
				    CONF_LINE_MAX);
			start = i + 1;
			line++;
		}
	}
	return 0;
}

/*
 * The lexer.
 */

static bool
word_char(unsigned char c)
{
	return c > ' ' && c < 0x7f && c != '"' && c != '{' && c != '}' &&
	    c != '#';
}

static int
lex_string(struct parser *p, struct token *t)
{
	size_t	 n = 0;

	p->pos++;	/* the opening quote */
	for (;;) {
		unsigned char c;

		if (p->pos >= p->len)
			return perr(p, t->line, "unterminated string");
		c = (unsigned char)p->buf[p->pos];
		if (c == '"') {
			p->pos++;
			break;
		}
		if (c == '\n')
			return perr(p, t->line, "newline in a string (a string "
			    "ends on the line it starts)");
		if (c == '\\') {
			if (p->pos + 1 >= p->len)
				return perr(p, t->line, "unterminated string");
			c = (unsigned char)p->buf[p->pos + 1];
			if (c != '"' && c != '\\') {
				if (c < ' ' || c == 0x7f)
					return perr(p, t->line, "unknown escape in "
					    "a string (only \\\" and \\\\)");
				return perr(p, t->line, "unknown escape \\%c in a "
				    "string (only \\\" and \\\\)", c);
			}
			p->pos++;
		} else if (c < ' ' || c == 0x7f)
			return perr(p, t->line, "control character 0x%02x in a "
			    "string", c);
		/* scan_lines() bounds a line, hence a string. */
		if (n >= CONF_LINE_MAX)
			return perr(p, t->line, "string too long");
		t->text[n++] = (char)c;
		p->pos++;
	}
	t->text[n] = '\0';
	t->type = T_STRING;
	return 0;
}

static int
lex(struct parser *p, struct token *t)
{
	unsigned char c;
	size_t	 n;

	for (;;) {
		if (p->pos >= p->len) {
			t->type = T_EOF;
			t->line = p->line;
			strcpy(t->text, "end of file");
			return 0;
		}
		c = (unsigned char)p->buf[p->pos];
		if (c == ' ' || c == '\t' || c == '\r') {
			p->pos++;
			continue;
		}
		if (c == '#') {
			while (p->pos < p->len && p->buf[p->pos] != '\n')
				p->pos++;
			continue;
		}
		break;
	}
	t->line = p->line;
	switch (c) {
	case '\n':
		p->pos++;
		p->line++;
		t->type = T_NL;
		strcpy(t->text, "end of line");
		return 0;
	case '{':
	case '}':
		p->pos++;
		t->type = c == '{' ? T_LBRACE : T_RBRACE;
		t->text[0] = (char)c;
		t->text[1] = '\0';
		return 0;
	case '"':
		return lex_string(p, t);
	}
	if (!word_char(c)) {
		if (c > ' ' && c < 0x7f)
			return perr(p, t->line, "unexpected character '%c'", c);
		return perr(p, t->line, "unexpected byte 0x%02x (outside a "
		    "string only printable ASCII)", c);
	}
	for (n = 0; p->pos < p->len && word_char((unsigned char)p->buf[p->pos]);
	    p->pos++) {
		if (n >= CONF_LINE_MAX)
			return perr(p, t->line, "word too long");
		t->text[n++] = p->buf[p->pos];
	}
	t->text[n] = '\0';
	t->type = T_WORD;
	return 0;
}

/* The next token into p->tok. */
static int
next(struct parser *p)
{
	if (p->have_ahead) {
		p->have_ahead = false;
		p->tok.type = p->ahead.type;
		p->tok.line = p->ahead.line;
		memcpy(p->tok.text, p->ahead.text, strlen(p->ahead.text) + 1);
		return 0;
	}
	return lex(p, &p->tok);
}

static const struct token *
peek(struct parser *p)
{
	if (!p->have_ahead) {
		if (lex(p, &p->ahead) == -1)
			return NULL;
		p->have_ahead = true;
	}
	return &p->ahead;
}

/*
 * Values.
 */

/* The value of setting kw into p->tok. */
static int
value(struct parser *p, const char *kw, int line, const char *what)
{
	if (next(p) == -1)
		return -1;
	switch (p->tok.type) {
	case T_WORD:
	case T_STRING:
		return 0;
	case T_LBRACE:
	case T_RBRACE:
		return perr(p, p->tok.line, "%s: missing %s before \"%s\"", kw,
		    what, p->tok.text);
	default:
		return perr(p, line, "%s: missing %s", kw, what);
	}
}

/* An optional unquoted word: 1 if it is next (and consumed), 0 if not. */
static int
accept_word(struct parser *p, const char *word)
{
	const struct token *t;

	if ((t = peek(p)) == NULL)
		return -1;
	if (t->type != T_WORD || strcmp(t->text, word) != 0)
		return 0;
	return next(p) == -1 ? -1 : 1;
}

/* A statement ends at a newline, at the end of the file or before "}". */
static int
end_stmt(struct parser *p, const char *kw, const char *expected)
{
	const struct token *t;

	if ((t = peek(p)) == NULL)
		return -1;
	switch (t->type) {
	case T_NL:
		return next(p);
	case T_EOF:
	case T_RBRACE:
		return 0;
	default:
		return perr(p, t->line, "%s: unexpected \"%.*s%s\" (expected %s)",
		    kw, SHOW(t->text), expected);
	}
}

#define END_OF_LINE	"the end of the line"

/* Decimal digits only; at most 12, so that no product below overflows. */
static int
digits(const char *s, size_t len, uint64_t *v_r)
{
	uint64_t v = 0;
	size_t	 i;

	if (len == 0 || len > 12)
		return -1;
	for (i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (uint64_t)(s[i] - '0');
	}
	*v_r = v;
	return 0;
}

static int
get_uint(struct parser *p, const char *kw, unsigned min, unsigned max,
    unsigned *v_r)
{
	const char *s = p->tok.text;
	uint64_t v;

	if (digits(s, strlen(s), &v) == -1) {
		if (strlen(s) > 12 && strspn(s, "0123456789") == strlen(s))
			return perr(p, p->tok.line, "%s %.*s%s: more than %u",
			    kw, SHOW(s), max);
		return perr(p, p->tok.line, "%s %.*s%s: not a number", kw, SHOW(s));
	}
	if (v < min)
		return perr(p, p->tok.line, "%s %s: less than %u", kw, s, min);
	if (v > max)
		return perr(p, p->tok.line, "%s %s: more than %u", kw, s, max);
	*v_r = (unsigned)v;
	return 0;
}

static const char *
fmt_duration(unsigned secs, char *buf, size_t len)
{
	if (secs == 0)
		snprintf(buf, len, "0");
	else if (secs % 3600 == 0)
		snprintf(buf, len, "%uh", secs / 3600);
	else if (secs % 60 == 0)
		snprintf(buf, len, "%um", secs / 60);
	else
		snprintf(buf, len, "%us", secs);
	return buf;
}

static const char *
fmt_size(uint64_t mib, char *buf, size_t len)
{
	if (mib != 0 && mib % 1024 == 0)
		snprintf(buf, len, "%lluG", (unsigned long long)(mib / 1024));
	else
		snprintf(buf, len, "%lluM", (unsigned long long)mib);
	return buf;
}

/* "30s", "5m", "1h"; a bare "0" too, since zero needs no unit. */
static int
get_duration(struct parser *p, const char *kw, unsigned min, unsigned max,
    unsigned *v_r)
{
	const char *s = p->tok.text;
	size_t	 len = strlen(s);
	uint64_t v, mult;
	char	 b[32];

	if (digits(s, len, &v) == 0) {
		if (v != 0)
			return perr(p, p->tok.line, "%s %s: a duration needs a "
			    "unit: s, m or h (e.g. %ss)", kw, s, s);
		mult = 1;
	} else {
		switch (len > 1 ? s[len - 1] : '\0') {
		case 's':
			mult = 1;
			break;
		case 'm':
			mult = 60;
			break;
		case 'h':
			mult = 3600;
			break;
		default:
			mult = 0;
			break;
		}
		if (mult == 0 || digits(s, len - 1, &v) == -1)
			return perr(p, p->tok.line, "%s %.*s%s: expected a "
			    "duration: a number with s, m or h (e.g. 30s, 5m, "
			    "1h)", kw, SHOW(s));
	}
	v *= mult;
	if (v < min)
		return perr(p, p->tok.line, "%s %s: less than %s", kw, s,
		    fmt_duration(min, b, sizeof(b)));
	if (v > max)
		return perr(p, p->tok.line, "%s %s: more than %s", kw, s,
		    fmt_duration(max, b, sizeof(b)));
	*v_r = (unsigned)v;
	return 0;
}

/* "512M", "2G": MiB and GiB. */
static int
get_size(struct parser *p, const char *kw, uint64_t *mib_r)
{
	const char *s = p->tok.text;
	size_t	 len = strlen(s);
	uint64_t v, mult;
	char	 b[32];

	if (digits(s, len, &v) == 0)
		return perr(p, p->tok.line, "%s %s: a size needs a unit: M or G "
		    "(e.g. %sM)", kw, s, s);
	mult = len > 1 && s[len - 1] == 'M' ? 1 :
	    len > 1 && s[len - 1] == 'G' ? 1024 : 0;
	if (mult == 0 || digits(s, len - 1, &v) == -1)
		return perr(p, p->tok.line, "%s %.*s%s: expected a size: a "
		    "number with M or G (e.g. 512M, 2G)", kw, SHOW(s));
	v *= mult;
	if (v < MEMORY_MIN_MIB)
		return perr(p, p->tok.line, "%s %s: less than %s", kw, s,
		    fmt_size(MEMORY_MIN_MIB, b, sizeof(b)));
	if (v > MEMORY_MAX_MIB)
		return perr(p, p->tok.line, "%s %s: more than %s", kw, s,
		    fmt_size(MEMORY_MAX_MIB, b, sizeof(b)));
	*mib_r = v;
	return 0;
}

/* Absolute, no ".." component, no trailing '/', at most max bytes. */
static int
get_path(struct parser *p, const char *kw, char *buf, size_t max)
{
	const char *s = p->tok.text;
	size_t	 len = strlen(s);

	if (s[0] != '/')
		return perr(p, p->tok.line, "%s \"%.*s%s\": not an absolute path",
		    kw, SHOW(s));
	if (len > max)
		return perr(p, p->tok.line, "%s \"%.*s%s\": path longer than %zu "
		    "bytes", kw, SHOW(s), max);
	if (strstr(s, "/../") != NULL || (len >= 3 &&
	    strcmp(s + len - 3, "/..") == 0))
		return perr(p, p->tok.line, "%s \"%s\": \"..\" is not allowed in "
		    "a path", kw, s);
	if (s[len - 1] == '/')
		return perr(p, p->tok.line, "%s \"%s\": a path must not end in "
		    "'/'", kw, s);
	memcpy(buf, s, len + 1);
	return 0;
}

static bool
valid_name(const char *s)
{
	size_t	 i, len = strlen(s);

	if (len == 0 || len > TEMPLATE_NAME_MAX ||
	    !((s[0] >= 'a' && s[0] <= 'z') || (s[0] >= 'A' && s[0] <= 'Z')))
		return false;
	for (i = 1; i < len; i++) {
		char c = s[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || c == '_' || c == '-'))
			return false;
	}
	return true;
}

static int
get_name(struct parser *p, const char *kw, char *buf)
{
	if (!valid_name(p->tok.text))
		return perr(p, p->tok.line, "%s \"%.*s%s\": a name is 1 to %d of "
		    "[A-Za-z0-9_-], first a letter", kw, SHOW(p->tok.text),
		    TEMPLATE_NAME_MAX);
	memcpy(buf, p->tok.text, strlen(p->tok.text) + 1);
	return 0;
}

/* Linux's dev_valid_name(), restricted to printable ASCII. */
static bool
valid_ifname(const char *s)
{
	size_t	 i, len = strlen(s);

	if (len == 0 || len > VMSPEC_BRIDGE_MAX || strcmp(s, ".") == 0 ||
	    strcmp(s, "..") == 0)
		return false;
	for (i = 0; i < len; i++)
		if (s[i] <= ' ' || s[i] >= 0x7f || s[i] == '/' || s[i] == ':')
			return false;
	return true;
}

/* xvda ... xvdz: one letter, as libxl numbers them (see xvds.conf(5)). */
static bool
valid_vdev(const char *s)
{
	return strlen(s) == 4 && strncmp(s, "xvd", 3) == 0 &&
	    s[3] >= 'a' && s[3] <= 'z';
}

/*
 * Blocks and keyword tables.
 */

/* A keyword: its row, and a handler if its syntax is its own. */
struct keyword {
	struct confread_kw row;
	int		(*parse)(struct parser *, void *, const char *, int);
	bool		 repeat;	/* may appear more than once */
};

/* A block's keywords and what they set. */
struct block {
	const struct keyword *kw;
	size_t		 nkw;
	void		*obj;		/* what the handlers get */
	void		*base;		/* what the rows' offsets are in */
	const char	*where;		/* " in pool \"p\"", for messages */
	int		 open_line;	/* 0 for the top level */
	int		 seen[KW_MAX];	/* the line where each was set */
};

#define ROW(kw, type, what, min, max, st, field, from) \
	{ { kw, type, what, min, max, offsetof(st, field), from }, NULL, false }
#define SETTING(kw, type, what, min, max, field) \
	ROW(kw, type, what, min, max, struct conf_settings, field, NULL)
#define SPECIAL(kw, parse, repeat) \
	{ { kw, CONFREAD_SPECIAL, NULL, 0, 0, 0, NULL }, parse, repeat }
#define NKW(t)	(sizeof(t) / sizeof((t)[0]))

static int	 parse_block(struct parser *, struct block *);

/* The line where keyword name was set in a block, 0 if it was not. */
static int
seen_line(const struct block *b, const char *name)
{
	size_t	 i;

	for (i = 0; i < b->nkw; i++)
		if (strcmp(b->kw[i].row.name, name) == 0)
			return b->seen[i];
	return 0;
}

/* A value of a row's type into its field of base: the generic handler. */
static int
set_value(struct parser *p, const struct confread_kw *row, void *base,
    int line)
{
	void	*field = confread_field(base, row);
	size_t	 len;
	int	 v;

	if (value(p, row->name, line, row->what) == -1)
		return -1;
	len = strlen(p->tok.text);
	switch (row->type) {
	case CONFREAD_STRING:
		if (len > row->max)
			return perr(p, p->tok.line, "%s: longer than %u bytes",
			    row->name, row->max);
		memcpy(field, p->tok.text, len + 1);
		break;
	case CONFREAD_PATH:
	case CONFREAD_FILE:
		if (get_path(p, row->name, field, row->max) == -1)
			return -1;
		break;
	case CONFREAD_NAME:
		if (get_name(p, row->name, field) == -1)
			return -1;
		break;
	case CONFREAD_UINT:
		if (get_uint(p, row->name, row->min, row->max, field) == -1)
			return -1;
		break;
	case CONFREAD_DURATION:
		if (get_duration(p, row->name, row->min, row->max, field) == -1)
			return -1;
		break;
	case CONFREAD_ENUM:
		if ((v = row->from_name(p->tok.text)) == -1)
			return perr(p, p->tok.line, "%s %.*s%s: expected %s",
			    row->name, SHOW(p->tok.text), row->what);
		memcpy(field, &v, sizeof(v));
		break;
	case CONFREAD_SPECIAL:
		return -1;
	}
	return end_stmt(p, row->name, END_OF_LINE);
}

/* Top-level handlers get the whole configuration. */
static struct conf_settings *
top_settings(void *obj)
{
	return &((struct xvds_conf *)obj)->settings;
}

static int
kw_store(struct parser *p, void *obj, const char *kw, int line)
{
	struct conf_settings *s = top_settings(obj);

	if (value(p, kw, line, "the store's path") == -1)
		return -1;
	if (strlen(p->tok.text) > CONF_STORE_MAX && p->tok.text[0] == '/')
		return perr(p, p->tok.line, "store \"%.*s%s\": path longer than "
		    "%d bytes (per-VM disk paths under it must fit in %d)",
		    SHOW(p->tok.text), CONF_STORE_MAX, VMSPEC_PATH_MAX);
	if (get_path(p, kw, s->store, CONF_STORE_MAX) == -1)
		return -1;
	return end_stmt(p, kw, END_OF_LINE);
}

/* A numeric IPv4 or IPv6 address, then optionally "port N". */
static int
get_addr_port(struct parser *p, const char *kw, int line, char *addr_r,
    uint16_t *port_r)
{
	unsigned char addr[sizeof(struct in6_addr)];
	unsigned port;
	int	 r;

	if (value(p, kw, line, "an address") == -1)
		return -1;
	if (strlen(p->tok.text) > CONF_ADDR_MAX ||
	    (inet_pton(AF_INET, p->tok.text, addr) != 1 &&
	    inet_pton(AF_INET6, p->tok.text, addr) != 1))
		return perr(p, p->tok.line, "%s \"%.*s%s\": not a numeric "
		    "IPv4 or IPv6 address", kw, SHOW(p->tok.text));
	memcpy(addr_r, p->tok.text, strlen(p->tok.text) + 1);
	if ((r = accept_word(p, "port")) == -1)
		return -1;
	if (r == 1) {
		if (value(p, "port", line, "a port number") == -1 ||
		    get_uint(p, "port", 1, 65535, &port) == -1)
			return -1;
		*port_r = (uint16_t)port;
	}
	return end_stmt(p, kw, "\"port\" or " END_OF_LINE);
}

/* migration { ... } */

static int
kw_listen(struct parser *p, void *obj, const char *kw, int line)
{
	struct conf_settings *s = obj;

	return get_addr_port(p, kw, line, s->migration_listen,
	    &s->migration_port);
}

static const struct keyword migration_keywords[] = {
	SPECIAL("listen", kw_listen, false),
	SETTING("key-file", CONFREAD_PATH, "a file", 0, VMSPEC_PATH_MAX,
	    migration_key_file),
};

/* controller { ... } */

static int
kw_ctl_address(struct parser *p, void *obj, const char *kw, int line)
{
	struct conf_settings *s = obj;

	return get_addr_port(p, kw, line, s->controller_address,
	    &s->controller_port);
}

/* What the controller's certificate must name: a DNS name or an address. */
static int
kw_ctl_server_name(struct parser *p, void *obj, const char *kw, int line)
{
	struct conf_settings *s = obj;
	const char *t;
	size_t	 len;

	if (value(p, kw, line, "a name") == -1)
		return -1;
	t = p->tok.text;
	len = strlen(t);
	if (len == 0 || len > CONF_SERVER_NAME_MAX ||
	    strspn(t, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
	    "0123456789.-:") != len || t[0] == '.' || t[0] == '-')
		return perr(p, p->tok.line, "%s \"%.*s%s\": not a DNS name or "
		    "an address", kw, SHOW(t));
	memcpy(s->controller_server_name, t, len + 1);
	return end_stmt(p, kw, END_OF_LINE);
}

static const struct keyword controller_keywords[] = {
	SPECIAL("address", kw_ctl_address, false),
	SPECIAL("server-name", kw_ctl_server_name, false),
	SETTING("ca-file", CONFREAD_PATH, "a file", 0, VMSPEC_PATH_MAX,
	    controller_ca_file),
	SETTING("cert-file", CONFREAD_PATH, "a file", 0, VMSPEC_PATH_MAX,
	    controller_cert_file),
	SETTING("key-file", CONFREAD_PATH, "a file", 0, VMSPEC_PATH_MAX,
	    controller_key_file),
};

/* template "name" { ... } */

static int
kw_vcpus(struct parser *p, void *obj, const char *kw, int line)
{
	struct tmpl_ctx *c = obj;
	int	 r;

	if (value(p, kw, line, "a number of vCPUs") == -1 ||
	    get_uint(p, kw, 1, VMSPEC_VCPUS_MAX, &c->t->vcpus) == -1)
		return -1;
	c->t->max_vcpus = c->t->vcpus;
	if ((r = accept_word(p, "max")) == -1)
		return -1;
	if (r == 1) {
		if (value(p, "vcpus max", line, "a number of vCPUs") == -1 ||
		    get_uint(p, "vcpus max", 1, VMSPEC_VCPUS_MAX,
		    &c->t->max_vcpus) == -1)
			return -1;
		if (c->t->max_vcpus < c->t->vcpus)
			return perr(p, p->tok.line, "vcpus %u max %u: max is less "
			    "than vcpus", c->t->vcpus, c->t->max_vcpus);
	}
	return end_stmt(p, kw, "\"max\" or " END_OF_LINE);
}

static int
kw_memory(struct parser *p, void *obj, const char *kw, int line)
{
	struct tmpl_ctx *c = obj;
	char	 a[32], b[32];
	int	 r;

	if (value(p, kw, line, "a size") == -1 ||
	    get_size(p, kw, &c->t->memory_mib) == -1)
		return -1;
	c->t->max_memory_mib = c->t->memory_mib;
	if ((r = accept_word(p, "max")) == -1)
		return -1;
	if (r == 1) {
		if (value(p, "memory max", line, "a size") == -1 ||
		    get_size(p, "memory max", &c->t->max_memory_mib) == -1)
			return -1;
		if (c->t->max_memory_mib < c->t->memory_mib)
			return perr(p, p->tok.line, "memory %s max %s: max is less "
			    "than memory", fmt_size(c->t->memory_mib, a, sizeof(a)),
			    fmt_size(c->t->max_memory_mib, b, sizeof(b)));
	}
	return end_stmt(p, kw, "\"max\" or " END_OF_LINE);
}
/* disk <vdev> [golden] <path> [overlay | clone | readonly] */
static int
kw_disk(struct parser *p, void *obj, const char *kw, int line)
{
	struct tmpl_ctx *c = obj;
	struct template_disk d;
	const struct token *t;
	size_t	 i;
	bool	 golden, readonly = false;
	int	 r, mode = -1;

	memset(&d, 0, sizeof(d));
	if (value(p, kw, line, "a device name (xvda to xvdz)") == -1)
		return -1;
	if (!valid_vdev(p->tok.text))
		return perr(p, p->tok.line, "disk %.*s%s: expected a device name "
		    "xvda to xvdz", SHOW(p->tok.text));
	memcpy(d.vdev, p->tok.text, strlen(p->tok.text) + 1);
	for (i = 0; i < c->t->ndisks; i++)
		if (strcmp(c->t->disks[i].vdev, d.vdev) == 0)
			return perr(p, p->tok.line, "disk %s: already defined on "
			    "line %d", d.vdev, c->disk_line[i]);
	if (c->t->ndisks == VMSPEC_DISKS_MAX)
		return perr(p, line, "disk %s: more than %d disks", d.vdev,
		    VMSPEC_DISKS_MAX);
	if ((r = accept_word(p, "golden")) == -1)
		return -1;
	golden = r == 1;
	if (value(p, "disk", line, golden ? "the golden image's path" :
	    "the image's path") == -1 || get_path(p, "disk", d.path,
	    VMSPEC_PATH_MAX) == -1)
		return -1;
	if ((t = peek(p)) == NULL)
		return -1;
	if (t->type == T_WORD) {
		if (strcmp(t->text, "overlay") == 0)
			mode = TEMPLATE_DISK_OVERLAY;
		else if (strcmp(t->text, "clone") == 0)
			mode = TEMPLATE_DISK_CLONE;
		else if (strcmp(t->text, "readonly") == 0)
			readonly = true;
		if (mode != -1 || readonly)
			(void)next(p);	/* peeked: cannot fail */
	}
	if (golden && readonly)
		return perr(p, line, "disk %s: readonly is for a shared image; a "
		    "golden image is used through \"overlay\" or \"clone\"",
		    d.vdev);
	if (golden && mode == -1)
		return perr(p, line, "disk %s: a golden image needs \"overlay\" "
		    "or \"clone\"", d.vdev);
	if (!golden && mode != -1)
		return perr(p, line, "disk %s: %s needs a golden image: disk %s "
		    "golden \"%s\" %s", d.vdev, template_disk_mode_names[mode],
		    d.vdev, d.path, template_disk_mode_names[mode]);
	d.mode = golden ? (enum template_disk_mode)mode : TEMPLATE_DISK_IMAGE;
	d.readonly = readonly;
	if (end_stmt(p, kw, golden || readonly ? END_OF_LINE :
	    "\"readonly\" or " END_OF_LINE) == -1)
		return -1;
	c->disk_line[c->t->ndisks] = line;
	c->t->disks[c->t->ndisks++] = d;
	return 0;
}

/* network bridge <name> */
static int
kw_network(struct parser *p, void *obj, const char *kw, int line)
{
	struct tmpl_ctx *c = obj;
	int	 r;

	if ((r = accept_word(p, "bridge")) == -1)
		return -1;
	if (r == 0)
		return perr(p, line, "network: expected \"bridge\" and a bridge's "
		    "name");
	if (value(p, "network bridge", line, "a bridge's name") == -1)
		return -1;
	if (!valid_ifname(p->tok.text))
		return perr(p, p->tok.line, "network bridge \"%.*s%s\": not an "
		    "interface name (1 to %d characters, no '/', ':' or white "
		    "space)", SHOW(p->tok.text), VMSPEC_BRIDGE_MAX);
	if (c->t->nnics == VMSPEC_NICS_MAX)
		return perr(p, line, "network: more than %d networks",
		    VMSPEC_NICS_MAX);
	memcpy(c->t->nics[c->t->nnics++].bridge, p->tok.text,
	    strlen(p->tok.text) + 1);
	return end_stmt(p, kw, END_OF_LINE);
}

#define TEMPLATE(kw, type, what, min, max, field, from) \
	ROW(kw, type, what, min, max, struct conf_template, field, from)

static const struct keyword template_keywords[] = {
	TEMPLATE("type", CONFREAD_ENUM, "pv, pvh or hvm", 0, 0, type,
	    template_type_from_name),
	SPECIAL("vcpus", kw_vcpus, false),
	SPECIAL("memory", kw_memory, false),
	TEMPLATE("kernel", CONFREAD_PATH, "a path", 0, VMSPEC_PATH_MAX, kernel,
	    NULL),
	TEMPLATE("ramdisk", CONFREAD_PATH, "a path", 0, VMSPEC_PATH_MAX,
	    ramdisk, NULL),
	TEMPLATE("cmdline", CONFREAD_STRING, "a kernel command line", 0,
	    VMSPEC_CMDLINE_MAX, cmdline, NULL),
	TEMPLATE("bootloader", CONFREAD_PATH, "a path", 0, VMSPEC_PATH_MAX,
	    bootloader, NULL),
	SPECIAL("disk", kw_disk, true),
	SPECIAL("network", kw_network, true),
};

/* pool "name" { ... } */

#define POOL(kw, type, what, min, max, field, from) \
	ROW(kw, type, what, min, max, struct pool_entry, field, from)

static const struct keyword pool_keywords[] = {
	POOL("template", CONFREAD_NAME, "a template's name", 0, 0, tmpl_name,
	    NULL),
	POOL("kind", CONFREAD_ENUM, "cvm or pvm", 0, 0, pool.kind,
	    vm_kind_from_name),
	POOL("size", CONFREAD_UINT, "a number of VMs", 0, CONF_POOL_SIZE_MAX,
	    pool.size, NULL),
	POOL("ready", CONFREAD_UINT, "a number of VMs", 0, CONF_POOL_SIZE_MAX,
	    pool.ready, NULL),
	POOL("idle-pause", CONFREAD_DURATION, "a duration", 0, IDLE_MAX,
	    pool.idle_pause, NULL),
	POOL("idle-save", CONFREAD_DURATION, "a duration", 0, IDLE_MAX,
	    pool.idle_save, NULL),
};

/* An enum's field is set through an int (set_value()). */
_Static_assert(sizeof(enum vm_type) == sizeof(int), "enum vm_type");
_Static_assert(sizeof(enum vm_kind) == sizeof(int), "enum vm_kind");

/* Name, "{", newline: the head of a block that began on line. */
static int
open_block(struct parser *p, const char *what, int line)
{
	do {
		if (next(p) == -1)
			return -1;
	} while (p->tok.type == T_NL);
	if (p->tok.type == T_EOF)
		return perr(p, line, "%s: expected \"{\", got the end of the "
		    "file", what);
	if (p->tok.type != T_LBRACE)
		return perr(p, p->tok.line, "%s: expected \"{\", got \"%.*s%s\"",
		    what, SHOW(p->tok.text));
	return end_stmt(p, what, "a newline after \"{\"");
}

/* The line after "}". */
static int
close_block(struct parser *p, const char *what)
{
	return end_stmt(p, what, "a newline after \"}\"");
}

/* A block of settings: migration, controller. */
static int
settings_block(struct parser *p, struct block *b, const char *kw, int line)
{
	b->open_line = line;
	return open_block(p, kw, line) == -1 || parse_block(p, b) == -1 ? -1 :
	    0;
}

static int
kw_migration(struct parser *p, void *obj, const char *kw, int line)
{
	struct block b = { migration_keywords, NKW(migration_keywords),
	    top_settings(obj), top_settings(obj), " in migration", 0, { 0 } };

	if (settings_block(p, &b, kw, line) == -1)
		return -1;
	return close_block(p, kw);
}

/* The block turns the link on; the address has no default. */
static int
kw_controller(struct parser *p, void *obj, const char *kw, int line)
{
	struct conf_settings *s = top_settings(obj);
	struct block b = { controller_keywords, NKW(controller_keywords), s, s,
	    " in controller", 0, { 0 } };

	if (settings_block(p, &b, kw, line) == -1)
		return -1;
	if (!seen_line(&b, "address"))
		return perr(p, line, "controller: address is not set (the "
		    "controller's numeric address)");
	s->controller = true;
	return close_block(p, kw);
}

static int
check_template(struct parser *p, const struct tmpl_ctx *c, int line,
    const struct block *b)
{
	const struct conf_template *t = c->t;
	size_t	 i;
	int	 l;

	if (!seen_line(b, "type"))
		return perr(p, line, "template \"%s\": type is not set (pv, pvh "
		    "or hvm)", t->name);
	if (!seen_line(b, "memory"))
		return perr(p, line, "template \"%s\": memory is not set",
		    t->name);
	if (t->kernel[0] != '\0' && t->bootloader[0] != '\0') {
		l = seen_line(b, "kernel");
		if (seen_line(b, "bootloader") > l)
			l = seen_line(b, "bootloader");
		return perr(p, l, "template \"%s\": kernel and bootloader "
		    "exclude each other", t->name);
	}
	if (t->bootloader[0] != '\0' && t->type != VM_TYPE_PV)
		return perr(p, seen_line(b, "bootloader"), "template "
		    "\"%s\": bootloader is only for type pv (type %s boots a "
		    "kernel%s)", t->name, vm_type_names[t->type],
		    t->type == VM_TYPE_HVM ? " or its firmware" : "");
	if (t->type == VM_TYPE_PVH && t->kernel[0] == '\0')
		return perr(p, line, "template \"%s\": type pvh needs a kernel",
		    t->name);
	if (t->type == VM_TYPE_PV && t->kernel[0] == '\0' &&
	    t->bootloader[0] == '\0')
		return perr(p, line, "template \"%s\": type pv needs a kernel or "
		    "a bootloader", t->name);
	if (t->ramdisk[0] != '\0' && t->kernel[0] == '\0')
		return perr(p, seen_line(b, "ramdisk"), "template "
		    "\"%s\": ramdisk needs a kernel", t->name);
	if (t->cmdline[0] != '\0' && t->kernel[0] == '\0' &&
	    t->bootloader[0] == '\0')
		return perr(p, seen_line(b, "cmdline"), "template "
		    "\"%s\": cmdline needs a kernel or a bootloader", t->name);
	if (t->kernel[0] == '\0' && t->ndisks == 0)
		return perr(p, line, "template \"%s\": type %s without a kernel "
		    "boots from a disk, and there is none", t->name,
		    vm_type_names[t->type]);
	/*
	 * qemu-xen emulates an HVM guest's first four disks as IDE drives,
	 * which it cannot make read-only: libxl would refuse the domain.
	 */
	for (i = 0; i < t->ndisks; i++)
		if (t->type == VM_TYPE_HVM && t->disks[i].readonly &&
		    t->disks[i].vdev[3] <= 'd')
			return perr(p, c->disk_line[i], "template \"%s\": disk %s: "
			    "an hvm guest's xvda to xvdd are emulated IDE disks, "
			    "which cannot be read-only: use xvde or later",
			    t->name, t->disks[i].vdev);
	return 0;
}

/*
 * The body of a template or pool named name: "{", its statements, "}";
 * what is "template" or "pool".
 */
static int
named_block(struct parser *p, struct block *b, const char *what,
    const char *name, int line)
{
	char	 head[64], where[sizeof(head) + 4];

	snprintf(head, sizeof(head), "%s \"%s\"", what, name);
	if (open_block(p, head, line) == -1)
		return -1;
	snprintf(where, sizeof(where), " in %s", head);
	b->where = where;
	b->open_line = line;
	return parse_block(p, b);
}

static int
kw_template(struct parser *p, void *obj, const char *kw, int line)
{
	struct xvds_conf *conf = obj;
	struct conf_template *t, **tv;
	struct tmpl_ctx c;
	struct block b = { template_keywords, NKW(template_keywords), &c, NULL,
	    NULL, 0, { 0 } };
	size_t	 i;

	if ((t = calloc(1, sizeof(*t))) == NULL)
		return perr(p, line, "out of memory");
	if (value(p, kw, line, "a name") == -1 || get_name(p, kw, t->name) == -1)
		goto fail;
	for (i = 0; i < conf->ntemplates; i++)
		if (strcmp(conf->templates[i]->name, t->name) == 0) {
			perr(p, line, "template \"%s\": defined twice (first "
			    "on line %d)", t->name, p->tmpl_line[i]);
			goto fail;
		}
	if (conf->ntemplates == CONF_TEMPLATES_MAX) {
		perr(p, line, "more than %d templates", CONF_TEMPLATES_MAX);
		goto fail;
	}
	/* Owned by conf from here, so that a later error frees it. */
	tv = reallocarray(conf->templates, conf->ntemplates + 1, sizeof(*tv));
	if (tv == NULL) {
		perr(p, line, "out of memory");
		goto fail;
	}
	conf->templates = tv;
	p->tmpl_line[conf->ntemplates] = line;
	conf->templates[conf->ntemplates++] = t;

	memset(&c, 0, sizeof(c));
	c.t = t;
	b.base = t;
	if (named_block(p, &b, "template", t->name, line) == -1)
		return -1;
	if (!seen_line(&b, "vcpus"))
		t->vcpus = t->max_vcpus = 1;
	if (check_template(p, &c, line, &b) == -1)
		return -1;
	return close_block(p, kw);
 fail:
	free(t);
	return -1;
}

static int
check_pool(struct parser *p, const struct pool_entry *e,
    const struct block *b)
{
	const struct conf_pool *pool = &e->pool;
	static const char *const cvm_only[] = { "ready", "idle-pause",
	    "idle-save" };
	size_t	 i;
	int	 l;

	if (e->tmpl_name[0] == '\0')
		return perr(p, e->line, "pool \"%s\": template is not set",
		    pool->name);
	if (!seen_line(b, "kind"))
		return perr(p, e->line, "pool \"%s\": kind is not set (cvm or "
		    "pvm)", pool->name);
	if (!seen_line(b, "size"))
		return perr(p, e->line, "pool \"%s\": size is not set",
		    pool->name);
	if (pool->kind == VM_PVM)
		for (i = 0; i < NKW(cvm_only); i++)
			if ((l = seen_line(b, cvm_only[i])) != 0)
				return perr(p, l, "pool \"%s\": %s is only for cvm "
				    "pools (a pvm is shut down after use)",
				    pool->name, cvm_only[i]);
	if (pool->ready > pool->size)
		return perr(p, seen_line(b, "ready"), "pool \"%s\": "
		    "ready %u: more than the pool's size %u", pool->name,
		    pool->ready, pool->size);
	if (pool->idle_save != 0 && pool->idle_pause == 0)
		return perr(p, seen_line(b, "idle-save"), "pool \"%s\": "
		    "idle-save is never reached without idle-pause (a CVM is "
		    "saved after it has been paused)", pool->name);
	return 0;
}

static int
kw_pool(struct parser *p, void *obj, const char *kw, int line)
{
	struct xvds_conf *conf = obj;
	struct pool_entry *e, **ev;
	struct block b = { pool_keywords, NKW(pool_keywords), NULL, NULL, NULL,
	    0, { 0 } };
	size_t	 i;

	if ((e = calloc(1, sizeof(*e))) == NULL)
		return perr(p, line, "out of memory");
	e->line = line;
	if (value(p, kw, line, "a name") == -1 ||
	    get_name(p, kw, e->pool.name) == -1)
		goto fail;
	for (i = 0; i < conf->npools; i++)
		if (strcmp(conf->pools[i]->pool.name, e->pool.name) == 0) {
			perr(p, line, "pool \"%s\": defined twice (first on line "
			    "%d)", e->pool.name, conf->pools[i]->line);
			goto fail;
		}
	if (conf->npools == CONF_POOLS_MAX) {
		perr(p, line, "more than %d pools", CONF_POOLS_MAX);
		goto fail;
	}
	ev = reallocarray(conf->pools, conf->npools + 1, sizeof(*ev));
	if (ev == NULL) {
		perr(p, line, "out of memory");
		goto fail;
	}
	conf->pools = ev;
	conf->pools[conf->npools++] = e;

	b.obj = b.base = e;
	if (named_block(p, &b, "pool", e->pool.name, line) == -1)
		return -1;
	e->tmpl_line = seen_line(&b, "template");
	if (check_pool(p, e, &b) == -1)
		return -1;
	return close_block(p, kw);
 fail:
	free(e);
	return -1;
}

static const struct keyword top_keywords[] = {
	SETTING("host-name", CONFREAD_NAME, "a name", 0, 0, host_name),
	SETTING("state-dir", CONFREAD_PATH, "a directory", 0, VMSPEC_PATH_MAX,
	    state_dir),
	SETTING("control-socket", CONFREAD_PATH, "a socket path", 0,
	    CONF_SOCKET_MAX, control_socket),
	SPECIAL("store", kw_store, false),
	SETTING("sample-interval", CONFREAD_DURATION, "a duration", 1,
	    INTERVAL_MAX, sample_interval),
	SETTING("sample-window", CONFREAD_UINT, "a number of samples", 1,
	    WINDOW_MAX, sample_window),
	SETTING("boot-timeout", CONFREAD_DURATION, "a duration", 1,
	    INTERVAL_MAX, boot_timeout),
	SETTING("shutdown-timeout", CONFREAD_DURATION, "a duration", 1,
	    INTERVAL_MAX, shutdown_timeout),
	SETTING("session-grace", CONFREAD_DURATION, "a duration", 0,
	    INTERVAL_MAX, session_grace),
	SETTING("credential-timeout", CONFREAD_DURATION, "a duration", 1, 600,
	    credential_timeout),
	SETTING("max-clock-skew", CONFREAD_DURATION, "a duration", 0,
	    INTERVAL_MAX, max_clock_skew),
	SPECIAL("migration", kw_migration, false),
	SPECIAL("controller", kw_controller, false),
	SPECIAL("template", kw_template, true),
	SPECIAL("pool", kw_pool, true),
};

_Static_assert(NKW(template_keywords) <= KW_MAX, "seen[] too small");
_Static_assert(NKW(pool_keywords) <= KW_MAX, "seen[] too small");
_Static_assert(NKW(top_keywords) <= KW_MAX, "seen[] too small");
/* Where each keyword belongs, for hints on misplaced ones. */
static const struct {
	const struct keyword *kw;
	size_t		 n;
	const char	*where;
} contexts[] = {
	{ top_keywords, NKW(top_keywords), "at the top level" },
	{ migration_keywords, NKW(migration_keywords), "in a migration block" },
	{ controller_keywords, NKW(controller_keywords), "in a controller block" },
	{ template_keywords, NKW(template_keywords), "in a template block" },
	{ pool_keywords, NKW(pool_keywords), "in a pool block" },
};

/* Levenshtein distance, for short words only (keywords). */
static size_t
distance(const char *a, const char *b)
{
	size_t	 row[HINT_MAX + 1], la = strlen(a), lb = strlen(b), i, j;

	if (la > HINT_MAX || lb > HINT_MAX)
		return (size_t)-1;
	for (j = 0; j <= lb; j++)
		row[j] = j;
	for (i = 1; i <= la; i++) {
		size_t diag = row[0], up;

		row[0] = i;
		for (j = 1; j <= lb; j++) {
			size_t best;

			up = row[j];
			best = diag + (a[i - 1] != b[j - 1]);
			if (up + 1 < best)
				best = up + 1;
			if (row[j - 1] + 1 < best)
				best = row[j - 1] + 1;
			row[j] = best;
			diag = up;
		}
	}
	return row[lb];
}

static int
unknown_keyword(struct parser *p, const struct keyword *kw, size_t nkw,
    const char *where)
{
	const char *word = p->tok.text;
	size_t	 i, j, d, best = 3;
	const char *guess = NULL;

	for (i = 0; i < NKW(contexts); i++) {
		if (contexts[i].kw == kw)
			continue;
		for (j = 0; j < contexts[i].n; j++)
			if (strcmp(contexts[i].kw[j].row.name, word) == 0)
				return perr(p, p->tok.line, "unknown keyword "
				    "\"%s\"%s (%s belongs %s)", word, where, word,
				    contexts[i].where);
	}
	for (i = 0; i < nkw; i++)
		if ((d = distance(word, kw[i].row.name)) < best) {
			best = d;
			guess = kw[i].row.name;
		}
	if (guess != NULL)
		return perr(p, p->tok.line, "unknown keyword \"%s\"%s (did you "
		    "mean \"%s\"?)", word, where, guess);
	return perr(p, p->tok.line, "unknown keyword \"%.*s%s\"%s", SHOW(word),
	    where);
}

/*
 * Statements until "}" (open_line > 0) or the end of the file (0); seen
 * gets the line where each keyword was set, for duplicates and for the
 * caller's checks.
 */
static int
parse_block(struct parser *p, struct block *b)
{
	const struct keyword *kw;
	size_t	 i;
	int	 line;

	for (;;) {
		if (next(p) == -1)
			return -1;
		switch (p->tok.type) {
		case T_NL:
			continue;
		case T_EOF:
			if (b->open_line == 0)
				return 0;
			return perr(p, p->tok.line, "missing \"}\" at the end of "
			    "the file (block opened on line %d)", b->open_line);
		case T_RBRACE:
			if (b->open_line != 0)
				return 0;
			return perr(p, p->tok.line, "\"}\" without a block to "
			    "close");
		case T_LBRACE:
			return perr(p, p->tok.line, "unexpected \"{\"%s",
			    b->where);
		case T_STRING:
			return perr(p, p->tok.line, "expected a keyword%s, got "
			    "\"%.*s%s\"", b->where, SHOW(p->tok.text));
		case T_WORD:
			break;
		}
		for (i = 0; i < b->nkw; i++)
			if (strcmp(b->kw[i].row.name, p->tok.text) == 0)
				break;
		if (i == b->nkw)
			return unknown_keyword(p, b->kw, b->nkw, b->where);
		kw = &b->kw[i];
		line = p->tok.line;
		if (!kw->repeat && b->seen[i] != 0)
			return perr(p, line, "%s%s: set twice (first on line %d)",
			    kw->row.name, b->where, b->seen[i]);
		b->seen[i] = line;
		if ((kw->parse != NULL ? kw->parse(p, b->obj, kw->row.name, line) :
		    set_value(p, &kw->row, b->base, line)) == -1)
			return -1;
	}
}

/*
 * Checks across the whole file.
 */

static int
resolve_pools(struct parser *p)
{
	struct xvds_conf *conf = p->conf;
	size_t	 i;

	for (i = 0; i < conf->npools; i++) {
		struct pool_entry *e = conf->pools[i];

		e->pool.tmpl = conf_template(conf, e->tmpl_name);
		if (e->pool.tmpl == NULL)
			return perr(p, e->tmpl_line, "pool \"%s\": no template "
			    "\"%s\"", e->pool.name, e->tmpl_name);
	}
	return 0;
}

/* VMs of the whole configuration that open path, in any role. */
static unsigned
image_users(const struct xvds_conf *conf, const char *path)
{
	unsigned n = 0;
	size_t	 i, j;

	for (i = 0; i < conf->npools; i++) {
		const struct conf_template *t = conf->pools[i]->pool.tmpl;

		for (j = 0; j < t->ndisks; j++)
			if (strcmp(t->disks[j].path, path) == 0)
				n += conf->pools[i]->pool.size;
	}
	return n;
}

/*
 * An image used as it is and writable must belong to one VM: two writers
 * (or a writer and a reader, or overlays over it) corrupt it, and blkback
 * would refuse the second attachment only when it is too late.
 */
static int
check_shared_images(struct parser *p)
{
	const struct xvds_conf *conf = p->conf;
	size_t	 i, j;
	unsigned n;

	for (i = 0; i < conf->npools; i++) {
		const struct pool_entry *e = conf->pools[i];
		const struct conf_template *t = e->pool.tmpl;

		for (j = 0; j < t->ndisks; j++) {
			const struct template_disk *d = &t->disks[j];

			if (d->mode != TEMPLATE_DISK_IMAGE || d->readonly ||
			    e->pool.size == 0)
				continue;
			if ((n = image_users(conf, d->path)) > 1)
				return perr(p, e->line, "pool \"%s\": the writable "
				    "image \"%s\" (disk %s of template \"%s\") "
				    "would be used by %u VMs: make it readonly, or "
				    "a golden image with overlay or clone",
				    e->pool.name, d->path, d->vdev, t->name, n);
		}
	}
	return 0;
}

/* Finds the first VM NIC with these MAC bits, for the message. */
static void
mac_owner(const struct xvds_conf *conf, uint32_t bits, char *vm, size_t len,
    unsigned *nic_r)
{
	size_t	 i;
	unsigned v, k;

	for (i = 0; i < conf->npools; i++) {
		const struct conf_pool *pool = &conf->pools[i]->pool;

		for (v = 1; v <= pool->size; v++) {
			if (template_vm_name(pool->name, v, vm, len) == -1)
				continue;
			for (k = 0; k < pool->tmpl->nnics; k++)
				if (template_mac_bits(vm, k) == bits) {
					*nic_r = k;
					return;
				}
		}
	}
}

/* MACs are hashes (common/template.c): refuse a configuration whose own
 * collide. */
static int
check_macs(struct parser *p)
{
	const struct xvds_conf *conf = p->conf;
	unsigned char *bitmap = NULL;
	char	 vm[VMSPEC_NAME_MAX + 1], other[VMSPEC_NAME_MAX + 1];
	char	 mac[TEMPLATE_MAC_STRLEN];
	size_t	 i;
	unsigned v, k, other_nic = 0;
	uint32_t bits;

	for (i = 0; i < conf->npools; i++) {
		const struct conf_pool *pool = &conf->pools[i]->pool;

		for (v = 1; v <= pool->size; v++) {
			if (template_vm_name(pool->name, v, vm, sizeof(vm)) == -1)
				return perr(p, conf->pools[i]->line, "pool \"%s\": "
				    "VM %u has no valid name", pool->name, v);
			for (k = 0; k < pool->tmpl->nnics; k++) {
				if (bitmap == NULL &&
				    (bitmap = calloc(1, 1u << 21)) == NULL)
					return perr(p, conf->pools[i]->line,
					    "out of memory");
				bits = template_mac_bits(vm, k);
				if (bitmap[bits >> 3] & (1u << (bits & 7))) {
					mac_owner(conf, bits, other, sizeof(other),
					    &other_nic);
					template_mac(vm, k, mac, sizeof(mac));
					free(bitmap);
					return perr(p, conf->pools[i]->line, "pool "
					    "\"%s\": %s's NIC %u would have the MAC "
					    "%s of %s's NIC %u: rename a pool",
					    pool->name, vm, k, mac, other,
					    other_nic);
				}
				bitmap[bits >> 3] |= (unsigned char)(1u << (bits & 7));
			}
		}
	}
	free(bitmap);
	return 0;
}

/*
 * The machine's name up to its first dot, kept to what a name may hold;
 * "xvds" if nothing of it is left.
 */
static void
default_host_name(char *buf, size_t len)
{
	char	 host[256] = "";
	size_t	 i, n = 0;

	if (gethostname(host, sizeof(host) - 1) == -1)
		host[0] = '\0';
	for (i = 0; host[i] != '\0' && host[i] != '.' && n + 1 < len; i++) {
		char c = host[i];

		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (n > 0 && ((c >= '0' && c <= '9') || c == '_' || c == '-')))
			buf[n++] = c;
	}
	buf[n] = '\0';
	if (n == 0)
		snprintf(buf, len, "xvds");
}

static void
set_defaults(struct conf_settings *s)
{
	memset(s, 0, sizeof(*s));
	default_host_name(s->host_name, sizeof(s->host_name));
	strcpy(s->state_dir, CONF_DEFAULT_STATE_DIR);
	strcpy(s->control_socket, CONF_DEFAULT_CONTROL_SOCKET);
	s->sample_interval = 5;
	s->sample_window = 7;
	s->boot_timeout = 180;
	s->shutdown_timeout = 60;
	s->session_grace = 120;
	s->credential_timeout = 30;
	s->max_clock_skew = 300;
	strcpy(s->migration_listen, CONF_DEFAULT_LISTEN);
	s->migration_port = CONF_DEFAULT_PORT;
	strcpy(s->migration_key_file, CONF_DEFAULT_KEY_FILE);
	s->controller_port = CONF_DEFAULT_AGENT_PORT;
	strcpy(s->controller_ca_file, CONF_DEFAULT_AGENT_CA);
	strcpy(s->controller_cert_file, CONF_DEFAULT_AGENT_CERT);
	strcpy(s->controller_key_file, CONF_DEFAULT_AGENT_KEY);
}

static int
parse_file(struct parser *p)
{
	struct block b = { top_keywords, NKW(top_keywords), p->conf,
	    &p->conf->settings, "", 0, { 0 } };

	if (scan_lines(p) == -1 || parse_block(p, &b) == -1)
		return -1;
	if (!seen_line(&b, "store"))
		return ferr(p->err, p->errlen, p->path, "store is not set (the "
		    "shared store's path, the same on every host)");
	if (resolve_pools(p) == -1 || check_shared_images(p) == -1 ||
	    check_macs(p) == -1)
		return -1;
	return 0;
}

struct xvds_conf *
conf_parse(const char *name, const char *buf, size_t len, char *err,
    size_t errlen)
{
	struct parser *p = NULL;
	struct xvds_conf *conf = NULL;

	if (err != NULL && errlen > 0)
		err[0] = '\0';
	if (len > CONF_FILE_MAX) {
		ferr(err, errlen, name, "larger than %d bytes (1 MiB): refused",
		    CONF_FILE_MAX);
		return NULL;
	}
	if ((p = calloc(1, sizeof(*p))) == NULL ||
	    (conf = calloc(1, sizeof(*conf))) == NULL) {
		ferr(err, errlen, name, "out of memory");
		goto fail;
	}
	p->path = name;
	p->buf = buf;
	p->len = len;
	p->line = 1;
	p->conf = conf;
	p->err = err;
	p->errlen = errlen;
	set_defaults(&conf->settings);
	if (parse_file(p) == -1)
		goto fail;
	free(p);
	return conf;
 fail:
	free(p);
	conf_free(conf);
	return NULL;
}

struct xvds_conf *
conf_load(const char *path, char *err, size_t errlen)
{
	struct xvds_conf *conf;
	char	*buf;
	size_t	 len;

	if (err != NULL && errlen > 0)
		err[0] = '\0';
	if ((buf = conf_read_file(path, &len, err, errlen)) == NULL)
		return NULL;
	conf = conf_parse(path, buf, len, err, errlen);
	free(buf);
	return conf;
}

void
conf_free(struct xvds_conf *conf)
{
	size_t	 i;

	if (conf == NULL)
		return;
	for (i = 0; i < conf->ntemplates; i++)
		free(conf->templates[i]);
	for (i = 0; i < conf->npools; i++)
		free(conf->pools[i]);
	free(conf->templates);
	free(conf->pools);
	free(conf);
}

/*
 * Access.
 */

const struct conf_settings *
conf_settings(const struct xvds_conf *conf)
{
	return &conf->settings;
}

const struct conf_template *
conf_template(const struct xvds_conf *conf, const char *name)
{
	size_t	 i;

	for (i = 0; i < conf->ntemplates; i++)
		if (strcmp(conf->templates[i]->name, name) == 0)
			return conf->templates[i];
	return NULL;
}

const struct conf_pool *
conf_pool(const struct xvds_conf *conf, const char *name)
{
	size_t	 i;

	for (i = 0; i < conf->npools; i++)
		if (strcmp(conf->pools[i]->pool.name, name) == 0)
			return &conf->pools[i]->pool;
	return NULL;
}

size_t
conf_ntemplates(const struct xvds_conf *conf)
{
	return conf->ntemplates;
}

const struct conf_template *
conf_template_at(const struct xvds_conf *conf, size_t i)
{
	return i < conf->ntemplates ? conf->templates[i] : NULL;
}

size_t
conf_npools(const struct xvds_conf *conf)
{
	return conf->npools;
}

const struct conf_pool *
conf_pool_at(const struct xvds_conf *conf, size_t i)
{
	return i < conf->npools ? &conf->pools[i]->pool : NULL;
}

/*
 * Printing.
 */

static void
print_setting(FILE *f, const char *indent, const char *kw, const char *s)
{
	fprintf(f, "%s%s ", indent, kw);
	confread_print_string(f, s);
	fputc('\n', f);
}

static void
print_template(FILE *f, const struct conf_template *t)
{
	char	 a[32], b[32];
	size_t	 i;

	fprintf(f, "\ntemplate ");
	confread_print_string(f, t->name);
	fprintf(f, " {\n\ttype %s\n", vm_type_names[t->type]);
	fprintf(f, "\tvcpus %u max %u\n", t->vcpus, t->max_vcpus);
	fprintf(f, "\tmemory %s max %s\n", fmt_size(t->memory_mib, a, sizeof(a)),
	    fmt_size(t->max_memory_mib, b, sizeof(b)));
	if (t->kernel[0] != '\0')
		print_setting(f, "\t", "kernel", t->kernel);
	if (t->ramdisk[0] != '\0')
		print_setting(f, "\t", "ramdisk", t->ramdisk);
	if (t->cmdline[0] != '\0')
		print_setting(f, "\t", "cmdline", t->cmdline);
	if (t->bootloader[0] != '\0')
		print_setting(f, "\t", "bootloader", t->bootloader);
	for (i = 0; i < t->ndisks; i++) {
		const struct template_disk *d = &t->disks[i];

		fprintf(f, "\tdisk %s %s", d->vdev,
		    d->mode == TEMPLATE_DISK_IMAGE ? "" : "golden ");
		confread_print_string(f, d->path);
		if (d->mode != TEMPLATE_DISK_IMAGE)
			fprintf(f, " %s", template_disk_mode_names[d->mode]);
		else if (d->readonly)
			fprintf(f, " readonly");
		fputc('\n', f);
	}
	for (i = 0; i < t->nnics; i++)
		print_setting(f, "\t", "network bridge", t->nics[i].bridge);
	fprintf(f, "}\n");
}

static void
print_pool(FILE *f, const struct conf_pool *pool)
{
	char	 a[32];

	fprintf(f, "\npool ");
	confread_print_string(f, pool->name);
	fprintf(f, " {\n");
	print_setting(f, "\t", "template", pool->tmpl->name);
	fprintf(f, "\tkind %s\n\tsize %u\n", vm_kind_names[pool->kind],
	    pool->size);
	if (pool->kind == VM_CVM) {
		fprintf(f, "\tready %u\n", pool->ready);
		fprintf(f, "\tidle-pause %s\n", fmt_duration(pool->idle_pause, a,
		    sizeof(a)));
		fprintf(f, "\tidle-save %s\n", fmt_duration(pool->idle_save, a,
		    sizeof(a)));
	}
	fprintf(f, "}\n");
}

int
conf_print(const struct xvds_conf *conf, FILE *f)
{
	const struct conf_settings *s = &conf->settings;
	char	 a[32];
	size_t	 i;

	fprintf(f, "host-name %s\n", s->host_name);
	print_setting(f, "", "state-dir", s->state_dir);
	print_setting(f, "", "control-socket", s->control_socket);
	print_setting(f, "", "store", s->store);
	fprintf(f, "sample-interval %s\n", fmt_duration(s->sample_interval, a,
	    sizeof(a)));
	fprintf(f, "sample-window %u\n", s->sample_window);
	fprintf(f, "boot-timeout %s\n", fmt_duration(s->boot_timeout, a,
	    sizeof(a)));
	fprintf(f, "shutdown-timeout %s\n", fmt_duration(s->shutdown_timeout, a,
	    sizeof(a)));
	fprintf(f, "session-grace %s\n", fmt_duration(s->session_grace, a,
	    sizeof(a)));
	fprintf(f, "credential-timeout %s\n", fmt_duration(s->credential_timeout,
	    a, sizeof(a)));
	fprintf(f, "max-clock-skew %s\n", fmt_duration(s->max_clock_skew, a,
	    sizeof(a)));
	fprintf(f, "migration {\n\tlisten ");
	confread_print_string(f, s->migration_listen);
	fprintf(f, " port %u\n", (unsigned)s->migration_port);
	print_setting(f, "\t", "key-file", s->migration_key_file);
	fprintf(f, "}\n");
	if (s->controller) {
		fprintf(f, "controller {\n\taddress ");
		confread_print_string(f, s->controller_address);
		fprintf(f, " port %u\n", (unsigned)s->controller_port);
		if (s->controller_server_name[0] != '\0')
			print_setting(f, "\t", "server-name",
			    s->controller_server_name);
		print_setting(f, "\t", "ca-file", s->controller_ca_file);
		print_setting(f, "\t", "cert-file", s->controller_cert_file);
		print_setting(f, "\t", "key-file", s->controller_key_file);
		fprintf(f, "}\n");
	}
	for (i = 0; i < conf->ntemplates; i++)
		print_template(f, conf->templates[i]);
	for (i = 0; i < conf->npools; i++)
		print_pool(f, &conf->pools[i]->pool);
	if (fflush(f) == EOF || ferror(f))
		return -1;
	return 0;
}

int
conf_reload_check(const struct xvds_conf *cur, const struct xvds_conf *next,
    char *msg, size_t msglen)
{
	const struct conf_settings *a = &cur->settings, *b = &next->settings;
	const char *kw = NULL, *from = NULL, *to = NULL;

	if (strcmp(a->state_dir, b->state_dir) != 0) {
		kw = "state-dir";
		from = a->state_dir;
		to = b->state_dir;
	} else if (strcmp(a->control_socket, b->control_socket) != 0) {
		kw = "control-socket";
		from = a->control_socket;
		to = b->control_socket;
	}
	if (kw == NULL)
		return 0;
	if (msg != NULL && msglen > 0)
		snprintf(msg, msglen, "%s changed from \"%s\" to \"%s\": it takes "
		    "a restart of xvdsd, not a reload", kw, from, to);
	return -1;
}

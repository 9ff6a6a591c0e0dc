/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * controller/conf.c — reads controller.conf (xvds-controller(8)): one statement
 * a line, words or "quoted strings", # to the end of the line a comment.
 * Every keyword may appear once; anything else is an error that names the
 * file and the line.  The keywords are a table of rows
 * (common/confread.h) set by set_value(), but for the few with a syntax
 * of their own.
 */
#include <config.h>

#include <ctype.h>
#include <stddef.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/conf.h"
#include "common/confread.h"
#include "controller/conf.h"

#define WORDS_MAX	10

struct parser {
	const char	*name;
	unsigned	 line;
	char		*err;
	size_t		 errlen;
	unsigned	 seen;		/* keywords met, a bit each */
};

static int
perr(struct parser *p, const char *fmt, ...)
{
	va_list	 ap;
	char	 msg[CTRL_CONF_ERR_MAX];

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	snprintf(p->err, p->errlen, "%s:%u: %s", p->name, p->line, msg);
	return -1;
}

/*
 * Splits one line into words in place; a quoted string may hold spaces
 * and # and takes \" and \\.  The number of words, or -1.
 */
static int
split(struct parser *p, char *s, char *w[WORDS_MAX])
{
	char	*o;
	int	 n = 0;

	for (;;) {
		while (*s == ' ' || *s == '\t' || *s == '\r')
			s++;
		if (*s == '\0' || *s == '#')
			return n;
		if (n == WORDS_MAX)
			return perr(p, "too many words");
		if (*s == '"') {
			w[n++] = o = ++s;
			for (; *s != '"'; s++) {
				if (*s == '\0')
					return perr(p, "unterminated string");
				if (*s == '\\' && (s[1] == '"' || s[1] == '\\'))
					s++;
				*o++ = *s;
			}
			s++;
			if (*s != '\0' && *s != ' ' && *s != '\t' && *s != '\r' &&
			    *s != '#')
				return perr(p, "text after a closing quote");
			*o = '\0';
			if (*s != '\0' && *s != '#')
				s++;
			else if (*s == '#')
				*s = '\0';
			continue;
		}
		w[n++] = s;
		while (*s != '\0' && *s != ' ' && *s != '\t' && *s != '\r' &&
		    *s != '#') {
			if (*s == '"')
				return perr(p, "a quote inside a word");
			if (!isprint((unsigned char)*s))
				return perr(p, "a control character");
			s++;
		}
		if (*s == '#') {
			*s = '\0';
			return n;
		}
		if (*s != '\0')
			*s++ = '\0';
	}
}

static int
number(struct parser *p, const char *what, const char *s, unsigned long min,
    unsigned long max, unsigned long *v_r)
{
	char	*end;
	unsigned long v;

	errno = 0;
	if (!isdigit((unsigned char)s[0]))
		return perr(p, "%s: \"%s\" is not a number", what, s);
	v = strtoul(s, &end, 10);
	if (*end != '\0' || errno != 0 || v < min || v > max)
		return perr(p, "%s: \"%s\" is not a number from %lu to %lu", what,
		    s, min, max);
	*v_r = v;
	return 0;
}

static int
string(struct parser *p, char **dst, const char *s)
{
	free(*dst);
	if ((*dst = strdup(s)) == NULL)
		return perr(p, "out of memory");
	return 0;
}

/* listen ADDRESS [port N], for agent and broker. */
static int
listen_stmt(struct parser *p, char **w, int n, char **addr, uint16_t *port)
{
	unsigned long v;

	if (n != 3 && n != 5)
		return perr(p, "usage: %s listen ADDRESS [port N]", w[0]);
	if (strcmp(w[1], "listen") != 0)
		return perr(p, "%s: \"listen\" expected, not \"%s\"", w[0], w[1]);
	if (w[2][0] == '\0')
		return perr(p, "%s listen: an empty address", w[0]);
	if (string(p, addr, w[2]) == -1)
		return -1;
	if (n == 5) {
		if (strcmp(w[3], "port") != 0)
			return perr(p, "%s listen: \"port\" expected, not \"%s\"",
			    w[0], w[3]);
		if (number(p, "port", w[4], 1, 65535, &v) == -1)
			return -1;
		*port = (uint16_t)v;
	}
	return 0;
}
static int
agent_stmt(struct parser *p, struct ctrl_conf *c, char **w, int n)
{
	return listen_stmt(p, w, n, &c->agent_addr, &c->agent_port);
}

static int
broker_stmt(struct parser *p, struct ctrl_conf *c, char **w, int n)
{
	return listen_stmt(p, w, n, &c->broker_addr, &c->broker_port);
}

static int
policy_stmt(struct parser *p, struct ctrl_conf *c, char **w, int n)
{
	unsigned long v;

	if (n != 2 && n != 4)
		return perr(p, "usage: policy NAME [threshold N]");
	if (policy_set_name(&c->policy, w[1]) == -1)
		return perr(p, "policy: unknown \"%s\" (none, 1A, 2A, 2B, 3A, 3B, "
		    "4A, 4C, optionally :RATE)", w[1]);
	if (string(p, &c->policy_name, w[1]) == -1)
		return -1;
	if (n == 4) {
		if (strcmp(w[2], "threshold") != 0)
			return perr(p, "policy: \"threshold\" expected, not \"%s\"",
			    w[2]);
		if (number(p, "threshold", w[3], 1, 100, &v) == -1)
			return -1;
		c->policy.threshold = (double)v;
	}
	return 0;
}

#define CTRL(kw, type, what, min, max, field) \
	{ kw, type, what, min, max, offsetof(struct ctrl_conf, field), NULL }
#define NROWS(t)	(sizeof(t) / sizeof((t)[0]))

/*
 * KEYWORD [NAME N]...: at least one pair, each NAME of rows[0 .. k) at
 * most once, its N from the row's min to max into its field of c.
 */
static int
pairs_stmt(struct parser *p, struct ctrl_conf *c, char **w, int n,
    const char *usage, const struct confread_kw *rows, size_t k)
{
	const struct confread_kw *row;
	unsigned long v;
	unsigned seen = 0, bit;
	int	 i;

	if (n < 3 || n % 2 == 0)
		return perr(p, "usage: %s %s", w[0], usage);
	for (i = 1; i < n; i += 2) {
		if ((row = confread_find(rows, k, w[i])) == NULL)
			return perr(p, "%s: unknown \"%s\"", w[0], w[i]);
		bit = 1u << (row - rows);
		if (seen & bit)
			return perr(p, "%s: %s given twice", w[0], row->name);
		seen |= bit;
		if (number(p, row->name, w[i + 1], row->min, row->max, &v) == -1)
			return -1;
		*(unsigned *)confread_field(c, row) = (unsigned)v;
	}
	return 0;
}

/* upkeep [interval N] [host-ops N] [cluster-ops N] [give-up N] */
static int
upkeep_stmt(struct parser *p, struct ctrl_conf *c, char **w, int n)
{
	static const struct confread_kw rows[] = {
		CTRL("interval", CONFREAD_UINT, "N", 1, 3600, upkeep_interval),
		CTRL("host-ops", CONFREAD_UINT, "N", 1, 1000, upkeep_host_ops),
		CTRL("cluster-ops", CONFREAD_UINT, "N", 1, 100000,
		    upkeep_cluster_ops),
		CTRL("give-up", CONFREAD_UINT, "N", 1, 1000, upkeep_give_up),
	};

	return pairs_stmt(p, c, w, n, "[interval N] [host-ops N] "
	    "[cluster-ops N] [give-up N]", rows, NROWS(rows));
}

/* broker-connections [max N] [per-address N] [request-timeout N] */
static int
broker_conns_stmt(struct parser *p, struct ctrl_conf *c, char **w, int n)
{
	static const struct confread_kw rows[] = {
		CTRL("max", CONFREAD_UINT, "N", 1, 65536, broker_conns_max),
		CTRL("per-address", CONFREAD_UINT, "N", 1, 65536,
		    broker_conns_per_addr),
		CTRL("request-timeout", CONFREAD_UINT, "N", 1, 3600,
		    broker_request_timeout),
	};

	return pairs_stmt(p, c, w, n, "[max N] [per-address N] "
	    "[request-timeout N]", rows, NROWS(rows));
}

/* A keyword: its row, and a handler if its syntax is its own. */
struct keyword {
	struct confread_kw row;
	int		(*parse)(struct parser *, struct ctrl_conf *, char **, int);
};

#define SPECIAL(kw, parse) \
	{ { kw, CONFREAD_SPECIAL, NULL, 0, 0, 0, NULL }, parse }

/*
 * A lease shorter than a client's renewal round trip is a typing
 * mistake; a grace of 0 ends sessions at once.
 */
#define SETTING(kw, type, what, min, max, field) \
	{ CTRL(kw, type, what, min, max, field), NULL }

static const struct keyword keywords[] = {
	SETTING("database", CONFREAD_STRING, "conninfo", 0, 0, database),
	SPECIAL("agent", agent_stmt),
	SETTING("ca-file", CONFREAD_FILE, "path", 0, 0, ca_file),
	SETTING("cert-file", CONFREAD_FILE, "path", 0, 0, cert_file),
	SETTING("key-file", CONFREAD_FILE, "path", 0, 0, key_file),
	SPECIAL("broker", broker_stmt),
	SPECIAL("policy", policy_stmt),
	SETTING("sample-interval", CONFREAD_UINT, "SECONDS", 1, 3600,
	    sample_interval),
	SETTING("op-timeout", CONFREAD_UINT, "SECONDS", 1, 3600, op_timeout),
	SETTING("host-timeout", CONFREAD_UINT, "SECONDS", 1, 86400,
	    host_timeout),
	SETTING("session-lease", CONFREAD_UINT, "SECONDS", 10, 86400,
	    session_lease),
	SETTING("session-grace", CONFREAD_UINT, "SECONDS", 0, 86400,
	    session_grace),
	SETTING("rdp-port", CONFREAD_UINT, "PORT", 1, 65535, rdp_port),
	SETTING("admin-socket", CONFREAD_PATH, "path", 0, 0, admin_socket),
	SPECIAL("upkeep", upkeep_stmt),
	SPECIAL("broker-connections", broker_conns_stmt),
};

/* A statement of one value of a row's type into its field of c. */
static int
set_value(struct parser *p, const struct confread_kw *row,
    struct ctrl_conf *c, char **w, int n)
{
	void	*field = confread_field(c, row);
	unsigned long v;

	if (row->type == CONFREAD_UINT) {
		if (n != 2)
			return perr(p, "usage: %s %s", w[0], row->what);
		if (number(p, w[0], w[1], row->min, row->max, &v) == -1)
			return -1;
		*(unsigned *)field = (unsigned)v;
		return 0;
	}
	if (n != 2)
		return perr(p, "usage: %s \"%s\"", w[0], row->what);
	if (row->type == CONFREAD_FILE && w[1][0] == '\0')
		return perr(p, "%s: an empty path", w[0]);
	if (row->type == CONFREAD_PATH && w[1][0] != '/')
		return perr(p, "%s: an absolute path expected", w[0]);
	return string(p, field, w[1]);
}

static int
statement(struct parser *p, struct ctrl_conf *c, char **w, int n)
{
	size_t	 k;

	for (k = 0; k < NROWS(keywords); k++)
		if (strcmp(w[0], keywords[k].row.name) == 0)
			break;
	if (k == NROWS(keywords))
		return perr(p, "unknown keyword \"%s\"", w[0]);
	if (p->seen & (1u << k))
		return perr(p, "%s given twice", w[0]);
	p->seen |= 1u << k;
	if (keywords[k].parse != NULL)
		return keywords[k].parse(p, c, w, n);
	return set_value(p, &keywords[k].row, c, w, n);
}

static struct ctrl_conf *
defaults(void)
{
	struct ctrl_conf *c;

	if ((c = calloc(1, sizeof(*c))) == NULL)
		return NULL;
	c->database = strdup("");
	c->agent_addr = strdup("::");
	c->broker_addr = strdup("::");
	c->policy_name = strdup("3B");
	c->admin_socket = strdup(CTRL_ADMIN_SOCKET_PATH);
	if (c->database == NULL || c->agent_addr == NULL ||
	    c->broker_addr == NULL || c->policy_name == NULL ||
	    c->admin_socket == NULL) {
		ctrl_conf_free(c);
		return NULL;
	}
	c->agent_port = 8004;
	c->broker_port = CTRL_BROKER_PORT;
	policy_defaults(&c->policy);
	c->sample_interval = 5;
	c->op_timeout = 120;
	c->host_timeout = 90;
	c->session_lease = 120;
	c->session_grace = 120;
	c->rdp_port = 3389;
	c->upkeep_interval = 5;
	c->upkeep_host_ops = 2;
	c->upkeep_cluster_ops = 20;
	c->upkeep_give_up = 3;
	c->broker_conns_max = CTRL_BROKER_CONNS_MAX;
	c->broker_conns_per_addr = CTRL_BROKER_CONNS_PER_ADDR;
	c->broker_request_timeout = CTRL_BROKER_REQUEST_S;
	return c;
}

struct ctrl_conf *
ctrl_conf_parse(const char *text, const char *name, char *err, size_t errlen)
{
	struct parser p = { name, 0, err, errlen, 0 };
	struct ctrl_conf *c;
	char	*copy = NULL, *line, *next, *w[WORDS_MAX];
	int	 n;

	if ((c = defaults()) == NULL || (copy = strdup(text)) == NULL) {
		snprintf(err, errlen, "%s: out of memory", name);
		goto fail;
	}
	for (line = copy; line != NULL; line = next) {
		p.line++;
		if ((next = strchr(line, '\n')) != NULL)
			*next++ = '\0';
		if ((n = split(&p, line, w)) == -1)
			goto fail;
		if (n > 0 && statement(&p, c, w, n) == -1)
			goto fail;
	}
	p.line = 0;
	if (c->ca_file == NULL || c->cert_file == NULL || c->key_file == NULL) {
		snprintf(err, errlen, "%s: ca-file, cert-file and key-file are "
		    "required (the agent channel is mutual TLS)", name);
		goto fail;
	}
	free(copy);
	return c;
fail:
	free(copy);
	ctrl_conf_free(c);
	return NULL;
}

struct ctrl_conf *
ctrl_conf_load(const char *path, char *err, size_t errlen)
{
	struct ctrl_conf *c;
	char	*text;
	size_t	 len;

	if ((text = conf_read_file(path, &len, err, errlen)) == NULL)
		return NULL;
	if (memchr(text, '\0', len) != NULL) {
		snprintf(err, errlen, "%s: a NUL byte", path);
		free(text);
		return NULL;
	}
	c = ctrl_conf_parse(text, path, err, errlen);
	free(text);
	return c;
}

int
ctrl_conf_print(const struct ctrl_conf *c, FILE *f)
{
	fputs("database ", f);
	confread_print_string(f, c->database);
	fprintf(f, "\nagent listen %s port %u\n", c->agent_addr,
	    (unsigned)c->agent_port);
	fputs("ca-file ", f);
	confread_print_string(f, c->ca_file);
	fputs("\ncert-file ", f);
	confread_print_string(f, c->cert_file);
	fputs("\nkey-file ", f);
	confread_print_string(f, c->key_file);
	fprintf(f, "\nbroker listen %s port %u\n", c->broker_addr,
	    (unsigned)c->broker_port);
	fprintf(f, "policy %s threshold %g\n", c->policy_name,
	    c->policy.threshold);
	fprintf(f, "sample-interval %u\nop-timeout %u\nhost-timeout %u\n",
	    c->sample_interval, c->op_timeout, c->host_timeout);
	fprintf(f, "session-lease %u\nsession-grace %u\nrdp-port %u\n",
	    c->session_lease, c->session_grace, c->rdp_port);
	fputs("admin-socket ", f);
	confread_print_string(f, c->admin_socket);
	fputc('\n', f);
	fprintf(f, "upkeep interval %u host-ops %u cluster-ops %u give-up %u\n",
	    c->upkeep_interval, c->upkeep_host_ops, c->upkeep_cluster_ops,
	    c->upkeep_give_up);
	fprintf(f, "broker-connections max %u per-address %u "
	    "request-timeout %u\n", c->broker_conns_max,
	    c->broker_conns_per_addr, c->broker_request_timeout);
	return ferror(f) ? -1 : 0;
}

/* Notes name in changed, a list "a, b". */
static void
note(char *changed, size_t len, int *n, const char *name)
{
	size_t	 used = len > 0 ? strlen(changed) : 0;

	if (used + 1 < len)
		snprintf(changed + used, len - used, "%s%s", *n > 0 ? ", " : "",
		    name);
	(*n)++;
}

/* Keeps old's string in *dst if they differ. */
static int
keep_string(char **dst, const char *old, const char *name, char *changed,
    size_t len, int *n)
{
	char	*s;

	if (strcmp(*dst, old) == 0)
		return 0;
	if ((s = strdup(old)) == NULL)
		return -1;
	free(*dst);
	*dst = s;
	note(changed, len, n, name);
	return 0;
}

/* The same for a listen statement, its address and port together. */
static int
keep_listen(char **addr, uint16_t *port, const char *old_addr,
    uint16_t old_port, const char *name, char *changed, size_t len, int *n)
{
	char	*s;

	if (strcmp(*addr, old_addr) == 0 && *port == old_port)
		return 0;
	if ((s = strdup(old_addr)) == NULL)
		return -1;
	free(*addr);
	*addr = s;
	*port = old_port;
	note(changed, len, n, name);
	return 0;
}

int
ctrl_conf_keep_fixed(struct ctrl_conf *c, const struct ctrl_conf *old,
    char *changed, size_t len)
{
	int	 n = 0;

	if (len > 0)
		changed[0] = '\0';
	if (keep_string(&c->database, old->database, "database", changed, len,
	    &n) == -1 ||
	    keep_listen(&c->agent_addr, &c->agent_port, old->agent_addr,
	    old->agent_port, "agent listen", changed, len, &n) == -1 ||
	    keep_listen(&c->broker_addr, &c->broker_port, old->broker_addr,
	    old->broker_port, "broker listen", changed, len, &n) == -1 ||
	    keep_string(&c->ca_file, old->ca_file, "ca-file", changed, len,
	    &n) == -1 ||
	    keep_string(&c->cert_file, old->cert_file, "cert-file", changed,
	    len, &n) == -1 ||
	    keep_string(&c->key_file, old->key_file, "key-file", changed, len,
	    &n) == -1 ||
	    keep_string(&c->admin_socket, old->admin_socket, "admin-socket",
	    changed, len, &n) == -1)
		return -1;
	return n;
}

void
ctrl_conf_free(struct ctrl_conf *c)
{
	if (c == NULL)
		return;
	free(c->database);
	free(c->agent_addr);
	free(c->ca_file);
	free(c->cert_file);
	free(c->key_file);
	free(c->broker_addr);
	free(c->policy_name);
	free(c->admin_socket);
	free(c);
}

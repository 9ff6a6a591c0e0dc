/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * greeter/child.c — xvds-client as a child process (greeter/child.h).
 * One login at a time: the greeter's screen is busy while it runs.
 */
#include <config.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>

#include <glib-unix.h>

#include "child.h"

#define STATUS_FD	3	/* xvds-client --status-fd 3 */

static struct {
	GPid			 pid;		/* 0: none running */
	gboolean		 exited;
	int			 wait_status;
	GIOChannel		*status;	/* NULL once read to its end */
	struct greeter_status	 last;
	gboolean		 have_last;
	struct greeter_child_hooks hooks;
} child;

static void
finish_if_done(void)
{
	if (!child.exited || child.status != NULL)
		return;
	child.pid = 0;
	child.hooks.done(child.have_last ? &child.last : NULL,
	    child.wait_status, child.hooks.arg);
}

static void
on_line(const char *line)
{
	struct greeter_status	 st;

	if (!greeter_status_parse(line, &st)) {
		g_warning("xvds-client wrote a bad status line: %s", line);
		return;
	}
	if (greeter_status_final(&st)) {
		child.last = st;
		child.have_last = TRUE;
		return;
	}
	child.hooks.status(&st, child.hooks.arg);
}

static gboolean
on_status(GIOChannel *io, GIOCondition cond, gpointer data)
{
	char		*line;
	gsize		 len, end;
	GIOStatus	 rc;

	(void)cond;
	(void)data;
	while ((rc = g_io_channel_read_line(io, &line, &len, &end, NULL)) ==
	    G_IO_STATUS_NORMAL) {
		line[end] = '\0';
		on_line(line);
		g_free(line);
	}
	if (rc == G_IO_STATUS_AGAIN)
		return G_SOURCE_CONTINUE;
	g_io_channel_unref(child.status);
	child.status = NULL;
	finish_if_done();
	return G_SOURCE_REMOVE;
}

static void
on_child_exit(GPid pid, gint wait_status, gpointer data)
{
	(void)data;
	g_spawn_close_pid(pid);
	child.exited = TRUE;
	child.wait_status = wait_status;
	finish_if_done();
}

static GPtrArray *
child_argv(const struct greeter_config *conf, const char *user,
    const struct greeter_desktop *desktop)
{
	GPtrArray	*argv = g_ptr_array_new_with_free_func(g_free);
	guint		 i;

#define ADD(s)	g_ptr_array_add(argv, g_strdup(s))
	ADD(conf->client);
	ADD("--status-fd");
	ADD(G_STRINGIFY(STATUS_FD));
	ADD("-u");
	ADD(user);
	if (conf->ca_file != NULL) {
		ADD("-C");
		ADD(conf->ca_file);
	}
	if (conf->port != 0) {
		ADD("-p");
		g_ptr_array_add(argv, g_strdup_printf("%u", conf->port));
	}
	if (desktop != NULL) {
		ADD("-k");
		ADD(desktop->kind);
	}
	if (desktop != NULL && desktop->pool != NULL) {
		ADD("-P");
		ADD(desktop->pool);
	}
	for (i = 0; i < conf->viewer_args->len; i++)
		ADD(conf->viewer_args->pdata[i]);
	ADD(conf->server);
#undef ADD
	g_ptr_array_add(argv, NULL);
	return argv;
}

/* The password and its newline in one write from GTK's buffer: no copy
 * of ours to wipe.  A child that exits early gives EPIPE (SIGPIPE is
 * ignored, main.c), which its status line then explains. */
static void
write_password(int fd, GtkEntryBuffer *password)
{
	struct iovec	 iov[2];
	ssize_t		 n;

	iov[0].iov_base = (void *)gtk_entry_buffer_get_text(password);
	iov[0].iov_len = gtk_entry_buffer_get_bytes(password);
	iov[1].iov_base = (void *)"\n";
	iov[1].iov_len = 1;
	do
		n = writev(fd, iov, 2);
	while (n < 0 && errno == EINTR);
	if (n >= 0 && (size_t)n != iov[0].iov_len + 1)
		g_warning("xvds-client took %zd bytes of the password line", n);
	close(fd);
}

static gboolean
spawn(GPtrArray *argv, int status_w, int *stdin_fd, GError **error)
{
	gint	 source[] = { status_w };
	gint	 target[] = { STATUS_FD };

	return g_spawn_async_with_pipes_and_fds(NULL,
	    (const char *const *)argv->pdata, NULL, G_SPAWN_DO_NOT_REAP_CHILD,
	    NULL, NULL, -1, -1, -1, source, target, 1, &child.pid, stdin_fd,
	    NULL, NULL, error);
}

static void
watch(int status_r, const struct greeter_child_hooks *hooks)
{
	child.exited = FALSE;
	child.have_last = FALSE;
	child.hooks = *hooks;
	child.status = g_io_channel_unix_new(status_r);
	g_io_channel_set_close_on_unref(child.status, TRUE);
	g_io_channel_set_encoding(child.status, NULL, NULL);
	g_io_channel_set_flags(child.status, G_IO_FLAG_NONBLOCK, NULL);
	g_io_add_watch(child.status, G_IO_IN | G_IO_HUP | G_IO_ERR, on_status,
	    NULL);
	g_child_watch_add(child.pid, on_child_exit, NULL);
}

gboolean
greeter_child_start(const struct greeter_config *conf, const char *user,
    const struct greeter_desktop *desktop, GtkEntryBuffer *password,
    const struct greeter_child_hooks *hooks, GError **error)
{
	GPtrArray	*argv = child_argv(conf, user, desktop);
	int		 pipefd[2], stdin_fd;
	gboolean	 ok;

	if (!g_unix_open_pipe(pipefd, FD_CLOEXEC, error)) {
		g_ptr_array_free(argv, TRUE);
		gtk_entry_buffer_delete_text(password, 0, -1);
		return FALSE;
	}
	ok = spawn(argv, pipefd[1], &stdin_fd, error);
	g_ptr_array_free(argv, TRUE);
	close(pipefd[1]);
	if (ok)
		write_password(stdin_fd, password);
	/* GTK's buffer overwrites the text it deletes (xvds-greeter(1)). */
	gtk_entry_buffer_delete_text(password, 0, -1);
	if (!ok) {
		close(pipefd[0]);
		return FALSE;
	}
	watch(pipefd[0], hooks);
	return TRUE;
}

void
greeter_child_stop(void)
{
	if (child.pid != 0 && !child.exited)
		kill(child.pid, SIGTERM);
}

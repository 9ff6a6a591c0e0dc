/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * greeter/window.c — the greeter's window (greeter/window.h).  Its title
 * names the screen shown ("xvds-greeter: login error auth"), for the
 * tests and for anyone debugging a kiosk (xvds-greeter(1), WINDOW TITLE).
 */
#include <config.h>

#include <string.h>

#include "child.h"
#include "window.h"

#define PASSWORD_MAX	1024	/* characters: more is no password */

static const char greeter_css[] =
	"window.xvds-greeter { background-color: #1f2d3a; }\n"
	"window.xvds-greeter box > label, window.xvds-greeter grid > label"
	" { color: #ffffff; }\n"
	"window.xvds-greeter spinner { color: #ffffff; }\n"
	"label.xvds-heading { font-size: 20pt; }\n"
	"label.xvds-progress { font-size: 14pt; }\n"
	"label.xvds-error { background-color: #8b1e1e; padding: 12px; }\n"
	"label.xvds-info { background-color: #2d4a63; padding: 12px; }\n";

static struct {
	const struct greeter_config *conf;
	GtkWidget	*window;
	GtkWidget	*stack;
	GtkWidget	*user;
	GtkWidget	*password;
	GtkWidget	*desktop;	/* NULL: no choice to make */
	GtkWidget	*message;
	GtkWidget	*spinner;
	GtkWidget	*progress;
} ui;

/* The page shown, and the title that names it: what, then word if any. */
static void
set_screen(const char *page, const char *what, const char *word)
{
	char	*title = g_strdup_printf("xvds-greeter: %s%s%s", what,
	    word != NULL ? " " : "", word != NULL ? word : "");

	gtk_window_set_title(GTK_WINDOW(ui.window), title);
	g_free(title);
	gtk_stack_set_visible_child_name(GTK_STACK(ui.stack), page);
}

/* NULL hides the message; error: its colour says something failed. */
static void
show_message(const char *text, gboolean error)
{
	GtkStyleContext	*style = gtk_widget_get_style_context(ui.message);

	gtk_widget_set_visible(ui.message, text != NULL);
	if (text == NULL)
		return;
	gtk_label_set_text(GTK_LABEL(ui.message), text);
	gtk_style_context_remove_class(style, error ? "xvds-info" :
	    "xvds-error");
	gtk_style_context_add_class(style, error ? "xvds-error" : "xvds-info");
}

/* Full screen with a window manager (gtk_window_fullscreen) and without
 * one, as on a kiosk's bare X server: the monitor's size at its origin. */
static void
cover_screen(void)
{
	GdkDisplay	*display = gtk_widget_get_display(ui.window);
	GdkMonitor	*monitor = gdk_display_get_primary_monitor(display);
	GdkRectangle	 area;

	if (monitor == NULL)
		monitor = gdk_display_get_monitor(display, 0);
	gdk_monitor_get_geometry(monitor, &area);
	gtk_window_move(GTK_WINDOW(ui.window), area.x, area.y);
	gtk_window_resize(GTK_WINDOW(ui.window), area.width, area.height);
	gtk_window_fullscreen(GTK_WINDOW(ui.window));
	gtk_widget_show(ui.window);
	gtk_window_present(GTK_WINDOW(ui.window));
}

static void
clear_form(void)
{
	gtk_entry_set_text(GTK_ENTRY(ui.user), "");
	gtk_entry_buffer_delete_text(gtk_entry_get_buffer(
	    GTK_ENTRY(ui.password)), 0, -1);
	if (ui.desktop != NULL)
		gtk_combo_box_set_active(GTK_COMBO_BOX(ui.desktop), 0);
	show_message(NULL, FALSE);
	gtk_widget_grab_focus(ui.user);
}

static void
on_status(const struct greeter_status *st, void *arg)
{
	(void)arg;
	if (st->kind == GREETER_STATUS_CONNECTED) {
		set_screen("progress", "session", NULL);
		gtk_widget_hide(ui.window);
		return;
	}
	gtk_label_set_text(GTK_LABEL(ui.progress),
	    greeter_status_progress_words(st));
	set_screen("progress", "progress", st->word);
}

static void
on_done(const struct greeter_status *last, int wait_status, void *arg)
{
	char		*words;
	gboolean	 error = last == NULL ||
	    last->kind == GREETER_STATUS_ERROR;

	(void)arg;
	gtk_spinner_stop(GTK_SPINNER(ui.spinner));
	if (last != NULL)
		words = greeter_status_outcome_words(last);
	else
		words = greeter_status_exit_words(wait_status);
	/* After a session the next user may be someone else. */
	if (!error)
		clear_form();
	show_message(words, error);
	set_screen("login", error ? "login error" : "login ended",
	    last != NULL ? last->word : "exit");
	g_free(words);
	cover_screen();
	gtk_widget_grab_focus(error ? ui.password : ui.user);
}

static const struct greeter_desktop *
chosen_desktop(void)
{
	const GPtrArray	*desktops = ui.conf->desktops;
	int		 i = 0;

	if (desktops->len == 0)
		return NULL;
	if (ui.desktop != NULL)
		i = gtk_combo_box_get_active(GTK_COMBO_BOX(ui.desktop));
	return desktops->pdata[i < 0 ? 0 : i];
}

/* A form that cannot be sent: say what is missing, there. */
static gboolean
form_incomplete(const char *user, GtkEntryBuffer *password)
{
	if (user[0] == '\0') {
		show_message("Type your user name.", TRUE);
		gtk_widget_grab_focus(ui.user);
		return TRUE;
	}
	if (gtk_entry_buffer_get_length(password) == 0) {
		show_message("Type your password.", TRUE);
		gtk_widget_grab_focus(ui.password);
		return TRUE;
	}
	return FALSE;
}

static void
log_in(void)
{
	static const struct greeter_child_hooks hooks = { on_status, on_done,
	    NULL };
	GtkEntryBuffer	*password = gtk_entry_get_buffer(
	    GTK_ENTRY(ui.password));
	char		*user = g_strstrip(g_strdup(gtk_entry_get_text(
	    GTK_ENTRY(ui.user))));
	GError		*error = NULL;
	const char	*page = gtk_stack_get_visible_child_name(
	    GTK_STACK(ui.stack));

	/* One login at a time: a second Enter while one starts is ignored. */
	if (strcmp(page, "login") == 0 && !form_incomplete(user, password)) {
		if (greeter_child_start(ui.conf, user, chosen_desktop(),
		    password, &hooks, &error)) {
			show_message(NULL, FALSE);
			gtk_label_set_text(GTK_LABEL(ui.progress),
			    "Finding your desktop\u2026");
			gtk_spinner_start(GTK_SPINNER(ui.spinner));
			set_screen("progress", "progress", "start");
		} else {
			show_message(error->message, TRUE);
			g_error_free(error);
		}
	}
	g_free(user);
}

static void
on_user_enter(GtkEntry *entry, gpointer data)
{
	(void)entry;
	(void)data;
	gtk_widget_grab_focus(ui.password);
}

static void
on_log_in(GtkWidget *widget, gpointer data)
{
	(void)widget;
	(void)data;
	log_in();
}

/* Escape clears the form; a login under way is not interrupted. */
static gboolean
on_key(GtkWidget *widget, GdkEventKey *event, gpointer data)
{
	const char	*page = gtk_stack_get_visible_child_name(
	    GTK_STACK(ui.stack));

	(void)widget;
	(void)data;
	if (event->keyval != GDK_KEY_Escape || strcmp(page, "login") != 0)
		return FALSE;
	clear_form();
	set_screen("login", "login", NULL);
	return TRUE;
}

static GtkWidget *
label_for(GtkWidget *grid, int row, const char *text, GtkWidget *field)
{
	GtkWidget	*label = gtk_label_new_with_mnemonic(text);

	gtk_label_set_mnemonic_widget(GTK_LABEL(label), field);
	gtk_widget_set_halign(label, GTK_ALIGN_END);
	gtk_grid_attach(GTK_GRID(grid), label, 0, row, 1, 1);
	gtk_grid_attach(GTK_GRID(grid), field, 1, row, 1, 1);
	return label;
}

static GtkWidget *
desktop_choice(void)
{
	GtkWidget	*combo = gtk_combo_box_text_new();
	guint		 i;

	for (i = 0; i < ui.conf->desktops->len; i++) {
		const struct greeter_desktop *d = ui.conf->desktops->pdata[i];

		gtk_combo_box_text_append_text(GTK_COMBO_BOX_TEXT(combo),
		    d->label);
	}
	gtk_combo_box_set_active(GTK_COMBO_BOX(combo), 0);
	return combo;
}

/* The fields in the Tab order: user, password, desktop, the button. */
static GtkWidget *
login_form(void)
{
	GtkWidget	*grid = gtk_grid_new();
	int		 row = 0;

	gtk_grid_set_row_spacing(GTK_GRID(grid), 10);
	gtk_grid_set_column_spacing(GTK_GRID(grid), 12);
	ui.user = gtk_entry_new();
	gtk_entry_set_width_chars(GTK_ENTRY(ui.user), 24);
	g_signal_connect(ui.user, "activate", G_CALLBACK(on_user_enter), NULL);
	label_for(grid, row++, "_User name", ui.user);
	ui.password = gtk_entry_new();
	gtk_entry_set_visibility(GTK_ENTRY(ui.password), FALSE);
	gtk_entry_set_input_purpose(GTK_ENTRY(ui.password),
	    GTK_INPUT_PURPOSE_PASSWORD);
	gtk_entry_set_max_length(GTK_ENTRY(ui.password), PASSWORD_MAX);
	g_signal_connect(ui.password, "activate", G_CALLBACK(on_log_in), NULL);
	label_for(grid, row++, "_Password", ui.password);
	if (ui.conf->desktops->len > 1) {
		ui.desktop = desktop_choice();
		label_for(grid, row++, "_Desktop", ui.desktop);
	}
	return grid;
}

static GtkWidget *
login_page(void)
{
	GtkWidget	*box = gtk_box_new(GTK_ORIENTATION_VERTICAL, 16);
	GtkWidget	*heading = gtk_label_new("Log in to your desktop");
	GtkWidget	*button = gtk_button_new_with_mnemonic("_Log in");

	gtk_style_context_add_class(gtk_widget_get_style_context(heading),
	    "xvds-heading");
	gtk_widget_set_halign(box, GTK_ALIGN_CENTER);
	gtk_widget_set_valign(box, GTK_ALIGN_CENTER);
	gtk_box_pack_start(GTK_BOX(box), heading, FALSE, FALSE, 0);
	gtk_box_pack_start(GTK_BOX(box), login_form(), FALSE, FALSE, 0);
	g_signal_connect(button, "clicked", G_CALLBACK(on_log_in), NULL);
	gtk_widget_set_halign(button, GTK_ALIGN_END);
	gtk_box_pack_start(GTK_BOX(box), button, FALSE, FALSE, 0);
	ui.message = gtk_label_new(NULL);
	gtk_label_set_line_wrap(GTK_LABEL(ui.message), TRUE);
	gtk_label_set_max_width_chars(GTK_LABEL(ui.message), 48);
	gtk_widget_set_no_show_all(ui.message, TRUE);
	gtk_box_pack_start(GTK_BOX(box), ui.message, FALSE, FALSE, 0);
	return box;
}

static GtkWidget *
progress_page(void)
{
	GtkWidget	*box = gtk_box_new(GTK_ORIENTATION_VERTICAL, 16);

	gtk_widget_set_halign(box, GTK_ALIGN_CENTER);
	gtk_widget_set_valign(box, GTK_ALIGN_CENTER);
	ui.spinner = gtk_spinner_new();
	gtk_widget_set_size_request(ui.spinner, 48, 48);
	ui.progress = gtk_label_new(NULL);
	gtk_style_context_add_class(gtk_widget_get_style_context(ui.progress),
	    "xvds-progress");
	gtk_box_pack_start(GTK_BOX(box), ui.spinner, FALSE, FALSE, 0);
	gtk_box_pack_start(GTK_BOX(box), ui.progress, FALSE, FALSE, 0);
	return box;
}

static void
add_style(void)
{
	GtkCssProvider	*css = gtk_css_provider_new();

	gtk_css_provider_load_from_data(css, greeter_css, -1, NULL);
	gtk_style_context_add_provider_for_screen(gdk_screen_get_default(),
	    GTK_STYLE_PROVIDER(css), GTK_STYLE_PROVIDER_PRIORITY_APPLICATION);
	g_object_unref(css);
}

GtkWidget *
greeter_window_new(const struct greeter_config *conf)
{
	ui.conf = conf;
	add_style();
	ui.window = gtk_window_new(GTK_WINDOW_TOPLEVEL);
	gtk_style_context_add_class(gtk_widget_get_style_context(ui.window),
	    "xvds-greeter");
	gtk_window_set_decorated(GTK_WINDOW(ui.window), FALSE);
	ui.stack = gtk_stack_new();
	gtk_stack_add_named(GTK_STACK(ui.stack), login_page(), "login");
	gtk_stack_add_named(GTK_STACK(ui.stack), progress_page(), "progress");
	gtk_container_add(GTK_CONTAINER(ui.window), ui.stack);
	g_signal_connect(ui.window, "key-press-event", G_CALLBACK(on_key),
	    NULL);
	/* A kiosk's login is not closed: the session's end shows it again. */
	g_signal_connect(ui.window, "delete-event",
	    G_CALLBACK(gtk_true), NULL);
	gtk_widget_show_all(ui.stack);
	set_screen("login", "login", NULL);
	cover_screen();
	gtk_widget_grab_focus(ui.user);
	return ui.window;
}

/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * greeter/window.h — the greeter's full-screen window: the login form,
 * the progress screen, the messages, and what a login does to them.
 */
#ifndef XVDS_GREETER_WINDOW_H
#define XVDS_GREETER_WINDOW_H

#include <gtk/gtk.h>

#include "config.h"

/* Builds the window for conf (kept, not owned) and shows it. */
GtkWidget *greeter_window_new(const struct greeter_config *conf);

#endif

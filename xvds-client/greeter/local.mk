# xvds-greeter(1): the thin client's full-screen GTK login, which runs
# xvds-client for every login (the window, the child and its status
# lines, the configuration); tests/greeter/greeter.test drives it under
# Xvfb with a stand-in for xvds-client.
bin_PROGRAMS += xvds-client/greeter/xvds-greeter
xvds_client_greeter_xvds_greeter_SOURCES = %reldir%/main.c \
	%reldir%/window.c %reldir%/window.h \
	%reldir%/child.c %reldir%/child.h \
	%reldir%/status.c %reldir%/status.h \
	%reldir%/config.c %reldir%/config.h
xvds_client_greeter_xvds_greeter_CPPFLAGS = $(AM_CPPFLAGS) \
	-DGREETER_CLIENT_DEFAULT='"$(bindir)/xvds-client"'
xvds_client_greeter_xvds_greeter_CFLAGS = $(AM_CFLAGS) $(GTK_CFLAGS)
xvds_client_greeter_xvds_greeter_LDADD = $(GTK_LIBS)
dist_man1_MANS += man/xvds-greeter.1
GREETER_TESTS = tests/greeter/greeter.test tests/greeter/config.test
SCRIPT_TESTS += $(GREETER_TESTS)
EXTRA_DIST += $(GREETER_TESTS) tests/greeter/fake-client
# The status lines and their words, without a display.
UNIT_TESTS += tests/greeter/test_status
tests_greeter_test_status_SOURCES = tests/greeter/test_status.c \
	%reldir%/status.c %reldir%/status.h
tests_greeter_test_status_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/%reldir%
tests_greeter_test_status_CFLAGS = $(AM_CFLAGS) $(GTK_CFLAGS) $(CMOCKA_CFLAGS)
tests_greeter_test_status_LDADD = $(GTK_LIBS) $(CMOCKA_LIBS)

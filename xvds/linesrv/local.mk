# The line sockets' plumbing (linesrv/linesrv.h): listeners, unix sockets
# and line connections, TLS or not, for xvdsd's control socket
# (xvds-control(7)) and the controller's admin socket and broker
# (xvds-admin(7), xvds-broker(7)); the command sockets' table shape
# (linesrv/cmd.h); the listeners' table of connections with per-address
# caps (linesrv/conn_limit.h), also the agent channel's.  LINESRV_LIBS:
# what a program linking it links.
noinst_LIBRARIES += %reldir%/libxvdslinesrv.a
%canon_reldir%_libxvdslinesrv_a_SOURCES = \
	%reldir%/linesrv.h %reldir%/unix.c %reldir%/listen.c %reldir%/conn.c \
	%reldir%/cmd.h %reldir%/cmd.c \
	%reldir%/conn_limit.c %reldir%/conn_limit.h
%canon_reldir%_libxvdslinesrv_a_CFLAGS = $(AM_CFLAGS) $(LIBEVENT_CFLAGS) \
	$(OPENSSL_CFLAGS) $(SODIUM_CFLAGS) $(JANSSON_CFLAGS)
LINESRV_LIBS = %reldir%/libxvdslinesrv.a xvds/common/libxvdscommon.a \
	$(LIBEVENT_LIBS) $(OPENSSL_LIBS) $(SODIUM_LIBS) $(JANSSON_LIBS)

# The agent channel between each host's xvdsd and the controller
# (xvds-agent(7)): the message codec and its mutual-TLS transport, whose
# listener keeps linesrv/conn_limit.c's per-address caps.  AGENT_LIBS:
# what a program linking it links.
noinst_LIBRARIES += %reldir%/libxvdsagent.a
%canon_reldir%_libxvdsagent_a_SOURCES = \
	%reldir%/msg.c %reldir%/msg.h \
	%reldir%/tls.c %reldir%/tls.h
%canon_reldir%_libxvdsagent_a_CFLAGS = $(AM_CFLAGS) $(JANSSON_CFLAGS) \
	$(LIBEVENT_CFLAGS) $(OPENSSL_CFLAGS)
AGENT_LIBS = %reldir%/libxvdsagent.a $(LINESRV_LIBS)

# The agent channel between each host's xvdsd and the controller
# (xvds-agent(7)): the message codec, its mutual-TLS transport, and the
# listeners' table of connections with per-address caps (also the
# broker's).  AGENT_LIBS: what a program linking it links.
noinst_LIBRARIES += %reldir%/libxvdsagent.a
%canon_reldir%_libxvdsagent_a_SOURCES = \
	%reldir%/msg.c %reldir%/msg.h \
	%reldir%/tls.c %reldir%/tls.h \
	%reldir%/conn_limit.c %reldir%/conn_limit.h
%canon_reldir%_libxvdsagent_a_CFLAGS = $(AM_CFLAGS) $(JANSSON_CFLAGS) \
	$(LIBEVENT_CFLAGS) $(OPENSSL_CFLAGS)
AGENT_LIBS = %reldir%/libxvdsagent.a xvds/common/libxvdscommon.a \
	$(LIBEVENT_LIBS) $(OPENSSL_LIBS) $(JANSSON_LIBS) $(SODIUM_LIBS)

# xvds-probe(8): lists domains, watches and validates guests' records as
# xvdsd would, waits for a boot.
sbin_PROGRAMS += xvds/xvds-probe
xvds_xvds_probe_SOURCES = %reldir%/main.c
xvds_xvds_probe_CFLAGS = $(AM_CFLAGS) $(JANSSON_CFLAGS)
xvds_xvds_probe_LDADD = xvds/hv/libxvdshv.a xvds/common/libxvdscommon.a \
	$(XENLIGHT_LIBS) $(XENSTORE_LIBS) $(XENTOOLLOG_LIBS) $(JANSSON_LIBS) \
	$(LIBEVENT_LIBS)

# xvdsd(8), the host daemon: its logic in a library over whichever
# hypervisor it is linked with: the VMs and their machines driven,
# migration's VM side, clean images and fast resets, credentials into the
# guest; restart reconciliation; the migration connection and handshake, clean-image files, disk
# copies, qcow2 overlays; sampling the host and windowed means; the
# control socket (xvds-control(7)); its link to the controller (the agent
# side of xvds-agent(7)).  xvdsd links it with hv/ (libxl); xvdsd-sim,
# for tests and benchmarks and never installed, with hvsim/.
noinst_LIBRARIES += %reldir%/libxvdshostd.a
%canon_reldir%_libxvdshostd_a_SOURCES = \
	%reldir%/xvdsd.h \
	%reldir%/vm.c %reldir%/vm.h %reldir%/vm_priv.h \
	%reldir%/vm_init.c \
	%reldir%/vm_migrate.c %reldir%/vm_migrate.h \
	%reldir%/vm_clean.c %reldir%/vm_clean.h \
	%reldir%/vm_cred.c %reldir%/vm_cred.h \
	%reldir%/reconcile.c %reldir%/reconcile.h \
	%reldir%/host.c %reldir%/host.h \
	%reldir%/sample.c %reldir%/sample.h \
	%reldir%/qcow2.c %reldir%/qcow2.h \
	%reldir%/migrate.c %reldir%/migrate_msg.c %reldir%/migrate.h \
	%reldir%/clean.c %reldir%/clean.h \
	%reldir%/diskcopy.c %reldir%/diskcopy.h \
	%reldir%/control.c %reldir%/control.h \
	%reldir%/agent_link.c %reldir%/agent_link.h
%canon_reldir%_libxvdshostd_a_CFLAGS = $(AM_CFLAGS) $(LIBEVENT_CFLAGS) \
	$(JANSSON_CFLAGS) $(SODIUM_CFLAGS) $(OPENSSL_CFLAGS)

sbin_PROGRAMS += xvds/xvdsd
xvds_xvdsd_SOURCES = %reldir%/main.c
xvds_xvdsd_CFLAGS = $(AM_CFLAGS) $(LIBEVENT_CFLAGS)
xvds_xvdsd_LDADD = %reldir%/libxvdshostd.a $(LINESRV_LIBS) xvds/hv/libxvdshv.a \
	xvds/common/libxvdscommon.a \
	$(XENLIGHT_LIBS) $(XENSTORE_LIBS) $(XENTOOLLOG_LIBS) $(LIBEVENT_LIBS) \
	$(JANSSON_LIBS) $(SODIUM_LIBS) $(AGENT_LIBS)

check_PROGRAMS += xvds/xvdsd-sim
xvds_xvdsd_sim_SOURCES = %reldir%/main.c
xvds_xvdsd_sim_CPPFLAGS = $(AM_CPPFLAGS) -DXVDSD_SIMULATED
xvds_xvdsd_sim_CFLAGS = $(AM_CFLAGS) $(LIBEVENT_CFLAGS)
xvds_xvdsd_sim_LDADD = %reldir%/libxvdshostd.a $(LINESRV_LIBS) \
	xvds/hvsim/libxvdshvsim.a \
	xvds/hv/libxvdshv.a xvds/common/libxvdscommon.a \
	$(LIBEVENT_LIBS) $(JANSSON_LIBS) $(SODIUM_LIBS) $(AGENT_LIBS)

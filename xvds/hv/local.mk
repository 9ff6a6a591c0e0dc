# The hypervisor seam (hv.h) over libxl, the only file that includes
# libxl.h; libxl's absolute timeouts on libevent; the xenstore watch over
# the guests' records; the names of the seam's enums, which the simulated
# hypervisor's users link from here too.  Linked by xvdsd and xvds-probe.
noinst_LIBRARIES += %reldir%/libxvdshv.a
%canon_reldir%_libxvdshv_a_SOURCES = \
	%reldir%/hv.h %reldir%/names.c %reldir%/libxl.c \
	%reldir%/timer_at.c %reldir%/timer_at.h \
	%reldir%/reportwatch.c %reldir%/reportwatch.h
%canon_reldir%_libxvdshv_a_CFLAGS = $(AM_CFLAGS) $(XENLIGHT_CFLAGS) \
	$(XENSTORE_CFLAGS) $(XENTOOLLOG_CFLAGS) $(LIBEVENT_CFLAGS)

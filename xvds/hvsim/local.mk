# The simulated hypervisor and guest agents behind the same hv/hv.h: unit
# tests, benchmarks and xvdsd-sim link it instead of hv/; never the lab.
noinst_LIBRARIES += %reldir%/libxvdshvsim.a
%canon_reldir%_libxvdshvsim_a_SOURCES = \
	%reldir%/sim.c %reldir%/sim.h \
	%reldir%/report.c %reldir%/report.h
%canon_reldir%_libxvdshvsim_a_CFLAGS = $(AM_CFLAGS) $(LIBEVENT_CFLAGS) \
	$(JANSSON_CFLAGS)

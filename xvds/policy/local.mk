# Load balancing (xvds-policy(7)): the migration policies and the
# placement rule, pure, and the dry-run planner, in a library for the
# controller, xvdsctl and xvds-sim; xvds-sim(1), the paper's experiment
# re-run on the policy code.
noinst_LIBRARIES += %reldir%/libxvdspolicy.a
%canon_reldir%_libxvdspolicy_a_SOURCES = \
	%reldir%/policy.c %reldir%/policy.h \
	%reldir%/plan.c %reldir%/plan.h
bin_PROGRAMS += xvds/xvds-sim
xvds_xvds_sim_SOURCES = %reldir%/xvds-sim.c %reldir%/sim.c %reldir%/sim.h
xvds_xvds_sim_CFLAGS = $(AM_CFLAGS) $(JANSSON_CFLAGS)
xvds_xvds_sim_LDADD = %reldir%/libxvdspolicy.a xvds/common/libxvdscommon.a \
	$(JANSSON_LIBS) -lm

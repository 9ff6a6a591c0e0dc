# xvdsctl(8), the operator's CLI: xvdsd's control socket
# (xvds-control(7)) on a host, the controller's admin socket
# (xvds-admin(7)) for the cluster commands, PostgreSQL for `db upgrade`,
# and the policy offline for `policy plan`.
sbin_PROGRAMS += xvds/xvdsctl
xvds_xvdsctl_SOURCES = \
	%reldir%/main.c %reldir%/xvdsctl.h %reldir%/cmdtable.c \
	%reldir%/client.c %reldir%/host.c %reldir%/vm.c %reldir%/policy.c \
	%reldir%/cluster.c %reldir%/cluster_form.c %reldir%/cluster_table.c \
	%reldir%/cluster_pool.c %reldir%/cluster_user.c \
	%reldir%/cluster_policy.c \
	%reldir%/db.c %reldir%/db.h
xvds_xvdsctl_CFLAGS = $(AM_CFLAGS) $(JANSSON_CFLAGS) $(LIBPQ_CFLAGS)
xvds_xvdsctl_LDADD = xvds/db/libxvdsdb.a xvds/policy/libxvdspolicy.a \
	xvds/common/libxvdscommon.a $(JANSSON_LIBS) $(LIBPQ_LIBS) -lm \
	$(SODIUM_LIBS)

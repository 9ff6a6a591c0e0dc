# xvds-controller(8), the controller daemon, its logic in a library the
# daemon and the tests link: controller.conf, leadership by advisory
# lock; the agents' side of the channel, the hosts' records and
# reconciliation; the live cluster and placement; the broker's listener
# (xvds-broker(7)), logins, argon2id workers, sessions and releases; pool
# upkeep, the boot-storm throttle, balancing; the admin socket
# (xvds-admin(7)) and its commands.  CTRL_LIBS: what a program linking
# it links.
noinst_LIBRARIES += %reldir%/libxvdscontroller.a
%canon_reldir%_libxvdscontroller_a_SOURCES = \
	%reldir%/conf.c %reldir%/conf.h \
	%reldir%/leader.c %reldir%/leader.h \
	%reldir%/agent.c %reldir%/agent.h \
	%reldir%/cluster.c %reldir%/cluster.h \
	%reldir%/broker.c %reldir%/broker.h \
	%reldir%/login.c %reldir%/login.h \
	%reldir%/passwd_pool.c %reldir%/passwd_pool.h \
	%reldir%/session.c %reldir%/session.h \
	%reldir%/pool.c %reldir%/pool.h \
	%reldir%/power.c %reldir%/power.h \
	%reldir%/balance.c %reldir%/balance.h \
	%reldir%/admin.c %reldir%/admin.h \
	%reldir%/admin_cmd.c %reldir%/admin_cmd.h
# The controller's SQL, one file of named statements per module, built
# into sql.c and sql.h by scripts/sql2c.sh -n (sql_STEM_what[]).
CTRL_SQL = %reldir%/sql/admin.sql %reldir%/sql/agent.sql \
	%reldir%/sql/balance.sql %reldir%/sql/broker.sql \
	%reldir%/sql/cluster.sql %reldir%/sql/leader.sql %reldir%/sql/login.sql \
	%reldir%/sql/main.sql %reldir%/sql/pool.sql %reldir%/sql/session.sql
nodist_%canon_reldir%_libxvdscontroller_a_SOURCES = %reldir%/sql.c \
	%reldir%/sql.h
BUILT_SOURCES += %reldir%/sql.c %reldir%/sql.h
CLEANFILES += %reldir%/sql.c %reldir%/sql.h
EXTRA_DIST += $(CTRL_SQL)
# The VM states' names come from common/vm_fsm.c's table (:'VM_S_X').
%reldir%/sql.c %reldir%/sql.h: $(CTRL_SQL) scripts/sql2c.sh \
    xvds/common/vm_fsm.c
	$(AM_V_GEN)$(MKDIR_P) %reldir% && files= && \
	for f in $(CTRL_SQL); do files="$$files $(srcdir)/$$f"; done && \
	$(SHELL) $(srcdir)/scripts/sql2c.sh -n \
	    -s $(srcdir)/xvds/common/vm_fsm.c $@ $$files
%canon_reldir%_libxvdscontroller_a_CFLAGS = $(AM_CFLAGS) $(LIBEVENT_CFLAGS) \
	$(LIBPQ_CFLAGS) $(OPENSSL_CFLAGS) $(SODIUM_CFLAGS) $(JANSSON_CFLAGS)
CTRL_LIBS = %reldir%/libxvdscontroller.a xvds/db/libxvdsdb.a \
	xvds/policy/libxvdspolicy.a $(LINESRV_LIBS) $(AGENT_LIBS) $(LIBPQ_LIBS) \
	$(SODIUM_LIBS) -lpthread

sbin_PROGRAMS += xvds/xvds-controller
xvds_xvds_controller_SOURCES = %reldir%/main.c
xvds_xvds_controller_CFLAGS = $(AM_CFLAGS) $(LIBEVENT_CFLAGS) $(LIBPQ_CFLAGS)
xvds_xvds_controller_LDADD = $(CTRL_LIBS) $(LIBEVENT_LIBS) -lm \
	$(JANSSON_LIBS)

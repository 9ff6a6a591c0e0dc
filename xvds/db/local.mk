# The controller's database (xvds-schema(7)): libpq on libevent, and the
# migration runner with schema/NNN_*.sql built in (scripts/sql2c.sh
# writes schema_sql.c).  A new migration is a new schema/NNN_what.sql,
# listed here in order.
SCHEMA_SQL = schema/001_initial.sql schema/002_session_digests.sql \
	schema/003_session_release.sql schema/004_host_figures.sql \
	schema/005_login_indexes.sql schema/006_rdp_fingerprint.sql \
	schema/007_logout_reason.sql
noinst_LIBRARIES += %reldir%/libxvdsdb.a
%canon_reldir%_libxvdsdb_a_SOURCES = \
	%reldir%/db.c %reldir%/db.h \
	%reldir%/schema.c %reldir%/schema.h
nodist_%canon_reldir%_libxvdsdb_a_SOURCES = %reldir%/schema_sql.c
%canon_reldir%_libxvdsdb_a_CFLAGS = $(AM_CFLAGS) $(LIBEVENT_CFLAGS) \
	$(LIBPQ_CFLAGS)
BUILT_SOURCES += %reldir%/schema_sql.c
CLEANFILES += %reldir%/schema_sql.c
%reldir%/schema_sql.c: $(SCHEMA_SQL) scripts/sql2c.sh
	$(AM_V_GEN)$(MKDIR_P) %reldir% && files= && \
	for f in $(SCHEMA_SQL); do files="$$files $(srcdir)/$$f"; done && \
	$(SHELL) $(srcdir)/scripts/sql2c.sh $@ $$files

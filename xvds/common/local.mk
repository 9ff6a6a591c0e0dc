# The common library, linked by every program: logging, error buffers,
# jansson errors without the input, wiping secrets, daemon start-up; the
# guest report protocol and dom0's rules for believing it; the VM state
# machines; xvds.conf(5), the keyword tables of both configuration readers,
# and templates; argon2id hashes, login rate limits,
# one-time credentials and tokens, the broker's messages (xvds-broker(7)).
noinst_LIBRARIES += %reldir%/libxvdscommon.a
%canon_reldir%_libxvdscommon_a_SOURCES = \
	%reldir%/log.c %reldir%/log.h \
	%reldir%/errbuf.c %reldir%/errbuf.h \
	%reldir%/jsonerr.c %reldir%/jsonerr.h \
	%reldir%/wipe.c %reldir%/wipe.h \
	%reldir%/daemon.c %reldir%/daemon.h \
	%reldir%/report.c %reldir%/report.h \
	%reldir%/reportstate.c %reldir%/reportstate.h \
	%reldir%/vm_fsm.c %reldir%/vm_fsm.h \
	%reldir%/conf.c %reldir%/conf.h \
	%reldir%/confread.c %reldir%/confread.h \
	%reldir%/template.c %reldir%/template.h %reldir%/vmspec.h \
	%reldir%/passwd.c %reldir%/passwd.h \
	%reldir%/ratelimit.c %reldir%/ratelimit.h \
	%reldir%/credential.c %reldir%/credential.h \
	%reldir%/broker_msg.c %reldir%/broker_msg.h \
	%reldir%/sockets.h

/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * rdp_probe.c — rdp-probe, xvds-client/rdp_headless.c driven from a
 * script (tests/client/rdp.test, tests/bench/rdp-login.sh): the password
 * is read from standard input, one line; what happened is printed on
 * stdout as key=value lines, flushed as they come:
 *
 *   outcome=ok|unreachable|untrusted|auth-failed|failed
 *   seen=HEX        the certificate's SHA-256, when TLS was reached
 *   connect_ms=MS   first_frame_ms=MS
 *   up              the first frame arrived (and -o was written)
 *   end=stopped|logoff|disconnected|lost   with -r, when the session ends
 *   error=TEXT
 *
 * -c checks the certificate alone (no password read).  -r keeps the
 * session until SIGTERM or SIGINT or its end.  -S USER prints the line
 * of a FreeRDP SAM file for USER and the password read (what
 * winpr-hash3 prints, without the password on its command line).
 * Exit 0 when the outcome is ok (and the frame came), 1 otherwise, 2 on
 * bad usage.
 */
#include <config.h>

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>
#include <winpr/ntlm.h>
#include <winpr/ssl.h>
#include <winpr/wlog.h>

#include "rdp_headless.h"

static volatile sig_atomic_t stop_requested;

static void
on_signal(int sig)
{
	(void)sig;
	stop_requested = 1;
}

static _Noreturn void
usage(void)
{
	fprintf(stderr, "usage: rdp-probe [-cr] [-o ppm] [-t ms] -H host "
	    "-p port -u user -f sha256\n       rdp-probe -S user\n");
	exit(2);
}

static int
read_password(char *buf, size_t len)
{
	size_t	 n;

	if (fgets(buf, (int)len, stdin) == NULL)
		return -1;
	n = strcspn(buf, "\n");
	buf[n] = '\0';
	return 0;
}

/* user:::NT-hash::: — the NT hash is MD4 of the UTF-16 password. */
static int
sam_line(const char *user, char *password)
{
	BYTE	 hash[16];
	char	 hex[sizeof(hash) * 2 + 1];

	/* OpenSSL's legacy provider, which has MD4. */
	if (!winpr_InitializeSSL(WINPR_SSL_INIT_DEFAULT) ||
	    !NTOWFv1A(password, (UINT32)strlen(password), hash))
		return 1;
	sodium_bin2hex(hex, sizeof(hex), hash, sizeof(hash));
	printf("%s:::%s:::\n", user, hex);
	sodium_memzero(hash, sizeof(hash));
	return 0;
}

static int
check_cert(const struct rdp_target *t)
{
	char	 seen[RDP_SHA256_HEX_LEN + 1], err[512];
	enum rdp_outcome o = rdp_headless_check_cert(t, seen, err, sizeof(err));

	printf("outcome=%s\n", rdp_outcome_names[o]);
	if (seen[0] != '\0')
		printf("seen=%s\n", seen);
	if (o != RDP_OK)
		printf("error=%s\n", err);
	return o == RDP_OK ? 0 : 1;
}

static int
session(const struct rdp_target *t, const char *ppm, int keep)
{
	struct rdp_session *s;
	struct rdp_timing tm = { 0, 0 };
	char	 seen[RDP_SHA256_HEX_LEN + 1], err[512];
	enum rdp_outcome o;
	enum rdp_end e;

	o = rdp_session_open(t, &s, &tm, seen, err, sizeof(err));
	printf("outcome=%s\nconnect_ms=%.1f\n", rdp_outcome_names[o],
	    tm.connect_ms);
	if (seen[0] != '\0')
		printf("seen=%s\n", seen);
	if (o != RDP_OK) {
		printf("error=%s\n", err);
		return 1;
	}
	if (rdp_session_first_frame(s, &tm, err, sizeof(err)) == -1 ||
	    (ppm != NULL && rdp_session_save_ppm(s, ppm, err,
	    sizeof(err)) == -1)) {
		printf("error=%s\n", err);
		rdp_session_close(s);
		return 1;
	}
	printf("first_frame_ms=%.1f\nup\n", tm.first_frame_ms);
	fflush(stdout);
	if (keep) {
		e = rdp_session_run(s, &stop_requested, err, sizeof(err));
		printf("end=%s\nerror=%s\n", rdp_end_names[e], err);
	}
	rdp_session_close(s);
	return 0;
}

int
main(int argc, char **argv)
{
	struct rdp_target t = { .timeout_ms = 10000 };
	char	 password[256];
	const char *ppm = NULL, *sam_user = NULL;
	int	 c, cert_only = 0, keep = 0, rc;

	while ((c = getopt(argc, argv, "cf:H:o:p:rS:t:u:")) != -1) {
		switch (c) {
		case 'c': cert_only = 1; break;
		case 'S': sam_user = optarg; break;
		case 'f': t.cert_sha256 = optarg; break;
		case 'H': t.host = optarg; break;
		case 'o': ppm = optarg; break;
		case 'p': t.port = (uint16_t)atoi(optarg); break;
		case 'r': keep = 1; break;
		case 't': t.timeout_ms = (unsigned)atoi(optarg); break;
		case 'u': t.user = optarg; break;
		default: usage();
		}
	}
	if (sam_user != NULL) {
		if (read_password(password, sizeof(password)) == -1)
			usage();
		rc = sam_line(sam_user, password);
		sodium_memzero(password, sizeof(password));
		return rc;
	}
	if (t.host == NULL || t.port == 0 || t.cert_sha256 == NULL)
		usage();
	setvbuf(stdout, NULL, _IOLBF, 0);
	signal(SIGTERM, on_signal);
	signal(SIGINT, on_signal);
	/* FreeRDP's own log would mix with the key=value lines. */
	WLog_SetLogLevel(WLog_GetRoot(), WLOG_OFF);
	if (cert_only)
		return check_cert(&t);
	if (t.user == NULL || read_password(password, sizeof(password)) == -1)
		usage();
	t.password = password;
	rc = session(&t, ppm, keep);
	sodium_memzero(password, sizeof(password));
	return rc;
}

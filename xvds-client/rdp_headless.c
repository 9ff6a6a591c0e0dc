/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * rdp_headless.c — an RDP session with libfreerdp3 and an in-memory
 * framebuffer (rdp_headless.h).
 *
 * The certificate goes through FreeRDP's external certificate management
 * (VerifyX509Certificate): FreeRDP then neither consults its known-hosts
 * store, where a stored entry would skip the pin, nor accepts a
 * certificate a system CA vouches for; the pin decides alone.
 * VerifyCertificateEx and VerifyChangedCertificateEx check the same pin
 * should a FreeRDP build call them instead.
 */
#include <config.h>

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include <freerdp/client.h>
#include <freerdp/codec/color.h>
#include <freerdp/crypto/certificate.h>
#include <freerdp/error.h>
#include <freerdp/freerdp.h>
#include <freerdp/gdi/gdi.h>
#include <freerdp/primitives.h>
#include <freerdp/settings.h>
#include <winpr/synch.h>

#include "rdp_headless.h"

#define POLL_MS		100	/* how often *stop is looked at */
#define DESKTOP_WIDTH	1024
#define DESKTOP_HEIGHT	768

const char *const rdp_outcome_names[] = {
	[RDP_OK] = "ok",
	[RDP_UNREACHABLE] = "unreachable",
	[RDP_UNTRUSTED] = "untrusted",
	[RDP_AUTH_FAILED] = "auth-failed",
	[RDP_FAILED] = "failed",
};

const char *const rdp_end_names[] = {
	[RDP_END_STOPPED] = "stopped",
	[RDP_END_LOGOFF] = "logoff",
	[RDP_END_DISCONNECTED] = "disconnected",
	[RDP_END_LOST] = "lost",
};

struct rdp_session {
	rdpContext	*ctx;
	char		 pin[RDP_SHA256_HEX_LEN + 1];
	char		 seen[RDP_SHA256_HEX_LEN + 1];
	int		 tls_reached;	/* a certificate was shown */
	int		 refuse_all;	/* check_cert: stop after TLS */
	int		 connected;
	int		 drawn;		/* a whole frame was drawn */
	int		 in_frame;	/* between frame markers */
	int		 painted;	/* pixels drawn within that frame */
	unsigned	 timeout_ms;
	pEndPaint	 gdi_end_paint;
	pSurfaceFrameMarker gdi_frame_marker;
};

/* FreeRDP's client context, with room for the session behind it. */
struct headless_context {
	rdpClientContext	 common;
	struct rdp_session	*session;
};

static struct rdp_session *
session_of(rdpContext *ctx)
{
	return ((struct headless_context *)ctx)->session;
}

static double
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

/* "AB:cd:..." or "abcd..." into lower-case hex without separators. */
static int
fingerprint_normalize(const char *in, char out[RDP_SHA256_HEX_LEN + 1])
{
	size_t	 n = 0;

	for (; *in != '\0'; in++) {
		if (*in == ':')
			continue;
		if (!isxdigit((unsigned char)*in) || n == RDP_SHA256_HEX_LEN)
			return -1;
		out[n++] = (char)tolower((unsigned char)*in);
	}
	out[n] = '\0';
	return n == RDP_SHA256_HEX_LEN ? 0 : -1;
}

/* The SHA-256 of the first certificate of a PEM chain. */
static int
pem_sha256(const char *pem, size_t len, char out[RDP_SHA256_HEX_LEN + 1])
{
	rdpCertificate *cert;
	char	*copy, *fp;
	int	 rc = -1;

	if ((copy = strndup(pem, len)) == NULL)
		return -1;
	cert = freerdp_certificate_new_from_pem(copy);
	free(copy);
	if (cert == NULL)
		return -1;
	fp = freerdp_certificate_get_fingerprint_by_hash_ex(cert, "sha256",
	    FALSE);
	if (fp != NULL)
		rc = fingerprint_normalize(fp, out);
	free(fp);
	freerdp_certificate_free(cert);
	return rc;
}

/* Records what was seen; 2 (accept for this session only) or 0. */
static DWORD
pin_verdict(struct rdp_session *s, const char *cert, size_t len, DWORD flags)
{
	int	 rc;

	s->tls_reached = 1;
	if (flags & VERIFY_CERT_FLAG_FP_IS_PEM || memmem(cert, len,
	    "-----BEGIN", 10) != NULL)
		rc = pem_sha256(cert, len, s->seen);
	else
		rc = fingerprint_normalize(cert, s->seen);
	if (rc == -1)
		s->seen[0] = '\0';
	if (s->refuse_all || rc == -1 || strcmp(s->seen, s->pin) != 0)
		return 0;
	return 2;
}

static int
on_verify_x509(freerdp *instance, const BYTE *data, size_t length,
    const char *host, UINT16 port, DWORD flags)
{
	(void)host;
	(void)port;
	return (int)pin_verdict(session_of(instance->context),
	    (const char *)data, length, flags | VERIFY_CERT_FLAG_FP_IS_PEM);
}

static DWORD
on_verify_certificate(freerdp *instance, const char *host, UINT16 port,
    const char *common_name, const char *subject, const char *issuer,
    const char *fingerprint, DWORD flags)
{
	(void)host;
	(void)port;
	(void)common_name;
	(void)subject;
	(void)issuer;
	return pin_verdict(session_of(instance->context), fingerprint,
	    strlen(fingerprint), flags);
}

static DWORD
on_verify_changed(freerdp *instance, const char *host, UINT16 port,
    const char *common_name, const char *subject, const char *issuer,
    const char *new_fingerprint, const char *old_subject,
    const char *old_issuer, const char *old_fingerprint, DWORD flags)
{
	(void)old_subject;
	(void)old_issuer;
	(void)old_fingerprint;
	return on_verify_certificate(instance, host, port, common_name,
	    subject, issuer, new_fingerprint, flags);
}

/*
 * The first frame.  With RemoteFX a server paints a whole frame between
 * frame markers; a frame painted in several updates is there at its end
 * marker.  Without markers, the first EndPaint that drew pixels (plain
 * bitmap updates come tile by tile: RemoteFX is asked for).
 */
static BOOL
on_frame_marker(rdpContext *ctx, const SURFACE_FRAME_MARKER *marker)
{
	struct rdp_session *s = session_of(ctx);

	if (marker->frameAction == SURFACECMD_FRAMEACTION_BEGIN) {
		s->in_frame = 1;
		s->painted = 0;
	} else {
		s->in_frame = 0;
		if (s->painted)
			s->drawn = 1;
	}
	return s->gdi_frame_marker != NULL ?
	    s->gdi_frame_marker(ctx, marker) : TRUE;
}

static BOOL
on_end_paint(rdpContext *ctx)
{
	struct rdp_session *s = session_of(ctx);
	rdpGdi	*gdi = ctx->gdi;
	HGDI_WND hwnd;

	if (gdi == NULL || gdi->primary == NULL)
		return TRUE;
	hwnd = gdi->primary->hdc->hwnd;
	if (!hwnd->invalid->null) {
		s->painted = 1;
		if (!s->in_frame)
			s->drawn = 1;
	}
	if (s->gdi_end_paint != NULL)
		return s->gdi_end_paint(ctx);
	/* As a viewer does once it has shown the region: the next paint
	 * starts clean. */
	hwnd->invalid->null = TRUE;
	hwnd->ninvalid = 0;
	return TRUE;
}

static BOOL
on_post_connect(freerdp *instance)
{
	struct rdp_session *s = session_of(instance->context);

	if (!gdi_init(instance, PIXEL_FORMAT_BGRX32))
		return FALSE;
	s->gdi_end_paint = instance->context->update->EndPaint;
	instance->context->update->EndPaint = on_end_paint;
	s->gdi_frame_marker = instance->context->update->SurfaceFrameMarker;
	instance->context->update->SurfaceFrameMarker = on_frame_marker;
	return TRUE;
}

/*
 * No channels: FreeRDP's client loads sound, drives and the dynamic
 * channels by default, and one of their threads was seen to crash in
 * freerdp_disconnect; the session is looked at, not used.
 */
static BOOL
on_load_channels(freerdp *instance)
{
	(void)instance;
	return TRUE;
}

static BOOL
on_client_new(freerdp *instance, rdpContext *ctx)
{
	(void)ctx;
	instance->LoadChannels = on_load_channels;
	instance->PostConnect = on_post_connect;
	instance->VerifyX509Certificate = on_verify_x509;
	instance->VerifyCertificateEx = on_verify_certificate;
	instance->VerifyChangedCertificateEx = on_verify_changed;
	return TRUE;
}

static int
settings_apply(rdpSettings *st, const struct rdp_target *t, int nla_only)
{
	return freerdp_settings_set_string(st, FreeRDP_ServerHostname,
	    t->host) &&
	    freerdp_settings_set_uint32(st, FreeRDP_ServerPort, t->port) &&
	    freerdp_settings_set_string(st, FreeRDP_Username,
		t->user != NULL ? t->user : "") &&
	    freerdp_settings_set_uint32(st, FreeRDP_TcpConnectTimeout,
		t->timeout_ms) &&
	    freerdp_settings_set_bool(st, FreeRDP_NlaSecurity, TRUE) &&
	    freerdp_settings_set_bool(st, FreeRDP_TlsSecurity, !nla_only) &&
	    freerdp_settings_set_bool(st, FreeRDP_RdpSecurity, FALSE) &&
	    freerdp_settings_set_bool(st, FreeRDP_ExternalCertificateManagement,
		TRUE) &&
	    freerdp_settings_set_bool(st, FreeRDP_CertificateCallbackPreferPEM,
		TRUE) &&
	    freerdp_settings_set_bool(st, FreeRDP_SoftwareGdi, TRUE) &&
	    freerdp_settings_set_bool(st, FreeRDP_SupportGraphicsPipeline,
		FALSE) &&
	    freerdp_settings_set_bool(st, FreeRDP_AutoReconnectionEnabled,
		FALSE) &&
	    freerdp_settings_set_bool(st, FreeRDP_RemoteFxCodec, TRUE) &&
	    freerdp_settings_set_bool(st, FreeRDP_FrameMarkerCommandEnabled,
		TRUE) &&
	    freerdp_settings_set_bool(st, FreeRDP_SurfaceFrameMarkerEnabled,
		TRUE) &&
	    freerdp_settings_set_uint32(st, FreeRDP_DesktopWidth,
		DESKTOP_WIDTH) &&
	    freerdp_settings_set_uint32(st, FreeRDP_DesktopHeight,
		DESKTOP_HEIGHT) &&
	    freerdp_settings_set_uint32(st, FreeRDP_ColorDepth, 32) ? 0 : -1;
}

static int
target_valid(const struct rdp_target *t, char *err, size_t errlen)
{
	char	 pin[RDP_SHA256_HEX_LEN + 1];

	if (t->host == NULL || *t->host == '\0' || t->port == 0) {
		snprintf(err, errlen, "no desktop address");
		return -1;
	}
	if (t->cert_sha256 == NULL ||
	    fingerprint_normalize(t->cert_sha256, pin) == -1 ||
	    strcmp(pin, t->cert_sha256) != 0) {
		snprintf(err, errlen, "the certificate pin is not 64 "
		    "lower-case hex digits");
		return -1;
	}
	return 0;
}

static struct rdp_session *
session_new(const struct rdp_target *t, int refuse_all, char *err,
    size_t errlen)
{
	RDP_CLIENT_ENTRY_POINTS ep;
	struct rdp_session *s;
	static int hinted;

	if (target_valid(t, err, errlen) == -1)
		return NULL;
	/* Generic code paths: skips a start-up benchmark of ~300 ms. */
	if (!hinted++)
		primitives_set_hints(PRIMITIVES_ONLY_CPU);
	if ((s = calloc(1, sizeof(*s))) == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	memcpy(s->pin, t->cert_sha256, sizeof(s->pin));
	s->refuse_all = refuse_all;
	s->timeout_ms = t->timeout_ms;
	memset(&ep, 0, sizeof(ep));
	ep.Size = sizeof(ep);
	ep.Version = RDP_CLIENT_INTERFACE_VERSION;
	ep.ContextSize = sizeof(struct headless_context);
	ep.ClientNew = on_client_new;
	if ((s->ctx = freerdp_client_context_new(&ep)) == NULL) {
		snprintf(err, errlen, "cannot make a FreeRDP context");
		free(s);
		return NULL;
	}
	((struct headless_context *)s->ctx)->session = s;
	if (settings_apply(s->ctx->settings, t, !refuse_all) == -1) {
		snprintf(err, errlen, "cannot set FreeRDP's settings");
		rdp_session_close(s);
		return NULL;
	}
	return s;
}

/* FreeRDP's own copy of the password, once it is no longer needed. */
static void
password_wipe(rdpSettings *st)
{
	const char *pw = freerdp_settings_get_string(st, FreeRDP_Password);

	if (pw != NULL)
		sodium_memzero((char *)pw, strlen(pw));
}

static int
error_is_auth(UINT32 code)
{
	switch (code) {
	case FREERDP_ERROR_AUTHENTICATION_FAILED:
	case FREERDP_ERROR_CONNECT_LOGON_FAILURE:
	case FREERDP_ERROR_CONNECT_WRONG_PASSWORD:
	case FREERDP_ERROR_CONNECT_ACCESS_DENIED:
	case FREERDP_ERROR_CONNECT_NO_OR_MISSING_CREDENTIALS:
	case FREERDP_ERROR_CONNECT_ACCOUNT_DISABLED:
	case FREERDP_ERROR_CONNECT_ACCOUNT_EXPIRED:
	case FREERDP_ERROR_CONNECT_ACCOUNT_LOCKED_OUT:
	case FREERDP_ERROR_CONNECT_PASSWORD_EXPIRED:
	case FREERDP_ERROR_CONNECT_PASSWORD_MUST_CHANGE:
		return 1;
	}
	return 0;
}

static enum rdp_outcome
untrusted(const struct rdp_session *s, char *err, size_t errlen)
{
	snprintf(err, errlen, "the desktop's certificate is not the one the "
	    "broker named: it shows SHA-256 %s, the broker said %s",
	    s->seen[0] != '\0' ? s->seen : "(unreadable)", s->pin);
	return RDP_UNTRUSTED;
}

/*
 * Why freerdp_connect failed.  A server that refuses NLA may simply drop
 * the socket, which FreeRDP reports as a transport failure, the same as
 * a closed port: TLS reached (the certificate callback ran) tells them
 * apart.
 */
static enum rdp_outcome
connect_failure(const struct rdp_session *s, char *err, size_t errlen)
{
	UINT32	 code = freerdp_get_last_error(s->ctx);

	if (s->tls_reached && strcmp(s->seen, s->pin) != 0)
		return untrusted(s, err, errlen);
	if (!s->tls_reached) {
		snprintf(err, errlen, "the desktop is unreachable: %s",
		    freerdp_get_last_error_string(code));
		return RDP_UNREACHABLE;
	}
	if (error_is_auth(code) ||
	    code == FREERDP_ERROR_CONNECT_TRANSPORT_FAILED ||
	    code == FREERDP_ERROR_CONNECT_FAILED) {
		snprintf(err, errlen, "the desktop refused the credential (%s)",
		    freerdp_get_last_error_name(code));
		return RDP_AUTH_FAILED;
	}
	snprintf(err, errlen, "cannot connect to the desktop: %s",
	    freerdp_get_last_error_string(code));
	return RDP_FAILED;
}

enum rdp_outcome
rdp_headless_check_cert(const struct rdp_target *t,
    char seen[RDP_SHA256_HEX_LEN + 1], char *err, size_t errlen)
{
	struct rdp_session *s;
	enum rdp_outcome o;

	seen[0] = '\0';
	if ((s = session_new(t, 1, err, errlen)) == NULL)
		return RDP_FAILED;
	(void)freerdp_connect(s->ctx->instance);
	memcpy(seen, s->seen, RDP_SHA256_HEX_LEN + 1);
	if (!s->tls_reached)
		o = connect_failure(s, err, errlen);
	else if (strcmp(s->seen, s->pin) != 0)
		o = untrusted(s, err, errlen);
	else
		o = RDP_OK;
	rdp_session_close(s);
	return o;
}

enum rdp_outcome
rdp_session_open(const struct rdp_target *t, struct rdp_session **out,
    struct rdp_timing *timing, char seen[RDP_SHA256_HEX_LEN + 1], char *err,
    size_t errlen)
{
	struct rdp_session *s;
	enum rdp_outcome o = RDP_OK;
	double	 start;
	BOOL	 up;

	*out = NULL;
	if (seen != NULL)
		seen[0] = '\0';
	if ((s = session_new(t, 0, err, errlen)) == NULL)
		return RDP_FAILED;
	if (!freerdp_settings_set_string(s->ctx->settings, FreeRDP_Password,
	    t->password != NULL ? t->password : "")) {
		snprintf(err, errlen, "cannot set FreeRDP's settings");
		rdp_session_close(s);
		return RDP_FAILED;
	}
	start = now_ms();
	up = freerdp_connect(s->ctx->instance);
	timing->connect_ms = now_ms() - start;
	password_wipe(s->ctx->settings);
	if (seen != NULL)
		memcpy(seen, s->seen, RDP_SHA256_HEX_LEN + 1);
	if (!up) {
		o = connect_failure(s, err, errlen);
		rdp_session_close(s);
		return o;
	}
	s->connected = 1;
	*out = s;
	return RDP_OK;
}

/* One round of the session's events: 0, or -1 when it is over. */
static int
pump(struct rdp_session *s, DWORD wait_ms)
{
	HANDLE	 handles[MAXIMUM_WAIT_OBJECTS];
	DWORD	 n;

	if (freerdp_shall_disconnect_context(s->ctx))
		return -1;
	n = freerdp_get_event_handles(s->ctx, handles, ARRAYSIZE(handles));
	if (n == 0 ||
	    WaitForMultipleObjects(n, handles, FALSE, wait_ms) == WAIT_FAILED)
		return -1;
	if (!freerdp_check_event_handles(s->ctx))
		return -1;
	return 0;
}

static enum rdp_end
why_ended(struct rdp_session *s, char *err, size_t errlen)
{
	UINT32	 info = freerdp_error_info(s->ctx->instance);

	if (info == ERRINFO_LOGOFF_BY_USER ||
	    info == ERRINFO_RPC_INITIATED_LOGOFF) {
		snprintf(err, errlen, "logged off by the desktop");
		return RDP_END_LOGOFF;
	}
	if (info != ERRINFO_SUCCESS && info != ERRINFO_NONE) {
		snprintf(err, errlen, "the desktop ended the session: %s",
		    freerdp_get_error_info_string(info));
		return RDP_END_DISCONNECTED;
	}
	snprintf(err, errlen, "the connection to the desktop was lost: %s",
	    freerdp_get_last_error_string(freerdp_get_last_error(s->ctx)));
	return RDP_END_LOST;
}

int
rdp_session_first_frame(struct rdp_session *s, struct rdp_timing *timing,
    char *err, size_t errlen)
{
	double	 start = now_ms(), left;

	while (!s->drawn) {
		left = (double)s->timeout_ms - (now_ms() - start);
		if (left <= 0) {
			snprintf(err, errlen, "no frame from the desktop "
			    "within %u ms", s->timeout_ms);
			return -1;
		}
		if (pump(s, left < POLL_MS ? (DWORD)left + 1 : POLL_MS) == -1) {
			(void)why_ended(s, err, errlen);
			return -1;
		}
	}
	timing->first_frame_ms = now_ms() - start;
	return 0;
}

int
rdp_session_save_ppm(struct rdp_session *s, const char *path, char *err,
    size_t errlen)
{
	const rdpGdi *gdi = s->ctx->gdi;
	const BYTE *row;
	BYTE	 r, g, b, a;
	FILE	*f;
	UINT32	 bpp, color;
	INT32	 x, y;
	int	 bad;

	if (gdi == NULL || gdi->primary_buffer == NULL) {
		snprintf(err, errlen, "no framebuffer");
		return -1;
	}
	if ((f = fopen(path, "wbe")) == NULL) {
		snprintf(err, errlen, "%s: cannot write", path);
		return -1;
	}
	bpp = FreeRDPGetBytesPerPixel(gdi->dstFormat);
	fprintf(f, "P6\n%d %d\n255\n", (int)gdi->width, (int)gdi->height);
	for (y = 0; y < gdi->height; y++) {
		row = gdi->primary_buffer + (size_t)y * gdi->stride;
		for (x = 0; x < gdi->width; x++) {
			color = FreeRDPReadColor(row + (size_t)x * bpp,
			    gdi->dstFormat);
			FreeRDPSplitColor(color, gdi->dstFormat, &r, &g, &b, &a,
			    NULL);
			putc(r, f);
			putc(g, f);
			putc(b, f);
		}
	}
	bad = ferror(f);
	if (fclose(f) != 0 || bad) {
		snprintf(err, errlen, "%s: cannot write", path);
		return -1;
	}
	return 0;
}

enum rdp_end
rdp_session_run(struct rdp_session *s, volatile sig_atomic_t *stop,
    char *err, size_t errlen)
{
	while (!*stop)
		if (pump(s, POLL_MS) == -1)
			return why_ended(s, err, errlen);
	snprintf(err, errlen, "stopped");
	return RDP_END_STOPPED;
}

void
rdp_session_close(struct rdp_session *s)
{
	if (s == NULL)
		return;
	if (s->ctx != NULL) {
		if (s->connected)
			freerdp_disconnect(s->ctx->instance);
		if (s->ctx->gdi != NULL)
			gdi_free(s->ctx->instance);
		freerdp_client_context_free(s->ctx);
	}
	free(s);
}

/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * pki.h — for tests of the agent channel: a throwaway PKI made with
 * OpenSSL's API (a CA, and certificates it signs for the controller and
 * the hosts).  Include after cmocka.h.
 */
#ifndef XVDS_TEST_PKI_H
#define XVDS_TEST_PKI_H

#include <stdio.h>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

/* dir/name, in one of 8 buffers used in turn. */
static char *
pki_path(const char *dir, const char *name)
{
	static char buf[8][256];
	static int i;

	i = (i + 1) % 8;
	snprintf(buf[i], sizeof(buf[i]), "%s/%s", dir, name);
	return buf[i];
}

static void
pki_add_ext(X509 *x, X509 *issuer, int nid, const char *value)
{
	X509V3_CTX v3;
	X509_EXTENSION *e;

	X509V3_set_ctx(&v3, issuer, x, NULL, NULL, 0);
	e = X509V3_EXT_conf_nid(NULL, &v3, nid, value);
	assert_non_null(e);
	assert_int_equal(X509_add_ext(x, e, -1), 1);
	X509_EXTENSION_free(e);
}

/*
 * Writes dir/name.pem and dir/name.key: a CA if issuer is NULL, else a
 * certificate for cn signed by dir/issuer.pem, for servers and clients,
 * with the subject alternative names san (NULL for none).
 */
static void
pki_make_cert(const char *dir, const char *name, const char *cn,
    const char *issuer, const char *san)
{
	static long serial = 1;
	EVP_PKEY *key, *ikey = NULL;
	X509	*x, *ix = NULL;
	FILE	*f;
	char	 file[256];

	key = EVP_EC_gen("P-256");
	assert_non_null(key);
	x = X509_new();
	assert_non_null(x);
	X509_set_version(x, 2);
	ASN1_INTEGER_set(X509_get_serialNumber(x), serial++);
	X509_gmtime_adj(X509_getm_notBefore(x), -60);
	X509_gmtime_adj(X509_getm_notAfter(x), 3600);
	X509_set_pubkey(x, key);
	X509_NAME_add_entry_by_txt(X509_get_subject_name(x), "CN", MBSTRING_ASC,
	    (const unsigned char *)cn, -1, -1, 0);
	if (issuer != NULL) {
		snprintf(file, sizeof(file), "%s/%s.pem", dir, issuer);
		assert_non_null(f = fopen(file, "r"));
		ix = PEM_read_X509(f, NULL, NULL, NULL);
		fclose(f);
		snprintf(file, sizeof(file), "%s/%s.key", dir, issuer);
		assert_non_null(f = fopen(file, "r"));
		ikey = PEM_read_PrivateKey(f, NULL, NULL, NULL);
		fclose(f);
		assert_true(ix != NULL && ikey != NULL);
		X509_set_issuer_name(x, X509_get_subject_name(ix));
		pki_add_ext(x, ix, NID_basic_constraints, "critical,CA:FALSE");
		pki_add_ext(x, ix, NID_key_usage, "critical,digitalSignature");
		pki_add_ext(x, ix, NID_ext_key_usage, "serverAuth,clientAuth");
		pki_add_ext(x, ix, NID_subject_key_identifier, "hash");
		pki_add_ext(x, ix, NID_authority_key_identifier, "keyid:always");
		if (san != NULL)
			pki_add_ext(x, ix, NID_subject_alt_name, san);
	} else {
		X509_set_issuer_name(x, X509_get_subject_name(x));
		pki_add_ext(x, x, NID_basic_constraints, "critical,CA:TRUE");
		pki_add_ext(x, x, NID_key_usage, "critical,keyCertSign,cRLSign");
		pki_add_ext(x, x, NID_subject_key_identifier, "hash");
	}
	assert_true(X509_sign(x, ikey != NULL ? ikey : key, EVP_sha256()) > 0);
	snprintf(file, sizeof(file), "%s/%s.pem", dir, name);
	assert_non_null(f = fopen(file, "w"));
	assert_int_equal(PEM_write_X509(f, x), 1);
	fclose(f);
	snprintf(file, sizeof(file), "%s/%s.key", dir, name);
	assert_non_null(f = fopen(file, "w"));
	assert_int_equal(PEM_write_PrivateKey(f, key, NULL, NULL, 0, NULL, NULL), 1);
	fclose(f);
	X509_free(x);
	X509_free(ix);
	EVP_PKEY_free(key);
	EVP_PKEY_free(ikey);
}

#endif

# SPDX-License-Identifier: GPL-2.0-or-later
# tests/ctrl/pki.sh — sourced by the controller's tests: a throwaway PKI
# for the agent channel made with openssl(1): one CA, the controller's
# certificate (IP 127.0.0.1) and one per host NAME given, with the host as
# CN, as xvds-agent(7) wants them.
#
#   pki_make DIR NAME...   writes DIR/ca.pem, DIR/controller.{pem,key},
#                          DIR/NAME.{pem,key}
#
# PKI_CONTROLLER_SAN, when set, adds subject alternative names to the
# controller's certificate, e.g. "IP:10.0.2.100" for the Xen lab, whose
# dom0 dials the controller at QEMU's forwarded address.

pki_cert() {	# dir name cn ext
	openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
	    -subj "/CN=$3" -keyout "$1/$2.key" -out "$1/$2.csr" 2>/dev/null &&
	printf '%s\n' "basicConstraints=critical,CA:FALSE" \
	    "keyUsage=critical,digitalSignature" "$4" >"$1/$2.ext" &&
	openssl x509 -req -in "$1/$2.csr" -CA "$1/ca.pem" -CAkey "$1/ca.key" \
	    -CAcreateserial -days 1 -sha256 -extfile "$1/$2.ext" \
	    -out "$1/$2.pem" 2>/dev/null &&
	rm -f "$1/$2.csr" "$1/$2.ext"
}

pki_make() {
	d=$1
	shift
	command -v openssl >/dev/null || { echo "pki.sh: no openssl(1)" >&2; return 1; }
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
	    -subj "/CN=XVDS test CA" -days 1 -keyout "$d/ca.key" \
	    -out "$d/ca.pem" -addext "basicConstraints=critical,CA:TRUE" \
	    -addext "keyUsage=critical,keyCertSign,cRLSign" 2>/dev/null ||
	    return 1
	pki_cert "$d" controller controller \
	    "extendedKeyUsage=serverAuth
subjectAltName=IP:127.0.0.1,DNS:localhost${PKI_CONTROLLER_SAN:+,$PKI_CONTROLLER_SAN}" ||
	    return 1
	for h in "$@"; do
		pki_cert "$d" "$h" "$h" "extendedKeyUsage=clientAuth" || return 1
	done
}

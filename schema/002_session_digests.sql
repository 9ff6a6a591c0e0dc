-- SPDX-License-Identifier: GPL-2.0-or-later
-- 002: the broker's session secrets, as common/credential.h stores them: the
-- BLAKE2b-256 digests (hex) of the one-time RDP password and of the
-- session token the client renews and logs out with.  Never the clear
-- text.  The SHA-256 column of 001 had no user; the digest is not SHA-256.
ALTER TABLE sessions
	DROP COLUMN credential_sha256,
	ADD COLUMN credential_digest text
	    CHECK (credential_digest ~ '^[0-9a-f]{64}$'),
	ADD COLUMN token_digest text
	    CHECK (token_digest ~ '^[0-9a-f]{64}$');

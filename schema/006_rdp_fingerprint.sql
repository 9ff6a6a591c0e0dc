-- SPDX-License-Identifier: GPL-2.0-or-later
-- 006: the SHA-256 of each desktop's RDP server certificate, as its guest
-- agent publishes it (xvds-guestd(8) -r) and its host reports it: the
-- broker hands it to the thin client, which then knows the desktop it
-- reaches is the one it was given (xvds-broker(7), cert_fingerprint).
ALTER TABLE vms ADD COLUMN rdp_sha256 text
	CHECK (rdp_sha256 ~ '^[0-9a-f]{64}$');

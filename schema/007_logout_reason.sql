-- SPDX-License-Identifier: GPL-2.0-or-later
-- 007: why the thin client logged out, when it said (xvds-broker(7),
-- logout's reason): end_reason stays 'logout', and this column keeps the
-- client's word beside it.  NULL for every other end, and for clients
-- that do not say.
ALTER TABLE sessions ADD COLUMN logout_reason text
	CHECK (logout_reason IN ('logoff', 'closed', 'lost',
	    'desktop-untrusted', 'desktop-unreachable', 'rdp-auth', 'signal')),
	ADD CONSTRAINT sessions_logout_reason_on_logout
	CHECK (logout_reason IS NULL OR end_reason = 'logout');

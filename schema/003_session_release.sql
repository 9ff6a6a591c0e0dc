-- SPDX-License-Identifier: GPL-2.0-or-later
-- 003: releasing a desktop after its session (xvds-controller(8),
-- "Sessions").  A session that ends owes its VM a release: a CVM's reset
-- to its golden image, a PVM's shutdown.  "released" records that it was
-- done (or that the host did it on its own); until then the VM is not
-- handed to anybody else, and whichever controller is active carries the
-- release out, so that a failover does not forget one.
ALTER TABLE sessions
	ADD COLUMN released timestamptz,
	ADD CONSTRAINT sessions_released_after_end
	    CHECK (released IS NULL OR ended IS NOT NULL);
-- Sessions that ended before this migration owe nothing any more.
UPDATE sessions SET released = ended WHERE ended IS NOT NULL;
-- The release sweep's question, and the login's "is this VM owed one".
CREATE INDEX sessions_unreleased ON sessions (vm_id)
	WHERE released IS NULL;

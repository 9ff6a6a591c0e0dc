-- SPDX-License-Identifier: GPL-2.0-or-later
-- 004: each host's latest figures, as its agent samples them
-- (xvds-agent(7)) and the controller's live cluster (controller/cluster.c)
-- sees them: the operator's host list as OpenNebula shows it (RVM, TCPU, FCPU,
-- ACPU, TMEM, FMEM) and the windowed load the policy acts on.  NULL until
-- the host's first sample; overwritten by every sample.  And where the
-- host's xvdsd receives live migrations (xvds.conf(5), migration { }),
-- "address[:port]", for the balancer's migrate op: NULL is the host's
-- address at port 8002, the default there.
ALTER TABLE hosts
	ADD COLUMN rvm		integer CHECK (rvm >= 0),
	ADD COLUMN tcpu		integer CHECK (tcpu >= 0),
	ADD COLUMN fcpu		integer CHECK (fcpu >= 0),
	ADD COLUMN acpu		integer CHECK (acpu >= 0),
	ADD COLUMN tmem_mib	bigint CHECK (tmem_mib >= 0),
	ADD COLUMN fmem_mib	bigint CHECK (fmem_mib >= 0),
	ADD COLUMN load		real CHECK (load >= 0 AND load <= 100),
	ADD COLUMN sampled	timestamptz,
	ADD COLUMN migration_peer text CHECK (migration_peer <> '');

-- SPDX-License-Identifier: GPL-2.0-or-later
-- 001_initial.sql: the controller's state of record (xvds-schema(7)).
-- Applied by xvds/db/schema.c in one transaction; schema_version is the
-- runner's own table, created by it before any migration.
--
-- The database holds every invariant it can: states are enums, sizes are
-- CHECKed, links are foreign keys, and the two "at most one" rules of the
-- broker (one open session per VM, one PVM per user) are unique indexes,
-- so that two controllers racing each other cannot break them.

-- The same words as xvds/common/vm_fsm.c's vm_kind_names and vm_state_names
-- (test_db_schema checks them against each other).
CREATE TYPE vm_kind AS ENUM ('cvm', 'pvm');
CREATE TYPE vm_state AS ENUM (
	'inactive', 'starting', 'ready', 'running', 'pausing', 'paused',
	'unpausing', 'saving', 'saved', 'restoring', 'resetting',
	'snapshotting', 'stopping', 'migrating', 'incoming', 'failed');
CREATE TYPE host_state AS ENUM ('up', 'down', 'draining', 'disabled');
CREATE TYPE migration_state AS ENUM (
	'planned', 'running', 'done', 'failed', 'given-up');

-- A Xen host, as its xvdsd registers it (its certificate names it).
CREATE TABLE hosts (
	id		bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	name		text NOT NULL UNIQUE CHECK (name <> ''),
	address		text NOT NULL CHECK (address <> ''),
	state		host_state NOT NULL DEFAULT 'down',
	cpus		integer NOT NULL CHECK (cpus > 0),
	memory_mib	bigint NOT NULL CHECK (memory_mib > 0),
	registered	timestamptz NOT NULL DEFAULT now(),
	last_seen	timestamptz
);

-- The template catalog: what a VM is made from (xvds.conf(5)'s template,
-- as JSON so that the controller and xvdsd share one description).
CREATE TABLE templates (
	id		bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	name		text NOT NULL UNIQUE CHECK (name <> ''),
	memory_mib	integer NOT NULL CHECK (memory_mib > 0),
	vcpus		integer NOT NULL DEFAULT 1 CHECK (vcpus > 0),
	spec		jsonb NOT NULL DEFAULT '{}',
	created		timestamptz NOT NULL DEFAULT now()
);

-- A CVM pool: its size, the Ready target kept warm, and the idle times
-- after which a Ready CVM is paused and a Paused one saved (NULL: never).
CREATE TABLE pools (
	id		bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	name		text NOT NULL UNIQUE CHECK (name <> ''),
	template_id	bigint NOT NULL REFERENCES templates (id),
	size		integer NOT NULL CONSTRAINT pools_size CHECK (size >= 0),
	ready_target	integer NOT NULL DEFAULT 0,
	idle_pause	interval CONSTRAINT pools_idle_pause
			    CHECK (idle_pause > interval '0'),
	idle_save	interval CONSTRAINT pools_idle_save
			    CHECK (idle_save > interval '0'),
	created		timestamptz NOT NULL DEFAULT now(),
	CONSTRAINT pools_ready_target
	    CHECK (ready_target >= 0 AND ready_target <= size)
);

CREATE TABLE users (
	id		bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	name		text NOT NULL UNIQUE CHECK (name <> ''),
	-- libsodium's crypto_pwhash_str (argon2id), never a clear password.
	pwhash		text NOT NULL CHECK (pwhash LIKE '$argon2id$%'),
	disabled	boolean NOT NULL DEFAULT false,
	created		timestamptz NOT NULL DEFAULT now()
);

-- A VM of either kind.  A CVM belongs to a pool, a PVM to its owner; the
-- domid is only meaningful while the VM has a domain on its host.
CREATE TABLE vms (
	id		bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	name		text NOT NULL UNIQUE CHECK (name <> ''),
	kind		vm_kind NOT NULL,
	state		vm_state NOT NULL DEFAULT 'inactive',
	template_id	bigint NOT NULL REFERENCES templates (id),
	pool_id		bigint REFERENCES pools (id),
	owner_id	bigint REFERENCES users (id),
	host_id		bigint REFERENCES hosts (id),
	domid		integer CHECK (domid > 0 AND domid < 32752),
	memory_mib	integer NOT NULL CHECK (memory_mib > 0),
	address		text,
	changed		timestamptz NOT NULL DEFAULT now(),
	CHECK ((kind = 'cvm' AND pool_id IS NOT NULL AND owner_id IS NULL) OR
	    (kind = 'pvm' AND owner_id IS NOT NULL AND pool_id IS NULL)),
	CHECK (domid IS NULL OR host_id IS NOT NULL)
);
-- A user has at most one PVM.
CREATE UNIQUE INDEX vms_one_pvm_per_user ON vms (owner_id)
	WHERE kind = 'pvm';
-- One domain per domid on a host.
CREATE UNIQUE INDEX vms_host_domid ON vms (host_id, domid)
	WHERE domid IS NOT NULL;
CREATE INDEX vms_pool_state ON vms (pool_id, state);

CREATE TABLE groups (
	id		bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	name		text NOT NULL UNIQUE CHECK (name <> '')
);

CREATE TABLE memberships (
	user_id		bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
	group_id	bigint NOT NULL REFERENCES groups (id) ON DELETE CASCADE,
	PRIMARY KEY (user_id, group_id)
);

-- A group's members may log in to the pool's CVMs.
CREATE TABLE permissions (
	group_id	bigint NOT NULL REFERENCES groups (id) ON DELETE CASCADE,
	pool_id		bigint NOT NULL REFERENCES pools (id) ON DELETE CASCADE,
	PRIMARY KEY (group_id, pool_id)
);

-- A desktop session.  The one-time RDP credential is never stored: only
-- its SHA-256, to recognise it, may be.
CREATE TABLE sessions (
	id		bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	user_id		bigint NOT NULL REFERENCES users (id),
	vm_id		bigint NOT NULL REFERENCES vms (id),
	client		text,
	credential_sha256 bytea CHECK (octet_length(credential_sha256) = 32),
	started		timestamptz NOT NULL DEFAULT now(),
	lease_until	timestamptz NOT NULL,
	ended		timestamptz,
	end_reason	text,
	CHECK (lease_until >= started),
	CHECK (ended IS NULL OR ended >= started),
	CHECK ((ended IS NULL) = (end_reason IS NULL))
);
-- A VM has at most one open session.
CREATE UNIQUE INDEX sessions_one_open_per_vm ON sessions (vm_id)
	WHERE ended IS NULL;
CREATE INDEX sessions_open_lease ON sessions (lease_until)
	WHERE ended IS NULL;

CREATE TABLE migrations (
	id		bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	vm_id		bigint NOT NULL REFERENCES vms (id),
	from_host	bigint NOT NULL REFERENCES hosts (id),
	to_host		bigint NOT NULL REFERENCES hosts (id),
	state		migration_state NOT NULL DEFAULT 'planned',
	reason		text NOT NULL,
	planned		timestamptz NOT NULL DEFAULT now(),
	started		timestamptz,
	finished	timestamptz,
	CHECK (from_host <> to_host)
);
-- A VM migrates at most once at a time.
CREATE UNIQUE INDEX migrations_one_live_per_vm ON migrations (vm_id)
	WHERE state IN ('planned', 'running');

-- The audit trail: every transition, login, refusal and operator action.
-- Append-only: the trigger below refuses UPDATE and DELETE (TRUNCATE too).
CREATE TABLE events (
	id		bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	at		timestamptz NOT NULL DEFAULT clock_timestamp(),
	kind		text NOT NULL CHECK (kind <> ''),
	actor		text NOT NULL CHECK (actor <> ''),
	subject		text,
	detail		jsonb NOT NULL DEFAULT '{}'
);
CREATE INDEX events_at ON events (at);

CREATE FUNCTION events_append_only() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
	RAISE EXCEPTION 'events is append-only: % refused', TG_OP
	    USING ERRCODE = 'insufficient_privilege';
END;
$$;
CREATE TRIGGER events_append_only
	BEFORE UPDATE OR DELETE ON events
	FOR EACH ROW EXECUTE FUNCTION events_append_only();
CREATE TRIGGER events_no_truncate
	BEFORE TRUNCATE ON events
	FOR EACH STATEMENT EXECUTE FUNCTION events_append_only();

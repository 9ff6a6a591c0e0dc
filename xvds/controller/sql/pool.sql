-- The pools' upkeep (controller/pool.c): members created, removed,
-- claimed for an op, and the ops' failures.

-- name: pool_retry_init
SELECT coalesce(max(id), 0), NULL, NULL FROM events;

-- $1 the last event seen.
-- name: pool_retry
SELECT id, kind, subject FROM events WHERE id > $1::bigint
    AND kind IN ('vm-retry', 'host-retry') ORDER BY id;

-- The hosts an operator closed to new VMs.
-- name: pool_closed
SELECT coalesce(string_agg(name, ' '), '') FROM hosts
    WHERE state IN ('draining', 'disabled');

-- Every pool's members "<pool>-<k>", k 1 to size, that a row lacks.
-- name: pool_create
WITH want AS (SELECT p.id AS pool_id, p.name || '-' || k AS name,
    p.template_id, t.memory_mib FROM pools p
    JOIN templates t ON t.id = p.template_id
    CROSS JOIN LATERAL generate_series(1, p.size) AS k),
    i AS (INSERT INTO vms (name, kind, template_id, pool_id, memory_mib)
    SELECT name, 'cvm', template_id, pool_id, memory_mib FROM want
    WHERE name ~ '^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$'
    ON CONFLICT (name) DO NOTHING RETURNING name, pool_id),
    e AS (INSERT INTO events (kind, actor, subject, detail)
    SELECT 'pool-vm-created', 'controller', i.name,
    jsonb_build_object('pool', p.name) FROM i JOIN pools p ON p.id = i.pool_id
    RETURNING 1)
    SELECT count(*) FROM i;

-- Surplus rows with nothing left on a host and no history: gone.  Not
-- one whose destroy is still out ($1, a name a line): common/vm_fsm.c
-- has it inactive at once, and its host has yet to say it is.
-- name: pool_remove
WITH d AS (DELETE FROM vms v USING pools p WHERE p.id = v.pool_id
    AND v.kind = 'cvm' AND v.state = :'VM_S_INACTIVE'
    AND v.name <> ALL (string_to_array($1, E'\n'))
    AND NOT EXISTS (SELECT 1 FROM generate_series(1, p.size) AS k
    WHERE v.name = p.name || '-' || k)
    AND NOT EXISTS (SELECT 1 FROM sessions s WHERE s.vm_id = v.id)
    AND NOT EXISTS (SELECT 1 FROM migrations m WHERE m.vm_id = v.id)
    RETURNING v.name, p.name AS pool)
    INSERT INTO events (kind, actor, subject, detail)
    SELECT 'pool-vm-removed', 'controller', name,
    jsonb_build_object('pool', pool, 'why', 'surplus') FROM d;

-- name: pool_read
SELECT v.id, v.name, v.state, coalesce(h.name, ''), p.id, p.name, t.name,
    v.memory_mib, floor(extract(epoch FROM now() - v.changed))::bigint,
    EXISTS (SELECT 1 FROM sessions s WHERE s.vm_id = v.id
    AND s.released IS NULL),
    NOT EXISTS (SELECT 1 FROM generate_series(1, p.size) AS k
    WHERE v.name = p.name || '-' || k),
    EXISTS (SELECT 1 FROM migrations m WHERE m.vm_id = v.id
    AND m.state IN ('planned', 'running')),
    p.ready_target,
    coalesce(floor(extract(epoch FROM p.idle_pause))::bigint, -1),
    coalesce(floor(extract(epoch FROM p.idle_save))::bigint, -1)
    FROM vms v JOIN pools p ON p.id = v.pool_id
    JOIN templates t ON t.id = v.template_id
    LEFT JOIN hosts h ON h.id = v.host_id
    WHERE v.kind = 'cvm' ORDER BY p.id, v.changed, v.id;

-- The claim: the VM still in the state read, without a session (open, or
-- ended with its release owed) or a migration, not locked by a login
-- picking it; set to the transient state, with the event of the
-- decision.  $1 id, $2 state read, $3 transient state, $4 the host placed
-- on or NULL, $5 event kind, $6 pool, $7 host, $8 why.
-- name: pool_claim
WITH c AS (SELECT v.id FROM vms v WHERE v.id = $1::bigint
    AND v.state = $2::vm_state
    AND NOT EXISTS (SELECT 1 FROM sessions s WHERE s.vm_id = v.id
    AND s.released IS NULL)
    AND NOT EXISTS (SELECT 1 FROM migrations m WHERE m.vm_id = v.id
    AND m.state IN ('planned', 'running'))
    FOR UPDATE OF v SKIP LOCKED),
    u AS (UPDATE vms SET state = $3::vm_state,
    host_id = coalesce((SELECT id FROM hosts WHERE name = $4), vms.host_id)
    FROM c WHERE vms.id = c.id RETURNING vms.name),
    e AS (INSERT INTO events (kind, actor, subject, detail)
    SELECT $5, 'controller', name, jsonb_build_object('pool', $6::text,
    'host', $7::text, 'from', $2::text, 'why', $8::text) FROM u
    RETURNING 1)
    SELECT count(*) FROM u;

-- An op failed: the row back to the state it was claimed from, unless a
-- host's report moved it meanwhile, and the event.  $1 VM, $2 back to,
-- $3 transient, $4 action, $5 host, $6 code, $7 message, $8 failures.
-- name: pool_failed
WITH u AS (UPDATE vms SET state = $2::vm_state WHERE name = $1
    AND state = $3::vm_state RETURNING name)
    INSERT INTO events (kind, actor, subject, detail)
    VALUES ('pool-op-failed', 'controller', $1, jsonb_build_object(
    'action', $4::text, 'host', $5::text, 'code', $6::text,
    'message', $7::text, 'failures', $8::integer,
    'reverted', (SELECT count(*) FROM u) > 0));

-- $1 id, $2 seconds: a stale Starting row back to Inactive, with why (its
-- text as xvds-controller(8) has it).
-- name: pool_stale
WITH u AS (UPDATE vms v SET state = :'VM_S_INACTIVE'
    WHERE id = $1::bigint AND state = :'VM_S_STARTING'
    AND NOT EXISTS (SELECT 1 FROM sessions s
    WHERE s.vm_id = v.id AND s.released IS NULL) RETURNING name)
    INSERT INTO events (kind, actor, subject, detail)
    SELECT 'pool-stale', 'controller', name, jsonb_build_object('why',
    :'VM_S_STARTING' || ' for ' || $2 || ' s with no op out for it')
    FROM u;

-- $1 kind, $2 subject, $3 failures, $4 last error, $5 how to retry.
-- name: pool_given_up
INSERT INTO events (kind, actor, subject, detail)
    VALUES ($1, 'controller', $2, jsonb_build_object('failures', $3::integer,
    'last', $4::text, 'retry', $5::text));

-- $1 kind, $2 subject, $3 why.
-- name: pool_note
INSERT INTO events (kind, actor, subject, detail)
    VALUES ($1, 'controller', $2, jsonb_build_object('why', $3::text));

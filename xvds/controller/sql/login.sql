-- A login's statements (controller/login.c, xvds-broker(7)): the user,
-- the desktop picked and claimed, the session opened or abandoned.

-- The user's open session of the kind (and pool) asked for, with new
-- secrets and lease.  $1 user id, $2 kind, $3 pool or "", $4 credential
-- digest, $5 token digest, $6 lease, $7 user name, $8 client.
-- name: login_resume
WITH o AS (SELECT s.id FROM sessions s JOIN vms v ON v.id = s.vm_id
    LEFT JOIN pools p ON p.id = v.pool_id
    WHERE s.user_id = $1::bigint AND s.ended IS NULL
    AND v.kind = $2::vm_kind AND ($3 = '' OR p.name = $3)
    ORDER BY s.id LIMIT 1 FOR UPDATE OF s),
    s AS (UPDATE sessions SET credential_digest = $4, token_digest = $5,
    lease_until = now() + make_interval(secs => $6::integer), client = $8
    FROM o WHERE sessions.id = o.id AND sessions.ended IS NULL
    RETURNING sessions.id, sessions.vm_id),
    ev AS (INSERT INTO events (kind, actor, subject, detail)
    SELECT 'login', 'broker', $7, jsonb_build_object('session', s.id,
    'vm', v.name, 'client', $8::text, 'resumed', true)
    FROM s JOIN vms v ON v.id = s.vm_id)
    SELECT s.id, v.name, v.state, COALESCE(v.address, ''),
    COALESCE(h.name, ''), t.name, COALESCE(v.rdp_sha256, ''), v.memory_mib
    FROM s JOIN vms v ON v.id = s.vm_id JOIN templates t ON t.id = v.template_id
    LEFT JOIN hosts h ON h.id = v.host_id;

-- A CVM of a pool the user may use, on a host that is up and connected
-- to this controller now (a Saved one may be restored elsewhere): Ready
-- first, then Paused, then Saved (vm_state's own order, which the index
-- vms_cvm_pick walks, stopping at the first free one: migration 005);
-- taken, marked, its session opened and the login recorded.  $1 user id,
-- $2 pool or "", $3 client, $4 credential digest, $5 token digest, $6
-- lease, $7 user name, $8 the connected hosts' names (text[]), $9 to $11
-- what a Ready, a Paused and a Saved one is marked (common/vm_fsm.c).
-- name: login_cvm
WITH pick AS (SELECT v.id, v.name, v.state, v.address, h.name AS host,
    v.rdp_sha256, t.name AS tmpl, v.memory_mib
    FROM vms v JOIN pools p ON p.id = v.pool_id
    JOIN templates t ON t.id = v.template_id
    JOIN hosts h ON h.id = v.host_id
    WHERE v.kind = 'cvm' AND v.state IN (:'VM_S_READY',
    :'VM_S_PAUSED', :'VM_S_SAVED')
    AND ((h.state = 'up' AND h.name = ANY($8::text[]))
    OR v.state = :'VM_S_SAVED') AND ($2 = '' OR p.name = $2)
    AND EXISTS (SELECT 1 FROM permissions pe
    JOIN memberships m ON m.group_id = pe.group_id
    WHERE m.user_id = $1::bigint AND pe.pool_id = v.pool_id)
    AND NOT EXISTS (SELECT 1 FROM sessions s WHERE s.vm_id = v.id
    AND s.released IS NULL)
    ORDER BY v.state, v.id LIMIT 1 FOR UPDATE OF v SKIP LOCKED),
    mark AS (UPDATE vms SET changed = now(), state = CASE pick.state
    WHEN :'VM_S_READY' THEN $9::vm_state
    WHEN :'VM_S_PAUSED' THEN $10::vm_state
    ELSE $11::vm_state END
    FROM pick WHERE vms.id = pick.id RETURNING vms.id),
    s AS (INSERT INTO sessions (user_id, vm_id, client, credential_digest,
    token_digest, lease_until) SELECT $1::bigint, mark.id, $3, $4, $5,
    now() + make_interval(secs => $6::integer) FROM mark RETURNING id, vm_id),
    ev AS (INSERT INTO events (kind, actor, subject, detail)
    SELECT 'login', 'broker', $7, jsonb_build_object('session', s.id,
    'vm', pick.name, 'client', $3::text, 'from', pick.state)
    FROM s JOIN pick ON pick.id = s.vm_id)
    SELECT s.id, pick.name, pick.state, COALESCE(pick.address, ''), pick.host,
    COALESCE(pick.rdp_sha256, ''), pick.tmpl, pick.memory_mib
    FROM s JOIN pick ON pick.id = s.vm_id;

-- The user's PVM as it is.  $1 user id.
-- name: login_pvm
SELECT v.name, v.state, v.memory_mib, t.name, COALESCE(h.name, ''),
    COALESCE(h.state = 'up', false),
    EXISTS (SELECT 1 FROM sessions s WHERE s.vm_id = v.id
    AND s.released IS NULL)
    FROM vms v JOIN templates t ON t.id = v.template_id
    LEFT JOIN hosts h ON h.id = v.host_id
    WHERE v.owner_id = $1::bigint AND v.kind = 'pvm';

-- The PVM taken if it is still as it was seen: $1 VM, $2 its state then,
-- $3 its state now, $4 its host now ("" unchanged); the session as in
-- login_cvm ($5 user id, $6 client, $7 credential digest, $8 token digest,
-- $9 lease, $10 user name).
-- name: login_pvm_claim
WITH pick AS (SELECT v.id, v.name FROM vms v WHERE v.name = $1
    AND v.kind = 'pvm' AND v.state = $2::vm_state
    AND NOT EXISTS (SELECT 1 FROM sessions s WHERE s.vm_id = v.id
    AND s.released IS NULL)
    FOR UPDATE OF v SKIP LOCKED),
    mark AS (UPDATE vms SET state = $3::vm_state, changed = now(),
    host_id = CASE WHEN $4 = '' THEN vms.host_id
    ELSE (SELECT id FROM hosts WHERE name = $4) END
    FROM pick WHERE vms.id = pick.id RETURNING vms.id),
    s AS (INSERT INTO sessions (user_id, vm_id, client, credential_digest,
    token_digest, lease_until) SELECT $5::bigint, mark.id, $6, $7, $8,
    now() + make_interval(secs => $9::integer) FROM mark RETURNING id, vm_id),
    ev AS (INSERT INTO events (kind, actor, subject, detail)
    SELECT 'login', 'broker', $10, jsonb_build_object('session', s.id,
    'vm', pick.name, 'client', $6::text, 'from', $2::text)
    FROM s JOIN pick ON pick.id = s.vm_id)
    SELECT s.id FROM s;

-- $1 session, $2 why: the login's session ends; its VM is owed a release.
-- name: login_abandon
WITH s AS (UPDATE sessions SET ended = now(), end_reason = $2
    WHERE id = $1::bigint AND ended IS NULL RETURNING id, vm_id)
    INSERT INTO events (kind, actor, subject, detail)
    SELECT 'session-end', 'broker', v.name, jsonb_build_object('session', s.id,
    'why', $2::text) FROM s JOIN vms v ON v.id = s.vm_id;

-- The same when nothing was sent to the host yet (no power slot, or the
-- host away): the VM is as it was, so its row goes back to the state it
-- was claimed from and nothing is owed.  $1 session, $2 why, $3 the state
-- claimed from, $4 the state the claim marked.
-- name: login_abandon_unsent
WITH s AS (UPDATE sessions SET ended = now(), end_reason = $2,
    released = now() WHERE id = $1::bigint AND ended IS NULL
    RETURNING id, vm_id),
    v AS (UPDATE vms SET state = $3::vm_state, changed = now() FROM s
    WHERE vms.id = s.vm_id AND vms.state = $4::vm_state RETURNING vms.id)
    INSERT INTO events (kind, actor, subject, detail)
    SELECT 'session-end', 'broker', v.name, jsonb_build_object('session', s.id,
    'why', $2::text, 'reverted', $3::text) FROM s JOIN vms v ON v.id = s.vm_id;

-- name: login_address
SELECT COALESCE(address, ''), COALESCE(rdp_sha256, '') FROM vms
    WHERE name = $1;

-- name: login_user
SELECT id, pwhash, disabled FROM users
    WHERE name = $1;

-- The Saved CVM's row moves to host $2 before anything is sent, so that
-- the new host's reports of it are taken.  $1 VM, $3 its old host, $4 why.
-- name: login_relocate
WITH v AS (UPDATE vms SET host_id = (SELECT id FROM hosts WHERE name = $2)
    WHERE name = $1 AND state = :'VM_S_RESTORING' RETURNING name)
    INSERT INTO events (kind, actor, subject, detail)
    SELECT 'vm-relocated', 'broker', name, jsonb_build_object('from', $3::text,
    'to', $2::text, 'why', $4::text) FROM v;

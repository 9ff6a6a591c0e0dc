-- Sessions' ends and their VMs' release (controller/session.c).

-- $1 grace seconds: sessions whose lease lapsed more than the grace ago
-- end, each with its event.
-- name: session_lapse
WITH s AS (UPDATE sessions SET ended = now(), end_reason = 'lease-lapsed'
    WHERE ended IS NULL AND lease_until < now() - make_interval(
    secs => $1::integer) RETURNING id, vm_id, user_id),
    e AS (INSERT INTO events (kind, actor, subject, detail)
    SELECT 'session-end', 'controller', u.name, jsonb_build_object(
    'session', s.id, 'vm', v.name, 'why', 'lease-lapsed')
    FROM s JOIN users u ON u.id = s.user_id JOIN vms v ON v.id = s.vm_id)
    SELECT count(*) FROM s;

-- The releases owed, oldest first, with what they need.
-- name: session_owed
SELECT s.id, v.name, v.kind, v.state, h.name, h.state = 'up'
    FROM sessions s JOIN vms v ON v.id = s.vm_id
    LEFT JOIN hosts h ON h.id = v.host_id
    WHERE s.released IS NULL AND s.ended IS NOT NULL
    ORDER BY s.id LIMIT 100;

-- $1 session, $2 how.
-- name: session_released
WITH s AS (UPDATE sessions SET released = now() WHERE id = $1::bigint
    AND released IS NULL RETURNING id, vm_id)
    INSERT INTO events (kind, actor, subject, detail)
    SELECT 'vm-released', 'controller', v.name, jsonb_build_object(
    'session', s.id, 'how', $2::text) FROM s JOIN vms v ON v.id = s.vm_id;

-- $1 session, $2 VM, $3 code, $4 message.
-- name: session_failed
INSERT INTO events (kind, actor, subject, detail)
    VALUES ('release-failed', 'controller', $2, jsonb_build_object(
    'session', $1::bigint, 'code', $3::text, 'message', $4::text));

-- $1 VM, $2 why, $3 'released' if the host's own action released it:
-- the VM's open session ends, with its event.
-- name: session_vm_gone
WITH s AS (UPDATE sessions SET ended = now(), end_reason = $2,
    released = CASE WHEN $3 = 'released' THEN now() END
    WHERE vm_id = (SELECT id FROM vms WHERE name = $1) AND ended IS NULL
    RETURNING id, user_id)
    INSERT INTO events (kind, actor, subject, detail)
    SELECT 'session-end', 'controller', u.name, jsonb_build_object(
    'session', s.id, 'vm', $1::text, 'why', $2::text)
    FROM s JOIN users u ON u.id = s.user_id;

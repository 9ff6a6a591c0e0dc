-- The broker service's own statements (controller/broker.c,
-- xvds-broker(7)): its events, leases renewed, logouts.

-- name: broker_event
INSERT INTO events (kind, actor, subject,
    detail) VALUES ($1, 'broker', $2, jsonb_build_object('client',
    $3::text, 'why', $4::text));

-- name: broker_renew
UPDATE sessions SET lease_until =
    now() + make_interval(secs => $3::integer) WHERE id = $1::bigint
    AND ended IS NULL AND token_digest = $2 RETURNING id;

-- name: broker_logout
WITH s AS (UPDATE sessions SET
    ended = now(), end_reason = 'logout' WHERE id = $1::bigint AND
    ended IS NULL AND token_digest = $2 RETURNING id, vm_id, user_id),
    ev AS (INSERT INTO events (kind, actor, subject, detail)
    SELECT 'logout', 'broker', u.name, jsonb_build_object('session',
    s.id, 'vm', v.name, 'client', $3::text) FROM s
    JOIN vms v ON v.id = s.vm_id JOIN users u ON u.id = s.user_id)
    SELECT s.id FROM s;

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

-- $1 session, $2 its token's digest, $3 the client, $4 the client's
-- reason or '' (kept in logout_reason and the event's reason).
-- name: broker_logout
WITH s AS (UPDATE sessions SET
    ended = now(), end_reason = 'logout',
    logout_reason = nullif($4::text, '') WHERE id = $1::bigint AND
    ended IS NULL AND token_digest = $2 RETURNING id, vm_id, user_id),
    ev AS (INSERT INTO events (kind, actor, subject, detail)
    SELECT 'logout', 'broker', u.name, jsonb_build_object('session',
    s.id, 'vm', v.name, 'client', $3::text) || CASE WHEN $4 = '' THEN
    '{}'::jsonb ELSE jsonb_build_object('reason', $4::text) END FROM s
    JOIN vms v ON v.id = s.vm_id JOIN users u ON u.id = s.user_id)
    SELECT s.id, v.name FROM s JOIN vms v ON v.id = s.vm_id;

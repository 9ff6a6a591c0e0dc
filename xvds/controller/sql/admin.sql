-- The admin socket's commands (controller/admin_cmd.c, xvds-admin(7)), one
-- statement each.  Each returns one row: an error name and its message
-- (NULL when it went well), and the result as JSON text.  A change and its
-- events row (kind, actor 'operator', subject, detail with the operator's
-- uid) are written by data-modifying CTEs, which are one transaction.  The
-- commands that change rows take the operator's uid as their last
-- parameter.  Timestamps are written in UTC, as
-- 'YYYY-MM-DD"T"HH24:MI:SS"Z"'.

-- name: admin_host_list
SELECT NULL, NULL, coalesce(jsonb_agg(jsonb_build_object('name', name,
    'state', state, 'address', address, 'cpus', cpus, 'memory_mib',
    memory_mib, 'last_seen', to_char(last_seen AT TIME ZONE 'UTC',
    'YYYY-MM-DD"T"HH24:MI:SS"Z"')) ORDER BY name), '[]')::text FROM hosts;

-- name: admin_vm_list
WITH miss AS (SELECT CASE WHEN $1::text IS NOT NULL AND NOT EXISTS (SELECT 1
    FROM pools WHERE name = $1::text) THEN 'no such pool: ' || $1 WHEN
    $2::text IS NOT NULL AND NOT EXISTS (SELECT 1 FROM hosts WHERE name =
    $2::text) THEN 'no such host: ' || $2 END AS m)
    SELECT CASE WHEN m IS NOT NULL THEN 'not-found' END, m, (SELECT
    coalesce(jsonb_agg(jsonb_build_object('name', v.name, 'kind', v.kind,
    'state', v.state, 'host', h.name, 'domid', v.domid, 'pool', p.name,
    'owner', o.name, 'address', v.address, 'session', s.id, 'user', su.name,
    'memory_mib', v.memory_mib, 'changed', to_char(v.changed AT TIME ZONE
    'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"')) ORDER BY v.name), '[]') FROM vms v
    LEFT JOIN hosts h ON h.id = v.host_id
    LEFT JOIN pools p ON p.id = v.pool_id
    LEFT JOIN users o ON o.id = v.owner_id
    LEFT JOIN sessions s ON s.vm_id = v.id AND s.ended IS NULL
    LEFT JOIN users su ON su.id = s.user_id WHERE ($1::text IS NULL OR
    p.name = $1::text) AND ($2::text IS NULL OR h.name = $2::text))::text
    FROM miss;

-- The migration's checks in the order an operator would want them told;
-- the unique index refuses a second live migration of the VM.
-- name: admin_vm_migrate
WITH v AS (SELECT v.id, v.host_id, h.name AS host FROM vms v
    LEFT JOIN hosts h ON h.id = v.host_id WHERE v.name = $1::text),
    h AS (SELECT id, state FROM hosts WHERE name = $2::text),
    why AS (SELECT CASE WHEN NOT EXISTS (SELECT 1 FROM v) THEN
    'not-found/no such VM: ' || $1 WHEN NOT EXISTS (SELECT 1 FROM h) THEN
    'not-found/no such host: ' || $2 WHEN (SELECT host_id FROM v) IS NULL
    THEN 'conflict/VM ' || $1 || ' is on no host' WHEN (SELECT host_id FROM
    v) = (SELECT id FROM h) THEN 'conflict/VM ' || $1 || ' is on host ' ||
    $2 || ' already' WHEN (SELECT state FROM h) <> 'up' THEN
    'conflict/host ' || $2 || ' is ' || (SELECT state FROM h)::text ||
    ', not up' END AS w),
    m AS (INSERT INTO migrations (vm_id, from_host, to_host, state, reason)
    SELECT v.id, v.host_id, h.id, 'planned', 'operator' FROM v, h, why WHERE
    why.w IS NULL RETURNING id),
    ev AS (INSERT INTO events (kind, actor, subject, detail)
    SELECT 'migrate-planned', 'operator', $1, jsonb_build_object('uid',
    $3::bigint, 'migration', m.id, 'from', (SELECT host FROM v), 'to',
    $2::text) FROM m)
    SELECT split_part(w, '/', 1), substr(w, strpos(w, '/') + 1), (SELECT
    jsonb_build_object('id', m.id, 'vm', $1::text, 'from', (SELECT host FROM
    v), 'to', $2::text, 'state', 'planned') FROM m)::text FROM why;

-- name: admin_template_add
WITH t AS (INSERT INTO templates (name, memory_mib, vcpus) VALUES ($1,
    $2::integer, coalesce($3::integer, 1)) RETURNING name, memory_mib,
    vcpus),
    ev AS (INSERT INTO events (kind, actor, subject, detail)
    SELECT 'template-add', 'operator', t.name, jsonb_build_object('uid',
    $4::bigint, 'memory_mib', t.memory_mib, 'vcpus', t.vcpus) FROM t)
    SELECT NULL, NULL, jsonb_build_object('name', name, 'memory_mib',
    memory_mib, 'vcpus', vcpus)::text FROM t;

-- name: admin_template_list
SELECT NULL, NULL, coalesce(jsonb_agg(jsonb_build_object('name', t.name,
    'memory_mib', t.memory_mib, 'vcpus', t.vcpus, 'pools', (SELECT count(*)
    FROM pools p WHERE p.template_id = t.id), 'created', to_char(t.created
    AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"')) ORDER BY t.name),
    '[]')::text FROM templates t;

-- A user's own desktop (PVM): its row only; the broker places, defines
-- and starts it at the user's first login.  $1 user, $2 template, $3 name
-- or NULL ("pvm-" and the user's name, in the VM names' alphabet), $4 uid.
-- name: admin_pvm_create
WITH miss AS (SELECT CASE WHEN NOT EXISTS (SELECT 1 FROM users WHERE name =
    $1) THEN 'no such user: ' || $1 WHEN NOT EXISTS (SELECT 1 FROM templates
    WHERE name = $2) THEN 'no such template: ' || $2 END AS m),
    v AS (INSERT INTO vms (name, kind, template_id, owner_id, memory_mib)
    SELECT coalesce($3, 'pvm-' || regexp_replace(u.name, '[^A-Za-z0-9_.-]',
    '-', 'g')), 'pvm', t.id, u.id, t.memory_mib FROM users u, templates t
    WHERE u.name = $1 AND t.name = $2 RETURNING name, memory_mib),
    ev AS (INSERT INTO events (kind, actor, subject, detail)
    SELECT 'pvm-create', 'operator', v.name, jsonb_build_object('uid',
    $4::bigint, 'user', $1::text, 'template', $2::text) FROM v)
    SELECT CASE WHEN (SELECT m FROM miss) IS NOT NULL THEN 'not-found' END,
    (SELECT m FROM miss), (SELECT jsonb_build_object('name', name, 'user',
    $1::text, 'template', $2::text, 'memory_mib', memory_mib) FROM v)::text;

-- name: admin_pool_create
WITH t AS (SELECT id FROM templates WHERE name = $2::text),
    p AS (INSERT INTO pools (name, template_id, size, ready_target,
    idle_pause, idle_save)
    SELECT $1, t.id, $3::integer, coalesce($4::integer, 0),
    make_interval(secs => $5::integer), make_interval(secs => $6::integer)
    FROM t RETURNING name, size, ready_target),
    ev AS (INSERT INTO events (kind, actor, subject, detail)
    SELECT 'pool-create', 'operator', p.name, jsonb_build_object('uid',
    $7::bigint, 'template', $2::text, 'size', p.size, 'ready',
    p.ready_target, 'idle_pause', $5::integer, 'idle_save', $6::integer)
    FROM p)
    SELECT CASE WHEN NOT EXISTS (SELECT 1 FROM t) THEN 'not-found' END,
    'no such template: ' || $2, (SELECT jsonb_build_object('name', name,
    'template', $2::text, 'size', size, 'ready_target', ready_target,
    'idle_pause', $5::integer, 'idle_save', $6::integer) FROM p)::text;

-- name: admin_pool_resize
WITH old AS (SELECT id, size, ready_target FROM pools WHERE name = $1::text
    FOR UPDATE),
    p AS (UPDATE pools SET size = $2::integer, ready_target =
    coalesce($3::integer, pools.ready_target) FROM old WHERE pools.id =
    old.id RETURNING pools.name, pools.size, pools.ready_target, old.size AS
    old_size, old.ready_target AS old_ready),
    ev AS (INSERT INTO events (kind, actor, subject, detail)
    SELECT 'pool-resize', 'operator', p.name, jsonb_build_object('uid',
    $4::bigint, 'size', p.size, 'ready', p.ready_target, 'old_size',
    p.old_size, 'old_ready', p.old_ready) FROM p)
    SELECT CASE WHEN NOT EXISTS (SELECT 1 FROM old) THEN 'not-found' END,
    'no such pool: ' || $1, (SELECT jsonb_build_object('name', name, 'size',
    size, 'ready_target', ready_target, 'old_size', old_size,
    'old_ready_target', old_ready) FROM p)::text;

-- name: admin_pool_show
SELECT CASE WHEN p.id IS NULL THEN 'not-found' END, 'no such pool: ' || $1,
    jsonb_build_object('name', p.name, 'template', t.name, 'size', p.size,
    'ready_target', p.ready_target, 'idle_pause', extract(epoch FROM
    p.idle_pause)::bigint, 'idle_save', extract(epoch FROM
    p.idle_save)::bigint, 'created', to_char(p.created AT TIME ZONE 'UTC',
    'YYYY-MM-DD"T"HH24:MI:SS"Z"'), 'vms', (SELECT count(*) FROM vms v WHERE
    v.pool_id = p.id), 'states', coalesce((SELECT jsonb_object_agg(state, n)
    FROM (SELECT state, count(*) AS n FROM vms v WHERE v.pool_id = p.id
    GROUP BY state) s), '{}'), 'sessions', (SELECT count(*) FROM sessions s
    JOIN vms v ON v.id = s.vm_id WHERE v.pool_id = p.id AND s.ended IS
    NULL), 'groups', coalesce((SELECT jsonb_agg(g.name ORDER BY g.name) FROM
    permissions pe
    JOIN groups g ON g.id = pe.group_id WHERE pe.pool_id = p.id),
    '[]'))::text FROM (SELECT 1) AS one
    LEFT JOIN pools p ON p.name = $1::text
    LEFT JOIN templates t ON t.id = p.template_id;

-- name: admin_pool_list
SELECT NULL, NULL, coalesce(jsonb_agg(jsonb_build_object('name', p.name,
    'template', t.name, 'size', p.size, 'ready_target', p.ready_target,
    'idle_pause', extract(epoch FROM p.idle_pause)::bigint, 'idle_save',
    extract(epoch FROM p.idle_save)::bigint, 'vms', (SELECT count(*) FROM
    vms v WHERE v.pool_id = p.id), 'ready', (SELECT count(*) FROM vms v
    WHERE v.pool_id = p.id AND v.state = :'VM_S_READY'), 'running',
    (SELECT count(*) FROM vms v WHERE v.pool_id = p.id AND v.state =
    :'VM_S_RUNNING'))
    ORDER BY p.name), '[]')::text FROM pools p
    JOIN templates t ON t.id = p.template_id;

-- name: admin_user_add
WITH u AS (INSERT INTO users (name, pwhash) VALUES ($1, $2) RETURNING name),
    ev AS (INSERT INTO events (kind, actor, subject, detail)
    SELECT 'user-add', 'operator', u.name, jsonb_build_object('uid',
    $3::bigint) FROM u)
    SELECT NULL, NULL, jsonb_build_object('name', name)::text FROM u;

-- The hash is never echoed, nor written to the events.
-- name: admin_user_passwd
WITH u AS (UPDATE users SET pwhash = $2 WHERE name = $1::text RETURNING
    name),
    ev AS (INSERT INTO events (kind, actor, subject, detail)
    SELECT 'user-passwd', 'operator', u.name, jsonb_build_object('uid',
    $3::bigint) FROM u)
    SELECT CASE WHEN NOT EXISTS (SELECT 1 FROM u) THEN 'not-found' END,
    'no such user: ' || $1, (SELECT jsonb_build_object('name', name) FROM
    u)::text;

-- Disabling a user also ends the user's open sessions, in the same
-- statement: the session module then releases their desktops (a CVM's
-- reset, a PVM's shutdown) as after any end.
-- name: admin_user_disable
WITH u AS (UPDATE users SET disabled = true WHERE name = $1::text RETURNING
    id, name, disabled),
    s AS (UPDATE sessions SET ended = now(), end_reason = 'user-disabled'
    FROM u WHERE sessions.user_id = u.id AND sessions.ended IS NULL
    RETURNING sessions.id, sessions.vm_id),
    ev AS (INSERT INTO events (kind, actor, subject, detail)
    SELECT 'user-disable', 'operator', u.name, jsonb_build_object('uid',
    $2::bigint, 'sessions_ended', (SELECT count(*) FROM s)) FROM u),
    es AS (INSERT INTO events (kind, actor, subject, detail)
    SELECT 'session-end', 'operator', u.name, jsonb_build_object('uid',
    $2::bigint, 'session', s.id, 'vm', v.name, 'why', 'user-disabled') FROM
    s
    JOIN vms v ON v.id = s.vm_id, u)
    SELECT CASE WHEN NOT EXISTS (SELECT 1 FROM u) THEN 'not-found' END,
    'no such user: ' || $1, (SELECT jsonb_build_object('name', name,
    'disabled', disabled, 'sessions_ended', (SELECT count(*) FROM s)) FROM
    u)::text;

-- name: admin_user_enable
WITH u AS (UPDATE users SET disabled = false WHERE name = $1::text RETURNING
    name, disabled),
    ev AS (INSERT INTO events (kind, actor, subject, detail)
    SELECT 'user-enable', 'operator', u.name, jsonb_build_object('uid',
    $2::bigint) FROM u)
    SELECT CASE WHEN NOT EXISTS (SELECT 1 FROM u) THEN 'not-found' END,
    'no such user: ' || $1, (SELECT jsonb_build_object('name', name,
    'disabled', disabled) FROM u)::text;

-- name: admin_user_list
SELECT NULL, NULL, coalesce(jsonb_agg(jsonb_build_object('name', u.name,
    'disabled', u.disabled, 'created', to_char(u.created AT TIME ZONE 'UTC',
    'YYYY-MM-DD"T"HH24:MI:SS"Z"'), 'groups', coalesce((SELECT
    jsonb_agg(g.name ORDER BY g.name) FROM memberships m
    JOIN groups g ON g.id = m.group_id WHERE m.user_id = u.id), '[]'),
    'sessions', (SELECT count(*) FROM sessions s WHERE s.user_id = u.id AND
    s.ended IS NULL), 'pvm', (SELECT v.name FROM vms v WHERE v.owner_id =
    u.id AND v.kind = 'pvm')) ORDER BY u.name), '[]')::text FROM users u;

-- name: admin_group_add
WITH g AS (INSERT INTO groups (name) VALUES ($1) RETURNING name),
    ev AS (INSERT INTO events (kind, actor, subject, detail)
    SELECT 'group-add', 'operator', g.name, jsonb_build_object('uid',
    $2::bigint) FROM g)
    SELECT NULL, NULL, jsonb_build_object('name', name)::text FROM g;

-- A link between a group ($1) and a user or a pool ($2), these four.
-- name: admin_group_member_add
WITH g AS (SELECT id FROM groups WHERE name = $1::text),
    o AS (SELECT id FROM users WHERE name = $2::text),
    miss AS (SELECT CASE WHEN NOT EXISTS (SELECT 1 FROM g) THEN
    'no such group: ' || $1 WHEN NOT EXISTS (SELECT 1 FROM o) THEN
    'no such user: ' || $2 END AS m),
    l AS (INSERT INTO memberships (user_id, group_id)
    SELECT o.id, g.id FROM g, o RETURNING user_id),
    ev AS (INSERT INTO events (kind, actor, subject, detail)
    SELECT 'group-member-add', 'operator', $1, jsonb_build_object('uid',
    $3::bigint, 'user', $2::text) FROM l)
    SELECT CASE WHEN m IS NOT NULL OR NOT EXISTS (SELECT 1 FROM l) THEN
    'not-found' END, coalesce(m, ''), (SELECT jsonb_build_object('group',
    $1::text, 'user', $2::text) FROM l LIMIT 1)::text FROM miss;

-- name: admin_group_member_remove
WITH g AS (SELECT id FROM groups WHERE name = $1::text),
    o AS (SELECT id FROM users WHERE name = $2::text),
    miss AS (SELECT CASE WHEN NOT EXISTS (SELECT 1 FROM g) THEN
    'no such group: ' || $1 WHEN NOT EXISTS (SELECT 1 FROM o) THEN
    'no such user: ' || $2 END AS m),
    l AS (DELETE FROM memberships m USING g, o WHERE m.group_id = g.id AND
    m.user_id = o.id RETURNING m.user_id),
    ev AS (INSERT INTO events (kind, actor, subject, detail)
    SELECT 'group-member-remove', 'operator', $1, jsonb_build_object('uid',
    $3::bigint, 'user', $2::text) FROM l)
    SELECT CASE WHEN m IS NOT NULL OR NOT EXISTS (SELECT 1 FROM l) THEN
    'not-found' END, coalesce(m, $2 || ' is not a member of ' || $1),
    (SELECT jsonb_build_object('group', $1::text, 'user', $2::text) FROM l
    LIMIT 1)::text FROM miss;

-- name: admin_group_permit
WITH g AS (SELECT id FROM groups WHERE name = $1::text),
    o AS (SELECT id FROM pools WHERE name = $2::text),
    miss AS (SELECT CASE WHEN NOT EXISTS (SELECT 1 FROM g) THEN
    'no such group: ' || $1 WHEN NOT EXISTS (SELECT 1 FROM o) THEN
    'no such pool: ' || $2 END AS m),
    l AS (INSERT INTO permissions (group_id, pool_id)
    SELECT g.id, o.id FROM g, o RETURNING pool_id),
    ev AS (INSERT INTO events (kind, actor, subject, detail)
    SELECT 'group-permit', 'operator', $1, jsonb_build_object('uid',
    $3::bigint, 'pool', $2::text) FROM l)
    SELECT CASE WHEN m IS NOT NULL OR NOT EXISTS (SELECT 1 FROM l) THEN
    'not-found' END, coalesce(m, ''), (SELECT jsonb_build_object('group',
    $1::text, 'pool', $2::text) FROM l LIMIT 1)::text FROM miss;

-- name: admin_group_revoke
WITH g AS (SELECT id FROM groups WHERE name = $1::text),
    o AS (SELECT id FROM pools WHERE name = $2::text),
    miss AS (SELECT CASE WHEN NOT EXISTS (SELECT 1 FROM g) THEN
    'no such group: ' || $1 WHEN NOT EXISTS (SELECT 1 FROM o) THEN
    'no such pool: ' || $2 END AS m),
    l AS (DELETE FROM permissions pe USING g, o WHERE pe.group_id = g.id AND
    pe.pool_id = o.id RETURNING pe.pool_id),
    ev AS (INSERT INTO events (kind, actor, subject, detail)
    SELECT 'group-revoke', 'operator', $1, jsonb_build_object('uid',
    $3::bigint, 'pool', $2::text) FROM l)
    SELECT CASE WHEN m IS NOT NULL OR NOT EXISTS (SELECT 1 FROM l) THEN
    'not-found' END, coalesce(m, 'group ' || $1 ||
    ' has no permission on pool ' || $2), (SELECT
    jsonb_build_object('group', $1::text, 'pool', $2::text) FROM l LIMIT
    1)::text FROM miss;

-- name: admin_group_list
SELECT NULL, NULL, coalesce(jsonb_agg(jsonb_build_object('name', g.name,
    'members', coalesce((SELECT jsonb_agg(u.name ORDER BY u.name) FROM
    memberships m
    JOIN users u ON u.id = m.user_id WHERE m.group_id = g.id), '[]'),
    'pools', coalesce((SELECT jsonb_agg(p.name ORDER BY p.name) FROM
    permissions pe
    JOIN pools p ON p.id = pe.pool_id WHERE pe.group_id = g.id), '[]'))
    ORDER BY g.name), '[]')::text FROM groups g;

-- name: admin_session_list
SELECT NULL, NULL, coalesce(jsonb_agg(jsonb_build_object('id', s.id, 'user',
    u.name, 'vm', v.name, 'host', h.name, 'address', v.address, 'client',
    s.client, 'started', to_char(s.started AT TIME ZONE 'UTC',
    'YYYY-MM-DD"T"HH24:MI:SS"Z"'), 'lease_until', to_char(s.lease_until AT
    TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"'), 'ended', to_char(s.ended
    AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"'), 'end_reason',
    s.end_reason, 'logout_reason', s.logout_reason) ORDER BY s.id),
    '[]')::text FROM sessions s
    JOIN users u ON u.id = s.user_id
    JOIN vms v ON v.id = s.vm_id
    LEFT JOIN hosts h ON h.id = v.host_id WHERE s.ended IS NULL OR
    coalesce($1::boolean, false);

-- Ends the session and nothing more: the session module releases the VM
-- of every ended session by itself (reset or shutdown).
-- name: admin_session_end
WITH s AS (UPDATE sessions SET ended = now(), end_reason = 'operator' WHERE
    id = $1::bigint AND ended IS NULL RETURNING id, vm_id, user_id),
    ev AS (INSERT INTO events (kind, actor, subject, detail)
    SELECT 'session-end', 'operator', u.name, jsonb_build_object('uid',
    $2::bigint, 'session', s.id, 'vm', v.name) FROM s
    JOIN vms v ON v.id = s.vm_id
    JOIN users u ON u.id = s.user_id)
    SELECT CASE WHEN EXISTS (SELECT 1 FROM s) THEN NULL WHEN EXISTS (SELECT
    1 FROM sessions WHERE id = $1::bigint) THEN 'conflict' ELSE 'not-found'
    END, CASE WHEN EXISTS (SELECT 1 FROM sessions WHERE id = $1::bigint)
    THEN 'session ' || $1 || ' has ended already' ELSE 'no such session: '
    || $1 END, (SELECT jsonb_build_object('id', s.id, 'vm', v.name, 'user',
    u.name, 'end_reason', 'operator') FROM s
    JOIN vms v ON v.id = s.vm_id
    JOIN users u ON u.id = s.user_id)::text;

-- The last n, or (after) the first n after an id: oldest first.
-- name: admin_events_tail
SELECT NULL, NULL, coalesce(jsonb_agg(jsonb_build_object('id', id, 'at',
    to_char(at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'), 'kind',
    kind, 'actor', actor, 'subject', subject, 'detail', detail) ORDER BY
    id), '[]')::text FROM (SELECT * FROM events WHERE $2::bigint IS NULL OR
    id > $2::bigint ORDER BY CASE WHEN $2::bigint IS NULL THEN -id ELSE id
    END LIMIT coalesce($1::integer, 20)) e;

-- The hosts up, for policy.snapshot to say which have no figures yet.
-- name: admin_policy_snapshot
SELECT NULL, NULL, coalesce(jsonb_agg(name ORDER BY name), '[]')::text FROM
    hosts WHERE state = 'up';

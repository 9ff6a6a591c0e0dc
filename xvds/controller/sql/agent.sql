-- The agents' side of the channel (controller/agent.c, xvds-agent(7)): the
-- hosts' rows, their reports of VMs, and reconciliation.

-- The host row (operators' draining or disabled kept) and, once per
-- connection, its host-up event.  $1 name, $2 address, $3 cpus,
-- $4 memory_mib, $5 tag, $6 hypervisor.
-- name: agent_register
WITH h AS (
    INSERT INTO hosts (name, address, state, cpus, memory_mib, last_seen)
    VALUES ($1, $2, 'up', $3::integer, $4::bigint, now())
    ON CONFLICT (name) DO UPDATE SET address = EXCLUDED.address,
    cpus = EXCLUDED.cpus, memory_mib = EXCLUDED.memory_mib, last_seen = now(),
    state = CASE WHEN hosts.state IN ('draining', 'disabled')
    THEN hosts.state ELSE 'up' END
    RETURNING id),
    e AS (INSERT INTO events (kind, actor, subject, detail)
    SELECT 'host-up', 'agent:' || $1, $1, jsonb_build_object('conn', $5::text,
    'address', $2::text, 'cpus', $3::integer, 'memory_mib', $4::bigint,
    'hypervisor', $6::text)
    WHERE NOT EXISTS (SELECT 1 FROM events WHERE kind = 'host-up'
    AND subject = $1 AND at > now() - interval '1 day'
    AND detail->>'conn' = $5))
    SELECT id, to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS.US')
    FROM h;

-- $1 name, $2 tag, $3 why: only an "up" host goes down, so once.
-- name: agent_down
WITH h AS (UPDATE hosts SET state = 'down', last_seen = now()
    WHERE name = $1 AND state = 'up' RETURNING name)
    INSERT INTO events (kind, actor, subject, detail)
    SELECT 'host-down', 'controller', name, jsonb_build_object('conn', $2::text,
    'why', $3::text) FROM h;

-- $1 certificate's name, $2 hello's, $3 address.
-- name: agent_refused
INSERT INTO events (kind, actor, subject, detail)
    VALUES ('host-refused', 'controller', $1, jsonb_build_object(
    'hello_host', $2::text, 'address', $3::text, 'why', 'identity'));

-- A second connection for a host that has one: $1 kind, host-conflict
-- (the live one answered; the newcomer refused) or host-replaced (it did
-- not; closed), $2 name, $3 the newcomer's address, $4 the live one's,
-- $5 its tag.  Once a minute for one address, for a refused host retries
-- at once (xvds-agent(7)).
-- name: agent_contest
INSERT INTO events (kind, actor, subject, detail)
    SELECT $1, 'controller', $2, jsonb_build_object('address', $3::text,
    'held_by', $4::text, 'conn', $5::text)
    WHERE NOT EXISTS (SELECT 1 FROM events WHERE kind = $1 AND subject = $2
    AND detail->>'address' = $3 AND at > now() - interval '1 minute');

-- name: agent_seen
UPDATE hosts SET last_seen = now() WHERE name = $1;

-- $1 host, $2 domid, $3 VM: a domid now another VM's is stale.
-- name: agent_domid
UPDATE vms SET domid = NULL WHERE domid = $2::integer AND name <> $3
    AND host_id = (SELECT id FROM hosts WHERE name = $1);

-- $1 VM, $2 state, $3 domid, $4 host, $5 addr, $6 boot id, $7 tag, $8 the
-- RDP certificate's SHA-256.  The row follows the report only if the VM
-- is this host's by the controller's own decision: the row places it
-- here (placement and relocation write the host before the op is sent),
-- or a migration the controller ran moves it here (running; or its last
-- one, failed by a take-over, to here, its source having said it is gone
-- and the report having a domain).  A host's claim alone never moves a
-- row.  A VM in an open session that its host calls ready is running
-- for the controller (the guest's RDP session has not formed yet).
-- Then a vm-state event when the state changed (not again when resent).
-- A VM the row places elsewhere, or on no host, reported here with a
-- domain, is a copy too many: not moved, but a vm-duplicate event, once
-- a connection; unless a migration of it runs, whose executor settles
-- where it is.  Reported inactive or saved without a domain it is only a
-- record left here (a Saved VM restored elsewhere): the last column says
-- so, and the host is asked to forget it.
-- name: agent_state
WITH h AS (SELECT id FROM hosts WHERE name = $4),
    o AS (SELECT v.id, v.state, v.domid, v.host_id,
    (v.host_id IS NOT DISTINCT FROM h.id
    OR EXISTS (SELECT 1 FROM migrations m WHERE m.vm_id = v.id
    AND m.to_host = h.id AND (m.state = 'running' OR (m.state = 'failed'
    AND v.state = :'VM_S_INACTIVE' AND v.domid IS NULL
    AND $3::integer IS NOT NULL
    AND m.id = (SELECT max(id) FROM migrations WHERE vm_id = v.id)))))
    AS here,
    EXISTS (SELECT 1 FROM migrations m WHERE m.vm_id = v.id
    AND m.state = 'running') AS moving,
    CASE WHEN $2 = :'VM_S_READY' AND EXISTS (SELECT 1 FROM sessions s
    WHERE s.vm_id = v.id AND s.ended IS NULL)
    THEN :'VM_S_RUNNING'::vm_state
    ELSE $2::vm_state END AS st
    FROM vms v, h WHERE v.name = $1 FOR UPDATE OF v),
    u AS (UPDATE vms v SET state = o.st, domid = $3::integer,
    host_id = h.id, address = NULLIF($5, ''), rdp_sha256 = NULLIF($8, ''),
    changed = CASE WHEN v.state = o.st THEN v.changed ELSE now() END
    FROM o, h WHERE v.id = o.id AND o.here RETURNING o.state AS old, o.st),
    e AS (INSERT INTO events (kind, actor, subject, detail)
    SELECT 'vm-state', 'agent:' || $4, $1, jsonb_build_object('from', old,
    'to', st, 'host', $4::text, 'domid', $3::integer,
    'boot_id', NULLIF($6, '')) FROM u WHERE old <> st
    RETURNING 1),
    d AS (INSERT INTO events (kind, actor, subject, detail)
    SELECT 'vm-duplicate', 'agent:' || $4, $1, jsonb_build_object(
    'host', $4::text, 'state', $2::text, 'domid', $3::integer,
    'db_host', (SELECT name FROM hosts WHERE id = o.host_id),
    'db_state', o.state, 'db_domid', o.domid, 'conn', $7::text)
    FROM o WHERE NOT o.here AND NOT o.moving AND $3::integer IS NOT NULL
    AND NOT EXISTS (SELECT 1 FROM events x WHERE x.kind = 'vm-duplicate'
    AND x.subject = $1 AND x.at > now() - interval '1 day'
    AND x.detail->>'conn' = $7)
    RETURNING 1)
    SELECT (SELECT count(*) FROM u), (SELECT count(*) FROM e),
    (SELECT old FROM u), $1::text, COALESCE((SELECT st::text FROM u), $2),
    (SELECT count(*) FROM o),
    (SELECT count(*) FROM d), (SELECT h.name FROM o, hosts h
    WHERE h.id = o.host_id),
    COALESCE((SELECT NOT o.here AND NOT o.moving FROM o), false)
    AND $3::integer IS NULL
    AND $2 IN (:'VM_S_INACTIVE', :'VM_S_SAVED');

-- The end of a resync, (a): the VMs the row places on host $1 that it
-- did not report ($2, "name state domid" lines) have no domain there any
-- more: inactive, each with a vm-reconciled event of what was believed.
-- Not a row that changed, or that a decision's event names, since the
-- host registered ($3, UTC): an op for it may have reached the host after
-- its list was made (the pool's claims set no "changed", but write their
-- event in the same statement).  Nor one a running migration moves (the
-- executor settles it).  A session open on one of them is not
-- ended on the host's word, which may be an impostor's or contradict
-- what the controller knows: a session-desktop-lost event says so, and
-- the session ends by its user, its lease or an operator; its user's
-- next login starts the desktop again (xvds-controller(8),
-- "RECONCILIATION").  Each row comes back with its old state and its
-- open session and user, if any.  $4 tag.
-- name: agent_gone
WITH h AS (SELECT id FROM hosts WHERE name = $1),
    r AS (SELECT split_part(l, ' ', 1) AS name
    FROM unnest(string_to_array($2, E'\n')) AS l),
    o AS (SELECT v.id, v.name, v.state, v.domid FROM vms v JOIN h
    ON v.host_id = h.id
    WHERE (v.state <> :'VM_S_INACTIVE' OR v.domid IS NOT NULL)
    AND v.name NOT IN (SELECT name FROM r)
    AND v.changed <= ($3::timestamp AT TIME ZONE 'UTC')
    AND NOT EXISTS (SELECT 1 FROM events x WHERE x.subject = v.name
    AND x.at > ($3::timestamp AT TIME ZONE 'UTC'))
    AND NOT EXISTS (SELECT 1 FROM migrations m WHERE m.vm_id = v.id
    AND m.state = 'running')
    FOR UPDATE OF v),
    u AS (UPDATE vms v SET state = :'VM_S_INACTIVE',
    domid = NULL, address = NULL,
    changed = now() FROM o WHERE v.id = o.id
    RETURNING o.id, o.name, o.state AS old, o.domid AS old_domid),
    e AS (INSERT INTO events (kind, actor, subject, detail)
    SELECT 'vm-reconciled', 'controller', name, jsonb_build_object(
    'host', $1::text, 'conn', $4::text, 'why', 'not on its host',
    'believed', jsonb_build_object('state', old, 'domid', old_domid),
    'is', jsonb_build_object('state', :'VM_S_INACTIVE',
    'domid', NULL))
    FROM u RETURNING 1),
    s AS (INSERT INTO events (kind, actor, subject, detail)
    SELECT 'session-desktop-lost', 'controller', us.name,
    jsonb_build_object('session', se.id, 'vm', u.name, 'host', $1::text,
    'conn', $4::text, 'believed', u.old)
    FROM u JOIN sessions se ON se.vm_id = u.id AND se.ended IS NULL
    JOIN users us ON us.id = se.user_id
    RETURNING subject, detail->>'vm' AS vm, detail->>'session' AS session)
    SELECT u.name, u.old, s.session, s.subject FROM u
    LEFT JOIN s ON s.vm = u.name ORDER BY u.name;

-- (b): the VMs host $1 reported ($2) that the database does not know: an
-- event each, with what the host said; not a row, for the database has
-- no template or owner for them.  Once a connection ($3 tag).
-- name: agent_unknown
WITH r AS (SELECT DISTINCT ON (split_part(l, ' ', 1))
    split_part(l, ' ', 1) AS name, split_part(l, ' ', 2) AS state,
    NULLIF(split_part(l, ' ', 3), '-')::integer AS domid
    FROM unnest(string_to_array($2, E'\n')) AS l)
    INSERT INTO events (kind, actor, subject, detail)
    SELECT 'vm-unknown', 'agent:' || $1, r.name, jsonb_build_object(
    'host', $1::text, 'state', r.state, 'domid', r.domid, 'conn', $3::text)
    FROM r WHERE NOT EXISTS (SELECT 1 FROM vms v WHERE v.name = r.name)
    AND NOT EXISTS (SELECT 1 FROM events x WHERE x.kind = 'vm-unknown'
    AND x.subject = r.name AND x.at > now() - interval '1 day'
    AND x.detail->>'conn' = $3)
    RETURNING subject;

-- $1 grace seconds, $2 the hosts connected now ("{a,b}").
-- name: agent_sweep
WITH h AS (UPDATE hosts SET state = 'down'
    WHERE state = 'up' AND NOT (name = ANY ($2::text[]))
    AND (last_seen IS NULL OR last_seen < now() - make_interval(
    secs => $1::integer)) RETURNING name)
    INSERT INTO events (kind, actor, subject, detail)
    SELECT 'host-down', 'controller', name, jsonb_build_object('why',
    'not heard from in ' || $1 || ' s') FROM h;

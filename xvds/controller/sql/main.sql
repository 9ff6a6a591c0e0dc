-- xvds-controller(8)'s own statements (controller/main.c).

-- The events row of a controller that became active: $1 its host name,
-- $2 its process id.
-- name: main_controller_active
INSERT INTO events (kind, actor, subject, detail)
    VALUES ('controller-active', 'controller', $1,
    jsonb_build_object('pid', $2::integer));

-- A random id for this server, made once with the database: every container
-- and network the grader creates carries it, and cleanup removes only what
-- carries it, so two servers on one engine (each image deployment has the same
-- /data/coldstart.db path) never remove each other's.
CREATE TABLE server_instance (
    only_row INTEGER PRIMARY KEY CHECK (only_row = 1),
    id       TEXT    NOT NULL
);
INSERT INTO server_instance (only_row, id) VALUES (1, 'cs-' || lower(hex(randomblob(8))));

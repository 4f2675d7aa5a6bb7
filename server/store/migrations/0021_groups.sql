-- Groups (cohorts): a student belongs to at most one. A join link puts a
-- signed-in student into the group.
CREATE TABLE groups (
    id         INTEGER PRIMARY KEY,
    name       TEXT    NOT NULL UNIQUE COLLATE NOCASE,
    join_token TEXT    NOT NULL UNIQUE,
    starts_at  INTEGER,
    created_at INTEGER NOT NULL
);
ALTER TABLE users ADD COLUMN group_id INTEGER REFERENCES groups (id) ON DELETE SET NULL;

-- The due date of an exercise for a group.
CREATE TABLE group_deadlines (
    group_id INTEGER NOT NULL REFERENCES groups (id) ON DELETE CASCADE,
    exercise TEXT    NOT NULL,
    due_at   INTEGER NOT NULL,
    PRIMARY KEY (group_id, exercise)
);

-- A student's own later due date for an exercise.
CREATE TABLE extensions (
    user_id    INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    exercise   TEXT    NOT NULL,
    due_at     INTEGER NOT NULL,
    granted_by INTEGER REFERENCES users (id) ON DELETE SET NULL,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (user_id, exercise)
);

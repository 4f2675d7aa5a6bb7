-- Accounts. The first account created becomes admin (see CreateUser).
CREATE TABLE users (
    id            INTEGER PRIMARY KEY,
    email         TEXT    NOT NULL UNIQUE COLLATE NOCASE,
    password_hash BLOB    NOT NULL,
    role          TEXT    NOT NULL CHECK (role IN ('student', 'instructor', 'admin')),
    created_at    INTEGER NOT NULL
);

-- Sessions are looked up by the SHA-256 of the cookie token: a copy of the
-- database does not let anyone sign in.
CREATE TABLE sessions (
    token_hash BLOB    PRIMARY KEY,
    user_id    INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL
);
CREATE INDEX sessions_user ON sessions (user_id);
CREATE INDEX sessions_expiry ON sessions (expires_at);

CREATE TABLE lesson_progress (
    user_id      INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    lesson       TEXT    NOT NULL,
    completed_at INTEGER NOT NULL,
    PRIMARY KEY (user_id, lesson)
);

-- The latest answer of each user to each inline quiz.
CREATE TABLE quiz_answers (
    user_id     INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    quiz        TEXT    NOT NULL,
    choices     TEXT    NOT NULL,
    correct     INTEGER NOT NULL,
    tries       INTEGER NOT NULL DEFAULT 1,
    answered_at INTEGER NOT NULL,
    PRIMARY KEY (user_id, quiz)
);

-- A submission is also its grading job: status goes queued -> running ->
-- done. A job found running at start-up was interrupted and is queued again.
-- counted is 0 for results the grader could not judge: they cost no attempt.
CREATE TABLE submissions (
    id          INTEGER PRIMARY KEY,
    user_id     INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    exercise    TEXT    NOT NULL,
    seed        INTEGER NOT NULL,
    body        BLOB    NOT NULL,
    status      TEXT    NOT NULL CHECK (status IN ('queued', 'running', 'done')),
    verdict     TEXT    CHECK (verdict IN ('pass', 'fail', 'error')),
    score       REAL,
    counted     INTEGER NOT NULL DEFAULT 0,
    reason      TEXT    NOT NULL DEFAULT '',
    result      TEXT,
    runs        INTEGER NOT NULL DEFAULT 0,
    created_at  INTEGER NOT NULL,
    started_at  INTEGER,
    finished_at INTEGER
);
CREATE INDEX submissions_queue ON submissions (status, id);
CREATE INDEX submissions_user ON submissions (user_id, exercise, id);

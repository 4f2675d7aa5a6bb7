-- A completion certificate: what it says is fixed when it is issued, so
-- that its verification address shows the same thing later.
CREATE TABLE certificates (
    code      TEXT    PRIMARY KEY,
    user_id   INTEGER NOT NULL UNIQUE REFERENCES users (id) ON DELETE CASCADE,
    name      TEXT    NOT NULL,
    course    TEXT    NOT NULL,
    issued_at INTEGER NOT NULL,
    scores    TEXT    NOT NULL
);

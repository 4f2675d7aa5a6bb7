-- When a session was last used, for the idle limit beside the absolute
-- expiry. Existing sessions count as used when they were created.
ALTER TABLE sessions ADD COLUMN last_seen_at INTEGER NOT NULL DEFAULT 0;
UPDATE sessions SET last_seen_at = created_at;

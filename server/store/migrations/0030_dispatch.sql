-- Gradings travel to grader nodes over NATS. The database stays the record:
-- an answer is stored first, then published (an outbox).
--   generation: bumped at every publication; a node's claim names it, so an
--               older copy of the job is dropped.
--   published:  1 once the job is on the job stream.
--   published_seq: the job stream's sequence number of that publication, so
--               jobs are ordered by who was served last without ties.
--   lease:      bumped at every claim; an outcome is recorded only with the
--               newest lease (fencing), so one verdict is counted once.
--   node:       the node that holds or held the lease.
ALTER TABLE submissions ADD COLUMN generation INTEGER NOT NULL DEFAULT 0;
ALTER TABLE submissions ADD COLUMN published INTEGER NOT NULL DEFAULT 0;
ALTER TABLE submissions ADD COLUMN published_at INTEGER;
ALTER TABLE submissions ADD COLUMN published_seq INTEGER NOT NULL DEFAULT 0;
ALTER TABLE submissions ADD COLUMN lease INTEGER NOT NULL DEFAULT 0;
ALTER TABLE submissions ADD COLUMN node TEXT NOT NULL DEFAULT '';

-- The attempt number of a submission among its student's submissions to the
-- same exercise (1, 2, 3 …), so pages say "Attempt 5" for a student's fifth
-- rather than the submission's id.
ALTER TABLE submissions ADD COLUMN attempt INTEGER NOT NULL DEFAULT 0;
UPDATE submissions SET attempt = (SELECT COUNT(*) FROM submissions AS earlier
    WHERE earlier.user_id = submissions.user_id AND earlier.exercise = submissions.exercise AND earlier.id <= submissions.id);

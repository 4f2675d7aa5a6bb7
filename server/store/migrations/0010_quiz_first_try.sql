-- First-try correctness beside eventual correctness. first_correct is what
-- the first answer to a quiz was judged (NULL where older answers were
-- replaced before this was recorded); ever_correct whether any answer was
-- right. correct stays the latest answer's judgement.
ALTER TABLE quiz_answers ADD COLUMN first_correct INTEGER;
ALTER TABLE quiz_answers ADD COLUMN ever_correct INTEGER NOT NULL DEFAULT 0;
UPDATE quiz_answers SET first_correct = CASE WHEN tries = 1 THEN correct END, ever_correct = correct;

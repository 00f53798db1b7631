-- `checked` turns 1 when the automated pipeline stored its decision on the case: a reviewer
-- may approve only such a case (nothing reaches `approved` without every check its level
-- requires). `retry_after` is when the applicant may try again, when a cooldown applies.
ALTER TABLE cases ADD COLUMN checked INTEGER NOT NULL DEFAULT 0;
ALTER TABLE cases ADD COLUMN retry_after BIGINT;

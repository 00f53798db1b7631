-- What the checks saw on a case's images, for the reviewer: the document outline, the
-- regions of the findings, the MRZ read from each side, the portrait and the selfie's face.
-- The record is personal data, so it is a sealed blob; the row keeps its key.
CREATE TABLE case_evidence (
    case_id TEXT PRIMARY KEY REFERENCES cases(id),
    blob_key TEXT NOT NULL,
    created_at BIGINT NOT NULL
);

-- Frames of a liveness recording kept for the reviewer (sealed blobs): the first and last,
-- the frame where each movement was seen and the frame chosen as the selfie. `label` says
-- which (`first`, `turn_left`, `best`...), `frame` is its index in the recording.
CREATE TABLE liveness_shots (
    id TEXT PRIMARY KEY,
    challenge_id TEXT NOT NULL REFERENCES liveness_challenges(id),
    label TEXT NOT NULL,
    frame BIGINT NOT NULL,
    blob_key TEXT NOT NULL,
    content_type TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX liveness_shots_challenge ON liveness_shots (challenge_id);

-- The level a platform asked an applicant session for: the hosted page opens its cases at
-- that level (none: the page's choice, `basic` by default).
ALTER TABLE applicant_sessions ADD COLUMN level TEXT;

-- The faces of every answered liveness sequence (each frame's perceptual hash and
-- descriptor, sealed in the blob store like the selfie descriptors; only the key is here):
-- what a later sequence or selfie of another applicant must not be a copy of.
CREATE TABLE frame_sets (
    id TEXT PRIMARY KEY,
    applicant_id TEXT NOT NULL REFERENCES applicants(id),
    case_id TEXT NOT NULL REFERENCES cases(id),
    challenge_id TEXT,
    blob_key TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX frame_sets_applicant ON frame_sets(applicant_id);
CREATE INDEX liveness_challenges_issued ON liveness_challenges(issued_at);

-- Face descriptors of selfies (biometric data): the descriptor itself is encrypted in the
-- blob store like the images; only its key is here. `verified` turns 1 when the case is
-- approved: those are the faces a new applicant's selfie is searched against
-- (DUPLICATE_FACE).
CREATE TABLE face_templates (
    id TEXT PRIMARY KEY,
    applicant_id TEXT NOT NULL REFERENCES applicants(id),
    case_id TEXT NOT NULL REFERENCES cases(id),
    blob_key TEXT NOT NULL,
    verified INTEGER NOT NULL DEFAULT 0,
    created_at BIGINT NOT NULL
);
CREATE INDEX face_templates_verified ON face_templates (verified, applicant_id);
CREATE UNIQUE INDEX face_templates_case ON face_templates (case_id);

-- Active liveness challenges: the movements asked for, when, until when; single use. The
-- SHA-256 of every frame received is kept so a frame is never accepted twice.
CREATE TABLE liveness_challenges (
    id TEXT PRIMARY KEY,
    case_id TEXT NOT NULL REFERENCES cases(id),
    actions TEXT NOT NULL,
    issued_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    status TEXT NOT NULL,
    result TEXT,
    answered_at BIGINT
);
CREATE INDEX liveness_challenges_case ON liveness_challenges (case_id);
CREATE TABLE liveness_frames (
    sha256 TEXT PRIMARY KEY,
    challenge_id TEXT NOT NULL REFERENCES liveness_challenges(id)
);

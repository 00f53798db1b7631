-- Suspicions (MRZ_INVALID, FORGERY_SUSPECTED, duplicates) an automated decision answered
-- with retake reasons only, without a person seeing them (policy suspicion.action =
-- "flag"): while one is open, the account's next attempt goes to a person. A reviewer's
-- decision on any of the account's cases clears them.
CREATE TABLE account_flags (
    uid TEXT NOT NULL,
    code TEXT NOT NULL,
    case_id TEXT,
    raised_at BIGINT NOT NULL,
    cleared_at BIGINT,
    cleared_by TEXT
);
CREATE INDEX account_flags_uid ON account_flags(uid, cleared_at);

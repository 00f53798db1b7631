-- Identity keys: keyed hashes (HMAC with the server secret) of a document (issuer, kind,
-- number) and of a person (name, birth date, nationality), per account. `pending` while the
-- account's application is undecided or in review, `verified` once approved.
CREATE TABLE identity_claims (
    key_hash TEXT NOT NULL,
    kind TEXT NOT NULL,
    uid TEXT NOT NULL,
    status TEXT NOT NULL,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (key_hash, uid)
);
CREATE INDEX identity_claims_uid ON identity_claims(uid);
-- One identity document verifies one account, even when two are approved at once.
CREATE UNIQUE INDEX identity_claims_one_verified_document
    ON identity_claims(key_hash) WHERE kind = 'document' AND status = 'verified';

-- Every automated or reviewed decision of an account, for cooldowns and escalation.
CREATE TABLE attempts (
    id TEXT PRIMARY KEY,
    uid TEXT NOT NULL,
    at BIGINT NOT NULL,
    outcome TEXT NOT NULL,
    reasons TEXT NOT NULL
);
CREATE INDEX attempts_uid_at ON attempts(uid, at);

-- Steps an account verified (identity_document, selfie, proof_of_address): levels are
-- computed from them, and a higher level reuses them.
CREATE TABLE verified_steps (
    uid TEXT NOT NULL,
    step TEXT NOT NULL,
    level TEXT NOT NULL,
    at BIGINT NOT NULL,
    PRIMARY KEY (uid, step)
);

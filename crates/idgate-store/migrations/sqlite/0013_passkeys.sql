-- Reviewers' passkeys (WebAuthn): the credential id (base64url) and the relying party's
-- record of it (public key, signature counter) as the WebAuthn library serialises it.
CREATE TABLE reviewer_passkeys (
    id TEXT PRIMARY KEY,
    reviewer_id TEXT NOT NULL REFERENCES reviewers(id),
    name TEXT NOT NULL,
    passkey TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    last_used_at BIGINT
);
CREATE INDEX reviewer_passkeys_by_reviewer ON reviewer_passkeys (reviewer_id);

-- A WebAuthn ceremony in progress (its challenge and policy), used once before it expires.
CREATE TABLE webauthn_ceremonies (
    id TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    reviewer_id TEXT,
    state TEXT NOT NULL,
    expires_at BIGINT NOT NULL
);

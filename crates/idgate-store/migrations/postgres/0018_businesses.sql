-- Business applicants (KYB): an organisation a platform onboards, with what it declared
-- about itself. `uid` is the platform's own reference for it.
CREATE TABLE businesses (
    id TEXT PRIMARY KEY,
    uid TEXT NOT NULL UNIQUE,
    kind TEXT NOT NULL,
    legal_name TEXT NOT NULL,
    registration_number TEXT NOT NULL,
    jurisdiction TEXT NOT NULL,
    incorporated_on TEXT NOT NULL,
    registered_address TEXT NOT NULL,
    operating_address TEXT,
    tax_number TEXT,
    lei TEXT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);

-- Its key parties. A person is an applicant of their own (verified as an individual; one
-- applicant is a party of a business once), with what the business declared about them
-- sealed in the blob store under that applicant's key. An entity is described here.
CREATE TABLE business_parties (
    id TEXT PRIMARY KEY,
    business_id TEXT NOT NULL REFERENCES businesses(id),
    applicant_id TEXT REFERENCES applicants(id),
    declared_blob TEXT,
    entity_kind TEXT,
    entity_name TEXT,
    entity_registration_number TEXT,
    entity_jurisdiction TEXT,
    seq BIGINT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX business_parties_business ON business_parties (business_id);
CREATE UNIQUE INDEX business_parties_person ON business_parties (business_id, applicant_id);

-- What a party is to the business (`of_party_id` NULL) or to one of its entity parties;
-- a shareholding carries its share in millionths. `seq` keeps each business's parties and
-- relations in the order they were added (under the business's lock).
CREATE TABLE business_relations (
    id TEXT PRIMARY KEY,
    business_id TEXT NOT NULL REFERENCES businesses(id),
    party_id TEXT NOT NULL REFERENCES business_parties(id),
    role TEXT NOT NULL,
    of_party_id TEXT REFERENCES business_parties(id),
    share_ppm BIGINT,
    seq BIGINT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX business_relations_business ON business_relations (business_id);
CREATE UNIQUE INDEX business_relations_once
    ON business_relations (party_id, role, COALESCE(of_party_id, ''));

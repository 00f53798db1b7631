//! The business (KYB) routes in the OpenAPI document.

use idgate_decide::business::Role;
use serde_json::{json, Value};

/// These routes in the OpenAPI document; `reviewer` is the review API's security.
pub(crate) fn paths(reviewer: Value) -> Value {
    let plain = |d: &str| json!({"description": d, "content": {"application/json": {}}});
    let err = |d: &str| json!({"description": d, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}});
    let id =
        |n: &str| json!({"name": n, "in": "path", "required": true, "schema": {"type": "string"}});
    let text = |d: &str| json!({"type": "string", "description": d});
    let roles: Vec<&str> = Role::ALL.iter().map(|r| r.as_str()).collect();
    json!({
        "/v1/businesses": {"post": {
            "summary": "A business applicant (KYB): an organisation of a kind from the policy's catalogue (`private_company`, `trust`, `fund`, `government_owned_enterprise`, `non_profit`, and a deployment's own)",
            "requestBody": {"required": true, "content": {"application/json": {"schema": {"type": "object",
                "required": ["uid", "kind", "legal_name", "registration_number", "jurisdiction", "incorporated_on", "registered_address"],
                "properties": {
                    "uid": text("the platform's own reference for the business"),
                    "kind": text("an entity kind of the policy's `[business.kinds]`"),
                    "legal_name": text("as registered"),
                    "registration_number": text("in the register of `jurisdiction`"),
                    "jurisdiction": text("ISO 3166-1 alpha-2 (`GB`) or ISO 3166-2 (`US-DE`)"),
                    "incorporated_on": text("YYYY-MM-DD"),
                    "registered_address": text("as registered"),
                    "operating_address": text("where it operates, if elsewhere"),
                    "tax_number": text("its tax identification number"),
                    "lei": text("ISO 17442 Legal Entity Identifier; its check digits are verified")}}}}},
            "responses": {"201": plain("the business"),
                "400": err("invalid_uid, invalid_entity_kind, invalid_legal_name, invalid_registration_number, invalid_jurisdiction, invalid_incorporation_date, invalid_address, invalid_tax_number, invalid_lei"),
                "409": err("a business with this uid already exists")}}},
        "/v1/businesses/{id}": {"get": {
            "summary": "The business with its `parties` (people with their declared data and their own verification, entities), `relations` and `ownership`: `beneficial_owners` (natural persons over `beneficial_owner_percent` through any chain of holdings, every party of a trust in the structure, or a director as senior managing official; each with `percent`, `direct_percent` and `grounds`), `gaps` (undeclared shares that could hide an owner), `missing_roles`, `findings` (OWNERSHIP_INCOMPLETE, KEY_PARTY_MISSING) and `complete`",
            "parameters": [id("id")],
            "responses": {"200": plain("the business"), "404": err("no such business")}}},
        "/v1/businesses/{id}/parties": {"post": {
            "summary": "A key party: a person (`type: person`; verified as an individual applicant of their own: the applicant of `uid` when the platform knows them, reused when already verified, or one made for the role) or an entity (`type: entity`)",
            "description": "A person's declared name, birth date and nationality are sealed under that person's key: erasing the person erases them.",
            "parameters": [id("id")],
            "requestBody": {"required": true, "content": {"application/json": {"schema": {"type": "object", "required": ["type"], "properties": {
                "type": {"type": "string", "enum": ["person", "entity"]},
                "uid": text("person: their own account on the platform"),
                "residence": text("person: ISO 3166-1 alpha-2"),
                "given_names": text("person: as printed"), "surname": text("person: as printed"),
                "birth_date": text("person: YYYY-MM-DD"), "nationality": text("person: ISO 3166-1 alpha-2"),
                "kind": text("entity: an entity kind of the policy"), "name": text("entity: legal name"),
                "registration_number": text("entity"), "jurisdiction": text("entity")}}}}},
            "responses": {"201": plain("the party"), "404": err("no such business"),
                "409": err("this person is already a party of this business"),
                "410": err("applicant_erased: the person's applicant was erased")}}},
        "/v1/businesses/{id}/relations": {"post": {
            "summary": "What a party is to the business (no `of`) or to one of its entity parties: a role, and for a shareholder its `percent`",
            "parameters": [id("id")],
            "requestBody": {"required": true, "content": {"application/json": {"schema": {"type": "object", "required": ["party", "role"], "properties": {
                "party": text("a party id of this business"),
                "role": {"type": "string", "enum": roles},
                "of": text("an entity party's id; absent: the business"),
                "percent": {"type": "number", "description": "shareholder only: above 0, at most 100, four decimals"}}}}}},
            "responses": {"201": plain("the relation"), "400": err("invalid_role, invalid_share"),
                "404": err("no such business"), "409": err("the party already holds this role there"),
                "422": err("ownership_cycle, shares_over_100, unknown_party, not_an_entity, self_relation, invalid_share: the structure would be impossible; nothing was added")}}},
        "/v1/businesses/{id}/documents": {"post": {
            "summary": "An entity document of a kind from the policy's `[business.documents]`: one `file` per page (up to 20; photos or PDFs, each checked as identity documents' uploads are, sealed under the business's key), `issued_on` (YYYY-MM-DD) where its age counts",
            "parameters": [id("id")],
            "requestBody": {"required": true, "content": {"multipart/form-data": {"schema": {"type": "object", "required": ["kind", "file"], "properties": {
                "kind": text("an entity document kind"), "issued_on": text("YYYY-MM-DD"),
                "file": {"type": "array", "items": {"type": "string", "format": "binary"}}}}}}},
            "responses": {"201": plain("the document with its pages (`state`: pending)"),
                "400": err("invalid_kind, invalid_issued_on, missing_field, too_many_pages, unknown_field"),
                "404": err("no such business"), "409": err("invalid_state: the business is submitted"),
                "413": err("file_too_large"), "415": err("unsupported_file_type"), "422": err("unreadable_file")}}},
        "/v1/businesses/{id}/parties/{party}": {"delete": {
            "summary": "Remove a party no relation names (a person declared wrongly is added again as they should be); what was declared about a person is deleted, their own applicant stays",
            "parameters": [id("id"), id("party")],
            "responses": {"204": {"description": "removed"}, "404": err("no such business or party"),
                "409": err("relations name this party; or the business is submitted")}}},
        "/v1/businesses/{id}/parties/{party}/invitation": {"post": {
            "summary": "A link for a person among the parties to verify as an individual: a session of their own applicant (`{id, applicant_id, url, token, expires_at}`, as `POST /v1/applicants/{id}/sessions` answers); when their case is decided the business waiting for them is evaluated again",
            "parameters": [id("id"), id("party")],
            "responses": {"201": plain("the session"), "400": err("not_a_person"), "404": err("no such business or party"),
                "409": err("already_verified"), "410": err("applicant_erased")}}},
        "/v1/businesses/{id}/submit": {"post": {
            "summary": "Submit the business: evaluated at once to `resubmission_requested` (findings to fix), `awaiting_parties` (people still verifying; evaluated again when one is decided) or `in_review`",
            "parameters": [id("id")],
            "responses": {"200": plain("the business with its `status` and `findings`"), "404": err("no such business"),
                "409": err("invalid_state: already submitted; or conflict: it changed while being evaluated")}}},
        "/v1/review/businesses/{id}": {"get": {
            "summary": "A business as the platform sees it, for reviewers", "security": reviewer.clone(),
            "parameters": [id("id")], "responses": {"200": plain("the business"), "404": err("no such business")}}},
        "/v1/review/businesses/{id}/documents/{doc}/pages/{page}": {"get": {
            "summary": "A page of an entity document, decrypted (the view is audited)", "security": reviewer.clone(),
            "parameters": [id("id"), id("doc"), {"name": "page", "in": "path", "required": true, "schema": {"type": "integer"}}],
            "responses": {"200": {"description": "the page as uploaded"}, "404": err("no such page")}}},
        "/v1/review/businesses/{id}/documents/{doc}/decision": {"post": {
            "summary": "Accept or reject an entity document of a business in review (`note` required to reject: the business is shown it)",
            "security": reviewer.clone(), "parameters": [id("id"), id("doc")],
            "requestBody": {"required": true, "content": {"application/json": {"schema": {"type": "object", "required": ["decision"], "properties": {
                "decision": {"type": "string", "enum": ["accept", "reject"]}, "note": text("to the business")}}}}},
            "responses": {"200": plain("the business"), "400": err("invalid_decision, missing_note"),
                "403": err("an auditor reads only"), "404": err("no such document"), "409": err("the business is not in review")}}},
        "/v1/review/businesses/{id}/decision": {"post": {
            "summary": "Approve (every required document accepted, every person verified, the ownership complete), ask for a resubmission, or reject",
            "security": reviewer.clone(), "parameters": [id("id")],
            "requestBody": {"required": true, "content": {"application/json": {"schema": {"type": "object", "required": ["decision"], "properties": {
                "decision": {"type": "string", "enum": ["approve", "resubmit", "reject"]}}}}}},
            "responses": {"200": plain("the business"), "400": err("invalid_decision"), "403": err("an auditor reads only"),
                "409": err("not_approvable (what is still open), invalid_state")}}},
        "/v1/businesses/{id}/relations/{relation}": {"delete": {
            "summary": "Remove a relation", "parameters": [id("id"), id("relation")],
            "responses": {"204": {"description": "removed"}, "404": err("no such business or relation")}}},
    })
}

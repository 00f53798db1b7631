//! The OpenAPI 3 document for the HTTP API, built here next to the handlers. A test
//! compares it with the committed `openapi.json`; `idgate openapi` prints it.

use serde_json::{json, Value};

fn identity_kinds() -> Vec<&'static str> {
    idgate_decide::DocKind::ALL.map(|k| k.as_str()).to_vec()
}

fn upload_kinds() -> Vec<&'static str> {
    idgate_decide::UploadKind::all()
        .map(|k| k.as_str())
        .collect()
}

fn sides() -> Vec<&'static str> {
    idgate_decide::Side::ALL.map(|s| s.as_str()).to_vec()
}

fn roles() -> Vec<&'static str> {
    idgate_core::ReviewerRole::ALL.map(|r| r.as_str()).to_vec()
}

fn error_response(description: &str) -> Value {
    json!({"description": description, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}})
}

fn ok(description: &str, schema: &str) -> Value {
    json!({"description": description, "content": {"application/json": {"schema": {"$ref": format!("#/components/schemas/{schema}")}}}})
}

fn id_param(name: &str) -> Value {
    json!({"name": name, "in": "path", "required": true, "schema": {"type": "string"}})
}

pub fn document() -> Value {
    let mut doc = base();
    let paths = doc["paths"].as_object_mut().expect("paths is an object");
    for (k, v) in review_paths().as_object().expect("an object") {
        paths.insert(k.clone(), v.clone());
    }
    for (k, v) in session_paths().as_object().expect("an object") {
        paths.insert(k.clone(), v.clone());
    }
    for (k, v) in console_paths().as_object().expect("an object") {
        paths.insert(k.clone(), v.clone());
    }
    for (k, v) in evidence_paths().as_object().expect("an object") {
        paths.insert(k.clone(), v.clone());
    }
    for (k, v) in screening_paths().as_object().expect("an object") {
        paths.insert(k.clone(), v.clone());
    }
    for (k, v) in catalog_paths().as_object().expect("an object") {
        paths.insert(k.clone(), v.clone());
    }
    let kyb = crate::http::openapi_kyb::paths(reviewer_security());
    for (k, v) in kyb.as_object().expect("an object") {
        paths.insert(k.clone(), v.clone());
    }
    for (k, v) in probe_paths().as_object().expect("an object") {
        paths.insert(k.clone(), v.clone());
    }
    paths["/v1/applicants/{id}"]["delete"] = erase_operation();
    doc["components"]["schemas"]["Applicant"]["properties"]["erased_at"] = json!({
        "type": "string", "format": "date-time", "nullable": true,
        "description": "when the applicant was erased (`DELETE`); null while they are not"});
    // Every route behind an API key or an applicant session counts against its caller's
    // allowance of requests a minute.
    let global = doc["security"].clone();
    let paths = doc["paths"].as_object_mut().expect("paths is an object");
    let operations = paths
        .values_mut()
        .flat_map(|p| p.as_object_mut())
        .flat_map(|p| p.values_mut())
        .filter(|op| op.get("responses").is_some());
    for op in operations {
        let security = op.get("security").unwrap_or(&global);
        let limited = security.as_array().is_some_and(|s| {
            s.iter()
                .any(|r| r.get("apiKey").is_some() || r.get("sessionToken").is_some())
        });
        if limited && op["responses"].get("503").is_none() {
            op["responses"]["503"] = error_response(
                "temporarily_unavailable: the database or the object store did not answer; nothing was changed; Retry-After says when to try again",
            );
        }
        if limited && op["responses"].get("429").is_none() {
            op["responses"]["429"] = error_response(
                "rate_limited: over the API key's or session's requests a minute (`limits.api_key_per_minute`, `limits.session_per_minute`); Retry-After says when to come back",
            );
        }
    }
    let schemas = doc["components"]["schemas"]
        .as_object_mut()
        .expect("schemas is an object");
    for (k, v) in review_schemas().as_object().expect("an object") {
        schemas.insert(k.clone(), v.clone());
    }
    schemas["Case"]["properties"]["queue"] = json!({"type": "object", "nullable": true,
        "description": "while the case waits for its checks (`submitted`) or is being checked (`processing`)",
        "required": ["position", "estimated_seconds"], "properties": {
            "position": {"type": "integer", "description": "0 while its checks run, 1 when it is next"},
            "estimated_seconds": {"type": "integer", "nullable": true, "description": "until it is decided, from how long the last 50 checks took and how many run at once; null before any was timed"}}});
    doc
}

/// Who may use the review API: a reviewer's token, or the console's session cookie (the
/// console's pages call the same routes).
pub(crate) fn reviewer_security() -> Value {
    json!([{"reviewerToken": []}, {"consoleSession": []}])
}

/// Where a case page's evidence leads: liveness frames, an applicant's cases, a listed
/// entity.
fn evidence_paths() -> Value {
    let reviewer = reviewer_security();
    json!({
        "/v1/review/cases/{id}/liveness/{shot}/image": {"get": {
            "summary": "A frame kept from the case's liveness recording (`liveness` in the case lists them by challenge), decrypted (the view is audited)",
            "security": reviewer, "parameters": [id_param("id"), id_param("shot")],
            "responses": {"200": plain("the frame as sent"), "404": error_response("no such frame")}}},
        "/v1/review/applicants/{uid}/cases": {"get": {
            "summary": "An applicant's cases, newest first (where a duplicate finding's account leads)",
            "security": reviewer, "parameters": [id_param("uid")],
            "responses": {"200": plain("`{uid, region, cases}`"), "404": error_response("no such applicant")}}},
        "/v1/review/list-entities/{id}": {"get": {
            "summary": "A listed entity a screening match names, from the active list versions, with its digest",
            "security": reviewer, "parameters": [id_param("id")],
            "responses": {"200": plain("the entity"), "404": error_response("no such listed entity")}}}
    })
}

/// An orchestrator's probes: liveness apart from readiness.
/// `DELETE /v1/applicants/{id}`: erasure.
fn erase_operation() -> Value {
    json!({
        "summary": "Erase an applicant (right to erasure)",
        "description": "Destroys the applicant's key (crypto-shredding: every image, entered data, face and frame of theirs, wherever a copy lies, can no longer be opened), then deletes the objects, removes their face templates, verified steps (entitlements) and sessions. The applicant's row, decisions, identity keys (keyed hashes, for duplicate detection) and the audit trail stay for the AML period; each case gets an `erased` audit event. Repeating it finishes an interrupted erasure. Afterwards the applicant takes no new case, session or upload (410 `applicant_erased`).",
        "parameters": [id_param("id")],
        "responses": {
            "200": plain("`{id, erased_at, key_destroyed, objects_deleted, objects_not_deleted}`"),
            "404": error_response("no such applicant"),
            "409": error_response("case_in_progress: a case is submitted, processing or in review; erase it once decided")}
    })
}

fn probe_paths() -> Value {
    json!({
        "/livez": {"get": {"summary": "Liveness: the process answers; nothing outside it is asked", "security": [],
            "responses": {"200": {"description": "alive"}}}},
        "/readyz": {"get": {"summary": "Readiness: `{status, checks: {database, blobs, models}}`, each `ok` or `unavailable`", "security": [],
            "responses": {"200": {"description": "ready"}, "503": {"description": "a dependency is unavailable (named in `checks`)"}}}},
    })
}

/// Sanctions and PEP lists and the search over them.
fn screening_paths() -> Value {
    let text = |d: &str| json!({"type": "string", "description": d});
    json!({
        "/v1/lists": {"get": {"summary": "The lists screened against: per source its newest version (`source, version, versions, format, sha256, imported_at, entities, added, changed, removed`); `entities_screened`, `last_import`",
            "responses": {"200": plain("`{sources, entities_screened, last_import}`")}}},
        "/v1/screening/search": {"post": {
            "summary": "A name against every current list: matches at or above the threshold, best first, each with the names that met (`query_name`, `listed_name`), `score`, `name_score`, what moved it (`adjustments`: birth date, nationality, gender), an identifier met exactly, the record's `entity_digest` and the listed `entity`",
            "description": "The name is personal data: nothing of it is logged or kept.",
            "requestBody": {"required": true, "content": {"application/json": {"schema": {"type": "object", "properties": {
                "name": text("required unless `names` gives one"),
                "names": {"type": "array", "items": {"type": "string"}, "description": "further names (another script, a former name); at most 10 of 200 characters"},
                "birth_date": text("`YYYY`, `YYYY-MM` or `YYYY-MM-DD`"),
                "country": text("nationality: ISO 3166-1 alpha-2 or alpha-3, or a country's name"),
                "gender": text("`M`, `F`, `male`, `female`"),
                "identifiers": {"type": "array", "items": {"type": "string"}, "description": "passport or national numbers, met exactly"},
                "threshold": {"type": "number", "description": "0–1; default the policy's `[screening] threshold`"},
                "limit": {"type": "integer", "description": "1–100; default the policy's"}}}}}},
            "responses": {"200": plain("`{threshold, matches}`"),
                "400": error_response("invalid_json, invalid_name, invalid_birth_date, invalid_country, invalid_gender, invalid_identifier, invalid_threshold, invalid_limit")}}},
    })
}

/// The document catalogue: public, as the applicant's page reads it before anything else.
fn catalog_paths() -> Value {
    json!({
            "/v1/catalog": {"get": {
                "summary": "Every ISO 3166-1 country: served or not, and the accepted documents with their sides", "security": [],
                "responses": {"200": {"description": "the catalog", "content": {"application/json": {"schema": {"type": "object",
                    "properties": {"countries": {"type": "array", "items": {"$ref": "#/components/schemas/CatalogEntry"}}}}}}}}}},
            "/v1/catalog/{country}": {"get": {
                "summary": "One country's accepted documents (the applicant UI's dropdown)", "security": [], "parameters": [id_param("country")],
                "responses": {"200": ok("the country's entry, with unsupported subdivisions", "CatalogEntry"),
                    "404": error_response("not an ISO 3166-1 alpha-2 code")}}}
    })
}

fn json_body(schema: &str) -> Value {
    json!({"required": true, "content": {"application/json": {"schema": {"$ref": format!("#/components/schemas/{schema}")}}}})
}

fn plain(description: &str) -> Value {
    json!({"description": description})
}

/// Applicant sessions and the hosted flow's routes.
fn session_paths() -> Value {
    let session = json!([{"sessionToken": []}]);
    let same = |what: &str| {
        format!("As `{what}`, for the session's applicant and only its current case (403 `not_this_session` otherwise).")
    };
    json!({
        "/v1/applicants/{id}/sessions": {"post": {
            "summary": "A hosted-flow link for the applicant: `{id, applicant_id, url, token, expires_at, level}`",
            "description": "The token (`igs_...`) is short-lived (`flow.session_ttl_secs`, 30 minutes by default; `ttl_secs` may ask for less), bound to this applicant and usable only on its current case. `url` carries it in the fragment (`/flow#s=...`), which browsers never send to a server. Open the same link on a second device to continue there. `redirect_url` (under one of `flow.embed_origins`) is where the page sends the applicant when done; those origins may also frame the page and receive its `postMessage` events (`started`, `step`, `submitted`, `decided`). `level` (one of the policy's levels) is the level the page opens its cases at, whatever the page asks; without it, `basic`.",
            "parameters": [id_param("id")],
            "requestBody": {"required": false, "content": {"application/json": {"schema": {"type": "object", "additionalProperties": false,
                "properties": {"ttl_secs": {"type": "integer", "minimum": 1}, "redirect_url": {"type": "string"}, "level": {"type": "string"}}}}}},
            "responses": {"201": plain("the session, with its token (shown once)"), "400": error_response("invalid_ttl, invalid_redirect_url, invalid_level"),
                "404": error_response("no such applicant")}}},
        "/v1/applicants/{id}/sessions/{session}": {"delete": {
            "summary": "Revoke a session: its token is refused from then on (401 `session_revoked`)",
            "parameters": [id_param("id"), id_param("session")],
            "responses": {"204": plain("revoked"), "404": error_response("no such usable session of this applicant")}}},
        "/flow": {"get": {"summary": "The applicant's page (English or Simplified Chinese: `?lang=`, else Accept-Language)", "security": [],
            "responses": {"200": plain("HTML under a strict Content-Security-Policy")}}},
        "/flow/v1/session": {"get": {"summary": "What the page starts from: the applicant's region, the levels' steps (and those still missing), the current case, the chosen document, the embedding origins and the redirect", "security": session.clone(),
            "responses": {"200": plain("the session's view"), "401": error_response("unauthorized, session_expired, session_revoked")}}},
        "/flow/v1/qr": {"get": {"summary": "The session's link as a QR code, for a phone to carry on with the same session", "security": session.clone(),
            "responses": {"200": {"description": "SVG", "content": {"image/svg+xml": {}}}}}},
        "/flow/v1/cases": {"post": {"summary": "The applicant's current draft, or a new case when the last one asks for a resubmission or there is none", "security": session.clone(),
            "responses": {"200": ok("the current draft", "Case"), "201": ok("a new case", "Case"), "409": error_response("the current case is being checked or was decided"),
                "429": error_response("too_many_attempts: a cooldown applies")}}},
        "/flow/v1/cases/{id}": {"get": {"summary": same("GET /v1/cases/{id}"), "security": session.clone(), "parameters": [id_param("id")], "responses": {"200": ok("the case", "Case"), "403": error_response("not_this_session")}}},
        "/flow/v1/cases/{id}/data": {"put": {"summary": same("PUT /v1/cases/{id}/data"), "security": session.clone(), "parameters": [id_param("id")], "requestBody": json_body("EnteredData"), "responses": {"204": plain("stored"), "403": error_response("not_this_session")}},
            "get": {"summary": "The data entered for the current draft, for the page to show again when the applicant goes back", "security": session.clone(), "parameters": [id_param("id")], "responses": {"200": ok("as entered", "EnteredData"), "403": error_response("not_this_session"), "404": error_response("no data entered yet"), "409": error_response("invalid_state: the case was submitted")}}},
        "/flow/v1/events": {"get": {"summary": "The session's case followed by push: a `text/event-stream` whose `case` events carry `{version}` at once and whenever the case moves, and whose `ended` event (`expired` or `revoked`) closes it", "security": session.clone(),
            "responses": {"200": {"description": "server-sent events", "content": {"text/event-stream": {}}}, "401": error_response("unauthorized, session_expired, session_revoked")}}},
        "/flow/v1/cases/{id}/documents": {"post": {"summary": same("POST /v1/cases/{id}/documents"), "security": session.clone(), "parameters": [id_param("id")], "responses": {"201": plain("stored"), "403": error_response("not_this_session")}}},
        "/flow/v1/cases/{id}/documents/{doc}": {"delete": {"summary": same("DELETE /v1/cases/{id}/documents/{doc}"), "security": session.clone(), "parameters": [id_param("id"), id_param("doc")], "responses": {"204": plain("removed"), "403": error_response("not_this_session")}}},
        "/flow/v1/cases/{id}/submit": {"post": {"summary": same("POST /v1/cases/{id}/submit"), "security": session.clone(), "parameters": [id_param("id")], "responses": {"202": ok("queued", "Case"), "403": error_response("not_this_session")}}},
        "/flow/v1/cases/{id}/liveness": {"post": {"summary": same("POST /v1/cases/{id}/liveness"), "security": session.clone(), "parameters": [id_param("id")], "responses": {"200": plain("the challenge"), "403": error_response("not_this_session")}}},
        "/flow/v1/cases/{id}/liveness/{challenge}": {"post": {"summary": same("POST /v1/cases/{id}/liveness/{challenge}"), "security": session.clone(), "parameters": [id_param("id"), id_param("challenge")], "responses": {"200": plain("the judgement"), "403": error_response("not_this_session")}}},
        "/flow/v1/cases/{id}/liveness/{challenge}/guide": {"post": {"summary": same("POST /v1/cases/{id}/liveness/{challenge}/guide"), "security": session.clone(), "parameters": [id_param("id"), id_param("challenge")], "responses": {"200": plain("the advice"), "403": error_response("not_this_session")}}},
        "/v1/cases/{id}/liveness/{challenge}/guide": {"post": {
            "summary": "Guidance while recording: one frame (the image as the body, ≤ 2 MiB) and `?doing=` (face_camera or one of the challenge's actions)",
            "description": "Answers `{advice, faces, yaw, eye_distance, brightness}` with `advice` one of no_face, one_face_only, more_light, come_closer, face_camera, turn_further, good (the turn asked is reached, or the face is frontal; a blink cannot be seen in one frame). Measured as the judge measures: the same decode, face count, yaw and eye distance. Nothing is stored and the challenge stays open; the verdict is the answer's, on the whole sequence.",
            "parameters": [id_param("id"), id_param("challenge"), {"name": "doing", "in": "query", "required": false, "schema": {"type": "string"}}],
            "requestBody": {"required": true, "content": {"image/jpeg": {"schema": {"type": "string", "format": "binary"}}}},
            "responses": {"200": plain("the advice"), "400": error_response("invalid_action, empty_file"), "404": error_response("no such challenge of this case"),
                "409": error_response("challenge_closed: answered or expired"), "413": error_response("file_too_large"), "422": error_response("unreadable_image")}}},
        "/flow/v1/precheck": {"post": {"summary": "As `POST /v1/precheck`, for the page", "security": session, "responses": {"200": plain("the instant check's report")}}},
    })
}

/// The reviewer console's sign-in (`/console/v1`): cookie sessions, CSRF token in
/// `X-CSRF-Token` on every state change.
fn console_paths() -> Value {
    let cookie = json!([{"consoleSession": []}]);
    let none = json!([]);
    json!({
        "/v1/reviewer-invites": {"post": {
            "summary": "Invite a reviewer to the console (how the first admin is made): a single-use link that expires",
            "requestBody": {"required": true, "content": {"application/json": {"schema": {"type": "object", "required": ["name", "role"], "properties": {
                "name": {"type": "string"}, "role": {"type": "string", "enum": roles()}, "ttl_secs": {"type": "integer", "minimum": 1}}}}}},
            "responses": {"201": plain("`{id, name, role, expires_at, token, url}`: the link is in this answer only"),
                "400": error_response("invalid_name, invalid_role, invalid_ttl"), "409": error_response("a reviewer with this name already exists")}}},
        "/console": {"get": {"summary": "The reviewer console's page (English or Simplified Chinese)", "security": none,
            "responses": {"200": plain("HTML under a strict Content-Security-Policy; never framed")}}},
        "/console/v1/sign-in": {"post": {"summary": "Name and password; starts a session at its next stage (second_factor, enrol or full) with a new cookie", "security": none,
            "responses": {"200": plain("`{stage, csrf_token}` and Set-Cookie"), "401": error_response("bad_credentials"),
                "403": error_response("cross_origin"), "429": error_response("signin_throttled, with Retry-After")}}},
        "/console/v1/sign-in/second-factor": {"post": {"summary": "`{code}` from the authenticator app (each time step once) or `{recovery_code}` (once); a new cookie for the signed-in session", "security": cookie.clone(),
            "responses": {"200": plain("`{stage: full, csrf_token, recovery_codes_left}`"), "401": error_response("bad_credentials"), "429": error_response("signin_throttled")}}},
        "/console/v1/invites/inspect": {"post": {"summary": "`{token}`: what an invitation is for", "security": none,
            "responses": {"200": plain("`{name, role, expires_at, needs_second_factor, min_password_chars}`"), "404": error_response("no such invitation"), "410": error_response("invite_used_or_expired")}}},
        "/console/v1/invites/accept": {"post": {"summary": "`{token, password}`: uses the invitation once, creates the account (argon2id) and starts a session", "security": none,
            "responses": {"201": plain("`{id, name, role, stage, csrf_token}` and Set-Cookie"), "400": error_response("password_too_short, password_too_long, password_too_common"), "410": error_response("invite_used_or_expired")}}},
        "/console/v1/totp/enrol": {"post": {"summary": "A new TOTP secret (pending): `{secret, otpauth_uri, qr_svg}`", "security": cookie.clone(),
            "responses": {"200": plain("the secret"), "409": error_response("an authenticator app is already enrolled")}}},
        "/console/v1/totp/confirm": {"post": {"summary": "`{code}` confirms the secret; answers ten single-use recovery codes (and signs in a session that had to enrol)", "security": cookie.clone(),
            "responses": {"200": plain("`{recovery_codes}`"), "400": error_response("wrong_code"), "409": error_response("nothing_to_confirm")}}},
        "/console/v1/reauth": {"post": {"summary": "`{password, code | recovery_code}` again, before a FINAL rejection or an admin action", "security": cookie.clone(),
            "responses": {"200": plain("`{fresh_until}`"), "401": error_response("bad_credentials")}}},
        "/console/v1/sign-out": {"post": {"summary": "Ends the session", "security": cookie.clone(), "responses": {"204": plain("signed out")}}},
        "/console/v1/me": {"get": {"summary": "Who is signed in: `{id, name, role, stage, csrf_token, totp, recovery_codes_left, fresh_until, expires_at}`", "security": cookie.clone(),
            "responses": {"200": plain("the session"), "401": error_response("signed_out")}}},
        "/console/v1/meta": {"get": {"summary": "The policy's levels and the roles, for the console's forms", "security": cookie.clone(), "responses": {"200": plain("`{levels, roles, fresh_auth_secs}`")}}},
        "/console/v1/invites": {"post": {"summary": "An admin invites a reviewer (fresh authentication needed)", "security": cookie.clone(),
            "responses": {"201": plain("as `POST /v1/reviewer-invites`"), "403": error_response("forbidden, reauthentication_required")}}},
        "/console/v1/reviewers": {"get": {"summary": "Reviewer accounts (admin)", "security": cookie.clone(), "responses": {"200": plain("`{reviewers}`"), "403": error_response("forbidden")}}},
        "/console/v1/reviewers/{id}": {"delete": {"summary": "Disable an account and end its sessions (admin, fresh authentication)", "security": cookie.clone(), "parameters": [id_param("id")],
            "responses": {"204": plain("disabled"), "403": error_response("forbidden, reauthentication_required"), "409": error_response("own_account")}}},
        "/console/v1/passkeys/register/start": {"post": {"summary": "Options for navigator.credentials.create: a discoverable credential with user verification (the relying party is flow.public_url's host, a domain name)", "security": cookie.clone(),
            "responses": {"200": plain("`{ceremony, options}`"), "409": error_response("passkeys_unavailable: the public address is an IP address")}}},
        "/console/v1/passkeys/register/finish": {"post": {"summary": "`{ceremony, name?, credential}`: stores the passkey; the first second factor brings the recovery codes, and a session that had to enrol is signed in", "security": cookie.clone(),
            "responses": {"201": plain("`{id, name, recovery_codes?}`"), "400": error_response("passkey_refused")}}},
        "/console/v1/passkeys": {"get": {"summary": "The reviewer's passkeys", "security": cookie.clone(), "responses": {"200": plain("`{passkeys}`")}}},
        "/console/v1/passkeys/{id}": {"delete": {"summary": "Remove a passkey (fresh authentication; not the last second factor of a role that needs one)", "security": cookie.clone(), "parameters": [id_param("id")],
            "responses": {"204": plain("removed"), "403": error_response("reauthentication_required"), "409": error_response("last_second_factor")}}},
        "/console/v1/passkeys/sign-in/start": {"post": {"summary": "Options for navigator.credentials.get: any passkey of this site", "security": none.clone(),
            "responses": {"200": plain("`{ceremony, options}`"), "409": error_response("passkeys_unavailable")}}},
        "/console/v1/passkeys/sign-in/finish": {"post": {"summary": "`{ceremony, credential, purpose?}`: signs in with the passkey alone (user verification is both factors), or with `purpose: reauth` refreshes the signed-in reviewer's session", "security": none.clone(),
            "responses": {"200": plain("`{stage: full, csrf_token}` and Set-Cookie, or `{fresh_until}`"), "400": error_response("passkey_refused"), "401": error_response("bad_credentials"), "429": error_response("signin_throttled")}}},
        "/console/v1/security-events": {"get": {"summary": "The security log, newest first (admin): sign-ins, failures, throttling, enrolments, invitations, admin actions", "security": cookie,
            "responses": {"200": plain("`{events}`"), "403": error_response("forbidden")}}},
    })
}

/// Entered data, change requests, reviewer accounts, the reviewer API and webhooks.
fn review_paths() -> Value {
    let reviewer = reviewer_security();
    json!({
        "/v1/cases/{id}/data": {"put": {
            "summary": "Enter the applicant's data for a draft case (compared with the document)",
            "parameters": [id_param("id")], "requestBody": json_body("EnteredData"),
            "responses": {"204": plain("stored, encrypted at rest"), "400": error_response("invalid data, with the field"),
                "404": error_response("no such case"), "409": error_response("the case is no longer a draft")}}},
        "/v1/applicants/{id}/change-requests": {"post": {
            "summary": "Ask to change verified data",
            "description": "What changes decides what the request needs (`changes`, `needs`). An address or subdivision goes to a reviewer. Identity fields (name, birth date, nationality, document) need the new document (`POST /v1/change-requests/{id}/documents`, then `.../submit`): the checks hold the new data against it (photo checks, MRZ, names, dates, the catalog, the minimum age, the new document's portrait against the verified face, the new identity keys against other accounts), and two different reviewers must approve it.",
            "parameters": [id_param("id")], "requestBody": json_body("NewChangeRequest"),
            "responses": {"201": ok("awaiting_documents (identity fields) or pending", "ChangeRequest"), "400": error_response("invalid data or reason"),
                "409": error_response("nothing verified yet, or a request is already open"),
                "422": error_response("no_change: the data is the verified data; region_not_supported")}}},
        "/v1/change-requests/{id}": {"get": {
            "summary": "A change request's status, what changes, what it needs and the checks' reasons (`?lang=zh-Hans`)", "parameters": [id_param("id")],
            "responses": {"200": ok("the change request", "ChangeRequest"), "404": error_response("no such change request")}}},
        "/v1/change-requests/{id}/documents": {"post": {
            "summary": "Upload a page of the new identity document of a change request (while it is awaiting_documents)",
            "parameters": [id_param("id")],
            "requestBody": {"required": true, "content": {"multipart/form-data": {"schema": {
                "type": "object", "required": ["kind", "file"],
                "properties": {"kind": {"type": "string", "enum": identity_kinds()},
                    "side": {"type": "string", "enum": sides()}, "file": {"type": "string", "format": "binary"}}}}}},
            "responses": {"201": plain("stored, encrypted at rest; `replaces` names an earlier page of the same side"),
                "400": error_response("missing, repeated or invalid form field"), "409": error_response("the request takes no documents now"),
                "413": error_response("file too large"), "415": error_response("not a supported image"),
                "422": error_response("damaged or truncated image, or too many pixels")}}},
        "/v1/change-requests/{id}/submit": {"post": {
            "summary": "Hand a change request with its new document to the checks (a worker runs them)",
            "parameters": [id_param("id")],
            "responses": {"202": ok("checking", "ChangeRequest"), "404": error_response("no such change request"),
                "409": error_response("no document uploaded, or not awaiting documents")}}},
        "/v1/reviewers": {
            "post": {"summary": "Create a reviewer account; the answer holds its token, shown once",
                "requestBody": json_body("NewReviewer"),
                "responses": {"201": plain("the reviewer with `token`"), "400": error_response("invalid name or role"),
                    "409": error_response("the name is taken")}},
            "get": {"summary": "Reviewer accounts", "responses": {"200": plain("`reviewers`")}}},
        "/v1/reviewers/{id}": {"delete": {
            "summary": "Disable a reviewer; its claimed cases go back to the queue", "parameters": [id_param("id")],
            "responses": {"204": plain("disabled"), "404": error_response("no such active reviewer")}}},
        "/v1/webhooks/deliveries": {"get": {
            "summary": "Webhook delivery log: newest first, each with its body, status and attempts",
            "description": "Every status change is POSTed to the configured URL with `X-Idgate-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of \"<t>.<raw body>\">` under the webhook secret (its text, as written in the secret file, without the line break), `X-Idgate-Event`, `X-Idgate-Delivery` and `X-Idgate-Sequence`. Events: `case.status_changed`, `change_request.status_changed`, and `applicant.screening_match` (ongoing monitoring: after a list import an approved applicant matched a listed entity; `data` names the review case opened, the reasons, the list's source and version and the entity ids; a reviewer confirming the match rejects the case, which withdraws the account's entitlements). One case's (or change request's) events are sent in order: the body's `sequence` counts them, and a later one waits until the earlier ones were delivered or given up. Receivers check the timestamp (within 5 minutes) and the HMAC before parsing. Failures are retried with exponential backoff.",
            "responses": {"200": plain("`deliveries`")}}},
        "/v1/webhooks/deliveries/{id}/redeliver": {"post": {
            "summary": "Send a delivery again now", "parameters": [id_param("id")],
            "responses": {"202": plain("queued"), "404": error_response("no such delivery")}}},
        "/v1/review/queue": {"get": {"summary": "Cases in review, longest waiting first (or newest first), filtered", "security": reviewer,
            "parameters": [
                {"name": "level", "in": "query", "schema": {"type": "string"}},
                {"name": "reason", "in": "query", "schema": {"type": "string"}, "description": "a reason code the case carries"},
                {"name": "country", "in": "query", "schema": {"type": "string"}, "description": "the applicant's region, ISO 3166-1 alpha-2"},
                {"name": "holder", "in": "query", "schema": {"type": "string", "enum": ["any", "unclaimed", "mine"]}},
                {"name": "min_wait_mins", "in": "query", "schema": {"type": "integer", "minimum": 0}},
                {"name": "sort", "in": "query", "schema": {"type": "string", "enum": ["oldest", "newest"]}},
                {"name": "limit", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": 500}}],
            "responses": {"200": plain("`cases`: case_id, uid, country, level, reasons, claimed_by, claimed_by_name, waiting_since, waiting_mins"),
                "400": error_response("invalid_reason, invalid_holder, invalid_sort, invalid_country, invalid_wait, invalid_limit"),
                "401": error_response("missing or unknown reviewer token")}}},
        "/v1/review/cases/{id}": {"get": {
            "summary": "Everything a reviewer needs: entered data, findings with internal detail, documents, the checks' evidence (`evidence`: each side's outline, marked regions and MRZ as fractions of the shown image; the portrait and selfie faces with their similarity; `compare`, the entered data beside the document's with the fields the engine found to disagree), the applicant's cases (`history`), the frames kept from its liveness recordings (`liveness`), all comments, audit trail",
            "security": reviewer, "parameters": [id_param("id")],
            "responses": {"200": plain("the case"), "404": error_response("no such case")}}},
        "/v1/review/cases/{id}/documents/{doc}/image": {"get": {
            "summary": "An uploaded image, decrypted (the view is audited)", "security": reviewer,
            "parameters": [id_param("id"), id_param("doc")],
            "responses": {"200": plain("the image as uploaded"), "404": error_response("no such document")}}},
        "/v1/review/cases/{id}/claim": {"post": {
            "summary": "Take a case in review; `{\"take_over\": true}` (supervisor) takes it from another reviewer",
            "security": reviewer, "parameters": [id_param("id")],
            "responses": {"200": plain("claimed"), "403": error_response("role may not"),
                "409": error_response("not in review, or held by another reviewer")}}},
        "/v1/review/cases/{id}/release": {"post": {
            "summary": "Give a claimed case back to the queue", "security": reviewer, "parameters": [id_param("id")],
            "responses": {"204": plain("released"), "409": error_response("you do not hold the case")}}},
        "/v1/review/cases/{id}/comments": {"post": {
            "summary": "Comment on a case: `applicant` comments are shown to the applicant (only by the reviewer holding the case, or a supervisor), `internal` ones never",
            "security": reviewer, "parameters": [id_param("id")], "requestBody": json_body("NewComment"),
            "responses": {"201": plain("stored"), "400": error_response("invalid visibility or body"),
                "409": error_response("not_holder: claim the case to write to the applicant")}}},
        "/v1/review/cases/{id}/decision": {"post": {
            "summary": "Decide a claimed case: approve, or retry/reject with reason codes",
            "description": "A rejection needs a FINAL reason and a retry takes none (`reason_type_mismatch`); only a case the automated checks decided can be approved (`not_checked`). A retry inside a cooldown sets the case's `retry_after`. Approving a case with SANCTIONS_MATCH or PEP_MATCH findings judges those matches false for this applicant: they are not raised again until the listed entity's record changes; confirming one is a `reject` with its code. From the console (session cookie), a rejection needs the password and second factor proved within `console.fresh_auth_secs` (`POST /console/v1/reauth`).",
            "security": reviewer, "parameters": [id_param("id")], "requestBody": json_body("ReviewDecision"),
            "responses": {"200": plain("the new status"), "400": error_response("invalid decision or reasons, or reason_type_mismatch"),
                "403": error_response("reauthentication_required (console sessions)"),
                "409": error_response("not claimed by you, not in review, not_checked, or the document is verified on another account")}}},
        "/v1/review/change-requests": {"get": {
            "summary": "Change requests waiting for a reviewer: current and requested data, what changes, the checks' findings, the new document's pages and the first approval", "security": reviewer,
            "responses": {"200": plain("`change_requests`")}}},
        "/v1/review/change-requests/{id}/documents/{doc}/image": {"get": {
            "summary": "A change request's document image, decrypted (the view is audited)", "security": reviewer,
            "parameters": [id_param("id"), id_param("doc")],
            "responses": {"200": plain("the image as uploaded"), "404": error_response("no such document")}}},
        "/v1/review/change-requests/{id}/decision": {"post": {
            "summary": "Approve or reject a change request; identity changes need two different reviewers",
            "description": "The final approval makes the data the verified data and verifies the new identity keys for the account.",
            "security": reviewer, "parameters": [id_param("id")],
            "requestBody": {"required": true, "content": {"application/json": {"schema": {"type": "object", "required": ["decision"],
                "properties": {"decision": {"type": "string", "enum": ["approve", "reject"]}, "comment": {"type": "string"}}}}}},
            "responses": {"200": plain("the new status"), "409": error_response("not waiting for a reviewer, second_reviewer_required, or duplicate_identity")}}}
    })
}

fn review_schemas() -> Value {
    json!({
        "EnteredData": {"type": "object", "required": ["nationality", "document", "name"], "additionalProperties": false, "properties": {
            "nationality": {"type": "string", "description": "ISO 3166-1 alpha-2"},
            "subdivision": {"type": "string", "description": "ISO 3166-2 code of the region of residence, where known"},
            "document": {"type": "object", "required": ["country", "type", "number"], "properties": {
                "country": {"type": "string", "description": "issuing country, alpha-2"},
                "type": {"type": "string", "enum": identity_kinds()}, "number": {"type": "string"}}},
            "name": {"type": "object", "properties": {"given": {"type": "string"}, "family": {"type": "string"},
                "local": {"type": "string", "description": "the name in the local script, e.g. Chinese characters"}}},
            "birth_date": {"type": "string", "format": "date"}, "address": {"type": "string"}}},
        "NewChangeRequest": {"type": "object", "required": ["data", "reason"], "properties": {
            "data": {"$ref": "#/components/schemas/EnteredData"}, "reason": {"type": "string"}}},
        "ChangeRequest": {"type": "object", "properties": {"id": {"type": "string"}, "applicant_id": {"type": "string"},
            "reason": {"type": "string"}, "status": {"type": "string", "enum": idgate_core::ChangeStatus::ALL.map(|s| s.as_str())},
            "changes": {"type": "array", "items": {"type": "string"}, "description": "the fields that change"},
            "second_approval": {"type": "boolean", "description": "two different reviewers must approve"},
            "needs": {"type": "array", "items": {"type": "string", "enum": ["document", "reviewer"]}},
            "reasons": {"type": "array", "items": {"$ref": "#/components/schemas/Reason"}, "description": "what the checks found"},
            "comment": {"type": "string", "nullable": true}, "created_at": {"type": "string", "format": "date-time"},
            "decided_at": {"type": "string", "format": "date-time", "nullable": true}}},
        "NewReviewer": {"type": "object", "required": ["name", "role"], "properties": {"name": {"type": "string"},
            "role": {"type": "string", "enum": roles()}}},
        "NewComment": {"type": "object", "required": ["visibility", "body"], "properties": {
            "visibility": {"type": "string", "enum": ["applicant", "internal"]}, "body": {"type": "string"}}},
        "ReviewDecision": {"type": "object", "required": ["decision"], "properties": {
            "decision": {"type": "string", "enum": ["approve", "retry", "reject"]},
            "reasons": {"type": "array", "items": {"type": "string"}, "description": "reason codes; none for an approval"},
            "applicant_comment": {"type": "string"}, "internal_comment": {"type": "string"}}}
    })
}

fn base() -> Value {
    json!({
        "openapi": "3.0.3",
        "info": {
            "title": "idgate",
            "version": env!("CARGO_PKG_VERSION"),
            "description": "Self-hostable identity verification. Authenticate with `Authorization: Bearer <API key>`."
        },
        "security": [{"apiKey": []}],
        "paths": {
            "/healthz": {"get": {"summary": "As `/readyz` (what `idgate healthcheck` asks)", "security": [],
                "responses": {"200": {"description": "ready"}, "503": {"description": "not ready"}}}},
            "/metrics": {"get": {"summary": "Prometheus metrics", "security": [],
                "responses": {"200": {"description": "text exposition format", "content": {"text/plain": {}}}}}},
            "/openapi.json": {"get": {"summary": "This document", "security": [],
                "responses": {"200": {"description": "OpenAPI 3 document"}}}},
            "/v1/applicants": {"post": {
                "summary": "Create the applicant for a platform account",
                "requestBody": {"required": true, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/NewApplicant"}}}},
                "responses": {"201": ok("created", "Applicant"), "400": error_response("invalid input"),
                    "401": error_response("missing or unknown API key"), "409": error_response("the uid already has an applicant")}}},
            "/v1/applicants/{id}": {"get": {
                "summary": "Get an applicant", "parameters": [id_param("id")],
                "responses": {"200": ok("the applicant", "Applicant"), "404": error_response("no such applicant")}}},
            "/v1/applicants/{id}/cases": {"post": {
                "summary": "Start a verification case (attempt) for a level", "parameters": [id_param("id")],
                "requestBody": {"required": false, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/NewCase"}}}},
                "responses": {"201": ok("created, status draft", "Case"), "400": error_response("invalid_level: not a level of the policy"),
                    "404": error_response("no such applicant"),
                    "429": error_response("too_many_attempts: a cooldown applies; `retry_after` in the error and a Retry-After header")}}},
            "/v1/reasons": {"get": {
                "summary": "Every reason code with this deployment's reject type and its message and fix in each language", "security": [],
                "responses": {"200": plain("`reasons`: code, reject_type, default_reject_type, texts.{en,zh-Hans}.{message,fix}")}}},
            "/v1/cases/{id}/documents/{doc}": {"delete": {
                "summary": "Remove a wrong upload from a draft case", "parameters": [id_param("id"), id_param("doc")],
                "responses": {"204": plain("removed, with its encrypted image"), "404": error_response("no such case or document"),
                    "409": error_response("the case is no longer a draft")}}},
            "/v1/cases/{id}": {"get": {
                "summary": "Case status, reasons (`?lang=zh-Hans` for Simplified Chinese), documents and applicant-visible comments", "parameters": [id_param("id"),
                    {"name": "lang", "in": "query", "required": false, "schema": {"type": "string", "enum": ["en", "zh-Hans"]}}],
                "responses": {"200": ok("the case", "Case"), "404": error_response("no such case")}}},
            "/v1/cases/{id}/events": {"get": {
                "summary": "Audit trail of a case", "parameters": [id_param("id")],
                "responses": {"200": ok("events, oldest first", "Events"), "404": error_response("no such case")}}},
            "/v1/cases/{id}/documents": {"post": {
                "summary": "Upload a document image to a draft case",
                "description": "The file type is read from its content; a PDF only for a proof of address. Oversized files and images with too many pixels are refused before decoding, and the image must decode whole. Each field once. A new upload of the same kind and side replaces the earlier one (`replaces`).",
                "parameters": [id_param("id")],
                "requestBody": {"required": true, "content": {"multipart/form-data": {"schema": {
                    "type": "object", "required": ["kind", "file"],
                    "properties": {
                        "kind": {"type": "string", "enum": upload_kinds()},
                        "side": {"type": "string", "enum": sides()},
                        "file": {"type": "string", "format": "binary"}}}}}},
                "responses": {"201": ok("stored, encrypted at rest", "Document"),
                    "400": error_response("missing, repeated or invalid form field; empty_file"), "404": error_response("no such case"),
                    "409": error_response("the case is no longer a draft"), "413": error_response("file_too_large"),
                    "415": error_response("unsupported_file_type: not a supported image (or a PDF where a photo is needed)"),
                    "422": error_response("unreadable_image (damaged or truncated), unreadable_file (a truncated PDF) or image_too_large")}}},
            "/v1/cases/{id}/liveness": {"post": {
                "summary": "Issue an active liveness challenge for a draft case",
                "description": "The movements turn_left, turn_right and blink in a random order, to be answered within two minutes by one frame sequence. The shipped policy requires a passed challenge for the selfie step.",
                "parameters": [id_param("id")],
                "responses": {"200": {"description": "the challenge", "content": {"application/json": {"schema": {"type": "object",
                    "properties": {"id": {"type": "string"}, "actions": {"type": "array", "items": {"type": "string", "enum": ["turn_left", "turn_right", "blink"]}},
                        "issued_at": {"type": "string", "format": "date-time"}, "expires_at": {"type": "string", "format": "date-time"},
                        "frames": {"type": "object", "description": "min, max, max_gap_ms, min_span_ms, max_span_ms"}}}}}},
                    "404": error_response("no such case"), "409": error_response("the case is no longer a draft")}}},
            "/v1/cases/{id}/liveness/{challenge}": {"post": {
                "summary": "Answer a liveness challenge with the recorded frames",
                "description": "Frames as the camera records them (not mirrored), in order, with their capture times. Every frame must show one face, the same face, performing the movements in the order asked; no frame may have been sent before; with the document already uploaded, every frame must show its holder. A passed sequence's most frontal open-eyed frame becomes the case's selfie, matched with the document portrait after submission.",
                "parameters": [id_param("id"), id_param("challenge")],
                "requestBody": {"required": true, "content": {"multipart/form-data": {"schema": {
                    "type": "object", "required": ["frame", "timestamps_ms"],
                    "properties": {
                        "frame": {"type": "array", "items": {"type": "string", "format": "binary"}, "description": "4 to 40 JPEG, PNG or WebP frames, at most 2 MiB each"},
                        "timestamps_ms": {"type": "string", "description": "capture times in ms, comma-separated, one per frame"}}}}}},
                "responses": {"200": {"description": "passed, or failed with LIVENESS_FAILED or LIVENESS_TIMEOUT and the reason", "content": {"application/json": {"schema": {"type": "object",
                    "properties": {"status": {"type": "string", "enum": ["passed", "failed"]}, "code": {"type": "string"}, "message": {"type": "string"}, "fix": {"type": "string"}, "failure": {"type": "string"}, "judgement": {"type": "object"}}}}}},
                    "400": error_response("a client mistake, which leaves the challenge usable: missing frames or timestamps, invalid_frames (fewer than 4 or more than 40), invalid_timestamps (not one per frame, or not increasing)"), "404": error_response("no such case or challenge"),
                    "409": error_response("the challenge was answered already, or the case is no longer a draft"), "413": error_response("a frame is too large"),
                    "415": error_response("a frame is not a JPEG, PNG or WebP image")}}},
            "/v1/precheck": {"post": {
                "summary": "Check a document photo before submitting it (nothing is stored)",
                "description": "The quality gate of `idgate check`: originality (black-and-white, screenshot, photo of a screen, photocopy), document outline and corners, exposure, focus, glare and resolution, on a reduced decode; the MRZ is read after submission. The body is the image itself; its type is read from its content.",
                "requestBody": {"required": true, "content": {"application/octet-stream": {"schema": {"type": "string", "format": "binary"}}}},
                "responses": {"200": ok("the verdict, with every reason's code, message, fix, detail and region", "PhotoCheck"),
                    "400": error_response("empty_file"), "413": error_response("file_too_large"),
                    "415": error_response("unsupported_file_type"),
                    "422": error_response("unreadable_image or image_too_large")}}},
            "/v1/entitlements/{uid}": {"get": {
                "summary": "What a platform account may do now: its level, verified steps and entitlements", "parameters": [id_param("uid")],
                "responses": {"200": ok("level (null before any), verified_steps, entitlements", "Entitlements")}}},
            "/v1/cases/{id}/submit": {"post": {
                "summary": "Submit a draft case for processing", "parameters": [id_param("id")],
                "responses": {"202": ok("queued for processing", "Case"), "404": error_response("no such case"),
                    "409": error_response("not a draft"), "422": error_response("no documents uploaded, no entered data, or `missing_step`: the level needs the face step and there is neither a passed liveness challenge nor a selfie")}}}
        },
        "components": {
            "securitySchemes": {"apiKey": {"type": "http", "scheme": "bearer"},
                "reviewerToken": {"type": "http", "scheme": "bearer", "description": "a reviewer's idr_ token; the review API also takes the console's session cookie (with X-CSRF-Token on state changes)"},
                "consoleSession": {"type": "apiKey", "in": "cookie", "name": "idgate_console", "description": "the reviewer console's session (HttpOnly, SameSite=Strict)"},
                "sessionToken": {"type": "http", "scheme": "bearer", "description": "an applicant session's igs_ token (the hosted flow)"}},
            "schemas": {
                "CatalogEntry": {"type": "object", "required": ["code", "alpha3", "name", "supported", "documents"], "properties": {
                    "code": {"type": "string"}, "alpha3": {"type": "string"}, "name": {"type": "string"},
                    "supported": {"type": "boolean", "description": "residents of this country can be verified"},
                    "documents": {"type": "array", "items": {"type": "object", "required": ["kind", "sides", "mrz"], "properties": {
                        "kind": {"type": "string", "enum": ["passport", "national_id", "drivers_license", "residence_permit", "international_driving_permit"]},
                        "sides": {"type": "array", "items": {"type": "string"}}, "mrz": {"type": "boolean"}}}},
                    "unsupported_subdivisions": {"type": "array", "items": {"type": "string"}}}},
                "Entitlements": {"type": "object", "required": ["uid", "level", "verified_steps", "entitlements"], "properties": {
                    "uid": {"type": "string"}, "level": {"type": ["string", "null"]},
                    "verified_steps": {"type": "array", "items": {"type": "string", "enum": ["identity_document", "selfie", "proof_of_address"]}},
                    "entitlements": {"type": "object", "properties": {"deposit": {"type": "boolean"}, "trade": {"type": "boolean"},
                        "p2p": {"type": "boolean"}, "withdraw": {"type": "boolean"}, "withdraw_limit_usd_per_day": {"type": "integer"}}}}},
                "Error": {"type": "object", "required": ["error"], "description": "Every error answer, 404, 405 and 413 included; one code per problem on every route.",
                    "properties": {"error": {"type": "object",
                    "required": ["code", "message"], "properties": {"code": {"type": "string"}, "message": {"type": "string"},
                        "retry_after": {"type": "string", "format": "date-time", "description": "with 429: when to try again"}}}}},
                "PhotoCheck": {"type": "object", "required": ["verdict", "reasons", "timings_ms"], "properties": {
                    "verdict": {"type": "string", "enum": ["pass", "retry", "review"]},
                    "reasons": {"type": "array", "items": {"type": "object", "required": ["code", "message", "fix", "detail"], "properties": {
                        "code": {"type": "string"}, "message": {"type": "string"}, "fix": {"type": "string"},
                        "detail": {"type": "object"},
                        "region": {"type": "array", "items": {"type": "integer"}, "minItems": 4, "maxItems": 4, "description": "x, y, w, h in the uploaded image's pixels"}}}},
                    "document": {"type": "object", "properties": {"corners": {"type": "array", "items": {"type": "array", "items": {"type": "number"}}, "description": "top-left, top-right, bottom-right, bottom-left"}}},
                    "measures": {"type": "object", "additionalProperties": {"type": "number"}},
                    "timings_ms": {"type": "object", "additionalProperties": {"type": "number"}}}},
                "NewApplicant": {"type": "object", "required": ["uid", "region"], "additionalProperties": false, "properties": {
                    "uid": {"type": "string", "description": "the platform's account id"},
                    "region": {"type": "string", "pattern": "^[A-Z]{2}$", "description": "region of residence chosen at sign-up (ISO 3166-1 alpha-2)"}}},
                "Applicant": {"type": "object", "required": ["id", "uid", "region", "created_at"], "properties": {
                    "id": {"type": "string"}, "uid": {"type": "string"}, "region": {"type": "string"},
                    "verified_data": {"description": "the entered data of the approved case, or of an approved change request; null before",
                        "nullable": true, "allOf": [{"$ref": "#/components/schemas/EnteredData"}]},
                    "created_at": {"type": "string", "format": "date-time", "description": "RFC 3339, UTC"}}},
                "NewCase": {"type": "object", "additionalProperties": false, "properties": {"level": {"type": "string", "default": "basic"}}},
                "Reason": {"type": "object", "required": ["code", "reject_type", "message", "fix"], "properties": {
                    "code": {"type": "string", "description": "stable reason code, e.g. GLARE"},
                    "reject_type": {"type": "string", "enum": ["RETRY", "FINAL", "REVIEW"]},
                    "message": {"type": "string"}, "fix": {"type": "string"}}},
                "Document": {"type": "object", "required": ["id", "kind", "side", "content_type", "size_bytes", "sha256", "created_at"], "properties": {
                    "id": {"type": "string"}, "kind": {"type": "string"}, "side": {"type": "string"},
                    "content_type": {"type": "string"}, "size_bytes": {"type": "integer"}, "sha256": {"type": "string"},
                    "width": {"type": "integer", "nullable": true}, "height": {"type": "integer", "nullable": true},
                    "created_at": {"type": "string", "format": "date-time"}}},
                "Case": {"type": "object", "required": ["id", "applicant_id", "level", "status", "reasons", "documents", "created_at", "updated_at"], "properties": {
                    "id": {"type": "string"}, "applicant_id": {"type": "string"}, "level": {"type": "string"},
                    "status": {"type": "string", "enum": idgate_core::CaseStatus::ALL.map(|s| s.as_str())},
                    "origin": {"type": "string", "enum": ["applicant", "monitoring"], "description": "`monitoring`: a review opened because a sanctions or PEP list changed after the approval"},
                    "reasons": {"type": "array", "items": {"$ref": "#/components/schemas/Reason"}},
                    "documents": {"type": "array", "items": {"$ref": "#/components/schemas/Document"}},
                    "data_entered": {"type": "boolean"},
                    "comments": {"type": "array", "description": "reviewer comments meant for the applicant",
                        "items": {"type": "object", "properties": {"body": {"type": "string"}, "at": {"type": "string", "format": "date-time"}}}},
                    "retry_after": {"type": "string", "format": "date-time", "nullable": true, "description": "when the applicant may try again, while a cooldown applies"},
                    "created_at": {"type": "string", "format": "date-time"}, "updated_at": {"type": "string", "format": "date-time"}}},
                "Events": {"type": "object", "required": ["events"], "properties": {"events": {"type": "array", "items": {
                    "type": "object", "required": ["seq", "actor", "action", "at"], "properties": {
                        "seq": {"type": "integer"}, "actor": {"type": "string"}, "action": {"type": "string"},
                        "from_status": {"type": "string", "nullable": true}, "to_status": {"type": "string", "nullable": true},
                        "at": {"type": "string", "format": "date-time"}}}}}}
            }
        }
    })
}

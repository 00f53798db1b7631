//! The OpenAPI 3 document for the HTTP API, built here next to the handlers. A test
//! compares it with the committed `openapi.json`; `idgate openapi` prints it.

use serde_json::{json, Value};

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
    json!({
        "openapi": "3.0.3",
        "info": {
            "title": "idgate",
            "version": env!("CARGO_PKG_VERSION"),
            "description": "Self-hostable identity verification. Authenticate with `Authorization: Bearer <API key>`."
        },
        "security": [{"apiKey": []}],
        "paths": {
            "/healthz": {"get": {"summary": "Liveness and database reachability", "security": [],
                "responses": {"200": {"description": "healthy"}, "503": {"description": "database unreachable"}}}},
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
                "responses": {"201": ok("created, status draft", "Case"), "400": error_response("invalid level"),
                    "404": error_response("no such applicant")}}},
            "/v1/cases/{id}": {"get": {
                "summary": "Case status, reasons and documents", "parameters": [id_param("id")],
                "responses": {"200": ok("the case", "Case"), "404": error_response("no such case")}}},
            "/v1/cases/{id}/events": {"get": {
                "summary": "Audit trail of a case", "parameters": [id_param("id")],
                "responses": {"200": ok("events, oldest first", "Events"), "404": error_response("no such case")}}},
            "/v1/cases/{id}/documents": {"post": {
                "summary": "Upload a document image to a draft case",
                "description": "The file type is read from its content. Oversized files and images with too many pixels are refused before decoding.",
                "parameters": [id_param("id")],
                "requestBody": {"required": true, "content": {"multipart/form-data": {"schema": {
                    "type": "object", "required": ["kind", "file"],
                    "properties": {
                        "kind": {"type": "string", "enum": crate::api::DOCUMENT_KINDS},
                        "side": {"type": "string", "enum": crate::api::SIDES},
                        "file": {"type": "string", "format": "binary"}}}}}},
                "responses": {"201": ok("stored, encrypted at rest", "Document"),
                    "400": error_response("missing or invalid form field"), "404": error_response("no such case"),
                    "409": error_response("the case is no longer a draft"), "413": error_response("file too large"),
                    "415": error_response("not a supported image or PDF"), "422": error_response("damaged header or too many pixels")}}},
            "/v1/precheck": {"post": {
                "summary": "Check a document photo before submitting it (nothing is stored)",
                "description": "The quality gate of `idgate check`: originality (black-and-white, screenshot, photo of a screen, photocopy), document outline and corners, exposure, focus, glare and resolution, on a reduced decode; the MRZ is read after submission. The body is the image itself; its type is read from its content.",
                "requestBody": {"required": true, "content": {"application/octet-stream": {"schema": {"type": "string", "format": "binary"}}}},
                "responses": {"200": ok("the verdict, with every reason's code, message, fix, detail and region", "PhotoCheck"),
                    "413": error_response("file too large"),
                    "422": error_response("not a supported image, damaged, or too many pixels")}}},
            "/v1/catalog": {"get": {
                "summary": "Every ISO 3166-1 country: served or not, and the accepted documents with their sides",
                "responses": {"200": {"description": "the catalog", "content": {"application/json": {"schema": {"type": "object",
                    "properties": {"countries": {"type": "array", "items": {"$ref": "#/components/schemas/CatalogEntry"}}}}}}}}}},
            "/v1/catalog/{country}": {"get": {
                "summary": "One country's accepted documents (the applicant UI's dropdown)", "parameters": [id_param("country")],
                "responses": {"200": ok("the country's entry, with unsupported subdivisions", "CatalogEntry"),
                    "404": error_response("not an ISO 3166-1 alpha-2 code")}}},
            "/v1/entitlements/{uid}": {"get": {
                "summary": "What a platform account may do now: its level, verified steps and entitlements", "parameters": [id_param("uid")],
                "responses": {"200": ok("level (null before any), verified_steps, entitlements", "Entitlements")}}},
            "/v1/cases/{id}/submit": {"post": {
                "summary": "Submit a draft case for processing", "parameters": [id_param("id")],
                "responses": {"202": ok("queued for processing", "Case"), "404": error_response("no such case"),
                    "409": error_response("not a draft"), "422": error_response("no documents uploaded")}}}
        },
        "components": {
            "securitySchemes": {"apiKey": {"type": "http", "scheme": "bearer"}},
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
                "Error": {"type": "object", "required": ["error"], "properties": {"error": {"type": "object",
                    "required": ["code", "message"], "properties": {"code": {"type": "string"}, "message": {"type": "string"}}}}},
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
                    "created_at": {"type": "integer", "description": "milliseconds since the Unix epoch"}}},
                "NewCase": {"type": "object", "additionalProperties": false, "properties": {"level": {"type": "string", "default": "basic"}}},
                "Reason": {"type": "object", "required": ["code", "reject_type", "message", "fix"], "properties": {
                    "code": {"type": "string", "description": "stable reason code, e.g. GLARE"},
                    "reject_type": {"type": "string", "enum": ["RETRY", "FINAL", "REVIEW"]},
                    "message": {"type": "string"}, "fix": {"type": "string"}}},
                "Document": {"type": "object", "required": ["id", "kind", "side", "content_type", "size_bytes", "sha256", "created_at"], "properties": {
                    "id": {"type": "string"}, "kind": {"type": "string"}, "side": {"type": "string"},
                    "content_type": {"type": "string"}, "size_bytes": {"type": "integer"}, "sha256": {"type": "string"},
                    "width": {"type": "integer", "nullable": true}, "height": {"type": "integer", "nullable": true},
                    "created_at": {"type": "integer"}}},
                "Case": {"type": "object", "required": ["id", "applicant_id", "level", "status", "reasons", "documents", "created_at", "updated_at"], "properties": {
                    "id": {"type": "string"}, "applicant_id": {"type": "string"}, "level": {"type": "string"},
                    "status": {"type": "string", "enum": idgate_core::CaseStatus::ALL.map(|s| s.as_str())},
                    "reasons": {"type": "array", "items": {"$ref": "#/components/schemas/Reason"}},
                    "documents": {"type": "array", "items": {"$ref": "#/components/schemas/Document"}},
                    "created_at": {"type": "integer"}, "updated_at": {"type": "integer"}}},
                "Events": {"type": "object", "required": ["events"], "properties": {"events": {"type": "array", "items": {
                    "type": "object", "required": ["seq", "actor", "action", "at"], "properties": {
                        "seq": {"type": "integer"}, "actor": {"type": "string"}, "action": {"type": "string"},
                        "from_status": {"type": "string", "nullable": true}, "to_status": {"type": "string", "nullable": true},
                        "at": {"type": "integer"}}}}}}
            }
        }
    })
}

//! The reviewer console's page: one HTML page, its ES module, its stylesheet and its two
//! message catalogues, compiled into the binary (`crates/idgate-server/console/`). It may
//! not be framed by anyone, uses no camera, and talks to `/console/v1` (sign-in) and
//! `/v1/review` (the work) with its session cookie ([`crate::http::console`]).

use crate::http::flow::{page_headers, pick_lang, PageQuery};
use crate::http::ApiError;
use crate::state::Shared;
use axum::extract::{Path, Query};
use axum::http::{header, HeaderMap};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::json;

const PAGE: &str = include_str!("../../console/index.html");

/// (name, content type, body)
pub(crate) const ASSETS: &[(&str, &str, &str)] = &[
    (
        "app.js",
        "text/javascript; charset=utf-8",
        include_str!("../../console/app.js"),
    ),
    (
        "case.js",
        "text/javascript; charset=utf-8",
        include_str!("../../console/case.js"),
    ),
    (
        "dom.js",
        "text/javascript; charset=utf-8",
        include_str!("../../pages/dom.js"),
    ),
    (
        "app.css",
        "text/css; charset=utf-8",
        include_str!("../../console/app.css"),
    ),
    (
        "en.json",
        "application/json",
        include_str!("../../console/i18n/en.json"),
    ),
    (
        "zh-Hans.json",
        "application/json",
        include_str!("../../console/i18n/zh-Hans.json"),
    ),
];

fn secure(headers: &mut HeaderMap) {
    page_headers(
        headers,
        "'none'",
        "camera=(), microphone=(), geolocation=(), publickey-credentials-get=(self), \
         publickey-credentials-create=(self)",
    );
}

/// `GET /console`: the page, in the language asked for (an invitation's token is in the
/// link's fragment, which the browser never sends).
pub async fn page(Query(q): Query<PageQuery>, headers: HeaderMap) -> Response {
    let accept = headers
        .get(header::ACCEPT_LANGUAGE)
        .and_then(|v| v.to_str().ok());
    let lang = pick_lang(q.lang(), accept);
    let mut res = (
        [
            (header::CONTENT_TYPE, "text/html; charset=utf-8"),
            (header::CACHE_CONTROL, "no-store"),
        ],
        PAGE.replace("{{lang}}", lang),
    )
        .into_response();
    secure(res.headers_mut());
    res
}

/// `GET /console/assets/{name}`.
pub async fn asset(Path(name): Path<String>, req: HeaderMap) -> Response {
    let Some((_, content_type, body)) = ASSETS.iter().find(|(n, _, _)| *n == name) else {
        return ApiError::not_found("asset").into_response();
    };
    let mut res = crate::http::assets::asset(&format!("console/{name}"), content_type, body, &req);
    secure(res.headers_mut());
    res
}

/// `GET /console/v1/meta`: what the console's forms offer — the policy's levels, the roles
/// and the reason codes each decision may carry.
pub async fn meta(
    axum::extract::State(s): axum::extract::State<Shared>,
) -> Json<serde_json::Value> {
    let levels: Vec<&str> = s.policy.levels.iter().map(|l| l.name.as_str()).collect();
    Json(json!({
        "levels": levels,
        "roles": idgate_core::ReviewerRole::ALL.map(|r| r.as_str()),
        "fresh_auth_secs": s.console.fresh_auth_secs,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn asset(name: &str) -> &'static str {
        ASSETS.iter().find(|(n, _, _)| *n == name).unwrap().2
    }

    fn catalogue(lang: &str) -> serde_json::Map<String, serde_json::Value> {
        serde_json::from_str(asset(&format!("{lang}.json"))).unwrap()
    }

    #[test]
    fn both_catalogues_have_the_same_keys_and_every_key_the_script_names() {
        let en = catalogue("en");
        let js = &format!("{}\n{}", asset("app.js"), asset("case.js"));
        // `t("key")` calls and `"prefix.name"` literals.
        let mut keys: Vec<&str> = Vec::new();
        for (i, _) in js.match_indices("t(\"") {
            let before = js[..i].chars().next_back().unwrap_or(' ');
            if !(before.is_alphanumeric() || before == '_' || before == '.') {
                let rest = &js[i + 3..];
                keys.push(&rest[..rest.find('"').unwrap()]);
            }
        }
        for (n, lit) in js.split('"').enumerate() {
            if n % 2 == 1
                && lit.contains('.')
                && !lit.starts_with("idgate.")
                && !lit.starts_with('.')
                && lit
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c == '_' || c == '.')
            {
                keys.push(lit);
            }
        }
        assert!(keys.len() > 50, "{}", keys.len());
        // Words the server sends, shown through `tk(...)`.
        let mut words: Vec<String> = Vec::new();
        words.extend(
            idgate_core::ReviewerRole::ALL
                .iter()
                .map(|r| format!("role.{}", r.as_str())),
        );
        words.extend(
            idgate_core::CaseStatus::ALL
                .iter()
                .map(|k| format!("status.{}", k.as_str())),
        );
        words.extend(
            [
                idgate_core::RejectType::Retry,
                idgate_core::RejectType::Final,
                idgate_core::RejectType::Review,
            ]
            .iter()
            .map(|k| format!("type.{}", k.as_str())),
        );
        // The fields the case page compares, and the screening topics.
        words.extend(
            crate::http::evidence::FIELDS
                .iter()
                .map(|f| format!("compare.{f}")),
        );
        words.extend(["topic.sanction".to_string(), "topic.pep".to_string()]);
        // The liveness frames' labels: the movements, and the frames kept whatever was asked.
        words.extend(
            idgate_face::liveness::Action::ALL
                .iter()
                .map(|a| a.as_str())
                .chain(["first", "last", "best"])
                .map(|l| format!("shot.{l}")),
        );
        // The sign-in's own refusals, in the reviewer's language.
        words.extend(
            [
                "bad_credentials",
                "signin_throttled",
                "csrf",
                "cross_origin",
                "reauthentication_required",
                "wrong_code",
                "invite_used_or_expired",
                "password_too_short",
                "password_too_long",
                "password_too_common",
                "own_account",
                "not_holder",
            ]
            .map(|c| format!("error.{c}")),
        );
        for lang in crate::http::flow::LANGS {
            let cat = catalogue(lang);
            let missing: Vec<_> = en.keys().filter(|k| !cat.contains_key(*k)).collect();
            let extra: Vec<_> = cat.keys().filter(|k| !en.contains_key(*k)).collect();
            assert!(
                missing.is_empty() && extra.is_empty(),
                "{lang}: missing {missing:?}, extra {extra:?}"
            );
            let unnamed: Vec<_> = keys.iter().filter(|k| !cat.contains_key(**k)).collect();
            assert!(
                unnamed.is_empty(),
                "{lang}: not in the catalogue: {unnamed:?}"
            );
            let unworded: Vec<_> = words.iter().filter(|k| !cat.contains_key(*k)).collect();
            assert!(unworded.is_empty(), "{lang}: {unworded:?}");
            assert!(cat
                .values()
                .all(|v| v.as_str().is_some_and(|s| !s.trim().is_empty())));
        }
    }
}

//! The applicant's hosted flow: one HTML page, its ES module, its stylesheet and its two
//! message catalogues, all compiled into the binary (`crates/idgate-server/flow/`). No
//! CDN, no third-party script, no inline script or style: the Content-Security-Policy
//! allows only this origin. The page talks to the `/flow/v1` routes with the session token
//! from its link ([`crate::http::sessions`]).

use crate::state::Shared;
use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderMap, HeaderValue};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

const PAGE: &str = include_str!("../../flow/index.html");

/// (name, content type, body)
const ASSETS: &[(&str, &str, &str)] = &[
    (
        "app.js",
        "text/javascript; charset=utf-8",
        include_str!("../../flow/app.js"),
    ),
    (
        "dom.js",
        "text/javascript; charset=utf-8",
        include_str!("../../pages/dom.js"),
    ),
    (
        "app.css",
        "text/css; charset=utf-8",
        include_str!("../../flow/app.css"),
    ),
    (
        "en.json",
        "application/json",
        include_str!("../../flow/i18n/en.json"),
    ),
    (
        "zh-Hans.json",
        "application/json",
        include_str!("../../flow/i18n/zh-Hans.json"),
    ),
];

/// The languages the page speaks, as BCP 47 tags.
pub const LANGS: [&str; 2] = ["en", "zh-Hans"];

#[derive(Deserialize, Default)]
pub struct PageQuery {
    #[serde(default)]
    lang: Option<String>,
}

impl PageQuery {
    pub fn lang(&self) -> Option<&str> {
        self.lang.as_deref()
    }
}

/// The page's language: `?lang=` when it names one, else the first of the browser's
/// `Accept-Language` that the page speaks (any Chinese is Simplified), else English.
pub fn pick_lang(query: Option<&str>, accept: Option<&str>) -> &'static str {
    let of = |tag: &str| -> Option<&'static str> {
        let tag = tag.trim().to_ascii_lowercase();
        if tag.starts_with("zh") {
            Some("zh-Hans")
        } else if tag == "en" || tag.starts_with("en-") {
            Some("en")
        } else {
            None
        }
    };
    if let Some(l) = query.and_then(of) {
        return l;
    }
    let mut tags: Vec<(f32, &str)> = accept
        .unwrap_or("")
        .split(',')
        .filter_map(|part| {
            let mut it = part.split(';');
            let tag = it.next()?.trim();
            let q = it
                .find_map(|p| p.trim().strip_prefix("q="))
                .and_then(|q| q.parse().ok())
                .unwrap_or(1.0);
            (!tag.is_empty()).then_some((q, tag))
        })
        .collect();
    tags.sort_by(|a, b| b.0.total_cmp(&a.0));
    tags.into_iter().find_map(|(_, t)| of(t)).unwrap_or("en")
}

/// The headers every flow response carries: a strict policy (only this origin; framing
/// only by the configured embedding origins), no sniffing, no referrer.
fn secure(s: &crate::state::AppState, headers: &mut HeaderMap) {
    let ancestors = if s.flow.embed_origins.is_empty() {
        "'none'".to_string()
    } else {
        s.flow.embed_origins.join(" ")
    };
    page_headers(
        headers,
        &ancestors,
        "camera=(self), microphone=(), geolocation=()",
    );
}

/// The headers of a page served by idgate and its assets: the Content-Security-Policy
/// (this origin only; no inline script or style; framing by `frame_ancestors`), no
/// sniffing, no referrer, and the browser features the page may use.
pub(crate) fn page_headers(headers: &mut HeaderMap, frame_ancestors: &str, permissions: &str) {
    let csp = format!(
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' blob: data:; \
         media-src 'self' blob:; connect-src 'self'; form-action 'self'; base-uri 'none'; \
         frame-ancestors {frame_ancestors}"
    );
    let set = |h: &mut HeaderMap, k: header::HeaderName, v: &str| {
        if let Ok(v) = HeaderValue::from_str(v) {
            h.insert(k, v);
        }
    };
    set(headers, header::CONTENT_SECURITY_POLICY, &csp);
    set(headers, header::X_CONTENT_TYPE_OPTIONS, "nosniff");
    set(headers, header::REFERRER_POLICY, "no-referrer");
    set(
        headers,
        header::HeaderName::from_static("permissions-policy"),
        permissions,
    );
}

/// `GET /flow`: the page, in the language asked for. The session token is in the link's
/// fragment, which the browser never sends; the page reads it.
pub async fn page(
    State(s): State<Shared>,
    Query(q): Query<PageQuery>,
    headers: HeaderMap,
) -> Response {
    let accept = headers
        .get(header::ACCEPT_LANGUAGE)
        .and_then(|v| v.to_str().ok());
    let lang = pick_lang(q.lang.as_deref(), accept);
    let body = PAGE.replace("{{lang}}", lang);
    let mut res = (
        [
            (header::CONTENT_TYPE, "text/html; charset=utf-8"),
            (header::CACHE_CONTROL, "no-store"),
        ],
        body,
    )
        .into_response();
    secure(&s, res.headers_mut());
    res
}

/// `GET /flow/assets/{name}`: the page's script, stylesheet and catalogues.
pub async fn asset(State(s): State<Shared>, Path(name): Path<String>, req: HeaderMap) -> Response {
    let Some((_, content_type, body)) = ASSETS.iter().find(|(n, _, _)| *n == name) else {
        return crate::http::ApiError::not_found("asset").into_response();
    };
    let mut res = crate::http::assets::asset(&format!("flow/{name}"), content_type, body, &req);
    secure(&s, res.headers_mut());
    res
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_language_comes_from_the_query_then_the_browser() {
        assert_eq!(pick_lang(Some("zh-Hans"), Some("en")), "zh-Hans");
        assert_eq!(pick_lang(Some("fr"), Some("zh-CN,zh;q=0.9")), "zh-Hans");
        assert_eq!(
            pick_lang(None, Some("fr-FR, en;q=0.5, zh;q=0.8")),
            "zh-Hans"
        );
        assert_eq!(pick_lang(None, Some("de-DE,en-GB;q=0.7")), "en");
        assert_eq!(pick_lang(None, Some("de")), "en");
        assert_eq!(pick_lang(None, None), "en");
    }

    #[test]
    fn every_catalogue_has_every_key_of_the_english_one() {
        let cat = |name: &str| -> serde_json::Map<String, serde_json::Value> {
            let body = ASSETS.iter().find(|(n, _, _)| *n == name).unwrap().2;
            serde_json::from_str(body).unwrap()
        };
        let en = cat("en.json");
        assert!(en.len() > 40);
        for lang in LANGS {
            let other = cat(&format!("{lang}.json"));
            let missing: Vec<_> = en.keys().filter(|k| !other.contains_key(*k)).collect();
            let extra: Vec<_> = other.keys().filter(|k| !en.contains_key(*k)).collect();
            assert!(
                missing.is_empty() && extra.is_empty(),
                "{lang}: missing {missing:?}, extra {extra:?}"
            );
            assert!(other
                .values()
                .all(|v| v.as_str().is_some_and(|s| !s.trim().is_empty())));
        }
    }

    fn asset(name: &str) -> &'static str {
        ASSETS.iter().find(|(n, _, _)| *n == name).unwrap().2
    }

    /// The keys the script names: `t("key")` calls and `"prefix.name"` literals.
    fn keys_in_script() -> Vec<&'static str> {
        let js = asset("app.js");
        let mut keys = Vec::new();
        for (i, _) in js.match_indices("t(\"") {
            let before = js[..i].chars().next_back().unwrap_or(' ');
            if before.is_alphanumeric() || before == '_' || before == '.' {
                continue;
            }
            let rest = &js[i + 3..];
            keys.push(&rest[..rest.find('"').unwrap()]);
        }
        for (n, lit) in js.split('"').enumerate() {
            let looks_like_key = n % 2 == 1
                && lit.contains('.')
                && !lit.starts_with("idgate.")
                && lit
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c == '_' || c == '.');
            if looks_like_key {
                keys.push(lit);
            }
        }
        keys
    }

    #[test]
    fn every_message_the_script_names_is_in_every_catalogue() {
        let keys = keys_in_script();
        assert!(keys.len() > 60, "{}", keys.len());
        assert!(keys.contains(&"intro.start") && keys.contains(&"rules.glare"));
        for lang in LANGS {
            let cat: serde_json::Map<String, serde_json::Value> =
                serde_json::from_str(asset(&format!("{lang}.json"))).unwrap();
            let missing: Vec<_> = keys.iter().filter(|k| !cat.contains_key(**k)).collect();
            assert!(
                missing.is_empty(),
                "{lang}: not in the catalogue: {missing:?}"
            );
        }
    }

    /// The names the script builds from the server's words (`tk(`kind.${kind}`)`): every
    /// word the domain has, in every language.
    #[test]
    fn every_word_the_server_sends_has_a_message() {
        use idgate_decide::{DocKind, Side, Step, UploadKind};
        let mut keys: Vec<String> = Vec::new();
        keys.extend(DocKind::ALL.iter().map(|k| format!("kind.{}", k.as_str())));
        keys.extend(UploadKind::all().map(|k| format!("kind.{}", k.as_str())));
        keys.extend(Side::ALL.iter().map(|k| format!("side.{}", k.as_str())));
        keys.extend(Step::ALL.iter().map(|k| format!("step.{}", k.as_str())));
        keys.extend(
            idgate_core::CaseStatus::ALL
                .iter()
                .map(|k| format!("status.{}", k.as_str())),
        );
        keys.extend(
            idgate_face::liveness::Action::ALL
                .iter()
                .map(|k| format!("action.{}", k.as_str())),
        );
        for advice in idgate_face::guide::Advice::ALL {
            if advice == idgate_face::guide::Advice::TurnFurther {
                keys.push("hint.turn_further.turn_left".into());
                keys.push("hint.turn_further.turn_right".into());
            } else {
                keys.push(format!("hint.{}", advice.as_str()));
            }
        }
        for why in ["missing", "expired", "revoked", "offline"] {
            keys.push(format!("ended.{why}.title"));
            keys.push(format!("ended.{why}.lead"));
        }
        for lang in LANGS {
            let cat: serde_json::Map<String, serde_json::Value> =
                serde_json::from_str(asset(&format!("{lang}.json"))).unwrap();
            let missing: Vec<_> = keys.iter().filter(|k| !cat.contains_key(*k)).collect();
            assert!(missing.is_empty(), "{lang}: {missing:?}");
        }
    }
}

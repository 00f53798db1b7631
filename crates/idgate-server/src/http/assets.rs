//! The pages' assets as sent: compressed with gzip for a browser that accepts it (each
//! asset compressed once, on its first request, and kept), as written otherwise.

use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use flate2::write::GzEncoder;
use std::collections::HashMap;
use std::io::Write;
use std::sync::{Arc, Mutex, OnceLock};

/// Does the request's `Accept-Encoding` take gzip (not refused with `q=0`)?
fn takes_gzip(headers: &HeaderMap) -> bool {
    let Some(accept) = headers
        .get(header::ACCEPT_ENCODING)
        .and_then(|v| v.to_str().ok())
    else {
        return false;
    };
    accept.split(',').any(|part| {
        let mut it = part.split(';').map(str::trim);
        let coding = it.next().unwrap_or("");
        let refused = it.any(|p| {
            p.strip_prefix("q=")
                .and_then(|q| q.parse::<f32>().ok())
                .is_some_and(|q| q <= 0.0)
        });
        (coding.eq_ignore_ascii_case("gzip") || coding == "*") && !refused
    })
}

/// `body` compressed, computed once per `key` (a page's asset name).
fn gzipped(key: &str, body: &'static str) -> Arc<Vec<u8>> {
    static CACHE: OnceLock<Mutex<HashMap<String, Arc<Vec<u8>>>>> = OnceLock::new();
    let cache = CACHE.get_or_init(Mutex::default);
    if let Some(hit) = cache.lock().ok().and_then(|c| c.get(key).cloned()) {
        return hit;
    }
    let mut enc = GzEncoder::new(Vec::new(), flate2::Compression::best());
    // Writing to a Vec cannot fail.
    let packed = enc
        .write_all(body.as_bytes())
        .and_then(|()| enc.finish())
        .unwrap_or_default();
    let packed = Arc::new(packed);
    if let Ok(mut c) = cache.lock() {
        c.insert(key.to_string(), packed.clone());
    }
    packed
}

/// An asset's answer: `200` with its type, `no-cache` (revalidated, as a new binary may
/// serve new assets), `Vary: Accept-Encoding`, gzip where the browser takes it.
pub fn asset(
    key: &str,
    content_type: &'static str,
    body: &'static str,
    req: &HeaderMap,
) -> Response {
    let headers = [
        (header::CONTENT_TYPE, content_type),
        (header::CACHE_CONTROL, "no-cache"),
        (header::VARY, "Accept-Encoding"),
    ];
    let packed = takes_gzip(req)
        .then(|| gzipped(key, body))
        .filter(|p| !p.is_empty());
    match packed {
        Some(p) => {
            let mut res = (StatusCode::OK, headers, p.as_ref().clone()).into_response();
            res.headers_mut()
                .insert(header::CONTENT_ENCODING, HeaderValue::from_static("gzip"));
            res
        }
        None => (StatusCode::OK, headers, body).into_response(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;

    fn accept(v: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(header::ACCEPT_ENCODING, HeaderValue::from_str(v).unwrap());
        h
    }

    #[test]
    fn gzip_is_sent_only_where_it_is_accepted() {
        assert!(takes_gzip(&accept("gzip, deflate, br, zstd")));
        assert!(takes_gzip(&accept("br;q=1.0, GZIP;q=0.5")));
        assert!(takes_gzip(&accept("*")));
        assert!(!takes_gzip(&accept("gzip;q=0, br")));
        assert!(!takes_gzip(&accept("identity")));
        assert!(!takes_gzip(&HeaderMap::new()));
    }

    #[test]
    fn a_compressed_asset_unpacks_to_the_asset() {
        let body: &'static str = "export const x = 1;\n".repeat(200).leak();
        let packed = gzipped("test/x.js", body);
        assert!(
            packed.len() * 10 < body.len(),
            "{} of {}",
            packed.len(),
            body.len()
        );
        let mut out = String::new();
        flate2::read::GzDecoder::new(packed.as_slice())
            .read_to_string(&mut out)
            .unwrap();
        assert_eq!(out, body);
        assert!(Arc::ptr_eq(&packed, &gzipped("test/x.js", body)), "kept");
    }
}

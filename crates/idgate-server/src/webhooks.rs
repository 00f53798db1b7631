//! Webhooks to the platform. Every status change leaves a delivery in the store's outbox (in
//! the same transaction as the change); this dispatcher POSTs each one to the configured URL,
//! one subject's events in their order (`sequence` in the body), retries failures with
//! exponential backoff and logs every attempt (status code or failure class, duration).
//!
//! Signature: `X-Idgate-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256>`, the HMAC taken
//! under the webhook secret over `<t>.<raw body>`. The timestamp is the sending time of that
//! attempt, so a receiver that checks it against its clock (within [`DEFAULT_TOLERANCE_SECS`])
//! refuses a captured request replayed later. Receivers verify before parsing, and may use
//! the body's `id` to drop a redelivery they already processed.

use crate::state::Shared;
use hmac::{Hmac, Mac};
use idgate_store::{AttemptResult, Delivery, Envelope, RenderWebhook, WebhookEvent};
use serde_json::json;
use sha2::Sha256;
use std::time::{Duration, Instant};

pub const SIGNATURE_HEADER: &str = "x-idgate-signature";
/// How far a signature's timestamp may be from the receiver's clock (either way).
pub const DEFAULT_TOLERANCE_SECS: i64 = 300;

/// A delivery's body: `{"id", "type", "created_at", "sequence", "data"}`, with ids, the
/// platform's uid, statuses and reason codes only (no personal data). The store calls this
/// inside the transaction that makes the change.
pub fn render(env: &Envelope<'_>, event: &WebhookEvent<'_>) -> String {
    let data = match event {
        WebhookEvent::CaseStatusChanged {
            case,
            uid,
            previous,
        } => json!({
            "case_id": case.id,
            "applicant_id": case.applicant_id,
            "uid": uid,
            "level": case.level,
            "previous_status": previous.as_str(),
            "status": case.status.as_str(),
            "reasons": case.reasons.iter().map(|r| r.as_str()).collect::<Vec<_>>(),
            "retry_after": case.retry_after.map(idgate_core::rfc3339),
        }),
        WebhookEvent::ChangeRequestStatusChanged { request, uid } => json!({
            "change_request_id": request.id,
            "applicant_id": request.applicant_id,
            "uid": uid,
            "status": request.status.as_str(),
            "reasons": request.reasons.iter().map(|r| r.as_str()).collect::<Vec<_>>(),
        }),
        WebhookEvent::BusinessStatusChanged { business, previous } => json!({
            "business_id": business.id,
            "uid": business.data.uid,
            "previous_status": previous.as_str(),
            "status": business.status.as_str(),
        }),
        // Which list and entities; the names that met are for the reviewer only.
        WebhookEvent::ScreeningMatch {
            case,
            uid,
            source,
            version,
            entities,
        } => json!({
            "case_id": case.id,
            "applicant_id": case.applicant_id,
            "uid": uid,
            "reasons": case.reasons.iter().map(|r| r.as_str()).collect::<Vec<_>>(),
            "list": {"source": source, "version": version},
            "entities": entities,
        }),
    };
    json!({
        "id": env.id,
        "type": event.event_type(),
        "created_at": idgate_core::rfc3339(env.created_at),
        "sequence": env.sequence,
        "data": data,
    })
    .to_string()
}

/// [`render`] as the store takes it.
pub fn renderer() -> RenderWebhook {
    std::sync::Arc::new(render)
}

fn mac(secret: &[u8], t: i64, body: &[u8]) -> Hmac<Sha256> {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret).expect("HMAC takes any key length");
    mac.update(t.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    mac
}

/// The signature header for `body` sent at `t` (Unix seconds) under `secret`.
pub fn signature(secret: &[u8], t: i64, body: &[u8]) -> String {
    format!(
        "t={t},v1={}",
        hex::encode(mac(secret, t, body).finalize().into_bytes())
    )
}

/// Why a receiver refuses a delivery.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum SignatureError {
    #[error("the signature header is not `t=...,v1=...`")]
    Malformed,
    #[error("the signature's timestamp is {0} s away from now")]
    Stale(i64),
    #[error("the signature does not match the body")]
    Mismatch,
}

/// What a receiver does with the header: parse it, check the timestamp against `now` (Unix
/// seconds) within `tolerance_secs`, and compare the HMAC in constant time. Any `v1` entry
/// may match (several are sent while the secret is being rotated).
pub fn verify_signature(
    secret: &[u8],
    body: &[u8],
    header: &str,
    now: i64,
    tolerance_secs: i64,
) -> Result<(), SignatureError> {
    let mut t = None;
    let mut sigs = Vec::new();
    for part in header.split(',') {
        match part.trim().split_once('=') {
            Some(("t", v)) => t = v.parse::<i64>().ok(),
            Some(("v1", v)) => sigs.push(hex::decode(v).map_err(|_| SignatureError::Malformed)?),
            _ => {}
        }
    }
    let t = t.ok_or(SignatureError::Malformed)?;
    if sigs.is_empty() {
        return Err(SignatureError::Malformed);
    }
    if (now - t).abs() > tolerance_secs {
        return Err(SignatureError::Stale(now - t));
    }
    if sigs
        .iter()
        .any(|sig| mac(secret, t, body).verify_slice(sig).is_ok())
    {
        Ok(())
    } else {
        Err(SignatureError::Mismatch)
    }
}

pub struct Dispatcher {
    client: reqwest::Client,
    url: String,
    secret: Vec<u8>,
    max_attempts: i64,
    retry_base_ms: i64,
    lease_ms: i64,
}

impl Dispatcher {
    pub fn new(cfg: &crate::config::Webhook, secret: Vec<u8>) -> anyhow::Result<Dispatcher> {
        let timeout = Duration::from_secs(cfg.timeout_secs);
        Ok(Dispatcher {
            client: reqwest::Client::builder()
                .timeout(timeout)
                .redirect(reqwest::redirect::Policy::none())
                .build()?,
            url: cfg.url.clone(),
            secret,
            max_attempts: cfg.max_attempts,
            retry_base_ms: cfg.retry_base_ms,
            lease_ms: (cfg.timeout_secs as i64 + 5) * 1000,
        })
    }

    /// When the attempt after `attempts` failed ones should run.
    fn next_try(&self, attempts: i64, now_ms: i64) -> AttemptResult {
        if attempts >= self.max_attempts {
            return AttemptResult::GiveUp;
        }
        let wait = (self.retry_base_ms << (attempts - 1).clamp(0, 20)).min(3_600_000);
        AttemptResult::RetryAt(now_ms + wait)
    }

    /// Sends `d`, signed at `now_ms` (the store's clock).
    async fn send(&self, d: &Delivery, now_ms: i64) -> (Option<u16>, Option<&'static str>) {
        let sent = self
            .client
            .post(&self.url)
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .header(
                SIGNATURE_HEADER,
                signature(&self.secret, now_ms.div_euclid(1000), d.body.as_bytes()),
            )
            .header("x-idgate-event", &d.event_type)
            .header("x-idgate-sequence", d.seq.to_string())
            .header("x-idgate-delivery", &d.id)
            .body(d.body.clone())
            .send()
            .await;
        match sent {
            Ok(res) if res.status().is_success() => (Some(res.status().as_u16()), None),
            Ok(res) => (Some(res.status().as_u16()), Some("http_status")),
            Err(e) if e.is_timeout() => (None, Some("timeout")),
            Err(e) if e.is_connect() => (None, Some("connect")),
            Err(_) => (None, Some("request")),
        }
    }
}

/// Delivers due webhooks until shutdown.
pub async fn run(state: Shared, d: Dispatcher, mut shutdown: tokio::sync::watch::Receiver<bool>) {
    loop {
        if *shutdown.borrow() {
            return;
        }
        match state.store.claim_webhook(d.lease_ms).await {
            Ok(Some(delivery)) => {
                let started = Instant::now();
                let (status, error) = d.send(&delivery, state.store.now()).await;
                let took = started.elapsed().as_millis() as i64;
                let result = match error {
                    None => AttemptResult::Delivered,
                    Some(_) => d.next_try(delivery.attempts + 1, state.store.now()),
                };
                if let Some(class) = error {
                    tracing::warn!(delivery = %delivery.id, error = class, status = ?status, "webhook delivery failed");
                }
                if let Err(e) = state
                    .store
                    .record_webhook_attempt(&delivery.id, status, error, took, result)
                    .await
                {
                    tracing::error!(error = %e, "recording a webhook attempt failed");
                }
            }
            Ok(None) => {
                tokio::select! {
                    _ = tokio::time::sleep(Duration::from_millis(250)) => {}
                    _ = shutdown.changed() => {}
                }
            }
            Err(e) => {
                tracing::error!(error = %e, "claiming a webhook delivery failed");
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signatures_verify_only_for_the_same_body_secret_and_time() {
        let body = br#"{"id":"1","type":"case.status_changed"}"#;
        let t = 1_800_000_000;
        let sig = signature(b"secret", t, body);
        assert!(
            sig.starts_with("t=1800000000,v1=") && sig.len() == 16 + 64,
            "{sig}"
        );
        let ok = |h: &str, now: i64| verify_signature(b"secret", body, h, now, 300);
        assert_eq!(ok(&sig, t), Ok(()));
        assert_eq!(ok(&sig, t + 300), Ok(()));
        // A captured delivery replayed later is refused, whatever its body.
        assert_eq!(ok(&sig, t + 301), Err(SignatureError::Stale(301)));
        assert_eq!(
            verify_signature(b"other", body, &sig, t, 300),
            Err(SignatureError::Mismatch)
        );
        assert_eq!(
            verify_signature(b"secret", b"{}", &sig, t, 300),
            Err(SignatureError::Mismatch)
        );
        // A replay with a fresh timestamp but the old HMAC does not verify.
        let moved = sig.replace("t=1800000000", "t=1800000400");
        assert_eq!(ok(&moved, t + 400), Err(SignatureError::Mismatch));
        assert_eq!(ok("sha256=00", t), Err(SignatureError::Malformed));
        assert_eq!(ok("t=1800000000", t), Err(SignatureError::Malformed));
        // The signed payload is `t.body`: HMAC-SHA256("Jefe", "1.what do ya want...")
        // computed independently (Python's hmac module).
        assert_eq!(
            signature(b"Jefe", 1, b"what do ya want for nothing?"),
            format!("t=1,v1={}", hmac_reference())
        );
    }

    /// HMAC-SHA256 of "1.what do ya want for nothing?" under "Jefe", from Python 3:
    /// `hmac.new(b"Jefe", b"1.what do ya want for nothing?", "sha256").hexdigest()`.
    fn hmac_reference() -> &'static str {
        "a9049465ce89cfb8e9aac62333abda66f80e3403f51f57f6bae3c3a4485eca38"
    }

    #[test]
    fn retries_back_off_and_stop() {
        let d = Dispatcher {
            client: reqwest::Client::new(),
            url: "http://127.0.0.1:9/".into(),
            secret: vec![],
            max_attempts: 4,
            retry_base_ms: 1000,
            lease_ms: 1000,
        };
        assert_eq!(d.next_try(1, 0), AttemptResult::RetryAt(1000));
        assert_eq!(d.next_try(2, 0), AttemptResult::RetryAt(2000));
        assert_eq!(d.next_try(3, 0), AttemptResult::RetryAt(4000));
        assert_eq!(d.next_try(4, 0), AttemptResult::GiveUp);
    }
}

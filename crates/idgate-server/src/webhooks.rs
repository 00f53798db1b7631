//! Webhooks to the platform. Every status change leaves a delivery in the store's outbox (in
//! the same transaction as the change); this dispatcher POSTs each one to the configured URL
//! with `X-Idgate-Signature: sha256=<hex HMAC-SHA256 of the raw body>`, retries failures
//! with exponential backoff and logs every attempt (status code or failure class, duration).
//!
//! Receivers verify the signature over the exact bytes received before parsing, and may use
//! the body's `id` to drop a redelivery they already processed.

use crate::api::Shared;
use hmac::{Hmac, Mac};
use idgate_core::{Clock, SystemClock};
use idgate_store::{AttemptResult, Delivery};
use sha2::Sha256;
use std::path::Path;
use std::time::{Duration, Instant};

pub const SIGNATURE_HEADER: &str = "x-idgate-signature";

/// `sha256=` and the hex HMAC-SHA256 of `body` under `secret`.
pub fn signature(secret: &[u8], body: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret).expect("HMAC takes any key length");
    mac.update(body);
    format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
}

/// Checks a signature header in constant time (what a receiver does).
pub fn verify_signature(secret: &[u8], body: &[u8], header: &str) -> bool {
    let Some(digest) = header
        .strip_prefix("sha256=")
        .and_then(|h| hex::decode(h).ok())
    else {
        return false;
    };
    let mut mac = Hmac::<Sha256>::new_from_slice(secret).expect("HMAC takes any key length");
    mac.update(body);
    mac.verify_slice(&digest).is_ok()
}

/// The webhook secret in `path` (created with 32 random bytes, hex, 0600): shared with
/// the platform once, never logged.
pub fn load_or_create_secret(path: &Path) -> anyhow::Result<Vec<u8>> {
    let text = crate::secret_file(path)?;
    anyhow::ensure!(!text.trim().is_empty(), "{} is empty", path.display());
    Ok(text.trim().as_bytes().to_vec())
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

    async fn send(&self, d: &Delivery) -> (Option<u16>, Option<&'static str>) {
        let sent = self
            .client
            .post(&self.url)
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .header(SIGNATURE_HEADER, signature(&self.secret, d.body.as_bytes()))
            .header("x-idgate-event", &d.event_type)
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
                let (status, error) = d.send(&delivery).await;
                let took = started.elapsed().as_millis() as i64;
                let result = match error {
                    None => AttemptResult::Delivered,
                    Some(_) => d.next_try(delivery.attempts + 1, SystemClock.now_ms()),
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
    fn signatures_verify_only_for_the_same_body_and_secret() {
        let body = br#"{"id":"1","type":"case.status_changed"}"#;
        let sig = signature(b"secret", body);
        assert!(sig.starts_with("sha256=") && sig.len() == 7 + 64);
        assert!(verify_signature(b"secret", body, &sig));
        assert!(!verify_signature(b"other", body, &sig));
        assert!(!verify_signature(b"secret", b"{}", &sig));
        assert!(!verify_signature(b"secret", body, &sig[7..]));
        // RFC 4231 test case 2: HMAC-SHA256("Jefe", "what do ya want for nothing?").
        assert_eq!(
            signature(b"Jefe", b"what do ya want for nothing?"),
            "sha256=5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
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

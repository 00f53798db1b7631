//! Request rate limits per caller: a token bucket per API key and per applicant session,
//! holding a minute's allowance and refilled continuously, on the store's clock. A caller
//! over its allowance is answered 429 with `Retry-After` (when one more request will be
//! allowed) before any work is done. The buckets live in the process: with N API
//! processes behind a balancer a caller may make up to N times the allowance.

use std::collections::HashMap;
use std::sync::Mutex;

/// Buckets kept before idle ones (full again, so forgetting them changes nothing) are
/// dropped.
const PRUNE_ABOVE: usize = 10_000;

/// The buckets of one kind of caller.
#[derive(Default)]
pub struct Buckets {
    buckets: Mutex<HashMap<String, Bucket>>,
}

#[derive(Clone, Copy)]
struct Bucket {
    /// Requests still allowed, fractional while refilling.
    tokens: f64,
    /// When `tokens` was last brought up to date (ms).
    at_ms: i64,
}

impl Bucket {
    fn refilled(self, per_minute: u32, now_ms: i64) -> Bucket {
        let elapsed = (now_ms - self.at_ms).max(0) as f64;
        Bucket {
            tokens: (self.tokens + elapsed * f64::from(per_minute) / 60_000.0)
                .min(f64::from(per_minute)),
            at_ms: now_ms.max(self.at_ms),
        }
    }
}

impl Buckets {
    /// Takes one request from `caller`'s allowance of `per_minute` (0: no limit). `Err`
    /// holds how many milliseconds until the next request is allowed.
    pub fn take(&self, caller: &str, per_minute: u32, now_ms: i64) -> Result<(), i64> {
        if per_minute == 0 {
            return Ok(());
        }
        let mut buckets = self.buckets.lock().unwrap_or_else(|p| p.into_inner());
        if buckets.len() > PRUNE_ABOVE {
            buckets.retain(|_, b| b.refilled(per_minute, now_ms).tokens < f64::from(per_minute));
        }
        let full = Bucket {
            tokens: f64::from(per_minute),
            at_ms: now_ms,
        };
        let bucket = buckets.entry(caller.to_string()).or_insert(full);
        *bucket = bucket.refilled(per_minute, now_ms);
        if bucket.tokens >= 1.0 {
            bucket.tokens -= 1.0;
            Ok(())
        } else {
            let missing = 1.0 - bucket.tokens;
            Err((missing * 60_000.0 / f64::from(per_minute)).ceil() as i64)
        }
    }
}

/// The service's limiters.
#[derive(Default)]
pub struct RateLimiters {
    /// Per API key (its stored id).
    pub api_keys: Buckets,
    /// Per applicant session (its stored id).
    pub sessions: Buckets,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_minutes_allowance_then_one_request_per_refill() {
        let b = Buckets::default();
        for _ in 0..60 {
            assert_eq!(b.take("k", 60, 1_000), Ok(()));
        }
        // Empty: one request per second comes back.
        assert_eq!(b.take("k", 60, 1_000), Err(1_000));
        assert_eq!(b.take("k", 60, 1_400), Err(600));
        assert_eq!(b.take("k", 60, 2_000), Ok(()));
        assert_eq!(b.take("k", 60, 2_000), Err(1_000));
        // Another caller has its own allowance.
        assert_eq!(b.take("other", 60, 2_000), Ok(()));
        // A long pause refills to the allowance, not beyond it.
        for _ in 0..60 {
            assert_eq!(b.take("k", 60, 3_600_000), Ok(()));
        }
        assert!(b.take("k", 60, 3_600_000).is_err());
    }

    #[test]
    fn zero_means_no_limit_and_a_clock_going_back_grants_nothing() {
        let b = Buckets::default();
        for _ in 0..1_000 {
            assert_eq!(b.take("k", 0, 0), Ok(()));
        }
        assert_eq!(b.take("k", 1, 10_000), Ok(()));
        assert!(b.take("k", 1, 5_000).is_err());
        assert!(b.take("k", 1, 10_000).is_err());
        assert_eq!(b.take("k", 1, 70_000), Ok(()));
    }

    #[test]
    fn idle_buckets_are_forgotten_and_drained_ones_kept() {
        let b = Buckets::default();
        for _ in 0..10 {
            b.take("busy", 10, 0).unwrap();
        }
        for i in 0..=PRUNE_ABOVE {
            b.take(&format!("idle-{i}"), 10, 0).unwrap();
        }
        // Six seconds on, the idle buckets are full again and go; the drained one has
        // one request back and stays.
        b.take("next", 10, 6_000).unwrap();
        assert_eq!(b.buckets.lock().unwrap().len(), 2);
        assert_eq!(b.take("busy", 10, 6_000), Ok(()));
        assert_eq!(b.take("busy", 10, 6_000), Err(6_000));
    }
}

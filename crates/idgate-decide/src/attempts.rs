//! Resubmission policy: failed attempts inside a window buy growing cooldowns; a retry
//! before the cooldown ends is refused with TOO_MANY_ATTEMPTS and the time it may come
//! back; after `escalate_after` failures a person looks instead of another automated round.

use crate::policy::AttemptPolicy;

/// A past attempt of one account.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Attempt {
    pub at_ms: i64,
    /// Ended in RETRY or FINAL.
    pub failed: bool,
}

fn failures_in_window(p: &AttemptPolicy, history: &[Attempt], now_ms: i64) -> Vec<i64> {
    let since = now_ms - i64::from(p.window_hours) * 3_600_000;
    let mut f: Vec<i64> = history
        .iter()
        .filter(|a| a.failed && a.at_ms > since)
        .map(|a| a.at_ms)
        .collect();
    f.sort_unstable();
    f
}

/// When the next attempt may start, if not now.
pub fn retry_after(p: &AttemptPolicy, history: &[Attempt], now_ms: i64) -> Option<i64> {
    let failures = failures_in_window(p, history, now_ms);
    let last = *failures.last()?;
    let step = (failures.len() - 1).min(p.cooldown_minutes.len() - 1);
    let at = last + i64::from(p.cooldown_minutes[step]) * 60_000;
    (at > now_ms).then_some(at)
}

/// Has the account failed often enough that a person should look?
pub fn escalate(p: &AttemptPolicy, history: &[Attempt], now_ms: i64) -> bool {
    failures_in_window(p, history, now_ms).len() >= p.escalate_after as usize
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::Policy;

    const MIN: i64 = 60_000;

    #[test]
    fn cooldowns_grow_with_each_failure_and_expire_with_the_window() {
        let p = Policy::default().attempts; // 0, 1, 5, 30, 120 minutes; 24 h window
        let t0 = 1_000 * MIN;
        let mut h = vec![Attempt {
            at_ms: t0,
            failed: true,
        }];
        // After the first failure a corrected retry may come at once.
        assert_eq!(retry_after(&p, &h, t0), None);
        h.push(Attempt {
            at_ms: t0 + MIN,
            failed: true,
        });
        assert_eq!(retry_after(&p, &h, t0 + MIN), Some(t0 + 2 * MIN));
        h.push(Attempt {
            at_ms: t0 + 2 * MIN,
            failed: true,
        });
        assert_eq!(retry_after(&p, &h, t0 + 3 * MIN), Some(t0 + 7 * MIN));
        assert_eq!(retry_after(&p, &h, t0 + 7 * MIN), None);
        for i in 3..8 {
            h.push(Attempt {
                at_ms: t0 + i * 200 * MIN,
                failed: true,
            });
        }
        // The last cooldown repeats once the list runs out.
        let last = t0 + 7 * 200 * MIN;
        assert_eq!(retry_after(&p, &h, last), Some(last + 120 * MIN));
        assert!(escalate(&p, &h, last));
        // A day later the window holds none of them.
        assert_eq!(retry_after(&p, &h, last + 24 * 60 * MIN + 1), None);
        assert!(!escalate(&p, &h, last + 24 * 60 * MIN + 1));
    }

    #[test]
    fn approved_attempts_do_not_count() {
        let p = Policy::default().attempts;
        let h: Vec<_> = (0..10)
            .map(|i| Attempt {
                at_ms: i * MIN,
                failed: false,
            })
            .collect();
        assert_eq!(retry_after(&p, &h, 10 * MIN), None);
        assert!(!escalate(&p, &h, 10 * MIN));
    }
}

//! Prometheus text metrics, counted with atomics; queue depth is read from the store
//! at scrape time.

use std::fmt::Write;
use std::sync::atomic::{AtomicU64, Ordering};

#[derive(Default)]
pub struct Metrics {
    pub http_2xx: AtomicU64,
    pub http_4xx: AtomicU64,
    pub http_5xx: AtomicU64,
    pub uploads_accepted: AtomicU64,
    pub uploads_rejected: AtomicU64,
    /// Requests carrying files that waited for a turn (`limits.uploads_at_once`).
    pub uploads_waited: AtomicU64,
    pub cases_submitted: AtomicU64,
    pub jobs_completed: AtomicU64,
    pub jobs_retried: AtomicU64,
    pub jobs_failed: AtomicU64,
    pub rate_limited: AtomicU64,
    /// Applicants erased on request, and objects of theirs not deleted (their key is gone
    /// all the same; a repeated DELETE deletes them).
    pub erasures: AtomicU64,
    pub erased_objects_left: AtomicU64,
    /// Cases whose images and entered data retention removed.
    pub retention_expired: AtomicU64,
    /// Stored images that failed their integrity check (changed or unreadable).
    pub blob_integrity_failures: AtomicU64,
    /// List refreshes by outcome: imported, unchanged, refused, unreachable.
    pub list_refreshes: [AtomicU64; 4],
}

pub fn inc(c: &AtomicU64) {
    c.fetch_add(1, Ordering::Relaxed);
}

/// The outcomes of a scheduled list fetch, as the metric labels them.
pub const LIST_OUTCOMES: [&str; 4] = ["imported", "unchanged", "refused", "unreachable"];

impl Metrics {
    /// One list fetched by the scheduled refresh, with its outcome (an index of
    /// [`LIST_OUTCOMES`]).
    pub fn list_refreshed(&self, outcome: usize) {
        inc(&self.list_refreshes[outcome]);
    }

    /// An applicant erased; `left`: objects of theirs that could not be deleted.
    pub fn erased(&self, left: usize) {
        inc(&self.erasures);
        self.erased_objects_left
            .fetch_add(left as u64, Ordering::Relaxed);
    }

    /// A request refused for its caller's rate limit.
    pub fn rate_limited(&self) {
        inc(&self.rate_limited);
    }

    pub fn count_status(&self, status: u16) {
        match status {
            200..=299 => inc(&self.http_2xx),
            400..=499 => inc(&self.http_4xx),
            500..=599 => inc(&self.http_5xx),
            _ => {}
        }
    }

    pub fn render(&self, queued: i64, running: i64) -> String {
        let mut out = String::new();
        let get = |c: &AtomicU64| c.load(Ordering::Relaxed);
        let _ = writeln!(
            out,
            "# HELP idgate_http_responses_total HTTP responses by status class."
        );
        let _ = writeln!(out, "# TYPE idgate_http_responses_total counter");
        for (class, c) in [
            ("2xx", &self.http_2xx),
            ("4xx", &self.http_4xx),
            ("5xx", &self.http_5xx),
        ] {
            let _ = writeln!(
                out,
                "idgate_http_responses_total{{class=\"{class}\"}} {}",
                get(c)
            );
        }
        let _ = writeln!(
            out,
            "# HELP idgate_list_refreshes_total Scheduled list fetches by outcome."
        );
        let _ = writeln!(out, "# TYPE idgate_list_refreshes_total counter");
        for (outcome, c) in LIST_OUTCOMES.iter().zip(&self.list_refreshes) {
            let _ = writeln!(
                out,
                "idgate_list_refreshes_total{{outcome=\"{outcome}\"}} {}",
                get(c)
            );
        }
        for (name, help, c) in [
            (
                "idgate_uploads_accepted_total",
                "Document uploads stored.",
                &self.uploads_accepted,
            ),
            (
                "idgate_uploads_rejected_total",
                "Document uploads refused (type, size, pixels).",
                &self.uploads_rejected,
            ),
            (
                "idgate_uploads_waited_total",
                "Requests carrying files that waited for a turn (limits.uploads_at_once).",
                &self.uploads_waited,
            ),
            (
                "idgate_cases_submitted_total",
                "Cases submitted for processing.",
                &self.cases_submitted,
            ),
            (
                "idgate_jobs_completed_total",
                "Jobs finished.",
                &self.jobs_completed,
            ),
            (
                "idgate_jobs_retried_total",
                "Jobs that failed and were queued again.",
                &self.jobs_retried,
            ),
            (
                "idgate_blob_integrity_failures_total",
                "Stored images whose authentication or SHA-256 failed when read (alert on any).",
                &self.blob_integrity_failures,
            ),
            (
                "idgate_rate_limited_total",
                "Requests refused with 429 for their API key's or session's rate limit.",
                &self.rate_limited,
            ),
            (
                "idgate_erasures_total",
                "Applicants erased on request (their key destroyed).",
                &self.erasures,
            ),
            (
                "idgate_erased_objects_left_total",
                "Objects of erased applicants not deleted (unreadable; repeat the DELETE).",
                &self.erased_objects_left,
            ),
            (
                "idgate_retention_expired_cases_total",
                "Cases whose images and entered data the retention period removed.",
                &self.retention_expired,
            ),
            (
                "idgate_jobs_failed_total",
                "Jobs given up after their last attempt.",
                &self.jobs_failed,
            ),
        ] {
            let _ = writeln!(
                out,
                "# HELP {name} {help}\n# TYPE {name} counter\n{name} {}",
                get(c)
            );
        }
        let _ = writeln!(
            out,
            "# HELP idgate_jobs Jobs not yet finished, by state.\n# TYPE idgate_jobs gauge"
        );
        let _ = writeln!(
            out,
            "idgate_jobs{{state=\"queued\"}} {queued}\nidgate_jobs{{state=\"running\"}} {running}"
        );
        out
    }
}

//! Who is told when a case moves. Every request that changes a case or an applicant, and
//! every worker that decides one, announces its id here; the applicant's page listens
//! through `GET /flow/v1/events` ([`crate::http::follow`]) instead of asking again and
//! again.
//!
//! The announcements stay inside one process. A page whose case is moved by another
//! process (a `--role worker` beside this `--role api`) learns of it when its stream
//! reads the case again, every `flow.recheck_secs`.

use tokio::sync::{broadcast, watch};

/// Ids announced and not yet read by a slow listener before the oldest are dropped; a
/// listener that falls behind reads its case again, so nothing is missed.
const BACKLOG: usize = 1024;

pub struct Live {
    tx: broadcast::Sender<String>,
    /// Set when the process stops serving: open streams end, so that the graceful
    /// shutdown does not wait on them (the pages reconnect, to another process or this one
    /// restarted).
    closing: watch::Sender<bool>,
}

impl Default for Live {
    fn default() -> Self {
        Live {
            tx: broadcast::channel(BACKLOG).0,
            closing: watch::channel(false).0,
        }
    }
}

impl Live {
    /// The case or applicant `id` changed.
    pub fn touch(&self, id: &str) {
        // No listener is not an error: nobody is following.
        let _ = self.tx.send(id.to_string());
    }

    pub fn subscribe(&self) -> broadcast::Receiver<String> {
        self.tx.subscribe()
    }

    /// Ends every stream that follows a case, now and from now on.
    pub fn close(&self) {
        self.closing.send_replace(true);
    }

    pub fn closing(&self) -> watch::Receiver<bool> {
        self.closing.subscribe()
    }
}

/// The ids a successful request to `path` may have changed: the one after each `cases/`
/// or `applicants/` segment (`/v1/review/cases/{id}/decision`, `/flow/v1/cases/{id}/data`,
/// `/v1/applicants/{id}/cases`).
pub fn touched(path: &str) -> impl Iterator<Item = &str> {
    let mut parts = path.split('/').peekable();
    std::iter::from_fn(move || loop {
        let part = parts.next()?;
        if matches!(part, "cases" | "applicants") {
            if let Some(id) = parts.peek().filter(|id| !id.is_empty()) {
                return Some(*id);
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_ids_a_path_names_are_the_ones_touched() {
        let ids = |p| touched(p).collect::<Vec<_>>();
        assert_eq!(ids("/flow/v1/cases/c1/data"), ["c1"]);
        assert_eq!(ids("/v1/review/cases/c2/decision"), ["c2"]);
        assert_eq!(ids("/v1/applicants/a1/cases"), ["a1"]);
        assert_eq!(ids("/v1/applicants/a1/sessions/s1"), ["a1"]);
        assert!(ids("/flow/v1/cases").is_empty());
        assert!(ids("/flow/v1/cases/").is_empty());
        assert!(ids("/v1/precheck").is_empty());
    }

    #[tokio::test]
    async fn a_listener_hears_every_touch_after_it_subscribed() {
        let live = Live::default();
        live.touch("before");
        let mut rx = live.subscribe();
        live.touch("a");
        live.touch("b");
        assert_eq!(rx.recv().await.unwrap(), "a");
        assert_eq!(rx.recv().await.unwrap(), "b");
    }
}

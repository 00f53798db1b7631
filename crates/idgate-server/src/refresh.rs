//! Scheduled list refresh (`lists.refresh`): a worker process fetches each configured list
//! at start and every `lists.refresh_secs`, and imports it as `idgate lists import` would.
//! A file equal to the source's newest version (by SHA-256) makes no new version; a
//! malformed or truncated one is refused whole and the version in use stays; an
//! unreachable address is tried again at the next round. A new version queues the
//! re-screen of approved applicants, as any import does.

use crate::config::{ListFeed, ListRefresh};
use crate::state::Shared;
use idgate_screen::{Files, Format};
use std::time::Duration;

/// Largest list file accepted (OpenSanctions' full set is a few hundred MB).
const MAX_BYTES: usize = 1 << 30;

/// What one fetch of one list did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Refreshed {
    /// A new version (its number).
    Imported(i64),
    /// The same file as the newest version.
    Unchanged,
    /// The file was refused; the version in use stays.
    Refused(String),
    /// It could not be fetched.
    Unreachable(String),
}

impl Refreshed {
    /// Its place in [`crate::metrics::LIST_OUTCOMES`].
    fn outcome(&self) -> usize {
        match self {
            Refreshed::Imported(_) => 0,
            Refreshed::Unchanged => 1,
            Refreshed::Refused(_) => 2,
            Refreshed::Unreachable(_) => 3,
        }
    }

    pub fn as_str(&self) -> &'static str {
        crate::metrics::LIST_OUTCOMES[self.outcome()]
    }
}

/// The body at `url`; `None` when there is nothing there (404).
async fn fetch(client: &reqwest::Client, url: &str) -> Result<Option<Vec<u8>>, String> {
    let mut res = client
        .get(url)
        .send()
        .await
        .map_err(|e| format!("{}", e.without_url()))?;
    if res.status() == reqwest::StatusCode::NOT_FOUND {
        return Ok(None);
    }
    if !res.status().is_success() {
        return Err(format!("answered {}", res.status()));
    }
    if res.content_length().is_some_and(|n| n > MAX_BYTES as u64) {
        return Err(format!("larger than {MAX_BYTES} bytes"));
    }
    let mut body = Vec::new();
    while let Some(chunk) = res
        .chunk()
        .await
        .map_err(|e| format!("{}", e.without_url()))?
    {
        body.extend_from_slice(&chunk);
        if body.len() > MAX_BYTES {
            return Err(format!("larger than {MAX_BYTES} bytes"));
        }
    }
    Ok(Some(body))
}

/// OFAC's alias and comment files beside a main file's address.
fn beside(url: &str) -> (String, String) {
    let (dir, name) = url.rsplit_once('/').unwrap_or(("", url));
    let (alt, comments) = idgate_screen::sources::ofac::companion_names(name);
    (format!("{dir}/{alt}"), format!("{dir}/{comments}"))
}

/// Fetches and imports one list.
pub async fn refresh_one(state: &Shared, client: &reqwest::Client, feed: &ListFeed) -> Refreshed {
    let main = match fetch(client, &feed.url).await {
        Ok(Some(body)) => body,
        Ok(None) => return Refreshed::Unreachable("not found (404)".into()),
        Err(e) => return Refreshed::Unreachable(e),
    };
    let (mut alt, mut comments) = (None, None);
    if feed.format == Format::OfacCsv {
        let (a, c) = beside(&feed.url);
        for (url, slot) in [(a, &mut alt), (c, &mut comments)] {
            match fetch(client, &url).await {
                Ok(body) => *slot = body,
                Err(e) => return Refreshed::Unreachable(e),
            }
        }
    }
    let files = Files {
        main: &main,
        alt: alt.as_deref(),
        comments: comments.as_deref(),
    };
    match crate::screening::import(&state.store, &feed.source, feed.format, files).await {
        Ok(crate::screening::Imported::New(v)) => Refreshed::Imported(v.version),
        Ok(crate::screening::Imported::Unchanged(_)) => Refreshed::Unchanged,
        Err(e) => Refreshed::Refused(format!("{e:#}")),
    }
}

/// Every configured list, now and every `every_secs`, until shutdown.
pub async fn run(
    state: Shared,
    refresh: ListRefresh,
    mut shutdown: tokio::sync::watch::Receiver<bool>,
) {
    let client = match reqwest::Client::builder()
        .connect_timeout(Duration::from_secs(10))
        .timeout(Duration::from_secs(600))
        .build()
    {
        Ok(c) => c,
        Err(e) => {
            tracing::error!(error = %e, "list refresh: no HTTP client");
            return;
        }
    };
    loop {
        for feed in &refresh.feeds {
            let done = refresh_one(&state, &client, feed).await;
            state.metrics.list_refreshed(done.outcome());
            match &done {
                Refreshed::Imported(version) => {
                    tracing::info!(list = %feed.source, version, "list refreshed: new version")
                }
                Refreshed::Unchanged => tracing::debug!(list = %feed.source, "list unchanged"),
                Refreshed::Refused(why) | Refreshed::Unreachable(why) => tracing::warn!(
                    list = %feed.source, outcome = done.as_str(), error = %why,
                    "list refresh failed; the version in use stays"
                ),
            }
        }
        tokio::select! {
            _ = tokio::time::sleep(Duration::from_secs(refresh.every_secs)) => {}
            _ = shutdown.changed() => return,
        }
        if *shutdown.borrow() {
            return;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ofacs_companion_files_are_found_beside_the_main_one() {
        assert_eq!(
            beside("https://example.org/sdn/sdn.csv"),
            (
                "https://example.org/sdn/alt.csv".into(),
                "https://example.org/sdn/sdn_comments.csv".into()
            )
        );
        assert_eq!(
            beside("https://example.org/c/cons_prim.csv").0,
            "https://example.org/c/cons_alt.csv"
        );
    }
}

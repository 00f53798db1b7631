//! How many requests carrying files this process reads and checks at once
//! (`limits.uploads_at_once`). A campaign's burst of 15 MB photos would otherwise hold every
//! body, its sealed copy and its decode in memory together; past the limit a request waits
//! for its turn with its body still unread (the client's TCP window holds it), so it is
//! answered later, not refused. A request given its turn must send its body within
//! [`READ_WITHIN`], so that slow senders cannot hold the turns for ever. The routes take
//! their turn in `http::take_turn`.

use axum::body::Body;
use futures::StreamExt;
use std::sync::OnceLock;
use std::time::Duration;
use tokio::sync::Semaphore;

/// How long a request that was given its turn may take to send its body: a 15 MB photo
/// over a slow phone line (1 Mbit/s) takes two minutes.
pub const READ_WITHIN: Duration = Duration::from_secs(150);

/// The turns, sized from the limits on first use.
#[derive(Default)]
pub struct UploadGate {
    turns: OnceLock<Semaphore>,
}

impl UploadGate {
    /// The turns, `size` of them (the limit in force when first asked).
    pub fn turns(&self, size: usize) -> &Semaphore {
        self.turns.get_or_init(|| Semaphore::new(size.max(1)))
    }

    /// Requests holding a turn now.
    pub fn in_flight(&self, size: usize) -> usize {
        size.max(1) - self.turns(size).available_permits()
    }
}

/// `body`, failing once `deadline` passes before its end: the handler's read of it fails
/// (a 400 or 413 like any broken body) before anything is stored.
pub fn within(body: Body, deadline: tokio::time::Instant) -> Body {
    let chunks = body.into_data_stream();
    let timed = futures::stream::unfold(Some(chunks), move |chunks| async move {
        let mut chunks = chunks?;
        match tokio::time::timeout_at(deadline, chunks.next()).await {
            Ok(Some(chunk)) => Some((chunk, Some(chunks))),
            Ok(None) => None,
            Err(_) => Some((
                Err(axum::Error::new(std::io::Error::new(
                    std::io::ErrorKind::TimedOut,
                    format!("the file did not arrive within {} s", READ_WITHIN.as_secs()),
                ))),
                None,
            )),
        }
    });
    Body::from_stream(timed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_body_read_after_its_deadline_fails_and_one_in_time_is_whole() {
        let soon = || tokio::time::Instant::now() + Duration::from_millis(200);
        let never = futures::stream::pending::<Result<bytes::Bytes, std::io::Error>>();
        let err = axum::body::to_bytes(within(Body::from_stream(never), soon()), usize::MAX)
            .await
            .unwrap_err();
        let chain = format!("{err:?}");
        assert!(chain.contains("did not arrive within"), "{chain}");
        let whole = axum::body::to_bytes(within(Body::from("a photo"), soon()), usize::MAX)
            .await
            .unwrap();
        assert_eq!(&whole[..], b"a photo");
    }
}

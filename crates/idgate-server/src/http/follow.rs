//! `GET /flow/v1/events`: the applicant's page follows its case by push. The answer is a
//! `text/event-stream` that stays open: a `case` event carries the case's version (an
//! opaque tag of what the page shows: which case, its status, the data entered, the
//! documents, the place in the queue) at once and again whenever it changes; an `ended`
//! event says the session expired or was revoked, and the stream closes.
//!
//! A change made in this process is heard at once ([`crate::live`]); one made by another
//! process is found when the stream reads the case again, every `flow.recheck_secs`. The
//! page reads the case itself (`GET /flow/v1/session`) when the version moves: the stream
//! never carries personal data.

use crate::http::ApiResult;
use crate::state::{AppState, Shared};
use axum::extract::State;
use axum::http::{header, HeaderValue};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use axum::Extension;
use idgate_core::CaseStatus;
use idgate_store::{ApplicantSession, Case};
use sha2::{Digest, Sha256};
use std::convert::Infallible;
use std::time::Duration;
use tokio::sync::broadcast::error::RecvError;

/// A comment line this often keeps proxies from closing a quiet stream.
const KEEP_ALIVE: Duration = Duration::from_secs(15);

/// The version of what the applicant's page shows when `case` is the applicant's current
/// case (as the caller read it).
pub(crate) async fn version(s: &AppState, case: Option<&Case>) -> ApiResult<String> {
    let Some(case) = case else {
        return Ok("none".into());
    };
    let documents: Vec<String> = s
        .store
        .documents(&case.id)
        .await?
        .into_iter()
        .map(|d| d.id)
        .collect();
    let place = if matches!(case.status, CaseStatus::Submitted | CaseStatus::Processing) {
        s.store
            .queue_place(idgate_store::JobKind::ProcessCase, &case.id)
            .await?
            .map(|p| if p.started { 0 } else { p.ahead + 1 })
    } else {
        None
    };
    let mut h = Sha256::new();
    for part in [
        case.id.as_str(),
        case.status.as_str(),
        case.data_key.as_deref().unwrap_or(""),
        &documents.join(","),
        &format!("{place:?}/{}", case.updated_at),
    ] {
        h.update(part.as_bytes());
        h.update([0]);
    }
    Ok(hex::encode(&h.finalize()[..8]))
}

/// `GET /flow/v1/events`: the session's case as a stream of versions.
pub async fn events(
    State(s): State<Shared>,
    Extension(session): Extension<ApplicantSession>,
) -> Response {
    let follow = Follow {
        rx: s.live.subscribe(),
        closing: s.live.closing(),
        s,
        session,
        last: None,
        case: None,
        ended: false,
    };
    let stream = futures::stream::unfold(follow, |mut f| async move {
        let event = f.next().await?;
        Some((Ok::<_, Infallible>(event), f))
    });
    let mut res = Sse::new(stream)
        .keep_alive(KeepAlive::new().interval(KEEP_ALIVE))
        .into_response();
    let h = res.headers_mut();
    // As every API answer: never kept. And a buffering proxy (nginx) passes events on as
    // they come.
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    h.insert("x-accel-buffering", HeaderValue::from_static("no"));
    res
}

struct Follow {
    s: Shared,
    session: ApplicantSession,
    rx: tokio::sync::broadcast::Receiver<String>,
    /// The process stops serving.
    closing: tokio::sync::watch::Receiver<bool>,
    /// The version last sent.
    last: Option<String>,
    /// The case that version was of: a touch of it wakes the stream.
    case: Option<String>,
    ended: bool,
}

impl Follow {
    /// The next event: the version when it differs from the last one sent, or the end.
    async fn next(&mut self) -> Option<Event> {
        loop {
            if self.ended || *self.closing.borrow() {
                return None;
            }
            if let Some(why) = self.gone().await {
                self.ended = true;
                return Some(Event::default().event("ended").data(why));
            }
            // A store that fails for a moment is read again at the next recheck.
            if let Ok((v, case)) = self.read().await {
                self.case = case;
                if self.last.as_deref() != Some(v.as_str()) {
                    let data = serde_json::json!({ "version": v }).to_string();
                    self.last = Some(v);
                    return Some(Event::default().event("case").data(data));
                }
            }
            self.wait().await;
        }
    }

    /// The current case's version, and its id.
    async fn read(&self) -> ApiResult<(String, Option<String>)> {
        let case = self
            .s
            .store
            .current_case(&self.session.applicant_id)
            .await?;
        let v = version(&self.s, case.as_ref()).await?;
        Ok((v, case.map(|c| c.id)))
    }

    /// Why the session no longer works, if it does not.
    async fn gone(&self) -> Option<&'static str> {
        let now = self.s.store.now();
        if now >= self.session.expires_at {
            return Some("expired");
        }
        let sessions = self
            .s
            .store
            .sessions_of(&self.session.applicant_id)
            .await
            .ok()?;
        match sessions.iter().find(|x| x.id == self.session.id) {
            Some(x) if x.revoked_at.is_some() => Some("revoked"),
            Some(_) => None,
            None => Some("revoked"),
        }
    }

    /// Until this applicant or its case is touched, or the recheck is due.
    async fn wait(&mut self) {
        let recheck = tokio::time::sleep(Duration::from_secs(self.s.flow.recheck_secs));
        tokio::pin!(recheck);
        loop {
            tokio::select! {
                _ = &mut recheck => return,
                closed = self.closing.changed() => {
                    // A dropped sender is a process going away as well.
                    self.ended |= closed.is_err();
                    return;
                }
                got = self.rx.recv() => match got {
                    Ok(id) if id == self.session.applicant_id || self.case.as_deref() == Some(id.as_str()) => return,
                    Ok(_) => {}
                    // Fell behind the announcements: read the case again now.
                    Err(RecvError::Lagged(_)) => return,
                    Err(RecvError::Closed) => {
                        recheck.await;
                        return;
                    }
                },
            }
        }
    }
}

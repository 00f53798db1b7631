//! How much one request may carry and how many requests a caller may make.

use super::{parse, positive, ConfigError};

#[derive(Clone, Debug)]
pub struct Limits {
    pub max_upload_bytes: usize,
    /// Largest width × height accepted, checked from the header before any decoding.
    pub max_pixels: u64,
    /// Requests a minute per API key (0: no limit), counted in this process.
    pub api_key_per_minute: u32,
    /// Requests a minute per applicant session (0: no limit), counted in this process.
    pub session_per_minute: u32,
    /// Requests carrying files (uploads, pre-checks, liveness answers) read and checked at
    /// once in this process; more wait, their bodies unread, for a turn.
    pub uploads_at_once: usize,
}

impl Limits {
    /// The decoders' limits for an uploaded image.
    pub fn input(&self) -> idgate_vision::input::InputLimits {
        idgate_vision::input::InputLimits {
            max_bytes: self.max_upload_bytes,
            max_pixels: self.max_pixels,
        }
    }
}

/// A platform key: a campaign's applications (about ten requests each, and polling) at a
/// few thousand an hour stay well under it.
const API_KEY_PER_MINUTE: u32 = 1_200;
/// A session: the page reads its case when it moves and posts liveness frames in short
/// chunks; a person never needs more than a few a second.
const SESSION_PER_MINUTE: u32 = 300;

/// Each file request in flight holds its body, the sealed copy and a reduced decode: about
/// three times the file. Eight 15 MiB uploads are some 360 MB; the rest wait their turn.
pub const UPLOADS_AT_ONCE: usize = 8;

pub(super) fn limits(
    get: &dyn Fn(&str) -> Result<Option<String>, ConfigError>,
) -> Result<Limits, ConfigError> {
    let value =
        |key: &str, default: u64| -> Result<u64, ConfigError> { parse(key, get(key)?, default) };
    let per_minute =
        |key: &str, default: u32| -> Result<u32, ConfigError> { parse(key, get(key)?, default) };
    Ok(Limits {
        max_upload_bytes: positive(
            "limits.max_upload_bytes",
            value("limits.max_upload_bytes", 15 << 20)?,
        )? as usize,
        max_pixels: positive("limits.max_pixels", value("limits.max_pixels", 50_000_000)?)?,
        api_key_per_minute: per_minute("limits.api_key_per_minute", API_KEY_PER_MINUTE)?,
        session_per_minute: per_minute("limits.session_per_minute", SESSION_PER_MINUTE)?,
        uploads_at_once: positive(
            "limits.uploads_at_once",
            value("limits.uploads_at_once", UPLOADS_AT_ONCE as u64)?,
        )? as usize,
    })
}

//! Scheduled refresh of sanctions and PEP lists from addresses the operator configures:
//! `lists.refresh` names each source, its format and its URL (`SOURCE FORMAT URL`, entries
//! separated by `;` or new lines), `lists.refresh_secs` how often they are fetched. Nothing
//! is fetched unless a source is configured.

use super::{parse, positive, ConfigError};
use idgate_screen::Format;

/// One list to fetch: for OFAC's CSV, the alias and comment files are fetched from beside
/// the main file by OFAC's names.
#[derive(Clone, Debug, PartialEq)]
pub struct ListFeed {
    pub source: String,
    pub format: Format,
    pub url: String,
}

#[derive(Clone, Debug, PartialEq)]
pub struct ListRefresh {
    pub feeds: Vec<ListFeed>,
    pub every_secs: u64,
}

/// Once a day: the lists publish a few times a week at most.
const EVERY_SECS: u64 = 86_400;

fn invalid(message: String) -> ConfigError {
    ConfigError::Invalid {
        key: "lists.refresh".into(),
        message,
    }
}

/// A list source's name: lower-case letters, digits and `_` (as `lists import` takes).
pub fn valid_source(name: &str) -> bool {
    !name.is_empty()
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
}

pub(super) fn list_refresh(
    get: &dyn Fn(&str) -> Result<Option<String>, ConfigError>,
) -> Result<ListRefresh, ConfigError> {
    let every_secs = positive(
        "lists.refresh_secs",
        parse("lists.refresh_secs", get("lists.refresh_secs")?, EVERY_SECS)?,
    )?;
    let mut feeds: Vec<ListFeed> = Vec::new();
    let text = get("lists.refresh")?.unwrap_or_default();
    for entry in text
        .split([';', '\n'])
        .map(str::trim)
        .filter(|e| !e.is_empty())
    {
        let parts: Vec<&str> = entry.split_whitespace().collect();
        let [source, format, url] = parts[..] else {
            return Err(invalid(format!(
                "{entry:?} is not `SOURCE FORMAT URL` (e.g. `un un_xml https://...`)"
            )));
        };
        if !valid_source(source) {
            return Err(invalid(format!(
                "{source:?}: a source is lower-case letters, digits and _"
            )));
        }
        let format = Format::parse(format).map_err(|e| invalid(e.to_string()))?;
        if !(url.starts_with("http://") || url.starts_with("https://")) {
            return Err(invalid(format!("{url:?} is not an http(s) URL")));
        }
        if feeds.iter().any(|f| f.source == source) {
            return Err(invalid(format!("{source} is configured twice")));
        }
        feeds.push(ListFeed {
            source: source.to_string(),
            format,
            url: url.to_string(),
        });
    }
    Ok(ListRefresh { feeds, every_secs })
}

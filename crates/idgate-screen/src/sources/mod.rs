//! List files read into entities. Every reader refuses a file whole when any of it is
//! malformed or it ends early, so that a broken download never replaces a good version.

pub mod csv;
pub mod ftm;
pub mod ofac;
pub mod un;

use crate::entity::Entity;

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ImportError {
    #[error("{part} line {line}: {why}")]
    Malformed {
        part: &'static str,
        line: usize,
        why: String,
    },
    #[error("the file ends before its list does (cut short?)")]
    Truncated,
    #[error("the file lists no one")]
    Empty,
    #[error("entry {0} appears twice")]
    Duplicate(String),
    #[error("unknown list format `{0}` (ofac_csv, un_xml, ftm_jsonl, csv)")]
    UnknownFormat(String),
}

impl ImportError {
    pub(crate) fn malformed(part: &'static str, line: usize, e: impl std::fmt::Display) -> Self {
        ImportError::Malformed {
            part,
            line,
            why: e.to_string(),
        }
    }
}

/// How a list's file is written.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    /// OFAC's legacy CSV (SDN or consolidated): a main file with alias and comment files.
    OfacCsv,
    UnXml,
    /// OpenSanctions FollowTheMoney JSON lines.
    FtmJsonl,
    /// A deployment's own CSV (see [`csv`]).
    Csv,
}

impl Format {
    pub fn parse(s: &str) -> Result<Self, ImportError> {
        Ok(match s {
            "ofac_csv" => Format::OfacCsv,
            "un_xml" => Format::UnXml,
            "ftm_jsonl" => Format::FtmJsonl,
            "csv" => Format::Csv,
            other => return Err(ImportError::UnknownFormat(other.to_string())),
        })
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Format::OfacCsv => "ofac_csv",
            Format::UnXml => "un_xml",
            Format::FtmJsonl => "ftm_jsonl",
            Format::Csv => "csv",
        }
    }
}

/// The bytes of one list: the main file, and for OFAC's CSV its alias and comment files.
#[derive(Clone, Copy, Default)]
pub struct Files<'a> {
    pub main: &'a [u8],
    pub alt: Option<&'a [u8]>,
    pub comments: Option<&'a [u8]>,
}

/// Reads a list; `source` (e.g. `ofac_sdn`, `un`) prefixes every entity's identifier.
pub fn read(source: &str, format: Format, files: Files<'_>) -> Result<Vec<Entity>, ImportError> {
    let mut entities = match format {
        Format::OfacCsv => ofac::read(source, files.main, files.alt, files.comments)?,
        Format::UnXml => un::read(files.main)?,
        Format::FtmJsonl => ftm::read(files.main)?,
        Format::Csv => csv::read(source, files.main)?,
    };
    // The UN and FtM readers name their own sources; the list's name goes first.
    if matches!(format, Format::UnXml | Format::FtmJsonl) {
        for e in &mut entities {
            let own = e.id.split_once(':').map(|(_, id)| id).unwrap_or(&e.id);
            e.id = format!("{source}:{own}");
        }
    }
    let mut seen = std::collections::HashSet::new();
    for e in &entities {
        if !seen.insert(e.id.as_str()) {
            return Err(ImportError::Duplicate(e.id.clone()));
        }
    }
    Ok(entities)
}

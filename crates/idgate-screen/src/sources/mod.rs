//! List files read into entities. Every reader refuses a file whole when any of it is
//! malformed or it ends early, so that a broken download never replaces a good version.

pub mod csv;
pub mod eu;
pub mod ftm;
pub mod ofac;
pub mod ofac_xml;
mod table;
pub mod uk;
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
    #[error(
        "unknown list format `{0}` (ofac_csv, ofac_xml, un_xml, eu_csv, uk_csv, ftm_jsonl, csv)"
    )]
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

/// The line (1-based) of a byte offset, for a refusal to point at.
pub(crate) fn line_at(bytes: &[u8], at: usize) -> usize {
    bytes[..at.min(bytes.len())]
        .iter()
        .filter(|&&b| b == b'\n')
        .count()
        + 1
}

/// How a list's file is written.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    /// OFAC's legacy CSV (SDN or consolidated): a main file with alias and comment files.
    OfacCsv,
    /// OFAC's `sdn.xml` (or the consolidated list's XML in the same schema).
    OfacXml,
    UnXml,
    /// The EU's consolidated financial sanctions list, CSV format 1.1.
    EuCsv,
    /// The UK Sanctions List (FCDO) or OFSI's consolidated list, CSV.
    UkCsv,
    /// OpenSanctions FollowTheMoney JSON lines.
    FtmJsonl,
    /// A deployment's own CSV (see [`csv`]).
    Csv,
}

impl Format {
    pub fn parse(s: &str) -> Result<Self, ImportError> {
        Ok(match s {
            "ofac_csv" => Format::OfacCsv,
            "ofac_xml" => Format::OfacXml,
            "un_xml" => Format::UnXml,
            "eu_csv" => Format::EuCsv,
            "uk_csv" => Format::UkCsv,
            "ftm_jsonl" => Format::FtmJsonl,
            "csv" => Format::Csv,
            other => return Err(ImportError::UnknownFormat(other.to_string())),
        })
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Format::OfacCsv => "ofac_csv",
            Format::OfacXml => "ofac_xml",
            Format::UnXml => "un_xml",
            Format::EuCsv => "eu_csv",
            Format::UkCsv => "uk_csv",
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
        Format::OfacXml => ofac_xml::read(source, files.main)?,
        Format::UnXml => un::read(files.main)?,
        Format::EuCsv => eu::read(source, files.main)?,
        Format::UkCsv => uk::read(source, files.main)?,
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_format_is_named_as_it_is_parsed() {
        for name in [
            "ofac_csv",
            "ofac_xml",
            "un_xml",
            "eu_csv",
            "uk_csv",
            "ftm_jsonl",
            "csv",
        ] {
            assert_eq!(Format::parse(name).unwrap().as_str(), name);
        }
        let e = Format::parse("eu_xml").unwrap_err();
        assert!(e.to_string().contains("eu_csv"), "{e}");
    }
}

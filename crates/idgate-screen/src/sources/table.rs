//! Lists published as one table row per name, date or document of a listed party, all
//! repeating the party's own columns (the EU's and the UK's CSV files): the header is found
//! below any banner lines, columns are looked up by the names the publishers have used,
//! and every row must have the header's width, so that a file cut mid-row is refused.

use std::collections::HashMap;

use crate::entity::{Entity, EntityKind, Topic};
use crate::sources::ImportError;

/// The entities of such a list: rows gathered by the entity's identifier, in the order the
/// list first names them.
pub(crate) struct Gathered {
    prefix: String,
    out: Vec<Entity>,
    at: HashMap<String, usize>,
}

impl Gathered {
    pub(crate) fn new(prefix: &str) -> Self {
        Gathered {
            prefix: prefix.to_string(),
            out: Vec::new(),
            at: HashMap::new(),
        }
    }

    /// The sanctioned entity `key`, made of `kind` at its first row.
    pub(crate) fn entity(&mut self, key: &str, kind: impl FnOnce() -> EntityKind) -> &mut Entity {
        let i = *self.at.entry(key.to_string()).or_insert_with(|| {
            let id = format!("{}:{key}", self.prefix);
            self.out.push(Entity::new(id, kind(), Topic::Sanction));
            self.out.len() - 1
        });
        &mut self.out[i]
    }

    /// Every entity; one that no row gave a name makes the list malformed.
    pub(crate) fn finish(self, part: &'static str) -> Result<Vec<Entity>, ImportError> {
        if let Some(e) = self.out.iter().find(|e| e.names.is_empty()) {
            return Err(ImportError::Malformed {
                part,
                line: 0,
                why: format!("{} has no name", e.id),
            });
        }
        Ok(self.out)
    }
}

/// A CSV file's rows below its header.
pub(crate) struct Table {
    header: Vec<String>,
    /// The header's line number (1-based); data rows follow it.
    header_line: usize,
    rows: Vec<csv::StringRecord>,
}

/// Banner lines a publisher puts above the header (a date, a title).
const MAX_BANNER: usize = 3;

impl Table {
    /// Reads `bytes` split by `delimiter`; the header is the first of the first lines that
    /// holds a column named `marker`.
    pub(crate) fn read(
        part: &'static str,
        bytes: &[u8],
        delimiter: u8,
        marker: &str,
    ) -> Result<Table, ImportError> {
        let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
        let mut rd = csv::ReaderBuilder::new()
            .has_headers(false)
            .flexible(true)
            .delimiter(delimiter)
            .from_reader(bytes);
        let mut header: Option<(usize, Vec<String>)> = None;
        let mut rows = Vec::new();
        for (n, row) in rd.records().enumerate() {
            let line = n + 1;
            let row = row.map_err(|e| ImportError::malformed(part, line, e))?;
            match &header {
                None if line > MAX_BANNER + 1 => break,
                None => {
                    let cells: Vec<String> = row.iter().map(|c| c.trim().to_string()).collect();
                    if cells.iter().any(|c| c.eq_ignore_ascii_case(marker)) {
                        header = Some((line, cells));
                    }
                }
                Some((_, h)) => {
                    if row.iter().all(|c| c.trim().is_empty()) {
                        continue; // a blank line, or one of only separators
                    }
                    if row.len() != h.len() {
                        return Err(ImportError::Malformed {
                            part,
                            line,
                            why: format!("{} fields, the header has {}", row.len(), h.len()),
                        });
                    }
                    rows.push(row);
                }
            }
        }
        let Some((header_line, header)) = header else {
            return Err(ImportError::Malformed {
                part,
                line: 1,
                why: format!("no header with a `{marker}` column"),
            });
        };
        if rows.is_empty() {
            return Err(ImportError::Empty);
        }
        Ok(Table {
            header,
            header_line,
            rows,
        })
    }

    /// The first of `names` that is a column (names compared without case).
    pub(crate) fn column(&self, names: &[&str]) -> Option<usize> {
        names
            .iter()
            .find_map(|n| self.header.iter().position(|h| h.eq_ignore_ascii_case(n)))
    }

    /// Like [`Table::column`], for a column the list cannot be read without.
    pub(crate) fn required(
        &self,
        part: &'static str,
        names: &[&str],
    ) -> Result<usize, ImportError> {
        self.column(names).ok_or_else(|| ImportError::Malformed {
            part,
            line: self.header_line,
            why: format!("the header has no `{}` column", names[0]),
        })
    }

    /// Each data row with its line number.
    pub(crate) fn rows(&self) -> impl Iterator<Item = (usize, Row<'_>)> {
        self.rows.iter().enumerate().map(|(i, r)| {
            (
                r.position()
                    .map_or(self.header_line + 1 + i, |p| p.line() as usize),
                Row(r),
            )
        })
    }
}

pub(crate) struct Row<'a>(&'a csv::StringRecord);

impl<'a> Row<'a> {
    /// The trimmed cell of `column`; empty where the column is absent.
    pub(crate) fn get(&self, column: Option<usize>) -> &'a str {
        column.and_then(|c| self.0.get(c)).map_or("", str::trim)
    }
}

/// Several values in one cell: `a|b`, `a; b`, `(1) a (2) b`.
pub(crate) fn values(cell: &str) -> Vec<&str> {
    let mut out = Vec::new();
    for part in cell.split(['|', ';']) {
        let b = part.as_bytes();
        let (mut start, mut i) = (0, 0);
        while i < b.len() {
            if b[i] == b'(' {
                let mut j = i + 1;
                while j < b.len() && b[j].is_ascii_digit() {
                    j += 1;
                }
                if j > i + 1 && j < b.len() && b[j] == b')' {
                    out.push(&part[start..i]);
                    start = j + 1;
                    i = j + 1;
                    continue;
                }
            }
            i += 1;
        }
        out.push(&part[start..]);
    }
    out.into_iter()
        .map(str::trim)
        .filter(|v| !v.is_empty())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_header_is_found_below_a_banner_and_rows_keep_its_width() {
        let text = "Last Updated,01/12/2026\nName 6,Group ID\nCRUZ,1\n,\nDOE,2\n";
        let t = Table::read("uk", text.as_bytes(), b',', "Group ID").unwrap();
        assert_eq!(t.column(&["group id"]), Some(1));
        let names: Vec<&str> = t.rows().map(|(_, r)| r.get(Some(0))).collect();
        assert_eq!(names, ["CRUZ", "DOE"]);
        let lines: Vec<usize> = t.rows().map(|(l, _)| l).collect();
        assert_eq!(lines, [3, 5]);
        let cut = "Name 6,Group ID\nCRUZ,1\nDOE";
        assert!(matches!(
            Table::read("uk", cut.as_bytes(), b',', "Group ID"),
            Err(ImportError::Malformed { line: 3, .. })
        ));
        assert!(Table::read("uk", b"a,b\n1,2\n", b',', "Group ID").is_err());
    }

    #[test]
    fn cells_with_several_values() {
        assert_eq!(values("(1) Iran (2) Iraq"), ["Iran", "Iraq"]);
        assert_eq!(values("A123|B456; C789"), ["A123", "B456", "C789"]);
        assert_eq!(values("A123 (Iran)"), ["A123 (Iran)"]);
        assert!(values(" ").is_empty());
    }
}

//! `idgate lists import|show`: sanctions and PEP list versions, imported from files the
//! operator downloaded. A malformed or truncated file is refused whole; the version in use
//! stays.

use std::path::Path;

use anyhow::Context;
use idgate_screen::{Files, Format};
use idgate_store::Store;

fn read(path: &Path) -> anyhow::Result<Vec<u8>> {
    std::fs::read(path).with_context(|| format!("reading {}", path.display()))
}

/// What `idgate lists import` is told. For OFAC's CSV, FILE is the main file (`sdn.csv`,
/// `cons_prim.csv`); its `alt` and `comments` files are found beside it by OFAC's names
/// (`alt.csv`, `sdn_comments.csv`; `cons_alt.csv`, `cons_comments.csv`) unless given.
pub struct Import<'a> {
    pub source: &'a str,
    pub format: &'a str,
    pub file: &'a Path,
    pub alt: Option<&'a Path>,
    pub comments: Option<&'a Path>,
}

/// OFAC's names for the alias and comment files beside a main file.
fn beside(main: &Path) -> (Option<std::path::PathBuf>, Option<std::path::PathBuf>) {
    let dir = main.parent().unwrap_or(Path::new("."));
    let name = main.file_name().and_then(|n| n.to_str()).unwrap_or("");
    let (alt, comments) = idgate_screen::sources::ofac::companion_names(name);
    let found = |n: &str| Some(dir.join(n)).filter(|p| p.is_file());
    (found(alt), found(comments))
}

pub async fn import(store: &Store, args: &Import<'_>) -> anyhow::Result<()> {
    let format = Format::parse(args.format)?;
    let main = read(args.file)?;
    let (mut alt, mut comments) = (None, None);
    if format == Format::OfacCsv {
        let (a, c) = beside(args.file);
        if let Some(p) = args.alt.map(Path::to_path_buf).or(a) {
            alt = Some(read(&p)?);
        }
        if let Some(p) = args.comments.map(Path::to_path_buf).or(c) {
            comments = Some(read(&p)?);
        }
    }
    let done = crate::screening::import(
        store,
        args.source,
        format,
        Files {
            main: &main,
            alt: alt.as_deref(),
            comments: comments.as_deref(),
        },
    )
    .await?;
    match done {
        crate::screening::Imported::New(v) => {
            println!("{}", crate::report::list_version_json(&v))
        }
        crate::screening::Imported::Unchanged(version) => println!(
            "{}",
            serde_json::json!({"source": args.source, "version": version, "unchanged": true})
        ),
    }
    Ok(())
}

/// Every version of every source, newest first, one JSON object per line.
pub async fn show(store: &Store) -> anyhow::Result<()> {
    for v in store.list_versions().await? {
        println!("{}", crate::report::list_version_json(&v));
    }
    Ok(())
}

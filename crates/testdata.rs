//! Where the shared public test data lives (`../shared/testdata` beside the clone in the
//! project's layout). Test-only: included with `#[path]` by the tests that read it, so no
//! product crate depends on it. `IDGATE_TESTDATA` wins (scripts/test sets it); otherwise the
//! nearest ancestor of the crate that has `shared/testdata`.

#![allow(dead_code)]

use std::path::PathBuf;

pub fn dir() -> PathBuf {
    if let Some(d) = std::env::var_os("IDGATE_TESTDATA") {
        return PathBuf::from(d);
    }
    let manifest = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    manifest
        .ancestors()
        .map(|a| a.join("shared/testdata"))
        .find(|d| d.is_dir())
        .unwrap_or_else(|| {
            panic!(
                "no shared/testdata above {}; set IDGATE_TESTDATA",
                manifest.display()
            )
        })
}

pub fn path(rel: &str) -> PathBuf {
    dir().join(rel)
}

pub fn read(rel: &str) -> Vec<u8> {
    let p = path(rel);
    std::fs::read(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

//! The face models for tests, loaded once per test binary from `IDGATE_MODELS_DIR` (which
//! scripts/test unpacks). Test-only: included with `#[path]` by the tests that need faces,
//! like `testdata.rs`.

use idgate_face::FaceModels;
use std::sync::OnceLock;

pub fn get() -> &'static FaceModels {
    static M: OnceLock<FaceModels> = OnceLock::new();
    M.get_or_init(|| {
        let dir = std::env::var_os("IDGATE_MODELS_DIR")
            .expect("IDGATE_MODELS_DIR: run through scripts/test, which unpacks the models");
        FaceModels::load(std::path::Path::new(&dir)).expect("face models")
    })
}

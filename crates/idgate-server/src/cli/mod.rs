//! The `idgate` commands that work on files rather than over HTTP: `mrz`, `check`, `face`,
//! `verify`, `apikey`, `lists`, `backup`/`restore` and `keys`. They share the pipeline and the JSON renderings ([`crate::report`]) with
//! the HTTP API, never its modules.

pub mod apikey;
pub mod backup;
pub mod check;
pub mod face;
pub mod keys;
pub mod lists;
pub mod mrz;
pub mod verify;

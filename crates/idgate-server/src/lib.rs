//! The idgate service: the HTTP API ([`http`]), the commands on files ([`cli`]), the
//! background workers ([`worker`], [`webhooks`]), layered configuration ([`config`]) and
//! running it all ([`service`]). The module graph has no circle, and `http` and `cli` never
//! import each other (`tests/architecture.rs`); what both need lives in [`state`],
//! [`report`], [`validate`], [`credentials`] and [`files`].
//!
//! Architecture invariant: only this crate knows HTTP and JSON.

pub mod admission;
pub mod cli;
pub mod config;
pub mod credentials;
pub mod files;
pub mod http;
pub mod kyb;
pub mod live;
pub mod metrics;
pub mod monitoring;
pub mod ratelimit;
pub mod refresh;
pub mod report;
pub mod retention;
pub mod screening;
pub mod service;
pub mod signin;
pub mod state;
pub mod validate;
pub mod webhooks;
pub mod worker;

pub use service::{healthcheck, open, open_with_clock, read_policy, serve};

//! scopewatch: tracks the scope of published cloud compliance pages and
//! reports what changed.
//!
//! The crate follows the pipeline a page goes through:
//!
//! 1. [`parse`] reads a saved page in one of its three forms (learn HTML, docs
//!    Markdown, plain-text export) into a form-neutral [`parse::Document`].
//! 2. [`extract`] finds the in-scope lists, applicability tables and report
//!    links in that document and yields a [`model::Snapshot`].
//! 3. [`canon`] turns each list item into canonical [`model::Service`]s
//!    (qualifiers, compounds, `formerly` notes, the alias table).
//! 4. [`store`] keeps raw documents and snapshots in SQLite.
//! 5. [`diff`] compares two snapshots into typed [`diff::Change`]s.
//! 6. [`report`] renders a diff for people (text, Markdown) or programs (JSON).
//!
//! [`cli`] wires these together for the `scopewatch` binary, and [`demo`]
//! replays the page versions bundled in `snapshots/`.

pub mod alert;
pub mod cli;
pub mod config;
pub mod demo;
pub mod error;
pub mod fetch;
pub mod history;
pub mod ingest;
pub mod lag;
pub mod report;
pub mod run;
pub mod serve;
pub mod store;

pub use error::{Error, Result};

/// How far a long job has got, for whoever shows its progress: `done` of
/// `total` steps. The library only reports steps; the CLI draws the bar.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Step {
    pub done: usize,
    pub total: usize,
}
/// The I/O-free stages live in `scopewatch-core`; they keep their paths here
/// so that the layers above name them as one crate.
pub use scopewatch_core::{PARSER_VERSION, canon, diff, extract, model, parse};

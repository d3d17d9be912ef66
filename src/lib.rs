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
pub mod canon;
pub mod cli;
pub mod config;
pub mod demo;
pub mod diff;
pub mod error;
pub mod extract;
pub mod fetch;
pub mod history;
pub mod ingest;
pub mod model;
pub mod parse;
pub mod report;
pub mod run;
pub mod store;

pub use error::{Error, Result};

/// Version of the extraction rules. Stored with every snapshot so that
/// snapshots made by older rules can be found and rebuilt from raw documents.
pub const PARSER_VERSION: u32 = 1;

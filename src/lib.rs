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

/// jemalloc rather than glibc's allocator, for the binary and for the
/// benchmarks and tests, which measure and check what it runs. The fetch
/// workers build each page's parse tree and snapshot, and the store thread
/// frees the snapshot. glibc sends each such free back to the worker's
/// arena under its lock, and the threads then wait on each other. The
/// nightly job used a sixth of its CPU time in glibc's malloc and free;
/// with jemalloc its 1,000-page first run made 1,446 context switches
/// instead of 3,253 and took a sixth less time.
#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

/// jemalloc's options, read when it starts (the `malloc_conf` of its
/// manual, under this build's `_rjem_` prefix). The job has three busy
/// threads, so one arena is enough. Thread caches hold only blocks of up to
/// 4 KiB. Together these keep the job's peak memory within about half a
/// megabyte of glibc's, for the same speed.
#[doc(hidden)]
#[allow(non_upper_case_globals)] // the name jemalloc looks for
#[unsafe(no_mangle)]
pub static _rjem_malloc_conf: &[u8; 27] = b"narenas:1,lg_tcache_max:12\0";

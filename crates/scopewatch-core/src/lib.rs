//! The part of scopewatch that needs no database, network or terminal: from
//! page bytes to a diff of two snapshots.
//!
//! 1. [`parse`] reads a saved page in one of its three forms (learn HTML, docs
//!    Markdown, plain-text export) into a form-neutral [`parse::Document`].
//! 2. [`extract`] finds the in-scope lists, applicability tables and report
//!    links in that document and yields a [`model::Snapshot`].
//! 3. [`canon`] turns each list item into canonical [`model::Service`]s
//!    (qualifiers, compounds, `formerly` notes, the alias table) and decides
//!    when two names are one service.
//! 4. [`diff`] compares two snapshots into typed [`diff::Change`]s.
//!
//! The `scopewatch` crate stores, fetches, schedules and reports on top of
//! this; the fuzz targets and any other front end use it directly.

pub mod canon;
pub mod diff;
pub mod error;
pub mod extract;
pub mod model;
pub mod parse;
pub mod profile;
pub mod truncation;

use std::cell::RefCell;

pub use error::{AliasError, Error, Result};

/// Version of the extraction rules. Stored with every snapshot so that
/// snapshots made by older rules can be found and rebuilt from raw documents.
pub const PARSER_VERSION: u32 = 2;

/// An automaton finding any of a fixed list of words in one pass. A
/// contiguous NFA, not the DFA the builder picks for short lists: names and
/// headings are short, and building the DFAs took a third of the
/// instructions of a one-page `scopewatch parse`.
pub(crate) fn word_finder<I, P>(
    words: I,
    match_kind: aho_corasick::MatchKind,
) -> aho_corasick::AhoCorasick
where
    I: IntoIterator<Item = P>,
    P: AsRef<[u8]>,
{
    aho_corasick::AhoCorasick::builder()
        .kind(Some(aho_corasick::AhoCorasickKind::ContiguousNFA))
        .match_kind(match_kind)
        .build(words)
        .expect("fixed word lists build")
}

/// Included documents a page used: each `[!INCLUDE]` target as written, with
/// its bytes.
pub type Included = Vec<(String, Vec<u8>)>;

/// Finds the bytes of an `[!INCLUDE]` target, as written on the page.
pub type IncludeSource<'a> = &'a dyn Fn(&str) -> Option<Vec<u8>>;

/// Parses page bytes, resolving includes with `includes`, and returns the
/// snapshot with the included documents it used. `name` is used in errors.
pub fn read_snapshot_with(
    name: &str,
    bytes: &[u8],
    includes: IncludeSource<'_>,
) -> Result<(model::Snapshot, Included)> {
    let used = RefCell::new(Vec::new());
    let resolve = |target: &str| {
        let found = includes(target)?;
        let text = String::from_utf8_lossy(&found).into_owned();
        used.borrow_mut().push((target.to_string(), found));
        Some(text)
    };
    let doc = parse::parse_bytes_with(name, bytes, &resolve)?;
    Ok((extract::snapshot(doc), used.into_inner()))
}

/// Parses page bytes into a snapshot. `name` is used in error messages.
pub fn read_snapshot(name: &str, bytes: &[u8]) -> Result<model::Snapshot> {
    Ok(extract::snapshot(parse::parse_bytes(name, bytes)?))
}

/// Parses page bytes as the given form, or detects the form when `None`.
pub fn read_snapshot_as(
    name: &str,
    bytes: &[u8],
    form: Option<model::PageForm>,
) -> Result<model::Snapshot> {
    Ok(extract::snapshot(parse::parse_bytes_as(name, bytes, form)?))
}

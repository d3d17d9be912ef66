//! Bringing page versions into the store: saved files and folders of them
//! ([`import_file`], [`import_dir`]), the docs' git history ([`git`]), and
//! rebuilding stored snapshots with the current rules ([`reparse`]). Each
//! version is named (source), dated, then parsed, extracted and stored.

pub mod git;
pub mod l10n;

use std::collections::HashSet;
use std::fs::File;
use std::io::Read;
use std::path::{Path, PathBuf};

use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};

use crate::config::MAX_PAGE_BYTES;
use crate::model::{Snapshot, SourceId};
use crate::store::{Imported, Included, NewSnapshot, RawVersion, Reparsed, Store, content_hash};
use crate::{Error, Result, Step};

use scopewatch_core::profile::{self, Extraction};
pub use scopewatch_core::{IncludeSource, read_snapshot, read_snapshot_as, read_snapshot_with};

/// Reads and parses a saved page; includes are looked up beside it, as in a
/// checkout of the docs.
pub fn read_file(path: &Path) -> Result<(Vec<u8>, Snapshot)> {
    let (bytes, snapshot, _) = read_file_with_includes(path, None)?;
    Ok((bytes, snapshot))
}

/// Reads a saved page with an extraction profile.
pub fn read_file_as(path: &Path, extraction: &Extraction) -> Result<Snapshot> {
    let bytes = read_page(path)?;
    Ok(profile::read(
        &path.display().to_string(),
        &bytes,
        extraction,
    )?)
}

fn read_file_with_includes(
    path: &Path,
    extraction: Option<&Extraction>,
) -> Result<(Vec<u8>, Snapshot, Included)> {
    let bytes = read_page(path)?;
    let dir = path.parent().unwrap_or(Path::new("."));
    let beside = |target: &str| read_page(&dir.join(target)).ok();
    let (snapshot, includes) =
        read_version(&path.display().to_string(), &bytes, extraction, &beside)?;
    Ok((bytes, snapshot, includes))
}

/// Reads one version of a page: with a scope-matrix profile when one is
/// given, else as an offering page whose includes `include` looks up.
fn read_version(
    name: &str,
    bytes: &[u8],
    extraction: Option<&Extraction>,
    include: &dyn Fn(&str) -> Option<Vec<u8>>,
) -> Result<(Snapshot, Included)> {
    match extraction {
        Some(Extraction::Matrix(matrix)) => {
            Ok((profile::read_matrix(name, bytes, matrix)?, Included::new()))
        }
        Some(Extraction::Offering) | None => Ok(read_snapshot_with(name, bytes, include)?),
    }
}

/// Reads a saved page: a regular file of at most the cap on a fetched page.
/// A pipe would block (while the write lock is held) and a device such as
/// `/dev/zero` never ends, so neither is opened.
fn read_page(path: &Path) -> Result<Vec<u8>> {
    let failed = |source| Error::Read {
        path: path.to_path_buf(),
        source,
    };
    let too_large = || Error::FileTooLarge {
        path: path.to_path_buf(),
        limit: MAX_PAGE_BYTES,
    };
    let meta = std::fs::metadata(path).map_err(failed)?;
    if !meta.is_file() {
        return Err(Error::NotAFile {
            path: path.to_path_buf(),
        });
    }
    if meta.len() > MAX_PAGE_BYTES {
        return Err(too_large());
    }
    // The file may grow after the check: read one byte past the cap at most.
    let mut bytes = Vec::new();
    File::open(path)
        .and_then(|f| f.take(MAX_PAGE_BYTES + 1).read_to_end(&mut bytes))
        .map_err(failed)?;
    if u64::try_from(bytes.len()).unwrap_or(u64::MAX) > MAX_PAGE_BYTES {
        return Err(too_large());
    }
    Ok(bytes)
}

/// The outcome of importing one page version.
#[derive(Debug, Clone)]
pub struct ImportReport {
    pub source: String,
    pub captured_at: DateTime<Utc>,
    pub imported: Imported,
    pub snapshot: Snapshot,
}

/// Parses and stores one page version.
pub fn import_bytes(
    store: &mut Store,
    source: &str,
    captured_at: DateTime<Utc>,
    name: &str,
    bytes: &[u8],
) -> Result<ImportReport> {
    let snapshot = read_snapshot(name, bytes)?;
    store_version(store, source, captured_at, name, bytes, snapshot, &[])
}

fn store_version(
    store: &mut Store,
    source: &str,
    captured_at: DateTime<Utc>,
    origin: &str,
    bytes: &[u8],
    snapshot: Snapshot,
    includes: &[(String, Vec<u8>)],
) -> Result<ImportReport> {
    let imported = match twin(store, source, captured_at, origin, bytes)? {
        Some(id) => Imported::Unchanged(id),
        None => store.import(&NewSnapshot {
            source,
            captured_at,
            raw: bytes,
            snapshot: &snapshot,
            origin,
            includes,
        })?,
    };
    Ok(ImportReport {
        source: source.to_string(),
        captured_at,
        imported,
        snapshot,
    })
}

/// How far from its true time a time read from a file name can be: the name
/// gives a local time (the corpus's, its author's) in a zone it does not
/// say, UTC-12 to UTC+14, and a name with a date alone gives a whole day.
const NAMED_TIME_SPREAD: chrono::TimeDelta = chrono::TimeDelta::hours(36);

/// The stored copy of this very version that came in the other way: one
/// dated by its file name, the other dated exactly (a git commit, a fetch,
/// a given date), with the same document, within [`NAMED_TIME_SPREAD`].
/// One version is one version, whichever way it came in; a page that goes
/// back to an earlier text by the same way is a new version.
fn twin(
    store: &Store,
    source: &str,
    captured_at: DateTime<Utc>,
    origin: &str,
    bytes: &[u8],
) -> Result<Option<i64>> {
    let named = dated_by_name(origin);
    let near =
        store.same_document_near(source, &content_hash(bytes), captured_at, NAMED_TIME_SPREAD)?;
    Ok(near
        .into_iter()
        .find(|(_, other)| dated_by_name(other) != named)
        .map(|(id, _)| id))
}

/// Whether a version's origin is a saved file dated by its name, rather
/// than a git commit or a fetched URL.
fn dated_by_name(origin: &str) -> bool {
    !origin.starts_with("git:")
        && !origin.contains("://")
        && date_in_name(Path::new(origin)).is_some()
}

/// Imports a saved page, read as `extraction` says (as an offering page
/// when `None`). Without an explicit source or date they come from the path
/// (see [`source_for`], [`date_in_name`]), then from the page's own date.
pub fn import_file(
    store: &mut Store,
    path: &Path,
    source: Option<&str>,
    date: Option<NaiveDate>,
    extraction: Option<&Extraction>,
) -> Result<ImportReport> {
    let (bytes, snapshot, includes) = read_file_with_includes(path, extraction)?;
    // A page in another language is its own source, named as `import-git`
    // names it, so that it is never taken for a version of the English page.
    let source = match (source, snapshot.locale.as_deref()) {
        (Some(s), _) => s.to_string(),
        (None, Some(locale)) => crate::config::localized_id(&source_for(path), locale),
        (None, None) => source_for(path),
    };
    SourceId::new(&source)?;
    let name = path.display().to_string();
    let named = date_in_name(path);
    // A date only the page states (its ms.date) is a guess; one in the
    // future is wrong for a capture, so the user must give the real one.
    let today = Utc::now().date_naive();
    if let Some(stated) = snapshot.published.filter(|d| *d > today) {
        if date.is_none() && named.is_none() {
            return Err(Error::FuturePageDate {
                path: path.to_path_buf(),
                date: stated,
            });
        }
    }
    let captured_at = date
        .map(midnight)
        .or(named)
        .or_else(|| snapshot.published.map(midnight))
        .unwrap_or_else(Utc::now);
    store_version(
        store,
        &source,
        captured_at,
        &name,
        &bytes,
        snapshot,
        &includes,
    )
}

/// The page versions in a folder tree, in capture order: files named by
/// date (`offering-soc-2/2021-07-20.md`); other files (a manifest, a README)
/// are not versions and are left out.
///
/// Each folder is read once, however many links lead to it, so a symbolic
/// link loop ends. Anything that is not a folder is a version if its name
/// says so; reading it then tells what it is.
pub fn versions_in(dir: &Path) -> Result<Vec<PathBuf>> {
    let mut found = Vec::new();
    let mut seen = HashSet::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(dir) = pending.pop() {
        let real = std::fs::canonicalize(&dir).map_err(|source| Error::Read {
            path: dir.clone(),
            source,
        })?;
        if !seen.insert(real) {
            continue;
        }
        let entries = std::fs::read_dir(&dir).map_err(|source| Error::Read {
            path: dir.clone(),
            source,
        })?;
        for entry in entries {
            let path = entry
                .map_err(|source| Error::Read {
                    path: dir.clone(),
                    source,
                })?
                .path();
            if path.is_dir() {
                pending.push(path);
            } else if date_in_name(&path).is_some() {
                found.push(path);
            }
        }
    }
    found.sort_by_key(|p| (date_in_name(p), p.clone()));
    Ok(found)
}

/// Rebuilds stored snapshots from their raw documents with the current
/// rules, in one transaction (see [`Store::reparse`]).
pub fn reparse(store: &mut Store, all: bool, progress: &dyn Fn(Step)) -> Result<Reparsed> {
    store.reparse(all, reread, progress)
}

/// What `verify` found.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct Verified {
    pub snapshots: usize,
    pub problems: Vec<String>,
}

/// Checks every raw document against its hash, that reading each one
/// again reproduces the stored snapshot, and that the learned names are
/// what the stored pages teach (see [`l10n::check_learned`]).
pub fn verify(store: &Store, progress: &dyn Fn(Step)) -> Result<Verified> {
    let versions = store.versions(None)?;
    let total = versions.len();
    progress(Step { done: 0, total });
    let mut report = Verified {
        problems: store.check_documents()?,
        ..Verified::default()
    };
    for version in versions {
        progress(Step {
            done: report.snapshots,
            total,
        });
        report.snapshots += 1;
        let stored = store.load(version.id)?;
        if stored.parser_version != crate::PARSER_VERSION {
            report.problems.push(format!(
                "snapshot {} ({}) was made by parser version {}: run `scopewatch reparse`",
                version.id, version.source, stored.parser_version
            ));
            continue;
        }
        let again = match store.raw_version(version.id).and_then(|raw| reread(&raw)) {
            Ok(again) => again,
            Err(e) => {
                report.problems.push(format!(
                    "snapshot {} ({}): its raw document cannot be read: {e}",
                    version.id, version.source
                ));
                continue;
            }
        };
        let day = version.captured_at.date_naive();
        if (&again.scopes, &again.links) != (&stored.snapshot.scopes, &stored.snapshot.links) {
            report.problems.push(format!(
                "snapshot {} ({} {day}): reading its raw document again gives a different scope",
                version.id, version.source
            ));
        }
        if !store.index_agrees(version.id, &stored.snapshot)? {
            report.problems.push(format!(
                "snapshot {} ({} {day}): its entries in the service index do not match its scope",
                version.id, version.source
            ));
        }
    }
    report.problems.extend(l10n::check_learned(store)?);
    progress(Step { done: total, total });
    Ok(report)
}

/// Reads a stored version again with the current rules, with the includes
/// stored beside it, or with the scope-matrix profile it was read with.
pub fn reread(version: &RawVersion) -> Result<Snapshot> {
    if let Some(profile) = &version.profile {
        return Ok(profile::read_matrix(
            &version.origin,
            &version.raw,
            profile,
        )?);
    }
    let stored = |target: &str| {
        version
            .includes
            .iter()
            .find(|(t, _)| t == target)
            .map(|(_, bytes)| bytes.clone())
    };
    let (snapshot, _) = read_snapshot_with(&version.origin, &version.raw, &stored)?;
    Ok(snapshot)
}

/// The source a saved file belongs to: its folder's name when the file is
/// named by date (`offering-soc-2/2021-07-20.md`), else the file's stem, in
/// lower case.
pub fn source_for(path: &Path) -> String {
    let stem = path.file_stem().and_then(|s| s.to_str()).unwrap_or("page");
    let folder = path
        .parent()
        .and_then(|p| p.file_name())
        .and_then(|s| s.to_str());
    match folder {
        Some(folder) if date_in_name(path).is_some() => folder.to_lowercase(),
        _ => stem.to_lowercase(),
    }
}

/// A capture time written at the start of a file name: `2021-08-26`,
/// `2021-08-26T123109_e038881`, `20210826T123109_e038881`. The name does
/// not say its zone; it is read as UTC, and a version dated so is matched
/// with the same version come in another way by [`twin`].
pub fn date_in_name(path: &Path) -> Option<DateTime<Utc>> {
    let stem = path.file_stem()?.to_str()?;
    // The compact form as the long one: chrono reads a year of any length.
    let long = match stem.get(..15) {
        Some(c) if c.as_bytes()[8] == b'T' && c[..8].bytes().all(|b| b.is_ascii_digit()) => {
            format!("{}-{}-{}{}", &c[..4], &c[4..6], &c[6..8], &c[8..])
        }
        _ => stem.to_string(),
    };
    if let Some(stamp) = long.get(..17)
        && let Ok(at) = NaiveDateTime::parse_from_str(stamp, "%Y-%m-%dT%H%M%S")
    {
        return Some(at.and_utc());
    }
    // The localized corpus writes the date without dashes.
    if let Some(stamp) = stem.get(..15)
        && let Ok(at) = NaiveDateTime::parse_from_str(stamp, "%Y%m%dT%H%M%S")
    {
        return Some(at.and_utc());
    }
    NaiveDate::parse_from_str(stem.get(..10)?, "%Y-%m-%d")
        .ok()
        .map(midnight)
}

/// Reads a `YYYY-MM-DD` argument.
pub fn parse_day(text: &str) -> Result<NaiveDate> {
    NaiveDate::parse_from_str(text.trim(), "%Y-%m-%d").map_err(|_| Error::Date(text.to_string()))
}

pub fn midnight(date: NaiveDate) -> DateTime<Utc> {
    date.and_time(chrono::NaiveTime::MIN).and_utc()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn source_and_date_from_paths() {
        let p = PathBuf::from("corpus/offering-iso-27001/2021-08-26T123109_e038881.md");
        assert_eq!(source_for(&p), "offering-iso-27001");
        assert_eq!(
            date_in_name(&p).unwrap().to_rfc3339(),
            "2021-08-26T12:31:09+00:00"
        );
        let p = PathBuf::from("snapshots/offering-soc-2/2021-07-20.html");
        assert_eq!(source_for(&p), "offering-soc-2");
        assert_eq!(
            date_in_name(&p).unwrap().date_naive().to_string(),
            "2021-07-20"
        );
        let p = PathBuf::from("de-de/offering-iso-27001/20210824T022541_662e538.md");
        assert_eq!(
            date_in_name(&p).unwrap().to_rfc3339(),
            "2021-08-24T02:25:41+00:00"
        );
        let p = PathBuf::from("pages/Offering-SOC-2.md");
        assert_eq!(source_for(&p), "offering-soc-2");
        assert!(date_in_name(&p).is_none());
    }
}

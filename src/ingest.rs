//! Bringing saved page versions into the store: naming their source and
//! dating them, then parse → extract → store.

use std::path::Path;

use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};

use crate::model::Snapshot;
use crate::store::{Imported, NewSnapshot, Store, validate_source_id};
use crate::{Error, Result, extract, parse};

/// Parses page bytes into a snapshot. `name` is used in error messages.
pub fn read_snapshot(name: &str, bytes: &[u8]) -> Result<Snapshot> {
    Ok(extract::snapshot(parse::parse_bytes(name, bytes)?))
}

/// Reads and parses a saved page.
pub fn read_file(path: &Path) -> Result<(Vec<u8>, Snapshot)> {
    let bytes = std::fs::read(path).map_err(|source| Error::Read {
        path: path.to_path_buf(),
        source,
    })?;
    let snapshot = read_snapshot(&path.display().to_string(), &bytes)?;
    Ok((bytes, snapshot))
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
    let imported = store.import(&NewSnapshot {
        source,
        captured_at,
        raw: bytes,
        snapshot: &snapshot,
        origin: name,
    })?;
    Ok(ImportReport {
        source: source.to_string(),
        captured_at,
        imported,
        snapshot,
    })
}

/// Imports a saved page. Without an explicit source or date they come from
/// the path (see [`source_for`], [`date_in_name`]), then from the page's own
/// date.
pub fn import_file(
    store: &mut Store,
    path: &Path,
    source: Option<&str>,
    date: Option<NaiveDate>,
) -> Result<ImportReport> {
    let (bytes, _) = read_file(path)?;
    let source = match source {
        Some(s) => s.to_string(),
        None => source_for(path),
    };
    validate_source_id(&source)?;
    let name = path.display().to_string();
    let captured_at = match date.map(midnight).or_else(|| date_in_name(path)) {
        Some(at) => at,
        None => read_snapshot(&name, &bytes)?
            .published
            .map(midnight)
            .unwrap_or_else(Utc::now),
    };
    import_bytes(store, &source, captured_at, &name, &bytes)
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
/// `2021-08-26T123109_e038881` (UTC).
pub fn date_in_name(path: &Path) -> Option<DateTime<Utc>> {
    let stem = path.file_stem()?.to_str()?;
    if let Some(stamp) = stem.get(..17)
        && let Ok(at) = NaiveDateTime::parse_from_str(stamp, "%Y-%m-%dT%H%M%S")
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
    use std::path::PathBuf;

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
        let p = PathBuf::from("pages/Offering-SOC-2.md");
        assert_eq!(source_for(&p), "offering-soc-2");
        assert!(date_in_name(&p).is_none());
    }
}

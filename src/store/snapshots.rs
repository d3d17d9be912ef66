//! Snapshots: each stored version of a page with its extracted scope and
//! links, and the queries that walk a source's history.

use std::collections::HashSet;

use chrono::{DateTime, NaiveDate, Utc};
use rusqlite::{Connection, OptionalExtension, params};

use super::Store;
use super::documents::{
    RawVersion, compress, content_hash, insert_document, raw_version, stored_includes, unpack,
};
use super::index::{NameIds, service_set};
use super::outbox::{NewAlert, insert_alert};
use crate::config::refuse_credentials;
use crate::model::SourceId;
use crate::model::{Link, PageForm, Provenance, Scope, Snapshot};
use crate::{Error, PARSER_VERSION, Result};

/// A page version to store.
#[derive(Debug, Clone, Copy)]
pub(crate) struct NewSnapshot<'a> {
    pub source: &'a str,
    pub captured_at: DateTime<Utc>,
    pub raw: &'a [u8],
    pub snapshot: &'a Snapshot,
    /// Where the version came from: a file path, a URL, a commit.
    pub origin: &'a str,
    /// The `[!INCLUDE]` documents the page was read with: target and bytes.
    pub includes: &'a [(String, Vec<u8>)],
}

/// What a reparse did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Reparsed {
    pub checked: usize,
    pub rebuilt: usize,
    /// Snapshots whose scope or links came out different.
    pub changed: usize,
}

/// A stored version of a source, for walking its history cheaply.
#[derive(Debug, Clone)]
pub struct VersionRef {
    pub id: i64,
    pub source: String,
    pub captured_at: DateTime<Utc>,
    pub has_scope: bool,
}

/// What an import did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Imported {
    /// A new snapshot was stored.
    Stored(i64),
    /// The source already has this content as of that time: nothing stored.
    Unchanged(i64),
}

/// A snapshot as stored, with its place in the history.
#[derive(Debug, Clone)]
pub struct StoredSnapshot {
    pub id: i64,
    pub source: String,
    pub captured_at: DateTime<Utc>,
    pub document_hash: String,
    pub parser_version: u32,
    pub snapshot: Snapshot,
}

impl Store {
    /// Stores a page version unless the source already has the same content
    /// in force at that time. All of it is written, or none of it.
    pub(crate) fn import(&mut self, new: &NewSnapshot<'_>) -> Result<Imported> {
        self.import_with_alerts(new, None, |_| Vec::new())
    }

    /// As [`Store::import`], queueing the alerts the new snapshot calls for
    /// (`alerts` gets its id) in the same transaction: a crash never leaves
    /// a stored change without its alert. `packed`, when given, is
    /// [`Packed::unless_stored`] of the same page and snapshot, made
    /// beforehand.
    pub(crate) fn import_with_alerts(
        &mut self,
        new: &NewSnapshot<'_>,
        packed: Option<&Packed>,
        alerts: impl FnOnce(i64) -> Vec<NewAlert>,
    ) -> Result<Imported> {
        SourceId::new(new.source)?;
        let hash = match packed {
            Some(packed) => packed.hash.clone(),
            None => content_hash(new.raw),
        };
        let captured = new
            .captured_at
            .to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
        self.write(|tx, names| import_version(tx, names, new, packed, (&hash, &captured), alerts))
    }

    /// The snapshots of a source whose document is `hash`, captured within
    /// `window` of `at`: (id, origin).
    pub(crate) fn same_document_near(
        &self,
        source: &str,
        hash: &str,
        at: DateTime<Utc>,
        window: chrono::Duration,
    ) -> Result<Vec<(i64, String)>> {
        let time = |t: DateTime<Utc>| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
        let mut stmt = self.conn.prepare_cached(
            "SELECT id, origin FROM snapshot
             WHERE source_id = ?1 AND captured_at BETWEEN ?2 AND ?3 AND document_hash = ?4
             ORDER BY captured_at, id",
        )?;
        let rows = stmt.query_map(
            params![source, time(at - window), time(at + window), hash],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// The latest snapshot of a source that has scope: the one in force.
    pub fn latest_good(&self, source: &str) -> Result<Option<StoredSnapshot>> {
        let id: Option<i64> = self
            .conn
            .prepare_cached(
                "SELECT id FROM snapshot WHERE source_id = ?1 AND scope_found = 1
                 ORDER BY captured_at DESC, id DESC LIMIT 1",
            )?
            .query_row([source], |r| r.get(0))
            .optional()?;
        id.map(|id| self.load(id)).transpose()
    }

    /// Every stored version, in capture order per source, without loading
    /// their scope.
    pub fn versions(&self, source: Option<&str>) -> Result<Vec<VersionRef>> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT id, source_id, captured_at, scope_found FROM snapshot
             WHERE ?1 IS NULL OR source_id = ?1
             ORDER BY source_id, captured_at, id",
        )?;
        let rows = stmt.query_map([source], |r| {
            Ok((
                r.get::<_, i64>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
                r.get::<_, bool>(3)?,
            ))
        })?;
        rows.map(|row| {
            let (id, source, captured, has_scope) = row?;
            let captured_at = parse_time(&captured, id)?;
            Ok(VersionRef {
                id,
                source,
                captured_at,
                has_scope,
            })
        })
        .collect()
    }

    /// Per source, the latest version with scope captured before `end`: a
    /// version without scope never stands in for the page's state.
    pub(crate) fn latest_good_before(&self, end: DateTime<Utc>) -> Result<Vec<VersionRef>> {
        let end = end.to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
        let ids: Vec<String> = {
            let mut stmt = self
                .conn
                .prepare_cached("SELECT id FROM source ORDER BY id")?;
            stmt.query_map([], |r| r.get(0))?
                .collect::<Result<_, _>>()?
        };
        let mut stmt = self.conn.prepare_cached(
            "SELECT id, captured_at, scope_found FROM snapshot WHERE source_id = ?1 AND captured_at < ?2
             AND scope_found = 1 ORDER BY captured_at DESC, id DESC LIMIT 1",
        )?;
        let mut found = Vec::new();
        for source in ids {
            let row: Option<(i64, String, bool)> = stmt
                .query_row(params![source, end], |r| {
                    Ok((r.get(0)?, r.get(1)?, r.get(2)?))
                })
                .optional()?;
            if let Some((id, captured, has_scope)) = row {
                found.push(VersionRef {
                    id,
                    source,
                    captured_at: parse_time(&captured, id)?,
                    has_scope,
                });
            }
        }
        Ok(found)
    }

    /// Which of the given snapshots were read with a scope-matrix profile.
    pub(crate) fn read_as_matrix(&self, ids: &[i64]) -> Result<HashSet<i64>> {
        let placeholders = vec!["?"; ids.len()].join(", ");
        let mut stmt = self.conn.prepare(&format!(
            "SELECT id FROM snapshot WHERE profile IS NOT NULL AND id IN ({placeholders})"
        ))?;
        let rows = stmt.query_map(rusqlite::params_from_iter(ids), |r| r.get(0))?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Rebuilds snapshots from their stored raw documents with `extract`, in
    /// one transaction: all of them with `all`, else those made by another
    /// parser version. Nothing is fetched.
    pub(crate) fn reparse(
        &mut self,
        all: bool,
        extract: impl Fn(&RawVersion) -> Result<Snapshot>,
        progress: &dyn Fn(crate::Step),
    ) -> Result<Reparsed> {
        let tx = self.conn.transaction()?;
        // Its own dictionary cache: it dies with the transaction if that
        // rolls back.
        let mut names = NameIds::default();
        let ids: Vec<i64> = {
            let mut stmt =
                tx.prepare("SELECT id FROM snapshot WHERE ?1 OR parser_version <> ?2 ORDER BY id")?;
            stmt.query_map(params![all, PARSER_VERSION], |r| r.get(0))?
                .collect::<Result<_, _>>()?
        };
        let mut report = Reparsed {
            checked: ids.len(),
            ..Reparsed::default()
        };
        let total = ids.len();
        for (done, id) in ids.into_iter().enumerate() {
            progress(crate::Step { done, total });
            let version = raw_version(&tx, id)?;
            let snapshot = extract(&version)?;
            let before = stored_extraction(&tx, id)?;
            let set = service_set(&tx, &mut names, &snapshot.scopes)?;
            tx.execute(
                "UPDATE snapshot SET page_date = ?2, title = ?3, locale = coalesce(?4, locale), form = ?5,
                        parser_version = ?6, scope_found = ?7, warnings = ?8, extraction = ?9,
                        service_set_id = ?10
                 WHERE id = ?1",
                params![
                    id,
                    snapshot.published.map(|d| d.to_string()),
                    snapshot.title,
                    snapshot.locale,
                    snapshot.form.as_str(),
                    PARSER_VERSION,
                    snapshot.has_scope(),
                    serde_json::to_string(&snapshot.warnings).unwrap_or_else(|_| "[]".into()),
                    extraction(&snapshot.scopes, &snapshot.links)?,
                    set,
                ],
            )?;
            report.rebuilt += 1;
            if before != (snapshot.scopes, snapshot.links) {
                report.changed += 1;
            }
        }
        // Sets no snapshot lists any more.
        tx.execute_batch(super::index::DROP_UNUSED_SETS)?;
        tx.commit()?;
        Ok(report)
    }

    /// The id of the snapshot in force at the end of `date`: the latest one
    /// captured that day or before that has scope. Versions whose extraction
    /// found no scope are kept but never stand in for the page's scope.
    pub(crate) fn snapshot_id_at(&self, source: &str, date: NaiveDate) -> Result<Option<i64>> {
        let end = date
            .succ_opt()
            .unwrap_or(date)
            .and_hms_opt(0, 0, 0)
            .map(|t| {
                t.and_utc()
                    .to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
            })
            .unwrap_or_default();
        let id: Option<i64> = self
            .conn
            .prepare_cached(
                "SELECT id FROM snapshot
                 WHERE source_id = ?1 AND captured_at < ?2 AND scope_found = 1
                 ORDER BY captured_at DESC, id DESC LIMIT 1",
            )?
            .query_row(params![source, end], |r| r.get(0))
            .optional()?;
        Ok(id)
    }

    /// Every snapshot of a source, oldest first.
    pub fn history(&self, source: &str) -> Result<Vec<StoredSnapshot>> {
        let mut stmt = self
            .conn
            .prepare("SELECT id FROM snapshot WHERE source_id = ?1 ORDER BY captured_at, id")?;
        let ids: Vec<i64> = stmt
            .query_map([source], |r| r.get(0))?
            .collect::<Result<_, _>>()?;
        ids.into_iter().map(|id| self.load(id)).collect()
    }

    /// Loads a stored snapshot: its row and its extraction.
    pub fn load(&self, id: i64) -> Result<StoredSnapshot> {
        type Head = (
            String,
            String,
            String,
            Option<String>,
            Option<String>,
            Option<String>,
            String,
            u32,
            String,
            Option<Vec<u8>>,
            Option<String>,
            Option<String>,
            Option<String>,
        );
        let head: Head = self.conn.prepare_cached(
            "SELECT source_id, captured_at, document_hash, page_date, title, locale, form, parser_version, warnings,
                    extraction, source_commit, document_id, profile
             FROM snapshot WHERE id = ?1",
        )?.query_row(
            [id],
            |r| {
                Ok((
                    r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?, r.get(5)?, r.get(6)?, r.get(7)?, r.get(8)?,
                    r.get(9)?, r.get(10)?, r.get(11)?, r.get(12)?,
                ))
            },
        )?;
        let (
            source,
            captured,
            hash,
            page_date,
            title,
            locale,
            form,
            parser_version,
            warnings,
            extraction,
            commit,
            document_id,
            profile,
        ) = head;
        let corrupt = |what: &str| Error::Corrupt(format!("snapshot {id}: {what}"));
        let captured_at = parse_time(&captured, id)?;
        let snapshot = Snapshot {
            title,
            locale,
            published: page_date
                .as_deref()
                .and_then(|d| NaiveDate::parse_from_str(d, "%Y-%m-%d").ok()),
            form: PageForm::from_name(&form).ok_or_else(|| corrupt("unknown page form"))?,
            scopes: Vec::new(),
            links: Vec::new(),
            includes: Vec::new(),
            warnings: serde_json::from_str(&warnings).map_err(|_| corrupt("bad warnings"))?,
            body: String::new(),
            truncated: false,
            provenance: Provenance {
                commit,
                document_id,
                ..Provenance::default()
            },
            read_with: profile
                .as_deref()
                .and_then(|p| serde_json::from_str(p).ok()),
        };
        let mut snapshot = snapshot;
        (snapshot.scopes, snapshot.links) = decode_extraction(id, extraction)?;
        Ok(StoredSnapshot {
            id,
            source,
            captured_at,
            document_hash: hash,
            parser_version,
            snapshot,
        })
    }
}

/// Stores a version unless the source already has the same content in
/// force at that time, inside the caller's transaction.
fn import_version(
    tx: &Connection,
    names: &mut NameIds,
    new: &NewSnapshot<'_>,
    packed: Option<&Packed>,
    (hash, captured): (&str, &str),
    alerts: impl FnOnce(i64) -> Vec<NewAlert>,
) -> Result<Imported> {
    let previous: Option<(i64, String)> = tx
        .prepare_cached(
            "SELECT id, document_hash FROM snapshot
             WHERE source_id = ?1 AND captured_at <= ?2
             ORDER BY captured_at DESC, id DESC LIMIT 1",
        )?
        .query_row(params![new.source, captured], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })
        .optional()?;
    let include_hashes: Vec<(String, String)> = new
        .includes
        .iter()
        .map(|(target, bytes)| (target.clone(), content_hash(bytes)))
        .collect();
    if let Some((id, previous_hash)) = previous
        && previous_hash == hash
        && stored_includes(tx, id)? == include_hashes
    {
        return Ok(Imported::Unchanged(id));
    }
    write_version(
        tx,
        names,
        new,
        packed,
        (hash, captured),
        &include_hashes,
        alerts,
    )
    .map(Imported::Stored)
}

/// Writes a new version with its document, includes and alerts, inside
/// the caller's transaction; returns the snapshot's id.
fn write_version(
    tx: &Connection,
    names: &mut NameIds,
    new: &NewSnapshot<'_>,
    packed: Option<&Packed>,
    (hash, captured): (&str, &str),
    include_hashes: &[(String, String)],
    alerts: impl FnOnce(i64) -> Vec<NewAlert>,
) -> Result<i64> {
    refuse_case_twin(tx, new.source)?;
    tx.prepare_cached(
        "INSERT INTO source (id, title, locale, created_at) VALUES (?1, ?2, ?3, ?4)
         ON CONFLICT (id) DO UPDATE SET
           title = coalesce(excluded.title, source.title),
           locale = coalesce(excluded.locale, source.locale)",
    )?
    .execute(params![
        new.source,
        new.snapshot.title,
        new.snapshot.locale,
        Utc::now().to_rfc3339()
    ])?;
    let form = new.snapshot.form.as_str();
    insert_document(tx, hash, form, new.raw, packed.map(|p| &p.document[..]))?;
    let id = insert_snapshot(tx, names, new, packed, hash, captured)?;
    for ((target, bytes), (_, include_hash)) in new.includes.iter().zip(include_hashes) {
        insert_document(tx, include_hash, "markdown", bytes, None)?;
        tx.execute(
            "INSERT OR IGNORE INTO snapshot_include (snapshot_id, target, document_hash) VALUES (?1, ?2, ?3)",
            params![id, target, include_hash],
        )?;
    }
    for alert in alerts(id) {
        insert_alert(tx, &alert)?;
    }
    Ok(id)
}

/// Refuses a source id that differs from a stored one only in case: the
/// two would be one page kept as two histories.
fn refuse_case_twin(tx: &Connection, source: &str) -> Result<()> {
    let existing: Option<String> = tx
        .prepare_cached("SELECT id FROM source WHERE id = ?1 COLLATE NOCASE AND id <> ?1 LIMIT 1")?
        .query_row([source], |r| r.get(0))
        .optional()?;
    match existing {
        Some(existing) => Err(Error::SourceCase {
            given: source.to_string(),
            existing,
        }),
        None => Ok(()),
    }
}

fn insert_snapshot(
    tx: &Connection,
    names: &mut NameIds,
    new: &NewSnapshot<'_>,
    packed: Option<&Packed>,
    hash: &str,
    captured: &str,
) -> Result<i64> {
    refuse_credentials(new.origin)?;
    let s = new.snapshot;
    let set = service_set(tx, names, &s.scopes)?;
    let extraction = match packed {
        Some(packed) => std::borrow::Cow::Borrowed(&packed.extraction[..]),
        None => std::borrow::Cow::Owned(extraction(&s.scopes, &s.links)?),
    };
    tx.prepare_cached(
        "INSERT INTO snapshot (source_id, document_hash, captured_at, page_date, title, locale, form,
                               parser_version, scope_found, warnings, origin, extraction, service_set_id,
                               source_commit, document_id, profile)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16)",
    )?
    .execute(params![
            new.source,
            hash,
            captured,
            s.published.map(|d| d.to_string()),
            s.title,
            s.locale,
            s.form.as_str(),
            PARSER_VERSION,
            s.has_scope(),
            serde_json::to_string(&s.warnings).unwrap_or_else(|_| "[]".into()),
            new.origin,
            &extraction[..],
            set,
            s.provenance.commit,
            s.provenance.document_id,
            s.read_with.as_ref().and_then(|p| serde_json::to_string(p).ok()),
        ])?;
    Ok(tx.last_insert_rowid())
}

/// What storing a version costs before the database is touched: the
/// document's hash, the document compressed and the extraction packed.
/// The nightly job makes it on the fetch worker that parsed the page: when
/// every page changes, the one thread that writes is the run's bottleneck.
#[derive(Debug)]
pub(crate) struct Packed {
    hash: String,
    document: Vec<u8>,
    extraction: Vec<u8>,
}

impl Packed {
    /// A page and the snapshot read from it, packed; none when the page is
    /// `stored` (the hash of the document stored last), which storing
    /// would not write again.
    pub(crate) fn unless_stored(
        raw: &[u8],
        snapshot: &Snapshot,
        stored: Option<&str>,
    ) -> Result<Option<Self>> {
        let hash = content_hash(raw);
        if stored == Some(hash.as_str()) {
            return Ok(None);
        }
        Ok(Some(Self {
            hash,
            document: compress(raw)?,
            extraction: extraction(&snapshot.scopes, &snapshot.links)?,
        }))
    }
}

/// A snapshot's scopes and links as one compressed JSON value: the record
/// of its extraction (schema v5, the only one since v6).
pub(super) fn extraction(scopes: &[Scope], links: &[Link]) -> Result<Vec<u8>> {
    let json = serde_json::to_vec(&(scopes, links)).map_err(|e| Error::Corrupt(e.to_string()))?;
    compress(&json)
}

/// Reads back what [`extraction`] wrote.
pub(super) fn decode_extraction(
    id: i64,
    packed: Option<Vec<u8>>,
) -> Result<(Vec<Scope>, Vec<Link>)> {
    let corrupt = |what: &str| Error::Corrupt(format!("snapshot {id}: {what}"));
    let packed = packed.ok_or_else(|| corrupt("no stored extraction"))?;
    serde_json::from_slice(&unpack("zstd", packed)?).map_err(|_| corrupt("bad stored extraction"))
}

/// A stored snapshot's scopes and links.
pub(super) fn stored_extraction(conn: &Connection, id: i64) -> Result<(Vec<Scope>, Vec<Link>)> {
    let packed = conn
        .prepare_cached("SELECT extraction FROM snapshot WHERE id = ?1")?
        .query_row([id], |r| r.get(0))?;
    decode_extraction(id, packed)
}

/// Reads a stored time. They are written as `YYYY-MM-DDTHH:MM:SSZ`, which
/// is read directly: a timeline reads tens of thousands of them, and a
/// general RFC 3339 parser made that its main cost.
pub(super) fn parse_time(text: &str, snapshot: i64) -> Result<DateTime<Utc>> {
    let b = text.as_bytes();
    let fixed = b.len() == 20
        && b[4] == b'-'
        && b[7] == b'-'
        && b[10] == b'T'
        && b[13] == b':'
        && b[16] == b':'
        && b[19] == b'Z';
    let num = |r: std::ops::Range<usize>| text.get(r).and_then(|t| t.parse::<u32>().ok());
    let quick = fixed
        .then(|| {
            let date = NaiveDate::from_ymd_opt(num(0..4)? as i32, num(5..7)?, num(8..10)?)?;
            Some(
                date.and_hms_opt(num(11..13)?, num(14..16)?, num(17..19)?)?
                    .and_utc(),
            )
        })
        .flatten();
    match quick {
        Some(t) => Ok(t),
        None => DateTime::parse_from_rfc3339(text)
            .map(|t| t.with_timezone(&Utc))
            .map_err(|_| Error::Corrupt(format!("bad stored time {text:?} (snapshot {snapshot})"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::extract::snapshot;
    use crate::parse::parse_str;
    use crate::store::testing::{V1, day, first_version};

    #[test]
    fn round_trip_and_dedup() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = Store::open(&dir.path().join("t.db")).unwrap();
        let snap = snapshot(parse_str(V1));
        let new = first_version(&snap);
        let Imported::Stored(id) = store.import(&new).unwrap() else {
            panic!()
        };
        assert_eq!(store.import(&new).unwrap(), Imported::Unchanged(id));
        let later = NewSnapshot {
            captured_at: day("2021-02-01"),
            ..new
        };
        assert_eq!(store.import(&later).unwrap(), Imported::Unchanged(id));

        let loaded = store.load(id).unwrap();
        assert_eq!(loaded.snapshot.scopes, snap.scopes);
        assert_eq!(loaded.snapshot.links, snap.links);
        assert_eq!(loaded.document_hash, content_hash(V1.as_bytes()));
        assert_eq!(
            store
                .snapshot_id_at("offering-x", NaiveDate::from_ymd_opt(2020, 12, 31).unwrap())
                .unwrap(),
            None
        );
        assert_eq!(
            store
                .snapshot_id_at("offering-x", NaiveDate::from_ymd_opt(2021, 1, 1).unwrap())
                .unwrap(),
            Some(id)
        );
        assert_eq!(store.sources().unwrap()[0].snapshots, 1);
    }

    /// A version packed beforehand (as the nightly job's fetch workers do)
    /// is stored exactly as one the store packs itself, and is not packed
    /// at all when it is the document stored last.
    #[test]
    fn a_packed_version_is_stored_as_an_unpacked_one() {
        let dir = tempfile::tempdir().unwrap();
        let snap = snapshot(parse_str(V1));
        let new = first_version(&snap);
        let rows = |packed: Option<&Packed>| {
            let path = dir.path().join(format!("{}.db", packed.is_some()));
            let mut store = Store::open(&path).unwrap();
            let Imported::Stored(id) = store
                .import_with_alerts(&new, packed, |_| Vec::new())
                .unwrap()
            else {
                panic!("not stored")
            };
            assert!(store.check_documents().unwrap().is_empty());
            assert_eq!(store.raw_version(id).unwrap().raw, V1.as_bytes());
            assert_eq!(store.load(id).unwrap().snapshot.scopes, snap.scopes);
            store
                .conn
                .query_row(
                    "SELECT d.hash, d.size, d.body, s.extraction FROM snapshot s
                     JOIN document d ON d.hash = s.document_hash WHERE s.id = ?1",
                    [id],
                    |r| {
                        Ok((
                            r.get::<_, String>(0)?,
                            r.get::<_, i64>(1)?,
                            r.get::<_, Vec<u8>>(2)?,
                            r.get::<_, Vec<u8>>(3)?,
                        ))
                    },
                )
                .unwrap()
        };
        let packed = Packed::unless_stored(V1.as_bytes(), &snap, None)
            .unwrap()
            .unwrap();
        assert_eq!(rows(Some(&packed)), rows(None));

        let stored = content_hash(V1.as_bytes());
        assert!(
            Packed::unless_stored(V1.as_bytes(), &snap, Some(&stored))
                .unwrap()
                .is_none()
        );
    }

    #[test]
    fn versions_without_scope_never_stand_in() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = Store::open(&dir.path().join("t.db")).unwrap();
        let good = snapshot(parse_str(V1));
        let empty_raw = "# T\n\n## Overview\n\nThis page moved.\n";
        let empty = snapshot(parse_str(empty_raw));
        store
            .import(&NewSnapshot {
                source: "s",
                captured_at: day("2021-01-01"),
                raw: V1.as_bytes(),
                snapshot: &good,
                origin: "t",
                includes: &[],
            })
            .unwrap();
        store
            .import(&NewSnapshot {
                source: "s",
                captured_at: day("2021-02-01"),
                raw: empty_raw.as_bytes(),
                snapshot: &empty,
                origin: "t",
                includes: &[],
            })
            .unwrap();
        let at = store
            .snapshot_id_at("s", NaiveDate::from_ymd_opt(2021, 3, 1).unwrap())
            .unwrap()
            .unwrap();
        assert!(store.load(at).unwrap().snapshot.has_scope());
        assert_eq!(store.history("s").unwrap().len(), 2);
    }
}

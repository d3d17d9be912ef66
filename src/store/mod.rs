//! SQLite history: raw documents (content-addressed, stored once), snapshots
//! with their extracted scope and links, and an index of the services each
//! snapshot lists.
//!
//! Every write is one transaction, the journal is a WAL, and the schema moves
//! forward by numbered migrations ([`schema`]), so a crash or an upgrade never
//! leaves a half-written history.

mod archive;
mod checkpoint;
mod index;
mod legacy;
mod schema;

pub use archive::Counts;

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use chrono::{DateTime, NaiveDate, Utc};
use rusqlite::{Connection, OptionalExtension, params};
use sha2::{Digest, Sha256};

use checkpoint::Checkpoints;
use index::{NameIds, service_set};

use crate::model::{Link, PageForm, Scope, Snapshot};
use crate::{Error, PARSER_VERSION, Result};

/// The history database.
pub struct Store {
    conn: Connection,
    path: PathBuf,
    names: NameIds,
    /// The nightly job's background checkpoints ([`Store::use_job_settings`]).
    checkpoints: Checkpoints,
}

/// A page version to store.
#[derive(Debug, Clone, Copy)]
pub struct NewSnapshot<'a> {
    pub source: &'a str,
    pub captured_at: DateTime<Utc>,
    pub raw: &'a [u8],
    pub snapshot: &'a Snapshot,
    /// Where the version came from: a file path, a URL, a commit.
    pub origin: &'a str,
    /// The `[!INCLUDE]` documents the page was read with: target and bytes.
    pub includes: &'a [(String, Vec<u8>)],
}

/// Documents a page included: the target as written, and its bytes.
pub type Included = Vec<(String, Vec<u8>)>;

/// A stored version as reparsing needs it: raw bytes and included documents.
#[derive(Debug, Clone)]
pub struct RawVersion {
    pub id: i64,
    pub source: String,
    pub origin: String,
    pub raw: Vec<u8>,
    pub includes: Included,
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

/// A tracked page and how much history it has.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct SourceInfo {
    pub id: String,
    pub title: Option<String>,
    pub snapshots: u64,
    pub first: Option<String>,
    pub last: Option<String>,
}

/// An alert waiting for delivery on a channel.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PendingAlert {
    pub id: i64,
    pub channel: String,
    pub source: String,
    pub subject: String,
    pub body: String,
    pub payload: String,
    pub attempts: i64,
}

/// An alert to put in the ledger.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewAlert {
    pub channel: String,
    pub source: String,
    /// Identifies the event: the same event is never queued twice per channel.
    pub event_key: String,
    pub subject: String,
    pub body: String,
    pub payload: String,
}

/// Holds the database's write lock until dropped.
#[derive(Debug)]
pub struct WriteLock {
    file: std::fs::File,
}

impl Drop for WriteLock {
    fn drop(&mut self) {
        let _ = fs4::fs_std::FileExt::unlock(&self.file);
    }
}

/// Takes the lock that keeps two runs from writing one database at once.
pub fn lock(db: &Path) -> Result<WriteLock> {
    let path = PathBuf::from(format!("{}.lock", db.display()));
    let io = |source| Error::Read {
        path: path.clone(),
        source,
    };
    let mut file = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(&path)
        .map_err(io)?;
    match fs4::fs_std::FileExt::try_lock_exclusive(&file) {
        Ok(true) => {
            use std::io::{Seek, Write};
            file.set_len(0).map_err(io)?;
            file.seek(std::io::SeekFrom::Start(0)).map_err(io)?;
            write!(file, "{}", std::process::id()).map_err(io)?;
            Ok(WriteLock { file })
        }
        Ok(false) => {
            let holder = std::fs::read_to_string(&path).unwrap_or_default();
            Err(Error::Locked {
                db: db.to_path_buf(),
                holder: holder.trim().to_string(),
            })
        }
        Err(source) => Err(io(source)),
    }
}

/// SHA-256 of raw page bytes, as stored.
pub fn content_hash(raw: &[u8]) -> String {
    hex::encode(Sha256::digest(raw))
}

/// How many pages (of 4 KiB) the log may hold during the nightly job
/// before they are copied into the database: 40 MiB.
const JOB_CHECKPOINT_PAGES: i64 = 10_000;

impl Store {
    /// Opens (creating if needed) a database and brings its schema up to date.
    pub fn open(path: &Path) -> Result<Self> {
        let wrap = |source| Error::Database {
            path: path.to_path_buf(),
            source,
        };
        create_private(path)?;
        let mut conn = Connection::open(path).map_err(wrap)?;
        conn.busy_timeout(std::time::Duration::from_secs(10))
            .map_err(wrap)?;
        conn.pragma_update(None, "journal_mode", "WAL")
            .map_err(wrap)?;
        // In WAL mode NORMAL survives a killed process (tests/crash.rs) and
        // skips an fsync per commit; after a power cut only the last commits
        // can roll back, and the next run stores them again.
        conn.pragma_update(None, "synchronous", "NORMAL")
            .map_err(wrap)?;
        // Years of history are hundreds of megabytes: map them rather than
        // copy every page through read(), and keep more of them cached.
        conn.pragma_update(None, "mmap_size", 1_i64 << 30)
            .map_err(wrap)?;
        conn.pragma_update(None, "cache_size", -65_536)
            .map_err(wrap)?;
        conn.pragma_update(None, "foreign_keys", "ON")
            .map_err(wrap)?;
        schema::migrations().to_latest(&mut conn)?;
        Ok(Store {
            conn,
            path: path.to_path_buf(),
            names: NameIds::default(),
            checkpoints: Checkpoints::Off,
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Opens a transaction that later writes join until
    /// [`Store::commit_batch`]: one commit for many versions. A version
    /// that fails to be written rolls the whole batch back (no half-written
    /// version can be committed), and closing the store without committing
    /// rolls the batch back too.
    pub fn begin_batch(&mut self) -> Result<()> {
        if self.conn.is_autocommit() {
            self.conn.execute_batch("BEGIN IMMEDIATE")?;
        }
        Ok(())
    }

    /// Rolls back the open batch, if any, after a failed write in it.
    fn abandon_batch(&mut self) {
        if !self.conn.is_autocommit()
            && let Err(e) = self.conn.execute_batch("ROLLBACK")
        {
            tracing::warn!(error = %e, "rolling back a failed batch");
        }
        self.names.forget();
    }

    /// Commits the batch opened by [`Store::begin_batch`], if any.
    pub fn commit_batch(&mut self) -> Result<()> {
        if self.commit()? {
            self.checkpoints.nudge(&self.path);
        }
        Ok(())
    }

    /// Commits the last batch of a run and stops the background
    /// checkpoints: closing the store copies that batch at once, and a
    /// checkpoint thread would only make the close wait for it.
    pub fn commit_last_batch(&mut self) -> Result<()> {
        self.checkpoints.stop();
        self.commit().map(drop)
    }

    /// Commits the open batch; false when there was none.
    fn commit(&mut self) -> Result<bool> {
        if self.conn.is_autocommit() {
            return Ok(false);
        }
        if let Err(e) = self.conn.execute_batch("COMMIT") {
            self.names.forget();
            return Err(e.into());
        }
        Ok(true)
    }

    /// For the nightly job, which writes a little to many sources and reads
    /// back only each one's latest version: no memory map and a small page
    /// cache, so that its memory stays small and does not grow with history.
    /// Temporary b-trees (sorts, statement journals) stay in memory rather
    /// than in temporary files, which halved the job's system time.
    ///
    /// After each batch but the last, a second connection copies the log
    /// into the database ([`checkpoint`]) while the fetch workers go on.
    /// This connection copies it at close, what is left, or once it holds
    /// [`JOB_CHECKPOINT_PAGES`]: at SQLite's default of 1,000 pages, a
    /// 1,000-page first run stopped midway for about 7 ms to copy and sync
    /// it, its fetch workers idle behind the full queue.
    pub fn use_job_settings(&mut self) -> Result<()> {
        self.conn.pragma_update(None, "mmap_size", 0)?;
        self.conn.pragma_update(None, "cache_size", -1024)?;
        self.conn.pragma_update(None, "temp_store", "MEMORY")?;
        self.conn
            .pragma_update(None, "wal_autocheckpoint", JOB_CHECKPOINT_PAGES)?;
        self.checkpoints = Checkpoints::Wanted;
        Ok(())
    }

    /// Stores a page version unless the source already has the same content
    /// in force at that time. All of it is written, or none of it.
    pub fn import(&mut self, new: &NewSnapshot<'_>) -> Result<Imported> {
        self.import_with_alerts(new, |_| Vec::new())
    }

    /// As [`Store::import`], queueing the alerts the new snapshot calls for
    /// (`alerts` gets its id) in the same transaction: a crash never leaves
    /// a stored change without its alert.
    pub fn import_with_alerts(
        &mut self,
        new: &NewSnapshot<'_>,
        alerts: impl FnOnce(i64) -> Vec<NewAlert>,
    ) -> Result<Imported> {
        validate_source_id(new.source)?;
        let hash = content_hash(new.raw);
        let captured = new
            .captured_at
            .to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
        if self.conn.is_autocommit() {
            // On its own: one transaction.
            let tx = self.conn.transaction()?;
            let written = import_version(&tx, &mut self.names, new, (&hash, &captured), alerts)
                .and_then(|imported| {
                    tx.commit()?;
                    Ok(imported)
                });
            if written.is_err() {
                // Rolled back: names it added to the dictionary are gone again.
                self.names.forget();
            }
            return written;
        }
        // Inside a batch, a savepoint per version would copy every page it
        // touches to a sub-journal (about 8% of the store thread's work).
        // A failed version rolls the whole batch back instead, so that
        // nothing of it can be committed half-written; the next run fetches
        // the batch's pages again.
        let written = import_version(&self.conn, &mut self.names, new, (&hash, &captured), alerts);
        if written.is_err() {
            self.abandon_batch();
        }
        written
    }

    /// Records that a source's page was retired (its file deleted) at a time.
    /// Returns false when that was already known.
    pub fn retire(&mut self, source: &str, at: DateTime<Utc>, origin: &str) -> Result<bool> {
        self.require_source(source)?;
        let at = at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
        let n = self.conn.execute(
            "INSERT OR IGNORE INTO retirement (source_id, retired_at, origin) VALUES (?1, ?2, ?3)",
            params![source, at, origin],
        )?;
        Ok(n > 0)
    }

    /// When a source's page was retired, oldest first.
    pub fn retirements(&self, source: &str) -> Result<Vec<DateTime<Utc>>> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT retired_at FROM retirement WHERE source_id = ?1 ORDER BY retired_at",
        )?;
        let rows: Vec<String> = stmt
            .query_map([source], |r| r.get(0))?
            .collect::<Result<_, _>>()?;
        rows.iter().map(|t| parse_time(t, 0)).collect()
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

    /// Records one fetch attempt.
    pub fn record_attempt(&self, source: &str, url: &str, a: &crate::fetch::Attempt) -> Result<()> {
        self.conn
            .prepare_cached(
                "INSERT INTO fetch_attempt (source_id, url, started_at, elapsed_ms, status, bytes, error)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            )?
            .execute(params![
                source,
                url,
                a.started_at.to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
                a.elapsed_ms as i64,
                a.status,
                a.bytes as i64,
                a.error
            ],
        )?;
        Ok(())
    }

    /// The attempts recorded for a source, oldest first: (status, error).
    pub fn attempts(&self, source: &str) -> Result<Vec<(Option<u16>, Option<String>)>> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT status, error FROM fetch_attempt WHERE source_id = ?1 ORDER BY id",
        )?;
        let rows = stmt.query_map([source], |r| Ok((r.get(0)?, r.get(1)?)))?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// What each server last said about each source's version, by source:
    /// one query for the whole job, rather than one per source before the
    /// first page can be fetched.
    pub fn all_validators(&self) -> Result<HashMap<String, crate::fetch::Validators>> {
        let mut stmt = self
            .conn
            .prepare("SELECT source_id, etag, last_modified FROM fetch_state")?;
        let rows = stmt.query_map([], |r| {
            let validators = crate::fetch::Validators {
                etag: r.get(1)?,
                last_modified: r.get(2)?,
            };
            Ok((r.get(0)?, validators))
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// Remembers the validators of a page just checked.
    pub fn set_validators(&self, source: &str, v: &crate::fetch::Validators) -> Result<()> {
        self.conn
            .prepare_cached(
                "INSERT INTO fetch_state (source_id, etag, last_modified, checked_at) VALUES (?1, ?2, ?3, ?4)
                 ON CONFLICT (source_id) DO UPDATE SET
                   etag = excluded.etag, last_modified = excluded.last_modified, checked_at = excluded.checked_at",
            )?
            .execute(params![source, v.etag, v.last_modified, Utc::now().to_rfc3339()])?;
        Ok(())
    }

    /// Queues alerts, all or none; an event already queued for a channel
    /// (sent or not) is not queued again.
    pub fn enqueue_alerts(&mut self, alerts: &[NewAlert]) -> Result<()> {
        let tx = self.conn.savepoint()?;
        for alert in alerts {
            insert_alert(&tx, alert)?;
        }
        tx.commit()?;
        Ok(())
    }

    /// Alerts not yet delivered, oldest first.
    pub fn pending_alerts(&self) -> Result<Vec<PendingAlert>> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT id, channel, source_id, subject, body, payload, attempts FROM alert
             WHERE sent_at IS NULL ORDER BY id",
        )?;
        let rows = stmt.query_map([], |r| {
            Ok(PendingAlert {
                id: r.get(0)?,
                channel: r.get(1)?,
                source: r.get(2)?,
                subject: r.get(3)?,
                body: r.get(4)?,
                payload: r.get(5)?,
                attempts: r.get(6)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Records a delivery attempt: sent, or failed with a reason.
    pub fn alert_delivered(&self, id: i64, outcome: std::result::Result<(), &str>) -> Result<()> {
        match outcome {
            Ok(()) => self.conn.execute(
                "UPDATE alert SET sent_at = ?2, attempts = attempts + 1, last_error = NULL WHERE id = ?1",
                params![id, Utc::now().to_rfc3339()],
            )?,
            Err(e) => self.conn.execute(
                "UPDATE alert SET attempts = attempts + 1, last_error = ?2 WHERE id = ?1",
                params![id, e],
            )?,
        };
        Ok(())
    }

    /// Checks the database file and that every raw document matches its
    /// hash; returns the problems found.
    pub fn check_documents(&self) -> Result<Vec<String>> {
        let mut problems = Vec::new();
        let integrity: String = self
            .conn
            .query_row("PRAGMA integrity_check", [], |r| r.get(0))?;
        if integrity != "ok" {
            problems.push(format!("SQLite integrity check: {integrity}"));
        }
        let mut stmt = self
            .conn
            .prepare("SELECT hash, compression, body FROM document ORDER BY hash")?;
        let rows = stmt.query_map([], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, Vec<u8>>(2)?,
            ))
        })?;
        for row in rows {
            let (hash, compression, stored) = row?;
            let body = unpack(&compression, stored).unwrap_or_default();
            if content_hash(&body) != hash {
                problems.push(format!(
                    "document {hash}: its content does not match its hash"
                ));
            }
        }
        Ok(problems)
    }

    /// A stored version's raw document and includes, as stored.
    pub fn raw_version(&self, id: i64) -> Result<RawVersion> {
        raw_version(&self.conn, id)
    }

    /// The published URL of a source, if known.
    pub fn source_url(&self, source: &str) -> Result<Option<String>> {
        Ok(self
            .conn
            .query_row("SELECT url FROM source WHERE id = ?1", [source], |r| {
                r.get(0)
            })
            .optional()?
            .flatten())
    }

    /// Sets the published URL of a source.
    pub fn set_source_url(&mut self, source: &str, url: &str) -> Result<()> {
        self.conn
            .prepare_cached("UPDATE source SET url = ?2 WHERE id = ?1")?
            .execute(params![source, url])?;
        Ok(())
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

    /// Per source, the latest version captured before `end`.
    pub fn latest_before(&self, end: DateTime<Utc>) -> Result<Vec<VersionRef>> {
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
             ORDER BY captured_at DESC, id DESC LIMIT 1",
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

    /// Every retirement, per source.
    pub fn all_retirements(&self) -> Result<HashMap<String, Vec<DateTime<Utc>>>> {
        let mut stmt = self
            .conn
            .prepare_cached("SELECT source_id, retired_at FROM retirement ORDER BY retired_at")?;
        let rows: Vec<(String, String)> = stmt
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
            .collect::<Result<_, _>>()?;
        let mut all: HashMap<String, Vec<DateTime<Utc>>> = HashMap::new();
        for (source, at) in rows {
            all.entry(source).or_default().push(parse_time(&at, 0)?);
        }
        Ok(all)
    }

    /// Rebuilds snapshots from their stored raw documents with `extract`, in
    /// one transaction: all of them with `all`, else those made by another
    /// parser version. Nothing is fetched.
    pub fn reparse(
        &mut self,
        all: bool,
        extract: impl Fn(&RawVersion) -> Result<Snapshot>,
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
        for id in ids {
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
        tx.execute_batch(
            "DELETE FROM service_set_member WHERE set_id NOT IN
                 (SELECT service_set_id FROM snapshot WHERE service_set_id IS NOT NULL);
             DELETE FROM service_set WHERE id NOT IN
                 (SELECT service_set_id FROM snapshot WHERE service_set_id IS NOT NULL);",
        )?;
        tx.commit()?;
        Ok(report)
    }

    /// Every tracked source with the extent of its history.
    pub fn sources(&self) -> Result<Vec<SourceInfo>> {
        let mut stmt = self.conn.prepare(
            "SELECT s.id, s.title, count(n.id), min(n.captured_at), max(n.captured_at)
             FROM source s LEFT JOIN snapshot n ON n.source_id = s.id
             GROUP BY s.id ORDER BY s.id",
        )?;
        let rows = stmt.query_map([], |r| {
            Ok(SourceInfo {
                id: r.get(0)?,
                title: r.get(1)?,
                snapshots: r.get::<_, i64>(2)?.max(0) as u64,
                first: r
                    .get::<_, Option<String>>(3)?
                    .map(|d| d[..10.min(d.len())].to_string()),
                last: r
                    .get::<_, Option<String>>(4)?
                    .map(|d| d[..10.min(d.len())].to_string()),
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Fails with a clear message unless the source is tracked.
    pub fn require_source(&self, source: &str) -> Result<()> {
        let known: bool = self.conn.query_row(
            "SELECT EXISTS (SELECT 1 FROM source WHERE id = ?1)",
            [source],
            |r| r.get(0),
        )?;
        if known {
            Ok(())
        } else {
            Err(Error::UnknownSource(source.to_string()))
        }
    }

    /// The snapshot in force at the end of `date`: the latest one captured
    /// that day or before that has scope. Versions whose extraction found no
    /// scope are kept but never stand in for the page's scope.
    pub fn snapshot_at(&self, source: &str, date: NaiveDate) -> Result<Option<StoredSnapshot>> {
        self.snapshot_id_at(source, date)?
            .map(|id| self.load(id))
            .transpose()
    }

    /// The id of the snapshot [`Store::snapshot_at`] returns.
    pub fn snapshot_id_at(&self, source: &str, date: NaiveDate) -> Result<Option<i64>> {
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
        );
        let head: Head = self.conn.prepare_cached(
            "SELECT source_id, captured_at, document_hash, page_date, title, locale, form, parser_version, warnings,
                    extraction
             FROM snapshot WHERE id = ?1",
        )?.query_row(
            [id],
            |r| {
                Ok((
                    r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?, r.get(5)?, r.get(6)?, r.get(7)?, r.get(8)?,
                    r.get(9)?,
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
    write_version(tx, names, new, (hash, captured), &include_hashes, alerts).map(Imported::Stored)
}

/// Writes a new version with its document, includes and alerts, inside
/// the caller's transaction; returns the snapshot's id.
fn write_version(
    tx: &Connection,
    names: &mut NameIds,
    new: &NewSnapshot<'_>,
    (hash, captured): (&str, &str),
    include_hashes: &[(String, String)],
    alerts: impl FnOnce(i64) -> Vec<NewAlert>,
) -> Result<i64> {
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
    insert_document(tx, hash, new.snapshot.form.as_str(), new.raw)?;
    let id = insert_snapshot(tx, names, new, hash, captured)?;
    for ((target, bytes), (_, include_hash)) in new.includes.iter().zip(include_hashes) {
        insert_document(tx, include_hash, "markdown", bytes)?;
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

fn insert_snapshot(
    tx: &Connection,
    names: &mut NameIds,
    new: &NewSnapshot<'_>,
    hash: &str,
    captured: &str,
) -> Result<i64> {
    let s = new.snapshot;
    let set = service_set(tx, names, &s.scopes)?;
    tx.prepare_cached(
        "INSERT INTO snapshot (source_id, document_hash, captured_at, page_date, title, locale, form,
                               parser_version, scope_found, warnings, origin, extraction, service_set_id)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)",
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
            extraction(&s.scopes, &s.links)?,
            set,
        ])?;
    Ok(tx.last_insert_rowid())
}

/// A snapshot's scopes and links as one compressed JSON value: the record
/// of its extraction (schema v5, the only one since v6).
fn extraction(scopes: &[Scope], links: &[Link]) -> Result<Vec<u8>> {
    let json = serde_json::to_vec(&(scopes, links)).map_err(|e| Error::Corrupt(e.to_string()))?;
    compress(&json)
}

/// Reads back what [`extraction`] wrote.
fn decode_extraction(id: i64, packed: Option<Vec<u8>>) -> Result<(Vec<Scope>, Vec<Link>)> {
    let corrupt = |what: &str| Error::Corrupt(format!("snapshot {id}: {what}"));
    let packed = packed.ok_or_else(|| corrupt("no stored extraction"))?;
    serde_json::from_slice(&unpack("zstd", packed)?).map_err(|_| corrupt("bad stored extraction"))
}

/// A stored snapshot's scopes and links.
fn stored_extraction(conn: &Connection, id: i64) -> Result<(Vec<Scope>, Vec<Link>)> {
    let packed = conn
        .prepare_cached("SELECT extraction FROM snapshot WHERE id = ?1")?
        .query_row([id], |r| r.get(0))?;
    decode_extraction(id, packed)
}

fn insert_alert(tx: &Connection, a: &NewAlert) -> Result<()> {
    tx.prepare_cached(
        "INSERT OR IGNORE INTO alert (channel, source_id, event_key, subject, body, payload, created_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    )?
    .execute(params![a.channel, a.source, a.event_key, a.subject, a.body, a.payload, Utc::now().to_rfc3339()],
    )?;
    Ok(())
}

/// zstd level for raw documents and extractions. Level 1 stores a page
/// about 1.5% larger than level 3 for a fifth less compressing time (a
/// tenth of a nightly run's instructions went to level 3); higher levels
/// cost much more time for little more.
const ZSTD_LEVEL: i32 = 1;

/// Stores a raw document once, compressed; its hash is of the raw bytes.
fn insert_document(tx: &Connection, hash: &str, form: &str, raw: &[u8]) -> Result<()> {
    let exists: bool = tx
        .prepare_cached("SELECT EXISTS (SELECT 1 FROM document WHERE hash = ?1)")?
        .query_row([hash], |r| r.get(0))?;
    if !exists {
        let packed = compress(raw)?;
        tx.prepare_cached(
            "INSERT INTO document (hash, size, form, compression, body) VALUES (?1, ?2, ?3, 'zstd', ?4)",
        )?
        .execute(params![hash, raw.len() as i64, form, packed])?;
    }
    Ok(())
}

/// zstd-compresses bytes for storage.
fn compress(raw: &[u8]) -> Result<Vec<u8>> {
    // A compressor holds over a megabyte of tables: make it once per thread.
    thread_local! {
        static COMPRESSOR: std::cell::RefCell<Option<zstd::bulk::Compressor<'static>>> = const { std::cell::RefCell::new(None) };
    }
    COMPRESSOR
        .with(|cell| {
            let mut cell = cell.borrow_mut();
            if cell.is_none() {
                *cell = Some(zstd::bulk::Compressor::new(ZSTD_LEVEL)?);
            }
            match cell.as_mut() {
                Some(c) => c.compress(raw),
                None => Err(std::io::Error::other("no compressor")),
            }
        })
        .map_err(|e| Error::Corrupt(format!("compressing: {e}")))
}

/// zstd-decompresses stored bytes, with a decoder made once per thread.
fn decompress(packed: &[u8]) -> std::io::Result<Vec<u8>> {
    thread_local! {
        static DECOMPRESSOR: std::cell::RefCell<Option<zstd::bulk::Decompressor<'static>>> = const { std::cell::RefCell::new(None) };
    }
    // Frames written by `compress` record their size; others are rare.
    let Some(size) = zstd::zstd_safe::get_frame_content_size(packed)
        .ok()
        .flatten()
    else {
        return zstd::decode_all(packed);
    };
    // Pages are capped at fetch time; a larger frame is damage, not a page.
    if size > 1 << 30 {
        return Err(std::io::Error::other(format!(
            "a stored frame claims {size} bytes"
        )));
    }
    DECOMPRESSOR.with(|cell| {
        let mut cell = cell.borrow_mut();
        if cell.is_none() {
            *cell = Some(zstd::bulk::Decompressor::new()?);
        }
        match cell.as_mut() {
            Some(d) => d.decompress(packed, usize::try_from(size).unwrap_or(usize::MAX)),
            None => Err(std::io::Error::other("no decompressor")),
        }
    })
}

/// A stored document body as its raw bytes.
fn unpack(compression: &str, stored: Vec<u8>) -> Result<Vec<u8>> {
    match compression {
        "none" => Ok(stored),
        "zstd" => decompress(&stored)
            .map_err(|e| Error::Corrupt(format!("stored data does not decompress: {e}"))),
        other => Err(Error::Corrupt(format!(
            "unknown document compression {other:?}"
        ))),
    }
}

/// The includes a snapshot was read with, as (target, document hash).
fn stored_includes(conn: &Connection, snapshot_id: i64) -> Result<Vec<(String, String)>> {
    let mut stmt = conn.prepare_cached(
        "SELECT target, document_hash FROM snapshot_include WHERE snapshot_id = ?1 ORDER BY rowid",
    )?;
    let rows = stmt.query_map([snapshot_id], |r| Ok((r.get(0)?, r.get(1)?)))?;
    Ok(rows.collect::<Result<_, _>>()?)
}

fn raw_version(conn: &Connection, id: i64) -> Result<RawVersion> {
    let (source, origin, compression, stored): (String, String, String, Vec<u8>) = conn.query_row(
        "SELECT n.source_id, n.origin, d.compression, d.body FROM snapshot n JOIN document d ON d.hash = n.document_hash
         WHERE n.id = ?1",
        [id],
        |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
    )?;
    let raw = unpack(&compression, stored)?;
    let mut stmt = conn.prepare_cached(
        "SELECT i.target, d.compression, d.body FROM snapshot_include i JOIN document d ON d.hash = i.document_hash
         WHERE i.snapshot_id = ?1 ORDER BY i.rowid",
    )?;
    let rows: Vec<(String, String, Vec<u8>)> = stmt
        .query_map([id], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?
        .collect::<Result<_, _>>()?;
    let includes = rows
        .into_iter()
        .map(|(target, compression, stored)| Ok((target, unpack(&compression, stored)?)))
        .collect::<Result<_>>()?;
    Ok(RawVersion {
        id,
        source,
        origin,
        raw,
        includes,
    })
}

/// Reads a stored time. They are written as `YYYY-MM-DDTHH:MM:SSZ`, which
/// is read directly: parsing tens of thousands of them through a general
/// RFC 3339 parser was most of a timeline query.
fn parse_time(text: &str, snapshot: i64) -> Result<DateTime<Utc>> {
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

/// Source ids name files and URLs' last segments; keep them plain.
pub fn validate_source_id(id: &str) -> Result<()> {
    crate::model::SourceId::new(id)?;
    Ok(())
}

/// Creates the database file readable by its owner only: it may hold pages
/// fetched with credentials and is evidence for audits.
fn create_private(path: &Path) -> Result<()> {
    if path.exists() {
        return Ok(());
    }
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    match options.open(path) {
        Ok(_) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
        Err(source) => Err(Error::Read {
            path: path.to_path_buf(),
            source,
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::index::{FORMERLY, LISTED, index_entries};
    use super::*;
    use crate::canon::ServiceKey;
    use crate::extract::snapshot;
    use crate::parse::parse_str;

    fn day(d: &str) -> DateTime<Utc> {
        NaiveDate::parse_from_str(d, "%Y-%m-%d")
            .unwrap()
            .and_hms_opt(0, 0, 0)
            .unwrap()
            .and_utc()
    }

    const V1: &str = "# T\n\n## In-scope services\n\n- Azure, Azure Government\n- Power Automate (formerly Microsoft Flow) cloud service\n\n| Applicability | In-scope services |\n|--|--|\n| GCC | Forms |\n\n## Audits, reports, and certificates\n\n- [Cert](https://r.example/c)\n";

    /// `V1` as the first version of source `offering-x`.
    fn first_version(snap: &Snapshot) -> NewSnapshot<'_> {
        NewSnapshot {
            source: "offering-x",
            captured_at: day("2021-01-01"),
            raw: V1.as_bytes(),
            snapshot: snap,
            origin: "test",
            includes: &[],
        }
    }

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
        assert!(
            store
                .snapshot_at("offering-x", NaiveDate::from_ymd_opt(2020, 12, 31).unwrap())
                .unwrap()
                .is_none()
        );
        assert_eq!(
            store
                .snapshot_at("offering-x", NaiveDate::from_ymd_opt(2021, 1, 1).unwrap())
                .unwrap()
                .unwrap()
                .id,
            id
        );
        assert_eq!(store.sources().unwrap()[0].snapshots, 1);
    }

    /// Makes the ledger refuse alerts with the subject of
    /// [`refused_alert`], so that the version queueing one fails.
    fn refuse_alerts(store: &Store) {
        store
            .conn
            .execute_batch(
                "CREATE TRIGGER refuse BEFORE INSERT ON alert WHEN NEW.subject = 'refused'
                 BEGIN SELECT RAISE(ABORT, 'alert refused'); END;",
            )
            .unwrap();
    }

    fn refused_alert(source: &str) -> NewAlert {
        NewAlert {
            channel: "log".into(),
            source: source.into(),
            event_key: "e".into(),
            subject: "refused".into(),
            body: String::new(),
            payload: "{}".into(),
        }
    }

    #[test]
    fn a_failed_version_rolls_its_batch_back_whole() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = Store::open(&dir.path().join("t.db")).unwrap();
        let first = snapshot(parse_str(V1));
        let v2 = V1.replace(
            "- Azure, Azure Government\n",
            "- Azure\n- Microsoft Sentinel\n",
        );
        let second = snapshot(parse_str(&v2));
        store.import(&first_version(&first)).unwrap();
        refuse_alerts(&store);
        let refused = |_| vec![refused_alert("offering-y")];
        let later = |source, snapshot| NewSnapshot {
            source,
            captured_at: day("2021-06-01"),
            raw: v2.as_bytes(),
            snapshot,
            origin: "test",
            includes: &[],
        };
        store.begin_batch().unwrap();
        store.import(&later("offering-x", &second)).unwrap();
        let failed = store.import_with_alerts(&later("offering-y", &second), refused);
        assert!(failed.is_err());
        // Committing after the failure must not write the version before it,
        // nor any part of the failed one.
        store.commit_batch().unwrap();
        let count = |sql: &str| -> i64 { store.conn.query_row(sql, [], |r| r.get(0)).unwrap() };
        assert_eq!(count("SELECT count(*) FROM snapshot"), 1);
        assert_eq!(count("SELECT count(*) FROM document"), 1);
        assert_eq!(count("SELECT count(*) FROM source"), 1);
        assert!(crate::ingest::verify(&store).unwrap().problems.is_empty());
        // The store goes on working, with the names the rollback took away.
        let Imported::Stored(id) = store.import(&later("offering-x", &second)).unwrap() else {
            panic!("not stored")
        };
        assert!(store.index_agrees(id, &second).unwrap());
    }

    /// Snapshots in the database file itself, leaving out what is still
    /// only in the log; None while the file is being written.
    fn snapshots_in_file(db: &Path) -> Option<i64> {
        let uri = format!("file:{}?immutable=1", db.display());
        let flags =
            rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY | rusqlite::OpenFlags::SQLITE_OPEN_URI;
        let conn = Connection::open_with_flags(uri, flags).ok()?;
        conn.query_row("SELECT count(*) FROM snapshot", [], |r| r.get(0))
            .ok()
    }

    /// Imports `V1` as a new version of `count` sources in one batch.
    fn import_batch(store: &mut Store, snap: &Snapshot, first: usize, count: usize) {
        store.begin_batch().unwrap();
        for i in first..first + count {
            let source = format!("offering-{i}");
            store
                .import(&NewSnapshot {
                    source: &source,
                    ..first_version(snap)
                })
                .unwrap();
        }
    }

    #[test]
    fn the_job_copies_committed_batches_into_the_database_in_the_background() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("t.db");
        let mut store = Store::open(&db).unwrap();
        store.use_job_settings().unwrap();
        let snap = snapshot(parse_str(V1));
        import_batch(&mut store, &snap, 0, 20);
        store.commit_batch().unwrap();
        // The store's own connection would copy the log only at close or at
        // 40 MiB: the versions reach the file through the second connection.
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
        while snapshots_in_file(&db) != Some(20) {
            assert!(std::time::Instant::now() < deadline, "never checkpointed");
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
        import_batch(&mut store, &snap, 20, 5);
        store.commit_last_batch().unwrap();
        drop(store);
        // Closing copied the last batch and removed the log.
        assert_eq!(snapshots_in_file(&db), Some(25));
        assert!(!dir.path().join("t.db-wal").exists());
        let store = Store::open(&db).unwrap();
        assert_eq!(store.sources().unwrap().len(), 25);
        assert!(crate::ingest::verify(&store).unwrap().problems.is_empty());
    }

    #[test]
    fn a_rolled_back_version_leaves_no_dangling_name() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = Store::open(&dir.path().join("t.db")).unwrap();
        // A ledger that refuses one alert: the version that queues it rolls
        // back after its service names were added to the dictionary.
        refuse_alerts(&store);
        let snap = snapshot(parse_str(V1));
        let new = first_version(&snap);
        let refused = refused_alert("offering-x");
        store.begin_batch().unwrap();
        assert!(store.import_with_alerts(&new, |_| vec![refused]).is_err());
        // The same names again, in the same batch: they must be written
        // anew, not taken from the rolled-back rows.
        let Imported::Stored(id) = store.import(&new).unwrap() else {
            panic!("not stored")
        };
        store.commit_batch().unwrap();
        assert!(store.index_agrees(id, &snap).unwrap());
        let names: i64 = store
            .conn
            .query_row("SELECT count(*) FROM service_name", [], |r| r.get(0))
            .unwrap();
        assert_eq!(names, index_entries(&snap.scopes).len() as i64);
    }

    #[test]
    fn version_7_numbers_the_service_index() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("v6.db");
        let snap = snapshot(parse_str(V1));
        {
            let mut conn = Connection::open(&path).unwrap();
            schema::migrations().to_version(&mut conn, 6).unwrap();
            conn.execute_batch(
                "INSERT INTO source (id, created_at) VALUES ('offering-x', '2021-01-01T00:00:00Z');
                 INSERT INTO document (hash, size, form, body) VALUES ('h1', 1, 'markdown', x'61'), ('h2', 1, 'markdown', x'62');
                 INSERT INTO snapshot (id, source_id, document_hash, captured_at, form, parser_version, scope_found, origin)
                   VALUES (1, 'offering-x', 'h1', '2021-01-01T00:00:00Z', 'markdown', 1, 1, 'a.md'),
                          (2, 'offering-x', 'h2', '2022-01-01T00:00:00Z', 'markdown', 1, 1, 'b.md');",
            )
            .unwrap();
            let packed = extraction(&snap.scopes, &snap.links).unwrap();
            conn.execute("UPDATE snapshot SET extraction = ?1", [packed])
                .unwrap();
            let mut insert = conn
                .prepare("INSERT INTO snapshot_service (snapshot_id, role, service_key, name) VALUES (?1, ?2, ?3, ?4)")
                .unwrap();
            for id in [1, 2] {
                for (role, name) in index_entries(&snap.scopes) {
                    let role = if role == LISTED {
                        "service"
                    } else {
                        "formerly"
                    };
                    // The older snapshot's keys were made by other rules.
                    let key = match id {
                        1 => format!("old-{name}"),
                        _ => ServiceKey::of(name).as_str().to_string(),
                    };
                    insert.execute(params![id, role, key, name]).unwrap();
                }
            }
        }

        let store = Store::open(&path).unwrap();
        assert!(store.index_agrees(2, &snap).unwrap());
        assert!(store.index_agrees(1, &snap).unwrap());
        let power = ServiceKey::of("Power Automate").as_str().to_string();
        assert_eq!(
            store.listing(&[power]).unwrap(),
            vec![
                (1, "Power Automate".to_string()),
                (2, "Power Automate".to_string())
            ]
        );
        let formerly: i64 = store
            .conn
            .query_row(
                "SELECT count(*) FROM snapshot s
                 JOIN service_set_member m ON m.set_id = s.service_set_id
                 JOIN service_name n ON n.id = m.name_id
                 WHERE m.role = ?1 AND n.name = 'Microsoft Flow'",
                [FORMERLY],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(formerly, 2);
        assert_eq!(
            store.scope_sizes().unwrap().get(&1),
            store.scope_sizes().unwrap().get(&2)
        );
    }

    /// The number of sets in the service index.
    fn service_sets(store: &Store) -> i64 {
        store
            .conn
            .query_row("SELECT count(*) FROM service_set", [], |r| r.get(0))
            .unwrap()
    }

    fn service_set_of(store: &Store, id: i64) -> Option<i64> {
        store
            .conn
            .query_row(
                "SELECT service_set_id FROM snapshot WHERE id = ?1",
                [id],
                |r| r.get(0),
            )
            .unwrap()
    }

    #[test]
    fn version_8_stores_each_service_set_once() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("v7.db");
        let snap = snapshot(parse_str(V1));
        let other = snapshot(parse_str(
            &V1.replace("| GCC | Forms |", "| GCC | Forms, Stream |"),
        ));
        {
            let mut conn = Connection::open(&path).unwrap();
            schema::migrations().to_version(&mut conn, 7).unwrap();
            conn.execute_batch(
                "INSERT INTO source (id, created_at) VALUES ('offering-x', '2021-01-01T00:00:00Z');
                 INSERT INTO document (hash, size, form, body) VALUES ('h1', 1, 'markdown', x'61'), ('h2', 1, 'markdown', x'62'), ('h3', 1, 'markdown', x'63');
                 INSERT INTO snapshot (id, source_id, document_hash, captured_at, form, parser_version, scope_found, origin)
                   VALUES (1, 'offering-x', 'h1', '2021-01-01T00:00:00Z', 'markdown', 1, 1, 'a.md'),
                          (2, 'offering-x', 'h2', '2022-01-01T00:00:00Z', 'markdown', 1, 1, 'b.md'),
                          (3, 'offering-x', 'h3', '2023-01-01T00:00:00Z', 'markdown', 1, 1, 'c.md');",
            )
            .unwrap();
            let mut names = NameIds::default();
            for (id, version) in [(1, &snap), (2, &snap), (3, &other)] {
                let packed = extraction(&version.scopes, &version.links).unwrap();
                conn.execute(
                    "UPDATE snapshot SET extraction = ?2 WHERE id = ?1",
                    params![id, packed],
                )
                .unwrap();
                for (role, name) in index_entries(&version.scopes) {
                    conn.execute(
                        "INSERT INTO snapshot_service (snapshot_id, role, name_id) VALUES (?1, ?2, ?3)",
                        params![id, role, names.id(&conn, name).unwrap()],
                    )
                    .unwrap();
                }
            }
        }

        let mut store = Store::open(&path).unwrap();
        assert_eq!(service_sets(&store), 2);
        assert_eq!(service_set_of(&store, 1), service_set_of(&store, 2));
        assert_ne!(service_set_of(&store, 1), service_set_of(&store, 3));
        for (id, version) in [(1, &snap), (2, &snap), (3, &other)] {
            assert!(store.index_agrees(id, version).unwrap());
        }
        let stream = ServiceKey::of("Stream").as_str().to_string();
        assert_eq!(
            store.listing(&[stream]).unwrap(),
            vec![(3, "Stream".to_string())]
        );

        // A new version with a migrated set's services finds that set: the
        // migration and the store name sets alike.
        let raw = format!("{V1}\n");
        let Imported::Stored(id) = store
            .import(&NewSnapshot {
                captured_at: day("2024-01-01"),
                raw: raw.as_bytes(),
                ..first_version(&snap)
            })
            .unwrap()
        else {
            panic!("not stored")
        };
        assert_eq!(service_sets(&store), 2);
        assert_eq!(service_set_of(&store, id), service_set_of(&store, 1));
    }

    #[test]
    fn versions_share_service_sets_and_reparse_drops_unlisted_ones() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = Store::open(&dir.path().join("t.db")).unwrap();
        let snap = snapshot(parse_str(V1));
        let second = V1.replace("| GCC | Forms |", "| GCC | Stream |");
        let other = snapshot(parse_str(&second));
        let reworded = format!("{V1}\nSome new prose.\n");
        let versions = [
            ("2021-01-01", V1, &snap),
            ("2021-02-01", reworded.as_str(), &snap),
            ("2021-03-01", second.as_str(), &other),
        ];
        let mut ids = Vec::new();
        for (date, raw, version) in versions {
            let Imported::Stored(id) = store
                .import(&NewSnapshot {
                    captured_at: day(date),
                    raw: raw.as_bytes(),
                    ..first_version(version)
                })
                .unwrap()
            else {
                panic!("not stored")
            };
            ids.push(id);
        }
        assert_eq!(service_sets(&store), 2);
        assert_eq!(
            service_set_of(&store, ids[0]),
            service_set_of(&store, ids[1])
        );
        let forms = ServiceKey::of("Forms").as_str().to_string();
        assert_eq!(
            store.listing(&[forms]).unwrap(),
            vec![(ids[0], "Forms".to_string()), (ids[1], "Forms".to_string())]
        );
        assert_eq!(store.scope_sizes().unwrap().get(&ids[2]), Some(&4));

        // A parser that finds no scope anywhere leaves no set behind.
        store
            .reparse(true, |_| {
                Ok(snapshot(parse_str("# T\n\nNothing in scope.\n")))
            })
            .unwrap();
        assert_eq!(service_sets(&store), 0);
        assert!(ids.iter().all(|&id| service_set_of(&store, id).is_none()));
        let members: i64 = store
            .conn
            .query_row("SELECT count(*) FROM service_set_member", [], |r| r.get(0))
            .unwrap();
        assert_eq!(members, 0);
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
            .snapshot_at("s", NaiveDate::from_ymd_opt(2021, 3, 1).unwrap())
            .unwrap()
            .unwrap();
        assert!(at.snapshot.has_scope());
        assert_eq!(store.history("s").unwrap().len(), 2);
    }

    #[test]
    fn bad_source_ids_are_refused() {
        assert!(validate_source_id("offering-iso-27001").is_ok());
        assert!(validate_source_id("../etc").is_err());
        assert!(validate_source_id("").is_err());
        assert!(validate_source_id("..").is_err());
    }

    #[cfg(unix)]
    #[test]
    fn database_file_is_private() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("p.db");
        Store::open(&path).unwrap();
        assert_eq!(
            std::fs::metadata(&path).unwrap().permissions().mode() & 0o777,
            0o600
        );
    }
}

//! SQLite history: raw documents (content-addressed, stored once), snapshots
//! with their extracted scope and links, and an index of the services each
//! snapshot lists.
//!
//! Every write is one transaction, the journal is a WAL, and the schema moves
//! forward by numbered migrations ([`schema`]), so a crash or an upgrade never
//! leaves a half-written history.
//!
//! This file holds the connection and its transactions; each concern has a
//! room of its own, all sharing the one connection: [`snapshots`],
//! [`documents`], [`sources`], the fetch [`ledger`], the alert [`outbox`],
//! the service [`index`], [`archive`] (export and restore) and the write
//! [`lock`].

mod archive;
mod checkpoint;
mod documents;
mod index;
mod index_migrations;
mod ledger;
mod legacy;
mod lock;
mod names;
mod outbox;
mod schema;
mod snapshots;
mod sources;
#[cfg(test)]
mod testing;

pub(crate) use archive::Counts;
pub use archive::ManifestMismatch;
pub use documents::{Included, RawVersion};
pub(crate) use ledger::Refusal;
pub use ledger::{Attempt, Validators};
pub use lock::{WriteLock, lock};
pub use snapshots::{Imported, Reparsed, StoredSnapshot, VersionRef};
pub use sources::SourceInfo;

pub(crate) use documents::content_hash;
pub(crate) use index::Listed;
pub(crate) use outbox::{NewAlert, PendingAlert};
pub(crate) use snapshots::{NewSnapshot, Packed};

use std::path::{Path, PathBuf};

use rusqlite::Connection;

use checkpoint::Checkpoints;
use index::NameIds;

use crate::{Error, Result};

/// The history database.
pub struct Store {
    conn: Connection,
    path: PathBuf,
    names: NameIds,
    /// The nightly job's background checkpoints ([`Store::use_job_settings`]).
    checkpoints: Checkpoints,
}

/// How many pages (of 4 KiB) the log may hold during the nightly job
/// before they are copied into the database: 40 MiB.
const JOB_CHECKPOINT_PAGES: i64 = 10_000;

/// This program's mark in a database's header (`PRAGMA application_id`):
/// "SWDB". Another application's SQLite file is never taken for ours.
const APPLICATION_ID: i32 = 0x5357_4442;

/// What a file holds, judged before anything is written to it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Found {
    /// A new (zero-length) file, or a SQLite database with nothing in it.
    Empty,
    /// A scopewatch database at this schema version.
    Ours(i64),
}

/// Prepared statements kept per connection: more than the distinct
/// statements of one nightly run.
const STATEMENT_CACHE: usize = 128;

impl Store {
    /// Opens a database for writing and brings its schema up to date. A
    /// missing or empty file becomes a new database; a file that is not a
    /// scopewatch database is refused untouched.
    pub fn open(path: &Path) -> Result<Self> {
        let wrap = |source| Error::Database {
            path: path.to_path_buf(),
            source,
        };
        create_private(path)?;
        let mut conn = Connection::open(path).map_err(wrap)?;
        conn.busy_timeout(std::time::Duration::from_secs(10))
            .map_err(wrap)?;
        // Judged before the first write below: even setting the journal mode
        // would change another application's file.
        let found = identify(&conn, path)?;
        conn.pragma_update(None, "journal_mode", "WAL")
            .map_err(wrap)?;
        // In WAL mode NORMAL survives a killed process (tests/crash.rs) and
        // skips an fsync per commit; after a power cut only the last commits
        // can roll back, and the next run stores them again.
        conn.pragma_update(None, "synchronous", "NORMAL")
            .map_err(wrap)?;
        read_settings(&conn).map_err(wrap)?;
        // Off while migrating: a migration that rebuilds a table checks the
        // keys itself (`foreign_key_check`), and the pragma cannot change
        // inside its transaction.
        conn.pragma_update(None, "foreign_keys", "OFF")
            .map_err(wrap)?;
        schema::bring_up(&mut conn, found == Found::Empty)?;
        if found == Found::Empty || application_id(&conn).map_err(wrap)? != APPLICATION_ID {
            conn.pragma_update(None, "application_id", APPLICATION_ID)
                .map_err(wrap)?;
        }
        conn.pragma_update(None, "foreign_keys", "ON")
            .map_err(wrap)?;
        Ok(Store::with(conn, path))
    }

    /// Opens a database for reading only: nothing in the file changes, and
    /// a database on a read-only mount, or a read-only file, can be read.
    /// A database at an older schema is refused, with the command that
    /// upgrades it.
    pub fn open_read(path: &Path) -> Result<Self> {
        let no_database = || Error::NoDatabase {
            path: path.to_path_buf(),
        };
        if !path.exists() {
            return Err(no_database());
        }
        let conn = open_read_only(path)?;
        match identify(&conn, path)? {
            Found::Empty => Err(no_database()),
            Found::Ours(found) if found < schema::LATEST => Err(Error::OldSchema {
                path: path.to_path_buf(),
                found,
                known: schema::LATEST,
            }),
            Found::Ours(_) => {
                read_settings(&conn).map_err(|source| Error::Database {
                    path: path.to_path_buf(),
                    source,
                })?;
                Ok(Store::with(conn, path))
            }
        }
    }

    fn with(conn: Connection, path: &Path) -> Self {
        // Storing one version runs a few dozen distinct statements; with
        // rusqlite's default of 16 cached, each version prepared most of
        // them again.
        conn.set_prepared_statement_cache_capacity(STATEMENT_CACHE);
        Store {
            conn,
            path: path.to_path_buf(),
            names: NameIds::default(),
            checkpoints: Checkpoints::Off,
        }
    }

    /// A number that changes when another connection commits a write: a
    /// reader's cue that what it derived from the database is stale.
    pub fn data_version(&self) -> Result<i64> {
        Ok(self
            .conn
            .query_row("PRAGMA data_version", [], |r| r.get(0))?)
    }

    /// The schema version of the database.
    pub fn schema_version(&self) -> Result<i64> {
        Ok(self
            .conn
            .query_row("PRAGMA user_version", [], |r| r.get(0))?)
    }

    pub(crate) fn path(&self) -> &Path {
        &self.path
    }

    /// Writes a consistent copy of the whole database to `to`, which must
    /// not exist yet; works on a database opened only for reading.
    pub(crate) fn copy_to(&self, to: &Path) -> Result<()> {
        self.conn
            .execute("VACUUM INTO ?1", [to.to_string_lossy().as_ref()])?;
        Ok(())
    }

    /// Opens a transaction that later writes join until
    /// [`Store::commit_batch`]: one commit for many versions. A version
    /// that fails to be written is rolled back alone (no half-written
    /// version can be committed), and closing the store without committing
    /// rolls the batch back.
    pub(crate) fn begin_batch(&mut self) -> Result<()> {
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
    pub(crate) fn commit_batch(&mut self) -> Result<()> {
        if self.commit()? {
            self.checkpoints.nudge(&self.path);
        }
        Ok(())
    }

    /// Commits the last batch of a run and stops the background
    /// checkpoints: closing the store copies that batch at once, and a
    /// checkpoint thread would only make the close wait for it.
    pub(crate) fn commit_last_batch(&mut self) -> Result<()> {
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
    /// Temporary b-trees (sorts, statement journals) stay in memory,
    /// sparing the job the system calls of temporary files.
    ///
    /// After each batch but the last, a second connection copies the log
    /// into the database ([`checkpoint`]) while the fetch workers go on.
    /// This connection copies it at close, what is left, or once it holds
    /// [`JOB_CHECKPOINT_PAGES`]: at SQLite's default, a first run stops
    /// midway to copy and sync it while its fetch workers wait behind the
    /// full queue.
    pub(crate) fn use_job_settings(&mut self) -> Result<()> {
        self.conn.pragma_update(None, "mmap_size", 0)?;
        self.conn.pragma_update(None, "cache_size", -1024)?;
        self.conn.pragma_update(None, "temp_store", "MEMORY")?;
        self.conn
            .pragma_update(None, "wal_autocheckpoint", JOB_CHECKPOINT_PAGES)?;
        self.checkpoints = Checkpoints::Wanted;
        Ok(())
    }

    /// Runs a write in the open batch, or else in a transaction of its own;
    /// either way all of it is written, or none of it.
    fn write<T>(
        &mut self,
        write: impl FnOnce(&Connection, &mut NameIds) -> Result<T>,
    ) -> Result<T> {
        if self.conn.is_autocommit() {
            let tx = self.conn.transaction()?;
            let written = write(&tx, &mut self.names).and_then(|done| {
                tx.commit()?;
                Ok(done)
            });
            if written.is_err() {
                // Rolled back: names it added to the dictionary are gone again.
                self.names.forget();
            }
            return written;
        }
        // Inside a batch, each write is a savepoint of its own: a version
        // that fails is rolled back alone, and the batch's other versions
        // are kept (one source's problem never stops the others).
        self.conn.execute_batch("SAVEPOINT version")?;
        let written = write(&self.conn, &mut self.names);
        let closed = match &written {
            Ok(_) => self.conn.execute_batch("RELEASE version"),
            Err(_) => {
                // Names the write added to the dictionary are gone again.
                self.names.forget();
                self.conn
                    .execute_batch("ROLLBACK TO version; RELEASE version")
            }
        };
        if let Err(e) = closed {
            // The savepoint is in an unknown state: nothing of the batch
            // may be committed half-written.
            self.abandon_batch();
            return Err(e.into());
        }
        written
    }
}

/// Settings of every connection, reading or writing.
fn read_settings(conn: &Connection) -> rusqlite::Result<()> {
    // Years of history are hundreds of megabytes: map them rather than
    // copy every page through read(), and keep more of them cached.
    conn.pragma_update(None, "mmap_size", 1_i64 << 30)?;
    conn.pragma_update(None, "cache_size", -65_536)?;
    conn.pragma_update(None, "foreign_keys", "ON")
}

fn application_id(conn: &Connection) -> rusqlite::Result<i32> {
    conn.query_row("PRAGMA application_id", [], |r| r.get(0))
}

/// Tells a scopewatch database from an empty file and from anything else,
/// reading only. Databases made before the header mark are recognised by
/// their schema version and tables.
fn identify(conn: &Connection, path: &Path) -> Result<Found> {
    let not_ours = |what: &str| Error::NotOurs {
        path: path.to_path_buf(),
        what: what.to_string(),
    };
    let id = match application_id(conn) {
        Ok(id) => id,
        Err(rusqlite::Error::SqliteFailure(e, _))
            if e.code == rusqlite::ErrorCode::NotADatabase =>
        {
            return Err(not_ours("it is not a SQLite database"));
        }
        Err(source) => {
            return Err(Error::Database {
                path: path.to_path_buf(),
                source,
            });
        }
    };
    let version: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    let tables: Vec<String> = conn
        .prepare("SELECT name FROM sqlite_schema WHERE type = 'table'")?
        .query_map([], |r| r.get(0))?
        .collect::<rusqlite::Result<_>>()?;
    let ours = id == APPLICATION_ID
        || (id == 0
            && version >= 1
            && ["source", "snapshot", "document"]
                .iter()
                .all(|t| tables.iter().any(|name| name == t)));
    if ours && version > schema::LATEST {
        return Err(Error::FutureSchema {
            path: path.to_path_buf(),
            found: version,
            known: schema::LATEST,
        });
    }
    match (ours, id, tables.is_empty()) {
        (true, _, _) => Ok(Found::Ours(version)),
        (false, 0, true) if version == 0 => Ok(Found::Empty),
        (false, 0, _) => Err(not_ours("it is another application's SQLite database")),
        (false, _, _) => Err(not_ours(&format!(
            "it is another application's SQLite database (application id {id:#x})"
        ))),
    }
}

/// A read-only connection. A database in WAL mode needs its shared-memory
/// file; where that cannot be created (a read-only mount) and no log is
/// left to replay, the file is opened as immutable, which needs neither.
fn open_read_only(path: &Path) -> Result<Connection> {
    use rusqlite::OpenFlags;
    let wrap = |source| Error::Database {
        path: path.to_path_buf(),
        source,
    };
    let flags = OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    let conn = Connection::open_with_flags(path, flags).map_err(wrap)?;
    conn.busy_timeout(std::time::Duration::from_secs(10))
        .map_err(wrap)?;
    let readable = conn.query_row("SELECT count(*) FROM sqlite_schema", [], |r| {
        r.get::<_, i64>(0)
    });
    let cannot_share = matches!(
        &readable,
        Err(rusqlite::Error::SqliteFailure(e, _))
            if matches!(e.code, rusqlite::ErrorCode::CannotOpen | rusqlite::ErrorCode::ReadOnly)
    );
    let log = PathBuf::from(format!("{}-wal", path.display()));
    let log_empty = std::fs::metadata(&log).map_or(true, |m| m.len() == 0);
    match (readable, path.to_str()) {
        (Err(_), Some(text)) if cannot_share && log_empty => {
            let uri = format!("file:{}?immutable=1", uri_path(text));
            Connection::open_with_flags(uri, flags | OpenFlags::SQLITE_OPEN_URI).map_err(wrap)
        }
        (Err(source), _) => Err(wrap(source)),
        (Ok(_), _) => Ok(conn),
    }
}

/// A path as the path of a `file:` URI.
fn uri_path(path: &str) -> String {
    path.replace('%', "%25")
        .replace('?', "%3f")
        .replace('#', "%23")
}

/// Creates the database file readable by its owner only: it may hold pages
/// fetched with credentials and is evidence for audits.
pub(super) fn create_private(path: &Path) -> Result<()> {
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
    use super::index::index_entries;
    use super::testing::{V1, day, first_version};
    use super::*;
    use crate::extract::snapshot;
    use crate::model::Snapshot;
    use crate::parse::parse_str;

    /// Makes the outbox refuse alerts with the subject of
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
    fn a_failed_version_rolls_back_alone() {
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
        let failed = store.import_with_alerts(&later("offering-y", &second), None, refused);
        assert!(failed.is_err());
        // Committing after the failure writes the version before it, and
        // no part of the failed one.
        store.commit_batch().unwrap();
        let count = |sql: &str| -> i64 { store.conn.query_row(sql, [], |r| r.get(0)).unwrap() };
        assert_eq!(count("SELECT count(*) FROM snapshot"), 2);
        assert_eq!(count("SELECT count(*) FROM document"), 2);
        assert_eq!(count("SELECT count(*) FROM source"), 1);
        assert!(
            crate::ingest::verify(&store, &|_| {})
                .unwrap()
                .problems
                .is_empty()
        );
        // The store goes on working, with the names the rollback took away.
        let Imported::Stored(id) = store.import(&later("offering-y", &second)).unwrap() else {
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
        assert!(
            crate::ingest::verify(&store, &|_| {})
                .unwrap()
                .problems
                .is_empty()
        );
    }

    #[test]
    fn a_rolled_back_version_leaves_no_dangling_name() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = Store::open(&dir.path().join("t.db")).unwrap();
        // An outbox that refuses one alert: the version that queues it rolls
        // back after its service names were added to the dictionary.
        refuse_alerts(&store);
        let snap = snapshot(parse_str(V1));
        let new = first_version(&snap);
        let refused = refused_alert("offering-x");
        store.begin_batch().unwrap();
        assert!(
            store
                .import_with_alerts(&new, None, |_| vec![refused])
                .is_err()
        );
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
        let distinct: std::collections::BTreeSet<&str> = index_entries(&snap.scopes)
            .into_iter()
            .map(|(_, name, _)| name)
            .collect();
        assert_eq!(names, distinct.len() as i64);
    }

    #[test]
    fn reading_never_migrates_and_writing_marks_the_database() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("old.db");
        let mut conn = Connection::open(&path).unwrap();
        schema::migrations().to_version(&mut conn, 8).unwrap();
        drop(conn);
        let version = || -> i64 {
            Connection::open(&path)
                .unwrap()
                .query_row("PRAGMA user_version", [], |r| r.get(0))
                .unwrap()
        };
        match Store::open_read(&path) {
            Err(Error::OldSchema { found: 8, .. }) => {}
            other => panic!("{:?}", other.map(|_| ())),
        }
        assert_eq!(version(), 8, "a read left the schema as it was");
        let store = Store::open(&path).unwrap();
        assert_eq!(store.schema_version().unwrap(), schema::LATEST);
        assert_eq!(application_id(&store.conn).unwrap(), APPLICATION_ID);
        drop(store);
        assert!(Store::open_read(&path).is_ok());
    }

    #[test]
    fn the_same_document_twice_at_one_instant_is_two_versions() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = Store::open(&dir.path().join("t.db")).unwrap();
        let first = snapshot(parse_str(V1));
        let v2 = V1.replace("- Azure, Azure Government\n", "- Azure\n");
        let second = snapshot(parse_str(&v2));
        store.begin_batch().unwrap();
        for (raw, snap) in [(V1, &first), (v2.as_str(), &second), (V1, &first)] {
            let new = NewSnapshot {
                raw: raw.as_bytes(),
                ..first_version(snap)
            };
            assert!(matches!(store.import(&new).unwrap(), Imported::Stored(_)));
        }
        store.commit_batch().unwrap();
        let history = store.history("offering-x").unwrap();
        assert_eq!(history.len(), 3);
        assert_eq!(history[2].document_hash, history[0].document_hash);
        assert_eq!(
            store.latest_good("offering-x").unwrap().unwrap().id,
            history[2].id
        );
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

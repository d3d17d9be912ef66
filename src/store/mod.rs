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
mod ledger;
mod legacy;
mod lock;
mod outbox;
mod schema;
mod snapshots;
mod sources;
#[cfg(test)]
mod testing;

pub(crate) use archive::Counts;
pub use archive::ManifestMismatch;
pub use documents::{Included, RawVersion};
pub use ledger::{Attempt, Validators};
pub use lock::{WriteLock, lock};
pub use snapshots::{Imported, Reparsed, StoredSnapshot, VersionRef};
pub use sources::SourceInfo;

pub(crate) use documents::content_hash;
pub(crate) use outbox::{NewAlert, PendingAlert};
pub(crate) use snapshots::NewSnapshot;

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

    pub(crate) fn path(&self) -> &Path {
        &self.path
    }

    /// Opens a transaction that later writes join until
    /// [`Store::commit_batch`]: one commit for many versions. A version
    /// that fails to be written rolls the whole batch back (no half-written
    /// version can be committed), and closing the store without committing
    /// rolls the batch back too.
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
        // Inside a batch, a savepoint per write would copy every page it
        // touches to a sub-journal, a cost paid on every version.
        // A failed write rolls the whole batch back instead, so that
        // nothing of it can be committed half-written; the next run fetches
        // the batch's pages again.
        let written = write(&self.conn, &mut self.names);
        if written.is_err() {
            self.abandon_batch();
        }
        written
    }
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
        // An outbox that refuses one alert: the version that queues it rolls
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

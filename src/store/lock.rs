//! The write lock: one process writes a database at a time.
//!
//! The lock is taken on the database file itself (`flock`), not on a name:
//! a symlink, `./x.db` beside `x.db`, or a hard link all reach the same
//! file and so the same lock. SQLite's own locks are POSIX record locks,
//! which `flock` neither sees nor disturbs. The holder writes its process
//! id to `<database>.lock` beside the file's resolved path, for the message
//! the next writer gets.

use std::io::Write;
use std::path::{Path, PathBuf};

use fs4::fs_std::FileExt;

use crate::{Error, Result};

/// Holds the database's write lock until dropped.
///
/// Drop it after the last connection to the database in this process:
/// closing a file drops every POSIX lock the process holds on it,
/// SQLite's included.
#[derive(Debug)]
pub struct WriteLock {
    database: std::fs::File,
    holder: Option<std::fs::File>,
}

impl Drop for WriteLock {
    fn drop(&mut self) {
        // An empty holder file names nobody: a later message never names a
        // process that has finished.
        if let Some(holder) = &self.holder {
            let _ = holder.set_len(0);
        }
        let _ = FileExt::unlock(&self.database);
    }
}

/// Takes the lock that keeps two runs from writing one database at once,
/// creating the (empty, private) database file if there is none yet.
pub fn lock(db: &Path) -> Result<WriteLock> {
    let io = |path: &Path| {
        let path = path.to_path_buf();
        move |source| Error::Read { path, source }
    };
    super::create_private(db)?;
    let database = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open(db)
        .map_err(io(db))?;
    let holder_path = holder_path(db).map_err(io(db))?;
    match FileExt::try_lock_exclusive(&database) {
        Ok(true) => {
            // The id is for messages only: a holder file that cannot be
            // written leaves the lock as good.
            let holder = write_holder(&holder_path)
                .inspect_err(|e| tracing::debug!(error = %e, "writing the lock holder's id"))
                .ok();
            Ok(WriteLock { database, holder })
        }
        Ok(false) => {
            let holder = std::fs::read_to_string(&holder_path).unwrap_or_default();
            Err(Error::Locked {
                db: db.to_path_buf(),
                holder: match holder.trim() {
                    // Held through another name of the file, in another folder.
                    "" => "a process that opened it by another name".to_string(),
                    pid => format!("process {pid}"),
                },
            })
        }
        Err(source) => Err(io(db)(source)),
    }
}

/// `<database>.lock` beside the database's resolved path, so that every
/// name of one file shares it.
fn holder_path(db: &Path) -> std::io::Result<PathBuf> {
    let real = std::fs::canonicalize(db)?;
    Ok(PathBuf::from(format!("{}.lock", real.display())))
}

fn write_holder(path: &Path) -> std::io::Result<std::fs::File> {
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .open(path)?;
    write!(file, "{}", std::process::id())?;
    Ok(file)
}

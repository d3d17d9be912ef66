//! The write lock: one process writes a database at a time.

use std::path::{Path, PathBuf};

use crate::{Error, Result};

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
